package minikernel

import (
	"errors"
	"io"
	"os"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Open files: Linux's struct file, an open file description that descriptors share (dup,
// fork) together with its offset and flags. Regular files are read and written through the
// page cache, so that read(), write() and mmap() of one file always agree; write() also
// goes through to the host file at once, and pages stored to through shared mappings are
// written back (msync, fsync, munmap, exit), so the host file always ends up with what the
// guest wrote. Directories are read with getdents64; pipes live in the kernel (pipe.go);
// host devices and FIFOs are read and written on the host directly; the guest's standard
// streams are the Config's readers and writers.

// fileKind says what an open file is.
type fileKind uint8

const (
	fileRegular fileKind = iota // a host regular file, through the page cache
	fileDir                     // a host directory: getdents64; read is EISDIR
	fileDevice                  // a host device, FIFO, socket or emu's own stdio: the host reads and writes
	fileStream                  // the guest's standard input, output or error
	fileShm                     // an anonymous shared-memory object (backs MAP_SHARED|MAP_ANONYMOUS)
	filePipe                    // one end of a pipe (pipe.go)
	fileSpecial                 // a kernel object with file operations of its own (special.go)
	filePidfd                   // a process descriptor (pidfd.go)
)

// Open flags (include/uapi/asm-generic/fcntl.h), as the guest passes them.
const (
	oAccMode   = 0o3
	oRdonly    = 0o0
	oWronly    = 0o1
	oRdwr      = 0o2
	oCreat     = 0o100
	oExcl      = 0o200
	oNoctty    = 0o400
	oTrunc     = 0o1000
	oAppend    = 0o2000
	oNonblock  = 0o4000
	oDsync     = 0o10000
	oAsync     = 0o20000
	oDirect    = 0o40000
	oLargefile = 0o100000
	oDirectory = 0o200000
	oNofollow  = 0o400000
	oNoatime   = 0o1000000
	oCloexec   = 0o2000000
	oSync      = 0o4010000
	oPath      = 0o10000000
	oTmpfile   = 0o20200000
	// validOpenFlags are the flags open() knows; others are ignored (VALID_OPEN_FLAGS).
	validOpenFlags = oAccMode | oCreat | oExcl | oNoctty | oTrunc | oAppend | oNonblock | oDsync |
		oAsync | oDirect | oLargefile | oDirectory | oNofollow | oNoatime | oCloexec | oSync |
		oPath | oTmpfile
	// setflMask are the flags F_SETFL changes (SETFL_MASK).
	setflMask = oAppend | oNonblock | oNoatime | oDirect | oAsync
)

// File is an open file description.
type File struct {
	k     *Kernel
	kind  fileKind
	name  string // the path the file was opened by
	ino   *Inode // regular files, directories, shared memory
	hfd   int    // the host descriptor (host files), else -1
	r     io.Reader
	w     io.Writer
	pipe  *pipe
	proc  *Process   // a pidfd's process
	obj   fileObject // a special file's object (special.go)
	flags int        // the file status flags, as F_GETFL reports them
	off   uint64     // the file position
	refs  int        // descriptors and VMAs holding it
	// hostNB says the host descriptor is in non-blocking mode whatever the guest asked (a
	// FIFO the kernel opened: hostio.go tries it directly and sleeps on EAGAIN).
	hostNB bool
}

// Name returns the path the file was opened by.
func (f *File) Name() string { return f.name }

// Inode returns the object behind the file (nil for a stream, pipe or device).
func (f *File) Inode() *Inode { return f.ino }

func (f *File) pathOnly() bool { return f.flags&oPath != 0 }
func (f *File) readable() bool {
	return !f.pathOnly() && f.flags&oAccMode != oWronly && f.flags&oAccMode != 3
}
func (f *File) writable() bool {
	return !f.pathOnly() && f.flags&oAccMode != oRdonly && f.flags&oAccMode != 3
}
func (f *File) nonblock() bool { return f.flags&oNonblock != 0 }

// get adds a reference (a descriptor or a VMA). A nil file is anonymous memory: no-op.
func (f *File) get() {
	if f != nil {
		f.refs++
		if f.ino != nil && f.ino.sysv != nil {
			f.k.shmOpened(f.ino.sysv) // an area attaching a SysV segment (sysvshm.go)
		}
	}
}

// put drops a reference. The last one closes the host descriptor, tells a pipe that one of
// its ends is gone and, when no other description refers to the object, empties its page
// cache. Linux's fput().
func (f *File) put() {
	if f == nil {
		return
	}
	if f.refs--; f.refs > 0 {
		if f.ino != nil && f.ino.sysv != nil {
			f.k.shmDetached(f.ino.sysv) // an area detaching a SysV segment (sysvshm.go)
		}
		return
	}
	f.k.releaseFileLocks(f) // OFD and flock locks (locks.go)
	if len(f.k.epItems) > 0 {
		f.k.epollFileGone(f) // epoll.go
	}
	if f.obj != nil {
		f.k.specialRelease(f)
	}
	if f.hfd >= 0 {
		hostfs.Close(f.hfd)
		f.hfd = -1
		f.k.releaseHostFD()
	}
	if f.pipe != nil {
		f.k.pipeRelease(f)
	}
	if f.ino != nil {
		if f.kind == fileRegular && f.writable() {
			f.ino.writers--
		}
		if f.ino.refs--; f.ino.refs == 0 {
			f.k.dropInode(f.ino)
		}
	}
}

// ReadAt reads the object's bytes through the page cache, as the kernel's own reads of a
// file do (kernel_read): the ELF header and program headers at execve come this way.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.ino == nil || f.kind == fileDir {
		return 0, errors.New("not a regular file")
	}
	done := 0
	for done < len(p) {
		pos := uint64(off) + uint64(done)
		if pos >= f.ino.size {
			return done, io.EOF
		}
		pfn, _, err := f.k.cachePage(f, pos>>12)
		if err != nil {
			return done, err
		}
		fr, _ := f.k.ram.Frame(pfn)
		n := copy(p[done:], fr[pos&0xfff:min(4096, pos&0xfff+f.ino.size-pos)])
		done += n
	}
	return done, nil
}

