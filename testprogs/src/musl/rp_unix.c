/* rp_unix: AF_UNIX sockets between processes. usage: rp_unix DIR (an empty, writable
   directory). socketpair of each type (stream bytes across writes, datagram and seqpacket
   boundaries, MSG_PEEK, MSG_TRUNC, EOF and EPIPE after close and shutdown, SO_PEERCRED,
   non-blocking EAGAIN); descriptors passed with SCM_RIGHTS (a pipe and a file, used by the
   receiver; a control buffer too small: MSG_CTRUNC) and credentials with SCM_CREDENTIALS
   and SO_PASSCRED; a server on a path and on an abstract name (bind, listen, a child's
   connect, accept, getsockname, getpeername, EADDRINUSE, ECONNREFUSED once closed, ENOENT);
   datagrams with sendto and recvfrom and the sender's address; poll on sockets; and the
   argument checks. */
#include "rp.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static char dir[4096];

static socklen_t addrOf(struct sockaddr_un *a, const char *name, int abstract) {
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (abstract) {
		a->sun_path[0] = 0;
		memcpy(a->sun_path + 1, name, strlen(name));
		return offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name);
	}
	snprintf(a->sun_path, sizeof a->sun_path, "%s", name);
	return sizeof *a;
}

/* showAddr prints a socket address: its length and name (abstract names with @). */
static void showAddr(const char *what, struct sockaddr_un *a, socklen_t n) {
	printf("%-40s len %d ", what, (int)n);
	if (n <= offsetof(struct sockaddr_un, sun_path))
		printf("(unnamed)\n");
	else if (a->sun_path[0] == 0)
		printf("@%.*s\n", (int)(n - offsetof(struct sockaddr_un, sun_path) - 1), a->sun_path + 1);
	else
		printf("%s\n", a->sun_path);
}

static long sendfds(int s, int *fds, int n, const char *data) {
	char buf[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = {(void *)data, strlen(data)};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	return sendmsg(s, &m, 0);
}

static int recvfds(int s, int *fds, int max, size_t ctl) {
	char data[64] = {0}, buf[256];
	struct iovec iov = {data, sizeof data - 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = ctl};
	long r = recvmsg(s, &m, 0);
	say("recvmsg", r);
	printf("  data [%s] ctrunc %d\n", data, !!(m.msg_flags & MSG_CTRUNC));
	int n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (int i = 0; i < k && n < max; i++)
				memcpy(&fds[n++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
		}
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cr;
			memcpy(&cr, CMSG_DATA(c), sizeof cr);
			printf("  SCM_CREDENTIALS pid is the sender %d uid %d\n", cr.pid == getppid() || cr.pid == getpid(), cr.uid == getuid());
		}
	}
	printf("  %d descriptors\n", n);
	return n;
}

