/* segv: a write through a wild pointer; the gdb tests see SIGSEGV with si_addr. */
#include <stdio.h>

int *wild = (int *)0xdead0000;

int main(void) {
    printf("about to fault\n");
    fflush(stdout);
    *wild = 42;             /* LINE fault */
    printf("not reached\n");
    return 0;
}
