/* thr_sync: the pthread primitives a C library builds on futexes and clone, each checked by
   a result that does not depend on how the threads interleave (so the output is the same on
   every host and under the emulator with any number of CPUs): a mutex guarding a counter,
   a condition variable between a producer and consumers, a barrier, a reader-writer lock,
   thread-local storage (__thread), thread-specific data with destructors, pthread_once,
   semaphores, cancellation (of a thread asleep in a condition wait, with its cleanup
   handler), detached threads, join's return values, and the identities: one pid, a tid per
   thread, getpid() == the main thread's tid. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define N 4

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

/* --- mutex --- */
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *adder(void *arg) {
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return (void *)((intptr_t)arg * 10);
}

/* --- condition variable: a bounded queue --- */
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t notfull = PTHREAD_COND_INITIALIZER, notempty = PTHREAD_COND_INITIALIZER;
static int q[8], qhead, qlen, produced_done;
static long consumed_sum;
static void *producer(void *arg) {
	(void)arg;
	for (int i = 1; i <= 1000; i++) {
		pthread_mutex_lock(&qm);
		while (qlen == 8)
			pthread_cond_wait(&notfull, &qm);
		q[(qhead + qlen++) % 8] = i;
		pthread_cond_signal(&notempty);
		pthread_mutex_unlock(&qm);
	}
	pthread_mutex_lock(&qm);
	produced_done = 1;
	pthread_cond_broadcast(&notempty);
	pthread_mutex_unlock(&qm);
	return NULL;
}
static void *consumer(void *arg) {
	long mine = 0;
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&qm);
		while (qlen == 0 && !produced_done)
			pthread_cond_wait(&notempty, &qm);
		if (qlen == 0) {
			pthread_mutex_unlock(&qm);
			break;
		}
		int v = q[qhead];
		qhead = (qhead + 1) % 8;
		qlen--;
		pthread_cond_signal(&notfull);
		pthread_mutex_unlock(&qm);
		mine += v;
	}
	pthread_mutex_lock(&qm);
	consumed_sum += mine;
	pthread_mutex_unlock(&qm);
	return NULL;
}

/* --- barrier --- */
static pthread_barrier_t bar;
static int phase[N];
static int barrier_ok = 1;
static void *barrier_worker(void *arg) {
	int id = (int)(intptr_t)arg, serial = 0;
	for (int round = 0; round < 5; round++) {
		phase[id] = round;
		if (pthread_barrier_wait(&bar) == PTHREAD_BARRIER_SERIAL_THREAD)
			serial++;
		for (int j = 0; j < N; j++)
			if (phase[j] != round)
				barrier_ok = 0;
		pthread_barrier_wait(&bar);
	}
	return (void *)(intptr_t)serial;
}

/* --- reader-writer lock --- */
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long rw_a, rw_b;
static int rw_bad;
static void *rw_worker(void *arg) {
	int id = (int)(intptr_t)arg;
	for (int i = 0; i < 3000; i++) {
		if (id == 0 && i % 3 == 0) {
			pthread_rwlock_wrlock(&rw);
			rw_a++;
			rw_b++;
			pthread_rwlock_unlock(&rw);
		} else {
			pthread_rwlock_rdlock(&rw);
			if (rw_a != rw_b)
				rw_bad = 1;
			pthread_rwlock_unlock(&rw);
		}
	}
	return NULL;
}

/* --- TLS and thread-specific data --- */
static __thread int tls_counter = 100;
static __thread char tls_name[16];
static pthread_key_t key;
static int destructors;
static pthread_mutex_t dm = PTHREAD_MUTEX_INITIALIZER;
static void destructor(void *v) {
	pthread_mutex_lock(&dm);
	destructors += (int)(intptr_t)v;
	pthread_mutex_unlock(&dm);
}
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static void once_fn(void) { once_runs++; }
static void *tls_worker(void *arg) {
	int id = (int)(intptr_t)arg;
	pthread_once(&once, once_fn);
	for (int i = 0; i < id; i++)
		tls_counter++;
	snprintf(tls_name, sizeof tls_name, "thread %d", id);
	pthread_setspecific(key, (void *)(intptr_t)(id + 1));
	char buf[64];
	snprintf(buf, sizeof buf, "%s: tls %d, specific %d", tls_name, tls_counter,
		(int)(intptr_t)pthread_getspecific(key));
	return strdup(buf);
}

/* --- semaphores --- */
static sem_t sem_items, sem_done;
static void *sem_worker(void *arg) {
	(void)arg;
	for (int i = 0; i < 50; i++) {
		sem_wait(&sem_items);
		sem_post(&sem_done);
	}
	return NULL;
}

