package minikernel

import (
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Host calls only a Linux host has, for the parts of the kernel that mirror their state
// onto the host: capabilities, file locks held on the host too, extended attributes.
// hostcalls_other.go says what other hosts do instead.

// hostCapabilities asks the host for emu's capability sets (capget, version 3).
func hostCapabilities() (eff, prm, inh uint64) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return 0, 0, 0
	}
	join := func(lo, hi uint32) uint64 { return (uint64(lo) | uint64(hi)<<32) & capFullSet }
	return join(data[0].Effective, data[1].Effective), join(data[0].Permitted, data[1].Permitted),
		join(data[0].Inheritable, data[1].Inheritable)
}

// hostReopen opens another description of the host file open on fd with Linux's access
// mode acc, through its magic link (the file itself, not a name).
func hostReopen(fd int, acc int) (int, Errno) {
	nfd, e := hostfs.Openat(unix.AT_FDCWD, procFDPath(fd), acc|oNoctty, 0)
	return nfd, Errno(e)
}

// hostOFDLock is fcntl(fd, cmd, &flock) for an OFD lock of typ over [start, end]. A native
// process's conflicting lock is EAGAIN.
func hostOFDLock(fd int, cmd int, typ int16, start, end uint64) Errno {
	l := unix.Flock_t{Type: typ, Start: int64(start)}
	if end != offsetMax {
		l.Len = int64(end - start + 1)
	}
	e := hostErr(unix.FcntlFlock(uintptr(fd), cmd, &l))
	if e == EACCES {
		e = EAGAIN
	}
	return e
}

// hostTestLock asks the host whether a lock of typ over [start, end] would conflict with
// a lock another host process holds (F_OFD_GETLK on the mirror, which its own locks never
// conflict with), returning the blocking lock.
func hostTestLock(fd int, typ int16, start, end uint64) (hostFlock, bool) {
	l := unix.Flock_t{Type: typ, Start: int64(start)}
	if end != offsetMax {
		l.Len = int64(end - start + 1)
	}
	if err := unix.FcntlFlock(uintptr(fd), fOFDGetlk, &l); err != nil || l.Type == fUnlck {
		return hostFlock{typ: fUnlck}, false
	}
	return hostFlock{typ: l.Type, whence: l.Whence, start: l.Start, len: l.Len, pid: l.Pid}, true
}

// hostGetxattr, hostSetxattr, hostListxattr and hostRemovexattr make the host's xattr
// calls (the l* forms when not following a final link) on a host path.
func hostGetxattr(follow bool, path, name string, buf []byte) (uintptr, Errno) {
	get := unix.Lgetxattr
	if follow {
		get = unix.Getxattr
	}
	var n int
	e := hostRetry(func() (err error) { n, err = get(path, name, buf); return })
	return uintptr(max(n, 0)), e
}

func hostSetxattr(follow bool, path, name string, buf []byte, flags uint64) Errno {
	set := unix.Lsetxattr
	if follow {
		set = unix.Setxattr
	}
	return hostRetry(func() error { return set(path, name, buf, int(flags)) })
}

func hostListxattr(follow bool, path string, buf []byte) (uintptr, Errno) {
	list := unix.Llistxattr
	if follow {
		list = unix.Listxattr
	}
	var n int
	e := hostRetry(func() (err error) { n, err = list(path, buf); return })
	return uintptr(max(n, 0)), e
}

func hostRemovexattr(follow bool, path, name string) Errno {
	rm := unix.Lremovexattr
	if follow {
		rm = unix.Removexattr
	}
	return hostRetry(func() error { return rm(path, name) })
}

// hostRetry makes call again while the host answers EINTR.
func hostRetry(call func() error) Errno {
	for {
		err := call()
		if err != unix.EINTR {
			return hostErr(err)
		}
	}
}

// hostErr is the Errno of a host error (a Linux host's numbers are the guest's).
func hostErr(err error) Errno {
	if err == nil {
		return 0
	}
	if en, ok := err.(unix.Errno); ok {
		return Errno(en)
	}
	return EIO
}

// retryEINTR runs call until the host does not answer EINTR (a Go runtime signal landing
// during the call), and returns its result as an Errno. call makes the system call itself,
// with every pointer converted to uintptr inside the syscall.Syscall6 call expression: only
// that form keeps the memory alive and in place for the call (rule 4 of unsafe.Pointer).
func retryEINTR(call func() (uintptr, syscall.Errno)) (uintptr, Errno) {
	for {
		r, e := call()
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return r, Errno(e)
		}
		return r, 0
	}
}

// sys6 is syscall.Syscall6 returning (result, errno), for use inside retryEINTR's calls.
func sys6(r uintptr, _ uintptr, e syscall.Errno) (uintptr, syscall.Errno) { return r, e }

// procFDPath is the host path through which a host descriptor's file can be reached by
// the calls that have no descriptor form: a magic link, followed by the host's kernel.
func procFDPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
