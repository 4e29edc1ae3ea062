package minikernel

import (
	"encoding/binary"
	"os"
	"syscall"
)

// File system calls: open, close, read, write and friends, on the file layer of file.go.
// Argument checks and errno values follow Linux's fs/open.c, fs/read_write.c, fs/stat.c and
// fs/fcntl.c; what the host file system decides (ENOENT, EACCES, EEXIST, ...) comes from the
// host's own open, stat and unlink, which are Linux's.

const (
	atFdcwd           = -100
	atSymlinkNofollow = 0x100
	atRemovedir       = 0x200
	atEmptyPath       = 0x1000
	pathMax           = 4096
	fdCloexec         = 1
)

// fdcwdArg is AT_FDCWD as a system-call argument register holds it.
const fdcwdArg = uint64(1<<32 + atFdcwd)

// maxRW is the most a single read or write transfers (Linux's MAX_RW_COUNT).
const maxRW = 0x7ffff000

// userPath reads a path argument: EFAULT for a bad pointer, ENAMETOOLONG past PATH_MAX,
// ENOENT for an empty path.
func (k *Kernel) userPath(p *Process, va uint64) (string, Errno) {
	s, e := k.copyInString(p, va, pathMax)
	if e != 0 {
		return "", e
	}
	if s == "" {
		return "", ENOENT
	}
	return s, 0
}

// atPath resolves a path relative to a directory descriptor: AT_FDCWD and absolute paths as
// the host resolves them; other directory descriptors are not supported yet (EBADF for a
// descriptor that is not open, ENOTDIR for one that is not a directory, else the
// directory's host path joined).
func (k *Kernel) atPath(p *Process, dirfd uint64, path string) (string, Errno) {
	if path[0] == '/' || int32(dirfd) == atFdcwd {
		return path, 0
	}
	f := p.fds.get(uint64(int64(int32(dirfd))))
	switch {
	case f == nil:
		return "", EBADF
	case f.kind != fileDir:
		return "", ENOTDIR
	}
	return f.name + "/" + path, 0
}

// open(path, flags, mode).
func sysOpen(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], a[2]}
	return sysOpenat(k, p, &b)
}

// openat(dirfd, path, flags, mode): open a host file and give it the lowest free descriptor.
func sysOpenat(k *Kernel, p *Process, a *[6]uint64) int64 {
	path, e := k.userPath(p, a[1])
	if e != 0 {
		return -int64(e)
	}
	if path, e = k.atPath(p, a[0], path); e != 0 {
		return -int64(e)
	}
	flags := int(int32(a[2]))
	f, e := k.openHost(path, flags, uint32(a[3])&0o7777)
	if e != 0 {
		return -int64(e)
	}
	fd, e := p.fds.install(f, flags&oCloexec != 0, 0)
	if e != 0 {
		f.put()
		return -int64(e)
	}
	return int64(fd)
}

// close(fd).
func sysClose(k *Kernel, p *Process, a *[6]uint64) int64 {
	return -int64(p.fds.close(uint64(int64(int32(a[0])))))
}

// fdArg returns the open file for a descriptor argument (an int), or nil.
func fdArg(p *Process, v uint64) *File { return p.fds.get(uint64(int64(int32(v)))) }

// rw checks a read or write: EBADF for a descriptor not open for it; count capped at
// MAX_RW_COUNT.
func rwFile(p *Process, fd uint64, write bool) (*File, Errno) {
	f := fdArg(p, fd)
	if f == nil || (write && !f.writable()) || (!write && !f.readable()) {
		return nil, EBADF
	}
	return f, 0
}

// read(fd, buf, count) at the file position.
func sysReadFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, e := rwFile(p, a[0], false)
	if e != 0 {
		return -int64(e)
	}
	n, e := k.fileRead(p, f, a[1], min(a[2], maxRW), f.off)
	if e != 0 {
		return -int64(e)
	}
	if f.kind == fileRegular {
		f.off += n
	}
	return int64(n)
}

// write(fd, buf, count) at the file position (at the end for O_APPEND).
func sysWriteFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, e := rwFile(p, a[0], true)
	if e != 0 {
		return -int64(e)
	}
	off := f.off
	if f.flags&oAppend != 0 && f.ino != nil {
		off = f.ino.size
	}
	n, e := k.fileWrite(p, f, a[1], min(a[2], maxRW), off)
	if e != 0 {
		return -int64(e)
	}
	if f.kind == fileRegular {
		f.off = off + n
	}
	return int64(n)
}

// pread64(fd, buf, count, offset) and pwrite64: at an explicit offset, which must be a
// seekable file's.
func sysPread(k *Kernel, p *Process, a *[6]uint64) int64  { return positional(k, p, a, false) }
func sysPwrite(k *Kernel, p *Process, a *[6]uint64) int64 { return positional(k, p, a, true) }

