/* touch_unowned: writes to an address no mapping covers. Linux kills it with SIGSEGV
   (exit status 139). */
#include "sys.h"

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	put_str("about to write to 0xdead0000\n");
	*(volatile u64 *)0xdead0000UL = 42;
	put_str("still alive?\n");
	return 0;
}
