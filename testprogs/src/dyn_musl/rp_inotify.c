/* The static musl program of the same name, linked dynamically (see it for what it checks). */
#include "../musl/rp_inotify.c"
