/* hello: the smallest end-to-end program: one write, one exit. */
#include "sys.h"

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	put_str("hello, world\n");
	return 0;
}
