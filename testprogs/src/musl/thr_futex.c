/* thr_futex: the system calls under the thread libraries, called directly, with the
   results and errors Linux gives. futex: every operation (WAIT, WAKE, the BITSET pair,
   REQUEUE, CMP_REQUEUE, WAKE_OP, the PI locks, futex_waitv) and its errors (EAGAIN,
   ETIMEDOUT, EINVAL, EFAULT, ENOSYS, EPERM, EDEADLK, ESRCH); robust lists; clone and clone3
   flag checks, tgkill and tkill; process descriptors (pidfd_open, pidfd_send_signal,
   pidfd_getfd, poll on a pidfd, waitid with P_PIDFD). Counts of waiters woken are made
   deterministic by waking or requeueing until every waiter is accounted for. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE 128
#define FUTEX_CLOCK_REALTIME 256
#define OP(op, oparg, cmp, cmparg) (((op) << 28) | ((cmp) << 24) | (((oparg) & 0xfff) << 12) | ((cmparg) & 0xfff))

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct futex_waitv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static long fx(void *u, int op, long val, void *ts, void *u2, long val3) {
	return syscall(SYS_futex, u, op, val, ts, u2, val3);
}

/* r prints a call's result: the value, or the errno's name. */
static const char *r(long v) {
	static char b[8][32];
	static int i;
	char *s = b[i++ % 8];
	if (v != -1) {
		snprintf(s, 32, "%ld", v);
		return s;
	}
	switch (errno) {
#define E(x) \
	case x: \
		return #x;
		E(EAGAIN) E(ETIMEDOUT) E(EINVAL) E(EFAULT) E(ENOSYS) E(EPERM) E(EDEADLK) E(ESRCH) E(EBADF) E(E2BIG)
		E(ECHILD) E(EINTR)
#undef E
	}
	snprintf(s, 32, "errno %d", errno);
	return s;
}

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* Waiters: each announces itself, then waits on its futex (private) until woken. */
static _Atomic int started;
struct waiter {
	_Atomic int *word;
	int bitset;
	long ret;
};
static void *waiter(void *arg) {
	struct waiter *w = arg;
	started++;
	do {
		w->ret = fx(w->word, w->bitset ? FUTEX_WAIT_BITSET | FUTEX_PRIVATE : FUTEX_WAIT | FUTEX_PRIVATE, 0, NULL,
			NULL, w->bitset);
	} while (w->ret == -1 && errno == EINTR);
	return NULL;
}

/* wake_all wakes n waiters of f (bitset b), retrying until all n were found. */
static int wake_all(_Atomic int *f, int n, int b) {
	int woken = 0;
	while (woken < n) {
		long k = b ? fx(f, FUTEX_WAKE_BITSET | FUTEX_PRIVATE, n - woken, NULL, NULL, b)
			   : fx(f, FUTEX_WAKE | FUTEX_PRIVATE, n - woken, NULL, NULL, 0);
		if (k < 0)
			return -1;
		woken += k;
		if (woken < n)
			sched_yield();
	}
	return woken;
}

static _Atomic int f1, f2, pi;

/* A waiter that reports how its futex wait ended (errno, or 0 when woken). */
static _Atomic int intr_done;
static void on_usr1(int s) { (void)s; }
static void *timed_waiter(void *arg) {
	struct timespec ts = {10, 0};
	long r = fx(arg, FUTEX_WAIT | FUTEX_PRIVATE, 0, &ts, NULL, 0);
	long e = r == -1 ? errno : 0;
	intr_done = 1;
	return (void *)e;
}
static void *untimed_waiter(void *arg) {
	long r = fx(arg, FUTEX_WAIT | FUTEX_PRIVATE, 0, NULL, NULL, 0);
	long e = r == -1 ? errno : 0;
	intr_done = 1;
	return (void *)e;
}
static volatile int vfork_mark;

static void *pi_holder(void *arg) {
	(void)arg;
	pi = gettid_(); /* "locked" the PI futex by storing its TID */
	started++;
	while (started < 2)
		sched_yield();
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL);
	return (void *)(intptr_t)fx((void *)&pi, FUTEX_UNLOCK_PI | FUTEX_PRIVATE, 0, NULL, NULL, 0);
}

