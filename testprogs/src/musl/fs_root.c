/* fs_root: tries to get out of a root directory (run with emu's --root, where native
   confinement would need chroot and privileges). usage: fs_root PATH... prints the first
   line of each PATH it can open, then tries "..", symbolic links and renames at the root,
   and prints what it sees. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void cat(const char *path) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%-32s %s\n", path, strerror(errno));
		return;
	}
	char buf[128] = {0};
	long n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n < 0) {
		printf("%-32s read: %s\n", path, strerror(errno));
		return;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("%-32s %s\n", path, buf);
}

static void say(const char *what, long r) {
	if (r < 0)
		printf("%-32s -1 %s\n", what, strerror(errno));
	else
		printf("%-32s %ld\n", what, r);
}

static void ls(const char *path) {
	DIR *d = opendir(path);
	if (!d) {
		printf("ls %s: %s\n", path, strerror(errno));
		return;
	}
	char names[64][64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		if (e->d_name[0] != '.')
			snprintf(names[n++], 64, "%.63s", e->d_name);
	closedir(d);
	qsort(names, n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
	printf("ls %s:", path);
	for (int i = 0; i < n; i++)
		printf(" %s", names[i]);
	putchar('\n');
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++)
		cat(argv[i]);
	char cwd[512];
	printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
	say("chdir /../../..", chdir("/../../.."));
	printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
	say("chdir sub", chdir("sub"));
	cat("../../../inside.txt");
	say("chdir dotdot (a link to ..)", chdir("dotdot"));
	printf("getcwd: %s\n", getcwd(cwd, sizeof cwd));
	char link[256] = {0};
	say("readlink /abs", readlink("/abs", link, sizeof link - 1));
	printf("  -> %s\n", link);
	struct stat root, up;
	stat("/", &root);
	stat("/..", &up);
	say("/.. is /", root.st_ino == up.st_ino && root.st_dev == up.st_dev);
	struct stat exe, self;
	stat("/proc/self/exe", &exe);
	stat(argv[0], &self);
	say("/proc/self/exe is argv[0]", exe.st_ino == self.st_ino);
	memset(link, 0, sizeof link);
	say("readlink /proc/self/exe", readlink("/proc/self/exe", link, sizeof link - 1));
	printf("  -> %s\n", link);
	say("mkdir /../../made", mkdir("/../../made", 0755));
	say("create through /mk (absolute link)", open("/mk", O_WRONLY | O_CREAT, 0644) >= 0);
	say("rename /inside.txt /../moved", rename("/inside.txt", "/../moved"));
	say("symlink /.. as /up", symlink("/..", "/up"));
	cat("/up/up/up/moved");
	ls("/");
	ls("/..");
	ls("/up/..");
	return 0;
}
