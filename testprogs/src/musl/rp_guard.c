/* rp_guard: guard regions, MADV_GUARD_INSTALL and MADV_GUARD_REMOVE (Linux 6.13; file
   mappings since 6.15). usage: rp_guard DIR. A guard page faults (SIGSEGV, SEGV_MAPERR) on
   any access while its neighbours work; installing drops what the page held; read() and
   write() through it are EFAULT; MADV_POPULATE_READ over it is EFAULT; MADV_DONTNEED,
   mprotect and fork keep it, mremap moves it, munmap and MADV_GUARD_REMOVE drop it (the page
   then reads zeros, or the file again); /proc/self/pagemap flags it (bit 58); argument errors
   (unaligned, a hole: ENOMEM, an mlock'd area: EINVAL for install, fine for remove). */
#include "rp.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#define MADV_POPULATE_WRITE 23
#endif

static long page;
static sigjmp_buf jb;
static volatile int code;

static void onsegv(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	code = si->si_code;
	siglongjmp(jb, sig);
}

/* touch reads (or writes) the byte at p and prints what happened. */
static void touch(const char *what, volatile char *p, int write) {
	int sig = sigsetjmp(jb, 1);
	if (sig == 0) {
		if (write) {
			*p = 'w';
			printf("%-44s wrote\n", what);
		} else {
			char c = *p;
			printf("%-44s read %d\n", what, c);
		}
	} else {
		printf("%-44s signal %d code %s\n", what, sig,
		       code == SEGV_MAPERR ? "SEGV_MAPERR" : code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
	}
	fflush(stdout);
}

/* pm prints the pagemap bits of the page at p that matter here: present, swapped, guard. */
static void pm(const char *what, void *p) {
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / page * 8)) != 8) {
		printf("%-44s pagemap unreadable\n", what);
	} else {
		printf("%-44s present %d swapped %d guard %d\n", what, (int)(e >> 63 & 1), (int)(e >> 62 & 1),
		       (int)(e >> 58 & 1));
	}
	if (fd >= 0)
		close(fd);
	fflush(stdout);
}

