/* hard_fifo: a FIFO between two processes. usage: hard_fifo DIR
   Makes DIR/fifo; a child opens it for writing (which waits for a reader) and writes
   200,000 bytes (more than the FIFO holds: the writer waits for room), the parent opens it
   for reading (which waits for a writer) and reads to the end. Then the parent opens it
   non-blocking for writing with no reader (ENXIO) and for reading (at once). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: hard_fifo DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/fifo", argv[1]);
	if (mkfifo(path, 0600) < 0) {
		perror("mkfifo");
		return 1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY);
		static char buf[200000];
		memset(buf, 'f', sizeof buf);
		long n = write(fd, buf, sizeof buf);
		dprintf(1, "child wrote %ld\n", n);
		_exit(0);
	}
	int fd = open(path, O_RDONLY);
	char buf[4096];
	long total = 0, n;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		total += n;
	int st;
	waitpid(pid, &st, 0);
	printf("parent read %ld, then %s\n", total, n == 0 ? "end of file" : strerror(errno));
	close(fd);
	int w = open(path, O_WRONLY | O_NONBLOCK);
	printf("open for writing, non-blocking, no reader: %s\n", w < 0 ? strerror(errno) : "ok");
	int r = open(path, O_RDONLY | O_NONBLOCK);
	printf("open for reading, non-blocking: %s\n", r < 0 ? strerror(errno) : "ok");
	n = read(r, buf, sizeof buf);
	printf("read with no writer: %ld\n", n);
	return 0;
}
