package hostfs

import (
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On a Linux host the modes, errno values and most structures are the guest's already; the
// open flags and the layout of struct stat differ between host architectures, so flags go
// through openFlagMap and struct stat is copied field by field.

// The open flags only Linux has, and how O_PATH and O_TMPFILE are asked for.
var hostOnlyFlags = []struct{ linux, host int }{{O_DIRECT, unix.O_DIRECT}, {O_NOATIME, unix.O_NOATIME}}

const (
	oPathHost    = unix.O_PATH
	oTmpfileHost = unix.O_TMPFILE
)

func hostWhence(whence int) (int, Errno) { return whence, 0 }

func errnoOf(err error) Errno {
	if en, ok := errnoCommon(err); ok {
		return Errno(en)
	}
	return EIO
}

// ErrnoText is the host's description of a Linux errno value.
func ErrnoText(e Errno) string { return unix.Errno(e).Error() }

func statFrom(hs *unix.Stat_t) Stat {
	return Stat{Dev: uint64(hs.Dev), Ino: uint64(hs.Ino), Nlink: uint64(hs.Nlink), Mode: hs.Mode,
		Uid: hs.Uid, Gid: hs.Gid, Rdev: uint64(hs.Rdev), Size: hs.Size, Blksize: int64(hs.Blksize),
		Blocks: hs.Blocks, Atim: Timespec{int64(hs.Atim.Sec), int64(hs.Atim.Nsec)},
		Mtim: Timespec{int64(hs.Mtim.Sec), int64(hs.Mtim.Nsec)},
		Ctim: Timespec{int64(hs.Ctim.Sec), int64(hs.Ctim.Nsec)}}
}

// Renameat2 is renameat2(2) with Linux's RENAME_* flags.
func Renameat2(olddir int, old string, newdir int, new string, flags uint) Errno {
	return again(func() error { return unix.Renameat2(olddir, old, newdir, new, flags) })
}

// Mknodat is mknodat(2) with a Linux mode (type and permissions) and device number.
func Mknodat(dir int, name string, mode uint32, dev uint64) Errno {
	return again(func() error { return unix.Mknodat(dir, name, mode, int(dev)) })
}

// Fchmodat changes the mode of name in dir, following a final symbolic link only when
// follow (else a link is EOPNOTSUPP, as fchmodat2 with AT_SYMLINK_NOFOLLOW answers).
func Fchmodat(dir int, name string, mode uint32, follow bool) Errno {
	if follow {
		return again(func() error { return unix.Fchmodat(dir, name, mode, 0) })
	}
	fd, e := Openat(dir, name, O_PATH|O_NOFOLLOW, 0)
	if e != 0 {
		return e
	}
	defer Close(fd)
	var st Stat
	if e := Fstat(fd, &st); e != 0 {
		return e
	}
	if st.Type() == S_IFLNK {
		return EOPNOTSUPP
	}
	// The descriptor's magic link names exactly the file found, never a walk by name.
	e = again(func() error { return unix.Fchmodat(unix.AT_FDCWD, procFD(fd), mode, 0) })
	if e == ENOENT { // no /proc: the name was not a link a moment ago
		e = again(func() error { return unix.Fchmodat(dir, name, mode, 0) })
	}
	return e
}

// Faccessat is faccessat2(2): may the caller (its effective IDs when eaccess) access name
// in dir with mode (R_OK 4, W_OK 2, X_OK 1, F_OK 0)?
func Faccessat(dir int, name string, mode uint32, eaccess, follow bool) Errno {
	flags := 0
	if eaccess {
		flags |= unix.AT_EACCESS
	}
	if !follow {
		flags |= unix.AT_SYMLINK_NOFOLLOW
	}
	return again(func() error { return unix.Faccessat(dir, name, mode, flags) })
}

// AccessFd asks access(2)'s question about the file open on fd.
func AccessFd(fd int, mode uint32, eaccess bool) Errno {
	flags := unix.AT_EMPTY_PATH
	if eaccess {
		flags |= unix.AT_EACCESS
	}
	e := again(func() error { return unix.Faccessat2(fd, "", mode, flags) })
	if e == ENOSYS && !eaccess { // before Linux 5.8: the descriptor's magic link
		e = again(func() error { return unix.Faccessat(unix.AT_FDCWD, procFD(fd), mode, 0) })
	}
	return e
}

// Utimensat sets the times of name in dir (times nil: now; else atime, atime ns, mtime,
// mtime ns with Linux's UTIME_NOW and UTIME_OMIT).
func Utimensat(dir int, name string, times *[4]int64, follow bool) Errno {
	flags := 0
	if !follow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	return again(func() error { return unix.UtimesNanoAt(dir, name, timespecs(times), flags) })
}

// Futimens sets the times of the file open on fd (any descriptor, O_PATH ones too).
func Futimens(fd int, times *[4]int64) Errno {
	return again(func() error { return unix.UtimesNanoAt(fd, "", timespecs(times), unix.AT_EMPTY_PATH) })
}

func timespecs(t *[4]int64) []unix.Timespec {
	if t == nil {
		return nil
	}
	return []unix.Timespec{{Sec: t[0], Nsec: t[1]}, {Sec: t[2], Nsec: t[3]}}
}

// Fstatfs is fstatfs(2).
func Fstatfs(fd int, sf *Statfs) Errno {
	var hs unix.Statfs_t
	if e := again(func() error { return unix.Fstatfs(fd, &hs) }); e != 0 {
		return e
	}
	*sf = Statfs{Type: int64(hs.Type), Bsize: int64(hs.Bsize), Blocks: hs.Blocks, Bfree: hs.Bfree,
		Bavail: hs.Bavail, Files: hs.Files, Free: hs.Ffree, Fsid: [2]int32{hs.Fsid.Val[0], hs.Fsid.Val[1]},
		Namelen: int64(hs.Namelen), Frsize: int64(hs.Frsize), Flags: int64(hs.Flags)}
	return 0
}

// IsPseudo reports whether the file open on fd lies on a file system whose files are made
// up when read (procfs, sysfs and the like): they report a size of zero and have no page
// cache on Linux either.
func IsPseudo(fd int) bool {
	var sf Statfs
	if Fstatfs(fd, &sf) != 0 {
		return false
	}
	switch uint32(sf.Type) {
	case 0x9fa0, // PROC_SUPER_MAGIC
		0x62656572, // SYSFS_MAGIC
		0x64626720, // DEBUGFS_MAGIC
		0x74726163, // TRACEFS_MAGIC
		0x73636673, // SECURITYFS_MAGIC
		0x27e0eb,   // CGROUP_SUPER_MAGIC
		0x63677270, // CGROUP2_SUPER_MAGIC
		0xcafe4a11, // BPF_FS_MAGIC
		0x62656570, // CONFIGFS_MAGIC
		0xf97cff8c: // SELINUX_MAGIC
		return true
	}
	return false
}

// Statx fills buf with the host's struct statx for the file open on fd (statx(2) with
// AT_EMPTY_PATH and the AT_STATX_* bits of flags). Hosts without statx answer ENOSYS.
func Statx(fd int, flags int, mask uint32, buf *[256]byte) Errno {
	var stx unix.Statx_t
	e := again(func() error { return unix.Statx(fd, "", unix.AT_EMPTY_PATH|flags, int(mask), &stx) })
	if e != 0 {
		return e
	}
	*buf = *(*[256]byte)(unsafe.Pointer(&stx))
	return 0
}

// Getdents64 reads the next entries of the directory open on fd into buf as struct
// linux_dirent64, the host's own.
func Getdents64(fd int, buf []byte) (int, Errno) {
	n := 0
	e := again(func() (err error) {
		n, err = unix.Getdents(fd, buf)
		return err
	})
	return max(n, 0), e
}

// Ioctl is ioctl(fd, req, buf) for the terminal requests (TCGETS, TCSETS*, TIOCGWINSZ,
// TIOCSWINSZ), which the host answers with the guest's structures.
func Ioctl(fd int, req uint64, buf []byte) Errno {
	return again(func() error {
		_, _, en := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(unsafe.Pointer(&buf[0])))
		if en != 0 {
			return en
		}
		return nil
	})
}

