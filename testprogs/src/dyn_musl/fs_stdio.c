/* fs_stdio linked dynamically against musl: the same program as src/musl/fs_stdio.c. */
#include "../musl/fs_stdio.c"
