/* hard_rwcount: read and write with counts and buffers at the edges of the user address
   space. usage: hard_rwcount DIR (a scratch file is made in DIR)
   Linux checks the whole range with access_ok() first: one that wraps or reaches past the
   user address space is EFAULT before a byte moves; a valid range is capped at MAX_RW_COUNT
   and copied until the first unmapped page (a short count). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

static void show(const char *what, long r) {
	if (r < 0)
		printf("%-40s = -1 errno %d (%s)\n", what, errno, strerror(errno));
	else
		printf("%-40s = %ld\n", what, r);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: hard_rwcount DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/rwcount", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	int pfd[2];
	if (pipe(pfd) < 0) {
		perror("pipe");
		return 1;
	}
	static char buf[8192];
	memset(buf, 'x', sizeof buf);
	char *two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(two, 'y', 8192);
	munmap(two + 4096, 4096);
	char *top = (char *)0x7ffffffff000UL; /* TASK_SIZE_MAX: the first non-user address */

	show("write(fd, buf, SIZE_MAX)", write(fd, buf, SIZE_MAX));
	show("write(fd, buf, 1<<63)", write(fd, buf, (size_t)1 << 63));
	show("write(fd, buf, top-buf+1)", write(fd, buf, (size_t)(top - buf) + 1));
	show("write(fd, top, 1)", write(fd, top, 1));
	show("write(fd, buf, 0)", write(fd, buf, 0));
	show("write(fd, two, 8192) [2nd page unmapped]", write(fd, two, 8192));
	show("write(pipe, two, 8192)", write(pfd[1], two, 8192));
	show("write(pipe, buf, SIZE_MAX)", write(pfd[1], buf, SIZE_MAX));
	show("pwrite(fd, buf, SIZE_MAX, 0)", pwrite(fd, buf, SIZE_MAX, 0));
	show("lseek(fd, 0, SEEK_SET)", lseek(fd, 0, SEEK_SET));
	show("read(fd, buf, SIZE_MAX)", read(fd, buf, SIZE_MAX));
	show("read(fd, buf, 1<<63)", read(fd, buf, (size_t)1 << 63));
	show("pread(fd, buf, SIZE_MAX, 0)", pread(fd, buf, SIZE_MAX, 0));
	show("read(fd, two, 8192) [2nd page unmapped]", read(fd, two, 8192));
	show("pread(fd, two, 8192, 0)", pread(fd, two, 8192, 0));
	show("read(pipe, buf, SIZE_MAX)", read(pfd[0], buf, SIZE_MAX));
	show("read(pipe, buf, sizeof buf)", read(pfd[0], buf, sizeof buf));
	struct iovec iov[2] = {{buf, 16}, {buf, SIZE_MAX}};
	show("writev(fd, {16, SIZE_MAX})", writev(fd, iov, 2));
	show("readv(fd, {16, SIZE_MAX})", readv(fd, iov, 2));
	iov[1].iov_base = top - 8;
	iov[1].iov_len = 16;
	show("writev(fd, {16, top-8:16})", writev(fd, iov, 2));
	iov[1].iov_len = (size_t)1 << 62;
	iov[1].iov_base = buf;
	show("writev(fd, {16, 1<<62})", writev(fd, iov, 2));
	show("read(-1, buf, SIZE_MAX)", read(-1, buf, SIZE_MAX));
	show("write(0 [read-only], buf, SIZE_MAX)", write(fd + 100, buf, SIZE_MAX));
	unlink(path);
	return 0;
}
