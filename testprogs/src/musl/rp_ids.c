/* rp_ids: identities and file ownership. usage: rp_ids DIR (an empty, writable directory).
   The get*id calls agree with each other and with AT_UID (getauxval); set*id to IDs the
   process already has succeed, to others as Linux's rules say (root may, others EPERM);
   setgroups, setfsuid, capget and capset; chown, fchown, lchown and fchownat on files in
   DIR (to the owner it has, and to another when root). Then, when root, a child drops to
   uid and gid 65534 and shows what that changes: its IDs, its capabilities, chown refused,
   and a new file owned by it. Output is relative to the starting IDs, so a run as root and
   a run as another user each compare with their own native run. */
#include "rp.h"
#include <fcntl.h>
#include <grp.h>
#include <sys/auxv.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* struct cap_header and __user_cap_data_struct (linux/capability.h, which
   musl does not ship). */
struct cap_header {
	unsigned version;
	int pid;
};
struct cap_data {
	unsigned effective, permitted, inheritable;
};
#define CAP_V3 0x20080522
#define CAP_CHOWN 0
#define CAP_SETUID 7

static uid_t uid0;
static gid_t gid0;

/* id prints an ID relative to the starting one, so output does not depend on who runs it. */
static const char *id(long v, long base) {
	static char buf[16][32];
	static int n;
	char *b = buf[n++ & 15];
	if (v == base)
		snprintf(b, 32, "self");
	else
		snprintf(b, 32, "%ld", v);
	return b;
}

static void ids(const char *when) {
	uid_t r, e, s;
	gid_t rg, eg, sg;
	getresuid(&r, &e, &s);
	getresgid(&rg, &eg, &sg);
	printf("%s: uid %s/%s/%s gid %s/%s/%s fsuid %s fsgid %s\n", when, id(r, uid0), id(e, uid0),
		id(s, uid0), id(rg, gid0), id(eg, gid0), id(sg, gid0), id(setfsuid(-1), uid0),
		id(setfsgid(-1), gid0));
	printf("  getuid==r %d geteuid==e %d getgid==rg %d getegid==eg %d AT_UID==r %d AT_EUID==e %d\n",
		getuid() == r, geteuid() == e, getgid() == rg, getegid() == eg,
		getauxval(AT_UID) == r, getauxval(AT_EUID) == e);
	fflush(stdout);
}

static void caps(const char *when) {
	struct cap_header h = {CAP_V3, 0};
	struct cap_data d[2];
	long r = syscall(SYS_capget, &h, d);
	if (r < 0) {
		printf("%s capget: -1 %s\n", when, errname(errno));
		return;
	}
	printf("%s: capabilities effective %s, permitted %s, setuid %d chown %d\n", when,
		d[0].effective ? "some" : "none", d[0].permitted ? "some" : "none",
		!!(d[0].effective & (1 << CAP_SETUID)), !!(d[0].effective & (1 << CAP_CHOWN)));
	fflush(stdout);
}

static void owner(const char *path, int follow) {
	struct stat st;
	int r = follow ? stat(path, &st) : lstat(path, &st);
	if (r < 0) {
		printf("  stat %s: %s\n", strrchr(path, '/'), errname(errno));
		return;
	}
	printf("  %s owned by %s:%s mode %o\n", strrchr(path, '/'), id(st.st_uid, uid0),
		id(st.st_gid, gid0), st.st_mode & 07777);
	fflush(stdout);
}

