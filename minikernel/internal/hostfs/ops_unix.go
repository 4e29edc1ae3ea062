//go:build unix

package hostfs

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// The calls on a Unix host, through golang.org/x/sys/unix. Flags, modes and errno values
// cross the line through hostOpenFlags, linuxOpenFlags, errnoOf and statFrom
// (sys_linux.go: the identity; sys_darwin.go: translations). A call the host interrupts
// with EINTR (a Go runtime signal) is made again.

const atFdcwd = unix.AT_FDCWD

// openFlagMap pairs Linux's (x86-64) open flags with the host's, which differ even between
// Linux architectures (arm64 swaps O_DIRECTORY and O_DIRECT, and moves O_NOFOLLOW).
var openFlagMap = append([]struct{ linux, host int }{
	{O_CREAT, unix.O_CREAT}, {O_EXCL, unix.O_EXCL}, {O_NOCTTY, unix.O_NOCTTY},
	{O_TRUNC, unix.O_TRUNC}, {O_APPEND, unix.O_APPEND}, {O_NONBLOCK, unix.O_NONBLOCK},
	{O_DSYNC, unix.O_DSYNC}, {O_ASYNC, unix.O_ASYNC}, {O_DIRECTORY, unix.O_DIRECTORY},
	{O_NOFOLLOW, unix.O_NOFOLLOW}, {O_CLOEXEC, unix.O_CLOEXEC},
}, hostOnlyFlags...)

// hostOpenFlags translates Linux's open flags to the host's.
func hostOpenFlags(flags int) (int, Errno) {
	h := flags & O_ACCMODE
	switch {
	case flags&O_TMPFILE == O_TMPFILE:
		if oTmpfileHost == 0 {
			return 0, EOPNOTSUPP
		}
		h |= oTmpfileHost
		flags &^= O_TMPFILE
	case flags&O_PATH != 0:
		h = oPathHost
		flags &= O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC
	}
	for _, m := range openFlagMap {
		if flags&m.linux != 0 {
			h |= m.host
		}
	}
	if flags&O_SYNC == O_SYNC {
		h |= unix.O_SYNC
	}
	return h, 0
}

// linuxOpenFlags translates the host's file status flags (F_GETFL) to Linux's, where a
// 64-bit process's files are always O_LARGEFILE.
func linuxOpenFlags(h int) int {
	flags := h&O_ACCMODE | O_LARGEFILE
	for _, m := range openFlagMap {
		if m.host != 0 && h&m.host == m.host {
			flags |= m.linux
		}
	}
	if h&unix.O_SYNC == unix.O_SYNC {
		flags |= O_SYNC
	}
	return flags
}

// again runs call until the host does not answer EINTR, and returns its error as an Errno.
func again(call func() error) Errno {
	for {
		err := call()
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return errnoOf(err)
		}
		return 0
	}
}

// Close closes a host descriptor.
func Close(fd int) { _ = unix.Close(fd) }

// Openat opens name relative to the directory dir with Linux's open flags and mode. The
// descriptor is close-on-exec on the host.
func Openat(dir int, name string, flags int, mode uint32) (int, Errno) {
	hf, e := hostOpenFlags(flags)
	if e != 0 {
		return -1, e
	}
	fd := -1
	e = again(func() (err error) {
		fd, err = unix.Openat(dir, name, hf|unix.O_CLOEXEC, mode)
		return err
	})
	return fd, e
}

// Fstat is fstat(2).
func Fstat(fd int, st *Stat) Errno {
	var hs unix.Stat_t
	if e := again(func() error { return unix.Fstat(fd, &hs) }); e != 0 {
		return e
	}
	*st = statFrom(&hs)
	return 0
}

// Fstatat is fstatat(2), following a final symbolic link when follow.
func Fstatat(dir int, name string, st *Stat, follow bool) Errno {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	var hs unix.Stat_t
	if e := again(func() error { return unix.Fstatat(dir, name, &hs, flags) }); e != 0 {
		return e
	}
	*st = statFrom(&hs)
	return 0
}

