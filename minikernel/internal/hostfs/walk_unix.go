//go:build unix

package hostfs

import (
	"fmt"
	"strings"
)

// FS is the guest's file tree on the host: the root directory, held open, and how paths
// under it are resolved.
type FS struct {
	root     int    // the root directory, held open (a search-only descriptor where the host has one)
	rootID   fileID // its device and inode, to recognise it during a walk
	confined bool   // walks are done here, with chroot semantics (New with a directory)
}

// fileID names a host file.
type fileID struct{ dev, ino uint64 }

func idOf(st *Stat) fileID { return fileID{st.Dev, st.Ino} }

// New opens the guest's root: the host's own "/" when root is "" (paths resolve as they do
// for a host process), else the host directory root, which confines every walk.
func New(root string) (*FS, error) {
	dir := root
	if dir == "" {
		dir = "/"
	}
	fd, e := Openat(atFdcwd, dir, O_PATH|O_DIRECTORY, 0)
	if e != 0 {
		return nil, fmt.Errorf("root directory %s: %w", dir, hostError(e))
	}
	var st Stat
	if e := Fstat(fd, &st); e != 0 {
		Close(fd)
		return nil, fmt.Errorf("root directory %s: %w", dir, hostError(e))
	}
	return &FS{root: fd, rootID: idOf(&st), confined: root != ""}, nil
}

// Close releases the root.
func (fs *FS) Close() {
	if fs.root >= 0 {
		Close(fs.root)
		fs.root = -1
	}
}

// Confined reports whether walks are confined to a root directory.
func (fs *FS) Confined() bool { return fs.confined }

// Root returns the root directory's descriptor (held by fs: do not close it).
func (fs *FS) Root() int { return fs.root }

// InitialCwd opens the working directory of the first process: the host's own working
// directory, or the root when confined. The caller closes it.
func (fs *FS) InitialCwd() (int, Errno) {
	if fs.confined {
		return Openat(fs.root, ".", O_PATH|O_DIRECTORY, 0)
	}
	return Openat(atFdcwd, ".", O_PATH|O_DIRECTORY, 0)
}

// Lookup resolves path, relative to the directory start unless it is absolute, to a name
// in a held directory: the file path names (following a final symbolic link when follow),
// which need not exist yet. A trailing slash makes the last component follow its links and
// stay in Name ("dir/"), so the host insists on a directory. The caller closes the Loc.
func (fs *FS) Lookup(start int, path string, follow bool) (Loc, Errno) {
	if path == "" {
		return Loc{Dir: -1}, ENOENT
	}
	if !fs.confined {
		// The host's root is the guest's: the host resolves the path itself.
		return Loc{Dir: start, Name: path, Follow: follow}, 0
	}
	return fs.walk(start, path, follow)
}

// OpenDir opens the directory path names (relative to start unless absolute) as a held
// directory: a working directory, or the parent of a name being created or removed. The
// caller closes it.
func (fs *FS) OpenDir(start int, path string) (int, Errno) {
	l, e := fs.Lookup(start, path, true)
	if e != 0 {
		return -1, e
	}
	defer l.Close()
	flags := O_PATH | O_DIRECTORY
	if !l.Follow {
		flags |= O_NOFOLLOW
	}
	return Openat(l.Dir, l.Name, flags, 0)
}

