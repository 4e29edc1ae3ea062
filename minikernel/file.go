package minikernel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"syscall"
)

// Open files: Linux's struct file, an open file description that descriptors share (dup,
// fork) together with its offset and flags. Regular files are read and written through the
// page cache, so that read(), write() and mmap() of one file always agree. Paths resolve as
// the host process resolves them (relative to the host's working directory).
//
// This layer is deliberately small: regular files, directories (no getdents yet), host
// devices and FIFOs passed through, and the guest's standard streams. Pipes, getdents, a
// confined root and the rest of POSIX come in a later issue.

// fileKind says what an open file is.
type fileKind uint8

const (
	fileRegular fileKind = iota // a host regular file, through the page cache
	fileDir                     // a host directory: read is EISDIR
	fileDevice                  // a host device or FIFO: read and write go to the host directly
	fileStream                  // the guest's standard input, output or error
	fileShm                     // an anonymous shared-memory object (backs MAP_SHARED|MAP_ANONYMOUS)
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
	oDirectory = 0o200000
	oNofollow  = 0o400000
	oCloexec   = 0o2000000
	oPath      = 0o10000000
)

// File is an open file description.
type File struct {
	k     *Kernel
	kind  fileKind
	name  string
	ino   *Inode   // regular files, directories, shared memory
	host  *os.File // host files
	r     io.Reader
	w     io.Writer
	flags int    // O_ACCMODE | O_APPEND | O_NONBLOCK as opened (or changed by F_SETFL)
	off   uint64 // the file position
	refs  int    // descriptors and VMAs holding it
}

// Name returns the path the file was opened by.
func (f *File) Name() string { return f.name }

// Inode returns the object behind the file (nil for a stream or a device).
func (f *File) Inode() *Inode { return f.ino }

func (f *File) readable() bool { return f.flags&oAccMode != oWronly }
func (f *File) writable() bool { return f.flags&oAccMode != oRdonly }

// get adds a reference (a descriptor or a VMA). A nil file is anonymous memory: no-op.
func (f *File) get() {
	if f != nil {
		f.refs++
	}
}

