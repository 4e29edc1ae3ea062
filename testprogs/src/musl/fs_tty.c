/* fs_tty: what a program learns about its terminal. Run with standard output on a
   terminal (the test gives it a pseudo-terminal) and standard input not one: isatty, the
   window size (TIOCGWINSZ) and the terminal's modes (TCGETS), reported on standard error;
   then a line for the terminal itself. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
	fprintf(stderr, "isatty: stdin %d, stdout %d, stderr %d\n", isatty(0), isatty(1), isatty(2));
	struct winsize ws = {0};
	int r = ioctl(1, TIOCGWINSZ, &ws);
	fprintf(stderr, "TIOCGWINSZ on stdout: %d, %d rows, %d columns\n", r, ws.ws_row, ws.ws_col);
	struct termios tio;
	r = tcgetattr(1, &tio);
	fprintf(stderr, "tcgetattr on stdout: %d, ICANON %d, ECHO %d\n", r, (tio.c_lflag & ICANON) != 0,
		(tio.c_lflag & ECHO) != 0);
	errno = 0;
	r = ioctl(0, TIOCGWINSZ, &ws);
	fprintf(stderr, "TIOCGWINSZ on stdin: %d %s\n", r, strerror(errno));
	errno = 0;
	r = tcgetattr(0, &tio);
	fprintf(stderr, "tcgetattr on stdin: %d %s\n", r, strerror(errno));
	printf("a line for the terminal\n");
	return 0;
}
