/* rp_events: event loops. epoll (level-triggered, edge-triggered and one-shot items, the
   order events come in, EPOLL_CTL_MOD and DEL, an item going with its file's last close,
   nested epoll, the errors of epoll_ctl and epoll_wait) over pipes, eventfd, timerfd and
   signalfd; eventfd (counter and semaphore modes, overflow waits); timerfd (one-shot and
   periodic, relative and absolute, gettime, ticks); signalfd (blocked signals read as
   records, its mask changed); and a child process feeding the loop through a pipe. Timing
   lines only say what cannot vary between runs (at least so many ticks). */
#include "rp.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

static int ep;

/* wait prints what one epoll_wait returns: each event's data and the event bits. */
static void ewait(const char *what, int max, int timeout) {
	struct epoll_event ev[16];
	int n = epoll_wait(ep, ev, max, timeout);
	printf("%-36s", what);
	if (n < 0)
		printf(" -1 %s", errname(errno));
	for (int i = 0; i < n; i++) {
		printf(" [%llu:", (unsigned long long)ev[i].data.u64);
		if (ev[i].events & EPOLLIN)
			printf("IN");
		if (ev[i].events & EPOLLOUT)
			printf("OUT");
		if (ev[i].events & EPOLLHUP)
			printf("HUP");
		if (ev[i].events & EPOLLERR)
			printf("ERR");
		printf("]");
	}
	printf("\n");
	fflush(stdout);
}

