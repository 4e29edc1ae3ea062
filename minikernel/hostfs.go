package minikernel

import (
	"syscall"
	"unsafe"
)

// Host system calls the file layer needs that Go's syscall package lacks or wraps with a
// different meaning (Fchmodat emulating flags, Unlinkat without flags). Each returns the
// host's errno as an Errno: the host is Linux, so the numbers are the guest's. EINTR (a Go
// runtime signal landing during the call) is retried.

// Host system-call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
const (
	hostSysReadlinkat = 267
	hostSysNewfstatat = 262
	hostSysUnlinkat   = 263
	hostSysRenameat2  = 316
	hostSysStatx      = 332
	hostSysOpenat2    = 437
	hostSysFaccessat2 = 439
	hostSysSymlinkat  = 266
	hostSysLinkat     = 265
	hostSysUtimensat  = 280
	hostSysPoll       = 7
)

// openat2's struct open_how and its RESOLVE_* flags (include/uapi/linux/openat2.h).
type openHow struct {
	flags, mode, resolve uint64
}

const (
	resolveNoMagiclinks = 0x02
	resolveInRoot       = 0x10
)

// retryEINTR runs call until the host does not answer EINTR (a Go runtime signal landing
// during the call), and returns its result as an Errno.
//
// call makes the system call itself, with every pointer converted to uintptr inside the
// syscall.Syscall6 call expression: only that form keeps the memory alive and in place for
// the duration of the call (rule 4 of unsafe.Pointer). Handing uintptr(unsafe.Pointer(p))
// to an ordinary Go function instead is a bug: p may be freed, or move with a growing
// goroutine stack while the host writes to the old address.
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

// cstr returns a NUL-terminated copy of s for the host. Guest strings never hold a NUL
// (copyInString stops at it), so this cannot fail for them.
func cstr(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

// hostOpenat2 is openat2(dirfd, path, &how, sizeof how). With RESOLVE_IN_ROOT the host
// answers EAGAIN when a rename or mount raced with the walk; the call is then retried, as
// openat2(2) advises.
func hostOpenat2(dirfd int, path string, flags int, mode uint32, resolve uint64) (int, Errno) {
	p := cstr(path)
	if resolve == 0 {
		// Plain openat does the same walk, and exists on kernels older than openat2 (5.6).
		r, e := retryEINTR(func() (uintptr, syscall.Errno) {
			return sys6(syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode), 0, 0))
		})
		if e != 0 {
			return -1, e
		}
		return int(r), 0
	}
	how := openHow{flags: uint64(uint32(flags)), mode: uint64(mode), resolve: resolve}
	for try := 0; ; try++ {
		r, e := retryEINTR(func() (uintptr, syscall.Errno) {
			return sys6(syscall.Syscall6(hostSysOpenat2, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0))
		})
		if e == EAGAIN && resolve != 0 && try < 64 {
			continue
		}
		if e != 0 {
			return -1, e
		}
		return int(r), 0
	}
}

// hostFstatat is newfstatat(dirfd, path, st, flags).
func hostFstatat(dirfd int, path string, st *syscall.Stat_t, flags int) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysNewfstatat, uintptr(dirfd), uintptr(unsafe.Pointer(cstr(path))), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0))
	})
	return e
}

// hostFstat is fstat(fd, st).
func hostFstat(fd int, st *syscall.Stat_t) Errno {
	return hostFstatat(fd, "", st, atEmptyPath)
}

// hostUnlinkat is unlinkat(dirfd, path, flags).
func hostUnlinkat(dirfd int, path string, flags int) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysUnlinkat, uintptr(dirfd), uintptr(unsafe.Pointer(cstr(path))), uintptr(flags), 0, 0, 0))
	})
	return e
}

// hostRenameat2 is renameat2(olddirfd, oldpath, newdirfd, newpath, flags).
func hostRenameat2(olddirfd int, oldpath string, newdirfd int, newpath string, flags uint) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysRenameat2, uintptr(olddirfd), uintptr(unsafe.Pointer(cstr(oldpath))), uintptr(newdirfd), uintptr(unsafe.Pointer(cstr(newpath))), uintptr(flags), 0))
	})
	return e
}

