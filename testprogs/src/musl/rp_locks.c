/* rp_locks: file locks between processes. usage: rp_locks DIR (an empty, writable
   directory), or rp_locks hold FILE / rp_locks try FILE (for the test that checks the locks
   against a native process). flock (shared, exclusive, LOCK_NB, conversion, the open file
   description as owner, shared across fork, released at the last close); POSIX record locks
   (F_SETLK, F_SETLKW, F_GETLK with the holder's pid, read locks shared, a lock split by an
   unlock, every lock of the process released by closing any descriptor of the file, none
   inherited by fork, EDEADLK between two processes); OFD locks (owned by the description,
   l_pid -1, conflicting with the same process's POSIX locks); and the argument checks. */
#include "rp.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>

#ifndef F_OFD_GETLK
#define F_OFD_GETLK 36
#define F_OFD_SETLK 37
#define F_OFD_SETLKW 38
#endif

static pid_t parent;

static int lk(int fd, int cmd, short type, off_t start, off_t len) {
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	return fcntl(fd, cmd, &l);
}

/* getlk prints what F_GETLK (or F_OFD_GETLK) says about a lock of type over the range. */
static void getlk(const char *who, int fd, int cmd, short type, off_t start, off_t len) {
	struct flock l = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
	if (fcntl(fd, cmd, &l) < 0) {
		printf("%s GETLK(%lld,%lld): -1 %s\n", who, (long long)start, (long long)len, errname(errno));
		return;
	}
	const char *t = l.l_type == F_RDLCK ? "RD" : l.l_type == F_WRLCK ? "WR" : "UN";
	if (l.l_type == F_UNLCK)
		printf("%s GETLK(%lld,%lld): unlocked\n", who, (long long)start, (long long)len);
	else
		printf("%s GETLK(%lld,%lld): %s [%lld,+%lld] pid %s\n", who, (long long)start,
			(long long)len, t, (long long)l.l_start, (long long)l.l_len,
			l.l_pid == parent ? "parent" : l.l_pid == -1 ? "-1" : l.l_pid == getpid() ? "self" : "other");
	fflush(stdout);
}

/* Two pipes let parent and child take turns: each step waits for the other's token. */
static int p2c[2], c2p[2];
static void tell(int fd) {
	if (write(fd, "t", 1) != 1)
		_exit(9);
}
static void await(int fd) {
	char c;
	if (read(fd, &c, 1) != 1)
		_exit(9);
}

static void flocks(const char *file) {
	printf("== flock\n");
	int a = open(file, O_RDWR);
	must("open", a);
	say("flock(a, LOCK_SH)", flock(a, LOCK_SH));
	say("flock(a, LOCK_SH) again", flock(a, LOCK_SH));
	say("flock(a, bad op)", flock(a, 3));
	say("flock(a, LOCK_EX) (convert)", flock(a, LOCK_EX));
	int b = open(file, O_RDONLY);
	say("flock(b, LOCK_SH|LOCK_NB)", flock(b, LOCK_SH | LOCK_NB));
	int d = dup(a);
	say("flock(dup of a, LOCK_EX|LOCK_NB)", flock(d, LOCK_EX | LOCK_NB));
	pid_t pid = fork();
	if (pid == 0) {
		say("  child flock(inherited a, LOCK_EX|LOCK_NB)", flock(a, LOCK_EX | LOCK_NB));
		int c = open(file, O_RDONLY);
		say("  child flock(own, LOCK_SH|LOCK_NB)", flock(c, LOCK_SH | LOCK_NB));
		tell(c2p[1]);
		int r = flock(c, LOCK_SH);
		await(p2c[0]); /* print after the parent's line */
		say("  child flock(own, LOCK_SH) (waited)", r);
		_exit(0);
	}
	await(c2p[0]);
	close(d);
	say("flock(a, LOCK_UN)", flock(a, LOCK_UN));
	tell(p2c[1]);
	waitpid(pid, NULL, 0);
	say("flock(b, LOCK_EX|LOCK_NB) after the child", flock(b, LOCK_EX | LOCK_NB));
	close(b);
	say("flock(a, LOCK_EX|LOCK_NB) after b closed", flock(a, LOCK_EX | LOCK_NB));
	int o = open(file, O_PATH);
	say("flock(O_PATH)", flock(o, LOCK_SH));
	int p[2];
	must("pipe", pipe(p));
	say("flock(pipe, LOCK_EX)", flock(p[0], LOCK_EX));
	close(a);
	close(o);
	close(p[0]);
	close(p[1]);
}