static int add(int fd, uint32_t events, uint64_t data) {
	struct epoll_event e = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

static int mod(int fd, uint32_t events, uint64_t data) {
	struct epoll_event e = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

static void drain(int fd) {
	char buf[256];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

int main(void) {
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(EPOLL_CLOEXEC);
	must("epoll_create1", ep);
	int e0 = epoll_create(0); /* musl makes one anyway; glibc passes 0 on: EINVAL */
	say("epoll_create(0)", e0 < 0 ? -1 : 0);
	say("epoll_create1(bad flags)", epoll_create1(1));
	int a[2], b[2], c[2];
	must("pipe", pipe2(a, O_NONBLOCK));
	must("pipe", pipe2(b, O_NONBLOCK));
	must("pipe", pipe2(c, O_NONBLOCK));
	say("add a (LT)", add(a[0], EPOLLIN, 1));
	say("add b (ET)", add(b[0], EPOLLIN | EPOLLET, 2));
	say("add c (ONESHOT)", add(c[0], EPOLLIN | EPOLLONESHOT, 3));
	say("add a again", add(a[0], EPOLLIN, 1));
	ewait("nothing ready (timeout 0)", 16, 0);
	must("write", write(b[1], "b", 1));
	must("write", write(c[1], "c", 1));
	must("write", write(a[1], "a", 1));
	ewait("three ready, in order of arrival", 16, 0);
	ewait("again: LT stays, ET and ONESHOT not", 16, 0);
	must("write", write(b[1], "b", 1));
	must("write", write(c[1], "c", 1));
	ewait("b written again (ET: new edge)", 16, 0);
	say("mod c (re-arm ONESHOT)", mod(c[0], EPOLLIN | EPOLLONESHOT, 3));
	ewait("c re-armed", 16, 0);
	ewait("maxevents 1", 1, 0);
	drain(a[0]);
	drain(b[0]);
	drain(c[0]);
	ewait("all drained", 16, 0);
	say("add write end of a (OUT)", add(a[1], EPOLLOUT, 11));
	ewait("a's write end has room", 16, 0);
	say("del a[1]", epoll_ctl(ep, EPOLL_CTL_DEL, a[1], NULL));
	say("del a[1] again", epoll_ctl(ep, EPOLL_CTL_DEL, a[1], NULL));
	say("mod a[1] (not there)", mod(a[1], EPOLLIN, 0));
	close(c[1]);
	say("mod c (IN)", mod(c[0], EPOLLIN, 3));
	ewait("c's writer gone: HUP", 16, 0);
	say("del c", epoll_ctl(ep, EPOLL_CTL_DEL, c[0], NULL));
	/* An item goes when its file's last descriptor closes, not before. */
	int dupb = dup(b[0]);
	close(b[0]);
	must("write", write(b[1], "b", 1));
	ewait("b[0] closed, its dup still open", 16, 0);
	close(dupb);
	say("write b (no reader left)", write(b[1], "b", 1));
	ewait("b's file gone: no event", 16, 0);

	/* Errors. */
	int file = open("/proc/self/exe", O_RDONLY);
	say("add a regular file", add(file, EPOLLIN, 0));
	say("add the epoll itself", add(ep, EPOLLIN, 0));
	say("add to a non-epoll fd", epoll_ctl(a[0], EPOLL_CTL_ADD, a[1], &(struct epoll_event){0}));
	say("bad op", epoll_ctl(ep, 99, a[1], &(struct epoll_event){0}));
	say("bad fd", add(999, EPOLLIN, 0));
	say("bad event pointer", epoll_ctl(ep, EPOLL_CTL_ADD, a[1], (void *)8));
	say("EXCLUSIVE with MOD", mod(a[0], EPOLLIN | EPOLLEXCLUSIVE, 0));
	struct epoll_event evs[2];
	say("epoll_wait(maxevents 0)", epoll_wait(ep, evs, 0, 0));
	say("epoll_wait(bad buffer)", syscall(SYS_epoll_wait, ep, (void *)8, 2, 0));
	say("epoll_wait(not epoll)", epoll_wait(a[0], evs, 2, 0));

	/* Nested: an epoll inside an epoll. */
	int inner = epoll_create1(0);
	struct epoll_event ie = {.events = EPOLLIN, .data.u64 = 77};
	must("inner add", epoll_ctl(inner, EPOLL_CTL_ADD, a[0], &ie));
	say("add inner epoll", add(inner, EPOLLIN, 5));
	say("add outer to inner (loop)", epoll_ctl(inner, EPOLL_CTL_ADD, ep, &ie));
	drain(a[0]);
	ewait("nothing in the inner one", 16, 0);
	must("write", write(a[1], "x", 1));
	ewait("a readable: a and the inner epoll", 16, 0);
	drain(a[0]);
	say("del a", epoll_ctl(ep, EPOLL_CTL_DEL, a[0], NULL));
	say("del inner", epoll_ctl(ep, EPOLL_CTL_DEL, inner, NULL));

	/* eventfd. */
	int e = eventfd(3, EFD_NONBLOCK);
	uint64_t v = 0;
	say("eventfd read", read(e, &v, 8));
	printf("  value %llu\n", (unsigned long long)v);
	say("eventfd read empty", read(e, &v, 8));
	say("eventfd read 4 bytes", read(e, &v, 4));
	v = 5;
	say("eventfd write 5", write(e, &v, 8));
	v = UINT64_MAX;
	say("eventfd write 2^64-1", write(e, &v, 8));
	v = UINT64_MAX - 1;
	say("eventfd write past the max", write(e, &v, 8));
	say("add eventfd (IN|OUT)", add(e, EPOLLIN | EPOLLOUT, 6));
	ewait("eventfd", 16, 0);
	say("del eventfd", epoll_ctl(ep, EPOLL_CTL_DEL, e, NULL));
	int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
	say("semaphore read", read(s, &v, 8));
	printf("  value %llu\n", (unsigned long long)v);
	say("semaphore read", read(s, &v, 8));
	say("semaphore read (empty)", read(s, &v, 8));
	say("eventfd2(bad flags)", eventfd(0, 0x10));

	/* timerfd. */
	int t = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	must("timerfd_create", t);
	say("timerfd_create(bad clock)", timerfd_create(99, 0));
	say("timerfd_create(bad flags)", timerfd_create(CLOCK_MONOTONIC, 1));
	say("read unarmed", read(t, &v, 8));
	struct itimerspec its = {.it_value = {0, 20000000}, .it_interval = {0, 10000000}};
	say("settime 20 ms, then every 10 ms", timerfd_settime(t, 0, &its, NULL));
	struct itimerspec cur;
	must("gettime", timerfd_gettime(t, &cur));
	printf("  armed: value <= 20 ms %d, interval %ld ns\n", cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec <= 20000000, cur.it_interval.tv_nsec);
	say("add timer", add(t, EPOLLIN, 7));
	ewait("timer (wait up to 1 s)", 16, 1000);
	struct timespec ts = {0, 45000000};
	nanosleep(&ts, NULL);
	say("read ticks", read(t, &v, 8));
	printf("  ticks >= 3: %d\n", v >= 3);
	struct itimerspec off = {0};
	say("disarm", timerfd_settime(t, 0, &off, &cur));
	printf("  old interval %ld ns\n", cur.it_interval.tv_nsec);
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int rt = timerfd_create(CLOCK_REALTIME, 0);
	struct itimerspec abs = {.it_value = {now.tv_sec, now.tv_nsec}};
	abs.it_value.tv_nsec += 5000000;
	if (abs.it_value.tv_nsec >= 1000000000) {
		abs.it_value.tv_sec++;
		abs.it_value.tv_nsec -= 1000000000;
	}
	say("absolute realtime timer, 5 ms ahead", timerfd_settime(rt, TFD_TIMER_ABSTIME, &abs, NULL));
	say("blocking read", read(rt, &v, 8));
	printf("  ticks %llu\n", (unsigned long long)v);
	its.it_value.tv_nsec = 1000000000;
	say("settime bad timespec", timerfd_settime(t, 0, &its, NULL));
	say("settime bad flags", timerfd_settime(t, 4, &off, NULL));
	say("settime on a pipe", timerfd_settime(a[0], 0, &off, NULL));
	say("del timer", epoll_ctl(ep, EPOLL_CTL_DEL, t, NULL));

	/* signalfd. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sf = signalfd(-1, &set, SFD_NONBLOCK);
	must("signalfd", sf);
	struct signalfd_siginfo si[2];
	say("signalfd read (none)", read(sf, si, sizeof si));
	say("add signalfd", add(sf, EPOLLIN, 8));
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	ewait("signals pending", 16, 0);
	long r = read(sf, si, sizeof si);
	say("signalfd read (2 records)", r);
	for (long i = 0; i < r / (long)sizeof si[0]; i++)
		printf("  signo %u code %d pid is self %d\n", si[i].ssi_signo, si[i].ssi_code, si[i].ssi_pid == (unsigned)getpid());
	say("signalfd read 10 bytes", read(sf, si, 10));
	sigdelset(&set, SIGUSR1);
	say("signalfd(change mask) returns its fd", signalfd(sf, &set, 0) == sf ? 0 : -1);
	say("signalfd(bad size)", syscall(SYS_signalfd4, -1, &set, 4, 0));
	say("signalfd(not a signalfd)", signalfd(a[0], &set, 0));
	say("del signalfd", epoll_ctl(ep, EPOLL_CTL_DEL, sf, NULL));

	/* A child feeds the loop. */
	int p[2];
	must("pipe", pipe(p));
	say("add child's pipe", add(p[0], EPOLLIN, 9));
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			char m = '0' + i;
			if (write(p[1], &m, 1) != 1)
				_exit(1);
			struct timespec d = {0, 2000000};
			nanosleep(&d, NULL);
		}
		_exit(0);
	}
	close(p[1]);
	char got[16];
	int n = 0;
	for (;;) {
		struct epoll_event ev;
		if (epoll_wait(ep, &ev, 1, -1) != 1)
			break;
		char m;
		long rr = read(p[0], &m, 1);
		if (rr <= 0) {
			printf("child's pipe: end (events %s)\n", ev.events & EPOLLHUP ? "HUP" : "?");
			break;
		}
		got[n++] = m;
	}
	got[n] = 0;
	printf("from the child: %s\n", got);
	waitpid(pid, NULL, 0);
	return 0;
}