static long madv(void *p, size_t n, int advice) { return madvise(p, n, advice); }

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || chdir(argv[1]) == -1) {
		printf("usage: rp_guard DIR\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	struct sigaction sa = {0};
	sa.sa_sigaction = onsegv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);

	char *a = mmap(NULL, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	must("mmap", (long)a);
	memset(a, 'a', 8 * page);
	say("GUARD_INSTALL(unaligned)", madv(a + 1, page, MADV_GUARD_INSTALL));
	say("GUARD_INSTALL(length 0)", madv(a, 0, MADV_GUARD_INSTALL));
	say("GUARD_INSTALL(page 2)", madv(a + 2 * page, page, MADV_GUARD_INSTALL));
	say("GUARD_INSTALL(page 2) again", madv(a + 2 * page, page, MADV_GUARD_INSTALL));
	touch("read page 1", a + page, 0);
	touch("read page 2 (guard)", a + 2 * page, 0);
	touch("write page 2 (guard)", a + 2 * page + 100, 1);
	touch("read page 3", a + 3 * page, 0);
	pm("pagemap page 1", a + page);
	pm("pagemap page 2", a + 2 * page);
	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	must("open", fd);
	say("write() from the guard page", write(fd, a + 2 * page, 10));
	say("write() ending in the guard page", write(fd, a + 2 * page - 5, 10));
	say("read() into the guard page", pread(fd, a + 2 * page, 5, 0));
	say("POPULATE_READ over the guard", madv(a + page, 3 * page, MADV_POPULATE_READ));
	say("POPULATE_WRITE over the guard", madv(a + page, 3 * page, MADV_POPULATE_WRITE));
	say("DONTNEED over the guard", madv(a, 8 * page, MADV_DONTNEED));
	touch("read page 2 after DONTNEED", a + 2 * page, 0);
	touch("read page 1 after DONTNEED", a + page, 0);
	unsigned char vec[8];
	say("mincore", mincore(a, 8 * page, vec));
	printf("%-44s %d %d %d\n", "mincore pages 1-3", vec[1] & 1, vec[2] & 1, vec[3] & 1);
	say("mlock over the guard", mlock(a, 8 * page));
	touch("read page 2 after mlock", a + 2 * page, 0);
	say("munlock", munlock(a, 8 * page));
	say("mprotect(PROT_READ) over the guard", mprotect(a, 8 * page, PROT_READ));
	touch("read page 2 after mprotect", a + 2 * page, 0);
	say("mprotect back", mprotect(a, 8 * page, PROT_READ | PROT_WRITE));

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		touch("child: read page 2 (guard)", a + 2 * page, 0);
		touch("child: write page 3", a + 3 * page, 1);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%-44s %d\n", "child exit", WEXITSTATUS(st));

	/* Installing over pages in use drops their contents. */
	memset(a + 4 * page, 'b', page);
	say("GUARD_INSTALL(page 4, in use)", madv(a + 4 * page, page, MADV_GUARD_INSTALL));
	touch("read page 4", a + 4 * page, 0);
	say("GUARD_REMOVE(pages 0-7)", madv(a, 8 * page, MADV_GUARD_REMOVE));
	touch("read page 4 after remove", a + 4 * page, 0);
	touch("read page 2 after remove", a + 2 * page, 0);
	pm("pagemap page 2 after remove", a + 2 * page);
	say("GUARD_REMOVE again", madv(a, 8 * page, MADV_GUARD_REMOVE));

	/* mremap moves guard pages with the area; munmap drops them. */
	say("GUARD_INSTALL(page 5)", madv(a + 5 * page, page, MADV_GUARD_INSTALL));
	/* The destination is a place of our own: a fixed guess could land on the C library. */
	char *dst = mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	must("mmap destination", (long)dst);
	char *b = mremap(a, 8 * page, 8 * page, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	say("mremap", b == dst);
	touch("read page 5 at the new place", b + 5 * page, 0);
	touch("read page 6 at the new place", b + 6 * page, 0);
	say("munmap", munmap(b, 8 * page));
	char *c = mmap(b, 8 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	say("mmap in the same place", c == b);
	touch("read page 5 of the new mapping", c + 5 * page, 0);

	/* Holes and locked areas. */
	say("munmap page 7", munmap(c + 7 * page, page));
	say("GUARD_INSTALL over a hole", madv(c + 6 * page, 2 * page, MADV_GUARD_INSTALL));
	touch("read page 6 (installed before the hole)", c + 6 * page, 0);
	say("mlock pages 0-1", mlock(c, 2 * page));
	say("GUARD_INSTALL(locked)", madv(c, page, MADV_GUARD_INSTALL));
	say("GUARD_REMOVE(locked)", madv(c, page, MADV_GUARD_REMOVE));
	say("munlock", munlock(c, 2 * page));

	/* A file mapping: private and shared. */
	char buf[4 * 4096];
	memset(buf, 'f', sizeof buf);
	must("pwrite", pwrite(fd, buf, 4 * page, 0));
	char *fp = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	must("mmap file", (long)fp);
	say("GUARD_INSTALL(private file page 1)", madv(fp + page, page, MADV_GUARD_INSTALL));
	touch("read private file page 1", fp + page, 0);
	touch("read private file page 2", fp + 2 * page, 0);
	say("GUARD_REMOVE(private file)", madv(fp, 4 * page, MADV_GUARD_REMOVE));
	touch("read private file page 1 after remove", fp + page, 0);
	char *fs = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	must("mmap shared", (long)fs);
	say("GUARD_INSTALL(shared file page 0)", madv(fs, page, MADV_GUARD_INSTALL));
	touch("read shared file page 0", fs, 0);
	touch("write shared file page 1", fs + page, 1);
	say("GUARD_REMOVE(shared file)", madv(fs, page, MADV_GUARD_REMOVE));
	touch("read shared file page 0 after remove", fs, 0);
	int ro = open("data", O_RDONLY);
	char *fr = mmap(NULL, page, PROT_READ, MAP_SHARED, ro, 0);
	must("mmap shared read-only", (long)fr);
	say("GUARD_INSTALL(shared, read-only file)", madv(fr, page, MADV_GUARD_INSTALL));
	char *sh = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	must("mmap shared anonymous", (long)sh);
	sh[0] = 's';
	say("GUARD_INSTALL(shared anonymous)", madv(sh, page, MADV_GUARD_INSTALL));
	touch("read shared anonymous page 0", sh, 0);
	say("GUARD_REMOVE(shared anonymous)", madv(sh, page, MADV_GUARD_REMOVE));
	touch("read shared anonymous page 0 after remove", sh, 0);
	return 0;
}