func positional(k *Kernel, p *Process, a *[6]uint64, write bool) int64 {
	if int64(a[3]) < 0 {
		return -int64(EINVAL)
	}
	f, e := rwFile(p, a[0], write)
	if e != 0 {
		return -int64(e)
	}
	if f.kind == fileStream || f.kind == fileDevice {
		return -int64(ESPIPE)
	}
	var n uint64
	if write {
		n, e = k.fileWrite(p, f, a[1], min(a[2], maxRW), a[3])
	} else {
		n, e = k.fileRead(p, f, a[1], min(a[2], maxRW), a[3])
	}
	if e != 0 {
		return -int64(e)
	}
	return int64(n)
}

// readv(fd, iov, iovcnt) and writev: each struct iovec in turn, stopping at a short
// transfer. More than IOV_MAX (1024) vectors, or a total beyond ssize_t, is EINVAL.
func sysReadv(k *Kernel, p *Process, a *[6]uint64) int64  { return vectored(k, p, a, false) }
func sysWritev(k *Kernel, p *Process, a *[6]uint64) int64 { return vectored(k, p, a, true) }

func vectored(k *Kernel, p *Process, a *[6]uint64, write bool) int64 {
	if _, e := rwFile(p, a[0], write); e != 0 {
		return -int64(e)
	}
	cnt := a[2]
	if cnt > 1024 {
		return -int64(EINVAL)
	}
	if cnt == 0 {
		return 0
	}
	iov := make([]byte, 16*cnt)
	if _, ok := k.copyIn(p, a[1], iov); !ok {
		return -int64(EFAULT)
	}
	var total uint64
	for i := uint64(0); i < cnt; i++ {
		l := binary.LittleEndian.Uint64(iov[16*i+8:])
		if int64(l) < 0 || total+l < total || int64(total+l) < 0 {
			return -int64(EINVAL)
		}
		total += l
	}
	var done uint64
	for i := uint64(0); i < cnt; i++ {
		base, l := binary.LittleEndian.Uint64(iov[16*i:]), binary.LittleEndian.Uint64(iov[16*i+8:])
		if l == 0 {
			continue
		}
		b := [6]uint64{a[0], base, l}
		var r int64
		if write {
			r = sysWriteFn(k, p, &b)
		} else {
			r = sysReadFn(k, p, &b)
		}
		if r < 0 {
			if done > 0 {
				break
			}
			return r
		}
		done += uint64(r)
		if uint64(r) < l {
			break
		}
	}
	return int64(done)
}

// lseek(fd, offset, whence).
func sysLseek(k *Kernel, p *Process, a *[6]uint64) int64 {
	const (
		seekSet, seekCur, seekEnd, seekData, seekHole = 0, 1, 2, 3, 4
	)
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	if f.kind == fileStream || (f.kind == fileDevice && f.host != nil && isFIFO(f)) {
		return -int64(ESPIPE)
	}
	off := int64(a[1])
	var size int64
	if f.ino != nil {
		size = int64(f.ino.size)
	}
	var pos int64
	switch a[2] {
	case seekSet:
		pos = off
	case seekCur:
		pos = int64(f.off) + off
	case seekEnd:
		pos = size + off
	case seekData, seekHole:
		if f.kind != fileRegular {
			return -int64(EINVAL)
		}
		if off < 0 || off >= size {
			return -int64(ENXIO)
		}
		pos = off
		if a[2] == seekHole {
			pos = size // the page cache knows no holes: data runs to the end
		}
	default:
		return -int64(EINVAL)
	}
	if pos < 0 {
		return -int64(EINVAL)
	}
	if f.kind == fileDevice {
		r, err := f.host.Seek(off, int(a[2]))
		if err != nil {
			return -int64(errnoOf(err))
		}
		return r
	}
	f.off = uint64(pos)
	return pos
}

func isFIFO(f *File) bool {
	fi, err := f.host.Stat()
	return err == nil && fi.Mode()&os.ModeNamedPipe != 0
}

// fstat(fd, statbuf).
func sysFstat(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	var st syscall.Stat_t
	if e := k.statOf(f, &st); e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, a[1], statBytes(&st)); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// stat(path, statbuf) and lstat.
func sysStat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], 0}
	return sysNewfstatat(k, p, &b)
}

func sysLstat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], atSymlinkNofollow}
	return sysNewfstatat(k, p, &b)
}

// newfstatat(dirfd, path, statbuf, flags): with AT_EMPTY_PATH and an empty path it is fstat
// of dirfd (glibc's fstat). A host file the guest has open reports the guest-visible size.
func sysNewfstatat(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[3]
	if flags&^(atSymlinkNofollow|atEmptyPath|0x800 /* AT_NO_AUTOMOUNT */) != 0 {
		return -int64(EINVAL)
	}
	path, e := k.copyInString(p, a[1], pathMax)
	if e != 0 {
		return -int64(e)
	}
	if path == "" {
		if flags&atEmptyPath == 0 {
			return -int64(ENOENT)
		}
		if int32(a[0]) == atFdcwd {
			path = "."
		} else {
			b := [6]uint64{a[0], a[2]}
			return sysFstat(k, p, &b)
		}
	}
	if path, e = k.atPath(p, a[0], path); e != 0 {
		return -int64(e)
	}
	var st syscall.Stat_t
	var err error
	if flags&atSymlinkNofollow != 0 {
		err = syscall.Lstat(path, &st)
	} else {
		err = syscall.Stat(path, &st)
	}
	if err != nil {
		return -int64(errnoOf(err))
	}
	if ino, ok := k.cache.inodes[fileID{dev: st.Dev, ino: st.Ino}]; ok && st.Mode&syscall.S_IFMT == syscall.S_IFREG {
		st.Size = int64(ino.size)
	}
	if _, ok := k.copyOut(p, a[2], statBytes(&st)); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// access(path, mode) and faccessat(dirfd, path, mode): the host decides.
func sysAccess(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1]}
	return sysFaccessat(k, p, &b)
}