static void posix(const char *file) {
	printf("== POSIX record locks\n");
	int a = open(file, O_RDWR);
	must("open", a);
	int r = open(file, O_RDONLY);
	say("F_SETLK WR [0,100)", lk(a, F_SETLK, F_WRLCK, 0, 100));
	say("F_SETLK RD [200,+0) (to EOF)", lk(a, F_SETLK, F_RDLCK, 200, 0));
	say("F_SETLK UN [40,60) (splits)", lk(a, F_SETLK, F_UNLCK, 40, 20));
	say("F_SETLK WR on O_RDONLY", lk(r, F_SETLK, F_WRLCK, 0, 1));
	say("F_SETLK bad type", lk(a, F_SETLK, 7, 0, 1));
	getlk("self", a, F_GETLK, F_WRLCK, 0, 10);
	getlk("self", a, F_GETLK, F_UNLCK, 0, 10);
	struct flock bad = {.l_type = F_RDLCK, .l_whence = 9};
	say("F_SETLK bad whence", fcntl(a, F_SETLK, &bad));
	say("F_SETLK negative start", lk(a, F_SETLK, F_RDLCK, -5, 1));
	say("F_SETLK negative len (ok)", lk(a, F_SETLK, F_RDLCK, 150, -10));
	say("F_SETLK negative len past 0", lk(a, F_SETLK, F_RDLCK, 5, -10));
	say("F_SETLK bad pointer", fcntl(a, F_SETLK, (void *)8));
	pid_t pid = fork();
	if (pid == 0) {
		int c = open(file, O_RDWR);
		getlk("  child", c, F_GETLK, F_RDLCK, 0, 10);
		getlk("  child", c, F_GETLK, F_RDLCK, 45, 5);
		getlk("  child", c, F_GETLK, F_WRLCK, 70, 0);
		getlk("  child", c, F_GETLK, F_WRLCK, 140, 5);
		getlk("  child", c, F_GETLK, F_RDLCK, 250, 10);
		getlk("  child", c, F_GETLK, F_WRLCK, 250, 10);
		say("  child F_SETLK WR [45,50) (in the hole)", lk(c, F_SETLK, F_WRLCK, 45, 5));
		say("  child F_SETLK RD [300,310) (shares)", lk(c, F_SETLK, F_RDLCK, 300, 10));
		say("  child F_SETLK WR [0,1)", lk(c, F_SETLK, F_WRLCK, 0, 1));
		say("  child F_SETLK WR via inherited a", lk(a, F_SETLK, F_WRLCK, 0, 1));
		tell(c2p[1]);
		int w = lk(c, F_SETLKW, F_WRLCK, 0, 1);
		await(p2c[0]);
		say("  child F_SETLKW WR [0,1) (waited)", w);
		tell(c2p[1]);
		await(p2c[0]);
		_exit(0);
	}
	await(c2p[0]);
	getlk("parent", a, F_GETLK, F_WRLCK, 45, 1);
	/* Closing any descriptor of the file releases every lock the process holds on it. */
	say("close(r) (another descriptor)", close(r));
	tell(p2c[1]);
	await(c2p[0]);
	getlk("parent", a, F_GETLK, F_WRLCK, 0, 1);
	tell(p2c[1]);
	waitpid(pid, NULL, 0);
	getlk("parent", a, F_GETLK, F_WRLCK, 0, 1000);
	close(a);
}

static void deadlock(const char *file) {
	printf("== EDEADLK\n");
	int a = open(file, O_RDWR);
	say("parent F_SETLK WR byte 0", lk(a, F_SETLK, F_WRLCK, 0, 1));
	pid_t pid = fork();
	if (pid == 0) {
		int c = open(file, O_RDWR);
		say("  child F_SETLK WR byte 1", lk(c, F_SETLK, F_WRLCK, 1, 1));
		tell(c2p[1]);
		int w = lk(c, F_SETLKW, F_WRLCK, 0, 1);
		await(p2c[0]);
		say("  child F_SETLKW WR byte 0 (waited for the parent)", w);
		_exit(0);
	}
	await(c2p[0]);
	/* Let the child reach its F_SETLKW. */
	for (int i = 0; i < 20; i++)
		usleep(1000);
	say("parent F_SETLKW WR byte 1", lk(a, F_SETLKW, F_WRLCK, 1, 1));
	say("parent F_SETLK UN byte 0", lk(a, F_SETLK, F_UNLCK, 0, 1));
	tell(p2c[1]);
	waitpid(pid, NULL, 0);
	close(a);
}

