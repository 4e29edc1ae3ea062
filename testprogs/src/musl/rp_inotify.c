/* rp_inotify: watching a directory and a file. usage: rp_inotify DIR. Create, modify,
   close, rename (the two halves share a cookie), attribute change and delete in a watched
   directory, a watched file's modification, the argument errors (ENOENT, EINVAL for no
   event, ENOTDIR for IN_ONLYDIR, EBADF, EINVAL for a descriptor that is no inotify and for
   a watch that does not exist), a non-blocking read with nothing pending (EAGAIN), and poll. */
#include "rp.h"
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/inotify.h>
#include <sys/stat.h>

static void drain(int fd) {
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n = read(fd, buf, sizeof buf);
	if (n < 0) {
		printf("%-44s -1 %s\n", "read", errname(errno));
		return;
	}
	uint32_t cookie = 0;
	for (ssize_t off = 0; off < n;) {
		struct inotify_event *e = (struct inotify_event *)(buf + off);
		int same = e->cookie != 0 && e->cookie == cookie;
		if (e->cookie)
			cookie = e->cookie;
		printf("  event wd %d mask %#x name %s cookie %s\n", e->wd, e->mask, e->len ? e->name : "-",
		       e->cookie ? (same ? "same as before" : "set") : "0");
		off += sizeof *e + e->len;
	}
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2 || chdir(argv[1]) != 0) {
		printf("usage: rp_inotify DIR\n");
		return 2;
	}
	mkdir("w", 0755);
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	must("inotify_init1", fd);
	say("inotify_init1(bad flags)", inotify_init1(0x10));
	int wd = inotify_add_watch(fd, "w", IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |
	                                        IN_DELETE | IN_ATTRIB);
	say("inotify_add_watch(w)", wd);
	say("inotify_add_watch(missing)", inotify_add_watch(fd, "nope", IN_MODIFY));
	say("inotify_add_watch(no event)", inotify_add_watch(fd, "w", 0));
	int g = open("w/f", O_CREAT | O_WRONLY, 0644);
	must("open", g);
	say("inotify_add_watch(file, IN_ONLYDIR)", inotify_add_watch(fd, "w/f", IN_MODIFY | IN_ONLYDIR));
	say("inotify_add_watch(bad descriptor)", inotify_add_watch(999, "w", IN_MODIFY));
	say("inotify_add_watch(not inotify)", inotify_add_watch(g, "w", IN_MODIFY));
	int wf = inotify_add_watch(fd, "w/f", IN_MODIFY);
	say("inotify_add_watch(w/f)", wf);
	must("write", write(g, "hello", 5));
	close(g);
	must("rename", rename("w/f", "w/g"));
	must("chmod", chmod("w/g", 0600));
	must("unlink", unlink("w/g"));
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	say("poll", poll(&pf, 1, 1000));
	drain(fd);
	say("poll(nothing pending)", poll(&pf, 1, 0));
	drain(fd);
	say("inotify_rm_watch(99)", inotify_rm_watch(fd, 99));
	say("inotify_rm_watch(w)", inotify_rm_watch(fd, wd));
	drain(fd);
	return 0;
}