/* --- cancellation --- */
static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int cleanup_ran, cancel_ready;
static void cleanup(void *arg) {
	cleanup_ran = (int)(intptr_t)arg;
	pthread_mutex_unlock(&cm);
}
static void *cancel_victim(void *arg) {
	(void)arg;
	pthread_mutex_lock(&cm);
	cancel_ready = 1;
	pthread_cleanup_push(cleanup, (void *)7);
	for (;;)
		pthread_cond_wait(&never, &cm); /* a cancellation point */
	pthread_cleanup_pop(0);
	return NULL;
}

/* --- identities --- */
static pid_t tids[N];
static void *ident(void *arg) {
	int id = (int)(intptr_t)arg;
	tids[id] = gettid_();
	return (void *)(intptr_t)(getpid() == tids[id]);
}

/* --- detached --- */
static sem_t detached_done;
static void *detached(void *arg) {
	(void)arg;
	sem_post(&detached_done);
	return NULL;
}

int main(void) {
	pthread_t t[N + 1];
	void *ret;

	for (intptr_t i = 0; i < N; i++)
		pthread_create(&t[i], NULL, adder, (void *)i);
	long rets = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], &ret);
		rets += (intptr_t)ret;
	}
	printf("mutex: counter %ld (want %d), join values sum %ld\n", counter, N * 20000, rets);

	pthread_create(&t[0], NULL, producer, NULL);
	for (int i = 1; i <= 3; i++)
		pthread_create(&t[i], NULL, consumer, NULL);
	for (int i = 0; i <= 3; i++)
		pthread_join(t[i], NULL);
	printf("condvar: consumed %ld (want %d)\n", consumed_sum, 1000 * 1001 / 2);

	pthread_barrier_init(&bar, NULL, N);
	for (intptr_t i = 0; i < N; i++)
		pthread_create(&t[i], NULL, barrier_worker, (void *)i);
	int serials = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], &ret);
		serials += (int)(intptr_t)ret;
	}
	pthread_barrier_destroy(&bar);
	printf("barrier: phases agreed %s, serial threads %d (one per round: 5)\n", barrier_ok ? "yes" : "no", serials);

	for (intptr_t i = 0; i < N; i++)
		pthread_create(&t[i], NULL, rw_worker, (void *)i);
	for (int i = 0; i < N; i++)
		pthread_join(t[i], NULL);
	printf("rwlock: writes %ld, readers saw a torn state: %s\n", rw_a, rw_bad ? "yes" : "no");

	pthread_key_create(&key, destructor);
	for (intptr_t i = 0; i < N; i++)
		pthread_create(&t[i], NULL, tls_worker, (void *)i);
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], &ret);
		printf("tls: %s\n", (char *)ret);
		free(ret);
	}
	printf("tls: main's counter %d; destructors ran for values summing to %d; once ran %d time\n",
		tls_counter, destructors, once_runs);

	sem_init(&sem_items, 0, 0);
	sem_init(&sem_done, 0, 0);
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, sem_worker, NULL);
	for (int i = 0; i < 100; i++)
		sem_post(&sem_items);
	for (int i = 0; i < 100; i++)
		sem_wait(&sem_done);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	int v;
	sem_getvalue(&sem_items, &v);
	printf("semaphore: 100 items through two workers, %d left\n", v);

	pthread_create(&t[0], NULL, cancel_victim, NULL);
	for (;;) {
		pthread_mutex_lock(&cm);
		int ready = cancel_ready;
		pthread_mutex_unlock(&cm);
		if (ready)
			break;
		sched_yield();
	}
	pthread_cancel(t[0]);
	pthread_join(t[0], &ret);
	printf("cancel: joined with %s, cleanup handler ran with %d\n",
		ret == PTHREAD_CANCELED ? "PTHREAD_CANCELED" : "something else", cleanup_ran);

	for (intptr_t i = 0; i < N; i++)
		pthread_create(&t[i], NULL, ident, (void *)i);
	int same = 0;
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], &ret);
		same += (int)(intptr_t)ret;
	}
	int distinct = 1;
	for (int i = 0; i < N; i++)
		for (int j = 0; j < i; j++)
			if (tids[i] == tids[j] || tids[i] == getpid())
				distinct = 0;
	printf("ids: main tid == pid %s, thread tids distinct %s, a thread whose tid is the pid: %d\n",
		gettid_() == getpid() ? "yes" : "no", distinct ? "yes" : "no", same);

	sem_init(&detached_done, 0, 0);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], &attr, detached, NULL);
	for (int i = 0; i < 3; i++)
		sem_wait(&detached_done);
	pthread_attr_destroy(&attr);
	printf("detached: 3 ran\n");
	return 0;
}
