/* rp_uffd: userfaultfd, user space handling its own page faults on a second thread.
   usage: rp_uffd DIR. The API handshake and its errors; MISSING mode on anonymous memory
   (UFFDIO_COPY, ZEROPAGE, COPY with DONTWAKE then WAKE, a read() whose copy faults), the
   fill ioctls' errors (EEXIST, a partial copy's EAGAIN, ENOENT, EINVAL); a fork child that
   is not registered; UNREGISTER; WP mode (UFFDIO_WRITEPROTECT, the pagemap's uffd-wp bit,
   kept by mprotect); MINOR and MISSING modes on a memfd (UFFDIO_CONTINUE, a copy into the
   page cache); UFFD_FEATURE_SIGBUS; the release of the descriptor lifting everything. The
   handler thread prints each message before it resolves the page; the main thread prints
   after its access returned, so the output is in one order. smaps' VmFlags show um/uw/ui. */
#include "rp.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* <linux/userfaultfd.h>, which musl does not have. */
#define UFFD_API 0xAAULL
#define UFFD_USER_MODE_ONLY 1
#define UFFD_FEATURE_SIGBUS (1ULL << 7)
#define UFFD_FEATURE_THREAD_ID (1ULL << 8)
#define UFFD_FEATURE_MISSING_SHMEM (1ULL << 5)
#define UFFD_FEATURE_MINOR_SHMEM (1ULL << 10)
#define UFFD_EVENT_PAGEFAULT 0x12
struct uffdio_api { uint64_t api, features, ioctls; };
struct uffdio_range { uint64_t start, len; };
struct uffdio_register { struct uffdio_range range; uint64_t mode, ioctls; };
struct uffdio_copy { uint64_t dst, src, len, mode; int64_t copy; };
struct uffdio_zeropage { struct uffdio_range range; uint64_t mode; int64_t zeropage; };
struct uffdio_writeprotect { struct uffdio_range range; uint64_t mode; };
struct uffdio_continue { struct uffdio_range range; uint64_t mode; int64_t mapped; };
struct uffd_msg {
	uint8_t event, reserved1;
	uint16_t reserved2;
	uint32_t reserved3;
	uint64_t flags, address;
	uint32_t ptid, pad;
};
#define UFFDIO_API _IOWR(0xAA, 0x3F, struct uffdio_api)
#define UFFDIO_REGISTER _IOWR(0xAA, 0x00, struct uffdio_register)
#define UFFDIO_UNREGISTER _IOR(0xAA, 0x01, struct uffdio_range)
#define UFFDIO_WAKE _IOR(0xAA, 0x02, struct uffdio_range)
#define UFFDIO_COPY _IOWR(0xAA, 0x03, struct uffdio_copy)
#define UFFDIO_ZEROPAGE _IOWR(0xAA, 0x04, struct uffdio_zeropage)
#define UFFDIO_WRITEPROTECT _IOWR(0xAA, 0x06, struct uffdio_writeprotect)
#define UFFDIO_CONTINUE _IOWR(0xAA, 0x07, struct uffdio_continue)
#define MODE_MISSING 1
#define MODE_WP 2
#define MODE_MINOR 4
/* The range ioctls this program uses: WAKE COPY ZEROPAGE WRITEPROTECT CONTINUE. */
#define RANGE_IOCTLS (1ULL << 2 | 1ULL << 3 | 1ULL << 4 | 1ULL << 6 | 1ULL << 7)

static long page;
static int uffd, quit[2];
static char *base; /* the region the handler's page numbers count from */
static volatile pid_t main_tid;
enum { COPY, ZERO, COPY_DONTWAKE, UNPROTECT, CONTINUE };
static volatile int action;
static volatile char letter;

/* then tells the handler what to do with the next fault. The barrier keeps the compiler
   from moving main's access (an ordinary load or store) before the instruction. */
static void then(int act, char let) {
	action = act, letter = let;
	__asm__ volatile("" ::: "memory");
}

static long pageno(uint64_t addr) { return (long)((char *)(uintptr_t)addr - base) / page; }

/* handler resolves the faults main takes: it prints the message, then does what main
   asked for. */
