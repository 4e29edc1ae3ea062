package minikernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// The --root escape suite: with Config.Root the guest must name nothing outside the root,
// by any path, symbolic link (made by the guest or by a host process), "..", /proc/self
// link, directory descriptor, rename or link; it must not make device nodes or set-ID files
// on the host; and it holds no descriptor of emu's but its own. Each attempt is a system
// call made as the guest makes it; the files outside hold the word "outside", and a test
// fails if the guest ever reads, creates or changes one.

// guest is a process in a kernel confined to root, with a scratch area for strings.
type guest struct {
	t       *testing.T
	k       *Kernel
	p       *Process
	root    string // the host directory that is the guest's "/"
	outside string // a host directory beside it, which the guest must never reach
	buf     uint64
	next    uint64
}

// confined starts hello in a kernel whose root is a fresh directory (its sibling
// "outside" holds a file "secret").
func confined(t *testing.T) *guest {
	t.Helper()
	top := t.TempDir()
	root, outside := filepath.Join(top, "root"), filepath.Join(top, "outside")
	require.NoError(t, os.MkdirAll(root, 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(top, "secret"), []byte("outside"), 0o644))
	hello, err := os.ReadFile(progs + "hello")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "hello"), hello, 0o755))
	k, err := New(Config{RAM: 64 << 20, Root: root})
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	p, err := k.Spawn("/hello", []string{"hello"}, nil)
	require.NoError(t, err)
	g := &guest{t: t, k: k, p: p, root: root, outside: outside}
	g.buf = scratch(t, k, p, 1<<16)
	return g
}

// unconfined is confined's kernel without a root.
func unconfined(t *testing.T) *guest {
	t.Helper()
	k, p := idle(t, 64<<20)
	g := &guest{t: t, k: k, p: p, outside: t.TempDir()}
	g.buf = scratch(t, k, p, 1<<16)
	return g
}

// str puts s in the guest's memory and returns its address.
func (g *guest) str(s string) uint64 {
	a := g.buf + g.next
	g.k.copyOut(g.p, a, append([]byte(s), 0))
	g.next = (g.next + uint64(len(s)) + 16) &^ 7 % (1 << 15)
	return a
}

func (g *guest) call(nr uint64, args ...uint64) int64 { return call(g.k, g.p, nr, args...) }

// read returns what the guest reads from path (at most 64 bytes), or the errno of open.
func (g *guest) read(path string) (string, Errno) {
	fd := g.call(2, g.str(path), oRdonly)
	if fd < 0 {
		return "", Errno(-fd)
	}
	defer g.call(3, uint64(fd))
	return g.readFD(uint64(fd)), 0
}

func (g *guest) readFD(fd uint64) string {
	out := g.buf + 1<<15
	n := g.call(0, fd, out, 64)
	require.GreaterOrEqual(g.t, n, int64(0), "read: errno %d", -n)
	b := make([]byte, n)
	g.k.copyIn(g.p, out, b)
	return string(b)
}

// untouched checks the files outside: only "secret", holding "outside".
func (g *guest) untouched() {
	g.t.Helper()
	ents, err := os.ReadDir(g.outside)
	require.NoError(g.t, err)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	assert.Equal(g.t, []string{"secret"}, names, "the guest created or removed a file outside its root")
	b, err := os.ReadFile(filepath.Join(g.outside, "secret"))
	require.NoError(g.t, err)
	assert.Equal(g.t, "outside", string(b))
	fi, err := os.Stat(filepath.Join(g.outside, "secret"))
	require.NoError(g.t, err)
	assert.Equal(g.t, os.FileMode(0o644), fi.Mode().Perm(), "the guest changed a file outside")
}

// neverOutside asserts that reading path does not give the outside file's contents.
func (g *guest) neverOutside(path string) {
	g.t.Helper()
	s, e := g.read(path)
	assert.NotEqual(g.t, "outside", s, "%s reached a file outside the root (errno %d)", path, e)
}

