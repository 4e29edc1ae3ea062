/* hard_hostsig: a program that signals are sent to from outside. usage: hard_hostsig MODE [FILE]
     handle   handlers for INT TERM HUP QUIT USR1 USR2 WINCH TSTP CONT print each signal;
              the main loop reads standard input (SIGUSR2's handler has no SA_RESTART, so
              that read ends with EINTR) until it ends
     read     no handlers: reads standard input until it ends (a signal's default action
              applies, killing it for INT, TERM, HUP, QUIT)
     pause    no handlers; waits in pause() for a signal to end it
     ignore   ignores SIGINT; stores "stored before the signal" into a shared mapping of
              FILE (made 4 KiB), then waits in pause()
   Each mode prints "ready" when it is ready for signals. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void say(const char *s) { write(1, s, strlen(s)); }

static const char *name(int sig) {
	switch (sig) {
	case SIGINT: return "INT";
	case SIGTERM: return "TERM";
	case SIGHUP: return "HUP";
	case SIGQUIT: return "QUIT";
	case SIGUSR1: return "USR1";
	case SIGUSR2: return "USR2";
	case SIGWINCH: return "WINCH";
	case SIGTSTP: return "TSTP";
	case SIGCONT: return "CONT";
	}
	return "?";
}

static void handler(int sig) {
	say("got SIG");
	say(name(sig));
	say("\n");
}

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "";
	char buf[256];
	if (strcmp(mode, "handle") == 0) {
		static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGTSTP, SIGCONT};
		for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
			struct sigaction sa;
			memset(&sa, 0, sizeof sa);
			sa.sa_handler = handler;
			sa.sa_flags = sigs[i] == SIGUSR2 ? 0 : SA_RESTART;
			sigaction(sigs[i], &sa, NULL);
		}
		say("ready\n");
		for (;;) {
			ssize_t n = read(0, buf, sizeof buf);
			if (n < 0 && errno == EINTR) {
				say("read: EINTR\n");
				continue;
			}
			if (n <= 0)
				break;
			write(1, "read: ", 6);
			write(1, buf, n);
		}
		say("stdin closed\n");
		return 0;
	}
	if (strcmp(mode, "read") == 0) {
		say("ready\n");
		while (read(0, buf, sizeof buf) > 0)
			;
		say("stdin closed\n");
		return 0;
	}
	if (strcmp(mode, "pause") == 0) {
		say("ready\n");
		pause();
		say("pause returned\n");
		return 0;
	}
	if (strcmp(mode, "ignore") == 0 && argc > 2) {
		signal(SIGINT, SIG_IGN);
		int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || ftruncate(fd, 4096) < 0) {
			perror(argv[2]);
			return 1;
		}
		char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		strcpy(m, "stored before the signal");
		say("ready\n");
		for (;;)
			pause();
	}
	fprintf(stderr, "usage: hard_hostsig handle|read|pause|ignore FILE\n");
	return 2;
}
