/* thr_signal: signals and threads. A thread that faults runs its own SIGSEGV handler on its
   own alternate stack and jumps out of it; a signal sent to the process goes to a thread
   that does not block it; pthread_kill reaches the thread it names; each thread's mask is
   its own; sigwait in one thread takes a signal every thread blocks. Then the ends of
   threads and processes, in children: exit (one thread) against exit_group (all of them)
   and the process's status (the first thread's exit code when each thread exits on its
   own); execve from a thread that is not the first ends the others, and the new program
   runs as the same process; a child created by another thread is the process's child,
   reaped by the main thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* --- faults in threads --- */
static volatile int *volatile bad_ptr = (int *)16; /* a volatile pointer: gcc cannot see it is bad */
static __thread sigjmp_buf jb;
static __thread char *alt_base;
static __thread volatile int on_alt;
static void segv(int s, siginfo_t *si, void *ctx) {
	(void)s;
	(void)ctx;
	char here;
	on_alt = alt_base && &here >= alt_base && &here < alt_base + 65536;
	siglongjmp(jb, si->si_addr == (void *)16 ? 1 : 2);
}
static void *faulter(void *arg) {
	stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536};
	alt_base = ss.ss_sp;
	sigaltstack(&ss, NULL);
	int r = sigsetjmp(jb, 1);
	if (r == 0)
		*bad_ptr = (int)(intptr_t)arg; /* SIGSEGV at address 16 */
	stack_t cur;
	sigaltstack(NULL, &cur);
	char buf[128];
	snprintf(buf, sizeof buf, "fault: thread %d caught its SIGSEGV (si_addr 16: %s), on its own alternate stack: %s",
		(int)(intptr_t)arg, r == 1 ? "yes" : "no", on_alt ? "yes" : "no");
	return strdup(buf);
}

/* --- delivery --- */
static volatile pid_t usr1_tid, usr2_tid;
static volatile int usr2_count;
static void on_usr1(int s) {
	(void)s;
	usr1_tid = gettid_();
}
static void on_usr2(int s) {
	(void)s;
	usr2_tid = gettid_();
	usr2_count++;
}
static volatile pid_t worker_tid;
static volatile int worker_go;
static void *receiver(void *arg) {
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* only this thread takes SIGUSR1 */
	worker_tid = gettid_();
	while (!usr1_tid)
		sched_yield();
	while (!worker_go)
		sched_yield();
	return NULL;
}
static void *sigwaiter(void *arg) {
	sigset_t s;
	int sig = 0;
	(void)arg;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigwait(&s, &sig);
	return (void *)(intptr_t)sig;
}

/* --- ends --- */
static void *spin(void *arg) {
	(void)arg;
	for (;;)
		sched_yield();
	return NULL;
}
/* The first thread's exit clears this and wakes its futex (set_tid_address), so the other
   thread exits after it whatever the host's scheduler does. */
static volatile int first_alive;
#define FUTEX_WAIT_ 0 /* FUTEX_WAIT (linux/futex.h, which musl-gcc does not see) */
static void *exit_later(void *arg) {
	while (first_alive)
		syscall(SYS_futex, &first_alive, FUTEX_WAIT_, 1, NULL, NULL, 0);
	syscall(SYS_exit, (int)(intptr_t)arg); /* this thread only */
	return NULL;
}
static void *group_exit(void *arg) {
	for (int i = 0; i < 50; i++)
		sched_yield();
	exit((int)(intptr_t)arg); /* exit_group: every thread */
	return NULL;
}
static char *self_name, pidbuf[16];
static void *execer(void *arg) {
	(void)arg;
	char *argv[] = {self_name, "after-exec", pidbuf, NULL};
	execv("/proc/self/exe", argv);
	_exit(126); /* the exec failed */
	return NULL;
}
static void *forker(void *arg) {
	(void)arg;
	pid_t c = fork();
	if (c == 0)
		_exit(42);
	return (void *)(intptr_t)c;
}

