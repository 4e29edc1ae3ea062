/* sig_eintr: blocking system calls interrupted by signals, and timers. wait4 interrupted by
   a handled SIGUSR1 fails with EINTR, or restarts when the handler has SA_RESTART (the child
   sends the signal while its parent waits, then exits). nanosleep interrupted by SIGALRM is
   EINTR with the time left, even with SA_RESTART; pause is EINTR. alarm returns what
   the last one had left; setitimer(ITIMER_REAL) with an interval delivers SIGALRM
   periodically, getitimer reports it; rt_sigtimedwait times out with EAGAIN after its
   timeout; ITIMER_VIRTUAL and ITIMER_PROF interrupt a busy loop with SIGVTALRM and SIGPROF.
   Times are printed rounded, so the host's timing noise does not show. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int usr1, alrm, cpu_timer;
static void on_usr1(int sig) { (void)sig, usr1++; }
static void on_alrm(int sig) { (void)sig, alrm++; }
static void on_cpu_timer(int sig) { cpu_timer = sig; }

static void handle(int sig, void (*h)(int), int flags) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = h;
	sa.sa_flags = flags;
	sigaction(sig, &sa, 0);
}

static void ms(long n) {
	struct timespec ts = {n / 1000, n % 1000 * 1000000};
	nanosleep(&ts, 0);
}

/* A child that signals its parent while the parent sleeps in wait4, then exits. */
static pid_t signalling_child(void) {
	pid_t parent = getpid(), c = fork();
	if (c == 0) {
		ms(100);
		kill(parent, SIGUSR1);
		ms(100);
		_exit(7);
	}
	return c;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long tenths(double s) { return (long)(s * 10 + 0.5); }

/* alarm_in arms ITIMER_REAL once, after ms milliseconds. */
static void alarm_in(long ms) {
	struct itimerval it = {{0, 0}, {ms / 1000, ms % 1000 * 1000}};
	setitimer(ITIMER_REAL, &it, 0);
}

int main(void) {
	int st;
	handle(SIGUSR1, on_usr1, 0);
	pid_t c = signalling_child();
	pid_t w = waitpid(c, &st, 0);
	printf("wait4 without SA_RESTART: %d %s, handler ran %d\n", w, w < 0 && errno == EINTR ? "EINTR" : "?", usr1);
	w = waitpid(c, &st, 0);
	printf("  again: the child %d, exit %d\n", w == c, WEXITSTATUS(st));

	handle(SIGUSR1, on_usr1, SA_RESTART);
	usr1 = 0;
	c = signalling_child();
	w = waitpid(c, &st, 0);
	printf("wait4 with SA_RESTART: the child %d, exit %d, handler ran %d\n", w == c, WEXITSTATUS(st), usr1);

	handle(SIGALRM, on_alrm, 0);
	unsigned first = alarm(5);
	printf("alarm(5) returns %u, then alarm(0) returns %u\n", first, alarm(0));
	alarm_in(200);
	struct timespec req = {5, 0}, rem = {0, 0};
	int r = nanosleep(&req, &rem);
	printf("nanosleep(5 s) with SIGALRM after 0.2 s: %d %s, SIGALRM handled %d, %ld tenths of a second left\n",
	       r, r < 0 && errno == EINTR ? "EINTR" : "?", alrm, tenths(rem.tv_sec + rem.tv_nsec / 1e9));

	handle(SIGALRM, on_alrm, SA_RESTART);
	alarm_in(200);
	r = nanosleep(&req, &rem);
	printf("  with SA_RESTART, still: %d %s, %ld tenths left\n", r, r < 0 && errno == EINTR ? "EINTR" : "?",
	       tenths(rem.tv_sec + rem.tv_nsec / 1e9));

	alarm_in(200);
	r = pause();
	printf("pause: %d %s, SIGALRM handled %d\n", r, r < 0 && errno == EINTR ? "EINTR" : "?", alrm);

	struct itimerval it = {{0, 300000}, {0, 300000}}, got;
	alrm = 0;
	double t0 = now();
	setitimer(ITIMER_REAL, &it, 0);
	while (alrm < 3)
		pause();
	getitimer(ITIMER_REAL, &got);
	printf("ITIMER_REAL every 0.3 s: 3 SIGALRMs after %ld tenths of a second, interval %ld us\n",
	       tenths(now() - t0), (long)got.it_interval.tv_usec);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, &got);
	printf("  disarmed; it had an interval of %ld us\n", (long)got.it_interval.tv_usec);
	it = (struct itimerval){{0, 0}, {2, 500000}};
	setitimer(ITIMER_REAL, &it, 0);
	getitimer(ITIMER_REAL, &got);
	printf("setitimer(2.5 s): getitimer says %ld tenths left\n", tenths(got.it_value.tv_sec + got.it_value.tv_usec / 1e6));
	printf("alarm(0) says %u s were left\n", alarm(0));

	/* The CPU-time timers count only the time the process runs: a busy loop reaches them. */
	handle(SIGVTALRM, on_cpu_timer, 0);
	handle(SIGPROF, on_cpu_timer, 0);
	int which[2] = {ITIMER_VIRTUAL, ITIMER_PROF};
	for (int i = 0; i < 2; i++) {
		cpu_timer = 0;
		it = (struct itimerval){{0, 0}, {0, 10000}};
		setitimer(which[i], &it, 0);
		unsigned long spins = 0;
		while (!cpu_timer)
			spins++;
		printf("%s of 10 ms: signal %d after a busy loop\n", i ? "ITIMER_PROF" : "ITIMER_VIRTUAL", cpu_timer);
	}

	sigset_t usr2;
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, 0);
	struct timespec tmo = {0, 200000000};
	t0 = now();
	r = sigtimedwait(&usr2, 0, &tmo);
	printf("sigtimedwait(0.2 s) with nothing coming: %d %s after %ld tenths\n", r,
	       r < 0 && errno == EAGAIN ? "EAGAIN" : "?", tenths(now() - t0));
	return 0;
}
