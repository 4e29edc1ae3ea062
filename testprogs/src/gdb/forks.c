/* forks: a parent forks a child that works and exits 3; the parent waits and reports.
 * With argument "exec", the child executes this program again with argument "child"
 * instead (the gdb tests' catch exec); with "vfork", the parent vforks and the child
 * executes it so (catch vfork). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int child_work(int n) {
    int sum = 0;
    for (int i = 1; i <= n; i++) {
        sum += i;           /* LINE child */
    }
    return sum;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        printf("exec'd child: sum %d\n", child_work(4));
        return 3;
    }
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "vfork") == 0) {
        pid_t v = vfork();
        if (v == 0) {
            execl(argv[0], argv[0], "child", (char *)0);
            _exit(127);
        }
        int st = 0;
        waitpid(v, &st, 0);
        printf("parent: vfork child exited with %d\n", WEXITSTATUS(st));
        return 0;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        if (argc > 1 && strcmp(argv[1], "exec") == 0) {
            execl(argv[0], argv[0], "child", (char *)0);
            perror("execl");
            _exit(127);
        }
        printf("child: sum %d\n", child_work(10));
        fflush(stdout);
        _exit(3);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("parent: child exited with %d\n", WEXITSTATUS(status));
    return 0;
}