// Paths: ".." at the root stays there, absolute paths start at the root, however many
// ".." or slashes they hold.
func TestRootEscapeByPath(t *testing.T) {
	g := confined(t)
	for _, p := range []string{"../secret", "/../secret", "../../secret", "/../../../secret",
		"../outside/secret", "//..//..//outside/secret", "./../.././outside/secret",
		g.outside + "/secret", strings.Repeat("../", 40) + "outside/secret"} {
		g.neverOutside(p)
	}
	require.NoError(t, os.WriteFile(filepath.Join(g.root, "secret"), []byte("inside"), 0o644))
	s, e := g.read("../../secret")
	require.Zero(t, e)
	assert.Equal(t, "inside", s, `".." at the root is the root`)
	g.untouched()
}

// Symbolic links, made by the guest or by a host process, resolve inside the root: an
// absolute target starts at the root, a relative one climbs no higher than it, and a link
// followed by O_CREAT creates its target inside.
func TestRootEscapeBySymlink(t *testing.T) {
	g := confined(t)
	links := map[string]string{
		"/abs":    g.outside + "/secret",
		"/rel":    "../outside/secret",
		"/up":     "../../../..",
		"/slash":  "/",
		"/chain1": "/chain2",
		"/chain2": "../outside",
	}
	for name, target := range links {
		require.Equal(t, int64(0), g.call(88, g.str(target), g.str(name)), "symlink %s", name)
	}
	require.NoError(t, os.Symlink(filepath.Join(g.outside, "secret"), filepath.Join(g.root, "hostabs")))
	require.NoError(t, os.Symlink(g.outside, filepath.Join(g.root, "hostdir")))
	require.NoError(t, os.Symlink("../outside/secret", filepath.Join(g.root, "hostrel")))
	for _, p := range []string{"/abs", "/rel", "/up/outside/secret", "/up/../outside/secret",
		"/slash/../outside/secret", "/chain1/secret", "/hostabs", "/hostdir/secret", "/hostrel"} {
		g.neverOutside(p)
	}
	// O_CREAT through a link that points outside creates nothing outside.
	require.Equal(t, int64(0), g.call(88, g.str(g.outside+"/new"), g.str("/dangling")))
	fd := g.call(2, g.str("/dangling"), oCreat|oWronly, 0o644)
	if fd >= 0 {
		g.call(3, uint64(fd))
	}
	// A link in the middle of a path, to a directory outside.
	g.neverOutside("/hostdir/../outside/secret")
	g.untouched()
}

// /proc/self links do not lead out: inside the root there is no host procfs to follow,
// and /proc/self/exe names the guest's own program inside the root.
func TestRootEscapeByProcSelf(t *testing.T) {
	g := confined(t)
	require.NoError(t, os.Symlink("/proc", filepath.Join(g.root, "proc")))
	for _, p := range []string{"/proc/self/root/../outside/secret", "/proc/self/cwd/../outside/secret",
		"/proc/1/root" + g.outside + "/secret", "/proc/self/fd/0", "/proc/self/fd/3"} {
		g.neverOutside(p)
	}
	out := g.buf + 1<<15
	n := g.call(89, g.str("/proc/self/exe"), out, 256)
	require.Greater(t, n, int64(0))
	b := make([]byte, n)
	g.k.copyIn(g.p, out, b)
	assert.Equal(t, "/hello", string(b), "/proc/self/exe is the guest's path")
	g.untouched()
}