int main(void) {
	struct timespec ts = {0, 1000000}, bad = {0, 2000000000};
	pthread_t t[4];
	struct waiter w[4];
	setvbuf(stdout, NULL, _IONBF, 0);

	printf("wait, value differs: %s\n", r(fx((void *)&f1, FUTEX_WAIT, 1, NULL, NULL, 0)));
	printf("wait, 1 ms timeout: %s\n", r(fx((void *)&f1, FUTEX_WAIT | FUTEX_PRIVATE, 0, &ts, NULL, 0)));
	printf("wait, bad timespec: %s\n", r(fx((void *)&f1, FUTEX_WAIT, 0, &bad, NULL, 0)));
	printf("wait, misaligned: %s\n", r(fx((char *)&f1 + 1, FUTEX_WAIT, 0, NULL, NULL, 0)));
	printf("wait, NULL: %s\n", r(fx(NULL, FUTEX_WAIT, 0, NULL, NULL, 0)));
	printf("wait with CLOCK_REALTIME: %s\n", r(fx((void *)&f1, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &ts, NULL, 0)));
	struct timespec past = {1, 0};
	printf("wait_bitset, absolute time in the past: %s\n",
		r(fx((void *)&f1, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &past, NULL, -1)));
	printf("wait_bitset, bitset 0: %s\n", r(fx((void *)&f1, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0)));
	printf("wake, nobody waits: %s\n", r(fx((void *)&f1, FUTEX_WAKE, 5, NULL, NULL, 0)));
	printf("unknown operation 99: %s; ", r(fx((void *)&f1, 99, 0, NULL, NULL, 0)));
	printf("FUTEX_FD (2): %s\n", r(fx((void *)&f1, 2, 0, NULL, NULL, 0)));
	printf("requeue, negative count: %s\n", r(fx((void *)&f1, FUTEX_REQUEUE, -1, NULL, (void *)&f2, 0)));
	printf("cmp_requeue, value differs: %s\n", r(fx((void *)&f1, FUTEX_CMP_REQUEUE, 1, (void *)1, (void *)&f2, 7)));

	/* Wake with bitsets: two waiters with bitset 1, two with 2; waking bitset 2 finds two. */
	for (int i = 0; i < 4; i++) {
		w[i] = (struct waiter){&f1, i < 2 ? 1 : 2, 99};
		pthread_create(&t[i], NULL, waiter, &w[i]);
	}
	while (started < 4)
		sched_yield();
	printf("wake_bitset 2: woke %d; ", wake_all(&f1, 2, 2));
	pthread_join(t[2], NULL);
	pthread_join(t[3], NULL);
	printf("wake_bitset 1: woke %d; ", wake_all(&f1, 2, 1));
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("results %ld %ld %ld %ld\n", w[0].ret, w[1].ret, w[2].ret, w[3].ret);

	/* Requeue three waiters from f1 to f2, then wake them there. */
	started = 0;
	for (int i = 0; i < 3; i++) {
		w[i] = (struct waiter){&f1, 0, 99};
		pthread_create(&t[i], NULL, waiter, &w[i]);
	}
	while (started < 3)
		sched_yield();
	int moved = 0;
	while (moved < 3) {
		long k = fx((void *)&f1, FUTEX_CMP_REQUEUE | FUTEX_PRIVATE, 0, (void *)(intptr_t)(3 - moved), (void *)&f2, 0);
		moved += k;
		if (moved < 3)
			sched_yield();
	}
	printf("cmp_requeue: moved %d to f2; ", moved);
	printf("a wake of f1 finds %ld; ", fx((void *)&f1, FUTEX_WAKE | FUTEX_PRIVATE, 3, NULL, NULL, 0));
	printf("a wake of f2 finds %d\n", wake_all(&f2, 3, 0));
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	/* WAKE_OP: the operation on the second word, and its comparison. */
	int ops[][3] = {{0, 5, 0}, {1, 3, 0}, {2, 8, 0}, {3, 1, 0}, {4, 0xf, 0}, {8, 4, 0}};
	const char *names[] = {"SET 5", "ADD 3", "OR 8", "ANDN 1", "XOR 15", "SET 1<<4"};
	_Atomic int word = 2;
	for (int i = 0; i < 6; i++) {
		long v = fx((void *)&f1, FUTEX_WAKE_OP, 1, (void *)1, (void *)&word, OP(ops[i][0], ops[i][1], 0, 0));
		printf("wake_op %s: %s, word now %d\n", names[i], r(v), word);
	}
	printf("wake_op, unknown op 7: %s, ", r(fx((void *)&f1, FUTEX_WAKE_OP, 1, (void *)1, (void *)&word, OP(7, 1, 0, 0))));
	printf("word %d; ", word);
	printf("unknown comparison 9: %s, ", r(fx((void *)&f1, FUTEX_WAKE_OP, 1, (void *)1, (void *)&word, OP(1, 1, 9, 0))));
	printf("word %d\n", word);
	started = 0;
	w[0] = (struct waiter){&f1, 0, 99};
	w[1] = (struct waiter){&f2, 0, 99};
	pthread_create(&t[0], NULL, waiter, &w[0]);
	pthread_create(&t[1], NULL, waiter, &w[1]);
	while (started < 2)
		sched_yield();
	int total = 0;
	while (total < 2) { /* ADD 0 leaves f2 as its waiter expects; its old value passes "== 0" */
		total += fx((void *)&f1, FUTEX_WAKE_OP | FUTEX_PRIVATE, 1, (void *)1, (void *)&f2, OP(1, 0, 0, 0));
		if (total < 2)
			sched_yield();
	}
	pthread_join(t[0], NULL);
	pthread_join(t[1], NULL);
	printf("wake_op with a waiter on each word: woke %d in all\n", total);

	/* PI locks. */
	pi = 0;
	printf("trylock_pi, free: %s, ", r(fx((void *)&pi, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0)));
	printf("word is my tid: %s\n", pi == gettid_() ? "yes" : "no");
	printf("lock_pi, already mine: %s\n", r(fx((void *)&pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0)));
	printf("unlock_pi: %s, ", r(fx((void *)&pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
	printf("word %d\n", pi);
	printf("unlock_pi, not mine: %s\n", r(fx((void *)&pi, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0)));
	pi = 0x3ffffff0;
	printf("lock_pi, the owner tid is no thread: %s\n", r(fx((void *)&pi, FUTEX_LOCK_PI, 0, NULL, NULL, 0)));
	started = 0;
	pi = 0;
	pthread_create(&t[0], NULL, pi_holder, NULL);
	while (started < 1)
		sched_yield();
	started++;
	long lr = fx((void *)&pi, FUTEX_LOCK_PI | FUTEX_PRIVATE, 0, NULL, NULL, 0);
	void *ur;
	pthread_join(t[0], &ur);
	printf("lock_pi of a held lock: %s once the holder's unlock_pi (%ld) handed it over; word is my tid: %s\n", r(lr),
		(long)(intptr_t)ur, (pi & 0x3fffffff) == gettid_() ? "yes" : "no");

	/* futex_waitv. */
	struct futex_waitv wv[2] = {{0, (uintptr_t)&f1, 2 | 128, 0}, {1, (uintptr_t)&f2, 2 | 128, 0}};
	f1 = f2 = 0;
	printf("futex_waitv, a value differs: %s\n", r(syscall(SYS_futex_waitv, wv, 2, 0, NULL, CLOCK_MONOTONIC)));
	wv[1].val = 0;
	struct timespec soon;
	clock_gettime(CLOCK_MONOTONIC, &soon);
	soon.tv_nsec += 2000000;
	if (soon.tv_nsec >= 1000000000)
		soon.tv_sec++, soon.tv_nsec -= 1000000000;
	printf("futex_waitv, timeout: %s; ", r(syscall(SYS_futex_waitv, wv, 2, 0, &soon, CLOCK_MONOTONIC)));
	printf("flags 1: %s; ", r(syscall(SYS_futex_waitv, wv, 2, 1, NULL, CLOCK_MONOTONIC)));
	printf("none: %s; ", r(syscall(SYS_futex_waitv, wv, 0, 0, NULL, CLOCK_MONOTONIC)));
	printf("bad clock: %s\n", r(syscall(SYS_futex_waitv, wv, 2, 0, &soon, CLOCK_PROCESS_CPUTIME_ID)));

	/* Signals: a wait with a timeout ends with EINTR after a handler; one without a
	   timeout is restarted after an SA_RESTART handler, and only a wake ends it. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	f1 = 0;
	intr_done = 0;
	pthread_create(&t[0], NULL, timed_waiter, (void *)&f1);
	while (!intr_done) {
		pthread_kill(t[0], SIGUSR1);
		sched_yield();
	}
	void *er;
	pthread_join(t[0], &er);
	printf("wait with a timeout, a handler ran: %s\n", (long)er == EINTR ? "EINTR" : "something else");
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	intr_done = 0;
	pthread_create(&t[0], NULL, untimed_waiter, (void *)&f1);
	for (int i = 0; i < 20; i++) {
		pthread_kill(t[0], SIGUSR1);
		sched_yield();
	}
	while (!intr_done) {
		fx((void *)&f1, FUTEX_WAKE | FUTEX_PRIVATE, 1, NULL, NULL, 0);
		sched_yield();
	}
	pthread_join(t[0], &er);
	printf("wait without a timeout, SA_RESTART handlers ran: ended by the wake with %ld\n", (long)er);

	/* vfork: the child runs in the parent's address space; the parent waits for it. */
	int vst;
	pid_t vc = vfork();
	if (vc == 0) {
		vfork_mark = 1;
		_exit(7);
	}
	waitpid(vc, &vst, 0);
	printf("vfork: the child's store is in the parent's memory: %s; the child exited %d\n",
		vfork_mark ? "yes" : "no", WEXITSTATUS(vst));

	/* Robust lists. */
	void *head;
	size_t len;
	printf("set_robust_list, bad length: %s; ", r(syscall(SYS_set_robust_list, &head, 8)));
	printf("get_robust_list of no thread: %s; ", r(syscall(SYS_get_robust_list, 0x3ffffff0, &head, &len)));
	printf("of mine: %s, ", r(syscall(SYS_get_robust_list, 0, &head, &len)));
	printf("length %zu\n", len);

	/* clone, clone3, tgkill. */
	printf("clone CLONE_THREAD without CLONE_SIGHAND: %s; ", r(syscall(SYS_clone, CLONE_THREAD | CLONE_VM, NULL, NULL, NULL, 0)));
	printf("CLONE_SIGHAND without CLONE_VM: %s\n", r(syscall(SYS_clone, CLONE_SIGHAND, NULL, NULL, NULL, 0)));
	uint64_t args[12] = {0};
	printf("clone3, size 8: %s; ", r(syscall(SYS_clone3, args, 8)));
	args[4] = 65;
	printf("exit signal 65: %s; ", r(syscall(SYS_clone3, args, 88)));
	args[4] = 0;
	args[0] = SIGCHLD;
	printf("a signal in the flags: %s\n", r(syscall(SYS_clone3, args, 88)));
	args[0] = 0;
	args[4] = SIGCHLD;
	long c3 = syscall(SYS_clone3, args, 88);
	if (c3 == 0)
		_exit(6);
	int st;
	waitpid((pid_t)c3, &st, 0);
	printf("clone3 as fork: the child exited %d\n", WEXITSTATUS(st));
	printf("tgkill of a tid not in my group: %s; ", r(syscall(SYS_tgkill, getpid(), 0x3ffffff0, SIGUSR1)));
	printf("tkill(0): %s; ", r(syscall(SYS_tkill, 0, SIGUSR1)));
	printf("tgkill signal 0 to myself: %s\n", r(syscall(SYS_tgkill, getpid(), gettid_(), 0)));

	/* Process descriptors. */
	int p[2];
	pipe(p);
	pid_t c = fork();
	if (c == 0) {
		dup2(p[1], 10);
		close(p[0]);
		close(p[1]);
		write(10, "r", 1);
		for (;;)
			pause();
	}
	close(p[1]);
	int pfd = (int)syscall(SYS_pidfd_open, c, 0);
	printf("pidfd_open, no such pid: %s; ", r(syscall(SYS_pidfd_open, 0x3ffffff0, 0)));
	printf("bad flags: %s\n", r(syscall(SYS_pidfd_open, c, 1)));
	struct pollfd pf = {pfd, POLLIN, 0};
	printf("poll on the pidfd of a live child: %d\n", poll(&pf, 1, 0));
	char ready;
	read(p[0], &ready, 1); /* the child has its fd 10 */
	int got = (int)syscall(SYS_pidfd_getfd, pfd, 10, 0);
	write(got, "hi", 2);
	close(got);
	char buf[4] = {0};
	read(p[0], buf, 2);
	printf("pidfd_getfd: wrote through the child's fd 10, read back \"%s\"; ", buf);
	printf("bad fd: %s; ", r(syscall(SYS_pidfd_getfd, pfd, 99, 0)));
	printf("flags: %s\n", r(syscall(SYS_pidfd_getfd, pfd, 10, 1)));
	printf("pidfd_send_signal on a pipe: %s; ", r(syscall(SYS_pidfd_send_signal, p[0], SIGTERM, NULL, 0)));
	printf("flags 8: %s; ", r(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 8)));
	printf("SIGTERM: %s\n", r(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)));
	siginfo_t si;
	memset(&si, 0, sizeof si);
	long wr = syscall(SYS_waitid, P_PIDFD, pfd, &si, WEXITED, NULL);
	printf("waitid(P_PIDFD): %s, si_code %s, si_status %d, si_pid is the child: %s\n", r(wr),
		si.si_code == CLD_KILLED ? "CLD_KILLED" : "other", si.si_status, si.si_pid == c ? "yes" : "no");
	int pr = poll(&pf, 1, 0);
	printf("poll on the pidfd of a reaped child: %d (revents %#x); ", pr, pf.revents);
	printf("pidfd_send_signal now: %s\n", r(syscall(SYS_pidfd_send_signal, pfd, SIGTERM, NULL, 0)));
	printf("waitid(P_PIDFD) again: %s; ", r(syscall(SYS_waitid, P_PIDFD, pfd, &si, WEXITED, NULL)));
	printf("waitid without WEXITED: %s\n", r(syscall(SYS_waitid, P_ALL, 0, &si, 0, NULL)));
	return 0;
}