static void *handler(void *arg) {
	(void)arg;
	static char buf[4096] __attribute__((aligned(4096)));
	for (;;) {
		struct pollfd fds[2] = {{.fd = uffd, .events = POLLIN}, {.fd = quit[0], .events = POLLIN}};
		if (poll(fds, 2, -1) < 0)
			continue;
		if (fds[1].revents)
			return NULL;
		struct uffd_msg m;
		ssize_t n = read(uffd, &m, sizeof m);
		if (n != sizeof m) {
			printf("handler: read %ld %s\n", (long)n, n < 0 ? errname(errno) : "");
			continue;
		}
		uint64_t pg = m.address & ~(uint64_t)(page - 1);
		printf("handler: event %#x page %ld flags %llu (write %d wp %d minor %d) ptid is main's %d\n", m.event,
		       pageno(m.address), (unsigned long long)m.flags, (int)(m.flags & 1), (int)(m.flags >> 1 & 1),
		       (int)(m.flags >> 2 & 1), m.ptid == (uint32_t)main_tid);
		fflush(stdout);
		switch (action) {
		case COPY:
		case COPY_DONTWAKE: {
			memset(buf, letter, page);
			struct uffdio_copy c = {.dst = pg, .src = (uintptr_t)buf, .len = page,
			                        .mode = action == COPY_DONTWAKE ? 1 : 0};
			long r = ioctl(uffd, UFFDIO_COPY, &c);
			if (r != 0 || c.copy != page)
				printf("handler: UFFDIO_COPY %ld copy %lld\n", r, (long long)c.copy);
			if (action == COPY_DONTWAKE) {
				struct uffdio_range w = {pg, page};
				printf("handler: copied without waking; now UFFDIO_WAKE\n");
				fflush(stdout);
				if (ioctl(uffd, UFFDIO_WAKE, &w) != 0)
					printf("handler: UFFDIO_WAKE %s\n", errname(errno));
			}
			break;
		}
		case ZERO: {
			struct uffdio_zeropage z = {.range = {pg, page}};
			long r = ioctl(uffd, UFFDIO_ZEROPAGE, &z);
			if (r != 0 || z.zeropage != page)
				printf("handler: UFFDIO_ZEROPAGE %ld zeropage %lld\n", r, (long long)z.zeropage);
			break;
		}
		case UNPROTECT: {
			struct uffdio_writeprotect w = {.range = {pg, page}, .mode = 0};
			long r = ioctl(uffd, UFFDIO_WRITEPROTECT, &w);
			if (r != 0)
				printf("handler: UFFDIO_WRITEPROTECT %ld\n", r);
			break;
		}
		case CONTINUE: {
			struct uffdio_continue c = {.range = {pg, page}};
			long r = ioctl(uffd, UFFDIO_CONTINUE, &c);
			if (r != 0 || c.mapped != page)
				printf("handler: UFFDIO_CONTINUE %ld mapped %lld\n", r, (long long)c.mapped);
			break;
		}
		}
		fflush(stdout);
	}
}

/* vmflags prints whether smaps' VmFlags line of the area at p has each of um, uw, ui. */
static void vmflags(const char *what, void *p) {
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	int in = 0, um = 0, uw = 0, ui = 0;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) /* an area's first line */
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
		if (in && strncmp(line, "VmFlags:", 8) == 0) {
			um = strstr(line, " um") != NULL;
			uw = strstr(line, " uw") != NULL;
			ui = strstr(line, " ui") != NULL;
		}
	}
	if (f)
		fclose(f);
	printf("%-44s um %d uw %d ui %d\n", what, um, uw, ui);
}

/* wpbit prints the pagemap's uffd-wp bit (57) of the page at p. */
static void wpbit(const char *what, void *p) {
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (fd < 0 || pread(fd, &e, 8, (off_t)((uintptr_t)p / page * 8)) != 8)
		printf("%-44s pagemap unreadable\n", what);
	else
		printf("%-44s present %d uffd-wp %d\n", what, (int)(e >> 63 & 1), (int)(e >> 57 & 1));
	if (fd >= 0)
		close(fd);
}

static sigjmp_buf jb;
static volatile int sigcode;
static void onbus(int sig, siginfo_t *si, void *uc) {
	(void)uc;
	sigcode = si->si_code;
	siglongjmp(jb, sig);
}

