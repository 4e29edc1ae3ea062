package minikernel

import "github.com/vmemu/vmemu/minikernel/internal/hostfs"

// The host calls of the file layer are package hostfs's (internal/hostfs), which speaks
// Linux on every host: Linux's flags and modes in, Linux's errno values, struct stat and
// directory entries out.

// More Linux errno values the file layer returns itself (the rest come from the host).
const (
	EXDEV     Errno = 18
	ETXTBSY   Errno = 26
	ENOTEMPTY Errno = 39
	ELOOP     Errno = 40
)

// hostFstat is fstat(2) on a host descriptor.
func hostFstat(fd int, st *hostfs.Stat) Errno { return Errno(hostfs.Fstat(fd, st)) }

// hostFstatat is fstatat(2) with Linux's AT_SYMLINK_NOFOLLOW in flags.
func hostFstatat(dir int, name string, st *hostfs.Stat, flags int) Errno {
	return Errno(hostfs.Fstatat(dir, name, st, flags&atSymlinkNofollow == 0))
}

// setID are the set-user-ID and set-group-ID mode bits. They never reach the host: a guest
// can neither create nor chmod a file set-ID (as on a file system mounted nosuid, which is
// what a guest's files are), so the emulator can never leave the host a set-ID program.
const setID = hostfs.S_ISUID | hostfs.S_ISGID

// hostPollOne asks the host, without waiting, which of events are ready on fd.
func hostPollOne(fd int, events int16) int16 {
	p := []hostfs.PollFd{{Fd: int32(fd), Events: events}}
	if _, e := hostfs.Poll(p, 0); e != 0 {
		return 0
	}
	return p[0].Revents
}
