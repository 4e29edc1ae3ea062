package minikernel

import (
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw Linux host calls that the Linux-only parts of the kernel (host file locks, extended
// attributes, capabilities, fallocate) make directly. The portable file layer is hostfs's;
// these exist on Linux hosts only, and their callers have a fallback elsewhere.

// retryEINTR runs call until the host does not answer EINTR (a Go runtime signal landing
// during the call), and returns its result as an Errno.
//
// call makes the system call itself, with every pointer converted to uintptr inside the
// syscall.Syscall6 call expression: only that form keeps the memory alive and in place for
// the duration of the call (rule 4 of unsafe.Pointer).
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

// cstr returns a NUL-terminated copy of s for the host.
func cstr(s string) *byte {
	b := make([]byte, len(s)+1)
	copy(b, s)
	return &b[0]
}

// hostOpenat2 is openat(dirfd, path, flags, mode) (resolve must be 0 here: confined walks
// are hostfs's).
func hostOpenat2(dirfd int, path string, flags int, mode uint32, resolve uint64) (int, Errno) {
	p := cstr(path)
	r, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags), uintptr(mode), 0, 0))
	})
	if e != 0 {
		return -1, e
	}
	return int(r), 0
}

// procFDPath is the host path through which a host descriptor's file can be reached by
// the calls that have no descriptor form: a magic link, followed by the host's kernel.
func procFDPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