static long reg(void *p, long len, uint64_t mode, uint64_t *ioctls) {
	struct uffdio_register r = {.range = {(uintptr_t)p, len}, .mode = mode};
	long ret = ioctl(uffd, UFFDIO_REGISTER, &r);
	if (ioctls)
		*ioctls = r.ioctls & RANGE_IOCTLS;
	return ret;
}

static long copyto(void *dst, long len, uint64_t mode, int64_t *copied) {
	static char src[2 * 4096];
	memset(src, 'x', sizeof src);
	struct uffdio_copy c = {.dst = (uintptr_t)dst, .src = (uintptr_t)src, .len = len, .mode = mode};
	long r = ioctl(uffd, UFFDIO_COPY, &c);
	*copied = c.copy;
	return r;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || chdir(argv[1]) == -1) {
		printf("usage: rp_uffd DIR\n");
		return 2;
	}
	page = sysconf(_SC_PAGESIZE);
	main_tid = syscall(SYS_gettid);
	must("pipe", pipe(quit));

	/* The descriptor and the API handshake. */
	say("userfaultfd(bad flags)", syscall(SYS_userfaultfd, 0x100 | UFFD_USER_MODE_ONLY));
	uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int kernel_faults = 1;
	if (uffd < 0 && errno == EPERM) {
		kernel_faults = 0; /* vm.unprivileged_userfaultfd 0 and no CAP_SYS_PTRACE */
		uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	}
	must("userfaultfd", uffd);
	char link[64], target[64] = "";
	snprintf(link, sizeof link, "/proc/self/fd/%d", uffd);
	target[readlink(link, target, sizeof target - 1) < 0 ? 0 : sizeof target - 1] = 0;
	printf("%-44s %s\n", "fd link", target);
	uint64_t ioc;
	char *a = mmap(NULL, 12 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	must("mmap", (long)a);
	base = a;
	say("REGISTER before UFFDIO_API", reg(a, page, MODE_MISSING, NULL));
	struct uffdio_api api = {.api = 0x55, .features = 0, .ioctls = 7};
	say("UFFDIO_API(api 0x55)", ioctl(uffd, UFFDIO_API, &api));
	printf("%-44s features %llu ioctls %llu\n", "  cleared", (unsigned long long)api.features,
	       (unsigned long long)api.ioctls);
	api = (struct uffdio_api){.api = UFFD_API, .features = 1ULL << 62};
	say("UFFDIO_API(unknown feature)", ioctl(uffd, UFFDIO_API, &api));
	uint64_t want = UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_MISSING_SHMEM | UFFD_FEATURE_MINOR_SHMEM;
	api = (struct uffdio_api){.api = UFFD_API, .features = want};
	say("UFFDIO_API", ioctl(uffd, UFFDIO_API, &api));
	printf("%-44s features offered %d ioctls %#llx\n", "  answer", (api.features & want) == want,
	       (unsigned long long)(api.ioctls & (1ULL << 63 | 3)));
	say("UFFDIO_API again", ioctl(uffd, UFFDIO_API, &api));
	struct uffd_msg m;
	say("read(16 bytes)", read(uffd, &m, 16));
	say("read(nothing pending, O_NONBLOCK)", read(uffd, &m, sizeof m));
	struct pollfd pf = {.fd = uffd, .events = POLLIN};
	say("poll(nothing pending)", poll(&pf, 1, 0));
	say("ioctl(unknown request)", ioctl(uffd, _IOWR(0xAA, 0x30, struct uffdio_range), &api));

	/* MISSING mode on anonymous memory. */
	say("REGISTER(mode 0)", reg(a, page, 0, NULL));
	say("REGISTER(mode 8)", reg(a, page, 8, NULL));
	say("REGISTER(unaligned)", reg(a + 1, page, MODE_MISSING, NULL));
	say("REGISTER(length 0)", reg(a, 0, MODE_MISSING, NULL));
	say("REGISTER(MISSING, pages 0-9)", reg(a, 10 * page, MODE_MISSING, &ioc));
	printf("%-44s %#llx\n", "  range ioctls", (unsigned long long)ioc);
	vmflags("smaps of the registered area", a);
	vmflags("smaps of the rest", a + 11 * page);
	pthread_t th;
	must("pthread_create", -!!pthread_create(&th, NULL, handler, NULL));

	then(COPY, 'A');
	printf("%-44s %c\n", "main: read page 0", a[0]);
	then(ZERO, 0);
	a[page + 5] = 'z';
	printf("%-44s %c %d\n", "main: wrote page 1", a[page + 5], a[page]);
	then(COPY_DONTWAKE, 'C');
	printf("%-44s %c\n", "main: read page 2", a[2 * page + 100]);
	int fd = open("data", O_RDWR | O_CREAT | O_TRUNC, 0600);
	must("open", fd);
	must("write", write(fd, "from the file", 13));
	then(COPY, 'D');
	if (kernel_faults) {
		say("main: pread() into page 3", pread(fd, a + 3 * page, 13, 0));
		printf("%-44s %.16s\n", "main: page 3 holds", a + 3 * page);
	} else {
		printf("main: user-mode faults only: a read() into a missing page is EFAULT\n");
	}

	int64_t copied;
	say("COPY onto page 0 (mapped)", copyto(a, page, 0, &copied));
	printf("%-44s %lld\n", "  copy", (long long)copied);
	say("COPY(unaligned destination)", copyto(a + 8, page, 0, &copied));
	say("COPY(length 0)", copyto(a + 4 * page, 0, 0, &copied));
	say("COPY(mode 4)", copyto(a + 4 * page, page, 4, &copied));
	say("COPY(mode WP, area not WP)", copyto(a + 4 * page, page, 2, &copied));
	say("COPY(outside the area)", copyto(a + 11 * page, page, 0, &copied));
	say("COPY(pages 4-5)", copyto(a + 4 * page, 2 * page, 0, &copied));
	printf("%-44s %lld %c\n", "  copy, page 5", (long long)copied, a[5 * page]);
	say("COPY(page 7)", copyto(a + 7 * page, page, 0, &copied));
	say("COPY(pages 6-7: 7 is mapped)", copyto(a + 6 * page, 2 * page, 0, &copied));
	printf("%-44s %lld\n", "  copy", (long long)copied);
	struct uffdio_zeropage z = {.range = {(uintptr_t)a, page}};
	say("ZEROPAGE onto page 0", ioctl(uffd, UFFDIO_ZEROPAGE, &z));
	printf("%-44s %lld\n", "  zeropage", (long long)z.zeropage);
	z = (struct uffdio_zeropage){.range = {(uintptr_t)a + 8 * page, page}, .mode = 2};
	say("ZEROPAGE(mode 2)", ioctl(uffd, UFFDIO_ZEROPAGE, &z));
	struct uffdio_range w = {(uintptr_t)a, 10 * page};
	say("WAKE(nobody waits)", ioctl(uffd, UFFDIO_WAKE, &w));
	w.start++;
	say("WAKE(unaligned)", ioctl(uffd, UFFDIO_WAKE, &w));
	struct uffdio_writeprotect wp = {.range = {(uintptr_t)a, page}, .mode = 1};
	say("WRITEPROTECT(area not WP)", ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	struct uffdio_continue ct = {.range = {(uintptr_t)a + 8 * page, page}};
	say("CONTINUE(anonymous)", ioctl(uffd, UFFDIO_CONTINUE, &ct));

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("%-44s %d\n", "child: read page 8 (not registered here)", a[8 * page]);
		vmflags("child: smaps", a);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%-44s %d\n", "child exit", WEXITSTATUS(st));
	w = (struct uffdio_range){(uintptr_t)a, 10 * page};
	say("UNREGISTER(pages 0-9)", ioctl(uffd, UFFDIO_UNREGISTER, &w));
	printf("%-44s %d\n", "main: read page 9 (unregistered)", a[9 * page]);
	vmflags("smaps after UNREGISTER", a);
	say("UNREGISTER again", ioctl(uffd, UFFDIO_UNREGISTER, &w));

	/* WP mode. */
	char *b = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	must("mmap", (long)b);
	base = b;
	b[0] = 'w', b[page] = 'v';
	say("REGISTER(WP)", reg(b, 2 * page, MODE_WP, &ioc));
	printf("%-44s %#llx\n", "  range ioctls", (unsigned long long)ioc);
	vmflags("smaps", b);
	wp = (struct uffdio_writeprotect){.range = {(uintptr_t)b, page}, .mode = 1 | 2};
	say("WRITEPROTECT(WP|DONTWAKE)", ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	wp.mode = 1;
	say("WRITEPROTECT(page 0)", ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	wpbit("pagemap page 0", b);
	wpbit("pagemap page 1", b + page);
	printf("%-44s %c\n", "main: read page 0", b[0]);
	then(UNPROTECT, 0);
	b[0] = 'W';
	printf("%-44s %c\n", "main: wrote page 0", b[0]);
	wpbit("pagemap page 0 after", b);
	wp.range.start = (uintptr_t)b + page;
	say("WRITEPROTECT(page 1)", ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));
	say("mprotect(PROT_READ)", mprotect(b, 2 * page, PROT_READ));
	say("mprotect(PROT_READ|PROT_WRITE)", mprotect(b, 2 * page, PROT_READ | PROT_WRITE));
	b[page] = 'V';
	printf("%-44s %c\n", "main: wrote page 1", b[page]);
	wp.mode = 1;
	wp.range.start = (uintptr_t)b;
	say("WRITEPROTECT(page 0) again", ioctl(uffd, UFFDIO_WRITEPROTECT, &wp));

	/* MINOR and MISSING modes on shared memory. */
	int mfd = syscall(SYS_memfd_create, "uffd", 0);
	must("memfd_create", mfd);
	must("ftruncate", ftruncate(mfd, 2 * page));
	must("pwrite", pwrite(mfd, "minor", 5, 0));
	char *s = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	must("mmap memfd", (long)s);
	base = s;
	say("REGISTER(MINOR, private anonymous)", reg(a, page, MODE_MINOR, NULL));
	say("REGISTER(MINOR|MISSING, memfd)", reg(s, 2 * page, MODE_MINOR | MODE_MISSING, &ioc));
	printf("%-44s %#llx\n", "  range ioctls", (unsigned long long)ioc);
	vmflags("smaps", s);
	then(CONTINUE, 0);
	char got[6] = "";
	memcpy(got, s, 5); /* not inside printf, which holds the stdout lock the handler needs */
	printf("%-44s %s\n", "main: read page 0 (in the page cache)", got);
	then(COPY, 'M');
	printf("%-44s %c\n", "main: read page 1 (not in it)", s[page]);
	char mb[2] = "";
	say("pread(memfd, page 1)", pread(mfd, mb, 1, page));
	printf("%-44s %c\n", "  byte", mb[0]);
	ct = (struct uffdio_continue){.range = {(uintptr_t)s, page}};
	say("CONTINUE(mapped)", ioctl(uffd, UFFDIO_CONTINUE, &ct));
	printf("%-44s %lld\n", "  mapped", (long long)ct.mapped);

	/* UFFD_FEATURE_SIGBUS: no handler, the fault is SIGBUS. */
	int u2 = syscall(SYS_userfaultfd, O_CLOEXEC | (kernel_faults ? 0 : UFFD_USER_MODE_ONLY));
	must("userfaultfd", u2);
	api = (struct uffdio_api){.api = UFFD_API, .features = UFFD_FEATURE_SIGBUS};
	say("UFFDIO_API(SIGBUS)", ioctl(u2, UFFDIO_API, &api));
	char *c = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct uffdio_register r2 = {.range = {(uintptr_t)c, page}, .mode = MODE_MISSING};
	say("REGISTER", ioctl(u2, UFFDIO_REGISTER, &r2));
	struct uffdio_register r3 = {.range = {(uintptr_t)c, page}, .mode = MODE_MISSING};
	say("REGISTER with the other userfaultfd", ioctl(uffd, UFFDIO_REGISTER, &r3));
	struct sigaction sa = {0};
	sa.sa_sigaction = onbus;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGBUS, &sa, NULL);
	int sig = sigsetjmp(jb, 1);
	if (sig == 0)
		printf("%-44s %d\n", "read", c[0]);
	else
		printf("%-44s signal %d code %s\n", "read", sig, sigcode == BUS_ADRERR ? "BUS_ADRERR" : "other");
	close(u2);
	printf("%-44s %d\n", "read after close", c[0]);

	/* The release of the descriptor lifts the registrations and the protection. */
	must("write", write(quit[1], "q", 1));
	pthread_join(th, NULL);
	close(uffd);
	b[0] = 'X';
	printf("%-44s %c\n", "wrote page 0 after close", b[0]);
	vmflags("smaps after close", b);
	return 0;
}
