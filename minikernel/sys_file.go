package minikernel

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Descriptor system calls: open, close, read, write and friends, on the file layer of
// file.go. Argument checks and errno values follow Linux's fs/open.c, fs/read_write.c,
// fs/stat.c, fs/fcntl.c, fs/ioctl.c and fs/readdir.c; what the host file system decides
// (ENOENT, EACCES, EEXIST, ...) comes from the host's own calls, which are Linux's. The
// calls on names rather than descriptors (stat, mkdir, rename, ...) are in sys_fs.go.

const (
	atFdcwd           = -100
	atSymlinkNofollow = 0x100
	atEaccess         = 0x200
	atRemovedir       = 0x200
	atSymlinkFollow   = 0x400
	atNoAutomount     = 0x800
	atEmptyPath       = 0x1000
	atStatxSyncType   = 0x6000
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

// open(path, flags, mode).
func sysOpen(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], a[2]}
	return sysOpenat(k, p, &b)
}

// creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode).
func sysCreat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], oCreat | oWronly | oTrunc, a[1]}
	return sysOpenat(k, p, &b)
}

// openat(dirfd, path, flags, mode): open a file and give it the lowest free descriptor.
func sysOpenat(k *Kernel, p *Process, a *[6]uint64) int64 {
	abs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	flags := int(int32(a[2]))
	try := func() int64 {
		f, e := k.openFile(p, abs, flags, uint32(a[3])&0o7777)
		if e == errFifoNoReader {
			return sysBlocks
		}
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
	if r := try(); r != sysBlocks {
		return r
	}
	// open(2) of a FIFO for writing waits for a reader (fifo_open()); the scheduler tries
	// again while the thread sleeps (hostio.go).
	k.hostSleepHint = true
	return k.block(p, &sleepCall{retry: try, restartable: true, fifoOpen: true})
}

// close(fd).
func sysClose(k *Kernel, p *Process, a *[6]uint64) int64 {
	return -int64(p.fds.close(uint64(int64(int32(a[0])))))
}

// fdArg returns the open file for a descriptor argument (an int), or nil.
func fdArg(p *Process, v uint64) *File { return p.fds.get(uint64(int64(int32(v)))) }

// rwFile checks a read or write: EBADF for a descriptor not open for it.
func rwFile(p *Process, fd uint64, write bool) (*File, Errno) {
	f := fdArg(p, fd)
	if f == nil || (write && !f.writable()) || (!write && !f.readable()) {
		return nil, EBADF
	}
	return f, 0
}

// seekable reports whether f has a position that pread, pwrite and lseek can use.
func seekable(f *File) bool {
	switch f.kind {
	case filePipe, fileStream:
		return false
	case fileSpecial:
		_, ok := f.obj.(*procOpenFile)
		return ok
	case fileDevice:
		_, e := hostfs.Seek(f.hfd, 0, 1)
		return e == 0
	}
	return true
}

// doRead reads into dst from f at *pos (pread), or at the file position, advancing it.
// A pipe sleeps until it has data; the other files never sleep.
func (k *Kernel) doRead(p *Process, f *File, dst *uio, pos *uint64) int64 {
	if dst.bad {
		return -int64(EFAULT)
	}
	if f.kind == filePidfd {
		return -int64(EINVAL) // a pidfd has no read method
	}
	if f.kind == fileDevice && f.hfd >= 0 && pos == nil {
		return k.hostIOCall(p, f, dst, false) // sleeps, not the host, while nothing is there
	}
	if f.kind == filePipe {
		return k.pipeReadCall(p, f, dst)
	}
	if f.kind == fileSpecial {
		if o, ok := f.obj.(*procOpenFile); ok && pos != nil {
			return o.readAt(k, p, f, dst, *pos) // pread of a /proc file
		}
		return k.specialRead(p, f, dst) // special.go
	}
	if pos != nil && f.kind == fileDevice {
		return k.devicePIO(p, f, dst, *pos, false)
	}
	off := f.off
	if pos != nil {
		off = *pos
	}
	n, e := k.fileRead(p, f, dst, off)
	if e != 0 {
		return -int64(e)
	}
	if pos == nil && isDataFile(f) {
		f.off += n
	}
	return int64(n)
}

// doWrite writes src to f at *pos (pwrite), or at the file position (the end for
// O_APPEND), advancing it. A pipe sleeps until every byte is in.
func (k *Kernel) doWrite(p *Process, f *File, src *uio, pos *uint64) int64 {
	if src.bad {
		return -int64(EFAULT)
	}
	if f.kind == filePidfd {
		return -int64(EINVAL)
	}
	if f.kind == fileDevice && f.hfd >= 0 && pos == nil {
		return k.hostIOCall(p, f, src, true) // sleeps, not the host, while there is no room
	}
	if f.kind == filePipe {
		return k.pipeWriteCall(p, f, src)
	}
	if f.kind == fileSpecial {
		return k.specialWrite(p, f, src) // special.go
	}
	if pos != nil && f.kind == fileDevice {
		return k.devicePIO(p, f, src, *pos, true)
	}
	off := f.off
	switch {
	case f.flags&oAppend != 0 && f.ino != nil:
		// Even for pwrite: Linux appends whatever the offset (pwrite(2), BUGS), at the
		// end as the host has it now.
		k.refreshSize(f)
		off = f.ino.size
	case pos != nil:
		off = *pos
	}
	n, e := k.fileWrite(p, f, src, off)
	if e != 0 {
		return -int64(e)
	}
	if pos == nil && isDataFile(f) {
		f.off = off + n
	}
	return int64(n)
}

// devicePIO is pread or pwrite on a host device, at an explicit offset.
func (k *Kernel) devicePIO(p *Process, f *File, buf *uio, pos uint64, write bool) int64 {
	data := make([]byte, min(buf.total, 1<<16))
	if write {
		got, ok := buf.load(k, p, 0, data)
		if !ok && got == 0 {
			return -int64(EFAULT)
		}
		n, e := hostfs.Pwrite(f.hfd, data[:got], int64(pos))
		if e != 0 {
			return -int64(e)
		}
		return int64(n)
	}
	n, e := hostfs.Pread(f.hfd, data, int64(pos))
	if e != 0 {
		return -int64(e)
	}
	if got, ok := buf.store(k, p, 0, data[:n]); !ok {
		if got == 0 {
			return -int64(EFAULT)
		}
		return int64(got)
	}
	return int64(n)
}

// read(fd, buf, count) at the file position.
func sysReadFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, e := rwFile(p, a[0], false)
	if e != 0 {
		return -int64(e)
	}
	return k.doRead(p, f, userBuf(a[1], a[2]), nil)
}