// procFD is the magic link of a host descriptor.
func procFD(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }

// hostPathOf names the file open on fd by its host path, through /proc/self/fd.
func hostPathOf(fd int) (string, bool) {
	p, e := Readlinkat(unix.AT_FDCWD, procFD(fd))
	if e != 0 || !strings.HasPrefix(p, "/") {
		return "", false
	}
	return p, true
}

var umaskOnce = sync.OnceValue(func() uint32 {
	// Read from /proc without changing it: umask(2) can only be read by setting it, which
	// would race with other goroutines creating files.
	b, err := ReadSmallFile("/proc/self/status")
	if err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "Umask:"); ok {
				if m, err := strconv.ParseUint(strings.TrimSpace(v), 8, 32); err == nil {
					return uint32(m)
				}
			}
		}
	}
	return 0o022
})

// Umask is the host process's umask, which the host applies to the files emu creates.
func Umask() uint32 { return umaskOnce() }

// Fchown changes the owner and group (-1: unchanged) of the file open on fd, any kind of
// descriptor (O_PATH ones too).
func Fchown(fd int, uid, gid int) Errno {
	return again(func() error { return unix.Fchownat(fd, "", uid, gid, unix.AT_EMPTY_PATH) })
}

func pipe(p *[2]int) error { return unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC) }

// Fallocate is fallocate(2) with Linux's mode bits.
func Fallocate(fd int, mode uint32, off, length int64) Errno {
	return again(func() error { return unix.Fallocate(fd, mode, off, length) })
}
