/* rp_prctl: the prctl options real programs and the Linux selftests use. PR_SET_NAME and
   PR_GET_NAME; PR_SET_PDEATHSIG (a grandchild told of its parent's death); PR_SET_DUMPABLE;
   PR_SET_KEEPCAPS; PR_SET_NO_NEW_PRIVS; PR_CAPBSET_READ; PR_SET_TIMERSLACK;
   PR_SET_THP_DISABLE; PR_GET_TID_ADDRESS; PR_GET_AUXV; PR_SET_VMA (naming anonymous
   memory); PR_SET_MDWE (memory-deny-write-execute: a writable and executable mapping, or
   mprotect adding exec, refused; kept across fork unless PR_MDWE_NO_INHERIT; never
   cleared); unknown options EINVAL. */
#include "rp.h"
#include <signal.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef PR_SET_MDWE
#define PR_SET_MDWE 65
#define PR_GET_MDWE 66
#endif
#define MDWE_REFUSE_EXEC_GAIN 1
#define MDWE_NO_INHERIT 2
#ifndef PR_GET_AUXV
#define PR_GET_AUXV 0x41555856
#endif
#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

static long pr(int opt, unsigned long a, unsigned long b, unsigned long c, unsigned long d) {
	return syscall(SYS_prctl, opt, a, b, c, d);
}

static int pipefd[2];

static void usr1(int sig) {
	char c = 'd';
	(void)sig;
	if (write(pipefd[1], &c, 1) < 0)
		_exit(3);
}