static void pairs(void) {
	printf("== socketpair\n");
	int sv[2];
	say("socketpair(STREAM)", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	say("write 5", write(sv[0], "hello", 5));
	say("write 6", write(sv[0], " world", 6));
	char buf[64] = {0};
	say("recv MSG_PEEK 3", recv(sv[1], buf, 3, MSG_PEEK));
	printf("  [%s]\n", buf);
	memset(buf, 0, sizeof buf);
	say("read 64 (across both writes)", read(sv[1], buf, 64));
	printf("  [%s]\n", buf);
	struct ucred cr;
	socklen_t n = sizeof cr;
	say("SO_PEERCRED", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &n));
	printf("  pid is self %d uid %d gid %d len %d\n", cr.pid == getpid(), cr.uid == geteuid(), cr.gid == getegid(), (int)n);
	int v = 0;
	n = sizeof v;
	say("SO_TYPE", getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &n));
	printf("  %d\n", v);
	say("fcntl(O_NONBLOCK)", fcntl(sv[1], F_SETFL, O_NONBLOCK));
	say("read empty, non-blocking", read(sv[1], buf, 64));
	say("shutdown(0, SHUT_WR)", shutdown(sv[0], SHUT_WR));
	say("read after the peer's SHUT_WR (EOF)", read(sv[1], buf, 64));
	say("write after own SHUT_WR", send(sv[0], "x", 1, MSG_NOSIGNAL));
	say("write the other way", write(sv[1], "back", 4));
	say("read it", read(sv[0], buf, 64));
	say("shutdown(bad how)", shutdown(sv[0], 7));
	close(sv[0]);
	say("write to a closed peer", send(sv[1], "x", 1, MSG_NOSIGNAL));
	close(sv[1]);

	say("socketpair(DGRAM)", socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	say("send 5", send(sv[0], "first", 5, 0));
	say("send 6", send(sv[0], "second", 6, 0));
	memset(buf, 0, sizeof buf);
	say("recv 64 (one datagram)", recv(sv[1], buf, 64, 0));
	printf("  [%s]\n", buf);
	memset(buf, 0, sizeof buf);
	say("recv 3 with MSG_TRUNC (real length)", recv(sv[1], buf, 3, MSG_TRUNC));
	printf("  [%s]\n", buf);
	say("send 0 bytes", send(sv[0], "", 0, 0));
	say("recv it", recv(sv[1], buf, 64, 0));
	int q = 0;
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	while (send(sv[0], "x", 1, 0) == 1)
		q++;
	printf("datagrams queued before %s: %d\n", errname(errno), q);
	close(sv[0]);
	close(sv[1]);

	say("socketpair(SEQPACKET)", socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	say("send 8", send(sv[0], "record-1", 8, 0));
	say("send 8", send(sv[0], "record-2", 8, 0));
	struct iovec iov = {buf, 4};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	memset(buf, 0, sizeof buf);
	say("recvmsg 4 of 8", recvmsg(sv[1], &m, 0));
	printf("  [%s] MSG_TRUNC %d\n", buf, !!(m.msg_flags & MSG_TRUNC));
	memset(buf, 0, sizeof buf);
	say("recv the next record", recv(sv[1], buf, 64, 0));
	printf("  [%s]\n", buf);
	close(sv[0]);
	say("recv after close (EOF)", recv(sv[1], buf, 64, 0));
	close(sv[1]);

	say("socketpair(AF_INET)", socketpair(AF_INET, SOCK_STREAM, 0, sv));
	say("socketpair(bad type)", socketpair(AF_UNIX, 9, 0, sv));
	say("socketpair(bad protocol)", socketpair(AF_UNIX, SOCK_STREAM, 7, sv));
	say("socketpair(bad pointer)", syscall(SYS_socketpair, AF_UNIX, SOCK_STREAM, 0, (int *)8));
}

static void rights(void) {
	printf("== SCM_RIGHTS and SCM_CREDENTIALS\n");
	int sv[2];
	must("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int p[2];
	must("pipe", pipe(p));
	char path[4200];
	snprintf(path, sizeof path, "%s/passed", dir);
	int f = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	must("write", write(f, "file data", 9));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		int got[4];
		int n = recvfds(sv[1], got, 4, sizeof(int) * 4 + 64);
		if (n == 2) {
			char b[32] = {0};
			must("write to the passed pipe", write(got[0], "through the pipe", 16));
			say("  child pread from the passed file", pread(got[1], b, 9, 0));
			printf("  [%s]\n", b);
			say("  child lseek(passed file, 0, SEEK_CUR)", lseek(got[1], 0, SEEK_CUR));
		}
		n = recvfds(sv[1], got, 4, CMSG_SPACE(sizeof(int)));
		int on = 1;
		setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on);
		n = recvfds(sv[1], got, 4, 256);
		fflush(stdout);
		_exit(0);
	}
	close(sv[1]);
	/* The parent prints only once the child is done, so the lines do not interleave. */
	int two[2] = {p[1], f};
	long r1 = sendfds(sv[0], two, 2, "fds");
	close(p[1]);
	char b[32] = {0};
	long r2 = read(p[0], b, 31);
	int three[3] = {p[0], f, f};
	long r3 = sendfds(sv[0], three, 3, "too many");
	struct ucred cr = {getpid(), getuid(), getgid()};
	char cbuf[CMSG_SPACE(sizeof cr)];
	struct iovec iov = {"creds", 5};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof cr);
	memcpy(CMSG_DATA(c), &cr, sizeof cr);
	long r4 = sendmsg(sv[0], &m, 0);
	waitpid(pid, NULL, 0);
	say("sendmsg with SCM_RIGHTS (2 descriptors)", r1);
	say("read what the child wrote into the pipe", r2);
	printf("  [%s]\n", b);
	say("sendmsg with SCM_RIGHTS (3 descriptors)", r3);
	say("sendmsg with SCM_CREDENTIALS", r4);
	int bad = 999;
	say("sendmsg with SCM_RIGHTS (a bad descriptor)", sendfds(sv[0], &bad, 1, "bad fd"));
	close(sv[0]);
	close(f);
	close(p[0]);
}

