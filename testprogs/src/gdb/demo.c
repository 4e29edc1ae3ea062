/* demo: the program the gdb tests debug at the source level (built with -g -O0, static
 * against musl and dynamic against glibc). Every line the tests name is marked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct point {
    int x, y;
    const char *name;
};

int counter = 0;           /* a global the tests watch */
const char *greeting = "hello from the guest";

static int square(int v) {
    return v * v;          /* LINE square */
}

static int add3(int a) {
    int r = square(a) + 1;
    counter += r;          /* LINE counter */
    return r;
}

int main(void) {
    struct point p = {3, 4, "origin"};
    char *heap = malloc(32);
    strcpy(heap, "hello heap");
    int total = 0;
    for (int i = 0; i < 3; i++) {
        total += add3(i);  /* LINE loop */
    }
    printf("%s: %s %d %d %s total=%d counter=%d\n", greeting, heap, p.x, p.y, p.name, total, counter);
    free(heap);
    return 0;
}
