package hostfs

// A Windows host: enough for a guest to run without --root. Windows has no descriptor
// relative calls, no symbolic-link-safe walk, no Unix permissions, owners or device
// numbers, so this file keeps its own table of open files (the "descriptors" the kernel
// holds are indexes into it) and resolves names as paths. What it cannot give is named:
// --root (New refuses it), set-ID and ownership changes (EPERM), file locks, terminals
// (ENOTTY), poll on host files (ENOSYS: the kernel then treats them as always ready).

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// hostFile is one entry of the table: an open file, or a directory held by name.
type hostFile struct {
	path string   // absolute host path
	f    *os.File // nil for a directory held by name (O_PATH)
	pos  int      // a directory's listing position (Getdents64)
}

var (
	tableMu sync.Mutex
	table   = map[int]*hostFile{}
	nextFD  = 3
)

const atFdcwd = -100

func register(h *hostFile) int {
	tableMu.Lock()
	defer tableMu.Unlock()
	fd := nextFD
	nextFD++
	table[fd] = h
	return fd
}

func lookupFD(fd int) (*hostFile, Errno) {
	tableMu.Lock()
	defer tableMu.Unlock()
	if h, ok := table[fd]; ok {
		return h, 0
	}
	return nil, EBADF
}

// FS is the guest's file tree: the host's, unconfined.
type FS struct {
	root int
}