static void mdwe(void) {
	say("PR_GET_MDWE", pr(PR_GET_MDWE, 0, 0, 0, 0));
	say("PR_SET_MDWE(7)", pr(PR_SET_MDWE, 7, 0, 0, 0));
	say("PR_SET_MDWE(NO_INHERIT alone)", pr(PR_SET_MDWE, MDWE_NO_INHERIT, 0, 0, 0));
	say("PR_SET_MDWE(1, arg3 1)", pr(PR_SET_MDWE, 1, 1, 0, 0));
	say("PR_GET_MDWE(arg2 1)", pr(PR_GET_MDWE, 1, 0, 0, 0));
	void *rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("PR_SET_MDWE(REFUSE_EXEC_GAIN)", pr(PR_SET_MDWE, MDWE_REFUSE_EXEC_GAIN, 0, 0, 0));
	say("PR_GET_MDWE", pr(PR_GET_MDWE, 0, 0, 0, 0));
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("mmap(rwx)", m == MAP_FAILED ? -1 : 0);
	m = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("mmap(r-x)", m == MAP_FAILED ? -1 : 0);
	say("mprotect(rw- to r-x)", mprotect(rw, 4096, PROT_READ | PROT_EXEC));
	say("mprotect(r-x to rwx)", mprotect(rx, 4096, PROT_READ | PROT_WRITE | PROT_EXEC));
	say("mprotect(r-x to r--)", mprotect(rx, 4096, PROT_READ));
	say("mprotect(r-- back to r-x)", mprotect(rx, 4096, PROT_READ | PROT_EXEC));
	say("PR_SET_MDWE(0) (clearing)", pr(PR_SET_MDWE, 0, 0, 0, 0));
	say("PR_SET_MDWE(1|NO_INHERIT) (changing)", pr(PR_SET_MDWE, 3, 0, 0, 0));
	say("PR_SET_MDWE(1) again", pr(PR_SET_MDWE, 1, 0, 0, 0));
	pid_t pid = fork();
	if (pid == 0) {
		say("  child PR_GET_MDWE", pr(PR_GET_MDWE, 0, 0, 0, 0));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

static void mdweNoInherit(void) {
	say("PR_SET_MDWE(1|NO_INHERIT)", pr(PR_SET_MDWE, MDWE_REFUSE_EXEC_GAIN | MDWE_NO_INHERIT, 0, 0, 0));
	say("PR_GET_MDWE", pr(PR_GET_MDWE, 0, 0, 0, 0));
	pid_t pid = fork();
	if (pid == 0) {
		say("  child PR_GET_MDWE", pr(PR_GET_MDWE, 0, 0, 0, 0));
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		say("  child mmap(rwx)", m == MAP_FAILED ? -1 : 0);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
}

/* vma is PR_SET_VMA, which a kernel built without CONFIG_ANON_VMA_NAME refuses (EINVAL for
   everything): run alone with the argument "vma", for comparison with what Linux does. */
static void vma(void) {
	void *a = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	say("PR_SET_VMA(anon name)", pr(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)a + 4096, 4096, (unsigned long)"my buffer"));
	say("PR_SET_VMA(bad char)", pr(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)a, 4096, (unsigned long)"a$b"));
	say("PR_SET_VMA(unaligned)", pr(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)a + 1, 4096, (unsigned long)"x"));
	say("PR_SET_VMA(clear)", pr(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)a, 3 * 4096, 0));
	say("PR_SET_VMA(bad option)", pr(PR_SET_VMA, 7, (unsigned long)a, 4096, 0));
	munmap(a, 3 * 4096);
	say("PR_SET_VMA(unmapped)", pr(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)a, 4096, (unsigned long)"x"));
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "vma") == 0) {
		vma();
		return 0;
	}
	char name[32] = {0};
	say("PR_SET_NAME(\"renamed-process-x\")", pr(PR_SET_NAME, (unsigned long)"renamed-process-x", 0, 0, 0));
	say("PR_GET_NAME", pr(PR_GET_NAME, (unsigned long)name, 0, 0, 0));
	printf("  name [%s]\n", name);
	say("PR_GET_NAME(bad ptr)", pr(PR_GET_NAME, 8, 0, 0, 0));

	/* Parent-death signal: main forks a middle process, which forks a grandchild that asks
	   for SIGUSR1 when its parent dies; the middle process then exits. */
	must("pipe", pipe(pipefd));
	int ready[2];
	must("pipe", pipe(ready));
	pid_t mid = fork();
	must("fork", mid);
	if (mid == 0) {
		pid_t gc = fork();
		if (gc == 0) {
			signal(SIGUSR1, usr1);
			say("  grandchild PR_SET_PDEATHSIG(SIGUSR1)", pr(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0));
			int s = -1;
			say("  grandchild PR_GET_PDEATHSIG", pr(PR_GET_PDEATHSIG, (unsigned long)&s, 0, 0, 0));
			printf("  pdeathsig %d\n", s);
			fflush(stdout);
			if (write(ready[1], "r", 1) != 1)
				_exit(4);
			for (int i = 0; i < 1000; i++)
				usleep(1000);
			_exit(0);
		}
		char c;
		if (read(ready[0], &c, 1) != 1)
			_exit(5);
		_exit(0); /* the grandchild's parent dies */
	}
	waitpid(mid, NULL, 0);
	char c = 0;
	say("read the grandchild's report", read(pipefd[0], &c, 1));
	printf("  got [%c]\n", c);
	say("PR_SET_PDEATHSIG(99)", pr(PR_SET_PDEATHSIG, 99, 0, 0, 0));

	say("PR_GET_DUMPABLE", pr(PR_GET_DUMPABLE, 0, 0, 0, 0));
	say("PR_SET_DUMPABLE(0)", pr(PR_SET_DUMPABLE, 0, 0, 0, 0));
	say("PR_GET_DUMPABLE", pr(PR_GET_DUMPABLE, 0, 0, 0, 0));
	say("PR_SET_DUMPABLE(2)", pr(PR_SET_DUMPABLE, 2, 0, 0, 0));
	say("PR_SET_DUMPABLE(1)", pr(PR_SET_DUMPABLE, 1, 0, 0, 0));
	say("PR_GET_KEEPCAPS", pr(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	say("PR_SET_KEEPCAPS(1)", pr(PR_SET_KEEPCAPS, 1, 0, 0, 0));
	say("PR_GET_KEEPCAPS", pr(PR_GET_KEEPCAPS, 0, 0, 0, 0));
	say("PR_SET_KEEPCAPS(5)", pr(PR_SET_KEEPCAPS, 5, 0, 0, 0));
	say("PR_GET_NO_NEW_PRIVS", pr(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	say("PR_SET_NO_NEW_PRIVS(0)", pr(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0));
	say("PR_SET_NO_NEW_PRIVS(1)", pr(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
	say("PR_GET_NO_NEW_PRIVS", pr(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	say("PR_CAPBSET_READ(CAP_CHOWN)", pr(PR_CAPBSET_READ, 0, 0, 0, 0));
	say("PR_CAPBSET_READ(99)", pr(PR_CAPBSET_READ, 99, 0, 0, 0));
	say("PR_GET_TIMERSLACK", pr(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	say("PR_SET_TIMERSLACK(1000)", pr(PR_SET_TIMERSLACK, 1000, 0, 0, 0));
	say("PR_GET_TIMERSLACK", pr(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	say("PR_GET_THP_DISABLE", pr(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	say("PR_SET_THP_DISABLE(1)", pr(PR_SET_THP_DISABLE, 1, 0, 0, 0));
	say("PR_GET_THP_DISABLE", pr(PR_GET_THP_DISABLE, 0, 0, 0, 0));
	say("PR_GET_TIMING", pr(PR_GET_TIMING, 0, 0, 0, 0));
	say("PR_GET_SECCOMP", pr(PR_GET_SECCOMP, 0, 0, 0, 0));
	say("PR_GET_CHILD_SUBREAPER(bad ptr)", pr(PR_GET_CHILD_SUBREAPER, 8, 0, 0, 0));
	unsigned long tid = 1;
	say("PR_GET_TID_ADDRESS", pr(PR_GET_TID_ADDRESS, (unsigned long)&tid, 0, 0, 0));
	printf("  non-zero %d\n", tid != 0);
	unsigned long auxv[64];
	long n = pr(PR_GET_AUXV, (unsigned long)auxv, sizeof auxv, 0, 0);
	printf("PR_GET_AUXV size > 0 %d\n", n > 0);
	for (long i = 0; 2 * i * 8 < n && i < 32; i++)
		if (auxv[2 * i] == AT_PAGESZ)
			printf("  AT_PAGESZ %lu (getauxval %lu)\n", auxv[2 * i + 1], getauxval(AT_PAGESZ));
	say("PR_GET_AUXV(len 0)", pr(PR_GET_AUXV, 0, 0, 0, 0) == n ? 0 : -1);
	say("prctl(12345)", pr(12345, 0, 0, 0, 0));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		mdweNoInherit();
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	mdwe();
	return 0;
}
