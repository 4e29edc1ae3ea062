/* fs_map linked dynamically against musl: the same program as src/musl/fs_map.c. */
#include "../musl/fs_map.c"
