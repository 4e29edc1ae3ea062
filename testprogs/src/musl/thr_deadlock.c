/* thr_deadlock: two threads take two mutexes in opposite orders, meeting at a barrier in
   between, so each waits for the other for ever, and the main thread waits to join them.
   On Linux this hangs; the emulator reports the deadlock and names each thread and the call
   it sleeps in. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;

static void *ab(void *arg) {
	(void)arg;
	pthread_mutex_lock(&a);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&b);
	return NULL;
}

static void *ba(void *arg) {
	(void)arg;
	pthread_mutex_lock(&b);
	pthread_barrier_wait(&bar);
	pthread_mutex_lock(&a);
	return NULL;
}

int main(void) {
	pthread_t t1, t2;
	pthread_barrier_init(&bar, NULL, 2);
	pthread_create(&t1, NULL, ab, NULL);
	pthread_create(&t2, NULL, ba, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	puts("not reached");
	return 0;
}