// Directory descriptors: "..", absolute paths and fchdir from a descriptor stay inside,
// and a directory a host process moves out of the root leads no further out.
func TestRootEscapeByDirfd(t *testing.T) {
	g := confined(t)
	require.NoError(t, os.MkdirAll(filepath.Join(g.root, "a", "b"), 0o755))
	rootfd := g.call(2, g.str("/"), oRdonly|oDirectory)
	require.GreaterOrEqual(t, rootfd, int64(0))
	bfd := g.call(2, g.str("/a/b"), oRdonly|oDirectory)
	require.GreaterOrEqual(t, bfd, int64(0))
	for _, fd := range []int64{rootfd, bfd} {
		for _, p := range []string{"../outside/secret", "../../../outside/secret", g.outside + "/secret"} {
			r := g.call(257, uint64(fd), g.str(p), oRdonly)
			if r >= 0 {
				assert.NotEqual(t, "outside", g.readFD(uint64(r)), "openat(%d, %s)", fd, p)
				g.call(3, uint64(r))
			}
		}
	}
	require.Equal(t, int64(0), g.call(81, uint64(bfd)), "fchdir")
	g.neverOutside("../../../../outside/secret")
	// A host process moves /a (with the guest's directory b in it) out of the root.
	require.NoError(t, os.Rename(filepath.Join(g.root, "a"), filepath.Join(g.outside, "a")))
	defer os.Rename(filepath.Join(g.outside, "a"), filepath.Join(g.root, "a"))
	for _, p := range []string{"../secret", "../../secret", "../../outside/secret"} {
		r := g.call(257, uint64(bfd), g.str(p), oRdonly)
		assert.Less(t, r, int64(0), "openat(b, %s) from a directory moved out of the root", p)
		g.neverOutside(p)
	}
	require.NoError(t, os.Rename(filepath.Join(g.outside, "a"), filepath.Join(g.root, "a")))
	g.untouched()
}

// rename and link cannot put a name, or take a file, outside the root.
func TestRootEscapeByRenameAndLink(t *testing.T) {
	g := confined(t)
	require.NoError(t, os.WriteFile(filepath.Join(g.root, "f"), []byte("inside"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(g.outside, "secret"), filepath.Join(g.root, "out")))
	g.call(82, g.str("/f"), g.str("../../outside/moved"))
	g.call(86, g.str("/hello"), g.str("/../outside/linked"))
	g.call(265, fdcwdArg, g.str("/out"), fdcwdArg, g.str("/copy"), atSymlinkFollow)
	g.neverOutside("/copy")
	g.call(316, fdcwdArg, g.str("/out"), fdcwdArg, g.str("/hello"), 2) // RENAME_EXCHANGE
	g.neverOutside("/hello")
	_, err := os.Stat(filepath.Join(g.root, "outside", "moved"))
	assert.Error(t, err, "no outside directory inside the root either")
	g.untouched()
}

// Device nodes are EPERM (CAP_MKNOD, which no guest has), with or without a root, even
// when emu itself could make them; a whiteout (0:0) and FIFOs are allowed, as on Linux.
func TestMknodDevicesRefused(t *testing.T) {
	for _, g := range []*guest{confined(t), unconfined(t)} {
		dir := g.root
		if dir == "" {
			dir = g.outside
		}
		path := func(n string) string {
			if g.root != "" {
				return "/" + n
			}
			return filepath.Join(dir, n)
		}
		for _, tc := range []struct {
			name string
			mode uint64
			dev  uint64
		}{
			{"kmsg", hostfs.S_IFCHR | 0o644, 1<<8 | 11},
			{"null", hostfs.S_IFCHR | 0o666, 1<<8 | 3},
			{"disk", hostfs.S_IFBLK | 0o600, 8 << 8},
		} {
			assert.Equal(t, -int64(EPERM), g.call(133, g.str(path(tc.name)), tc.mode, tc.dev), "mknod %s", tc.name)
			_, err := os.Lstat(filepath.Join(dir, tc.name))
			assert.True(t, os.IsNotExist(err), "no %s on the host", tc.name)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "taken"), nil, 0o644))
		assert.Equal(t, -int64(EEXIST), g.call(133, g.str(path("taken")), hostfs.S_IFCHR|0o644, 1<<8|3), "EEXIST first")
		assert.Equal(t, int64(0), g.call(133, g.str(path("fifo")), hostfs.S_IFIFO|0o644, 0))
		if g.root != "" {
			g.untouched()
		}
	}
}

