/* thr_futex linked dynamically against musl: the same program as src/musl/thr_futex.c. */
#include "../musl/thr_futex.c"
