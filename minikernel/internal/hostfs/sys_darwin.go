package hostfs

import (
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On macOS the open flags, errno values, device numbers, struct stat and struct statfs
// differ from Linux's and are translated here. What macOS lacks is emulated as closely as
// it can be, and named where it cannot: O_PATH opens with O_EVTONLY (a descriptor for
// names and metadata that needs no read permission); O_TMPFILE is EOPNOTSUPP; directory
// entries are listed with their inode and type and paged by index; terminal ioctls other
// than the window size are ENOTTY; statx is built from stat by the caller; procfs does
// not exist.

// macOS has no O_DIRECT or O_NOATIME, and no O_TMPFILE; O_PATH opens with O_EVTONLY.
var hostOnlyFlags []struct{ linux, host int }

const (
	oPathHost    = unix.O_EVTONLY
	oTmpfileHost = 0
)

func hostWhence(whence int) (int, Errno) {
	switch whence {
	case 0, 1, 2:
		return whence, 0
	case 3:
		return unix.SEEK_DATA, 0
	case 4:
		return unix.SEEK_HOLE, 0
	}
	return 0, EINVAL
}

// errnoMap pairs the host's errno values with Linux's.
var errnoMap = map[unix.Errno]Errno{
	unix.EPERM: EPERM, unix.ENOENT: ENOENT, unix.EINTR: EINTR, unix.EIO: EIO, unix.ENXIO: ENXIO,
	unix.EBADF: EBADF, unix.EAGAIN: EAGAIN, unix.ENOMEM: ENOMEM, unix.EACCES: EACCES,
	unix.EFAULT: EFAULT, unix.EBUSY: EBUSY, unix.EEXIST: EEXIST, unix.EXDEV: EXDEV,
	unix.ENODEV: ENODEV, unix.ENOTDIR: ENOTDIR, unix.EISDIR: EISDIR, unix.EINVAL: EINVAL,
	unix.ENFILE: ENFILE, unix.EMFILE: EMFILE, unix.ENOTTY: ENOTTY, unix.ETXTBSY: ETXTBSY,
	unix.EFBIG: EFBIG, unix.ENOSPC: ENOSPC, unix.ESPIPE: ESPIPE, unix.EROFS: EROFS,
	unix.EMLINK: EMLINK, unix.EPIPE: EPIPE, unix.ERANGE: ERANGE, unix.EDEADLK: EDEADLK,
	unix.ENAMETOOLONG: ENAMETOOLONG, unix.ENOLCK: ENOLCK, unix.ENOSYS: ENOSYS,
	unix.ENOTEMPTY: ENOTEMPTY, unix.ELOOP: ELOOP, unix.ENODATA: ENODATA,
	unix.EOVERFLOW: EOVERFLOW, unix.EILSEQ: EILSEQ, unix.ENOTSOCK: ENOTSOCK,
	unix.EOPNOTSUPP: EOPNOTSUPP, unix.ENOTSUP: EOPNOTSUPP, unix.EADDRINUSE: EADDRINUSE,
	unix.ENOBUFS: ENOBUFS, unix.ETIMEDOUT: ETIMEDOUT, unix.ECONNREFUSED: ECONNREFUSED,
	unix.ESTALE: ESTALE, unix.EDQUOT: EDQUOT, unix.EFTYPE: ELOOP, // O_NOFOLLOW on a link
}

func errnoOf(err error) Errno {
	if en, ok := errnoCommon(err); ok {
		if e, ok := errnoMap[en]; ok {
			return e
		}
	}
	return EIO
}

// ErrnoText describes a Linux errno value in the host's words.
func ErrnoText(e Errno) string {
	for h, l := range errnoMap {
		if l == e {
			return h.Error()
		}
	}
	return e.Error()
}

// linuxDev re-encodes a host device number (major in bits 31-24, minor in 23-0) the way
// Linux's new_encode_dev() does.
func linuxDev(d int32) uint64 {
	major, minor := uint64(uint32(d)>>24), uint64(uint32(d)&0xffffff)
	return minor&0xff | major<<8 | (minor&^0xff)<<12
}

func statFrom(hs *unix.Stat_t) Stat {
	return Stat{Dev: linuxDev(hs.Dev), Ino: hs.Ino, Nlink: uint64(hs.Nlink), Mode: uint32(hs.Mode),
		Uid: hs.Uid, Gid: hs.Gid, Rdev: linuxDev(hs.Rdev), Size: hs.Size, Blksize: int64(hs.Blksize),
		Blocks: hs.Blocks, Atim: Timespec{hs.Atim.Sec, hs.Atim.Nsec},
		Mtim: Timespec{hs.Mtim.Sec, hs.Mtim.Nsec}, Ctim: Timespec{hs.Ctim.Sec, hs.Ctim.Nsec}}
}

// Renameat2 is renameat2(2) with Linux's RENAME_* flags, through renameatx_np.
func Renameat2(olddir int, old string, newdir int, new string, flags uint) Errno {
	var hf uint32
	switch flags {
	case 0:
		return again(func() error { return unix.Renameat(olddir, old, newdir, new) })
	case RENAME_NOREPLACE:
		hf = unix.RENAME_EXCL
	case RENAME_EXCHANGE:
		hf = unix.RENAME_SWAP
	default:
		return EINVAL // RENAME_WHITEOUT: overlay file systems only
	}
	return again(func() error { return unix.RenameatxNp(olddir, old, newdir, new, hf) })
}

// Mknodat makes a regular file or a FIFO (macOS has no mknodat for them in reach; device
// nodes and sockets need privileges a guest never has here: EPERM).
func Mknodat(dir int, name string, mode uint32, dev uint64) Errno {
	switch mode & S_IFMT {
	case S_IFREG:
		fd, e := Openat(dir, name, O_CREAT|O_EXCL|O_WRONLY, mode&0o7777)
		if e == 0 {
			Close(fd)
		}
		return e
	case S_IFIFO:
		dp, ok := hostPathOf(dir)
		if !ok {
			return EOPNOTSUPP
		}
		return again(func() error { return unix.Mkfifo(dp+"/"+name, mode&0o7777) })
	}
	return EPERM
}

// Fchmodat changes the mode of name in dir, following a final symbolic link when follow.
func Fchmodat(dir int, name string, mode uint32, follow bool) Errno {
	flags := 0
	if !follow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	return again(func() error { return unix.Fchmodat(dir, name, mode, flags) })
}

// Faccessat asks access(2)'s question about name in dir.
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

// AccessFd asks access(2)'s question about the file open on fd, from its mode and owner
// and the caller's IDs (macOS has no descriptor form).
func AccessFd(fd int, mode uint32, eaccess bool) Errno {
	var st Stat
	if e := Fstat(fd, &st); e != 0 {
		return e
	}
	uid, gid := unix.Getuid(), unix.Getgid()
	if eaccess {
		uid, gid = unix.Geteuid(), unix.Getegid()
	}
	if uid == 0 {
		if mode&1 != 0 && st.Mode&0o111 == 0 && !st.IsDir() {
			return EACCES
		}
		return 0
	}
	perm := st.Mode & 7
	switch {
	case uint32(uid) == st.Uid:
		perm = st.Mode >> 6 & 7
	case uint32(gid) == st.Gid || inGroups(st.Gid):
		perm = st.Mode >> 3 & 7
	}
	if mode&^perm&7 != 0 {
		return EACCES
	}
	return 0
}

func inGroups(gid uint32) bool {
	gs, _ := unix.Getgroups()
	for _, g := range gs {
		if uint32(g) == gid {
			return true
		}
	}
	return false
}

// Utimensat sets the times of name in dir (times nil: now; else atime, atime ns, mtime,
// mtime ns with Linux's UTIME_NOW and UTIME_OMIT).
func Utimensat(dir int, name string, times *[4]int64, follow bool) Errno {
	flags := 0
	if !follow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	return again(func() error { return unix.UtimesNanoAt(dir, name, hostTimes(times), flags) })
}

// hostTimes translates Linux's UTIME_NOW and UTIME_OMIT to the host's (-1 and -2).
func hostTimes(t *[4]int64) []unix.Timespec {
	if t == nil {
		return nil
	}
	ns := func(v int64) int64 {
		switch v {
		case UTIME_NOW:
			return -1
		case UTIME_OMIT:
			return -2
		}
		return v
	}
	return []unix.Timespec{{Sec: t[0], Nsec: ns(t[1])}, {Sec: t[2], Nsec: ns(t[3])}}
}

// Futimens sets the times of the file open on fd, through its path.
func Futimens(fd int, times *[4]int64) Errno {
	p, ok := hostPathOf(fd)
	if !ok {
		return EOPNOTSUPP
	}
	if times == nil {
		now := time.Now().UnixNano()
		times = &[4]int64{now / 1e9, now % 1e9, now / 1e9, now % 1e9}
	}
	return again(func() error { return unix.UtimesNanoAt(unix.AT_FDCWD, p, hostTimes(times), 0) })
}

// fsMagic gives the Linux f_type of file systems both hosts know.
var fsMagic = map[string]int64{
	"hfs": 0x4244, "msdos": 0x4d44, "exfat": 0x2011bab0, "nfs": 0x6969, "smbfs": 0x517b,
	"devfs": 0x1373, "autofs": 0x0187, "fdesc": 0x1373,
}

// Fstatfs is fstatfs(2), in Linux's struct statfs.
func Fstatfs(fd int, sf *Statfs) Errno {
	var hs unix.Statfs_t
	if e := again(func() error { return unix.Fstatfs(fd, &hs) }); e != 0 {
		return e
	}
	name := unix.ByteSliceToString(hs.Fstypename[:])
	*sf = Statfs{Type: fsMagic[name], Bsize: int64(hs.Bsize), Blocks: hs.Blocks, Bfree: hs.Bfree,
		Bavail: hs.Bavail, Files: hs.Files, Free: hs.Ffree, Fsid: [2]int32{hs.Fsid.Val[0], hs.Fsid.Val[1]},
		Namelen: 255, Frsize: int64(hs.Bsize)}
	return 0
}

// IsPseudo: macOS has no procfs or sysfs.
func IsPseudo(int) bool { return false }

// Statx: macOS has none; the caller builds one from Fstat.
func Statx(int, int, uint32, *[256]byte) Errno { return ENOSYS }

// Getdents64 lists the directory open on fd as struct linux_dirent64 entries, "." and ".."
// first, from the entry whose index is fd's offset; the offset then indexes the entry
// after the last one returned (each entry's d_off), so lseek to a d_off resumes there.
func Getdents64(fd int, buf []byte) (int, Errno) {
	pos, e := Seek(fd, 0, 1)
	if e != 0 {
		return 0, e
	}
	names, e := readNames(fd)
	if e != 0 {
		return 0, e
	}
	names = append([]string{".", ".."}, names...)
	var out []byte
	i := int(pos)
	for ; i < len(names); i++ {
		var st Stat
		if Fstatat(fd, names[i], &st, false) != 0 {
			continue // gone since it was listed
		}
		var ok bool
		if out, ok = appendDirent(out, len(buf), st.Ino, int64(i+1), direntType(st.Mode), names[i]); !ok {
			break
		}
	}
	if len(out) == 0 && i < len(names) {
		return 0, EINVAL // the buffer holds not even one entry
	}
	if _, e := Seek(fd, int64(i), 0); e != 0 {
		return 0, e
	}
	return copy(buf, out), 0
}

// Linux's terminal window-size requests; the struct winsize is the same on both hosts.
const (
	tiocgwinsz = 0x5413
	tiocswinsz = 0x5414
)

// Ioctl answers the window-size requests; the termios requests (whose structures differ)
// are ENOTTY here, so a guest sees no terminal modes on macOS.
func Ioctl(fd int, req uint64, buf []byte) Errno {
	switch req {
	case tiocgwinsz:
		var ws *unix.Winsize
		e := again(func() (err error) {
			ws, err = unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
			return err
		})
		if e == 0 && len(buf) >= 8 {
			*(*unix.Winsize)(unsafe.Pointer(&buf[0])) = *ws
		}
		return e
	case tiocswinsz:
		if len(buf) < 8 {
			return EFAULT
		}
		ws := *(*unix.Winsize)(unsafe.Pointer(&buf[0]))
		return again(func() error { return unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &ws) })
	}
	return ENOTTY
}

