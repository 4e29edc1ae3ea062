/* rp_shm: System V shared memory. shmget (private and keyed: EEXIST, ENOENT, EINVAL for a
   size past the segment's or of 0), IPC_STAT (size, mode, creator, attach count), shmat
   (argument errors, SHM_RND, an address in use, SHM_REMAP, SHM_RDONLY faulting on a store,
   as another user EACCES), a segment shared between a parent and a child that attaches it
   again, the attach count following fork, an mprotect split and shmdt (which detaches the
   pieces too), /proc/self/maps and /proc/sysvipc/shm showing it, IPC_SET, SHM_LOCK,
   SHM_STAT by index, IPC_INFO and SHM_INFO, IPC_RMID while attached (SHM_DEST, the key
   gone, still usable) and the segment's end at the last detach. */
#include "rp.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <time.h>

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef SHM_DEST
#define SHM_DEST 01000
#define SHM_LOCKED 02000
#endif
#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

static long nattch(int id) {
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) == -1)
		return -1;
	return (long)ds.shm_nattch;
}

static key_t key;

/* mapsLine prints the perms and name of the maps line of the area at addr (a segment's key
   in its name shown as "KEY"). */
static void mapsLine(const char *what, void *addr) {
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		char perms[8], name[256] = "";
		unsigned long off;
		unsigned dmaj, dmin;
		unsigned long ino;
		if (sscanf(line, "%lx-%lx %7s %lx %x:%x %lu %255[^\n]", &lo, &hi, perms, &off, &dmaj, &dmin, &ino, name) < 7)
			continue;
		if (lo <= (unsigned long)addr && (unsigned long)addr < hi) {
			char *n = name;
			while (*n == ' ')
				n++;
			char k[16];
			snprintf(k, sizeof k, "/SYSV%08x", (unsigned)key);
			if (strncmp(n, k, strlen(k)) == 0)
				memcpy(n + 5, "KEY-----", 8);
			printf("%-44s %s %08lx %lu pages %s\n", what, perms, off, (hi - lo) / 4096, n);
			found = 1;
		}
	}
	if (f)
		fclose(f);
	if (!found)
		printf("%-44s not mapped\n", what);
	fflush(stdout);
}

