/* rp_clock: the wall clock and the times of files. usage: rp_clock (prints time(),
   gettimeofday's and clock_gettime(CLOCK_REALTIME)'s seconds, one per line, for the test to
   check against the host's clock), or rp_clock DIR (an empty, writable directory: prints
   whether files the program writes, truncates, creates and touches carry times that are not
   in the future and not before the program started, as a kernel stamps them with its own
   clock, and whether the clocks agree with each other). */
#include "rp.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double mtime(const char *path, int follow) {
	struct stat st;
	if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
		return -1;
	return st.st_mtim.tv_sec + st.st_mtim.tv_nsec / 1e9;
}

/* check prints whether path's modification time lies within [from, now]. Linux stamps
   files with a coarse clock (a timer tick old, at most 10 ms), so from allows for that. */
static void check(const char *what, const char *path, double from, int follow) {
	double m = mtime(path, follow), t = now();
	printf("%-36s not in the future %d, not before start %d\n", what, m <= t, m >= from - 0.02);
}

int main(int argc, char **argv) {
	if (argc == 1) {
		struct timeval tv;
		struct timespec ts;
		time_t t = time(NULL);
		gettimeofday(&tv, NULL);
		clock_gettime(CLOCK_REALTIME, &ts);
		printf("%lld\n%lld\n%lld\n", (long long)t, (long long)tv.tv_sec, (long long)ts.tv_sec);
		return 0;
	}
	double start = now();
	struct timeval tv;
	gettimeofday(&tv, NULL);
	time_t t = time(NULL);
	printf("clocks agree: %d %d\n", tv.tv_sec - (long)start <= 1 && (long)start - tv.tv_sec <= 1,
		t - (long)start <= 1 && (long)start - t <= 1);
	must("chdir", chdir(argv[1]));
	/* A small busy loop between the steps lets the guest clock move. */
	volatile long spin = 0;
	for (long i = 0; i < 2000000; i++)
		spin += i;
	int fd = open("new", O_CREAT | O_WRONLY | O_TRUNC, 0644);
	must("open", fd);
	check("created", "new", start, 1);
	must("write", write(fd, "data\n", 5));
	check("written", "new", start, 1);
	must("ftruncate", ftruncate(fd, 2));
	check("truncated", "new", start, 1);
	close(fd);
	must("mkdir", mkdir("dir", 0755));
	check("directory made", "dir", start, 1);
	must("symlink", symlink("new", "link"));
	check("symbolic link made", "link", start, 0);
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	must("utimensat old", utimensat(AT_FDCWD, "new", old, 0));
	printf("%-36s %.0f\n", "set to 1000000000", mtime("new", 1));
	must("utimensat now", utimensat(AT_FDCWD, "new", NULL, 0));
	check("touched (NULL times)", "new", start, 1);
	struct timespec omit[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
	must("utimensat old", utimensat(AT_FDCWD, "new", old, 0));
	must("utimensat UTIME_NOW", utimensat(AT_FDCWD, "new", omit, 0));
	check("touched (UTIME_NOW)", "new", start, 1);
	fd = open("new", O_WRONLY | O_TRUNC);
	must("open O_TRUNC", fd);
	close(fd);
	check("opened with O_TRUNC", "new", start, 1);
	return 0;
}
