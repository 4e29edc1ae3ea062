/* thr_robust: the mutexes whose kernel side is more than a wait and a wake. A robust mutex
   held by a thread that exits is released by the kernel at the exit (the robust list):
   the next locker gets EOWNERDEAD, makes it consistent, and later lockers see a normal
   mutex; one left inconsistent is ENOTRECOVERABLE. A priority-inheritance mutex is taken
   and released in the kernel under contention (FUTEX_LOCK_PI, FUTEX_UNLOCK_PI hand it over),
   and a robust PI mutex whose owner dies goes to the waiter with EOWNERDEAD. An
   error-checking mutex refuses a relock (EDEADLK) and an unlock by a non-owner (EPERM); a
   timed lock of a held mutex times out (ETIMEDOUT), and a timed wait on a condition
   variable does too. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *err(int e) {
	switch (e) {
	case 0:
		return "0";
	case EOWNERDEAD:
		return "EOWNERDEAD";
	case ENOTRECOVERABLE:
		return "ENOTRECOVERABLE";
	case EDEADLK:
		return "EDEADLK";
	case EPERM:
		return "EPERM";
	case ETIMEDOUT:
		return "ETIMEDOUT";
	case EBUSY:
		return "EBUSY";
	}
	return strerror(e);
}

static pthread_mutex_t rob, robpi, pim, ec;

static void *lock_and_die(void *arg) {
	pthread_mutex_lock((pthread_mutex_t *)arg);
	return NULL; /* exits holding it */
}

/* PI contention: every thread increments under the PI mutex. */
static long pi_count;
static void *pi_worker(void *arg) {
	(void)arg;
	for (int i = 0; i < 5000; i++) {
		pthread_mutex_lock(&pim);
		pi_count++;
		pthread_mutex_unlock(&pim);
	}
	return NULL;
}

/* A robust PI mutex: the owner sleeps holding it until a waiter is queued, then exits. */
static volatile int owner_locked;
static void *pi_owner(void *arg) {
	(void)arg;
	pthread_mutex_lock(&robpi);
	owner_locked = 1;
	struct timespec ts = {0, 20 * 1000 * 1000};
	nanosleep(&ts, NULL); /* the main thread blocks in FUTEX_LOCK_PI meanwhile */
	return NULL;
}

static pthread_mutex_t plain = PTHREAD_MUTEX_INITIALIZER;
static void deadline(struct timespec *ts, long ms);
static void *timed_locker(void *arg) {
	struct timespec ts;
	(void)arg;
	deadline(&ts, 30);
	return (void *)(intptr_t)pthread_mutex_timedlock(&plain, &ts);
}

static void *try_unlock(void *arg) {
	return (void *)(intptr_t)pthread_mutex_unlock((pthread_mutex_t *)arg);
}

static void deadline(struct timespec *ts, long ms) {
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_nsec += ms * 1000000;
	ts->tv_sec += ts->tv_nsec / 1000000000;
	ts->tv_nsec %= 1000000000;
}

int main(void) {
	pthread_mutexattr_t a;
	pthread_t t;
	void *ret;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&rob, &a);
	pthread_create(&t, NULL, lock_and_die, &rob);
	pthread_join(t, NULL);
	int e = pthread_mutex_lock(&rob);
	printf("robust: lock after the owner died: %s\n", err(e));
	printf("robust: consistent: %s\n", err(pthread_mutex_consistent(&rob)));
	pthread_mutex_unlock(&rob);
	printf("robust: lock again: %s\n", err(pthread_mutex_lock(&rob)));
	pthread_mutex_unlock(&rob);
	pthread_create(&t, NULL, lock_and_die, &rob);
	pthread_join(t, NULL);
	printf("robust: owner died again: %s\n", err(pthread_mutex_lock(&rob)));
	pthread_mutex_unlock(&rob); /* not made consistent: unusable from now on */
	printf("robust: lock after an unlock without consistent: %s\n", err(pthread_mutex_lock(&rob)));

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
	pthread_mutex_init(&pim, &a);
	pthread_t w[3];
	for (int i = 0; i < 3; i++)
		pthread_create(&w[i], NULL, pi_worker, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(w[i], NULL);
	printf("pi: count %ld (want 15000)\n", pi_count);
	e = pthread_mutex_trylock(&pim);
	printf("pi: trylock free %s, ", err(e));
	printf("trylock held by me %s\n", err(pthread_mutex_trylock(&pim)));
	pthread_mutex_unlock(&pim);

	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robpi, &a);
	pthread_create(&t, NULL, pi_owner, NULL);
	while (!owner_locked)
		sched_yield();
	printf("robust pi: lock while the owner exits: %s\n", err(pthread_mutex_lock(&robpi)));
	pthread_join(t, NULL);
	pthread_mutex_consistent(&robpi);
	pthread_mutex_unlock(&robpi);
	printf("robust pi: lock again: %s\n", err(pthread_mutex_lock(&robpi)));
	pthread_mutex_unlock(&robpi);

	pthread_mutexattr_init(&a);
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&ec, &a);
	pthread_mutex_lock(&ec);
	printf("errorcheck: relock %s\n", err(pthread_mutex_lock(&ec)));
	pthread_create(&t, NULL, try_unlock, &ec);
	pthread_join(t, &ret);
	printf("errorcheck: unlock by another thread %s\n", err((int)(intptr_t)ret));
	struct timespec ts;
	pthread_mutex_lock(&plain);
	pthread_create(&t, NULL, timed_locker, NULL);
	pthread_join(t, &ret);
	printf("timedlock of a mutex another thread holds: %s\n", err((int)(intptr_t)ret));
	pthread_mutex_unlock(&plain);
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	pthread_mutex_lock(&plain);
	deadline(&ts, 20);
	printf("timed condition wait: %s\n", err(pthread_cond_timedwait(&c, &plain, &ts)));
	pthread_mutex_unlock(&plain);
	return 0;
}