// walk is Lookup on a confined FS: component by component, each directory opened from the
// one before it without following links (O_NOFOLLOW), each symbolic link read and its text
// walked again from the root (absolute) or from where it was found, ".." never above the
// root. Linux's link_path_walk() and walk_component() under LOOKUP_IN_ROOT.
func (fs *FS) walk(start int, path string, follow bool) (Loc, Errno) {
	w := walker{fs: fs, stack: []heldDir{{start, false}}}
	if strings.HasPrefix(path, "/") {
		w.stack[0].fd = fs.root
	}
	defer w.release()
	trailing := strings.HasSuffix(path, "/")
	queue := components(path)
	if len(queue) == 0 {
		queue = []string{"."} // "/" or "//": the directory itself
	}
	links := 0
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		last := len(queue) == 0
		switch c {
		case ".":
			if last {
				return w.result("."), 0
			}
			continue
		case "..":
			if e := w.up(); e != 0 {
				return Loc{Dir: -1}, e
			}
			if last {
				return w.result("."), 0
			}
			continue
		}
		if last && !follow && !trailing {
			return w.result(c), 0 // the name itself, whatever it is
		}
		var st Stat
		e := Fstatat(w.cur(), c, &st, false)
		if e == ENOENT && last {
			return w.result(c + slash(trailing)), 0 // to be created, or ENOENT from the caller's call
		}
		if e != 0 {
			return Loc{Dir: -1}, e
		}
		if st.Type() == S_IFLNK {
			if links++; links > maxLinks {
				return Loc{Dir: -1}, ELOOP
			}
			target, e := Readlinkat(w.cur(), c)
			if e != 0 {
				return Loc{Dir: -1}, e
			}
			if target == "" {
				return Loc{Dir: -1}, ENOENT
			}
			t := components(target)
			if strings.HasSuffix(target, "/") && last {
				trailing = true
			}
			if len(t) == 0 {
				t = []string{"."}
			}
			queue = append(t, queue...)
			if strings.HasPrefix(target, "/") {
				w.toRoot()
			}
			continue
		}
		if last {
			return w.result(c + slash(trailing)), 0
		}
		if !st.IsDir() {
			return Loc{Dir: -1}, ENOTDIR
		}
		if e := w.down(c); e != 0 {
			return Loc{Dir: -1}, e
		}
	}
	return w.result("."), 0
}

// components splits a path into its non-empty components.
func components(p string) []string {
	var c []string
	for _, s := range strings.Split(p, "/") {
		if s != "" {
			c = append(c, s)
		}
	}
	return c
}

func slash(b bool) string {
	if b {
		return "/"
	}
	return ""
}

// walker is one walk's place: the directories it went down through, innermost last. The
// first is where it started (the root or the start directory, borrowed), or, once it has
// climbed above that, a parent it opened.
type walker struct {
	fs    *FS
	stack []heldDir
}

type heldDir struct {
	fd    int
	owned bool
}

func (w *walker) cur() int { return w.stack[len(w.stack)-1].fd }

// down enters the subdirectory name of the current directory.
func (w *walker) down(name string) Errno {
	fd, e := Openat(w.cur(), name, O_PATH|O_DIRECTORY|O_NOFOLLOW, 0)
	if e != 0 {
		if e == ELOOP {
			e = ENOTDIR // replaced by a link since it was looked at: refuse it
		}
		return e
	}
	w.stack = append(w.stack, heldDir{fd, true})
	return 0
}

// up goes to the parent directory: the one this walk came down from, or, above where it
// started, the host's "..", unless the current directory is the root.
func (w *walker) up() Errno {
	if n := len(w.stack); n > 1 {
		if top := w.stack[n-1]; top.owned {
			Close(top.fd)
		}
		w.stack = w.stack[:n-1]
		return 0
	}
	var st Stat
	if e := Fstat(w.cur(), &st); e != 0 {
		return e
	}
	if idOf(&st) == w.fs.rootID {
		return 0 // ".." at the root is the root
	}
	fd, e := Openat(w.cur(), "..", O_PATH|O_DIRECTORY|O_NOFOLLOW, 0)
	if e != 0 {
		return e
	}
	if !w.fs.inside(fd) {
		// The starting directory was moved out of the root by a host process: its
		// parent is not the guest's to see.
		Close(fd)
		return ENOENT
	}
	if w.stack[0].owned {
		Close(w.stack[0].fd)
	}
	w.stack[0] = heldDir{fd, true}
	return 0
}

