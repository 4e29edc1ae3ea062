// Package hostfs is the emulator's host file layer: the host services the kernel's file
// system needs (walking paths, opening files and directories, stat, directory entries, I/O
// at descriptors), with Linux's meaning on every host. Callers pass Linux's open flags,
// modes and file types; they get Linux errno values (Errno), Linux's struct stat (Stat),
// struct statfs (Statfs) and directory entries (struct linux_dirent64), translated where
// the host is not Linux (sys_darwin.go, sys_windows.go).
//
// Paths are resolved by FS (walk.go), always from a held host directory (the root, a
// working directory, a directory descriptor), never from a path name kept as text. With a
// confined root (New with a directory) the walk is done here, one component at a time,
// with chroot semantics: "/" is the root, ".." at the root stays there, an absolute
// symbolic link starts again at the root, and nothing is ever opened by following a link
// the host would resolve itself. That makes the confinement traversal-resistant on every
// host, whatever the host offers (openat2's RESOLVE_IN_ROOT is Linux-only, and Go's os.Root
// refuses links that leave the root instead of resolving them inside it, as a chroot must).
//
// It knows nothing about processes, descriptor tables, the page cache or guest memory.
package hostfs

import (
	"encoding/binary"
	"errors"
	"io/fs"
)

// Errno is a Linux error number (include/uapi/asm-generic/errno-base.h, errno.h).
type Errno uint16

// The errno values this package returns itself or translates to.
const (
	EPERM        Errno = 1
	ENOENT       Errno = 2
	EINTR        Errno = 4
	EIO          Errno = 5
	ENXIO        Errno = 6
	EBADF        Errno = 9
	EAGAIN       Errno = 11
	ENOMEM       Errno = 12
	EACCES       Errno = 13
	EFAULT       Errno = 14
	EBUSY        Errno = 16
	EEXIST       Errno = 17
	EXDEV        Errno = 18
	ENODEV       Errno = 19
	ENOTDIR      Errno = 20
	EISDIR       Errno = 21
	EINVAL       Errno = 22
	ENFILE       Errno = 23
	EMFILE       Errno = 24
	ENOTTY       Errno = 25
	ETXTBSY      Errno = 26
	EFBIG        Errno = 27
	ENOSPC       Errno = 28
	ESPIPE       Errno = 29
	EROFS        Errno = 30
	EMLINK       Errno = 31
	EPIPE        Errno = 32
	ERANGE       Errno = 34
	EDEADLK      Errno = 35
	ENAMETOOLONG Errno = 36
	ENOLCK       Errno = 37
	ENOSYS       Errno = 38
	ENOTEMPTY    Errno = 39
	ELOOP        Errno = 40
	ENODATA      Errno = 61
	EOVERFLOW    Errno = 75
	EILSEQ       Errno = 84
	ENOTSOCK     Errno = 88
	EOPNOTSUPP   Errno = 95
	EADDRINUSE   Errno = 98
	ENOBUFS      Errno = 105
	ETIMEDOUT    Errno = 110
	ECONNREFUSED Errno = 111
	ESTALE       Errno = 116
	EDQUOT       Errno = 122
)

// Error is the host's description of the error.
func (e Errno) Error() string { return ErrnoText(e) }

// Is lets errors.Is(err, fs.ErrNotExist) and the like work on an Errno.
func (e Errno) Is(target error) bool {
	switch target {
	case fs.ErrNotExist:
		return e == ENOENT
	case fs.ErrExist:
		return e == EEXIST || e == ENOTEMPTY
	case fs.ErrPermission:
		return e == EACCES || e == EPERM
	case errors.ErrUnsupported:
		return e == ENOSYS || e == EOPNOTSUPP
	}
	return false
}

// Linux open flags (include/uapi/asm-generic/fcntl.h, x86-64 values).
const (
	O_ACCMODE   = 0o3
	O_RDONLY    = 0o0
	O_WRONLY    = 0o1
	O_RDWR      = 0o2
	O_CREAT     = 0o100
	O_EXCL      = 0o200
	O_NOCTTY    = 0o400
	O_TRUNC     = 0o1000
	O_APPEND    = 0o2000
	O_NONBLOCK  = 0o4000
	O_DSYNC     = 0o10000
	O_ASYNC     = 0o20000
	O_DIRECT    = 0o40000
	O_LARGEFILE = 0o100000
	O_DIRECTORY = 0o200000
	O_NOFOLLOW  = 0o400000
	O_NOATIME   = 0o1000000
	O_CLOEXEC   = 0o2000000
	O_SYNC      = 0o4010000
	O_PATH      = 0o10000000
	O_TMPFILE   = 0o20200000
)

// Linux file types and mode bits (include/uapi/linux/stat.h).
const (
	S_IFMT   = 0o170000
	S_IFSOCK = 0o140000
	S_IFLNK  = 0o120000
	S_IFREG  = 0o100000
	S_IFBLK  = 0o060000
	S_IFDIR  = 0o040000
	S_IFCHR  = 0o020000
	S_IFIFO  = 0o010000
	S_ISUID  = 0o4000
	S_ISGID  = 0o2000
	S_ISVTX  = 0o1000
)

// Linux renameat2 flags.
const (
	RENAME_NOREPLACE = 1
	RENAME_EXCHANGE  = 2
	RENAME_WHITEOUT  = 4
)

// UTIME_NOW and UTIME_OMIT, Linux's special nanosecond values for utimensat.
const (
	UTIME_NOW  = 1<<30 - 1
	UTIME_OMIT = 1<<30 - 2
)

