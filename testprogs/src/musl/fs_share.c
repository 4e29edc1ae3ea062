/* fs_share: two processes map the same page of one file, each having opened the file
   itself: the parent shared and private, the child shared and private; then the child
   writes its private mapping (a copy-on-write copy) and calls getppid(), which the
   test uses as a marker to look at the frames. usage: fs_share FILE (at least one page) */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static char *map(const char *path, int flags) {
	int fd = open(path, O_RDWR);
	char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, flags, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		_exit(1);
	}
	return p;
}

int main(int argc, char **argv) {
	if (argc < 2)
		return 2;
	volatile char *sh = map(argv[1], MAP_SHARED), *pr = map(argv[1], MAP_PRIVATE);
	printf("parent reads %c %c\n", sh[0], pr[0]);
	fflush(stdout);
	if (fork() == 0) {
		volatile char *csh = map(argv[1], MAP_SHARED), *cpr = map(argv[1], MAP_PRIVATE);
		printf("child reads %c %c\n", csh[0], cpr[0]);
		cpr[0] = 'C';
		getppid(); /* the marker */
		printf("child after its private store: %c %c\n", csh[0], cpr[0]);
		fflush(stdout);
		_exit(0);
	}
	wait(NULL);
	printf("parent after the child: %c %c\n", sh[0], pr[0]);
	return 0;
}