// write(fd, buf, count) at the file position (at the end for O_APPEND).
func sysWriteFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, e := rwFile(p, a[0], true)
	if e != 0 {
		return -int64(e)
	}
	return k.doWrite(p, f, userBuf(a[1], a[2]), nil)
}

// pread64(fd, buf, count, offset) and pwrite64: at an explicit offset, which must be a
// seekable file's (ESPIPE for a pipe, a FIFO or a terminal); a negative offset is EINVAL.
func sysPread(k *Kernel, p *Process, a *[6]uint64) int64 {
	return positional(k, p, a[0], userBuf(a[1], a[2]), a[3], false)
}

func sysPwrite(k *Kernel, p *Process, a *[6]uint64) int64 {
	return positional(k, p, a[0], userBuf(a[1], a[2]), a[3], true)
}

func positional(k *Kernel, p *Process, fd uint64, buf *uio, off uint64, write bool) int64 {
	f, e := rwFile(p, fd, write)
	if e != 0 {
		return -int64(e)
	}
	if int64(off) < 0 {
		return -int64(EINVAL)
	}
	if !seekable(f) {
		return -int64(ESPIPE)
	}
	if write {
		return k.doWrite(p, f, buf, &off)
	}
	return k.doRead(p, f, buf, &off)
}

// readv(fd, iov, iovcnt) and writev: the vectors as one transfer, as Linux's
// do_iter_read() does, so a pipe sees one read or one write.
func sysReadv(k *Kernel, p *Process, a *[6]uint64) int64  { return vectored(k, p, a, false, false) }
func sysWritev(k *Kernel, p *Process, a *[6]uint64) int64 { return vectored(k, p, a, true, false) }

// preadv(fd, iov, iovcnt, offset) and pwritev: at an explicit offset.
func sysPreadv(k *Kernel, p *Process, a *[6]uint64) int64  { return vectored(k, p, a, false, true) }
func sysPwritev(k *Kernel, p *Process, a *[6]uint64) int64 { return vectored(k, p, a, true, true) }