// hostReadlinkat is readlinkat(dirfd, path, buf, len) and returns the link's text.
func hostReadlinkat(dirfd int, path string) (string, Errno) {
	buf := make([]byte, pathMax)
	r, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysReadlinkat, uintptr(dirfd), uintptr(unsafe.Pointer(cstr(path))), uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0))
	})
	if e != 0 {
		return "", e
	}
	return string(buf[:r]), 0
}

// hostStatx is statx(dirfd, path, flags, mask, buf) into a 256-byte struct statx.
func hostStatx(dirfd int, path string, flags int, mask uint32, buf *[256]byte) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysStatx, uintptr(dirfd), uintptr(unsafe.Pointer(cstr(path))), uintptr(flags), uintptr(mask), uintptr(unsafe.Pointer(&buf[0])), 0))
	})
	return e
}

// hostFaccessat2 is faccessat2(dirfd, path, mode, flags). Where the host lacks it (before
// Linux 5.8) an empty path with AT_EMPTY_PATH is asked as faccessat of the descriptor's
// magic link, which names the same file.
func hostFaccessat2(dirfd int, path string, mode uint32, flags int) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysFaccessat2, uintptr(dirfd), uintptr(unsafe.Pointer(cstr(path))), uintptr(mode), uintptr(flags), 0, 0))
	})
	if e == ENOSYS && path == "" && flags&atEmptyPath != 0 && flags&atEaccess == 0 {
		cwd := atFdcwd
		_, e = retryEINTR(func() (uintptr, syscall.Errno) {
			return sys6(syscall.Syscall6(syscall.SYS_FACCESSAT, uintptr(cwd), uintptr(unsafe.Pointer(cstr(procFDPath(dirfd)))), uintptr(mode), 0, 0, 0))
		})
	}
	return e
}

// hostSymlinkat is symlinkat(target, newdirfd, linkpath).
func hostSymlinkat(target string, dirfd int, name string) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysSymlinkat, uintptr(unsafe.Pointer(cstr(target))), uintptr(dirfd), uintptr(unsafe.Pointer(cstr(name))), 0, 0, 0))
	})
	return e
}

// hostLinkat is linkat(olddirfd, oldpath, newdirfd, newpath, flags).
func hostLinkat(olddirfd int, oldpath string, newdirfd int, newpath string, flags int) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysLinkat, uintptr(olddirfd), uintptr(unsafe.Pointer(cstr(oldpath))), uintptr(newdirfd), uintptr(unsafe.Pointer(cstr(newpath))), uintptr(flags), 0))
	})
	return e
}

// hostUtimensat is utimensat(dirfd, path, times, flags); times nil means "now".
func hostUtimensat(dirfd int, path string, times *[4]int64, flags int) Errno {
	p := cstr(path)
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysUtimensat, uintptr(dirfd), uintptr(unsafe.Pointer(p)),
			uintptr(unsafe.Pointer(times)), uintptr(flags), 0, 0))
	})
	return e
}

// hostPollOne asks the host, without waiting, which of events are ready on fd (poll(2)
// with a zero timeout).
func hostPollOne(fd int, events int16) int16 {
	pfd := struct {
		fd             int32
		events, revent int16
	}{int32(fd), events, 0}
	if _, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(hostSysPoll, uintptr(unsafe.Pointer(&pfd)), 1, 0, 0, 0, 0))
	}); e != 0 {
		return 0
	}
	return pfd.revent
}

// hostIoctl is ioctl(fd, req, arg) with arg pointing at buf.
func hostIoctl(fd int, req uint64, buf []byte) Errno {
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(syscall.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&buf[0])), 0, 0, 0))
	})
	return e
}

// More Linux errno values the file layer returns itself (the rest come from the host).
const (
	EXDEV     Errno = 18
	ETXTBSY   Errno = 26
	ENOTEMPTY Errno = 39
	ELOOP     Errno = 40
)
