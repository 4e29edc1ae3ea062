/* poll_hostpipe: writes 1 MiB to standard output, which must be a pipe, the way xz -T2
   does: standard output non-blocking, and when it is full, poll() for room on it together
   with a pipe of the program's own (xz's self-pipe for signals). A kernel that sleeps on
   its own pipe and forgets the host's never wakes. Says on standard error when it first
   finds standard output full (the reader may wait for that), and at the end how much it
   wrote. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
	static char buf[65536];
	int self[2];
	if (pipe(self) != 0) {
		perror("pipe");
		return 1;
	}
	int fl = fcntl(1, F_GETFL);
	if (fl < 0 || fcntl(1, F_SETFL, fl | O_NONBLOCK) != 0) {
		perror("fcntl");
		return 1;
	}
	long total = 0, waited = 0;
	const long want = 1 << 20;
	while (total < want) {
		for (int i = 0; i < (int)sizeof buf; i++)
			buf[i] = 'a' + (total + i) % 26;
		ssize_t n = write(1, buf, sizeof buf < (size_t)(want - total) ? sizeof buf : (size_t)(want - total));
		if (n > 0) {
			total += n;
			continue;
		}
		if (n < 0 && errno != EAGAIN) {
			perror("write");
			return 1;
		}
		if (!waited)
			fprintf(stderr, "standard output full: waiting for room\n");
		struct pollfd fds[2] = {{.fd = self[0], .events = POLLIN}, {.fd = 1, .events = POLLOUT}};
		int r = poll(fds, 2, -1);
		if (r != 1 || !(fds[1].revents & POLLOUT) || fds[0].revents) {
			fprintf(stderr, "poll: %d, revents %#x %#x\n", r, fds[0].revents, fds[1].revents);
			return 1;
		}
		waited = 1;
	}
	fcntl(1, F_SETFL, fl);
	fprintf(stderr, "wrote %ld bytes\n", total);
	return 0;
}
