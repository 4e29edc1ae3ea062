/* thr_sync linked dynamically against musl: the same program as src/musl/thr_sync.c. */
#include "../musl/thr_sync.c"