static const char *status(int st) {
	static char b[64];
	if (WIFEXITED(st))
		snprintf(b, sizeof b, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, sizeof b, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(b, sizeof b, "status %#x", st);
	return b;
}

int main(int argc, char **argv) {
	pthread_t t[4];
	void *ret;
	int st;

	if (argc == 3 && strcmp(argv[1], "after-exec") == 0) {
		printf("exec from a thread: the new program runs as the same pid: %s, with one thread: %s\n",
			atoi(argv[2]) == getpid() ? "yes" : "no", gettid_() == getpid() ? "yes" : "no");
		fflush(stdout);
		return 5;
	}
	self_name = argv[0];
	setvbuf(stdout, NULL, _IONBF, 0);

	struct sigaction sa = {.sa_sigaction = segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
	sigaction(SIGSEGV, &sa, NULL);
	for (intptr_t i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, faulter, (void *)(i + 1));
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], &ret);
		printf("%s\n", (char *)ret);
		free(ret);
	}

	signal(SIGUSR1, on_usr1);
	signal(SIGUSR2, on_usr2);
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s, NULL); /* the threads created from now inherit this mask */
	pthread_create(&t[0], NULL, receiver, NULL);
	while (!worker_tid)
		sched_yield();
	kill(getpid(), SIGUSR1); /* to the process: only the receiver does not block it */
	while (!usr1_tid)
		sched_yield();
	printf("kill(getpid(), SIGUSR1): handled by the thread that unblocked it: %s\n",
		usr1_tid == worker_tid ? "yes" : "no");
	pthread_kill(t[0], SIGUSR2);
	while (!usr2_count)
		sched_yield();
	printf("pthread_kill(SIGUSR2): handled by the thread named: %s\n", usr2_tid == worker_tid ? "yes" : "no");
	raise(SIGUSR2);
	printf("raise(SIGUSR2): handled by the caller: %s\n", usr2_tid == gettid_() ? "yes" : "no");
	sigset_t mine;
	pthread_sigmask(SIG_BLOCK, NULL, &mine);
	printf("main's mask still blocks SIGUSR1: %s\n", sigismember(&mine, SIGUSR1) ? "yes" : "no");
	worker_go = 1;
	pthread_join(t[0], NULL);
	pthread_create(&t[0], NULL, sigwaiter, NULL);
	kill(getpid(), SIGTERM); /* blocked everywhere: pending for the process until sigwait takes it */
	pthread_join(t[0], &ret);
	printf("sigwait in a thread took signal %d\n", (int)(intptr_t)ret);

	pid_t c = fork();
	if (c == 0) { /* each thread exits on its own, the first one first */
		first_alive = 1;
		syscall(SYS_set_tid_address, &first_alive);
		pthread_create(&t[0], NULL, exit_later, (void *)9);
		syscall(SYS_exit, 7);
	}
	waitpid(c, &st, 0);
	printf("first thread exit(7), the other exit(9) later: the process %s\n", status(st));

	c = fork();
	if (c == 0) {
		pthread_create(&t[0], NULL, spin, NULL);
		pthread_create(&t[1], NULL, group_exit, (void *)3);
		for (;;)
			sched_yield();
	}
	waitpid(c, &st, 0);
	printf("a thread's exit(3) (exit_group) ends the spinning others: the process %s\n", status(st));

	c = fork();
	if (c == 0) {
		snprintf(pidbuf, sizeof pidbuf, "%d", getpid());
		pthread_create(&t[0], NULL, spin, NULL);
		pthread_create(&t[1], NULL, execer, NULL);
		for (;;)
			sched_yield();
	}
	waitpid(c, &st, 0);
	printf("exec from a thread: the process %s\n", status(st));

	pthread_create(&t[0], NULL, forker, NULL);
	pthread_join(t[0], &ret);
	pid_t got = waitpid(-1, &st, 0);
	printf("a child forked by a thread is reaped by main: %s, %s\n", got == (pid_t)(intptr_t)ret ? "yes" : "no",
		status(st));
	return 0;
}
