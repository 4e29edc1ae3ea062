/* share: a dynamically linked program that forks a child which executes the same program
   (the path comes as argv[1]) with the argument "child". Both run the same shared C
   library: the child's interpreter and libc, mapped afresh by its execve and its dynamic
   linker, are the same page-cache frames the parent maps. The child calls getppid() after
   printing, which the test uses as the moment to look at the frames of both. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[2], "child") == 0) {
		printf("child: %s\n", strerror(2));
		fflush(stdout);
		return getppid() > 0 ? 3 : 4;
	}
	if (argc < 2)
		return 1;
	printf("parent: %s\n", strerror(1));
	fflush(stdout);
	pid_t c = fork();
	if (c == 0) {
		execl(argv[1], argv[1], argv[1], "child", (char *)0);
		return 127;
	}
	int st;
	waitpid(c, &st, 0);
	printf("parent: the child exited with %d\n", WEXITSTATUS(st));
	return 0;
}
