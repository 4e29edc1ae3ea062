package minikernel

import (
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
)

// The guest's file namespace: how a path the guest names becomes a host file. Linux's
// fs/namei.c (path_lookupat, path_parentat), fs/fs_struct.c (root, pwd, umask) and
// set_fs_root() for chroot.
//
// By default the guest's root is the host's: paths resolve as they do for a host process,
// so a program behaves the same natively and emulated. With Config.Root the guest is
// confined to a host directory with chroot semantics: "/" is that directory, ".." at it
// stays there, and an absolute symbolic link inside it resolves relative to it. The host
// kernel enforces the confinement: every walk is one openat2(2) from the root with
// RESOLVE_IN_ROOT, which treats the root as "/" for "..", absolute paths and symlinks
// alike, and refuses magic links (/proc/self/fd/N) that could point anywhere.
//
// A walk never starts anywhere but the root: the working directory and directory
// descriptors are kept as guest paths without symbolic links (the host names them through
// /proc/self/fd), and a relative path is appended to one. Since such a base holds no
// symbolic link, a ".." after it means what it means on Linux, the parent directory.
// Operations on a name rather than on a file (mkdir, unlink, rename, symlink, link) open
// the parent directory this way and act on the last component relative to it, as
// path_parentat() does, so they cannot follow a symbolic link out of the root either.

// namespace is the kernel's view of the host file tree.
type namespace struct {
	rootFD    int    // an O_PATH descriptor of the guest's root directory on the host
	rootHost  string // the host path of the root, as the host names it ("/" when unconfined)
	resolve   uint64 // openat2 RESOLVE_* flags for every walk (RESOLVE_IN_ROOT when confined)
	hostUmask uint32 // the host process's umask, which the host applies to files we create
	initCwd   string // the working directory of the first process
	pipes     uint64 // pipes created so far (their inode numbers)
}

// fsState is a process's place in the namespace, copied by fork. Linux's struct fs_struct
// (pwd, umask) and mm->exe_file.
type fsState struct {
	cwd   string // the working directory: an absolute guest path without symbolic links
	umask uint32
	exe   string // the guest path of the running executable (/proc/self/exe)
}

// initNamespace opens the guest's root: the host's "/" when root is empty, else the host
// directory root, with walks confined to it.
func (k *Kernel) initNamespace(root string) error {
	ns := &k.ns
	ns.hostUmask = hostUmask()
	dir := root
	if dir == "" {
		dir = "/"
	}
	fd, err := syscall.Open(dir, oPath|oDirectory|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("root directory %s: %w", dir, err)
	}
	ns.rootFD = fd
	host, e := hostReadlinkat(atFdcwd, "/proc/self/fd/"+strconv.Itoa(fd))
	if e != 0 {
		_ = syscall.Close(fd)
		return fmt.Errorf("root directory %s: naming it through /proc/self/fd: %w", dir, syscall.Errno(e))
	}
	ns.rootHost = host
	if host == "/" {
		wd, err := syscall.Getwd()
		if err != nil {
			wd = "/"
		}
		ns.initCwd = wd
		return nil
	}
	ns.initCwd = "/"
	ns.resolve = resolveInRoot | resolveNoMagiclinks
	probe, e := hostOpenat2(fd, "/", oPath|syscall.O_CLOEXEC, 0, ns.resolve)
	if e != 0 {
		_ = syscall.Close(fd)
		if e == ENOSYS {
			return fmt.Errorf("root directory %s: confining the guest needs openat2 (Linux 5.6 or later)", dir)
		}
		return fmt.Errorf("root directory %s: %w", dir, syscall.Errno(e))
	}
	_ = syscall.Close(probe)
	return nil
}

// hostUmask reads the host process's umask from /proc/self/status without changing it
// (umask(2) can only be read by setting it, which would race with other goroutines).
func hostUmask() uint32 {
	b, err := os.ReadFile("/proc/self/status")
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
}

// initialFS is the namespace state of the first process: the host's working directory
// (or "/" when confined), and the host's umask.
func (k *Kernel) initialFS() fsState {
	return fsState{cwd: k.ns.initCwd, umask: k.ns.hostUmask}
}

// closeNamespace releases the root descriptor.
func (k *Kernel) closeNamespace() {
	if k.ns.rootFD > 0 {
		_ = syscall.Close(k.ns.rootFD)
		k.ns.rootFD = 0
	}
}

// absPath returns the absolute guest path that path names relative to dirfd (AT_FDCWD:
// the working directory of p, or of the first process when p is nil), not yet resolved:
// "/home/a/../b". A relative path with a descriptor that is not open is EBADF, with one
// that is not a directory ENOTDIR, as Linux's path_init() says.
func (k *Kernel) absPath(p *Process, dirfd uint64, name string) (string, Errno) {
	if strings.HasPrefix(name, "/") {
		return name, 0
	}
	base := k.ns.initCwd
	if p != nil {
		base = p.fs.cwd
	}
	if int32(dirfd) != atFdcwd {
		var f *File
		if p != nil {
			f = fdArg(p, dirfd)
		}
		switch {
		case f == nil:
			return "", EBADF
		case f.kind != fileDir:
			return "", ENOTDIR
		}
		base = f.dir
	}
	if base == "/" {
		return "/" + name, 0
	}
	return base + "/" + name, 0
}