// errnoOf turns an error into the Linux errno it carries (a hostfs.Errno), or EIO.
func errnoOf(err error) Errno {
	var he hostfs.Errno
	if errors.As(err, &he) {
		return Errno(he)
	}
	return EIO
}

// openHost opens path, relative to the current process's working directory, as the
// kernel itself opens files (execve's program and interpreter): see openFile.
func (k *Kernel) openHost(name string, flags int, mode uint32) (*File, Errno) {
	if name == "" {
		return nil, ENOENT
	}
	abs, e := k.absPath(k.curProc(), fdcwdArg, name)
	if e != 0 {
		return nil, e
	}
	f, e := k.openFile(k.curProc(), abs, flags, mode)
	if f != nil {
		f.name = name
	}
	return f, e
}

// openFile opens the guest path abs for p with the guest's open flags and mode, as Linux's
// do_filp_open() does: the host resolves the path inside the guest's root and decides
// permissions, O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY and O_NOFOLLOW as it does for itself;
// p's umask applies to a file created. O_APPEND is emulated (writes go to the
// guest-visible end through the page cache). /proc/self/exe opens the running executable.
func (k *Kernel) openFile(p *Process, abs gpath, flags int, mode uint32) (*File, Errno) {
	if exe, ok := k.magicExe(p, abs); ok {
		abs = exe
	}
	if pp, ok := k.procPath(p, abs); ok && p != nil {
		return k.procOpen(p, pp, flags&validOpenFlags, mode) // the emulator's /proc (procfs.go)
	}
	flags &= validOpenFlags
	hostFlags := flags &^ (oAppend | oCloexec)
	if flags&oPath != 0 {
		hostFlags = flags & (oPath | oDirectory | oNofollow)
	}
	if flags&(oCreat|oTmpfile) == 0 || flags&oPath != 0 {
		mode = 0 // open ignores the mode then
	}
	mode &^= setID // never on the host (as on a nosuid mount)
	if mode != 0 { // (the umask of a mode of 0 is not read: the host's costs a /proc read)
		umask := k.hostUmask()
		if p != nil {
			umask = p.fs.mask()
		}
		mode &^= umask & 0o777
	}
	existed := true
	if flags&oCreat != 0 && flags&oPath == 0 {
		var st hostfs.Stat
		existed = k.statPath(p, abs, true, &st) != ENOENT
	}
	// A file some process executes cannot be opened for writing (ETXTBSY), and must not be
	// truncated on the way to finding out: O_TRUNC waits until the file is known.
	forWrite := flags&oPath == 0 && flags&oAccMode != oRdonly
	trunc := forWrite && flags&oTrunc != 0
	if trunc {
		hostFlags &^= oTrunc
	}
	if e := k.takeHostFD(); e != 0 {
		return nil, e
	}
	// Opened non-blocking on the host, so that no open waits there (a FIFO's open waits
	// for its other end: the kernel makes the guest thread sleep instead, hostio.go); the
	// flag is taken off again below for what is not a FIFO.
	nonblockHost := flags&oPath == 0 && flags&oNonblock == 0
	if nonblockHost {
		hostFlags |= oNonblock
	}
	hfd, e := k.hostCreate(abs, hostFlags, mode)
	if e == ENXIO && nonblockHost && flags&oAccMode == oWronly {
		var st hostfs.Stat
		if k.statPath(p, abs, true, &st) == 0 && st.Type() == hostfs.S_IFIFO {
			e = errFifoNoReader // a FIFO with no reader: the open sleeps until there is one
		}
	}
	if e != 0 {
		k.releaseHostFD()
		return nil, e
	}
	fail := func(e Errno) (*File, Errno) {
		hostfs.Close(hfd)
		k.releaseHostFD()
		return nil, e
	}

	var st hostfs.Stat
	if e := hostfs.Fstat(hfd, &st); e != 0 {
		return fail(Errno(e))
	}
	if nonblockHost && st.Type() != hostfs.S_IFIFO {
		_ = hostfs.SetNonblock(hfd, false)
	}
	if st.Type() == hostfs.S_IFREG {
		if ino := k.cache.inodes[fileID{dev: st.Dev, ino: st.Ino}]; forWrite && textBusy(ino) {
			return fail(ETXTBSY)
		}
		if trunc {
			if e := hostfs.Ftruncate(hfd, 0); e != 0 {
				return fail(Errno(e))
			}
			st.Size = 0
		}
	}
	f := &File{k: k, name: abs.name, hfd: hfd, refs: 1, hostNB: st.Type() == hostfs.S_IFIFO && flags&oPath == 0}
	if flags&oPath != 0 {
		f.flags = hostFlags
	} else {
		f.flags = flags&^(oCreat|oExcl|oNoctty|oTrunc|oCloexec) | oLargefile
	}
	switch st.Type() {
	case hostfs.S_IFREG:
		f.kind = fileRegular
		if hostfs.IsPseudo(hfd) {
			// /proc, /sys: generated on read, not kept in pages. Their sizes say nothing
			// (0, or 4096 for a sysfs attribute holding a few bytes), and a page mapped
			// from one past its real end is a host fault.
			f.kind = fileDevice
		}
	case hostfs.S_IFDIR:
		f.kind = fileDir // its host descriptor is the base of *at calls and fchdir
	default:
		f.kind = fileDevice
	}
	switch {
	case f.kind != fileRegular:
	case !existed:
		k.stampNew(p, hfd) // the kernel's clock stamps what it creates (clock.go)
	case flags&oTrunc != 0 && flags&oPath == 0 && flags&oAccMode != oRdonly:
		k.stampFD(hfd)
	}
	if f.kind == fileRegular || f.kind == fileDir {
		f.ino = k.cache.inode(fileID{dev: st.Dev, ino: st.Ino}, abs.name, &st)
		f.ino.refs++
		if f.kind == fileRegular && f.writable() {
			f.ino.writers++
		}
		if f.kind == fileRegular && flags&oTrunc != 0 && flags&oPath == 0 {
			k.setSize(f.ino, 0) // the host truncated the file; the cache and mappings follow
		}
	}
	return f, 0
}

