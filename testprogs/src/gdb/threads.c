/* threads: two worker threads add to a shared total under a mutex; the gdb tests list the
 * threads, stop in a worker and show its backtrace. */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long total = 0;

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&lock);
        total += id;        /* LINE worker */
        pthread_mutex_unlock(&lock);
    }
    return NULL;
}

int main(void) {
    pthread_t t[2];
    for (long i = 0; i < 2; i++) {
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
    }
    printf("total %ld\n", total);
    return 0;
}
