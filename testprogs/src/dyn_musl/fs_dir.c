/* fs_dir linked dynamically against musl: the same program as src/musl/fs_dir.c. */
#include "../musl/fs_dir.c"