// hostCreate opens abs on the host. A file O_CREAT creates gets mode exactly, even where
// the host process's umask would clear bits the guest's umask keeps: the file is then
// created with O_EXCL (so it is known to be new) and given its mode with fchmod.
func (k *Kernel) hostCreate(abs gpath, flags int, mode uint32) (int, Errno) {
	if flags&oCreat == 0 || mode&k.hostUmask() == 0 {
		return k.hostOpen(abs, flags, mode)
	}
	fd, e := k.hostOpen(abs, flags|oExcl, mode)
	switch {
	case e == 0:
		_ = hostfs.Fchmod(fd, mode)
		return fd, 0
	case e != EEXIST || flags&oExcl != 0:
		return -1, e
	}
	fd, e = k.hostOpen(abs, flags&^oCreat, 0)
	if e == ENOENT {
		// A dangling symbolic link, which O_CREAT without O_EXCL follows and creates.
		return k.hostOpen(abs, flags, mode)
	}
	var st hostfs.Stat
	if e == 0 && hostfs.Fstat(fd, &st) == 0 && st.IsDir() {
		hostfs.Close(fd)
		return -1, EISDIR // O_CREAT on a directory, as open(2) says
	}
	return fd, e
}

// newStream makes a File for one of the guest's standard streams. When the Config gave a
// host file (an *os.File: emu's own standard streams), the guest gets that host file
// itself, as a process started by a shell would: a copy of its descriptor, read and
// written on the host with the host's offset and flags, so that a terminal answers its
// ioctls, a regular file can seek, descriptors 1 and 2 redirected to one file share its
// offset, and a broken pipe is EPIPE and SIGPIPE for the guest (not for emu).
func (k *Kernel) newStream(name string, r io.Reader, w io.Writer, acc int) *File {
	var x any = w
	if r != nil {
		x = r
	}
	if hf, ok := x.(*os.File); ok && hf != nil && k.takeHostFD() == 0 {
		fd, e := hostfs.DupCloexec(int(hf.Fd()))
		if e != 0 {
			k.releaseHostFD()
		} else {
			fl, e := hostfs.GetFl(fd)
			if e != 0 {
				fl = acc
			}
			return &File{k: k, kind: fileDevice, name: name, hfd: fd, flags: fl &^ oCloexec, refs: 1}
		}
	}
	return &File{k: k, kind: fileStream, name: name, r: r, w: w, hfd: -1, flags: acc, refs: 1}
}

