/* thr_robust linked dynamically against musl: the same program as src/musl/thr_robust.c. */
#include "../musl/thr_robust.c"
