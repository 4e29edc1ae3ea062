/* fs_stdio against glibc: the same program as src/musl/fs_stdio.c. */
#include "../musl/fs_stdio.c"
