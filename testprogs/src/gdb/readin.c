/* readin: waits for a line on standard input (the gdb tests interrupt it there). */
#include <stdio.h>
#include <string.h>

int main(void) {
    char line[128];
    printf("waiting for input\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) {
        printf("no input\n");
        return 1;
    }
    line[strcspn(line, "\n")] = 0;
    printf("got: %s\n", line);
    return 0;
}