// New opens the guest's root; Windows cannot confine the guest to a directory.
func New(root string) (*FS, error) {
	if root != "" {
		return nil, errors.New("--root is not supported on Windows")
	}
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	return &FS{root: register(&hostFile{path: filepath.VolumeName(wd) + `\`})}, nil
}

func (fs *FS) Close()         { Close(fs.root) }
func (fs *FS) Confined() bool { return false }
func (fs *FS) Root() int      { return fs.root }

// InitialCwd holds the host's working directory.
func (fs *FS) InitialCwd() (int, Errno) {
	wd, err := os.Getwd()
	if err != nil {
		return -1, errnoOf(err)
	}
	return register(&hostFile{path: wd}), 0
}

// Lookup: the host resolves names itself.
func (fs *FS) Lookup(start int, path string, follow bool) (Loc, Errno) {
	if path == "" {
		return Loc{Dir: -1}, ENOENT
	}
	return Loc{Dir: start, Name: path, Follow: follow}, 0
}

// OpenDir holds the directory path names.
func (fs *FS) OpenDir(start int, path string) (int, Errno) {
	return Openat(start, path, O_PATH|O_DIRECTORY, 0)
}

// PathOf names a held file as the guest sees it, with forward slashes.
func (fs *FS) PathOf(fd int) (string, bool) {
	h, e := lookupFD(fd)
	if e != 0 {
		return "", false
	}
	p := strings.TrimPrefix(h.path, filepath.VolumeName(h.path))
	return filepath.ToSlash(p), true
}

// resolve turns (dir, name) into a host path.
func resolve(dir int, name string) (string, Errno) {
	if filepath.IsAbs(name) || strings.HasPrefix(name, "/") || strings.HasPrefix(name, `\`) {
		return filepath.Clean(filepath.FromSlash(name)), 0
	}
	base := ""
	if dir == atFdcwd {
		wd, err := os.Getwd()
		if err != nil {
			return "", errnoOf(err)
		}
		base = wd
	} else {
		h, e := lookupFD(dir)
		if e != 0 {
			return "", e
		}
		base = h.path
	}
	return filepath.Join(base, filepath.FromSlash(name)), 0
}

func errnoOf(err error) Errno {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ENOENT
	case errors.Is(err, fs.ErrExist):
		return EEXIST
	case errors.Is(err, fs.ErrPermission):
		return EACCES
	case errors.Is(err, io.EOF):
		return 0
	}
	return EIO
}

var errnoNames = map[Errno]string{EPERM: "operation not permitted", ENOENT: "no such file or directory",
	EIO: "input/output error", EBADF: "bad file descriptor", EACCES: "permission denied",
	EEXIST: "file exists", ENOTDIR: "not a directory", EISDIR: "is a directory",
	EINVAL: "invalid argument", ENOTTY: "inappropriate ioctl for device", ENOSYS: "function not implemented",
	ENOTEMPTY: "directory not empty", EOPNOTSUPP: "operation not supported"}

// ErrnoText describes a Linux errno value.
func ErrnoText(e Errno) string {
	if s, ok := errnoNames[e]; ok {
		return s
	}
	return fmt.Sprintf("errno %d", uint16(e))
}

// Close releases a table entry.
func Close(fd int) {
	tableMu.Lock()
	h := table[fd]
	delete(table, fd)
	tableMu.Unlock()
	if h != nil && h.f != nil {
		h.f.Close()
	}
}

// Openat opens name relative to dir with Linux's open flags.
func Openat(dir int, name string, flags int, mode uint32) (int, Errno) {
	p, e := resolve(dir, name)
	if e != 0 {
		return -1, e
	}
	if flags&O_TMPFILE == O_TMPFILE {
		return -1, EOPNOTSUPP
	}
	fi, err := os.Stat(p)
	if err == nil && fi.IsDir() {
		if flags&O_ACCMODE != O_RDONLY {
			return -1, EISDIR
		}
		if flags&O_CREAT != 0 && flags&O_EXCL != 0 {
			return -1, EEXIST
		}
		if flags&O_PATH != 0 {
			return register(&hostFile{path: p}), 0
		}
	} else if err == nil && flags&O_DIRECTORY != 0 {
		return -1, ENOTDIR
	}
	if flags&O_PATH != 0 {
		if err != nil {
			return -1, errnoOf(err)
		}
		return register(&hostFile{path: p}), 0
	}
	of := 0
	switch flags & O_ACCMODE {
	case O_WRONLY:
		of = os.O_WRONLY
	case O_RDWR:
		of = os.O_RDWR
	}
	for _, m := range [][2]int{{O_CREAT, os.O_CREATE}, {O_EXCL, os.O_EXCL}, {O_TRUNC, os.O_TRUNC}, {O_APPEND, os.O_APPEND}} {
		if flags&m[0] != 0 {
			of |= m[1]
		}
	}
	f, err := os.OpenFile(p, of, fs.FileMode(mode&0o777))
	if err != nil {
		return -1, errnoOf(err)
	}
	return register(&hostFile{path: p, f: f}), 0
}

// statOf builds a Linux struct stat from what Windows reports: the inode is a hash of the
// path (so the page cache tells files apart), the owner is root.
func statOf(path string, fi fs.FileInfo) Stat {
	h := fnv.New64a()
	h.Write([]byte(strings.ToLower(path)))
	mode := uint32(fi.Mode().Perm())
	switch {
	case fi.IsDir():
		mode |= S_IFDIR
	case fi.Mode()&fs.ModeSymlink != 0:
		mode |= S_IFLNK
	case fi.Mode()&fs.ModeNamedPipe != 0:
		mode |= S_IFIFO
	case fi.Mode()&fs.ModeDevice != 0:
		mode |= S_IFCHR
	default:
		mode |= S_IFREG
	}
	mt := fi.ModTime()
	ts := Timespec{mt.Unix(), int64(mt.Nanosecond())}
	return Stat{Dev: 1, Ino: h.Sum64(), Nlink: 1, Mode: mode, Size: fi.Size(), Blksize: 4096,
		Blocks: (fi.Size() + 511) / 512, Atim: ts, Mtim: ts, Ctim: ts}
}

// Fstat stats a table entry.
func Fstat(fd int, st *Stat) Errno {
	h, e := lookupFD(fd)
	if e != 0 {
		return e
	}
	var fi fs.FileInfo
	var err error
	if h.f != nil {
		fi, err = h.f.Stat()
	} else {
		fi, err = os.Stat(h.path)
	}
	if err != nil {
		return errnoOf(err)
	}
	*st = statOf(h.path, fi)
	return 0
}

// Fstatat stats name in dir.
func Fstatat(dir int, name string, st *Stat, follow bool) Errno {
	p, e := resolve(dir, name)
	if e != 0 {
		return e
	}
	stat := os.Lstat
	if follow {
		stat = os.Stat
	}
	fi, err := stat(p)
	if err != nil {
		return errnoOf(err)
	}
	*st = statOf(p, fi)
	return 0
}

func pathOp(dir int, name string, op func(string) error) Errno {
	p, e := resolve(dir, name)
	if e != 0 {
		return e
	}
	if err := op(p); err != nil {
		return errnoOf(err)
	}
	return 0
}

func Mkdirat(dir int, name string, mode uint32) Errno {
	return pathOp(dir, name, func(p string) error { return os.Mkdir(p, fs.FileMode(mode&0o777)) })
}

func Unlinkat(dir int, name string, rmdir bool) Errno {
	return pathOp(dir, name, func(p string) error {
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() != rmdir {
			if rmdir {
				return &fs.PathError{Op: "rmdir", Path: p, Err: errNotDir}
			}
			return &fs.PathError{Op: "unlink", Path: p, Err: errIsDir}
		}
		return os.Remove(p)
	})
}

var errNotDir, errIsDir = errors.New("not a directory"), errors.New("is a directory")

func Renameat2(olddir int, old string, newdir int, new string, flags uint) Errno {
	if flags != 0 {
		return EINVAL
	}
	np, e := resolve(newdir, new)
	if e != 0 {
		return e
	}
	return pathOp(olddir, old, func(p string) error { return os.Rename(p, np) })
}

func Symlinkat(target string, dir int, name string) Errno {
	return pathOp(dir, name, func(p string) error { return os.Symlink(target, p) })
}

func Readlinkat(dir int, name string) (string, Errno) {
	var t string
	e := pathOp(dir, name, func(p string) (err error) { t, err = os.Readlink(p); return })
	return filepath.ToSlash(t), e
}

func Linkat(olddir int, old string, newdir int, new string, follow bool) Errno {
	np, e := resolve(newdir, new)
	if e != 0 {
		return e
	}
	return pathOp(olddir, old, func(p string) error { return os.Link(p, np) })
}

func Fchmodat(dir int, name string, mode uint32, follow bool) Errno {
	return pathOp(dir, name, func(p string) error { return os.Chmod(p, fs.FileMode(mode&0o777)) })
}

func Faccessat(dir int, name string, mode uint32, eaccess, follow bool) Errno {
	var st Stat
	if e := Fstatat(dir, name, &st, follow); e != 0 {
		return e
	}
	return access(&st, mode)
}

func AccessFd(fd int, mode uint32, eaccess bool) Errno {
	var st Stat
	if e := Fstat(fd, &st); e != 0 {
		return e
	}
	return access(&st, mode)
}

// access judges by the owner's permission bits (Windows has no others).
func access(st *Stat, mode uint32) Errno {
	if mode&^(st.Mode>>6)&7 != 0 && !(mode == 1 && st.IsDir()) {
		return EACCES
	}
	return 0
}

func times(t *[4]int64) (time.Time, time.Time) {
	now := time.Now()
	if t == nil {
		return now, now
	}
	get := func(s, ns int64) time.Time {
		switch ns {
		case UTIME_NOW:
			return now
		case UTIME_OMIT:
			return time.Time{}
		}
		return time.Unix(s, ns)
	}
	return get(t[0], t[1]), get(t[2], t[3])
}

func Utimensat(dir int, name string, t *[4]int64, follow bool) Errno {
	a, m := times(t)
	return pathOp(dir, name, func(p string) error { return os.Chtimes(p, a, m) })
}

func Futimens(fd int, t *[4]int64) Errno {
	h, e := lookupFD(fd)
	if e != 0 {
		return e
	}
	a, m := times(t)
	if err := os.Chtimes(h.path, a, m); err != nil {
		return errnoOf(err)
	}
	return 0
}

func Mknodat(dir int, name string, mode uint32, dev uint64) Errno {
	if mode&S_IFMT != S_IFREG {
		return EPERM
	}
	fd, e := Openat(dir, name, O_CREAT|O_EXCL|O_WRONLY, mode&0o777)
	if e == 0 {
		Close(fd)
	}
	return e
}

func Fchownat(int, string, int, int, bool) Errno { return EPERM }
func Fchown(int, int, int) Errno                 { return EPERM }

func withFile(fd int, op func(f *os.File) error) Errno {
	h, e := lookupFD(fd)
	if e != 0 {
		return e
	}
	if h.f == nil {
		return EBADF
	}
	if err := op(h.f); err != nil {
		return errnoOf(err)
	}
	return 0
}

func Ftruncate(fd int, length int64) Errno {
	return withFile(fd, func(f *os.File) error { return f.Truncate(length) })
}

func Fsync(fd int) Errno { return withFile(fd, func(f *os.File) error { return f.Sync() }) }

func Fchmod(fd int, mode uint32) Errno {
	return withFile(fd, func(f *os.File) error { return f.Chmod(fs.FileMode(mode & 0o777)) })
}

func Read(fd int, b []byte) (int, Errno) {
	n := 0
	e := withFile(fd, func(f *os.File) (err error) { n, err = f.Read(b); return })
	return n, e
}

func Write(fd int, b []byte) (int, Errno) {
	n := 0
	e := withFile(fd, func(f *os.File) (err error) { n, err = f.Write(b); return })
	return n, e
}

func Pread(fd int, b []byte, off int64) (int, Errno) {
	n := 0
	e := withFile(fd, func(f *os.File) (err error) { n, err = f.ReadAt(b, off); return })
	return n, e
}

func Pwrite(fd int, b []byte, off int64) (int, Errno) {
	n := 0
	e := withFile(fd, func(f *os.File) (err error) { n, err = f.WriteAt(b, off); return })
	return n, e
}

func Seek(fd int, off int64, whence int) (int64, Errno) {
	if whence > 2 {
		return -1, EINVAL
	}
	h, e := lookupFD(fd)
	if e != 0 {
		return -1, e
	}
	if h.f == nil || isDir(h) {
		pos := off
		switch whence {
		case 1:
			pos += int64(h.pos)
		case 2:
			return -1, EINVAL
		}
		if pos < 0 {
			return -1, EINVAL
		}
		h.pos = int(pos)
		return pos, 0
	}
	var r int64
	e = withFile(fd, func(f *os.File) (err error) { r, err = f.Seek(off, whence); return })
	return r, e
}

func isDir(h *hostFile) bool {
	fi, err := os.Stat(h.path)
	return err == nil && fi.IsDir()
}

func DupCloexec(int) (int, Errno) { return -1, ENOSYS }
func GetFl(int) (int, Errno)      { return 0, ENOSYS }

func Poll([]PollFd, int) (int, Errno)          { return 0, ENOSYS }
func PollIntr([]PollFd, int) (int, Errno)      { return 0, ENOSYS }
func Pipe() (int, int, Errno)                  { return -1, -1, ENOSYS }
func Flock(int, int) Errno                     { return ENOSYS }
func Ioctl(int, uint64, []byte) Errno          { return ENOTTY }
func Statx(int, int, uint32, *[256]byte) Errno { return ENOSYS }
func IsPseudo(int) bool                        { return false }
func Umask() uint32                            { return 0o022 }

func Fallocate(fd int, mode uint32, off, length int64) Errno {
	if mode != 0 {
		return EOPNOTSUPP
	}
	var st Stat
	if e := Fstat(fd, &st); e != 0 {
		return e
	}
	if end := off + length; end > st.Size {
		return Ftruncate(fd, end)
	}
	return 0
}

// Fstatfs reports a generic file system (Windows's have no Linux magic).
func Fstatfs(fd int, sf *Statfs) Errno {
	if _, e := lookupFD(fd); e != 0 {
		return e
	}
	*sf = Statfs{Bsize: 4096, Namelen: 255, Frsize: 4096}
	return 0
}

// Getdents64 lists a held directory, "." and ".." first, from its listing position.
func Getdents64(fd int, buf []byte) (int, Errno) {
	h, e := lookupFD(fd)
	if e != 0 {
		return 0, e
	}
	ents, err := os.ReadDir(h.path)
	if err != nil {
		return 0, errnoOf(err)
	}
	names := []string{".", ".."}
	for _, d := range ents {
		names = append(names, d.Name())
	}
	var out []byte
	i := h.pos
	for ; i < len(names); i++ {
		var st Stat
		if Fstatat(fd, names[i], &st, false) != 0 {
			continue
		}
		var ok bool
		if out, ok = appendDirent(out, len(buf), st.Ino, int64(i+1), direntType(st.Mode), names[i]); !ok {
			break
		}
	}
	if len(out) == 0 && i < len(names) {
		return 0, EINVAL
	}
	h.pos = i
	return copy(buf, out), 0
}

// FileLimit: the table has no limit of its own; Windows allows millions of handles.
func FileLimit() uint64 { return 1 << 16 }

// SetNonblock: Windows files in the table have no non-blocking mode; reads block.
func SetNonblock(int, bool) Errno { return 0 }

// ReadSmallFile reads a small host file.
func ReadSmallFile(path string) ([]byte, error) { return os.ReadFile(path) }
