/* rp_mlock: locking memory. mlock and mlock2 (pages faulted in at once, or with
   MLOCK_ONFAULT as touched, as mincore shows), munlock, mlockall (MCL_CURRENT, MCL_FUTURE,
   MCL_ONFAULT) and munlockall, MAP_LOCKED, msync(MS_INVALIDATE) refused on locked pages, the
   argument checks; then, in a child without CAP_IPC_LOCK, RLIMIT_MEMLOCK: mlock past it is
   ENOMEM, MAP_LOCKED and MCL_FUTURE mappings past it EAGAIN, a zero limit EPERM; locks are not
   inherited by fork. MAP_DROPPABLE: anonymous only, never locked, empty in a fork child.
   usage: rp_mlock, or rp_mlock maps N (an emulator-only check of vm.max_map_count: maps
   areas until the count is N, then splits with mprotect and munmap). */
#include "rp.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif
#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08
#endif

static long resident(void *p, size_t len) {
	unsigned char v[64];
	if (mincore(p, len, v) < 0)
		return -1;
	long n = 0;
	for (size_t i = 0; i < len / 4096; i++)
		n += v[i] & 1;
	return n;
}

static void *anon(size_t len, int extra) {
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra, -1, 0);
}

static void dropIPCLock(void) {
	struct {
		unsigned version;
		int pid;
	} h = {0x20080522, 0};
	struct {
		unsigned eff, prm, inh;
	} d[2];
	must("capget", syscall(SYS_capget, &h, d));
	d[0].eff &= ~(1u << 14); /* CAP_IPC_LOCK */
	d[0].prm &= ~(1u << 14);
	must("capset", syscall(SYS_capset, &h, d));
}

