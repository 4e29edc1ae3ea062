/* rp_xattr: extended attributes on files in DIR (an empty, writable directory), as cp -a
   and tar use them: setxattr with XATTR_CREATE and XATTR_REPLACE, getxattr (the size query,
   a buffer too small), listxattr, removexattr, ENODATA, the l* forms on a symbolic link
   and the f* forms on descriptors (a pipe has none: ENOTSUP; an O_PATH descriptor EBADF),
   and the argument checks (empty and overlong names, bad flags, a value over 64 KiB). */
#include "rp.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

static void list(const char *what, long n, const char *buf) {
	printf("%-44s %ld:", what, n);
	for (long i = 0; i < n; i += strlen(buf + i) + 1)
		printf(" %s", buf + i);
	printf("\n");
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: rp_xattr DIR\n");
		return 2;
	}
	must("chdir", chdir(argv[1]));
	int fd = open("f", O_CREAT | O_RDWR, 0644);
	must("open", fd);
	must("symlink", symlink("f", "link"));
	char buf[256] = {0};
	say("setxattr(user.a, \"one\")", setxattr("f", "user.a", "one", 3, 0));
	say("setxattr(user.a, CREATE)", setxattr("f", "user.a", "uno", 3, XATTR_CREATE));
	say("setxattr(user.b, REPLACE)", setxattr("f", "user.b", "two", 3, XATTR_REPLACE));
	say("fsetxattr(user.b)", fsetxattr(fd, "user.b", "two", 3, 0));
	say("setxattr(bad flags)", setxattr("f", "user.c", "x", 1, 4));
	say("setxattr(empty name)", setxattr("f", "", "x", 1, 0));
	char longname[300];
	memset(longname, 'n', sizeof longname);
	memcpy(longname, "user.", 5);
	longname[299] = 0;
	say("setxattr(299-byte name)", setxattr("f", longname, "x", 1, 0));
	say("setxattr(unknown namespace)", setxattr("f", "bogus.x", "x", 1, 0));
	void *big = calloc(1, 70000);
	say("setxattr(70000 bytes)", setxattr("f", "user.big", big, 70000, 0));
	say("setxattr(bad value ptr)", syscall(SYS_setxattr, "f", "user.c", (void *)8, 10, 0));
	say("getxattr(user.a, size 0)", getxattr("f", "user.a", NULL, 0));
	say("getxattr(user.a)", getxattr("f", "user.a", buf, sizeof buf));
	printf("  [%s]\n", buf);
	say("getxattr(user.a, too small)", getxattr("f", "user.a", buf, 1));
	say("getxattr(user.none)", getxattr("f", "user.none", buf, sizeof buf));
	say("fgetxattr(user.b)", fgetxattr(fd, "user.b", buf, sizeof buf));
	say("getxattr(via link, user.b)", getxattr("link", "user.b", buf, sizeof buf));
	say("lgetxattr(link, user.b)", lgetxattr("link", "user.b", buf, sizeof buf));
	say("lsetxattr(link, user.x)", lsetxattr("link", "user.x", "x", 1, 0));
	long n = listxattr("f", buf, sizeof buf);
	list("listxattr(f)", n, buf);
	say("listxattr(size 0)", listxattr("f", NULL, 0));
	say("listxattr(too small)", listxattr("f", buf, 3));
	n = llistxattr("link", buf, sizeof buf);
	list("llistxattr(link)", n, buf);
	n = flistxattr(fd, buf, sizeof buf);
	list("flistxattr(fd)", n, buf);
	say("removexattr(user.a)", removexattr("f", "user.a"));
	say("removexattr(user.a) again", removexattr("f", "user.a"));
	say("fremovexattr(user.b)", fremovexattr(fd, "user.b"));
	n = listxattr("f", buf, sizeof buf);
	list("listxattr(f)", n, buf);
	say("getxattr(missing file)", getxattr("nope", "user.a", buf, sizeof buf));
	say("getxattr(bad path ptr)", getxattr((char *)8, "user.a", buf, sizeof buf));
	int p[2];
	must("pipe", pipe(p));
	say("fgetxattr(pipe)", fgetxattr(p[0], "user.a", buf, sizeof buf));
	say("fsetxattr(pipe)", fsetxattr(p[0], "user.a", "x", 1, 0));
	say("flistxattr(pipe)", flistxattr(p[0], buf, sizeof buf));
	int o = open("f", O_PATH);
	say("fgetxattr(O_PATH)", fgetxattr(o, "user.a", buf, sizeof buf));
	say("fgetxattr(bad fd)", fgetxattr(99, "user.a", buf, sizeof buf));
	must("mkdir", mkdir("d", 0755));
	say("setxattr(dir, user.d)", setxattr("d", "user.d", "dir", 3, 0));
	say("getxattr(dir, user.d)", getxattr("d", "user.d", buf, sizeof buf));
	return 0;
}
