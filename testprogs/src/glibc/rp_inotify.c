/* The musl program of the same name, built against glibc (see it for what it checks). */
#include "../musl/rp_inotify.c"