func sysFaccessat(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2]&^7 != 0 {
		return -int64(EINVAL)
	}
	path, e := k.userPath(p, a[1])
	if e != 0 {
		return -int64(e)
	}
	if path, e = k.atPath(p, a[0], path); e != 0 {
		return -int64(e)
	}
	if err := syscall.Access(path, uint32(a[2])); err != nil {
		return -int64(errnoOf(err))
	}
	return 0
}

// unlink(path) and unlinkat(dirfd, path, flags): the host removes the name; an open or
// mapped file lives on in the page cache, as on Linux.
func sysUnlink(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], 0}
	return sysUnlinkat(k, p, &b)
}

func sysUnlinkat(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2]&^atRemovedir != 0 {
		return -int64(EINVAL)
	}
	path, e := k.userPath(p, a[1])
	if e != 0 {
		return -int64(e)
	}
	if path, e = k.atPath(p, a[0], path); e != 0 {
		return -int64(e)
	}
	var err error
	if a[2]&atRemovedir != 0 {
		err = syscall.Rmdir(path)
	} else {
		err = syscall.Unlink(path)
	}
	if err != nil {
		return -int64(errnoOf(err))
	}
	return 0
}

// dup(fd), dup2(old, new), dup3(old, new, flags).
func sysDup(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	f.get()
	fd, e := p.fds.install(f, false, 0)
	if e != 0 {
		f.put()
		return -int64(e)
	}
	return int64(fd)
}

func sysDup2(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	if int32(a[0]) == int32(a[1]) {
		return int64(int32(a[1]))
	}
	return dupTo(p, f, a[1], false)
}

func sysDup3(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2]&^oCloexec != 0 || int32(a[0]) == int32(a[1]) {
		return -int64(EINVAL)
	}
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	return dupTo(p, f, a[1], a[2]&oCloexec != 0)
}

func dupTo(p *Process, f *File, newfd uint64, cloexec bool) int64 {
	n := int64(int32(newfd))
	if n < 0 || n >= maxFDs {
		return -int64(EBADF)
	}
	f.get()
	p.fds.installAt(int(n), f, cloexec)
	return n
}

// fcntl(fd, cmd, arg): F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL
// (O_APPEND and O_NONBLOCK).
func sysFcntl(k *Kernel, p *Process, a *[6]uint64) int64 {
	const (
		fDupfd, fGetfd, fSetfd, fGetfl, fSetfl = 0, 1, 2, 3, 4
		fDupfdCloexec                          = 1030
	)
	fd := uint64(int64(int32(a[0])))
	f := p.fds.get(fd)
	if f == nil {
		return -int64(EBADF)
	}
	switch a[1] {
	case fDupfd, fDupfdCloexec:
		min := int64(int32(a[2]))
		if min < 0 || min >= maxFDs {
			return -int64(EINVAL)
		}
		f.get()
		n, e := p.fds.install(f, a[1] == fDupfdCloexec, int(min))
		if e != 0 {
			f.put()
			return -int64(e)
		}
		return int64(n)
	case fGetfd:
		if p.fds.fds[fd].cloexec {
			return fdCloexec
		}
		return 0
	case fSetfd:
		p.fds.fds[fd].cloexec = a[2]&fdCloexec != 0
		return 0
	case fGetfl:
		return int64(f.flags)
	case fSetfl:
		f.flags = f.flags&^(oAppend|oNonblock) | int(a[2])&(oAppend|oNonblock)
		return 0
	}
	return -int64(EINVAL)
}

// ioctl(fd, request, arg): no descriptor is a terminal here, so terminal requests
// (TIOCGWINSZ, TCGETS, ...) get ENOTTY, as Linux answers for a pipe or a regular file.
func sysIoctl(k *Kernel, p *Process, a *[6]uint64) int64 {
	if fdArg(p, a[0]) == nil {
		return -int64(EBADF)
	}
	return -int64(ENOTTY)
}

// getcwd(buf, size): the host's working directory, against which paths resolve.
func sysGetcwd(k *Kernel, p *Process, a *[6]uint64) int64 {
	wd, err := os.Getwd()
	if err != nil {
		return -int64(errnoOf(err))
	}
	b := append([]byte(wd), 0)
	if uint64(len(b)) > a[1] {
		return -int64(ERANGE)
	}
	if _, ok := k.copyOut(p, a[0], b); !ok {
		return -int64(EFAULT)
	}
	return int64(len(b))
}
