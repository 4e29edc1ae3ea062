/* spin: loops until interrupted (the gdb tests' Ctrl-C), then exits when 'stop' is set. */
#include <stdio.h>

volatile int stop = 0;
volatile unsigned long spins = 0;

int main(void) {
    printf("spinning\n");
    fflush(stdout);
    while (!stop) {
        spins++;            /* LINE spin */
    }
    printf("stopped after some spins\n");
    return 0;
}
