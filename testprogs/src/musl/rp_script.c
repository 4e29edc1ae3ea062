/* rp_script: "#!" scripts, as Linux's binfmt_script runs them. usage: rp_script DIR (an
   empty, writable directory). The program is its own interpreter: run as an interpreter
   (argv[1] "as-interp") it prints the arguments it got, so each case shows the argv the
   kernel built. Cases: a script with no argument, one with an argument (the rest of the
   line, blanks trimmed, one string), nested scripts, the nesting limit (ELOOP), a missing
   interpreter (ENOENT), a script that is not executable (EACCES), a "#!" line with no
   interpreter name (ENOEXEC), an interpreter name cut by the 256-byte limit (ENOEXEC), a
   file that is neither ELF nor script (ENOEXEC), and execve with an empty argv (argc 1,
   argv[0] "", Linux 5.18). */
#include "rp.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static char self[4096], dir[4096];

/* The interpreter runs learn DIR and their own path from the environment. */
static void from_env(void) {
	const char *d = getenv("RP_DIR"), *s = getenv("RP_SELF");
	snprintf(dir, sizeof dir, "%s", d ? d : "/nonexistent");
	snprintf(self, sizeof self, "%s", s ? s : "/nonexistent");
}

/* rel prints a path with DIR and the program's own path replaced, so runs in different
   directories, natively and emulated, print the same. */
static const char *rel(const char *p) {
	static char buf[2][4096];
	static int n;
	char *b = buf[n++ & 1];
	size_t d = strlen(dir), s = strlen(self);
	if (strncmp(p, dir, d) == 0)
		snprintf(b, 4096, "DIR%s", p + d);
	else if (strncmp(p, self, s) == 0)
		snprintf(b, 4096, "SELF%s", p + s);
	else
		snprintf(b, 4096, "%s", p);
	return b;
}

static void put(const char *name, const char *text, mode_t mode) {
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	must("open", fd);
	must("write", write(fd, text, strlen(text)));
	close(fd);
	chmod(path, mode);
}

/* run executes DIR/name with the arguments given in a child and reports how it went. */
static void run(const char *name, char *const argv[]) {
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	printf("== %s\n", name);
	fflush(stdout);
	pid_t pid = fork();
	must("fork", pid);
	if (pid == 0) {
		execv(path, argv);
		printf("execve %s: -1 %s\n", name, errname(errno));
		fflush(stdout);
		_exit(0);
	}
	int st;
	must("wait", waitpid(pid, &st, 0));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("status %#x\n", st);
}

int main(int argc, char **argv) {
	if (argc >= 2 && strncmp(argv[1], "as-interp", 9) == 0) {
		/* argv[0] is the path the script's #! line named; argv[1] our marker. */
		from_env();
		printf("argc %d:", argc);
		for (int i = 0; i < argc; i++)
			printf(" [%s]", i == 1 ? argv[i] : rel(argv[i]));
		printf("\n");
		return 0;
	}
	if (argc == 0) {
		printf("argc 0\n");
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "count") == 0) {
		printf("argc %d argv[0] [%s] argv[1] %s\n", argc, argv[0], argv[1] ? argv[1] : "NULL");
		return 0;
	}
	if (argc == 1 && argv[0][0] == 0) {
		printf("argc 1 argv[0] empty\n");
		return 0;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: rp_script DIR\n");
		return 2;
	}
	must("realpath", realpath(argv[1], dir) ? 0 : -1);
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	must("readlink /proc/self/exe", n);
	self[n] = 0;
	setenv("RP_DIR", dir, 1);
	setenv("RP_SELF", self, 1);

	char line[8192];
	/* The interpreter with one argument: "as-interp", which rp_script then prints. */
	snprintf(line, sizeof line, "#!%s as-interp\nbody\n", self);
	put("plain", line, 0755);
	snprintf(line, sizeof line, "#! \t%s   as-interp  with  spaces \t \nbody\n", self);
	put("spaced", line, 0755);
	/* Nested: nest1's interpreter is plain, a script itself. The names are relative to
	   the working directory (DIR), as an interpreter's name may be, so the files are the
	   same in every run. */
	must("chdir", chdir(dir));
	snprintf(line, sizeof line, "#!./plain extra\n");
	put("nest1", line, 0755);
	for (int i = 2; i <= 6; i++) {
		char name[32];
		snprintf(line, sizeof line, "#!./nest%d\n", i - 1);
		snprintf(name, sizeof name, "nest%d", i);
		put(name, line, 0755);
	}
	put("missing", "#!/nonexistent/interpreter -x\n", 0755);
	snprintf(line, sizeof line, "#!%s as-interp\n", self);
	put("noexec", line, 0644);
	put("noname", "#!   \t \n", 0755);
	put("notscript", "just text\n", 0755);
	put("empty", "", 0755);
	/* An interpreter name that runs past the 256 bytes the kernel reads. */
	memset(line, 'a', 300);
	memcpy(line, "#!/", 3);
	line[300] = 0;
	put("longname", line, 0755);
	/* A long argument is cut, which is fine. */
	int off = snprintf(line, sizeof line, "#!%s as-interp ", self);
	memset(line + off, 'b', 300);
	line[off + 300] = '\n';
	line[off + 301] = 0;
	put("longarg", line, 0755);
	/* No newline at all: the file ends the line. */
	snprintf(line, sizeof line, "#!%s as-interp", self);
	put("nonewline", line, 0755);

	char *args[] = {"argv0", "one", "two", NULL};
	const char *names[] = {"plain", "spaced", "nest1", "nest2", "nest3", "nest4", "nest5",
		"nest6", "missing", "noexec", "noname", "notscript", "empty", "longname", "longarg",
		"nonewline"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(names[i], "longarg") == 0) {
			/* Print only the length of the argument the kernel kept. */
			char path[4200];
			snprintf(path, sizeof path, "%s/longarg", dir);
			int p[2];
			must("pipe", pipe(p));
			pid_t pid = fork();
			if (pid == 0) {
				dup2(p[1], 1);
				execv(path, args);
				_exit(1);
			}
			close(p[1]);
			char out[4096] = {0};
			ssize_t got = 0, r;
			while ((r = read(p[0], out + got, sizeof out - 1 - got)) > 0)
				got += r;
			waitpid(pid, NULL, 0);
			char *b = strchr(out, 'b');
			printf("== longarg\nargument bytes kept: %zu\n", b ? strspn(b, "b") : 0);
			continue;
		}
		run(names[i], args);
	}
	/* execve with an empty argv, and with argv NULL: Linux gives argc 1, argv[0] "". */
	for (int i = 0; i < 2; i++) {
		printf("== empty argv%s\n", i ? " (NULL)" : "");
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			char *none[] = {NULL};
			char *env[] = {NULL};
			syscall(59 /* execve */, self, i ? NULL : none, env);
			printf("execve: -1 %s\n", errname(errno));
			_exit(0);
		}
		waitpid(pid, NULL, 0);
	}
	/* The empty argv on a script: the interpreter still gets the script's path. */
	{
		printf("== script with empty argv\n");
		fflush(stdout);
		char path[4200];
		snprintf(path, sizeof path, "%s/plain", dir);
		pid_t pid = fork();
		if (pid == 0) {
			char *none[] = {NULL};
			execve(path, none, environ);
			_exit(1);
		}
		waitpid(pid, NULL, 0);
	}
	return 0;
}
