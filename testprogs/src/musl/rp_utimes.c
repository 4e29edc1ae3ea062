/* rp_utimes: the older calls that set a file's times. usage: rp_utimes DIR. utimes with
   microseconds, its EINVAL for a microsecond count out of range and ENOENT, utime with
   whole seconds, futimesat with a directory and with no path (the descriptor itself), and
   NULL times (now). */
#include "rp.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <utime.h>

static void show(const char *what) {
	struct stat st;
	if (stat("f", &st) != 0) {
		printf("%-44s stat failed\n", what);
		return;
	}
	printf("%-44s %ld.%09ld %ld.%09ld\n", what, (long)st.st_atim.tv_sec, st.st_atim.tv_nsec,
	       (long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || chdir(argv[1]) != 0) {
		printf("usage: rp_utimes DIR\n");
		return 2;
	}
	close(open("f", O_CREAT | O_WRONLY, 0644));
	struct timeval tv[2] = {{1000, 5}, {2000, 999999}};
	say("utimes", syscall(SYS_utimes, "f", tv));
	show("  times");
	tv[0].tv_usec = 1000000;
	say("utimes(usec 1000000)", syscall(SYS_utimes, "f", tv));
	tv[0].tv_usec = -1;
	say("utimes(usec -1)", syscall(SYS_utimes, "f", tv));
	tv[0].tv_usec = 0;
	say("utimes(missing file)", syscall(SYS_utimes, "nope", tv));
	say("utimes(NULL path)", syscall(SYS_utimes, NULL, tv));
	struct utimbuf ub = {3000, 4000};
	say("utime", syscall(SYS_utime, "f", &ub));
	show("  times");
	struct timeval t2[2] = {{5000, 0}, {6000, 250000}};
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	say("futimesat(dir, f)", syscall(SYS_futimesat, dir, "f", t2));
	show("  times");
	int fd = open("f", O_RDONLY);
	t2[1].tv_sec = 7000;
	say("futimesat(fd, NULL)", syscall(SYS_futimesat, fd, NULL, t2));
	show("  times");
	say("utimes(now)", syscall(SYS_utimes, "f", NULL));
	struct stat st;
	stat("f", &st);
	printf("%-44s %d\n", "  set to a recent time", st.st_mtim.tv_sec > 1600000000);
	say("utime(now)", syscall(SYS_utime, "f", NULL));
	return 0;
}