// Timespec is a time in seconds and nanoseconds.
type Timespec struct{ Sec, Nsec int64 }

// Stat is Linux's struct stat, field for field.
type Stat struct {
	Dev, Ino, Nlink       uint64
	Mode, Uid, Gid        uint32
	Rdev                  uint64
	Size, Blksize, Blocks int64
	Atim, Mtim, Ctim      Timespec
}

// Type is the file type bits of Mode.
func (st *Stat) Type() uint32 { return st.Mode & S_IFMT }

// IsDir reports a directory.
func (st *Stat) IsDir() bool { return st.Type() == S_IFDIR }

// StatSize is the size of the x86-64 struct stat.
const StatSize = 144

// Bytes lays st out as the x86-64 struct stat (arch/x86/include/uapi/asm/stat.h).
func (st *Stat) Bytes() []byte {
	b := make([]byte, StatSize)
	le := binary.LittleEndian
	le.PutUint64(b[0:], st.Dev)
	le.PutUint64(b[8:], st.Ino)
	le.PutUint64(b[16:], st.Nlink)
	le.PutUint32(b[24:], st.Mode)
	le.PutUint32(b[28:], st.Uid)
	le.PutUint32(b[32:], st.Gid)
	le.PutUint64(b[40:], st.Rdev)
	le.PutUint64(b[48:], uint64(st.Size))
	le.PutUint64(b[56:], uint64(st.Blksize))
	le.PutUint64(b[64:], uint64(st.Blocks))
	for i, ts := range [3]Timespec{st.Atim, st.Mtim, st.Ctim} {
		le.PutUint64(b[72+16*i:], uint64(ts.Sec))
		le.PutUint64(b[80+16*i:], uint64(ts.Nsec))
	}
	return b
}

// Statfs is Linux's struct statfs.
type Statfs struct {
	Type, Bsize                        int64
	Blocks, Bfree, Bavail, Files, Free uint64
	Fsid                               [2]int32
	Namelen, Frsize, Flags             int64
}

// StatfsSize is the size of the x86-64 struct statfs.
const StatfsSize = 120

// Bytes lays sf out as the x86-64 struct statfs (include/uapi/asm-generic/statfs.h).
func (sf *Statfs) Bytes() []byte {
	b := make([]byte, StatfsSize)
	le := binary.LittleEndian
	for i, v := range []uint64{uint64(sf.Type), uint64(sf.Bsize), sf.Blocks, sf.Bfree, sf.Bavail, sf.Files, sf.Free} {
		le.PutUint64(b[8*i:], v)
	}
	le.PutUint32(b[56:], uint32(sf.Fsid[0]))
	le.PutUint32(b[60:], uint32(sf.Fsid[1]))
	le.PutUint64(b[64:], uint64(sf.Namelen))
	le.PutUint64(b[72:], uint64(sf.Frsize))
	le.PutUint64(b[80:], uint64(sf.Flags))
	return b
}

// Linux's dirent d_type values.
const (
	DT_UNKNOWN = 0
	DT_FIFO    = 1
	DT_CHR     = 2
	DT_DIR     = 4
	DT_BLK     = 6
	DT_REG     = 8
	DT_LNK     = 10
	DT_SOCK    = 12
)

// appendDirent appends one struct linux_dirent64 to b if it fits in limit bytes, and
// reports whether it did.
func appendDirent(b []byte, limit int, ino uint64, off int64, typ uint8, name string) ([]byte, bool) {
	reclen := (19 + len(name) + 1 + 7) &^ 7
	if len(b)+reclen > limit {
		return b, false
	}
	var h [19]byte
	binary.LittleEndian.PutUint64(h[0:], ino)
	binary.LittleEndian.PutUint64(h[8:], uint64(off))
	binary.LittleEndian.PutUint16(h[16:], uint16(reclen))
	h[18] = typ
	b = append(b, h[:]...)
	b = append(b, name...)
	for i := 19 + len(name); i < reclen; i++ {
		b = append(b, 0)
	}
	return b, true
}

// direntType is the d_type of a file type.
func direntType(mode uint32) uint8 {
	switch mode & S_IFMT {
	case S_IFIFO:
		return DT_FIFO
	case S_IFCHR:
		return DT_CHR
	case S_IFDIR:
		return DT_DIR
	case S_IFBLK:
		return DT_BLK
	case S_IFREG:
		return DT_REG
	case S_IFLNK:
		return DT_LNK
	case S_IFSOCK:
		return DT_SOCK
	}
	return DT_UNKNOWN
}

// PollFd is Linux's struct pollfd; the event bits (POLLIN 1, POLLPRI 2, POLLOUT 4, POLLERR
// 8, POLLHUP 16, POLLNVAL 32) are the same on every Unix host.
type PollFd struct {
	Fd      int32
	Events  int16
	Revents int16
}

// Loc is where a resolved path leads: a name in a held host directory. Name may be "."
// (the directory itself). Follow says whether an operation on it should follow a final
// symbolic link (only when the host resolves the path itself: an unconfined FS). Close
// releases Dir when the Loc owns it.
type Loc struct {
	Dir    int
	Name   string
	Follow bool
	own    bool
}

// Close releases the directory the Loc holds, if it owns it.
func (l *Loc) Close() {
	if l.own {
		Close(l.Dir)
		l.own = false
	}
}

// maxLinks is how many symbolic links one walk may follow (Linux's MAXSYMLINKS).
const maxLinks = 40
