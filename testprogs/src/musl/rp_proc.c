/* rp_proc: /proc as a program reads it about itself. Its maps (its own executable, the
   stack, the heap, a mapping it made, a file it mapped), smaps (Rss, Anonymous and Locked of
   a region it touched part of), pagemap (present, exclusive after fork and copy-on-write,
   file pages, the frame number shown to root only), status, stat, statm, cmdline, environ,
   auxv, the exe and cwd links, fd/ and fdinfo/ (a file, a pipe, a socket, an eventfd), /dev/fd
   reopening a pipe and a file, task/, a directory listing, and meminfo, cpuinfo, stat and
   uptime. Everything printed is what does not vary between runs: relations, not addresses. */
#include "rp.h"
#include <fcntl.h>
#include <dirent.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char *slurp(const char *path, size_t *len) {
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("open %s: %s\n", path, errname(errno));
		return NULL;
	}
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	long r;
	while ((r = read(fd, b + n, cap - n - 1)) > 0) {
		n += r;
		if (cap - n < 4096)
			b = realloc(b, cap *= 2);
	}
	close(fd);
	b[n] = 0;
	if (len)
		*len = n;
	return b;
}

/* mapsLine returns the maps line of the area that holds addr (its fields after the address
   range), or NULL. */
static char *mapsLine(char *maps, uintptr_t addr) {
	for (char *l = maps; l && *l;) {
		char *nl = strchr(l, '\n');
		unsigned long lo, hi;
		if (sscanf(l, "%lx-%lx", &lo, &hi) == 2 && addr >= lo && addr < hi) {
			size_t n = nl ? (size_t)(nl - l) : strlen(l);
			char *out = malloc(n + 1);
			memcpy(out, l, n);
			out[n] = 0;
			return out;
		}
		l = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* field returns the n-th space-separated field of a maps line (0: the range). */
static const char *field(const char *line, int n) {
	static char buf[4096];
	const char *s = line;
	for (int i = 0; i < n && s; i++) {
		s = strchr(s, ' ');
		while (s && *s == ' ')
			s++;
	}
	if (!s)
		return "";
	size_t k = strcspn(s, n < 5 ? " " : "\n");
	snprintf(buf, sizeof buf, "%.*s", (int)k, s);
	return buf;
}

static uint64_t pagemap(void *addr) {
	int fd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e = 0;
	if (pread(fd, &e, 8, (uintptr_t)addr / 4096 * 8) != 8)
		e = 0;
	close(fd);
	return e;
}

static void showPM(const char *what, void *addr) {
	uint64_t e = pagemap(addr);
	printf("%-40s present %d swapped %d file %d exclusive %d pfn %s\n", what, (int)(e >> 63 & 1), (int)(e >> 62 & 1),
		(int)(e >> 61 & 1), (int)(e >> 56 & 1), (e & ((1ULL << 55) - 1)) ? "shown" : "hidden");
	fflush(stdout);
}

/* smapsOf prints a few counters of the smaps entry of the area holding addr. */
static void smapsOf(const char *what, void *addr) {
	char *s = slurp("/proc/self/smaps", NULL);
	unsigned long lo, hi;
	char *l = s;
	int in = 0;
	printf("%s:", what);
	while (l && *l) {
		char *nl = strchr(l, '\n');
		if (nl)
			*nl = 0;
		if (sscanf(l, "%lx-%lx ", &lo, &hi) == 2 && strchr(l, ' ') && l[strcspn(l, " ")] == ' ' && strlen(l) > 30)
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && (!strncmp(l, "Size:", 5) || !strncmp(l, "Rss:", 4) || !strncmp(l, "Anonymous:", 10) ||
				       !strncmp(l, "Locked:", 7) || !strncmp(l, "Private_Dirty:", 14)))
			printf(" [%s]", l);
		l = nl ? nl + 1 : NULL;
	}
	printf("\n");
	free(s);
}

static void statusField(const char *status, const char *name, char *out, size_t n) {
	const char *p = strstr(status, name);
	out[0] = 0;
	if (p) {
		p += strlen(name);
		while (*p == '\t' || *p == ' ')
			p++;
		snprintf(out, n, "%.*s", (int)strcspn(p, "\n"), p);
	}
}

int main(int argc, char **argv) {
	(void)argc;
	char exe[4096] = {0}, cwd[4096] = {0};
	say("readlink /proc/self/exe", readlink("/proc/self/exe", exe, sizeof exe - 1) > 0 ? 0 : -1);
	char real[4096];
	printf("  it is this program: %d\n", realpath(argv[0], real) && strcmp(real, exe) == 0);
	say("readlink /proc/self/cwd", readlink("/proc/self/cwd", cwd, sizeof cwd - 1) > 0 ? 0 : -1);
	char gc[4096];
	printf("  it is getcwd: %d\n", getcwd(gc, sizeof gc) && strcmp(gc, cwd) == 0);
	char self[32] = {0};
	readlink("/proc/self", self, sizeof self - 1);
	printf("/proc/self is the pid: %d\n", atoi(self) == getpid());

	/* maps */
	char *heap = malloc(200000);
	heap[0] = 1;
	char *brkp = sbrk(0);
	sbrk(8192);
	/* Eight pages between two PROT_NONE guard pages: an area that merges with nothing. */
	char *guarded = mmap(NULL, 10 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *m = guarded + 4096;
	must("mprotect", mprotect(m, 8 * 4096, PROT_READ | PROT_WRITE));
	char path[4096];
	snprintf(path, sizeof path, "%s", exe);
	int ef = open(exe, O_RDONLY);
	char *fm = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ef, 0);
	char *maps = slurp("/proc/self/maps", NULL);
	char *l = mapsLine(maps, (uintptr_t)main);
	printf("maps of main: %s, name is the exe %d\n", field(l, 1), strcmp(field(l, 5), exe) == 0);
	int local = 0;
	l = mapsLine(maps, (uintptr_t)&local);
	printf("maps of the stack: %s %s\n", field(l, 1), field(l, 5));
	l = mapsLine(maps, (uintptr_t)brkp);
	printf("maps of the break: %s %s\n", field(l, 1), field(l, 5));
	l = mapsLine(maps, (uintptr_t)m);
	printf("maps of an anonymous mapping: %s offset %s dev %s inode %s name [%s]\n", field(l, 1), field(l, 2),
		field(l, 3), field(l, 4), field(l, 5));
	l = mapsLine(maps, (uintptr_t)fm);
	printf("maps of a file mapping: %s offset %s inode matches %d\n", field(l, 1), field(l, 2),
		({ struct stat st; fstat(ef, &st); (unsigned long)atol(field(l, 4)) == (unsigned long)st.st_ino; }));
	printf("maps ends with vsyscall: %d\n", strstr(maps, "[vsyscall]\n") != NULL && strstr(maps, "[vsyscall]\n")[11] == 0);
	free(maps);

	/* smaps and pagemap */
	m[0] = 1;
	m[2 * 4096] = 1;
	m[5 * 4096] = 1;
	smapsOf("smaps of the mapping (3 of 8 pages touched)", m);
	showPM("pagemap of a touched page", m);
	showPM("pagemap of an untouched page", m + 4096);
	showPM("pagemap of a file page", fm + (fm[0] & 0));
	mlock(m, 8 * 4096);
	smapsOf("smaps after mlock", m);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		showPM("  child: a page shared with the parent", m);
		m[0] = 2;
		showPM("  child: after writing it", m);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	showPM("parent: after the child's copy", m);
	int pmfd = open("/proc/self/pagemap", O_RDONLY);
	uint64_t e;
	say("pagemap: read at an odd offset", pread(pmfd, &e, 8, 3));
	say("pagemap: read 4 bytes", pread(pmfd, &e, 4, 0));
	close(pmfd);

	/* status, stat, statm */
	char *status = slurp("/proc/self/status", NULL);
	char v[256];
	statusField(status, "Name:", v, sizeof v);
	printf("status Name [%s]\n", v);
	statusField(status, "State:", v, sizeof v);
	printf("status State [%s]\n", v);
	statusField(status, "\nPid:", v, sizeof v);
	printf("status Pid is getpid %d\n", atoi(v) == getpid());
	statusField(status, "PPid:", v, sizeof v);
	printf("status PPid is getppid %d\n", atoi(v) == getppid());
	statusField(status, "Uid:", v, sizeof v);
	printf("status Uid starts with getuid %d\n", atoi(v) == (int)getuid());
	statusField(status, "Threads:", v, sizeof v);
	printf("status Threads [%s]\n", v);
	statusField(status, "VmLck:", v, sizeof v);
	printf("status VmLck [%s]\n", v);
	free(status);
	char *st = slurp("/proc/self/stat", NULL);
	int spid, sppid;
	char comm[64], state;
	sscanf(st, "%d (%63[^)]) %c %d", &spid, comm, &state, &sppid);
	printf("stat: pid %d comm [%s] state %c ppid %d\n", spid == getpid(), comm, state, sppid == getppid());
	free(st);
	char *sm = slurp("/proc/self/statm", NULL);
	long size = 0, res = 0;
	sscanf(sm, "%ld %ld", &size, &res);
	printf("statm: size > resident > 0: %d\n", size > res && res > 0);
	free(sm);

	/* cmdline, environ, auxv */
	size_t n;
	char *cl = slurp("/proc/self/cmdline", &n);
	printf("cmdline: %zu bytes, first [%s] is argv[0] %d\n", n, cl, strcmp(cl, argv[0]) == 0);
	setenv("RP_PROC_LATE", "1", 1);
	char *env = slurp("/proc/self/environ", &n);
	int found = 0, late = 0;
	for (size_t i = 0; i < n; i += strlen(env + i) + 1) {
		found |= strncmp(env + i, "HOME=", 5) == 0;
		late |= strncmp(env + i, "RP_PROC_LATE=", 13) == 0;
	}
	printf("environ: has HOME %d, has a variable set later %d\n", found, late);
	char *auxv = slurp("/proc/self/auxv", &n);
	unsigned long *a = (unsigned long *)auxv;
	unsigned long pg = 0;
	for (size_t i = 0; i + 1 < n / 8; i += 2)
		if (a[i] == AT_PAGESZ)
			pg = a[i + 1];
	printf("auxv: AT_PAGESZ %lu, ends with AT_NULL %d\n", pg, n >= 16 && a[n / 8 - 2] == 0);

	/* fd and fdinfo */
	int p[2];
	must("pipe", pipe(p));
	int s[2];
	must("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, s));
	int ev = eventfd(7, 0);
	int rf = open(exe, O_RDONLY | O_CLOEXEC);
	char b8[8];
	must("read", read(rf, b8, 5));
	char lk[4096];
	struct { const char *what; int fd; } fds[] = {{"a file", rf}, {"a pipe", p[0]}, {"a socket", s[0]}, {"an eventfd", ev}};
	for (int i = 0; i < 4; i++) {
		char fp[64];
		snprintf(fp, sizeof fp, "/proc/self/fd/%d", fds[i].fd);
		long r = readlink(fp, lk, sizeof lk - 1);
		lk[r > 0 ? r : 0] = 0;
		char *br = strchr(lk, '[');
		if (br)
			br[1] = 0;
		printf("fd link of %s: [%s]\n", fds[i].what, fds[i].fd == rf ? (strcmp(lk, exe) == 0 ? "the exe" : lk) : lk);
	}
	char fi[64];
	snprintf(fi, sizeof fi, "/proc/self/fdinfo/%d", rf);
	char *info = slurp(fi, NULL);
	unsigned pos = 99, flags = 0;
	sscanf(info, "pos:\t%u\nflags:\t%o", &pos, &flags);
	printf("fdinfo of the file: pos %u, O_CLOEXEC %d, O_RDONLY %d\n", pos, !!(flags & O_CLOEXEC), (flags & O_ACCMODE) == O_RDONLY);
	snprintf(fi, sizeof fi, "/proc/self/fdinfo/%d", ev);
	info = slurp(fi, NULL);
	printf("fdinfo of the eventfd has the count: %d\n", strstr(info, "eventfd-count:                7") != NULL);

	/* /dev/fd reopens */
	must("write", write(p[1], "through /dev/fd", 15));
	char dp[64];
	snprintf(dp, sizeof dp, "/dev/fd/%d", p[0]);
	int rp = open(dp, O_RDONLY);
	char got[32] = {0};
	say("read the pipe through /dev/fd", read(rp, got, 31));
	printf("  [%s]\n", got);
	snprintf(dp, sizeof dp, "/dev/fd/%d", rf);
	int again = open(dp, O_RDONLY);
	printf("reopened file: own offset %ld (the first is at %ld)\n", (long)lseek(again, 0, SEEK_CUR), (long)lseek(rf, 0, SEEK_CUR));
	snprintf(dp, sizeof dp, "/proc/self/fd/%d", s[0]);
	say("open a socket's fd link", open(dp, O_RDWR));
	say("open /proc/self/fd/999", open("/proc/self/fd/999", O_RDONLY));
	say("open /proc/self/maps for writing (root may)", open("/proc/self/maps", O_WRONLY) >= 0 ? 0 : -1);
	say("open /proc/self/nonexistent", open("/proc/self/nonexistent-entry", O_RDONLY));

	/* directories */
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	int tasks = 0, me = 0;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			tasks++;
			me |= atoi(de->d_name) == getpid();
		}
	closedir(d);
	printf("task/: %d entries, one is the pid %d\n", tasks, me);
	d = opendir("/proc/self");
	int hasMaps = 0, hasStatus = 0, hasFd = 0;
	while ((de = readdir(d))) {
		hasMaps |= strcmp(de->d_name, "maps") == 0;
		hasStatus |= strcmp(de->d_name, "status") == 0;
		hasFd |= strcmp(de->d_name, "fd") == 0 && de->d_type == DT_DIR;
	}
	closedir(d);
	printf("/proc/self lists maps %d status %d fd %d\n", hasMaps, hasStatus, hasFd);
	d = opendir("/proc");
	int hasSelf = 0, hasPid = 0;
	char mine[16];
	snprintf(mine, sizeof mine, "%d", getpid());
	while ((de = readdir(d))) {
		hasSelf |= strcmp(de->d_name, "self") == 0;
		hasPid |= strcmp(de->d_name, mine) == 0;
	}
	closedir(d);
	printf("/proc lists self %d and the pid %d\n", hasSelf, hasPid);
	struct stat sst;
	say("lstat /proc/self", lstat("/proc/self", &sst));
	printf("  a link %d\n", S_ISLNK(sst.st_mode));
	say("stat /proc/self/maps", stat("/proc/self/maps", &sst));
	printf("  regular %d, size %lld\n", S_ISREG(sst.st_mode), (long long)sst.st_size);
	say("stat /proc/self/fd", stat("/proc/self/fd", &sst));
	printf("  a directory %d\n", S_ISDIR(sst.st_mode));
	int dfd = open("/proc/self", O_RDONLY | O_DIRECTORY);
	say("fstatat(/proc/self fd, status)", fstatat(dfd, "status", &sst, 0));
	int sfd = openat(dfd, "comm", O_RDONLY);
	char cm[32] = {0};
	say("openat(/proc/self fd, comm) and read", read(sfd, cm, 31));
	printf("  [%s]\n", strtok(cm, "\n"));

	/* the machine */
	char *mi = slurp("/proc/meminfo", NULL);
	printf("meminfo starts with MemTotal: %d\n", strncmp(mi, "MemTotal:", 9) == 0);
	char *ci = slurp("/proc/cpuinfo", NULL);
	printf("cpuinfo has processor 0: %d, flags with sse2: %d\n", strstr(ci, "processor\t: 0\n") != NULL,
		strstr(ci, " sse2") != NULL);
	char *ps = slurp("/proc/stat", NULL);
	printf("stat starts with the cpu line: %d, has btime %d\n", strncmp(ps, "cpu ", 4) == 0, strstr(ps, "\nbtime ") != NULL);
	char *up = slurp("/proc/uptime", NULL);
	double u1 = -1, u2 = -1;
	sscanf(up, "%lf %lf", &u1, &u2);
	printf("uptime: two numbers %d\n", u1 >= 0 && u2 >= 0);
	return 0;
}
