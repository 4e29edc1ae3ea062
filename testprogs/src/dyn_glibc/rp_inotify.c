/* The program of the same name in src/dyn_musl/, linked against the dynamic glibc. */
#include "../dyn_musl/rp_inotify.c"
