/* thr_bomb: a thread bomb. Threads that only sleep are created until pthread_create fails;
   the emulator's task limit (Config.MaxProcs, as RLIMIT_NPROC on Linux) must make it fail
   with EAGAIN, not exhaust the host. Prints the error and how many threads it got. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *sleeper(void *arg) {
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

int main(void) {
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 16384);
	int n = 0, e;
	pthread_t t;
	while ((e = pthread_create(&t, &a, sleeper, NULL)) == 0 && n < 100000)
		n++;
	printf("pthread_create failed with %s after %d threads\n", e == EAGAIN ? "EAGAIN" : strerror(e), n);
	return 0; /* exit_group ends the sleepers */
}
