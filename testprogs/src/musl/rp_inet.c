/* rp_inet: TCP and UDP over the loopback addresses between a parent and a child, as a
   server and its client: bind to port 0 and getsockname (the wildcard address shown as
   bound), listen, accept, connect (blocking, and non-blocking with poll and SO_ERROR),
   send and recv (MSG_PEEK, MSG_WAITALL), shutdown and EOF, ECONNREFUSED on a closed port,
   SO_REUSEADDR and TCP_NODELAY, UDP datagrams with their source address, IPv6's ::1, and
   the argument checks. Port numbers are printed as "port" (they vary). usage: rp_inet, or
   rp_inet remote (an emulator-only check: a non-loopback address is unreachable). */
#include "rp.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

static void showAddr(const char *what, struct sockaddr *a) {
	char ip[64] = "?";
	int port = 0;
	if (a->sa_family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)a;
		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
		port = ntohs(s->sin_port);
	} else if (a->sa_family == AF_INET6) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)a;
		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
		port = ntohs(s->sin6_port);
	}
	printf("%-40s %s %s\n", what, ip, port ? "port" : "port 0");
}

static int readAll(int s, char *buf, int max) {
	int n = 0;
	long r;
	while (n < max && (r = read(s, buf + n, max - n)) > 0)
		n += r;
	return n;
}

static void tcp(int family) {
	printf("== TCP over %s\n", family == AF_INET ? "127.0.0.1" : "::1");
	int l = socket(family, SOCK_STREAM, 0);
	must("socket", l);
	int on = 1;
	say("SO_REUSEADDR", setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on));
	struct sockaddr_storage ss = {0};
	socklen_t n;
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		n = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		n = sizeof *a;
	}
	say("bind (port 0)", bind(l, (struct sockaddr *)&ss, n));
	say("listen", listen(l, 8));
	socklen_t gn = sizeof ss;
	say("getsockname", getsockname(l, (struct sockaddr *)&ss, &gn));
	showAddr("  bound to", (struct sockaddr *)&ss);
	/* The client connects to loopback at the port the server got. */
	if (family == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(family, SOCK_STREAM, 0);
		long r = connect(c, (struct sockaddr *)&ss, n);
		int v = 1;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
		char big[100000];
		memset(big, 'b', sizeof big);
		long w1 = write(c, "hello ", 6);
		long w2 = write(c, big, sizeof big);
		shutdown(c, SHUT_WR);
		char reply[64] = {0};
		int got = readAll(c, reply, 63);
		close(c);
		printf("  child: connect %ld, writes %ld %ld, reply %d bytes [%s]\n", r, w1, w2, got, reply);
		fflush(stdout);
		_exit(0);
	}
	struct sockaddr_storage peer;
	socklen_t pn = sizeof peer;
	int s = accept(l, (struct sockaddr *)&peer, &pn);
	char buf[8] = {0};
	long pk = recv(s, buf, 6, MSG_PEEK | MSG_WAITALL);
	static char all[200000];
	int got = readAll(s, all, sizeof all);
	long w = write(s, "thanks", 6);
	close(s);
	waitpid(pid, NULL, 0);
	say("accept", s >= 0 ? 0 : -1);
	showAddr("  peer", (struct sockaddr *)&peer);
	say("recv MSG_PEEK|MSG_WAITALL 6", pk);
	printf("  [%s]\n", buf);
	printf("read until EOF: %d bytes, last [%c]\n", got, got ? all[got - 1] : '-');
	say("write the reply", w);
	close(l);
	int c = socket(family, SOCK_STREAM, 0);
	say("connect to the closed port", connect(c, (struct sockaddr *)&ss, n));
	close(c);
}

static void nonblocking(void) {
	printf("== non-blocking connect\n");
	int l = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof a;
	must("bind", bind(l, (struct sockaddr *)&a, n));
	must("listen", listen(l, 1));
	getsockname(l, (struct sockaddr *)&a, &n);
	int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	long r = connect(c, (struct sockaddr *)&a, n);
	printf("connect: %s\n", r == 0 ? "0" : errname(errno));
	struct pollfd pf = {c, POLLOUT, 0};
	say("poll for POLLOUT", poll(&pf, 1, 5000));
	int err = -1;
	socklen_t en = sizeof err;
	say("SO_ERROR", getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &en));
	printf("  %d\n", err);
	int s = accept(l, NULL, NULL);
	char b;
	say("recv on an empty non-blocking socket", recv(c, &b, 1, 0));
	say("recv MSG_DONTWAIT", recv(s, &b, 1, MSG_DONTWAIT));
	close(c);
	say("recv after the peer closed (EOF)", recv(s, &b, 1, 0));
	close(s);
	close(l);
}

static void udp(void) {
	printf("== UDP\n");
	int a = socket(AF_INET, SOCK_DGRAM, 0), b = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct sockaddr_in sb = sa, from;
	socklen_t n = sizeof sa;
	must("bind a", bind(a, (struct sockaddr *)&sa, n));
	must("bind b", bind(b, (struct sockaddr *)&sb, n));
	getsockname(a, (struct sockaddr *)&sa, &n);
	getsockname(b, (struct sockaddr *)&sb, &n);
	say("sendto b", sendto(a, "datagram", 8, 0, (struct sockaddr *)&sb, n));
	char buf[16] = {0};
	socklen_t fn = sizeof from;
	say("recvfrom", recvfrom(b, buf, 4, MSG_TRUNC, (struct sockaddr *)&from, &fn));
	printf("  [%s] from a: %d\n", buf, from.sin_port == sa.sin_port);
	say("connect b to a", connect(b, (struct sockaddr *)&sa, n));
	say("send on b", send(b, "back", 4, 0));
	memset(buf, 0, sizeof buf);
	say("recv on a", recv(a, buf, 15, 0));
	printf("  [%s]\n", buf);
	close(a);
	close(b);
}

static void checks(void) {
	printf("== argument checks\n");
	say("socket(AF_INET, SOCK_SEQPACKET)", socket(AF_INET, SOCK_SEQPACKET, 0));
	say("socket(AF_INET, STREAM, UDP)", socket(AF_INET, SOCK_STREAM, IPPROTO_UDP));
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	say("bind(short address)", bind(s, (struct sockaddr *)&a, 4));
	say("connect(AF_UNIX address)", connect(s, (struct sockaddr *)&(struct sockaddr){.sa_family = AF_UNIX}, sizeof a));
	say("getpeername unconnected", getpeername(s, (struct sockaddr *)&a, &(socklen_t){sizeof a}));
	say("listen then accept non-blocking", (listen(s, 1), fcntl(s, F_SETFL, O_NONBLOCK), accept(s, NULL, NULL)));
	close(s);
}

static void remote(void) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(80)};
	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	say("connect to 10.1.2.3", connect(s, (struct sockaddr *)&a, sizeof a));
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	say("sendto 10.1.2.3", sendto(u, "x", 1, 0, (struct sockaddr *)&a, sizeof a));
	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	say("bind to 10.1.2.3", bind(u, (struct sockaddr *)&a, sizeof a));
	struct sockaddr_in6 six = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
	inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr);
	int t = socket(AF_INET6, SOCK_STREAM, 0);
	say("connect to 2001:db8::1", connect(t, (struct sockaddr *)&six, sizeof six));
}

int main(int argc, char **argv) {
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "remote") == 0) {
		remote();
		return 0;
	}
	tcp(AF_INET);
	tcp(AF_INET6);
	nonblocking();
	udp();
	checks();
	return 0;
}