// magicExe reports whether abs names the running executable through procfs
// (/proc/self/exe, /proc/<pid>/exe), and returns its guest path. Linux's proc_exe_link():
// busybox finds itself this way, and re-executes itself for its applets.
func (k *Kernel) magicExe(p *Process, abs string) (string, bool) {
	if p == nil || p.fs.exe == "" || !strings.HasPrefix(abs, "/proc/") {
		return "", false
	}
	c := path.Clean(abs)
	if c == "/proc/self/exe" || c == "/proc/"+strconv.Itoa(p.PID)+"/exe" {
		return p.fs.exe, true
	}
	return "", false
}

// hostOpen opens the guest path abs on the host with open flags and mode, the walk
// confined to the root. The descriptor is close-on-exec on the host.
func (k *Kernel) hostOpen(abs string, flags int, mode uint32) (int, Errno) {
	return hostOpenat2(k.ns.rootFD, abs, flags|syscall.O_CLOEXEC, mode, k.ns.resolve)
}

// lookupPath opens what abs names with O_PATH, following a final symbolic link when follow
// (procfs's magic /proc/self/exe too). The caller closes the descriptor.
func (k *Kernel) lookupPath(p *Process, abs string, follow bool) (int, Errno) {
	if exe, ok := k.magicExe(p, abs); ok && follow {
		abs = exe
	}
	flags := oPath
	if !follow {
		flags |= oNofollow
	}
	return k.hostOpen(abs, flags, 0)
}

// guestPathOf names the host file open on fd as the guest sees it: its host path (from
// /proc/self/fd, which has no symbolic links) less the root's. ok is false when the file
// lies outside the root (moved out from under the guest by a host process).
func (k *Kernel) guestPathOf(fd int) (string, bool) {
	hp, e := hostReadlinkat(atFdcwd, "/proc/self/fd/"+strconv.Itoa(fd))
	if e != 0 {
		return "", false
	}
	root := k.ns.rootHost
	switch {
	case root == "/":
		return hp, strings.HasPrefix(hp, "/")
	case hp == root:
		return "/", true
	case strings.HasPrefix(hp, root+"/"):
		return hp[len(root):], true
	}
	return "", false
}

// lastKind is what the last component of a path is. Linux's LAST_NORM, LAST_DOT,
// LAST_DOTDOT, LAST_ROOT.
type lastKind uint8

const (
	lastNorm lastKind = iota
	lastDot
	lastDotDot
	lastRoot
)

// parentRef is the directory that holds a path's last component, open on the host, and
// that component. Linux's path_parentat() result (nd->last, nd->last_type).
type parentRef struct {
	fd    int    // O_PATH descriptor of the parent directory (-1 for lastRoot)
	name  string // the last component, without slashes
	kind  lastKind
	slash bool // the path ended with a slash
}

// splitLast splits an absolute path into the path of its parent and its last component.
func splitLast(abs string) (dir, name string, kind lastKind, slash bool) {
	s := strings.TrimRight(abs, "/")
	slash = len(s) < len(abs)
	if s == "" {
		return "/", "", lastRoot, slash
	}
	i := strings.LastIndexByte(s, '/')
	dir, name = s[:i], s[i+1:]
	if dir == "" {
		dir = "/"
	}
	switch name {
	case ".":
		kind = lastDot
	case "..":
		kind = lastDotDot
	}
	return dir, name, kind, slash
}

// openParent opens the directory that holds abs's last component. For "/" there is no
// parent and fd is -1.
func (k *Kernel) openParent(abs string) (parentRef, Errno) {
	dir, name, kind, slash := splitLast(abs)
	r := parentRef{fd: -1, name: name, kind: kind, slash: slash}
	if kind == lastRoot {
		return r, 0
	}
	fd, e := k.hostOpen(dir, oPath|oDirectory, 0)
	if e != 0 {
		return r, e
	}
	r.fd = fd
	return r, 0
}

func (r *parentRef) close() {
	if r.fd >= 0 {
		_ = syscall.Close(r.fd)
		r.fd = -1
	}
}

// userPathAt reads a path argument and makes it absolute relative to dirfd: EFAULT for a
// bad pointer, ENAMETOOLONG past PATH_MAX, ENOENT for an empty path.
func (k *Kernel) userPathAt(p *Process, dirfd, va uint64) (string, Errno) {
	s, e := k.userPath(p, va)
	if e != 0 {
		return "", e
	}
	return k.absPath(p, dirfd, s)
}

// procFDPath is the host path through which a host descriptor's file can be reached by
// the calls that have no descriptor form (chmod, utimensat on an O_PATH descriptor): a
// magic link, followed by the host's kernel itself, never a walk through names.
func procFDPath(fd int) string { return "/proc/self/fd/" + strconv.Itoa(fd) }
