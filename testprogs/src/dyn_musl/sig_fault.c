/* sig_fault linked dynamically against musl: the same program as src/musl/sig_fault.c. */
#include "../musl/sig_fault.c"