func vectored(k *Kernel, p *Process, a *[6]uint64, write, at bool) int64 {
	f, e := rwFile(p, a[0], write)
	if e != 0 {
		return -int64(e)
	}
	if at && int64(a[3]) < 0 {
		return -int64(EINVAL)
	}
	u, e := k.readIovecs(p, a[1], a[2])
	if e != 0 {
		return -int64(e)
	}
	if at {
		if !seekable(f) {
			return -int64(ESPIPE)
		}
		off := a[3]
		if write {
			return k.doWrite(p, f, u, &off)
		}
		return k.doRead(p, f, u, &off)
	}
	if write {
		return k.doWrite(p, f, u, nil)
	}
	return k.doRead(p, f, u, nil)
}

// lseek(fd, offset, whence). A directory's position is its host descriptor's (the cookie
// getdents64 continues from); a pipe or stream cannot seek.
func sysLseek(k *Kernel, p *Process, a *[6]uint64) int64 {
	const (
		seekSet, seekCur, seekEnd, seekData, seekHole = 0, 1, 2, 3, 4
	)
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	if f.kind == filePipe || f.kind == fileStream {
		return -int64(ESPIPE)
	}
	if f.kind == fileSpecial {
		return k.specialSeek(f, int64(a[1]), a[2]) // special.go
	}
	off := int64(a[1])
	if f.kind == fileDevice || f.kind == fileDir {
		if a[2] > seekHole {
			return -int64(EINVAL)
		}
		r, e := hostfs.Seek(f.hfd, off, int(a[2]))
		if e != 0 {
			return -int64(e)
		}
		return r
	}
	k.refreshSize(f)
	size := int64(f.ino.size)
	var pos int64
	switch a[2] {
	case seekSet:
		pos = off
	case seekCur:
		pos = int64(f.off) + off
	case seekEnd:
		pos = size + off
	case seekData, seekHole:
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
	f.off = uint64(pos)
	return pos
}

// fstat(fd, statbuf).
func sysFstat(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	var st hostfs.Stat
	if e := k.statOf(f, &st); e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, a[1], statBytes(&st)); !ok {
		return -int64(EFAULT)
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

// fcntl commands (include/uapi/asm-generic/fcntl.h, include/uapi/linux/fcntl.h).
const (
	fDupfd        = 0
	fGetfd        = 1
	fSetfd        = 2
	fGetfl        = 3
	fSetfl        = 4
	fDupfdCloexec = 1030
	fGetpipeSz    = 1032
)

// fcntl(fd, cmd, arg): F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL
// (O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT, O_NOATIME), F_GETPIPE_SZ. Other commands
// (record locks, leases, owners) are EINVAL.
func sysFcntl(k *Kernel, p *Process, a *[6]uint64) int64 {
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
	}
	if f.pathOnly() {
		return -int64(EBADF) // O_PATH descriptors take only the commands above
	}
	switch a[1] {
	case fSetfl:
		f.flags = f.flags&^setflMask | int(a[2])&setflMask
		return 0
	case fGetlk, fSetlk, fSetlkw, fOFDGetlk, fOFDSetlk, fOFDSetlkw:
		return k.fcntlLock(p, f, a[1], a[2]) // locks.go
	case fAddSeals, fGetSeals:
		return k.fcntlSeals(f, a[1], a[2]) // memfd.go
	case fGetpipeSz:
		if f.kind != filePipe {
			return -int64(EBADF)
		}
		return pipeBuffers * pipeBufSize
	}
	return -int64(EINVAL)
}

// ioctl requests (include/uapi/asm-generic/ioctls.h).
const (
	tcgets     = 0x5401
	tcsets     = 0x5402
	tcsetsw    = 0x5403
	tcsetsf    = 0x5404
	tiocgwinsz = 0x5413
	tiocswinsz = 0x5414
	fionread   = 0x541b
	fionbio    = 0x5421
	fionclex   = 0x5450
	fioclex    = 0x5451
	fioasync   = 0x5452
)

// ioctl(fd, request, arg). The generic requests of do_vfs_ioctl (FIOCLEX, FIONCLEX,
// FIONBIO, FIOASYNC), FIONREAD on pipes and regular files, and the terminal requests
// TCGETS, TCSETS*, TIOCGWINSZ and TIOCSWINSZ on a descriptor that is a host terminal (the
// guest's standard streams when emu runs on one, or a terminal device it opens), answered
// by that terminal. Anything else is ENOTTY, as Linux answers for a file without that ioctl.
func sysIoctl(k *Kernel, p *Process, a *[6]uint64) int64 {
	fd := uint64(int64(int32(a[0])))
	f := p.fds.get(fd)
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	req, arg := uint64(uint32(a[1])), a[2]
	putInt := func(v int32) int64 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(v))
		if _, ok := k.copyOut(p, arg, b[:]); !ok {
			return -int64(EFAULT)
		}
		return 0
	}
	switch req {
	case fioclex, fionclex:
		p.fds.fds[fd].cloexec = req == fioclex
		return 0
	case fionbio, fioasync:
		var b [4]byte
		if _, ok := k.copyIn(p, arg, b[:]); !ok {
			return -int64(EFAULT)
		}
		bit := oNonblock
		if req == fioasync {
			bit = oAsync
		}
		if binary.LittleEndian.Uint32(b[:]) != 0 {
			f.flags |= bit
		} else {
			f.flags &^= bit
		}
		return 0
	case fionread:
		switch f.kind {
		case filePipe:
			return putInt(int32(f.pipe.unread()))
		case fileRegular:
			k.refreshSize(f)
			return putInt(int32(int64(f.ino.size) - int64(f.off)))
		}
	}
	if c, ok := f.obj.(*userfaultCtx); ok && f.kind == fileSpecial {
		return c.ioctl(k, p, f, req, arg)
	}
	hfd := hostFDOf(f)
	if hfd < 0 {
		return -int64(ENOTTY)
	}
	var size int
	out := false
	switch req {
	case tcgets:
		size, out = 36, true // struct termios: four flag words, c_line, c_cc[19]
	case tiocgwinsz:
		size, out = 8, true
	case tcsets, tcsetsw, tcsetsf:
		size = 36
	case tiocswinsz:
		size = 8
	default:
		return -int64(ENOTTY)
	}
	buf := make([]byte, size)
	if !out {
		if _, ok := k.copyIn(p, arg, buf); !ok {
			return -int64(EFAULT)
		}
	}
	if e := hostfs.Ioctl(hfd, req, buf); e != 0 {
		return -int64(e)
	}
	if out {
		if _, ok := k.copyOut(p, arg, buf); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// sendfile(out_fd, in_fd, offset, count): copy from a file (through the page cache) to any
// descriptor open for writing, at *offset (updated) or at in_fd's position. in_fd must be
// a regular file (EINVAL otherwise, as for a pipe on Linux); out_fd must not be O_APPEND.
// To a pipe it moves what fits, sleeping only while nothing fits. Linux's do_sendfile().
func sysSendfile(k *Kernel, p *Process, a *[6]uint64) int64 {
	in := fdArg(p, a[1])
	if in == nil || !in.readable() {
		return -int64(EBADF)
	}
	out := fdArg(p, a[0])
	if out == nil || !out.writable() {
		return -int64(EBADF)
	}
	var pos uint64
	if a[2] != 0 {
		var b [8]byte
		if _, ok := k.copyIn(p, a[2], b[:]); !ok {
			return -int64(EFAULT)
		}
		if pos = binary.LittleEndian.Uint64(b[:]); int64(pos) < 0 {
			return -int64(EINVAL)
		}
	} else {
		pos = in.off
	}
	if in.kind != fileRegular || out.flags&oAppend != 0 {
		return -int64(EINVAL)
	}
	count := min(a[3], maxRW)
	try := func() int64 {
		var done uint64
		for done < count {
			chunk := make([]byte, min(count-done, 1<<16))
			n, e := k.fileRead(p, in, kernelBuf(chunk), pos+done)
			if e != 0 {
				if done > 0 {
					break
				}
				return -int64(e)
			}
			if n == 0 {
				break
			}
			var w int64
			if out.kind == filePipe {
				saved := out.flags
				out.flags |= oNonblock // move what fits now
				w = k.pipeWrite(p, out, kernelBuf(chunk[:n]), &pipeXfer{})
				out.flags = saved
				if w == -int64(EAGAIN) && done == 0 && !out.nonblock() {
					out.pipe.waiters.add(k.cur)
					return sysBlocks
				}
			} else {
				var ow uint64
				var oe Errno
				if ow, oe = k.fileWrite(p, out, kernelBuf(chunk[:n]), out.off); oe != 0 {
					w = -int64(oe)
				} else {
					w = int64(ow)
					if out.kind == fileRegular {
						out.off += ow
					}
				}
			}
			if w < 0 {
				if done > 0 {
					break
				}
				return w
			}
			done += uint64(w)
			if uint64(w) < n {
				break
			}
		}
		if a[2] != 0 {
			var b [8]byte
			binary.LittleEndian.PutUint64(b[:], pos+done)
			if _, ok := k.copyOut(p, a[2], b[:]); !ok {
				return -int64(EFAULT)
			}
		} else {
			in.off = pos + done
		}
		return int64(done)
	}
	if r := try(); r != sysBlocks {
		return r
	}
	return k.block(p, &sleepCall{retry: try, restartable: true})
}

// ftruncate(fd, length): a regular file open for writing takes the new size, in the host
// file and in the page cache, and every mapping loses the pages past it (rmap.go).
func sysFtruncate(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	length := int64(a[1])
	if length < 0 || !isDataFile(f) || !f.writable() {
		return -int64(EINVAL)
	}
	if f.kind == fileShm {
		if e := f.sealsAllowSize(uint64(length)); e != 0 {
			return -int64(e)
		}
		k.setSize(f.ino, uint64(length)) // a memfd (memfd.go)
		return 0
	}
	if e := hostfs.Ftruncate(f.hfd, length); e != 0 {
		return -int64(e)
	}
	k.stampFD(f.hfd)
	k.setSize(f.ino, uint64(length))
	return 0
}

// fsync(fd) and fdatasync(fd): the pages shared mappings dirtied, in every process, go to
// the host file, which the host then syncs. A pipe or stream cannot sync (EINVAL).
func sysFsync(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	switch f.kind {
	case filePipe, fileStream:
		return -int64(EINVAL)
	case fileShm:
		return 0
	case fileRegular:
		k.syncInode(f.ino)
	}
	if e := hostfs.Fsync(f.hfd); e != 0 {
		return -int64(e)
	}
	return 0
}

// sync() and syncfs(fd): every dirty page of every shared mapping goes to its file.
func sysSync(k *Kernel, p *Process, a *[6]uint64) int64 {
	k.Sync()
	return 0
}

func sysSyncfs(k *Kernel, p *Process, a *[6]uint64) int64 {
	if f := fdArg(p, a[0]); f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	k.Sync()
	return 0
}

// getdents64(fd, dirp, count): the next entries of a directory, as the host's getdents64
// lays them out (struct linux_dirent64, which the guest reads the same way). A buffer too
// small for one entry is EINVAL; a bad one EFAULT, leaving the position where it was.
func sysGetdents64(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	if d, ok := f.obj.(*procOpenDir); ok {
		b, e := d.getdents(k, f, min(a[2], 1<<16)) // procfs.go
		if e != 0 {
			return -int64(e)
		}
		if _, ok := k.copyOut(p, a[1], b); !ok {
			return -int64(EFAULT)
		}
		return int64(len(b))
	}
	if f.kind != fileDir {
		return -int64(ENOTDIR)
	}
	count := min(a[2], 1<<16)
	buf := make([]byte, max(count, 1))
	before, _ := hostfs.Seek(f.hfd, 0, 1)
	n, e := hostfs.Getdents64(f.hfd, buf[:count])
	if e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, a[1], buf[:n]); !ok {
		_, _ = hostfs.Seek(f.hfd, before, 0)
		return -int64(EFAULT)
	}
	return int64(n)
}