static void maps(int n) {
	/* One area per page, alternating protections so none merge, until there are n. */
	char *base = mmap(NULL, 4096 * 4 * (size_t)n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	must("mmap", base == MAP_FAILED ? -1 : 0);
	int i = 0;
	long r = 0;
	for (; r == 0; i++)
		r = mprotect(base + 8192 * (size_t)i, 4096, PROT_READ);
	printf("mprotect splits until %s after %d\n", errname(errno), i - 1);
	/* Now at the limit: a split that leaves both sides is refused, a cut at an end is not. */
	char *big = base + 8192 * (size_t)(i + 2);
	say("munmap (middle of an area)", munmap(big + 4096, 4096));
	say("mprotect (middle of an area)", mprotect(big + 4096, 4096, PROT_READ));
	say("munmap (an area's end)", munmap(base + 4096 * (4 * (size_t)n - 1), 4096));
	say("mmap (one more area)", anon(4096, 0) == MAP_FAILED ? -1 : 0);
}

int main(int argc, char **argv) {
	if (argc == 3 && strcmp(argv[1], "maps") == 0) {
		maps(atoi(argv[2]));
		return 0;
	}
	struct rlimit rl = {64 << 10, 64 << 10};
	must("setrlimit", setrlimit(RLIMIT_MEMLOCK, &rl));
	char *a = anon(16 * 4096, 0);
	say("resident before mlock", resident(a, 16 * 4096));
	say("mlock(a, 8 pages)", mlock(a, 8 * 4096));
	say("resident after", resident(a, 16 * 4096));
	say("mlock2(a+8 pages, 4 pages, MLOCK_ONFAULT)", syscall(SYS_mlock2, a + 8 * 4096, 4 * 4096, MLOCK_ONFAULT));
	say("resident after", resident(a, 16 * 4096));
	a[9 * 4096] = 1;
	say("resident after touching one", resident(a, 16 * 4096));
	say("mlock2(bad flags)", syscall(SYS_mlock2, a, 4096, 2));
	say("mlock(unaligned start, 1 byte)", mlock(a + 12 * 4096 + 100, 1));
	say("resident after", resident(a, 16 * 4096));
	say("msync(MS_INVALIDATE) on locked", msync(a, 4096, MS_INVALIDATE));
	say("msync(MS_SYNC) on locked", msync(a, 4096, MS_SYNC));
	say("munlock(a, 16 pages)", munlock(a, 16 * 4096));
	say("msync(MS_INVALIDATE) unlocked", msync(a, 4096, MS_INVALIDATE));
	munmap(a + 4 * 4096, 4096);
	say("mlock across a hole", mlock(a, 8 * 4096));
	say("munlock across a hole", munlock(a, 8 * 4096));
	say("mlock(unmapped)", mlock((void *)0x10000, 4096));
	say("mlock(len 0)", mlock(a, 0));
	char *l = anon(4 * 4096, MAP_LOCKED);
	say("MAP_LOCKED: resident", resident(l, 4 * 4096));
	say("mlockall(0)", mlockall(0));
	say("mlockall(MCL_ONFAULT)", mlockall(MCL_ONFAULT));
	say("mlockall(8)", mlockall(8));
	pid_t pid = fork();
	if (pid == 0) {
		/* Without CAP_IPC_LOCK, RLIMIT_MEMLOCK (64 KiB) counts. */
		dropIPCLock();
		char *c = anon(32 * 4096, 0);
		say("  child mlock(12 pages)", mlock(c, 12 * 4096));
		say("  child mlock(8 more pages) past the limit", mlock(c + 12 * 4096, 8 * 4096));
		say("  child mlock(the same 12 again)", mlock(c, 12 * 4096));
		say("  child mlock(4 more)", mlock(c + 12 * 4096, 4 * 4096));
		say("  child MAP_LOCKED past the limit", anon(4096, MAP_LOCKED) == MAP_FAILED ? -1 : 0);
		say("  child munlock(all)", munlock(c, 32 * 4096));
		say("  child mlockall(MCL_CURRENT) past the limit", mlockall(MCL_CURRENT));
		say("  child mlockall(MCL_FUTURE)", mlockall(MCL_FUTURE));
		say("  child mmap 20 pages (locked)", anon(20 * 4096, 0) == MAP_FAILED ? -1 : 0);
		char *s = anon(8 * 4096, 0);
		say("  child mmap 8 pages (locked)", s == MAP_FAILED ? -1 : 0);
		say("  child resident", resident(s, 8 * 4096));
		say("  child munlockall", munlockall());
		say("  child mmap 20 pages", anon(20 * 4096, 0) == MAP_FAILED ? -1 : 0);
		struct rlimit zero = {0, 0};
		setrlimit(RLIMIT_MEMLOCK, &zero);
		say("  child mlock with a zero limit", mlock(c, 4096));
		say("  child mlockall with a zero limit", mlockall(MCL_CURRENT));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	say("mlockall(MCL_CURRENT|MCL_FUTURE)", mlockall(MCL_CURRENT | MCL_FUTURE));
	char *f = anon(4 * 4096, 0);
	say("a new mapping is resident", resident(f, 4 * 4096));
	pid = fork();
	if (pid == 0) {
		/* The child inherits no lock: without CAP_IPC_LOCK it can still lock 16 pages. */
		dropIPCLock();
		char *c = anon(16 * 4096, 0);
		say("  child mlock(16 pages): nothing inherited", mlock(c, 16 * 4096));
		char *n = anon(4 * 4096, 0);
		say("  child: a new mapping is not locked (resident)", resident(n, 4 * 4096));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	say("munlockall", munlockall());
	say("mlockall(MCL_FUTURE|MCL_ONFAULT)", mlockall(MCL_FUTURE | MCL_ONFAULT));
	f = anon(4 * 4096, 0);
	say("a new on-fault mapping: resident", resident(f, 4 * 4096));
	munlockall();

	char *d = mmap(NULL, 4 * 4096, PROT_READ | PROT_WRITE, MAP_DROPPABLE | MAP_ANONYMOUS, -1, 0);
	say("MAP_DROPPABLE", d == MAP_FAILED ? -1 : 0);
	say("MAP_DROPPABLE|MAP_LOCKED", mmap(NULL, 4096, PROT_READ, MAP_DROPPABLE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) == MAP_FAILED ? -1 : 0);
	int fd = open("/dev/zero", 0);
	say("MAP_DROPPABLE of a file", mmap(NULL, 4096, PROT_READ, MAP_DROPPABLE, fd, 0) == MAP_FAILED ? -1 : 0);
	say("mlock(droppable)", mlock(d, 4 * 4096));
	d[0] = 42;
	pid = fork();
	if (pid == 0) {
		printf("  child sees %d in the droppable page\n", d[0]);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("parent sees %d\n", d[0]);
	return 0;
}
