/* rp_session: sessions and process groups. usage: rp_session DIR. A child starts a new
   session (setsid returns its PID, which becomes its group and session), a second setsid
   is EPERM (it leads a group now), as is setpgid for the session leader; its own child is
   in its session and may start a group there, not a session; the parent cannot move the
   child that left (EPERM) and sees its new session with getsid; getsid and getpgid of a
   process that does not exist are ESRCH. */
#include "rp.h"
#include <sys/wait.h>

int main(int argc, char **argv) {
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		printf("usage: rp_session DIR\n");
		return 2;
	}
	int done[2], go[2];
	must("pipe", pipe(done));
	must("pipe", pipe(go));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: session is the parent's %d\n", getsid(0) == getsid(getppid()));
		long s = setsid();
		printf("child: setsid returns its pid %d, group %d, session %d\n", s == getpid(), getpgrp() == getpid(),
		       getsid(0) == getpid());
		say("child: setsid again", setsid());
		say("child: setpgid(0, 0) as session leader", setpgid(0, 0));
		fflush(stdout);
		pid_t g = fork();
		if (g == 0) {
			printf("grandchild: session is the child's %d, group too %d\n", getsid(0) == getppid(),
			       getpgrp() == getppid());
			say("grandchild: setpgid(0, 0)", setpgid(0, 0));
			printf("grandchild: own group now %d, same session %d\n", getpgrp() == getpid(), getsid(0) == getppid());
			say("grandchild: setsid (leads a group)", setsid());
			fflush(stdout);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		char c;
		if (write(done[1], "x", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	char c;
	must("read", read(done[0], &c, 1));
	printf("parent: child's session is its pid %d\n", getsid(pid) == pid);
	printf("parent: own session unchanged %d\n", getsid(0) != pid);
	say("parent: setpgid(child, 0)", setpgid(pid, 0));
	say("parent: setpgid(child, own group)", setpgid(pid, getpgrp()));
	say("getsid(no such process)", getsid(999999));
	say("getpgid(no such process)", getpgid(999999));
	must("write", write(go[1], "x", 1));
	int st;
	waitpid(pid, &st, 0);
	printf("child exit %d\n", WEXITSTATUS(st));
	return 0;
}
