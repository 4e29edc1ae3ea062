/* bench_hello: the static hello of the startup benchmark: what a run costs before main. */
#include <stdio.h>

int main(void) {
	puts("hello, world");
	return 0;
}