// toRoot restarts at the root (an absolute symbolic link).
func (w *walker) toRoot() {
	w.release()
	w.stack = append(w.stack[:0], heldDir{w.fs.root, false})
}

// result hands the current directory to a Loc, which owns it if the walk opened it.
func (w *walker) result(name string) Loc {
	top := &w.stack[len(w.stack)-1]
	l := Loc{Dir: top.fd, Name: name, own: top.owned}
	top.owned = false
	return l
}

// release closes what the walk still holds.
func (w *walker) release() {
	for _, d := range w.stack {
		if d.owned {
			Close(d.fd)
		}
	}
	w.stack = w.stack[:0]
}

// inside reports whether the directory open on fd lies under the root, by climbing ".."
// until the root (inside) or the host's own root (outside) is reached.
func (fs *FS) inside(fd int) bool {
	cur, own := fd, false
	defer func() {
		if own {
			Close(cur)
		}
	}()
	for i := 0; i < 4096; i++ {
		var st Stat
		if Fstat(cur, &st) != 0 {
			return false
		}
		if idOf(&st) == fs.rootID {
			return true
		}
		up, e := Openat(cur, "..", O_PATH|O_DIRECTORY|O_NOFOLLOW, 0)
		if e != 0 {
			return false
		}
		var ust Stat
		if Fstat(up, &ust) != 0 || idOf(&ust) == idOf(&st) {
			Close(up)
			return false // the host's "/": the root was not met
		}
		if own {
			Close(cur)
		}
		cur, own = up, true
	}
	return false
}

// PathOf names the directory or file open on fd as the guest sees it: its path under the
// root. ok is false when it lies outside the root (moved out by a host process) or the
// host cannot tell.
func (fs *FS) PathOf(fd int) (string, bool) {
	if hp, ok := hostPathOf(fd); ok {
		rp, rok := hostPathOf(fs.root)
		switch {
		case !rok:
		case rp == "/":
			return hp, true
		case hp == rp:
			return "/", true
		case strings.HasPrefix(hp, rp+"/"):
			return hp[len(rp):], true
		default:
			return "", false
		}
	}
	return fs.climbPath(fd)
}

// climbPath finds the path of a directory by climbing ".." to the root and looking up, in
// each parent, the name of the directory it came from (getcwd's classic algorithm), for
// hosts that cannot name a descriptor.
func (fs *FS) climbPath(fd int) (string, bool) {
	var st Stat
	if Fstat(fd, &st) != 0 || !st.IsDir() {
		return "", false
	}
	var names []string
	cur, own := fd, false
	defer func() {
		if own {
			Close(cur)
		}
	}()
	for len(names) < 4096 {
		if idOf(&st) == fs.rootID {
			var b strings.Builder
			for i := len(names) - 1; i >= 0; i-- {
				b.WriteString("/" + names[i])
			}
			if b.Len() == 0 {
				return "/", true
			}
			return b.String(), true
		}
		up, e := Openat(cur, "..", O_RDONLY|O_DIRECTORY, 0)
		if e != 0 {
			return "", false
		}
		var ust Stat
		if Fstat(up, &ust) != 0 || idOf(&ust) == idOf(&st) {
			Close(up)
			return "", false
		}
		name, ok := nameIn(up, idOf(&st))
		if own {
			Close(cur)
		}
		cur, own = up, true
		if !ok {
			return "", false
		}
		names = append(names, name)
		st = ust
	}
	return "", false
}

// nameIn finds the entry of directory dir that is the file id.
func nameIn(dir int, id fileID) (string, bool) {
	names, e := readNames(dir)
	if e != 0 {
		return "", false
	}
	for _, n := range names {
		var st Stat
		if n != "." && n != ".." && Fstatat(dir, n, &st, false) == 0 && idOf(&st) == id {
			return n, true
		}
	}
	return "", false
}

// hostError turns an Errno into an error with the host's words for it.
func hostError(e Errno) error { return fmt.Errorf("%s", ErrnoText(e)) }
