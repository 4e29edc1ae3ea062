/* thr_signal linked dynamically against musl: the same program as src/musl/thr_signal.c. */
#include "../musl/thr_signal.c"
