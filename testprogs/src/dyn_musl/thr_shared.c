/* thr_shared linked dynamically against musl: the same program as src/musl/thr_shared.c. */
#include "../musl/thr_shared.c"
