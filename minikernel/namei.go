package minikernel

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// The guest's file namespace: how a path the guest names becomes a host file. Linux's
// fs/namei.c (path_lookupat, path_parentat), fs/fs_struct.c (root, pwd, umask) and
// set_fs_root() for chroot.
//
// By default the guest's root is the host's: paths resolve as they do for a host process,
// so a program behaves the same natively and emulated. With Config.Root the guest is
// confined to a host directory with chroot semantics: "/" is that directory, ".." at it
// stays there, and an absolute symbolic link inside it resolves relative to it. The walk is
// hostfs's (internal/hostfs/walk_unix.go): one component at a time from a held directory,
// never following a link the host would resolve itself, so no path, symbolic link or
// magic link leads out, on any host.
//
// The working directory and directory descriptors are held host directories, as Linux
// holds dentries: a relative path is resolved from the directory itself, so renaming it
// (or any directory above it) does not change where relative names lead. Operations on a
// name rather than on a file (mkdir, unlink, rename, symlink, link) open the parent
// directory and act on the last component relative to it, as path_parentat() does.

// namespace is the kernel's view of the host file tree.
type namespace struct {
	fs      *hostfs.FS
	initCwd *hostDir // the working directory of the first process
	pipes   uint64   // pipes created so far (their inode numbers)
}

// hostDir is a held host directory: a working directory, shared by the processes whose
// fs_struct copies name it. Linux's struct path held by fs_struct.pwd.
type hostDir struct {
	fd   int
	refs int
}

func (d *hostDir) get() *hostDir {
	d.refs++
	return d
}

func (d *hostDir) put() {
	if d.refs--; d.refs == 0 {
		hostfs.Close(d.fd)
	}
}

// fsState is a process's place in the namespace, copied by fork or shared (CLONE_FS).
// Linux's struct fs_struct (users, pwd, umask) and mm->exe_file.
type fsState struct {
	users int      // processes sharing it (CLONE_FS); the last to exit releases cwd
	cwd   *hostDir // the working directory
	umask uint32   // read through mask(); umaskOfHost until the host's is needed
	exe   string   // the guest path of the running executable (/proc/self/exe)
}

// umaskOfHost is the first process's umask until it is needed: the host's (hostUmask),
// read at first use, since reading it (/proc/self/status) costs a run that creates no file.
const umaskOfHost = 1 << 31

// mask returns the file-creation mask.
func (s *fsState) mask() uint32 {
	if s.umask == umaskOfHost {
		s.umask = hostfs.Umask()
	}
	return s.umask
}

// hostUmask is the host process's umask, which the host applies to the files emu creates.
func (k *Kernel) hostUmask() uint32 { return hostfs.Umask() }

// clone is fork's copy of s: the same working directory, held once more.
func (s *fsState) clone() fsState {
	c := *s
	c.users = 1
	if c.cwd != nil {
		c.cwd.get()
	}
	return c
}

// release lets go of the working directory (exit).
func (s *fsState) release() {
	if s.cwd != nil {
		s.cwd.put()
		s.cwd = nil
	}
}

// initNamespace opens the guest's root: the host's "/" when root is empty, else the host
// directory root, with walks confined to it.
func (k *Kernel) initNamespace(root string) error {
	fs, err := hostfs.New(root)
	if err != nil {
		return err
	}
	cwd, e := fs.InitialCwd()
	if e != 0 {
		fs.Close()
		return fmt.Errorf("working directory: %s", hostfs.ErrnoText(e))
	}
	k.ns.fs = fs
	k.ns.initCwd = &hostDir{fd: cwd, refs: 1}
	return nil
}

// initialFS is the namespace state of the first process: the host's working directory
// (or "/" when confined), and the host's umask.
func (k *Kernel) initialFS() fsState {
	return fsState{users: 1, cwd: k.ns.initCwd.get(), umask: umaskOfHost}
}

// closeNamespace releases the root and the first working directory.
func (k *Kernel) closeNamespace() {
	if k.ns.initCwd != nil {
		k.ns.initCwd.put()
		k.ns.initCwd = nil
	}
	if k.ns.fs != nil {
		k.ns.fs.Close()
		k.ns.fs = nil
	}
}

// gpath is a path the guest named, with the held directory a relative one starts from.
type gpath struct {
	start int    // the host directory descriptor a relative name is resolved from
	name  string // as the guest gave it
}

// String is the path as the guest gave it.
func (g gpath) String() string { return g.name }

// absPath pairs name with where it is resolved from: dirfd (AT_FDCWD: the working directory
// of p, or of the first process when p is nil). A relative path with a descriptor that is
// not open is EBADF, with one that is not a directory ENOTDIR, as Linux's path_init() says.
func (k *Kernel) absPath(p *Process, dirfd uint64, name string) (gpath, Errno) {
	g := gpath{start: k.ns.fs.Root(), name: name}
	if strings.HasPrefix(name, "/") {
		return g, 0
	}
	g.start = k.ns.initCwd.fd
	if p != nil && p.fs.cwd != nil {
		g.start = p.fs.cwd.fd
	}
	if int32(dirfd) != atFdcwd {
		var f *File
		if p != nil {
			f = fdArg(p, dirfd)
		}
		if d, ok := procDirOf(f); ok {
			// A /proc directory: the name is looked up under its path (procfs.go).
			return gpath{start: k.ns.fs.Root(), name: d.ent.path + "/" + name}, 0
		}
		switch {
		case f == nil:
			return g, EBADF
		case f.kind != fileDir:
			return g, ENOTDIR
		}
		g.start = f.hfd
	}
	return g, 0
}