static void ofd(const char *file) {
	printf("== OFD locks\n");
	int a = open(file, O_RDWR);
	int b = open(file, O_RDWR);
	struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10, .l_pid = 1};
	say("F_OFD_SETLK with l_pid 1", fcntl(a, F_OFD_SETLK, &l));
	say("F_OFD_SETLK WR [0,10) on a", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
	getlk("self via b", b, F_OFD_GETLK, F_RDLCK, 5, 1);
	getlk("self via a", a, F_OFD_GETLK, F_RDLCK, 5, 1);
	say("F_OFD_SETLK RD on b", lk(b, F_OFD_SETLK, F_RDLCK, 5, 1));
	say("F_SETLK (POSIX) RD on a", lk(a, F_SETLK, F_RDLCK, 5, 1));
	getlk("self POSIX", a, F_GETLK, F_RDLCK, 5, 1);
	say("close(b) (OFD lock on a stays)", close(b));
	b = open(file, O_RDWR);
	getlk("self via new b", b, F_OFD_GETLK, F_WRLCK, 0, 1);
	pid_t pid = fork();
	if (pid == 0) {
		say("  child F_OFD_SETLK WR via inherited a", lk(a, F_OFD_SETLK, F_WRLCK, 0, 10));
		int c = open(file, O_RDWR);
		say("  child F_OFD_SETLK on its own", lk(c, F_OFD_SETLK, F_WRLCK, 0, 1));
		close(a); /* the lock stays until the parent closes its a too */
		tell(c2p[1]);
		int w = lk(c, F_OFD_SETLKW, F_WRLCK, 0, 1);
		await(p2c[0]);
		say("  child F_OFD_SETLKW on its own (waited)", w);
		_exit(0);
	}
	await(c2p[0]);
	close(b);
	say("close(a) (the last reference in the parent)", close(a));
	tell(p2c[1]);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv) {
	parent = getpid();
	if (argc == 3 && strcmp(argv[1], "hold") == 0) {
		/* Hold locks for the test to look at from the host: WR [0,10), flock LOCK_EX. */
		int fd = open(argv[2], O_RDWR);
		must("open", fd);
		say("F_SETLK WR [0,10)", lk(fd, F_SETLK, F_WRLCK, 0, 10));
		say("flock LOCK_EX", flock(fd, LOCK_EX));
		say("getppid (the test looks now)", getppid() > 0 ? 0 : -1);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "wait") == 0) {
		/* Run natively by the test: hold POSIX WR [0,10) and a shared flock until stdin
		   ends, for an emulated "try" to run into. */
		int fd = open(argv[2], O_RDWR);
		must("open", fd);
		must("F_SETLK", lk(fd, F_SETLK, F_WRLCK, 0, 10));
		must("flock", flock(fd, LOCK_SH));
		printf("ready %d\n", (int)getpid());
		fflush(stdout);
		char c;
		while (read(0, &c, 1) > 0)
			;
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "try") == 0) {
		/* The test holds a native lock on [0,10) and a flock. */
		int fd = open(argv[2], O_RDWR);
		must("open", fd);
		say("F_SETLK WR [0,10)", lk(fd, F_SETLK, F_WRLCK, 0, 10));
		say("F_SETLK WR [20,30)", lk(fd, F_SETLK, F_WRLCK, 20, 10));
		struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 5};
		say("F_GETLK WR [0,5)", fcntl(fd, F_GETLK, &l));
		printf("  type %s pid %d\n", l.l_type == F_WRLCK ? "WR" : l.l_type == F_RDLCK ? "RD" : "UN", (int)l.l_pid);
		say("flock LOCK_EX|LOCK_NB", flock(fd, LOCK_EX | LOCK_NB));
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: rp_locks DIR | hold FILE | try FILE | wait FILE\n");
		return 2;
	}
	must("chdir", chdir(argv[1]));
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	must("create", fd);
	must("write", write(fd, "0123456789", 10));
	close(fd);
	must("pipe", pipe(p2c));
	must("pipe", pipe(c2p));
	flocks("f");
	posix("f");
	deadlock("f");
	ofd("f");
	return 0;
}