// Mkdirat is mkdirat(2).
func Mkdirat(dir int, name string, mode uint32) Errno {
	return again(func() error { return unix.Mkdirat(dir, name, mode) })
}

// Unlinkat removes a name; rmdir asks for a directory (AT_REMOVEDIR).
func Unlinkat(dir int, name string, rmdir bool) Errno {
	flags := 0
	if rmdir {
		flags = unix.AT_REMOVEDIR
	}
	return again(func() error { return unix.Unlinkat(dir, name, flags) })
}

// Symlinkat is symlinkat(2).
func Symlinkat(target string, dir int, name string) Errno {
	return again(func() error { return unix.Symlinkat(target, dir, name) })
}

// Readlinkat returns the text of a symbolic link.
func Readlinkat(dir int, name string) (string, Errno) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n := 0
		e := again(func() (err error) {
			n, err = unix.Readlinkat(dir, name, buf)
			return err
		})
		if e != 0 {
			return "", e
		}
		if n < size || size >= 1<<16 {
			return string(buf[:n]), 0
		}
	}
}

// Linkat gives the file old names in olddir a new name, following a final symbolic link in
// old only when follow.
func Linkat(olddir int, old string, newdir int, new string, follow bool) Errno {
	flags := 0
	if follow {
		flags = unix.AT_SYMLINK_FOLLOW
	}
	return again(func() error { return unix.Linkat(olddir, old, newdir, new, flags) })
}

// Ftruncate is ftruncate(2).
func Ftruncate(fd int, length int64) Errno {
	return again(func() error { return unix.Ftruncate(fd, length) })
}

// Fsync is fsync(2).
func Fsync(fd int) Errno { return again(func() error { return unix.Fsync(fd) }) }

// Fchmod is fchmod(2).
func Fchmod(fd int, mode uint32) Errno {
	return again(func() error { return unix.Fchmod(fd, mode) })
}

// Read is read(2).
func Read(fd int, b []byte) (int, Errno) {
	n := 0
	e := again(func() (err error) {
		n, err = unix.Read(fd, b)
		return err
	})
	return max(n, 0), e
}

// Write is write(2).
func Write(fd int, b []byte) (int, Errno) {
	n := 0
	e := again(func() (err error) {
		n, err = unix.Write(fd, b)
		return err
	})
	return max(n, 0), e
}

// Pread is pread(2).
func Pread(fd int, b []byte, off int64) (int, Errno) {
	n := 0
	e := again(func() (err error) {
		n, err = unix.Pread(fd, b, off)
		return err
	})
	return max(n, 0), e
}

// Pwrite is pwrite(2).
func Pwrite(fd int, b []byte, off int64) (int, Errno) {
	n := 0
	e := again(func() (err error) {
		n, err = unix.Pwrite(fd, b, off)
		return err
	})
	return max(n, 0), e
}

// Seek is lseek(2); whence is Linux's (SEEK_SET 0, SEEK_CUR 1, SEEK_END 2, SEEK_DATA 3,
// SEEK_HOLE 4).
func Seek(fd int, off int64, whence int) (int64, Errno) {
	hw, e := hostWhence(whence)
	if e != 0 {
		return -1, e
	}
	var r int64
	e = again(func() (err error) {
		r, err = unix.Seek(fd, off, hw)
		return err
	})
	return r, e
}

// DupCloexec duplicates fd to a descriptor of 3 or more, close-on-exec (F_DUPFD_CLOEXEC).
func DupCloexec(fd int) (int, Errno) {
	var r int
	e := again(func() (err error) {
		r, err = unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 3)
		return err
	})
	return r, e
}