// procDirOf returns f's /proc directory, when f is one (procfs.go).
func procDirOf(f *File) (*procOpenDir, bool) {
	if f == nil {
		return nil, false
	}
	d, ok := f.obj.(*procOpenDir)
	return d, ok
}

// magicExe reports whether g names the running executable through procfs
// (/proc/self/exe, /proc/<pid>/exe), and returns its guest path. Linux's proc_exe_link():
// busybox finds itself this way, and re-executes itself for its applets.
func (k *Kernel) magicExe(p *Process, g gpath) (gpath, bool) {
	if p == nil || p.fs.exe == "" || !strings.HasPrefix(g.name, "/proc/") {
		return g, false
	}
	c := path.Clean(g.name)
	if c == "/proc/self/exe" || c == "/proc/"+strconv.Itoa(p.PID)+"/exe" {
		return gpath{start: k.ns.fs.Root(), name: p.fs.exe}, true
	}
	return g, false
}

// hostOpen opens g on the host with Linux's open flags and mode, the walk confined to the
// root. A final symbolic link is followed unless O_NOFOLLOW or O_CREAT|O_EXCL say not to.
// The descriptor is close-on-exec on the host.
func (k *Kernel) hostOpen(g gpath, flags int, mode uint32) (int, Errno) {
	follow := flags&oNofollow == 0 && flags&(oCreat|oExcl) != oCreat|oExcl
	var l hostfs.Loc
	var e hostfs.Errno
	if t := k.cur; t != nil {
		if pp, ok := k.procPath(t.proc, g); ok {
			// The guest's /proc, never the host's (procfs.go).
			pl, pe := k.procLoc(t.proc, pp, follow)
			if pe != 0 {
				return -1, pe
			}
			l = pl
			goto open
		}
	}
	l, e = k.ns.fs.Lookup(g.start, g.name, follow)
	if e != 0 {
		return -1, Errno(e)
	}
open:
	defer l.Close()
	if !l.Follow {
		flags |= oNofollow
	}
	fd, e := hostfs.Openat(l.Dir, l.Name, flags, mode)
	return fd, Errno(e)
}

// lookup resolves g to a name in a held directory (following a final symbolic link when
// follow; procfs's magic /proc/self/exe too). The caller closes the Loc.
func (k *Kernel) lookup(p *Process, g gpath, follow bool) (hostfs.Loc, Errno) {
	if pp, ok := k.procPath(p, g); ok && p != nil {
		return k.procLoc(p, pp, follow) // the guest's /proc, never the host's (procfs.go)
	}
	if exe, ok := k.magicExe(p, g); ok && follow {
		g = exe
	}
	l, e := k.ns.fs.Lookup(g.start, g.name, follow)
	return l, Errno(e)
}

// lookupPath opens what g names with O_PATH, following a final symbolic link when follow
// (procfs's magic /proc/self/exe too). The caller closes the descriptor.
func (k *Kernel) lookupPath(p *Process, g gpath, follow bool) (int, Errno) {
	l, e := k.lookup(p, g, follow)
	if e != 0 {
		return -1, e
	}
	defer l.Close()
	flags := oPath
	if !l.Follow {
		flags |= oNofollow
	}
	fd, en := hostfs.Openat(l.Dir, l.Name, flags, 0)
	return fd, Errno(en)
}

// guestPathOf names the host file open on fd as the guest sees it: its path under the
// root. ok is false when the file lies outside the root (moved out from under the guest by
// a host process) or the host cannot name it.
func (k *Kernel) guestPathOf(fd int) (string, bool) { return k.ns.fs.PathOf(fd) }

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

// splitLast splits a path into the path of its parent ("" for a relative path of one
// component: the start directory) and its last component.
func splitLast(name string) (dir, last string, kind lastKind, slash bool) {
	s := strings.TrimRight(name, "/")
	slash = len(s) < len(name)
	if s == "" {
		return "/", "", lastRoot, slash
	}
	i := strings.LastIndexByte(s, '/')
	dir, last = s[:max(i, 0)], s[i+1:]
	if i == 0 {
		dir = "/"
	}
	switch last {
	case ".":
		kind = lastDot
	case "..":
		kind = lastDotDot
	}
	return dir, last, kind, slash
}

// openParent opens the directory that holds g's last component. For "/" there is no
// parent and fd is -1.
func (k *Kernel) openParent(g gpath) (parentRef, Errno) {
	dir, name, kind, slash := splitLast(g.name)
	r := parentRef{fd: -1, name: name, kind: kind, slash: slash}
	if kind == lastRoot {
		return r, 0
	}
	if dir == "" {
		dir = "."
	}
	fd, e := k.ns.fs.OpenDir(g.start, dir)
	if e != 0 {
		return r, Errno(e)
	}
	r.fd = fd
	return r, 0
}

func (r *parentRef) close() {
	if r.fd >= 0 {
		hostfs.Close(r.fd)
		r.fd = -1
	}
}

// userPathAt reads a path argument and pairs it with where it is resolved from (dirfd):
// EFAULT for a bad pointer, ENAMETOOLONG past PATH_MAX, ENOENT for an empty path.
func (k *Kernel) userPathAt(p *Process, dirfd, va uint64) (gpath, Errno) {
	s, e := k.userPath(p, va)
	if e != 0 {
		return gpath{}, e
	}
	return k.absPath(p, dirfd, s)
}
