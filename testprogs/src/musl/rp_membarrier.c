/* rp_membarrier: membarrier(2). QUERY (the RSEQ commands masked out: they need rseq, which
   an rseq-less kernel refuses with EINVAL), bad flags and commands, the private expedited
   commands refused (EPERM) before registering and working after, with a second thread
   spinning on another CPU (an asymmetric fence: the spinner publishes with plain stores,
   the main thread's membarrier makes them visible), SYNC_CORE, GLOBAL and
   GLOBAL_EXPEDITED, GET_REGISTRATIONS, registrations inherited by a fork child and dropped
   by execve. */
#include "rp.h"
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define QUERY 0
#define GLOBAL 1
#define GLOBAL_EXPEDITED 2
#define REGISTER_GLOBAL_EXPEDITED 4
#define PRIVATE_EXPEDITED 8
#define REGISTER_PRIVATE_EXPEDITED 16
#define PRIVATE_EXPEDITED_SYNC_CORE 32
#define REGISTER_PRIVATE_EXPEDITED_SYNC_CORE 64
#define PRIVATE_EXPEDITED_RSEQ 128
#define REGISTER_PRIVATE_EXPEDITED_RSEQ 256
#define GET_REGISTRATIONS 512
#define RSEQ_BITS (PRIVATE_EXPEDITED_RSEQ | REGISTER_PRIVATE_EXPEDITED_RSEQ)

static long mb(int cmd, unsigned flags, int cpu) { return syscall(SYS_membarrier, cmd, flags, cpu); }

static volatile int spin = 1, published, seen;

static void *spinner(void *arg) {
	(void)arg;
	while (spin) {
		published++; /* plain stores the main thread's membarrier orders */
		seen = 1;
	}
	return NULL;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		/* Run again by execve: the registrations are the old image's. */
		say("after execve: GET_REGISTRATIONS", mb(GET_REGISTRATIONS, 0, 0));
		say("after execve: PRIVATE_EXPEDITED", mb(PRIVATE_EXPEDITED, 0, 0));
		return 0;
	}
	long q = mb(QUERY, 0, 0);
	must("QUERY", q);
	printf("%-44s %#lx\n", "QUERY (without the RSEQ bits)", q & ~(long)RSEQ_BITS);
	if (q & RSEQ_BITS) {
		/* rseq is there: the RSEQ commands answer like the others. */
		printf("%-44s %d\n", "RSEQ unregistered: EPERM", mb(PRIVATE_EXPEDITED_RSEQ, 0, 0) == -1 && errno == EPERM);
	} else {
		printf("%-44s %d\n", "RSEQ unregistered: EPERM", mb(PRIVATE_EXPEDITED_RSEQ, 0, 0) == -1 && errno == EINVAL);
	}
	say("QUERY with flags", mb(QUERY, 1, 0));
	say("command 3", mb(3, 0, 0));
	say("command 1024", mb(1024, 0, 0));
	say("command -1", mb(-1, 0, 0));
	say("PRIVATE_EXPEDITED with FLAG_CPU", mb(PRIVATE_EXPEDITED, 1, 0));
	say("GET_REGISTRATIONS", mb(GET_REGISTRATIONS, 0, 0));
	say("PRIVATE_EXPEDITED unregistered", mb(PRIVATE_EXPEDITED, 0, 0));
	say("PRIVATE_EXPEDITED_SYNC_CORE unregistered", mb(PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	say("GLOBAL", mb(GLOBAL, 0, 0));
	say("GLOBAL_EXPEDITED (nobody registered)", mb(GLOBAL_EXPEDITED, 0, 0));
	say("REGISTER_PRIVATE_EXPEDITED", mb(REGISTER_PRIVATE_EXPEDITED, 0, 0));
	say("REGISTER_PRIVATE_EXPEDITED again", mb(REGISTER_PRIVATE_EXPEDITED, 0, 0));
	say("GET_REGISTRATIONS", mb(GET_REGISTRATIONS, 0, 0));
	say("PRIVATE_EXPEDITED alone", mb(PRIVATE_EXPEDITED, 0, 0));

	pthread_t th;
	must("pthread_create", pthread_create(&th, NULL, spinner, NULL) ? -1 : 0);
	while (!seen)
		sched_yield();
	int before = published;
	say("PRIVATE_EXPEDITED with a spinning thread", mb(PRIVATE_EXPEDITED, 0, 0));
	while (published == before)
		sched_yield();
	printf("%-44s %d\n", "the spinner's stores are visible", published != before);
	say("REGISTER_PRIVATE_EXPEDITED_SYNC_CORE", mb(REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	say("PRIVATE_EXPEDITED_SYNC_CORE", mb(PRIVATE_EXPEDITED_SYNC_CORE, 0, 0));
	say("REGISTER_GLOBAL_EXPEDITED", mb(REGISTER_GLOBAL_EXPEDITED, 0, 0));
	say("GLOBAL_EXPEDITED", mb(GLOBAL_EXPEDITED, 0, 0));
	say("GET_REGISTRATIONS", mb(GET_REGISTRATIONS, 0, 0) & ~(long)RSEQ_BITS);
	for (int i = 0; i < 100; i++) {
		if (mb(PRIVATE_EXPEDITED, 0, 0) != 0) {
			say("PRIVATE_EXPEDITED in a loop", -1);
			break;
		}
	}
	spin = 0;
	pthread_join(th, NULL);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		say("child: GET_REGISTRATIONS", mb(GET_REGISTRATIONS, 0, 0));
		say("child: PRIVATE_EXPEDITED", mb(PRIVATE_EXPEDITED, 0, 0));
		fflush(stdout);
		execl("/proc/self/exe", argv[0], "again", (char *)NULL);
		say("execl", -1);
		_exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%-44s %d\n", "child exit", WEXITSTATUS(st));
	return 0;
}
