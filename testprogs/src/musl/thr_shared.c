/* thr_shared: futexes shared between processes, keyed as Linux keys them: by the page the
   page tables map (a page of a file in the page cache, or of shared anonymous memory) and
   the offset in it, not by the address. A parent and its child meet on a process-shared
   mutex and condition variable in a MAP_SHARED file, with the child mapping the file at
   another address; a raw FUTEX_WAIT in the child is woken by a FUTEX_WAKE the parent makes
   at its own, different, address; a process-shared barrier and semaphore live in shared
   anonymous memory. Then the futex word of a private mapping is private to each process
   after fork: a wake in the parent does not reach the child. The file goes in the directory
   given as the argument. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#define FUTEX_WAIT 0 /* linux/futex.h: not among musl-gcc's headers */
#define FUTEX_WAKE 1
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	pthread_mutex_t m;
	pthread_cond_t c;
	int ready, value;
	_Atomic int word;
};

static long futex(void *uaddr, int op, int val, const struct timespec *ts) {
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static void *map_file(const char *path, void *hint) {
	int fd = open(path, O_RDWR);
	void *p = mmap(hint, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p;
}

int main(int argc, char **argv) {
	if (argc != 2) {
		fprintf(stderr, "usage: thr_shared DIR\n");
		return 2;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/thr_shared.data", argv[1]);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, 4096) != 0) {
		perror(path);
		return 1;
	}
	close(fd);
	setvbuf(stdout, NULL, _IONBF, 0);

	struct shared *s = map_file(path, NULL);
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutex_init(&s->m, &ma);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
	pthread_cond_init(&s->c, &ca);

	pid_t c = fork();
	if (c == 0) {
		/* The child maps the file again, elsewhere, and uses only that mapping. */
		struct shared *cs = map_file(path, (char *)s + (64 << 20));
		munmap(s, 4096);
		pthread_mutex_lock(&cs->m);
		cs->value = 42;
		cs->ready = 1;
		pthread_cond_signal(&cs->c);
		pthread_mutex_unlock(&cs->m);
		/* Now a raw futex wait at the child's address of the word (which stays 0). */
		struct timespec ts = {10, 0};
		long r = futex((void *)&cs->word, FUTEX_WAIT, 0, &ts); /* shared: no PRIVATE flag */
		_exit(cs == s ? 3 : r == 0 ? 0 : 1);                    /* 3 if the mapping did not move */
	}
	pthread_mutex_lock(&s->m);
	while (!s->ready)
		pthread_cond_wait(&s->c, &s->m);
	printf("file: the child (mapping at another address) signalled the condition; value %d\n", s->value);
	pthread_mutex_unlock(&s->m);
	/* Wake at the parent's address until the wake finds the child asleep at its own. */
	long woken = 0;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		woken = futex((void *)&s->word, FUTEX_WAKE, 1, NULL);
		sched_yield();
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (woken == 0 && t1.tv_sec - t0.tv_sec < 5);
	int st;
	waitpid(c, &st, 0);
	printf("file: FUTEX_WAKE at the parent's address woke %ld waiter at the child's; child exited %d\n",
		woken, WEXITSTATUS(st));
	unlink(path);

	/* Shared anonymous memory: a process-shared barrier and semaphore. */
	struct anon {
		pthread_barrier_t b;
		sem_t sem;
		int order[4], n;
	} *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_barrierattr_t ba;
	pthread_barrierattr_init(&ba);
	pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&a->b, &ba, 3);
	sem_init(&a->sem, 1, 0);
	pid_t kids[2];
	for (int i = 0; i < 2; i++) {
		if ((kids[i] = fork()) == 0) {
			pthread_barrier_wait(&a->b);
			sem_post(&a->sem);
			_exit(0);
		}
	}
	pthread_barrier_wait(&a->b);
	sem_wait(&a->sem);
	sem_wait(&a->sem);
	for (int i = 0; i < 2; i++)
		waitpid(kids[i], &st, 0);
	printf("anonymous: three processes met at a shared barrier; the semaphore counted 2 posts\n");

	/* A private mapping: after fork each process has its own word, so a shared wake in
	   the parent does not reach the child's wait, which times out. */
	_Atomic int *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*priv = 0;
	int *flag = (int *)a->order;
	*flag = 0;
	if ((c = fork()) == 0) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		__atomic_store_n(flag, 1, __ATOMIC_SEQ_CST);
		long r = futex((void *)priv, FUTEX_WAIT, 0, &ts);
		_exit(r == -1 && errno == ETIMEDOUT ? 0 : 1);
	}
	while (!__atomic_load_n(flag, __ATOMIC_SEQ_CST))
		sched_yield();
	long w = futex((void *)priv, FUTEX_WAKE, 1, NULL);
	waitpid(c, &st, 0);
	printf("private: the parent's wake found %ld waiters; the child's wait %s\n", w,
		WEXITSTATUS(st) == 0 ? "timed out" : "was woken");
	return 0;
}
