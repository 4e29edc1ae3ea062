/* rp_timers: POSIX timers and resource usage. timer_create with SIGEV_SIGNAL (a handler
   gets si_code SI_TIMER, the timer's id and its sigval), SIGEV_THREAD_ID (to the calling
   thread), SIGEV_NONE and the default (SIGALRM); timer_settime relative, absolute and
   periodic, timer_gettime, timer_getoverrun after expiries the process did not take,
   timer_delete; a CPU-time timer firing after a busy loop; the argument checks; and
   getrusage (user time, page faults minor and major, peak resident set) of the process and
   of its reaped children. Counts that vary between runs are printed as relations. */
#include "rp.h"
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif

/* The kernel's struct sigevent (the C libraries' differ in how they name the thread id). */
struct ksigevent {
	union sigval value;
	int signo, notify, tid;
	int pad[11];
};

static volatile int fired, code, tid;
static volatile uintptr_t val;

static void onsig(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	fired++;
	code = si->si_code;
	tid = si->si_timerid;
	val = (uintptr_t)si->si_value.sival_ptr;
}

static long tcreate(clockid_t c, struct ksigevent *ev, timer_t *t) {
	int id = -1;
	long r = syscall(SYS_timer_create, c, ev, &id);
	*t = (timer_t)(intptr_t)id;
	return r;
}

static void spin(long n) {
	volatile long x = 0;
	for (long i = 0; i < n; i++)
		x += i;
}

