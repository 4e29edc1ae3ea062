/* fs_pipe linked dynamically against musl: the same program as src/musl/fs_pipe.c. */
#include "../musl/fs_pipe.c"
