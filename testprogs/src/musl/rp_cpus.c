/* rp_cpus: the CPUs a program sees. usage: rp_cpus DIR. sched_getaffinity's mask (what
   nproc and Go count), /proc/cpuinfo's processors, /proc/stat's cpuN lines and
   Cpus_allowed_list in /proc/self/status all name the machine's CPUs; pinned with
   sched_setaffinity to each CPU in turn, getcpu (the system call and the vsyscall page's
   entry) says the thread runs there, and so does /proc/self/stat's processor field; a mask
   with no CPU of the machine is EINVAL, a mask too small for the kernel's EINVAL too. */
#include "rp.h"
#include <sched.h>
#include <stdint.h>
#include <sys/syscall.h>

static int count_lines(const char *path, const char *prefix, int digit) {
	FILE *f = fopen(path, "r");
	char line[512];
	int n = 0;
	size_t k = strlen(prefix);
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, prefix, k) == 0 && (!digit || (line[k] >= '0' && line[k] <= '9')))
			n++;
	if (f)
		fclose(f);
	return n;
}

static void status_line(const char *key) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[512];
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, key, strlen(key)) == 0)
			printf("%s", line);
	if (f)
		fclose(f);
}

static int stat_cpu(void) {
	FILE *f = fopen("/proc/thread-self/stat", "r");
	char buf[1024] = "";
	if (!f)
		return -1;
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	char *p = strrchr(buf, ')');
	int field = 2, cpu = -1;
	for (; p && *p; p++)
		if (*p == ' ' && ++field == 39) {
			cpu = atoi(p + 1);
			break;
		}
	return cpu;
}

int main(int argc, char **argv) {
	(void)argv;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		printf("usage: rp_cpus DIR\n");
		return 2;
	}
	cpu_set_t set;
	CPU_ZERO(&set);
	must("sched_getaffinity", sched_getaffinity(0, sizeof set, &set));
	int n = CPU_COUNT(&set);
	printf("%-44s %d\n", "CPUs in the affinity mask", n);
	printf("%-44s %d\n", "processors in /proc/cpuinfo", count_lines("/proc/cpuinfo", "processor", 0));
	printf("%-44s %d\n", "cpuN lines in /proc/stat", count_lines("/proc/stat", "cpu", 1));
	status_line("Cpus_allowed_list:");
	long raw = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
	/* The size of the kernel's mask: nr_cpu_ids or NR_CPUS bits as the kernel was built. */
	printf("%-44s %d\n", "sched_getaffinity's result: whole longs", raw > 0 && raw % 8 == 0);
	say("sched_getaffinity(size 4)", syscall(SYS_sched_getaffinity, 0, 4, &set));
	say("sched_getaffinity(size 7)", syscall(SYS_sched_getaffinity, 0, 7, &set));
	for (int c = 0; c < n && c < 8; c++) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(c, &one);
		int r = sched_setaffinity(0, sizeof one, &one);
		unsigned cpu = 99, node = 99, vcpu = 99;
		syscall(SYS_getcpu, &cpu, &node, NULL);
		long (*vgetcpu)(unsigned *, unsigned *, void *) = (void *)0xffffffffff600800;
		vgetcpu(&vcpu, NULL, NULL);
		printf("pinned to CPU %d (%d): getcpu %u node %u, vsyscall getcpu %u, /proc stat %d\n", c, r, cpu, node,
		       vcpu, stat_cpu());
	}
	cpu_set_t none;
	CPU_ZERO(&none);
	CPU_SET(1000, &none);
	say("sched_setaffinity(only CPU 1000)", sched_setaffinity(0, sizeof none, &none));
	CPU_ZERO(&none);
	say("sched_setaffinity(empty)", sched_setaffinity(0, sizeof none, &none));
	say("sched_setaffinity(bad pointer)", syscall(SYS_sched_setaffinity, 0, sizeof none, (void *)8));
	say("sched_getaffinity(pid 999999)", syscall(SYS_sched_getaffinity, 999999, sizeof set, &set));
	return 0;
}
