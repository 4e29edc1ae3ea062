/* dbg_exec: execve itself once with an extra argument, for the debugger's break exec test.
   The first image prints nothing; the second says which it is. */
#include "sys.h"

int main(int argc, char **argv, char **envp) {
	if (argc == 1) {
		char *args[] = {argv[0], "again", 0};
		i64 r = syscall3(59, (i64)argv[0], (i64)args, (i64)envp); /* execve */
		put_str("execve failed\n");
		return (int)-r;
	}
	put_str("second image: ");
	put_str(argv[1]);
	put_str("\n");
	return 3;
}
