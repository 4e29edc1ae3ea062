/* fs_dir against glibc: the same program as src/musl/fs_dir.c. */
#include "../musl/fs_dir.c"
