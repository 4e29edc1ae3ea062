/* libc: a dynamically linked program exercising its C library: printf of integers, strings
   and floating point, malloc/realloc/free, the string routines, qsort and bsearch, strtod
   and strtol, and a signal handler (whose sa_restorer is in the shared library). The
   kernel maps the interpreter; the interpreter maps libc and relocates the program. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static volatile int got;
static void on_usr1(int sig) { got = sig; }

int main(int argc, char **argv) {
	printf("argc %d, argv[0] %s\n", argc, argv[0]);
	int v[64];
	unsigned seed = 12345;
	for (int i = 0; i < 64; i++) {
		seed = seed * 1103515245 + 12345;
		v[i] = (int)(seed >> 16) % 1000 - 500;
	}
	qsort(v, 64, sizeof v[0], cmp);
	printf("sorted: %d %d %d ... %d\n", v[0], v[1], v[2], v[63]);
	int key = v[40];
	int *hit = bsearch(&key, v, 64, sizeof v[0], cmp);
	printf("bsearch finds %d at %td\n", key, hit ? hit - v : -1);

	char *s = malloc(16);
	strcpy(s, "shared ");
	for (int i = 0; i < 5; i++) {
		s = realloc(s, strlen(s) + 16);
		strcat(s, "libc ");
	}
	printf("%s(%zu bytes) strstr at %td, strchr %s, memcmp %d\n", s, strlen(s), strstr(s, "libc") - s,
	       strchr(s, 'b'), memcmp(s, "shared", 6));
	free(s);
	void *blocks[100];
	size_t total = 0;
	for (int i = 0; i < 100; i++) {
		blocks[i] = malloc((size_t)(i * 37 % 4096) + 1);
		memset(blocks[i], i, (size_t)(i * 37 % 4096) + 1);
		total += (size_t)(i * 37 % 4096) + 1;
	}
	for (int i = 0; i < 100; i += 2)
		free(blocks[i]);
	printf("malloc'd %zu bytes in 100 blocks, block 51 starts with %d\n", total, *(unsigned char *)blocks[51]);

	double x = strtod("2.718281828459045", 0), y = 0;
	for (int i = 1; i <= 20; i++)
		y += 1.0 / ((double)i * i);
	printf("%.15g %e %.3f %g %a\n", x, x * 1e10, y, 1.0 / 3, 0.1);
	printf("strtol: %ld %ld %lu\n", strtol("-12345", 0, 10), strtol("ff", 0, 16), strtoul("0777", 0, 0));
	char buf[64];
	snprintf(buf, sizeof buf, "%08.3f|%-6d|%+d|%x|%o|%c", 3.14159, 42, 7, 255, 8, 'z');
	printf("%s\n", buf);

	signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	printf("handler ran for signal %d\n", got);
	return 0;
}