static void server(int abstract) {
	printf("== server on %s\n", abstract ? "an abstract name" : "a path");
	char path[4200];
	snprintf(path, sizeof path, "%s/sock", dir);
	struct sockaddr_un a, got;
	socklen_t n = addrOf(&a, abstract ? "rp-unix-test" : path, abstract);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	say("listen before bind", listen(l, 5));
	say("bind", bind(l, (struct sockaddr *)&a, n));
	say("bind again", bind(l, (struct sockaddr *)&a, n));
	int other = socket(AF_UNIX, SOCK_STREAM, 0);
	say("bind another to the same name", bind(other, (struct sockaddr *)&a, n));
	close(other);
	if (!abstract) {
		struct stat st;
		say("stat the socket file", stat(path, &st));
		printf("  socket %d\n", S_ISSOCK(st.st_mode));
	}
	int c0 = socket(AF_UNIX, SOCK_STREAM, 0);
	say("connect before listen", connect(c0, (struct sockaddr *)&a, n));
	close(c0);
	say("listen", listen(l, 5));
	socklen_t gn = sizeof got;
	say("getsockname", getsockname(l, (struct sockaddr *)&got, &gn));
	if (!abstract)
		printf("  path is ours %d\n", strcmp(got.sun_path, path) == 0);
	else
		showAddr("  name", &got, gn);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		say("  child connect", connect(c, (struct sockaddr *)&a, n));
		socklen_t pn = sizeof got;
		say("  child getpeername", getpeername(c, (struct sockaddr *)&got, &pn));
		if (abstract)
			showAddr("  child: peer", &got, pn);
		struct ucred cr;
		socklen_t cn = sizeof cr;
		getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cn);
		printf("  child: SO_PEERCRED pid is the server's %d\n", cr.pid == getppid());
		fflush(stdout);
		must("write", write(c, "ping", 4));
		char b[16] = {0};
		say("  child read the reply", read(c, b, 15));
		printf("  [%s]\n", b);
		_exit(0);
	}
	socklen_t an = sizeof got;
	int s = accept(l, (struct sockaddr *)&got, &an);
	struct ucred cr;
	socklen_t cn = sizeof cr;
	getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &cn);
	char b[16] = {0};
	long r = read(s, b, 15);
	must("write", write(s, "pong", 4));
	waitpid(pid, NULL, 0);
	say("accept", s >= 0 ? 0 : -1);
	showAddr("  accepted from", &got, an);
	printf("  SO_PEERCRED pid is the child %d\n", cr.pid == pid);
	say("read", r);
	printf("  [%s]\n", b);
	say("read after the child exited (EOF)", read(s, b, 15));
	int v = 0;
	socklen_t vn = sizeof v;
	getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vn);
	printf("SO_ACCEPTCONN %d\n", v);
	close(s);
	close(l);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	say("connect after the server closed", connect(c, (struct sockaddr *)&a, n));
	close(c);
	if (!abstract) {
		c = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un none;
		socklen_t nn = addrOf(&none, "/nonexistent/socket", 0);
		say("connect to a missing path", connect(c, (struct sockaddr *)&none, nn));
		nn = addrOf(&none, dir, 0);
		say("connect to a directory", connect(c, (struct sockaddr *)&none, nn));
		close(c);
		say("unlink the socket file", unlink(path));
	}
}

static void dgrams(void) {
	printf("== datagrams on names\n");
	struct sockaddr_un a, b, from;
	socklen_t an = addrOf(&a, "rp-dgram-a", 1), bn = addrOf(&b, "rp-dgram-b", 1);
	int sa = socket(AF_UNIX, SOCK_DGRAM, 0), sb = socket(AF_UNIX, SOCK_DGRAM, 0);
	must("bind a", bind(sa, (struct sockaddr *)&a, an));
	must("bind b", bind(sb, (struct sockaddr *)&b, bn));
	say("sendto b", sendto(sa, "to b", 4, 0, (struct sockaddr *)&b, bn));
	say("send unconnected", send(sa, "x", 1, 0));
	char buf[32] = {0};
	socklen_t fn = sizeof from;
	say("recvfrom", recvfrom(sb, buf, 31, 0, (struct sockaddr *)&from, &fn));
	printf("  [%s]\n", buf);
	showAddr("  from", &from, fn);
	say("connect b to a", connect(sb, (struct sockaddr *)&a, an));
	say("send on the connected b", send(sb, "to a", 4, 0));
	memset(buf, 0, sizeof buf);
	say("recv on a", recv(sa, buf, 31, 0));
	printf("  [%s]\n", buf);
	int sc = socket(AF_UNIX, SOCK_DGRAM, 0);
	say("a third sends to b (connected to a)", sendto(sc, "x", 1, 0, (struct sockaddr *)&b, bn));
	struct sockaddr_un none;
	socklen_t nn = addrOf(&none, "rp-nobody", 1);
	say("sendto a name nobody has", sendto(sc, "x", 1, 0, (struct sockaddr *)&none, nn));
	struct sockaddr_un unspec = {.sun_family = AF_UNSPEC};
	say("connect(AF_UNSPEC) forgets the peer", connect(sb, (struct sockaddr *)&unspec, sizeof(sa_family_t)));
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	say("connect a stream socket to a datagram name", connect(st, (struct sockaddr *)&a, an));
	close(sa);
	close(sb);
	close(sc);
	close(st);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un fam = {.sun_family = AF_UNIX};
	say("autobind (family only)", bind(s, (struct sockaddr *)&fam, sizeof(sa_family_t)));
	socklen_t gn = sizeof from;
	getsockname(s, (struct sockaddr *)&from, &gn);
	printf("  autobind name: len %d abstract %d\n", (int)gn, from.sun_path[0] == 0);
	close(s);
}

