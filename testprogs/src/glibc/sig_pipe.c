/* The musl program of the same name, built against glibc (see it for what it checks). */
#include "../musl/sig_pipe.c"
