/* vm_faults: every way a bad access ends in SIGSEGV. With no argument, each case runs in a
   child and the parent prints how the child ended; with a case name as argument, the
   program runs that case itself (and dies of it).
   Cases: null-read null-write text-write rodata-write exec-stack exec-heap exec-none
   hole unmapped-after-munmap readonly-after-mprotect stack-overflow */
#include "vm.h"

static const char message[] = "read-only data";
static volatile u64 sink;
static volatile u64 *volatile null_page = 0;

typedef void (*fn)(void);

static volatile u64 never = ~0UL;

static void recurse(volatile char *prev, u64 depth) {
	volatile char frame[4096];
	frame[0] = prev ? prev[0] + 1 : 0;
	if (depth != never)
		recurse(frame, depth + 1);
	sink += frame[100]; /* not a tail call */
}

static void run(const char *c) {
	if (str_eq(c, "null-read")) {
		sink = null_page[0];
	} else if (str_eq(c, "null-write")) {
		null_page[1] = 1;
	} else if (str_eq(c, "text-write")) {
		*(volatile unsigned char *)(u64)&run = 0xc3;
	} else if (str_eq(c, "rodata-write")) {
		*(volatile char *)message = 'R';
	} else if (str_eq(c, "exec-stack")) {
		volatile unsigned char code[16] = {0xc3}; /* ret */
		((fn)(u64)code)();
	} else if (str_eq(c, "exec-heap")) {
		unsigned char *p = sys_mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 0xc3;
		((fn)(u64)p)();
	} else if (str_eq(c, "exec-none")) {
		unsigned char *p = sys_mmap(0, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		((fn)(u64)p)();
	} else if (str_eq(c, "hole")) {
		unsigned char *p = sys_mmap(0, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		sys_munmap(p + PAGE, PAGE);
		p[0] = p[2 * PAGE] = 1;
		sink = p[PAGE + 17];
	} else if (str_eq(c, "unmapped-after-munmap")) {
		u64 *p = sys_mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 42;
		sys_munmap(p, PAGE);
		sink = p[0];
	} else if (str_eq(c, "readonly-after-mprotect")) {
		u64 *p = sys_mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		p[0] = 42;
		sys_mprotect(p, PAGE, PROT_READ);
		sink = p[0];
		p[0] = 43;
	} else if (str_eq(c, "stack-overflow")) {
		u64 lim[2] = {8UL << 20, ~0UL};
		sys_prlimit(0, 3 /* RLIMIT_STACK */, lim, 0);
		recurse(0, 0);
	} else {
		fail("unknown case");
	}
	put_str("survived ");
	put_str(c);
	put_str("\n");
}

static const char *cases[] = {"null-read", "null-write", "text-write", "rodata-write", "exec-stack",
	"exec-heap", "exec-none", "hole", "unmapped-after-munmap", "readonly-after-mprotect", "stack-overflow"};

int main(int argc, char **argv, char **envp) {
	(void)envp;
	if (argc > 1) {
		run(argv[1]);
		return 0;
	}
	for (u64 i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		i64 pid = sys_fork();
		if (pid == 0) {
			run(cases[i]);
			sys_exit(0);
		}
		int st = 0;
		sys_wait4((int)pid, &st, 0, 0);
		put_str(cases[i]);
		put_str(": ");
		put_status(st);
		put_str("\n");
	}
	return 0;
}