static void checks(void) {
	printf("== argument checks\n");
	say("socket(AF_UNIX, bad type)", socket(AF_UNIX, 9, 0));
	say("socket(AF_UNIX, STREAM, 5)", socket(AF_UNIX, SOCK_STREAM, 5));
	say("socket(bad family)", socket(200, SOCK_STREAM, 0));
	say("socket(bad flags)", socket(AF_UNIX, SOCK_STREAM | 0x100000, 0));
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	printf("cloexec %d nonblock %d\n", fcntl(s, F_GETFD) & FD_CLOEXEC, !!(fcntl(s, F_GETFL) & O_NONBLOCK));
	struct sockaddr_un a;
	say("bind(addrlen 1)", bind(s, (struct sockaddr *)&a, 1));
	a.sun_family = AF_INET;
	say("bind(wrong family)", bind(s, (struct sockaddr *)&a, sizeof a));
	say("bind(bad pointer)", bind(s, (struct sockaddr *)8, sizeof a));
	say("accept on an unlistened socket", accept(s, NULL, NULL));
	say("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &(socklen_t){sizeof a}));
	say("recv unconnected", recv(s, &a, 1, 0));
	say("send unconnected", send(s, "x", 1, MSG_NOSIGNAL));
	say("getsockopt(unknown)", getsockopt(s, SOL_SOCKET, 9999, &a, &(socklen_t){4}));
	say("setsockopt(SO_RCVBUF, short)", setsockopt(s, SOL_SOCKET, SO_RCVBUF, &a, 2));
	int v = 10000;
	say("setsockopt(SO_SNDBUF, 10000)", setsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
	socklen_t n = sizeof v;
	getsockopt(s, SOL_SOCKET, SO_SNDBUF, &v, &n);
	printf("  SO_SNDBUF reads %d\n", v);
	int p[2];
	must("pipe", pipe(p));
	say("connect on a pipe", connect(p[0], (struct sockaddr *)&a, sizeof a));
	say("getsockopt on a pipe", getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &n));
	say("shutdown on a bad fd", shutdown(99, SHUT_RD));
	close(s);
}

static void polls(void) {
	printf("== poll\n");
	int sv[2];
	must("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	struct pollfd pf[2] = {{sv[0], POLLIN | POLLOUT, 0}, {sv[1], POLLIN | POLLOUT | POLLRDHUP, 0}};
	say("poll", poll(pf, 2, 0));
	printf("  %#x %#x\n", pf[0].revents, pf[1].revents);
	must("write", write(sv[0], "x", 1));
	say("poll after a write", poll(pf, 2, 0));
	printf("  %#x %#x\n", pf[0].revents, pf[1].revents);
	shutdown(sv[0], SHUT_WR);
	say("poll after SHUT_WR", poll(pf, 2, 0));
	printf("  %#x %#x\n", pf[0].revents, pf[1].revents);
	close(sv[0]);
	say("poll after close", poll(&pf[1], 1, 0));
	printf("  %#x\n", pf[1].revents);
	close(sv[1]);
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: rp_unix DIR\n");
		return 2;
	}
	must("realpath", realpath(argv[1], dir) ? 0 : -1);
	signal(SIGPIPE, SIG_IGN);
	pairs();
	rights();
	server(0);
	server(1);
	dgrams();
	checks();
	polls();
	return 0;
}