// hostPathOf names the file open on fd by its host path (fcntl F_GETPATH).
func hostPathOf(fd int) (string, bool) {
	buf := make([]byte, unix.PathMax)
	_, err := unix.FcntlInt(uintptr(fd), unix.F_GETPATH, int(uintptr(unsafe.Pointer(&buf[0]))))
	runtime.KeepAlive(buf)
	if err != nil {
		return "", false
	}
	return unix.ByteSliceToString(buf), true
}

var umaskOnce = sync.OnceValue(func() uint32 {
	m := unix.Umask(0o022) // read by setting it, once, at the first file operation
	unix.Umask(m)
	return uint32(m)
})

// Umask is the host process's umask.
func Umask() uint32 { return umaskOnce() }

// Fchown changes the owner and group (-1: unchanged) of the file open on fd.
func Fchown(fd int, uid, gid int) Errno {
	return again(func() error { return unix.Fchown(fd, uid, gid) })
}

func pipe(p *[2]int) error {
	if err := unix.Pipe(p[:]); err != nil {
		return err
	}
	for _, fd := range p {
		unix.CloseOnExec(fd)
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return err
		}
	}
	return nil
}

// Fallocate reserves space as fallocate(2) mode 0 does, by extending the file where it
// ends before off+length (macOS has no fallocate; its F_PREALLOCATE does not change the
// size); the other modes (punching holes, zeroing ranges) are EOPNOTSUPP.
func Fallocate(fd int, mode uint32, off, length int64) Errno {
	const keepSize = 1
	if mode&^keepSize != 0 {
		return EOPNOTSUPP
	}
	var st Stat
	if e := Fstat(fd, &st); e != 0 {
		return e
	}
	if end := off + length; mode&keepSize == 0 && end > st.Size {
		return Ftruncate(fd, end)
	}
	return 0
}
