/* fs_pipe against glibc: the same program as src/musl/fs_pipe.c. */
#include "../musl/fs_pipe.c"