// newShmFile makes the object behind a MAP_SHARED|MAP_ANONYMOUS mapping of size bytes.
func (k *Kernel) newShmFile(size uint64) *File {
	ino := k.cache.newShm(size)
	ino.refs++
	return &File{k: k, kind: fileShm, name: ino.name, ino: ino, hfd: -1, flags: oRdwr, refs: 1}
}

// fileRead reads up to dst.total bytes at offset off into dst from a file that never
// sleeps (not a pipe). It returns the bytes read, or an errno when nothing was.
func (k *Kernel) fileRead(p *Process, f *File, dst *uio, off uint64) (uint64, Errno) {
	switch f.kind {
	case fileDir:
		return 0, EISDIR
	case fileStream, fileDevice:
		return k.streamRead(p, f, dst)
	}
	k.refreshSize(f) // what the host has now: another process may have written
	ino := f.ino
	if off >= ino.size {
		return 0, 0
	}
	count := min(dst.total, ino.size-off)
	var done uint64
	for done < count {
		pos := off + done
		pfn, _, err := k.cachePage(f, pos>>12)
		if err != nil {
			if done > 0 {
				break
			}
			if errors.Is(err, ErrNoMemory) {
				return 0, ENOMEM
			}
			return 0, EIO
		}
		fr, _ := k.ram.Frame(pfn)
		n := min(4096-pos&0xfff, count-done)
		k.frames.Get(pfn) // pinned: the copy may fault, and reclaim must not take it meanwhile
		got, ok := dst.store(k, p, done, fr[pos&0xfff:pos&0xfff+n])
		k.frames.Put(pfn)
		done += uint64(got)
		if !ok {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	return done, 0
}

// fileWrite writes src to f at offset off (for O_APPEND the caller passes the end) for a
// file that never sleeps. A regular file's cached pages are updated and the bytes written
// through to the host file at once, so the host always has what read() would return.
// Writing past the end first clears what a shared mapping may have stored past the old end
// in the last page: those bytes never belonged to the file, and the gap reads as zeros.
func (k *Kernel) fileWrite(p *Process, f *File, src *uio, off uint64) (uint64, Errno) {
	switch f.kind {
	case fileDir:
		return 0, EISDIR
	case fileStream, fileDevice:
		return k.streamWrite(p, f, src)
	case fileShm:
		return k.shmWrite(p, f, src, off) // a memfd (memfd.go)
	}
	ino := f.ino
	if src.total > 0 && off > ino.size {
		k.zeroTail(ino, ino.size, off)
	}
	var tmp [4096]byte
	var done uint64
	for done < src.total {
		pos := off + done
		n := min(4096-pos&0xfff, src.total-done)
		got, ok := src.load(k, p, done, tmp[:n])
		if got > 0 {
			if _, e := hostfs.Pwrite(f.hfd, tmp[:got], int64(pos)); e != 0 {
				if done == 0 {
					return 0, Errno(e)
				}
				break
			}
			if pfn, cached := ino.pages[pos>>12]; cached && !k.hostBacked(pfn) {
				fr, _ := k.ram.Frame(pfn)
				copy(fr[pos&0xfff:], tmp[:got])
				k.ram.NoteWrite(pfn)
			}
			done += uint64(got)
			ino.size = max(ino.size, pos+uint64(got))
		}
		if !ok {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	if done > 0 {
		k.stampFD(f.hfd)
	}
	return done, 0
}

// streamRead reads from the guest's standard input or a host device into dst.
func (k *Kernel) streamRead(p *Process, f *File, dst *uio) (uint64, Errno) {
	if f.r == nil && f.hfd < 0 {
		return 0, 0
	}
	data := make([]byte, min(dst.total, 1<<16))
	if len(data) == 0 {
		return 0, 0
	}
	var n int
	if f.hfd >= 0 {
		// Wait as the host would, but interruptibly: a host signal for p ends the wait.
		// (A descriptor the host holds non-blocking is read at once: EAGAIN says empty.)
		switch {
		case f.hostNB:
		case f.nonblock():
			if hostPollOne(f.hfd, pollIn) == 0 {
				return 0, EAGAIN
			}
		default:
			if k.waitHost(f.hfd, pollIn) {
				return 0, errnoRestart
			}
		}
		var e hostfs.Errno
		if n, e = hostfs.Read(f.hfd, data); e != 0 {
			return 0, Errno(e)
		}
	} else {
		var err error
		n, err = f.r.Read(data)
		if n == 0 && err != nil && err != io.EOF {
			return 0, EIO
		}
	}
	if got, ok := dst.store(k, p, 0, data[:n]); !ok {
		if got == 0 {
			return 0, EFAULT
		}
		return uint64(got), 0
	}
	return uint64(n), 0
}

// streamWrite copies src to a standard stream or host device. A bad buffer is EFAULT, or a
// short write of what could be read before it.
func (k *Kernel) streamWrite(p *Process, f *File, src *uio) (uint64, Errno) {
	var tmp [4096]byte
	var done uint64
	for done < src.total {
		n := min(src.total-done, uint64(len(tmp)))
		got, ok := src.load(k, p, done, tmp[:n])
		if got > 0 {
			var e Errno
			if f.hfd >= 0 {
				if f.nonblock() {
					if hostPollOne(f.hfd, pollOut) == 0 {
						if done == 0 {
							return 0, EAGAIN
						}
						break
					}
				} else if k.waitHost(f.hfd, pollOut) {
					if done == 0 {
						return 0, errnoRestart
					}
					break
				}
				_, he := hostfs.Write(f.hfd, tmp[:got])
				e = Errno(he)
			} else if f.w != nil {
				if _, err := f.w.Write(tmp[:got]); err != nil {
					e = errnoOf(err)
				}
			}
			if e != 0 {
				if e == EPIPE {
					k.sendSignal(p, SIGPIPE) // a host pipe with no reader left
				}
				if done == 0 {
					return 0, e
				}
				break
			}
			done += uint64(got)
		}
		if !ok {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	return done, 0
}

// statOf fills st for f as fstat(2) reports it: the host's answer for host files (with the
// guest-visible size), a FIFO for the standard streams (what a program started with pipes,
// as the test harness and most shells in scripts start it, sees) and for pipes.
func (k *Kernel) statOf(f *File, st *hostfs.Stat) Errno {
	switch f.kind {
	case fileStream:
		*st = hostfs.Stat{Dev: 0xd, Ino: uint64(f.flags&oAccMode) + 1, Nlink: 1,
			Mode: hostfs.S_IFIFO | 0o600, Blksize: 4096}
		return 0
	case filePipe:
		*st = f.pipe.stat()
		return 0
	case fileSpecial:
		k.specialStat(f, st)
		return 0
	case fileShm:
		*st = f.ino.stat
		st.Size = int64(f.ino.size)
		return 0
	}
	if e := hostFstat(f.hfd, st); e != 0 {
		return e
	}
	k.patchSize(st)
	return 0
}

// patchSize makes the page cache follow the size the host reports for a regular file it
// knows: the host's is the file's size (the guest's writes and truncations go to the host
// at once, and other host processes may change it), so a cache that thought otherwise
// learns it, dropping pages past a shrunk end.
func (k *Kernel) patchSize(st *hostfs.Stat) {
	if st.Type() != hostfs.S_IFREG {
		return
	}
	if ino, ok := k.cache.inodes[fileID{dev: st.Dev, ino: st.Ino}]; ok && ino.size != uint64(st.Size) {
		k.setSize(ino, uint64(st.Size))
	}
}

// statBytes lays st out as the x86-64 struct stat (144 bytes).
func statBytes(st *hostfs.Stat) []byte { return st.Bytes() }