int main(void) {
	struct sigaction sa = {.sa_sigaction = onsig, .sa_flags = SA_SIGINFO | SA_RESTART};
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGRTMIN, &sa, NULL);

	struct ksigevent ev = {.notify = SIGEV_SIGNAL, .signo = SIGUSR1, .value.sival_ptr = (void *)0x1234};
	timer_t t1;
	say("timer_create(MONOTONIC, SIGUSR1)", tcreate(CLOCK_MONOTONIC, &ev, &t1));
	printf("  first id %ld\n", (long)(intptr_t)t1);
	struct itimerspec its = {.it_value = {0, 10000000}};
	say("timer_settime 10 ms", syscall(SYS_timer_settime, t1, 0, &its, NULL));
	struct itimerspec cur;
	syscall(SYS_timer_gettime, t1, &cur);
	printf("  gettime: armed %d, <= 10 ms %d\n", cur.it_value.tv_nsec > 0, cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 10000000);
	struct timespec ts = {0, 50000000};
	while (nanosleep(&ts, &ts) < 0)
		;
	printf("fired %d, SI_TIMER %d, id %d, value %#lx\n", fired, code == SI_TIMER, tid, (unsigned long)val);
	syscall(SYS_timer_gettime, t1, &cur);
	printf("  gettime after: disarmed %d\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

	/* Overruns: a periodic 1 ms timer whose signal is blocked for 20 ms. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	fired = 0;
	its.it_value.tv_nsec = 1000000;
	its.it_interval.tv_nsec = 1000000;
	say("periodic 1 ms, signal blocked", syscall(SYS_timer_settime, t1, 0, &its, NULL));
	ts.tv_nsec = 20000000;
	while (nanosleep(&ts, &ts) < 0)
		;
	siginfo_t si;
	struct timespec zero = {0, 0};
	say("sigtimedwait takes the timer's signal", sigtimedwait(&set, &si, &zero));
	printf("  si_overrun >= 10: %d, timer_getoverrun agrees: %d\n", si.si_overrun >= 10,
		syscall(SYS_timer_getoverrun, t1) == si.si_overrun);
	sigprocmask(SIG_BLOCK, &set, NULL);
	ts.tv_nsec = 10000000;
	while (nanosleep(&ts, &ts) < 0)
		;
	struct itimerspec off = {0};
	say("disarm", syscall(SYS_timer_settime, t1, 0, &off, &cur));
	printf("  old interval %ld ns\n", cur.it_interval.tv_nsec);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	long over = syscall(SYS_timer_getoverrun, t1);
	printf("after unblocking: fired %d (a timer set again drops its pending signal), overrun %ld\n", fired, over);

	/* Absolute CLOCK_REALTIME, SIGEV_THREAD_ID to this thread with a real-time signal. */
	timer_t t2;
	struct ksigevent ev2 = {.notify = SIGEV_THREAD_ID, .signo = SIGRTMIN, .value.sival_int = 7};
	ev2.tid = syscall(SYS_gettid);
	say("timer_create(REALTIME, SIGEV_THREAD_ID)", tcreate(CLOCK_REALTIME, &ev2, &t2));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct itimerspec abs = {.it_value = now};
	abs.it_value.tv_nsec += 5000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_sec++;
		abs.it_value.tv_nsec -= 1000000000;
	}
	fired = 0;
	/* Block the signal while arming, then wait with sigsuspend: no expiry is missed. */
	sigset_t rt, old;
	sigemptyset(&rt);
	sigaddset(&rt, SIGRTMIN);
	sigaddset(&rt, SIGALRM);
	sigprocmask(SIG_BLOCK, &rt, &old);
	say("settime TIMER_ABSTIME +5 ms", syscall(SYS_timer_settime, t2, TIMER_ABSTIME, &abs, NULL));
	while (!fired)
		sigsuspend(&old);
	printf("fired %d, SI_TIMER %d, value %lu\n", fired, code == SI_TIMER, (unsigned long)val);

	/* SIGEV_NONE, and the default sigevent (SIGALRM, value = id). */
	timer_t t3, t4;
	struct ksigevent none = {.notify = SIGEV_NONE};
	say("timer_create(SIGEV_NONE)", tcreate(CLOCK_MONOTONIC, &none, &t3));
	its.it_value.tv_nsec = 1000000;
	its.it_interval.tv_nsec = 0;
	syscall(SYS_timer_settime, t3, 0, &its, NULL);
	say("timer_create(NULL sevp)", tcreate(CLOCK_MONOTONIC, NULL, &t4));
	fired = 0;
	syscall(SYS_timer_settime, t4, 0, &its, NULL);
	while (!fired)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("default: fired %d, SIGALRM's value is the id %d\n", fired, (long)val == (long)(intptr_t)t4);

	/* A CPU-time timer. */
	timer_t t5;
	struct ksigevent cpu = {.notify = SIGEV_SIGNAL, .signo = SIGUSR1};
	say("timer_create(PROCESS_CPUTIME_ID)", tcreate(CLOCK_PROCESS_CPUTIME_ID, &cpu, &t5));
	its.it_value.tv_nsec = 2000000;
	fired = 0;
	syscall(SYS_timer_settime, t5, 0, &its, NULL);
	for (int i = 0; i < 5000 && !fired; i++)
		spin(100000);
	printf("CPU-time timer fired after a busy loop: %d\n", fired);

	/* Checks. */
	timer_t bad;
	say("timer_create(bad clock)", tcreate(99, NULL, &bad));
	struct ksigevent bs = {.notify = SIGEV_SIGNAL, .signo = 99};
	say("timer_create(bad signal)", tcreate(CLOCK_MONOTONIC, &bs, &bad));
	struct ksigevent bt = {.notify = SIGEV_THREAD_ID, .signo = SIGUSR1, .tid = 999999};
	say("timer_create(bad thread)", tcreate(CLOCK_MONOTONIC, &bt, &bad));
	say("timer_settime(bad id)", syscall(SYS_timer_settime, 999, 0, &its, NULL));
	its.it_value.tv_nsec = 2000000000;
	say("timer_settime(bad timespec)", syscall(SYS_timer_settime, t1, 0, &its, NULL));
	say("timer_delete", syscall(SYS_timer_delete, t1));
	say("timer_delete again", syscall(SYS_timer_delete, t1));
	say("timer_getoverrun(deleted)", syscall(SYS_timer_getoverrun, t1));

	/* getrusage. */
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	char *big = mmap(NULL, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < (4 << 20); i += 4096)
		big[i] = 1;
	spin(3000000);
	getrusage(RUSAGE_SELF, &ru1);
	printf("getrusage: minflt grew by >= 1024 %d, maxrss >= 4 MiB %d\n",
		ru1.ru_minflt - ru0.ru_minflt >= 1024, ru1.ru_maxrss >= 4096);
	munmap(big, 4 << 20);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *c = mmap(NULL, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		for (int i = 0; i < (8 << 20); i += 4096)
			c[i] = 1;
		_exit(0);
	}
	struct rusage cru;
	int st;
	wait4(pid, &st, 0, &cru);
	printf("wait4's rusage: minflt >= 2048 %d, maxrss >= 8 MiB %d\n", cru.ru_minflt >= 2048, cru.ru_maxrss >= 8192);
	getrusage(RUSAGE_CHILDREN, &cru);
	printf("RUSAGE_CHILDREN: minflt >= 2048 %d, maxrss >= 8 MiB %d\n", cru.ru_minflt >= 2048, cru.ru_maxrss >= 8192);
	getrusage(RUSAGE_THREAD, &ru1);
	printf("RUSAGE_THREAD: minflt > 0 %d\n", ru1.ru_minflt > 0);
	say("getrusage(bad who)", getrusage(7, &ru1));
	return 0;
}
