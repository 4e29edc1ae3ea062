/* vm_exec: a chain of execve. usage: vm_exec SELF N [words...]
   Each link prints its argc, argv and the CHAIN variable, then (N > 0) execs SELF with N-1
   and one more word, and CHAIN extended. The last link forks a child that execs SELF once
   more (as a shell runs a command), waits for it, then tries execve errors: a missing file
   (ENOENT), a file without execute permission (EACCES), a non-ELF executable (ENOEXEC), and a
   bad argv pointer (EFAULT). */
#include "vm.h"

static char *find_env(char **envp, const char *name) {
	for (; *envp; envp++) {
		const char *a = *envp, *b = name;
		while (*b && *a == *b)
			a++, b++;
		if (!*b && *a == '=')
			return (char *)a + 1;
	}
	return 0;
}

static char envbuf[256];
static char **volatile bad_argv = (char **)8;
static char *volatile bad_path = (char *)8;
static char nbuf[24];

int main(int argc, char **argv, char **envp) {
	if (argc < 3)
		fail("usage: vm_exec SELF N [words...]");
	u64 n = parse_u64(argv[2]);
	char *chain = find_env(envp, "CHAIN");
	put_str("link ");
	put_u64(n);
	put_str(": argc=");
	put_u64((u64)argc);
	put_str(" argv:");
	for (int i = 3; i < argc; i++) {
		put_str(" ");
		put_str(argv[i]);
	}
	put_str(" CHAIN=");
	put_str(chain ? chain : "(unset)");
	put_str("\n");
	if (n > 0) {
		/* CHAIN=<old>+<n> */
		u64 k = 0;
		const char *pre = "CHAIN=";
		while (*pre)
			envbuf[k++] = *pre++;
		for (const char *c = chain ? chain : ""; *c && k < 200; c++)
			envbuf[k++] = *c;
		envbuf[k++] = '+';
		envbuf[k++] = (char)('0' + n % 10);
		envbuf[k] = 0;
		nbuf[0] = (char)('0' + (n - 1) % 10);
		char *nargv[16];
		int j = 0;
		nargv[j++] = argv[0];
		nargv[j++] = argv[1];
		nargv[j++] = nbuf;
		for (int i = 3; i < argc && j < 14; i++)
			nargv[j++] = argv[i];
		nargv[j++] = "w";
		nargv[j] = 0;
		char *nenv[] = {"A=1", envbuf, 0};
		i64 r = sys_execve(argv[1], nargv, nenv);
		say("execve returned", r);
		return 1;
	}
	if (argc > 3 && str_eq(argv[argc - 1], "leaf"))
		return 42;
	i64 pid = sys_fork();
	if (pid == 0) {
		char *cargv[] = {"child", argv[1], "0", "leaf", 0};
		char *cenv[] = {"CHAIN=forked", 0};
		sys_execve(argv[1], cargv, cenv);
		sys_exit(99);
	}
	int st = 0;
	sys_wait4((int)pid, &st, 0, 0);
	put_str("forked child ");
	put_status(st);
	put_str("\n");
	char *args[] = {"x", 0};
	say("execve missing file", sys_execve("/nonexistent/vm_exec", args, 0));
	say("execve not executable", sys_execve("src/vm.h", args, 0));
	say("execve not ELF", sys_execve("src/vm_notelf", args, 0));
	say("execve directory", sys_execve("src", args, 0));
	say("execve bad argv", sys_execve(argv[1], bad_argv, 0));
	say("execve bad path", sys_execve(bad_path, args, 0));
	return 0;
}