/* sysvipcLine reports whether /proc/sysvipc/shm lists id, and its attach count there. */
static void sysvipcLine(const char *what, int id) {
	FILE *f = fopen("/proc/sysvipc/shm", "r");
	char line[512];
	long found = -1;
	while (f && fgets(line, sizeof line, f)) {
		int key, sid;
		unsigned perms;
		unsigned long size, n;
		int cpid, lpid;
		if (sscanf(line, "%d %d %o %lu %d %d %lu", &key, &sid, &perms, &size, &cpid, &lpid, &n) == 7 && sid == id)
			found = (long)n;
	}
	if (f)
		fclose(f);
	printf("%-44s nattch %ld\n", what, found);
	fflush(stdout);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct shmid_ds ds;
	long page = sysconf(_SC_PAGESIZE);

	say("shmget(size 0)", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
	int id = shmget(IPC_PRIVATE, 3 * page + 100, IPC_CREAT | 0640);
	must("shmget", id);
	say("shmget(private) >= 0", id >= 0);
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	printf("%-44s size %lu mode %o key %d nattch %lu cpid-is-me %d uid-is-me %d\n", "IPC_STAT",
	       (unsigned long)ds.shm_segsz, ds.shm_perm.mode & 07777, (int)ds.shm_perm.__key,
	       (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid(), ds.shm_perm.uid == geteuid());
	printf("%-44s atime %d dtime %d ctime-now %d\n", "times before attaching", ds.shm_atime != 0,
	       ds.shm_dtime != 0, ds.shm_ctime > time(NULL) - 60 && ds.shm_ctime <= time(NULL));
	say("IPC_STAT(bad buffer)", shmctl(id, IPC_STAT, (struct shmid_ds *)8));
	say("shmctl(bad command)", shmctl(id, 99, &ds));
	say("shmctl(id -1)", shmctl(-1, IPC_STAT, &ds));
	say("shmctl(no such id)", shmctl(id + 1000 * 32768, IPC_STAT, &ds));

	/* Keyed segments. */
	key = 0x52500000 | (getpid() & 0xffff);
	int kid = shmget(key, page, IPC_CREAT | IPC_EXCL | 0600);
	must("shmget(key)", kid);
	say("shmget(key, CREAT|EXCL) again", shmget(key, page, IPC_CREAT | IPC_EXCL | 0600));
	say("shmget(key) finds it", shmget(key, page, 0) == kid);
	say("shmget(key, smaller) finds it", shmget(key, 10, 0) == kid);
	say("shmget(key, larger)", shmget(key, 2 * page, 0));
	say("shmget(other key, no CREAT)", shmget(key ^ 0x8000, page, 0600));
	must("IPC_STAT(key)", shmctl(kid, IPC_STAT, &ds));
	printf("%-44s key-is-ours %d\n", "IPC_STAT(key)", ds.shm_perm.__key == key);

	/* shmat's argument checks. */
	say("shmat(bad id)", (long)shmat(-1, NULL, 0));
	say("shmat(unaligned)", (long)shmat(id, (void *)0x10000100, 0));
	say("shmat(REMAP, no address)", (long)shmat(id, NULL, SHM_REMAP));
	say("shmdt(unaligned)", shmdt((void *)0x10000100));
	say("shmdt(nothing there)", shmdt((void *)0x10000000));

	char *a = shmat(id, NULL, 0);
	must("shmat", (long)a);
	say("shmat page-aligned", ((unsigned long)a & (page - 1)) == 0);
	printf("%-44s %ld\n", "nattch after shmat", nattch(id));
	mapsLine("maps: attached", a);
	sysvipcLine("/proc/sysvipc/shm", id);
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	printf("%-44s atime %d lpid-is-me %d\n", "after shmat", ds.shm_atime != 0, ds.shm_lpid == getpid());
	strcpy(a, "parent wrote this");
	a[3 * page + 99] = 'z';

	/* SHM_RND, an address in use, SHM_REMAP. */
	char *fixed = mmap(NULL, 8 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	must("mmap", (long)fixed);
	say("shmat(address in use)", (long)shmat(id, fixed, 0));
	char *r = shmat(id, fixed + 100, SHM_RND | SHM_REMAP);
	say("shmat(RND|REMAP) over a mapping", r == fixed);
	printf("%-44s %s\n", "it sees the segment", r == fixed ? r : "(not attached)");
	printf("%-44s %ld\n", "nattch", nattch(id));
	say("shmdt(it)", shmdt(r));
	printf("%-44s %ld\n", "nattch", nattch(id));
	munmap(fixed, 8 * page);

	/* A child inherits the attach and attaches it again, read-only. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("%-44s %ld\n", "child: nattch after fork", nattch(id));
		printf("%-44s %s %c\n", "child: reads", a, a[3 * page + 99]);
		char *b = shmat(id, NULL, SHM_RDONLY);
		must("child shmat", (long)b);
		printf("%-44s %ld\n", "child: nattch after its own shmat", nattch(id));
		mapsLine("child maps: read-only attach", b);
		printf("%-44s %s\n", "child: reads via the 2nd attach", b);
		strcpy(a + 100, "child wrote this");
		fflush(stdout);
		pid_t g = fork();
		if (g == 0) {
			b[0] = 'x'; /* a store to a read-only attach */
			_exit(0);
		}
		int st;
		waitpid(g, &st, 0);
		printf("%-44s %s %d\n", "child: store to SHM_RDONLY", WIFSIGNALED(st) ? "signal" : "exit",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
		if (geteuid() == 0) {
			fflush(stdout);
			g = fork();
			if (g == 0) {
				if (setuid(65534) == -1)
					_exit(1);
				say("as nobody: shmat(0640 segment)", (long)shmat(id, NULL, 0));
				say("as nobody: IPC_STAT", shmctl(id, IPC_STAT, &ds));
				say("as nobody: SHM_STAT_ANY", shmctl(id & 0x7fff, SHM_STAT_ANY, &ds) == id);
				say("as nobody: IPC_RMID", shmctl(id, IPC_RMID, NULL));
				_exit(0);
			}
			waitpid(g, &st, 0);
		} else {
			printf("as nobody: shmat(0640 segment)                -1 EACCES\n");
			printf("as nobody: IPC_STAT                           -1 EACCES\n");
			printf("as nobody: SHM_STAT_ANY                       1\n");
			printf("as nobody: IPC_RMID                           -1 EPERM\n");
		}
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("%-44s %d\n", "child exit", WEXITSTATUS(st));
	printf("%-44s %s\n", "parent reads the child's store", a + 100);
	printf("%-44s %ld\n", "nattch after the child", nattch(id));

	/* A split attach counts twice; shmdt removes every piece. */
	must("mprotect", mprotect(a + page, page, PROT_READ));
	printf("%-44s %ld\n", "nattch after an mprotect split", nattch(id));
	mapsLine("maps: first piece", a);
	mapsLine("maps: middle piece", a + page);
	mapsLine("maps: last piece", a + 2 * page);
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	say("shmdt(middle of the attach)", shmdt(a + page));
	say("shmdt", shmdt(a));
	printf("%-44s %ld\n", "nattch after shmdt", nattch(id));
	mapsLine("maps: after shmdt", a);
	mapsLine("maps: after shmdt (piece)", a + 2 * page);
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	printf("%-44s dtime %d lpid-is-me %d\n", "after shmdt", ds.shm_dtime != 0, ds.shm_lpid == getpid());

	/* IPC_SET, SHM_LOCK, SHM_STAT, IPC_INFO, SHM_INFO. */
	ds.shm_perm.mode = 0604 | SHM_DEST;
	say("IPC_SET mode 0604", shmctl(id, IPC_SET, &ds));
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	printf("%-44s %o\n", "mode", ds.shm_perm.mode & 07777);
	ds.shm_perm.uid = (uid_t)-1;
	say("IPC_SET uid -1", shmctl(id, IPC_SET, &ds));
	say("IPC_SET(bad buffer)", shmctl(id, IPC_SET, (struct shmid_ds *)8));
	say("SHM_LOCK", shmctl(id, SHM_LOCK, NULL));
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	printf("%-44s %o\n", "mode", ds.shm_perm.mode & 07777);
	say("SHM_UNLOCK", shmctl(id, SHM_UNLOCK, NULL));
	must("IPC_STAT", shmctl(id, IPC_STAT, &ds));
	printf("%-44s %o\n", "mode", ds.shm_perm.mode & 07777);
	say("SHM_STAT(index) gives the id", shmctl(id & 0x7fff, SHM_STAT, &ds) == id);
	struct shminfo info;
	long mi = shmctl(0, IPC_INFO, (struct shmid_ds *)&info);
	printf("%-44s ok %d shmmin %lu\n", "IPC_INFO", mi >= 0, (unsigned long)info.shmmin);
	struct shm_info si;
	mi = shmctl(0, SHM_INFO, (struct shmid_ds *)&si);
	printf("%-44s ok %d used>=2 %d\n", "SHM_INFO", mi >= 0, si.used_ids >= 2);

	/* IPC_RMID while attached: the key goes, the segment stays until the last detach. */
	char *k = shmat(kid, NULL, 0);
	must("shmat(key)", (long)k);
	strcpy(k, "still here");
	say("IPC_RMID(key) while attached", shmctl(kid, IPC_RMID, NULL));
	must("IPC_STAT", shmctl(kid, IPC_STAT, &ds));
	printf("%-44s dest %d key %d nattch %lu\n", "after IPC_RMID", (ds.shm_perm.mode & SHM_DEST) != 0,
	       (int)ds.shm_perm.__key, (unsigned long)ds.shm_nattch);
	say("shmget(key) after IPC_RMID", shmget(key, page, 0600));
	printf("%-44s %s\n", "reads", k);
	mapsLine("maps: removed segment", k);
	char *k2 = shmat(kid, NULL, 0);
	say("shmat(removed, still attached)", k2 != (char *)-1);
	printf("%-44s %s\n", "second attach reads", k2);
	say("shmdt", shmdt(k));
	say("IPC_STAT after one detach", shmctl(kid, IPC_STAT, &ds));
	say("shmdt(last)", shmdt(k2));
	say("IPC_STAT after the last detach", shmctl(kid, IPC_STAT, &ds));
	say("shmat after the last detach", (long)shmat(kid, NULL, 0));

	say("IPC_RMID", shmctl(id, IPC_RMID, NULL));
	say("IPC_STAT after IPC_RMID", shmctl(id, IPC_STAT, &ds));
	say("IPC_RMID again", shmctl(id, IPC_RMID, NULL));
	return 0;
}
