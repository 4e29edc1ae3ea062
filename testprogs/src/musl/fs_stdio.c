/* fs_stdio: what C programs do with files every day. stdio's buffering decisions (standard
   output is not a terminal here, so it is fully buffered: write(2) overtakes it, and a fork
   with a full buffer prints it twice; line buffering on request; a pipe opened with fdopen
   holds data until fflush), reading standard input with fgets, getc, ungetc and scanf,
   formatted floating point, strtod, qsort and bsearch, and the string routines. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

static void buffering(void) {
	printf("isatty: stdin %d, stdout %d, stderr %d\n", isatty(0), isatty(1), isatty(2));
	printf("[1 buffered] ");
	write(1, "[2 written directly]\n", 21);
	printf("[3 buffered]\n");
	fflush(stdout);

	printf("[before fork] ");
	pid_t pid = fork();
	if (pid == 0) {
		printf("child\n");
		exit(0); /* flushes the child's copy of the buffer */
	}
	waitpid(pid, NULL, 0);
	printf("parent\n");
	fflush(stdout);

	fprintf(stderr, "stderr is unbuffered\n");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("[line buffered]\n");
	write(1, "[written after it]\n", 19);

	int p[2];
	pipe2(p, O_NONBLOCK);
	FILE *f = fdopen(p[1], "w");
	fputs("held in the FILE buffer", f);
	int n;
	ioctl(p[0], FIONREAD, &n);
	printf("bytes in the pipe before fflush: %d\n", n);
	fflush(f);
	ioctl(p[0], FIONREAD, &n);
	printf("bytes in the pipe after fflush: %d\n", n);
	fclose(f);
	char buf[64] = {0};
	read(p[0], buf, sizeof buf - 1);
	printf("read back: %s\n", buf);
	close(p[0]);
}

static void input(void) {
	char line[128];
	if (fgets(line, sizeof line, stdin))
		printf("fgets: %s", line);
	int c = getc(stdin);
	ungetc(c, stdin);
	printf("getc then ungetc: %c\n", c);
	int a, b;
	char word[32];
	if (scanf("%d %d %31s", &a, &b, word) == 3)
		printf("scanf: %d + %d = %d, %s\n", a, b, a + b, word);
	long rest = 0;
	while ((c = getchar()) != EOF)
		rest++;
	printf("then %ld more bytes to end of file\n", rest);
}

static void floating(void) {
	static const double v[] = {0.1, 1.0 / 3, -0.0, 1e300, 5e-324, 123456789.125, 2.5, 0.125,
				   1e-5, 6.02214076e23};
	for (unsigned i = 0; i < sizeof v / sizeof v[0]; i++)
		printf("%f|%e|%g|%a|%.17g|%10.3f|%-12.2e|\n", v[i], v[i], v[i], v[i], v[i], v[i], v[i]);
	printf("%f %f %f %e\n", INFINITY, -INFINITY, NAN, -NAN);
	printf("%.0f %.0f %.0f %.1f %.2f\n", 0.5, 1.5, 2.5, 0.05, 0.125);
	printf("%Lf %Le %.20Lg\n", 1.0L / 3, 3.0L * 1e4000L, 0.1L);
	static const char *s[] = {"3.14159", "-2.5e-3", "0x1.8p3", "inf", "1e400", "  42abc", "nan"};
	for (unsigned i = 0; i < sizeof s / sizeof s[0]; i++) {
		char *end;
		errno = 0;
		double d = strtod(s[i], &end);
		printf("strtod(%s) = %.17g, rest \"%s\", errno %d\n", s[i], d, end, errno);
	}
	double acc = 0;
	for (int i = 1; i <= 1000; i++)
		acc += sqrt((double)i) * sin(i) / (1 + exp(-i / 100.0));
	printf("sum %.12f\n", acc);
}

static int cmp_int(const void *a, const void *b) {
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void sorting(void) {
	static int a[5000];
	unsigned x = 12345;
	for (int i = 0; i < 5000; i++) {
		x = x * 1103515245 + 12345;
		a[i] = (int)(x >> 8) % 100000 - 50000;
	}
	qsort(a, 5000, sizeof a[0], cmp_int);
	int sorted = 1;
	long sum = 0;
	for (int i = 0; i < 5000; i++) {
		sorted &= i == 0 || a[i - 1] <= a[i];
		sum += (long)a[i] * (i + 1);
	}
	printf("qsort: sorted %d, min %d, max %d, weighted sum %ld\n", sorted, a[0], a[4999], sum);
	int key = a[1234];
	int *hit = bsearch(&key, a, 5000, sizeof a[0], cmp_int);
	printf("bsearch(%d) found %d\n", key, hit != NULL && *hit == key);
	char *w[] = {"pear", "apple", "fig", "banana", "cherry", "date", "apple pie", "Apple"};
	qsort(w, 8, sizeof w[0], cmp_str);
	for (int i = 0; i < 8; i++)
		printf("%s%s", w[i], i < 7 ? ", " : "\n");
}

static void strings(void) {
	char buf[128], *p;
	strcpy(buf, "the quick brown fox");
	strcat(buf, " jumps");
	printf("%zu [%s]\n", strlen(buf), buf);
	printf("strchr %s | strrchr %s | strstr %s\n", strchr(buf, 'q'), strrchr(buf, 'o'), strstr(buf, "brown"));
	printf("strspn %zu strcspn %zu strpbrk %s\n", strspn(buf, "the "), strcspn(buf, "xyz"), strpbrk(buf, "kfx"));
	printf("strcmp %d %d %d strncmp %d strcasecmp %d\n", strcmp("abc", "abd") < 0, strcmp("b", "a") > 0,
	       strcmp("same", "same"), strncmp("abcdef", "abcxyz", 3), strcasecmp("HeLLo", "hello"));
	char tok[] = "a,b;;c,,d";
	for (p = strtok(tok, ",;"); p; p = strtok(NULL, ",;"))
		printf("<%s>", p);
	putchar('\n');
	memcpy(buf, "0123456789", 11);
	memmove(buf + 2, buf, 8);
	printf("memmove overlap: %s\n", buf);
	memset(buf, 'z', 5);
	printf("memset: %.10s memchr: %s memcmp: %d\n", buf, (char *)memchr(buf, '5', 10),
	       memcmp("abc", "abd", 3) < 0);
	char *d = strdup("duplicated");
	printf("strdup: %s %zu\n", d, strlen(d));
	free(d);
	printf("strtol: %ld %ld %ld %lu atoi %d\n", strtol("-0x1f", NULL, 16), strtol("0777", NULL, 0),
	       strtol("z", NULL, 36), strtoul("18446744073709551615", NULL, 10), atoi("  -42x"));
	volatile size_t room = 16; /* truncation is the point */
	int full = snprintf(buf, room, "%08.3f|%+d|%x|%o|%c|%5s|%-5s|", 3.14159, 42, 255, 8, 'Q', "ab", "cd");
	printf("snprintf wanted %d, kept: %s\n", full, buf);
	printf("%s\n", strerror(ENOENT));
}

int main(void) {
	buffering();
	input();
	floating();
	sorting();
	strings();
	return 0;
}
