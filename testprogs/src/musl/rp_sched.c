/* rp_sched: the scheduling attributes a program sets and reads back. usage: rp_sched DIR.
   getpriority/setpriority (clamped, inherited by fork, EINVAL, ESRCH; as an unprivileged
   user lowering the nice value is EACCES), sched_setscheduler/getscheduler/setparam/
   getparam (FIFO, RR, BATCH, IDLE, RESET_ON_FORK dropped by the child, the priority ranges,
   EINVAL for a bad policy or priority, EPERM for real time without privilege),
   /proc/self/stat's priority, nice, rt_priority and policy, ioprio_get/set, personality. */
#include "rp.h"
#include <sched.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef SCHED_RESET_ON_FORK
#define SCHED_RESET_ON_FORK 0x40000000
#endif
#ifndef SCHED_BATCH
#define SCHED_BATCH 3
#define SCHED_IDLE 5
#endif

static void statline(const char *what) {
	FILE *f = fopen("/proc/self/stat", "r");
	char buf[1024] = "";
	if (f) {
		if (!fgets(buf, sizeof buf, f))
			buf[0] = 0;
		fclose(f);
	}
	char *p = strrchr(buf, ')');
	int field = 2;
	long prio = 0, nice = 0, rtp = 0, pol = 0;
	for (; p && *p; p++) {
		if (*p != ' ')
			continue;
		field++;
		if (field == 18)
			prio = atol(p + 1);
		if (field == 19)
			nice = atol(p + 1);
		if (field == 40)
			rtp = atol(p + 1);
		if (field == 41)
			pol = atol(p + 1);
	}
	printf("%-44s priority %ld nice %ld rt_priority %ld policy %ld\n", what, prio, nice, rtp, pol);
}

/* sched_getscheduler is called directly: musl's wrapper is a stub that says ENOSYS. */
static long getprio(void) {
	errno = 0;
	long r = getpriority(PRIO_PROCESS, 0);
	return errno ? -100 : r;
}

static long setsched(int policy, int prio) {
	struct sched_param sp = {.sched_priority = prio};
	return syscall(SYS_sched_setscheduler, 0, policy, &sp);
}

static long getparam(void) {
	struct sched_param sp = {.sched_priority = -1};
	long r = syscall(SYS_sched_getparam, 0, &sp);
	return r < 0 ? r : sp.sched_priority;
}

int main(int argc, char **argv) {
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		printf("usage: rp_sched DIR\n");
		return 2;
	}
	printf("%-44s %ld\n", "getpriority", getprio());
	say("setpriority(7)", setpriority(PRIO_PROCESS, 0, 7));
	printf("%-44s %ld\n", "getpriority", getprio());
	say("setpriority(40): clamped to 19", setpriority(PRIO_PROCESS, 0, 40));
	printf("%-44s %ld\n", "getpriority", getprio());
	say("raw getpriority (20 - nice)", syscall(SYS_getpriority, PRIO_PROCESS, 0));
	say("setpriority(which 9)", setpriority(9, 0, 1));
	say("setpriority(no such process)", setpriority(PRIO_PROCESS, 999999, 1));
	statline("stat");
	say("setpriority(0)", setpriority(PRIO_PROCESS, 0, 0));

	say("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
	say("sched_get_priority_max(FIFO)", sched_get_priority_max(SCHED_FIFO));
	say("sched_get_priority_min(RR)", sched_get_priority_min(SCHED_RR));
	say("sched_get_priority_max(OTHER)", sched_get_priority_max(SCHED_OTHER));
	say("sched_get_priority_max(42)", sched_get_priority_max(42));
	say("setscheduler(OTHER, 5)", setsched(SCHED_OTHER, 5));
	say("setscheduler(FIFO, 0)", setsched(SCHED_FIFO, 0));
	say("setscheduler(FIFO, 100)", setsched(SCHED_FIFO, 100));
	say("setscheduler(policy 42)", setsched(42, 0));
	say("setscheduler(DEADLINE)", setsched(6, 0));
	say("setscheduler(bad pointer)", syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, (void *)8));
	say("setscheduler(pid -1)", syscall(SYS_sched_getscheduler, -1));
	int root = geteuid() == 0;
	printf("%-44s %d\n", "running as root", root);
	if (root) {
		say("setscheduler(FIFO, 10)", setsched(SCHED_FIFO, 10));
		say("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
		say("sched_getparam", getparam());
		statline("stat");
		struct sched_param sp = {.sched_priority = 20};
		say("sched_setparam(20)", syscall(SYS_sched_setparam, 0, &sp));
		say("sched_getparam", getparam());
		say("setscheduler(RR|RESET_ON_FORK, 3)", setsched(SCHED_RR | SCHED_RESET_ON_FORK, 3));
		say("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
		struct timespec ts = {-1, -1};
		say("sched_rr_get_interval", sched_rr_get_interval(0, &ts));
		printf("%-44s %ld.%09ld\n", "  interval", (long)ts.tv_sec, ts.tv_nsec);
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			say("child: sched_getscheduler (reset)", syscall(SYS_sched_getscheduler, 0));
			say("child: sched_getparam", getparam());
			_exit(0);
		}
		waitpid(c, NULL, 0);
		say("setscheduler(BATCH, 0)", setsched(SCHED_BATCH, 0));
		say("sched_getscheduler", syscall(SYS_sched_getscheduler, 0));
		say("setscheduler(OTHER, 0)", setsched(SCHED_OTHER, 0));
	}
	say("setpriority(3)", setpriority(PRIO_PROCESS, 0, 3));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		printf("%-44s %ld\n", "child: getpriority (inherited)", getprio());
		if (root) {
			struct rlimit rl = {0, 0};
			setrlimit(RLIMIT_NICE, &rl);
			setrlimit(RLIMIT_RTPRIO, &rl);
			if (setresuid(65534, 65534, 65534) != 0)
				printf("setresuid failed\n");
		}
		say("child: setpriority(1) (lower)", setpriority(PRIO_PROCESS, 0, 1));
		say("child: setpriority(5) (higher)", setpriority(PRIO_PROCESS, 0, 5));
		say("child: setscheduler(FIFO, 1)", setsched(SCHED_FIFO, 1));
		say("child: setpriority(the parent)", setpriority(PRIO_PROCESS, getppid(), 10));
		_exit(0);
	}
	waitpid(c, NULL, 0);
	printf("%-44s %ld\n", "getpriority", getprio());

	say("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
	say("ioprio_set(best-effort 4)", syscall(SYS_ioprio_set, 1, 0, 2 << 13 | 4));
	say("ioprio_get", syscall(SYS_ioprio_get, 1, 0));
	say("ioprio_set(class 7)", syscall(SYS_ioprio_set, 1, 0, 7 << 13));
	say("ioprio_set(best-effort 9)", syscall(SYS_ioprio_set, 1, 0, 2 << 13 | 9));
	say("ioprio_get(which 9)", syscall(SYS_ioprio_get, 9, 0));

	long old = syscall(SYS_personality, 0xffffffffUL);
	printf("%-44s %#lx\n", "personality", old);
	say("personality(ADDR_NO_RANDOMIZE)", syscall(SYS_personality, 0x0040000));
	printf("%-44s %#lx\n", "personality", syscall(SYS_personality, 0xffffffffUL));
	syscall(SYS_personality, old);
	return 0;
}