// Set-user-ID and set-group-ID bits never reach the host, with or without a root: not
// through open(O_CREAT), chmod, fchmod, fchmodat or mknod (as on a nosuid mount).
func TestSetIDBitsNeverReachTheHost(t *testing.T) {
	for _, g := range []*guest{confined(t), unconfined(t)} {
		dir := g.root
		if dir == "" {
			dir = g.outside
		}
		path := func(n string) string {
			if g.root != "" {
				return "/" + n
			}
			return filepath.Join(dir, n)
		}
		g.call(95, 0) // umask 0
		fd := g.call(2, g.str(path("created")), oCreat|oWronly, 0o6755)
		require.GreaterOrEqual(t, fd, int64(0))
		require.Equal(t, int64(0), g.call(133, g.str(path("made")), hostfs.S_IFREG|0o4755, 0))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "chmodded"), nil, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "fchmodded"), nil, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "atted"), nil, 0o755))
		require.Equal(t, int64(0), g.call(90, g.str(path("chmodded")), 0o6755))
		fd2 := g.call(2, g.str(path("fchmodded")), oRdonly)
		require.GreaterOrEqual(t, fd2, int64(0))
		require.Equal(t, int64(0), g.call(91, uint64(fd2), 0o4755))
		require.Equal(t, int64(0), g.call(268, fdcwdArg, g.str(path("atted")), 0o2755))
		for _, n := range []string{"created", "made", "chmodded", "fchmodded", "atted"} {
			fi, err := os.Stat(filepath.Join(dir, n))
			require.NoError(t, err)
			assert.Zero(t, fi.Mode()&(os.ModeSetuid|os.ModeSetgid), "%s is set-ID on the host: %v", n, fi.Mode())
			assert.Equal(t, os.FileMode(0o755), fi.Mode().Perm(), "%s keeps its other bits", n)
		}
	}
}

// The guest holds no descriptor of emu's: a host file emu has open is not one of the
// guest's descriptors, whatever its number.
func TestRootEscapeByInheritedDescriptor(t *testing.T) {
	f, err := os.Open(filepath.Join(t.TempDir(), "..", filepath.Base(t.TempDir())))
	require.NoError(t, err)
	defer f.Close()
	g := confined(t)
	out, err := os.Open(filepath.Join(g.outside, "secret"))
	require.NoError(t, err)
	defer out.Close()
	for fd := uint64(3); fd < 64; fd++ {
		n := g.call(0, fd, g.buf, 16)
		assert.Equal(t, -int64(EBADF), n, "descriptor %d", fd)
	}
	assert.Equal(t, -int64(EBADF), g.call(0, uint64(out.Fd()), g.buf, 16), "emu's descriptor of the outside file")
	g.untouched()
}

// Issue 11 item 10: the working directory and directory descriptors are held directories,
// not names: after a rename (of the directory or of one above it), relative names still
// lead into the directory the process is in, and getcwd names it by its new path.
func TestWorkingDirectoryFollowsRename(t *testing.T) {
	for _, g := range []*guest{confined(t), unconfined(t)} {
		dir := g.root
		if dir == "" {
			dir = g.outside
		}
		path := func(n string) string {
			if g.root != "" {
				return "/" + n
			}
			return filepath.Join(dir, n)
		}
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "top", "d"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "top", "d", "f"), []byte("first"), 0o644))
		require.Equal(t, int64(0), g.call(80, g.str(path("top/d"))), "chdir")
		dfd := g.call(2, g.str(path("top/d")), oRdonly|oDirectory)
		require.GreaterOrEqual(t, dfd, int64(0))
		// Another process renames the directory above, and puts a new one where it was.
		require.NoError(t, os.Rename(filepath.Join(dir, "top"), filepath.Join(dir, "moved")))
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "top", "d"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "top", "d", "f"), []byte("second"), 0o644))
		s, e := g.read("f")
		require.Zero(t, e)
		assert.Equal(t, "first", s, "a relative open from the working directory")
		r := g.call(257, uint64(dfd), g.str("f"), oRdonly)
		require.GreaterOrEqual(t, r, int64(0))
		assert.Equal(t, "first", g.readFD(uint64(r)), "openat from the directory descriptor")
		out := g.buf + 1<<15
		n := g.call(79, out, 4096)
		require.Greater(t, n, int64(0))
		b := make([]byte, n-1)
		g.k.copyIn(g.p, out, b)
		assert.Equal(t, path("moved/d"), string(b), "getcwd names the directory by its new path")
		// The guest's own rename moves nothing under its feet either.
		require.Equal(t, int64(0), g.call(82, g.str(path("moved")), g.str(path("again"))))
		s, e = g.read("./f")
		require.Zero(t, e)
		assert.Equal(t, "first", s)
	}
}