// fchdir(fd): the directory open on fd becomes the working directory.
func sysFchdir(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	if f.kind != fileDir {
		return -int64(ENOTDIR)
	}
	fd, e := hostfs.DupCloexec(f.hfd)
	if e != 0 {
		return -int64(e)
	}
	return k.setCwd(p, fd)
}

// fchmod(fd, mode).
func sysFchmod(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	if f.hfd < 0 {
		return 0 // a pipe or stream: Linux changes its in-memory inode, which no one reads
	}
	if e := hostfs.Fchmod(f.hfd, uint32(a[1])&0o7777&^setID); e != 0 {
		return -int64(e)
	}
	return 0
}

// close_range(first, last, flags): close every descriptor in [first, last], or with
// CLOSE_RANGE_CLOEXEC mark them close-on-exec. CLOSE_RANGE_UNSHARE changes nothing here:
// no process shares its descriptor table. first above last is EINVAL.
func sysCloseRange(k *Kernel, p *Process, a *[6]uint64) int64 {
	const unshare, cloexec = 2, 4
	first, last, flags := uint64(uint32(a[0])), uint64(uint32(a[1])), a[2]
	if flags&^(unshare|cloexec) != 0 || first > last {
		return -int64(EINVAL)
	}
	p.fds.closeRange(first, last, flags&cloexec != 0)
	return 0
}
