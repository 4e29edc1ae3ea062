/* Helpers of the rp_ programs (what real programs call: the realprogs issue). Each program
   prints one line per call, the result or the errno's name, so a native run and an
   emulated one can be compared line for line; the errno name (not strerror's text) keeps
   musl and glibc builds alike. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((unused)) static const char *errname(int e) {
	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF)
	E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV)
	E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY)
	E(EFBIG) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(ERANGE) E(EDEADLK)
	E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EIDRM)
	E(ENODATA) E(EOVERFLOW) E(EOPNOTSUPP) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETUNREACH)
	E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED)
	E(EALREADY) E(EINPROGRESS) E(EDESTADDRREQ) E(EMSGSIZE) E(EPROTOTYPE) E(ENOPROTOOPT)
	E(EPROTONOSUPPORT) E(ESOCKTNOSUPPORT) E(EAFNOSUPPORT) E(ENOTSOCK) E(ECONNABORTED)
#undef E
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "errno %d", e);
	return buf;
}

/* say prints what was called and its result: the value, or -1 and the errno's name. */
__attribute__((unused)) static long say(const char *what, long r) {
	if (r == -1)
		printf("%-44s -1 %s\n", what, errname(errno));
	else
		printf("%-44s %ld\n", what, r);
	fflush(stdout);
	return r;
}

/* sayf is say with a printf-style description. */
#define sayf(r, ...) do { char w_[256]; snprintf(w_, sizeof w_, __VA_ARGS__); say(w_, (r)); } while (0)

/* must stops the program when a setup step fails, naming it. */
__attribute__((unused)) static void must(const char *what, long r) {
	if (r == -1) {
		printf("%s failed: %s\n", what, errname(errno));
		exit(99);
	}
}
