/* fs_map against glibc: the same program as src/musl/fs_map.c. */
#include "../musl/fs_map.c"
