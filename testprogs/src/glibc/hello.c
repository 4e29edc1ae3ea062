/* hello: the smallest static glibc program that exercises printf's integer, string and
   floating-point conversions (the last goes through glibc's multi-precision printf_fp). */
#include <stdio.h>

int main(int argc, char **argv) {
	(void)argv;
	printf("hello from glibc: int %d, string \"%s\", double %.6f, %g, %e\n", 42 + argc, "vmemu", 3.14159265358979,
	       1.0 / 3.0, -2.5e-300);
	return 0;
}