// GetFl returns fd's file status flags as Linux's F_GETFL reports them.
func GetFl(fd int) (int, Errno) {
	var r int
	e := again(func() (err error) {
		r, err = unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		return err
	})
	if e != 0 {
		return 0, e
	}
	return linuxOpenFlags(r), 0
}

// SetNonblock sets or clears O_NONBLOCK on the open file description of fd.
func SetNonblock(fd int, on bool) Errno {
	return again(func() error { return unix.SetNonblock(fd, on) })
}

// Poll is poll(2) with a timeout in milliseconds (-1: none), returning how many are ready.
func Poll(fds []PollFd, ms int) (int, Errno) {
	if len(fds) == 0 {
		return 0, 0
	}
	hp := make([]unix.PollFd, len(fds))
	for i, f := range fds {
		hp[i] = unix.PollFd{Fd: f.Fd, Events: f.Events}
	}
	var n int
	e := again(func() (err error) {
		n, err = unix.Poll(hp, ms)
		return err
	})
	for i := range fds {
		fds[i].Revents = hp[i].Revents
	}
	return n, e
}

// readNames lists the names in the directory open on dir (for climbPath).
func readNames(dir int) ([]string, Errno) {
	fd, e := Openat(dir, ".", O_RDONLY|O_DIRECTORY, 0)
	if e != 0 {
		return nil, e
	}
	f := os.NewFile(uintptr(fd), ".")
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, errnoOf(err)
	}
	return names, 0
}

// errnoCommon finds the unix.Errno an error carries.
func errnoCommon(err error) (unix.Errno, bool) {
	var en unix.Errno
	if errors.As(err, &en) {
		return en, true
	}
	return 0, false
}

// Fchownat changes the owner and group (-1: unchanged) of name in dir, following a final
// symbolic link when follow.
func Fchownat(dir int, name string, uid, gid int, follow bool) Errno {
	flags := unix.AT_SYMLINK_NOFOLLOW
	if follow {
		flags = 0
	}
	return again(func() error { return unix.Fchownat(dir, name, uid, gid, flags) })
}

// PollIntr is Poll that returns EINTR when a host signal interrupts the wait (for callers
// that wait for signals themselves).
func PollIntr(fds []PollFd, ms int) (int, Errno) {
	hp := make([]unix.PollFd, len(fds))
	for i, f := range fds {
		hp[i] = unix.PollFd{Fd: f.Fd, Events: f.Events}
	}
	n, err := unix.Poll(hp, ms)
	for i := range fds {
		fds[i].Revents = hp[i].Revents
	}
	if err != nil {
		return 0, errnoOf(err)
	}
	return n, 0
}

// Pipe makes a non-blocking, close-on-exec pipe: read end, write end.
func Pipe() (int, int, Errno) {
	var p [2]int
	if e := again(func() error { return pipe(&p) }); e != 0 {
		return -1, -1, e
	}
	return p[0], p[1], 0
}

// Flock is flock(2) (LOCK_SH 1, LOCK_EX 2, LOCK_NB 4, LOCK_UN 8 on every Unix host).
func Flock(fd int, op int) Errno { return again(func() error { return unix.Flock(fd, op) }) }

// FileLimit is the host's soft limit on this process's open descriptors (RLIMIT_NOFILE).
func FileLimit() uint64 {
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil || rl.Cur == 0 {
		return 1024
	}
	return rl.Cur
}

// ReadSmallFile reads a small host file, such as one of /proc or /sys, with plain system
// calls. Not through package os: its first open starts the Go runtime's network poller (an
// epoll instance and an eventfd, polled from then on), which a run that opens no host file
// through package os never needs.
func ReadSmallFile(path string) ([]byte, error) {
	var fd int
	if e := again(func() (err error) {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		return err
	}); e != 0 {
		return nil, e
	}
	defer unix.Close(fd)
	var b []byte
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, errnoOf(err)
		}
		if n <= 0 {
			return b, nil
		}
		b = append(b, buf[:n]...)
	}
}