// put drops a reference. The last one closes the host file and, when no other description
// refers to the object, empties its page cache. Linux's fput().
func (f *File) put() {
	if f == nil {
		return
	}
	if f.refs--; f.refs > 0 {
		return
	}
	if f.host != nil {
		_ = f.host.Close()
	}
	if f.ino != nil {
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

// errnoOf turns a host error into the Linux errno it carries (the host is Linux, so the
// numbers agree), or EIO.
func errnoOf(err error) Errno {
	var en syscall.Errno
	if errors.As(err, &en) {
		return Errno(en)
	}
	return EIO
}

// openHost opens path on the host with the guest's flags and mode, so the host decides
// permissions, O_CREAT, O_EXCL and O_TRUNC exactly as Linux does, and wraps it in a File.
// O_APPEND is emulated (writes go to the guest-visible end through the page cache).
func (k *Kernel) openHost(path string, flags int, mode uint32) (*File, Errno) {
	if flags&oPath != 0 {
		return nil, EINVAL // O_PATH descriptors are not supported yet
	}
	hostFlags := flags&^(oAppend|oCloexec) | syscall.O_CLOEXEC
	fd, err := syscall.Open(path, hostFlags, mode)
	if err != nil {
		return nil, errnoOf(err)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		_ = syscall.Close(fd)
		return nil, errnoOf(err)
	}
	f := &File{k: k, name: path, host: os.NewFile(uintptr(fd), path), flags: flags & (oAccMode | oAppend | oNonblock), refs: 1}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		f.kind = fileRegular
	case syscall.S_IFDIR:
		f.kind = fileDir
	default:
		f.kind = fileDevice
	}
	if f.kind != fileDevice {
		f.ino = k.cache.inode(fileID{dev: st.Dev, ino: st.Ino}, path, &st)
		f.ino.refs++
		if f.kind == fileRegular && flags&oTrunc != 0 && f.writable() {
			k.truncatePages(f.ino, 0) // the host truncated the file; the cache follows
		}
	}
	return f, 0
}

// newStream makes a File for one of the guest's standard streams.
func (k *Kernel) newStream(name string, r io.Reader, w io.Writer, acc int) *File {
	return &File{k: k, kind: fileStream, name: name, r: r, w: w, flags: acc, refs: 1}
}

// newShmFile makes the object behind a MAP_SHARED|MAP_ANONYMOUS mapping of size bytes.
func (k *Kernel) newShmFile(size uint64) *File {
	ino := k.cache.newShm(size)
	ino.refs++
	return &File{k: k, kind: fileShm, name: ino.name, ino: ino, flags: oRdwr, refs: 1}
}

// read reads up to count bytes at offset off into user memory at buf. It returns the bytes
// read, or an errno when nothing was.
func (k *Kernel) fileRead(p *Process, f *File, buf, count, off uint64) (uint64, Errno) {
	switch f.kind {
	case fileDir:
		return 0, EISDIR
	case fileStream:
		return k.streamRead(p, f, buf, count)
	case fileDevice:
		return k.deviceRead(p, f, buf, count)
	}
	ino := f.ino
	if off >= ino.size {
		return 0, 0
	}
	count = min(count, ino.size-off)
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
		got, ok := k.copyOut(p, buf+done, fr[pos&0xfff:pos&0xfff+n])
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

// fileWrite writes count bytes from user memory at buf to f at offset off (for O_APPEND the
// caller passes the end). A regular file's cached pages are updated and the bytes written
// through to the host file at once, so the host always has what read() would return.
func (k *Kernel) fileWrite(p *Process, f *File, buf, count, off uint64) (uint64, Errno) {
	switch f.kind {
	case fileDir:
		return 0, EISDIR
	case fileStream, fileDevice:
		return k.streamWrite(p, f, buf, count)
	}
	ino := f.ino
	var tmp [4096]byte
	var done uint64
	for done < count {
		pos := off + done
		n := min(4096-pos&0xfff, count-done)
		got, ok := k.copyIn(p, buf+done, tmp[:n])
		if got > 0 {
			if _, err := f.host.WriteAt(tmp[:got], int64(pos)); err != nil {
				if done == 0 {
					return 0, errnoOf(err)
				}
				break
			}
			if pfn, cached := ino.pages[pos>>12]; cached {
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
	return done, 0
}

// streamRead reads from the guest's standard input (or a host device) into user memory.
func (k *Kernel) streamRead(p *Process, f *File, buf, count uint64) (uint64, Errno) {
	if f.r == nil {
		return 0, 0
	}
	data := make([]byte, min(count, 1<<16))
	n, err := f.r.Read(data)
	if n == 0 && err != nil && err != io.EOF {
		return 0, EIO
	}
	if got, ok := k.copyOut(p, buf, data[:n]); !ok {
		if got == 0 {
			return 0, EFAULT
		}
		return uint64(got), 0
	}
	return uint64(n), 0
}

func (k *Kernel) deviceRead(p *Process, f *File, buf, count uint64) (uint64, Errno) {
	data := make([]byte, min(count, 1<<16))
	n, err := f.host.Read(data)
	if n == 0 && err != nil {
		if err == io.EOF {
			return 0, 0
		}
		return 0, errnoOf(err)
	}
	if got, ok := k.copyOut(p, buf, data[:n]); !ok {
		if got == 0 {
			return 0, EFAULT
		}
		return uint64(got), 0
	}
	return uint64(n), 0
}

// streamWrite copies user memory at buf to a standard stream or host device. A bad buffer
// is EFAULT, or a short write of what could be read before it.
func (k *Kernel) streamWrite(p *Process, f *File, buf, count uint64) (uint64, Errno) {
	var w io.Writer = f.w
	if f.host != nil {
		w = f.host
	}
	var tmp [4096]byte
	var done uint64
	for done < count {
		n := min(count-done, uint64(len(tmp)))
		got, ok := k.copyIn(p, buf+done, tmp[:n])
		if got > 0 {
			if _, err := w.Write(tmp[:got]); err != nil {
				if done == 0 {
					return 0, errnoOf(err)
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
// as the test harness and most shells in scripts start it, sees).
func (k *Kernel) statOf(f *File, st *syscall.Stat_t) Errno {
	switch f.kind {
	case fileStream:
		*st = syscall.Stat_t{Dev: 0xd, Ino: uint64(f.flags&oAccMode) + 1, Nlink: 1,
			Mode: syscall.S_IFIFO | 0o600, Blksize: 4096}
		return 0
	case fileShm:
		*st = f.ino.stat
		st.Size = int64(f.ino.size)
		return 0
	}
	if err := syscall.Fstat(int(f.host.Fd()), st); err != nil {
		return errnoOf(err)
	}
	if f.ino != nil && f.kind == fileRegular {
		st.Size = int64(f.ino.size)
	}
	return 0
}

// statBytes lays st out as the x86-64 struct stat (144 bytes), which Go's syscall.Stat_t
// mirrors field for field on linux/amd64.
func statBytes(st *syscall.Stat_t) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, st)
	return b.Bytes()
}
