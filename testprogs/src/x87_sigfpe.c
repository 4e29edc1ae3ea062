/* x87_sigfpe: an unmasked x87 exception is reported at the next waiting x87 instruction.
   With the zero-divide exception unmasked, FDIVP by zero only sets ZE, ES and B (the
   program goes on and prints the status word with the no-wait FNSTSW); the following
   FWAIT raises #MF, which Linux delivers as SIGFPE: the program dies with status 136. */
#include "x87case.h"

int main(int argc, char **argv, char **envp) {
	(void)argc, (void)argv, (void)envp;
	u16 cw = 0x037b, sw;
	__asm__ volatile("fninit\n\tfldcw %1\n\tfld1\n\tfldz\n\tfdivrp\n\tfnstsw %0" : "=m"(sw) : "m"(cw));
	out("status after the division: ");
	outhex(sw, 4);
	out("\n");
	flush();
	__asm__ volatile("fwait");
	out("not reached\n");
	flush();
	return 0;
}