static void ownerfd(const char *name, int fd) {
	struct stat st;
	if (fstat(fd, &st) < 0) {
		printf("  fstat %s: %s\n", name, errname(errno));
		return;
	}
	printf("  %s owned by %s:%s mode %o\n", name, id(st.st_uid, uid0), id(st.st_gid, gid0),
		st.st_mode & 07777);
	fflush(stdout);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: rp_ids DIR\n");
		return 2;
	}
	char dir[4096], f1[4200], f2[4200], ln[4200], sub[4200];
	must("realpath", realpath(argv[1], dir) ? 0 : -1);
	snprintf(f1, sizeof f1, "%s/f1", dir);
	snprintf(f2, sizeof f2, "%s/f2", dir);
	snprintf(ln, sizeof ln, "%s/link", dir);
	snprintf(sub, sizeof sub, "%s/open", dir);
	uid0 = getuid();
	gid0 = getgid();
	int root = geteuid() == 0;
	printf("root: %d\n", root);
	ids("start");
	caps("start");

	/* Changing to what the process already is works for everyone. */
	say("setuid(self)", setuid(uid0));
	say("setgid(self)", setgid(gid0));
	say("setreuid(-1, self)", setreuid(-1, uid0));
	say("setregid(self, -1)", setregid(gid0, -1));
	say("setresuid(-1,-1,-1)", setresuid(-1, -1, -1));
	say("setresgid(self,self,self)", setresgid(gid0, gid0, gid0));
	say("setuid(-1)", syscall(SYS_setuid, -1));
	say("setresuid(bad ptr) via getresuid", syscall(SYS_getresuid, (void *)8, (void *)8, (void *)8));
	int n = getgroups(0, NULL);
	gid_t gs[256];
	say("getgroups(n) == getgroups(0)", getgroups(n, gs) == n ? 0 : -1);
	if (n > 0)
		say("getgroups(too small)", getgroups(n - 1, gs));
	say("getgroups(-1)", syscall(SYS_getgroups, -1, gs));
	ids("after no-op changes");

	/* Files: chown to the owner they have, then to someone else. */
	int fd = open(f1, O_CREAT | O_WRONLY, 0644);
	must("open f1", fd);
	must("creat f2", close(open(f2, O_CREAT | O_WRONLY, 0640)));
	must("symlink", symlink("f2", ln));
	owner(f1, 1);
	say("chown(f1, self, self)", chown(f1, uid0, gid0));
	say("chown(f1, -1, -1)", chown(f1, -1, -1));
	say("fchown(fd, -1, self)", fchown(fd, -1, gid0));
	say("chown(f1, 1234, -1)", chown(f1, 1234, -1));
	owner(f1, 1);
	say("fchown(fd, self, 4321)", fchown(fd, uid0, 4321));
	owner(f1, 1);
	say("lchown(link, 1111, 2222)", lchown(ln, 1111, 2222));
	owner(ln, 0);
	owner(f2, 1);
	say("fchownat(dir, f2, 3333, -1, 0)", fchownat(AT_FDCWD, f2, 3333, -1, 0));
	owner(f2, 1);
	int pfd = open(f2, O_PATH);
	say("fchownat(O_PATH fd, \"\", -1, 5555, AT_EMPTY_PATH)", fchownat(pfd, "", -1, 5555, AT_EMPTY_PATH));
	say("fchownat(O_PATH fd, \"\", -1, -1, 0)", fchownat(pfd, "", -1, -1, 0));
	say("fchown(O_PATH fd)", fchown(pfd, -1, -1));
	say("fchownat(bad flags)", fchownat(AT_FDCWD, f2, -1, -1, 0x8000));
	say("chown(missing)", chown("/nonexistent/x", -1, -1));
	say("chown(bad ptr)", chown((char *)8, -1, -1));
	owner(f2, 1);
	int p[2];
	must("pipe", pipe(p));
	say("fchown(pipe)", fchown(p[0], uid0, gid0));
	say("chown back", chown(f1, uid0, gid0) | chown(f2, uid0, gid0) | lchown(ln, uid0, gid0));
	close(fd);
	close(pfd);

	/* Other IDs: only root may. */
	say("setuid(4242) in a child", 0);
	pid_t pid = fork();
	must("fork", pid);
	if (pid == 0) {
		say("  setresuid(-1, 4242, -1)", setresuid(-1, 4242, -1));
		say("  setresgid(-1, 4242, -1)", setresgid(-1, 4242, -1));
		say("  setgroups(0)", setgroups(0, NULL));
		ids("  child");
		_exit(0);
	}
	must("wait", waitpid(pid, NULL, 0));
	ids("parent unchanged");
	if (!root) {
		printf("not root: the rest needs root\n");
		return 0;
	}
	/* As root: drop to nobody, step by step, in a child. New files are made through a
	   descriptor of DIR opened first, so the directories above DIR need not be searchable
	   by nobody. */
	must("chmod dir", chmod(dir, 0777));
	int dfd = open(dir, O_DIRECTORY | O_RDONLY);
	must("open dir", dfd);
	pid = fork();
	must("fork", pid);
	if (pid == 0) {
		gid_t one = 65534;
		say("  setgroups(1, {65534})", setgroups(1, &one));
		n = getgroups(16, gs);
		printf("  groups: %d first %d\n", n, n > 0 ? (int)gs[0] : -1);
		say("  setfsuid(777) (returns the old)", (uid_t)setfsuid(777) == uid0 ? 0 : 1);
		say("  setfsuid(-1) == 777", setfsuid(-1) == 777 ? 0 : 1);
		setfsuid(uid0);
		say("  setresgid(65534,65534,65534)", setresgid(65534, 65534, 65534));
		say("  seteuid(65534)", seteuid(65534));
		ids("  euid nobody");
		caps("  euid nobody");
		say("  seteuid(0) again (saved uid 0)", seteuid(0));
		caps("  euid root again");
		say("  setuid(65534)", setuid(65534));
		ids("  nobody");
		caps("  nobody");
		say("  setuid(0)", setuid(0));
		say("  setreuid(0, -1)", setreuid(0, -1));
		say("  setresuid(-1, 0, -1)", setresuid(-1, 0, -1));
		say("  setgroups(0)", setgroups(0, NULL));
		say("  fchownat(dir, f1, 65534, -1)", fchownat(dfd, "f1", 65534, -1, 0));
		int m = openat(dfd, "mine", O_CREAT | O_WRONLY, 0600);
		say("  openat(dir, mine, O_CREAT)", m >= 0 ? 0 : -1);
		ownerfd("/mine", m);
		say("  fchown(mine, -1, 65534)", fchown(m, -1, 65534));
		say("  fchown(mine, -1, 0)", fchown(m, -1, 0));
		say("  fchown(mine, 0, -1)", fchown(m, 0, -1));
		say("  mkdirat(dir, minedir)", mkdirat(dfd, "minedir", 0755));
		int md = openat(dfd, "minedir", O_PATH);
		ownerfd("/minedir", md);
		struct cap_header h = {CAP_V3, 0};
		struct cap_data d[2] = {{1 << CAP_CHOWN, 1 << CAP_CHOWN, 0}, {0, 0, 0}};
		say("  capset(gain chown)", syscall(SYS_capset, &h, d));
		_exit(0);
	}
	must("wait", waitpid(pid, NULL, 0));
	/* capget's version negotiation. */
	struct cap_header h = {0x12345678, 0};
	say("capget(bad version)", syscall(SYS_capget, &h, NULL));
	printf("  version written back %#x\n", h.version);
	h.version = CAP_V3;
	h.pid = 999999;
	struct cap_data d[2];
	say("capget(no such pid)", syscall(SYS_capget, &h, d));
	return 0;
}
