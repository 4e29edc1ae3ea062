package testprogs

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// Files, pipes and shells: the programs of src/musl/fs_*.c (and the same sources built
// against glibc, src/glibc/fs_*.c) run natively and on the emulator with the same output,
// exit status and, for those given a directory, the same files left in it. Then what only
// the emulator can show: a confined root, and the frames behind a file page.

// tree describes every file under dir: relative path, type, permission bits, size and the
// contents' hash (or a link's target), one line each, sorted. Times are left out.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := os.Lstat(path)
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(path)
			line += " -> " + target
		case info.Mode().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %d %x", len(b), sha256.Sum256(b))
		}
		lines = append(lines, line)
		return nil
	})
	require.NoError(t, err)
	return strings.Join(lines, "\n")
}

// sameInDirs runs prog natively in one fresh directory and on the emulator in another
// (the directory is its argument) and requires the same output, exit code and files left.
func sameInDirs(t *testing.T, prog, stdin string) result {
	t.Helper()
	nd, ed := t.TempDir(), t.TempDir()
	want := runNative(t, prog, stdin, nd)
	got := runEmu(t, prog, stdin, []string{ed})
	assert.Equal(t, want.Stdout, got.Stdout, "%s: standard output differs", prog)
	assert.Equal(t, want.Stderr, got.Stderr, "%s: standard error differs", prog)
	assert.Equal(t, want.Code, got.Code, "%s: exit code differs; emulator log: %s", prog, got.Log)
	assert.Equal(t, tree(t, nd), tree(t, ed), "%s: files left in the directory differ", prog)
	return got
}

// Files through the page cache and their mappings, and directories and names: musl and
// glibc builds of the same programs, static and dynamically linked, each compared with the
// host.
func TestFileProgramsMatchNative(t *testing.T) {
	for _, prog := range []string{"musl_fs_map", "glibc_fs_map", "musl_fs_dir", "glibc_fs_dir",
		"dynmusl_fs_map", "dynglibc_fs_map", "dynmusl_fs_dir", "dynglibc_fs_dir"} {
		t.Run(prog, func(t *testing.T) {
			r := sameInDirs(t, prog, "")
			assert.Equal(t, 0, r.Code)
			assertNoLeak(t, r)
			if strings.HasSuffix(prog, "fs_map") {
				assert.Contains(t, r.Log, "SIGBUS (BUS_ADRERR)")
				assertSharedPagesReachTheFile(t, r)
			}
		})
	}
}

// fsync writes what a shared mapping stored to the host file at once; what it stored later,
// with neither msync nor munmap, reaches the host file when the process exits. The host
// reads the file when the guest's fsync returns, and after the run.
func TestSharedStoresReachTheHost(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "final")
	var atFsync []byte
	r := runAtWatched(t, binPath(t, "musl_fs_map"), []string{"fs_map", dir}, "", func(k *minikernel.Kernel, e *minikernel.Event) {
		if e.Kind == minikernel.EvSyscall && e.Name == "fsync" {
			atFsync, _ = os.ReadFile(final)
		}
	})
	require.Equal(t, 0, r.Code, r.Log)
	require.Len(t, atFsync, 2*4096)
	assert.Equal(t, "fffsyncedf", string(atFsync[:10]), "on the host when fsync returns")
	b, err := os.ReadFile(final)
	require.NoError(t, err)
	require.Len(t, b, 2*4096)
	assert.Equal(t, "fffwritten at exitfff", string(b[:21]))
	assert.Equal(t, "fffffffffand heref", string(b[4096:4096+18]))
}

// Pipes between processes, and stdio over them: same output as on the host, for static
// and dynamic builds against both libcs.
func TestPipeAndStdioProgramsMatchNative(t *testing.T) {
	const input = "first line\n3 4 word\nmore text\n"
	for _, prog := range []string{"musl_fs_pipe", "glibc_fs_pipe", "musl_fs_stdio", "glibc_fs_stdio",
		"dynmusl_fs_pipe", "dynglibc_fs_pipe", "dynmusl_fs_stdio", "dynglibc_fs_stdio"} {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, input)
			assert.Equal(t, 0, r.Code)
			assertNoLeak(t, r)
		})
	}
}

// runAt runs the program at path (a guest path, resolved in cfg's namespace) with argv on
// the emulator.
func runAt(t *testing.T, path string, argv []string, stdin string, cfgs ...emuConfig) result {
	t.Helper()
	return runAtWatched(t, path, argv, stdin, nil, cfgs...)
}

// runAtWatched is runAt with watch seeing every event, with the kernel at hand.
func runAtWatched(t *testing.T, path string, argv []string, stdin string,
	watch func(*minikernel.Kernel, *minikernel.Event), cfgs ...emuConfig) result {
	t.Helper()
	var out, errb, log bytes.Buffer
	cfg := minikernel.Config{RAM: 256 << 20, Stdin: strings.NewReader(stdin), Stdout: &out,
		Stderr: &errb, Log: &log, MaxInsns: 5_000_000_000}
	for _, f := range cfgs {
		f(&cfg)
	}
	k, err := minikernel.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	stats := k.CollectStats()
	if watch != nil {
		k.Subscribe(func(e *minikernel.Event) { watch(k, e) })
	}
	_, err = k.Spawn(path, argv, env)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err, "emulating %s; kernel log: %s", path, log.String())
	return result{Stdout: out.String(), Stderr: errb.String(), Log: log.String(), Code: code,
		Kernel: k, Stats: stats.Snapshot()}
}

// With Config.Root (emu run --root) the guest cannot name a file outside its root: not with
// "..", not through an absolute symbolic link (which resolves inside the root, as under
// chroot), not through a relative one that climbs too high, not by renaming or creating
// through links. Natively this needs chroot and privileges, so the output is checked
// against what chroot semantics give.
func TestRootConfinesTheGuest(t *testing.T) {
	base := t.TempDir()
	root, outside := filepath.Join(base, "root"), filepath.Join(base, "outside")
	for _, d := range []string{filepath.Join(root, "bin"), filepath.Join(root, "sub"), outside} {
		require.NoError(t, os.MkdirAll(d, 0o755))
	}
	secret := filepath.Join(outside, "secret.txt")
	require.NoError(t, os.WriteFile(secret, []byte("secret\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "inside.txt"), []byte("inside\n"), 0o644))
	prog, err := os.ReadFile(binPath(t, "musl_fs_root"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "fs_root"), prog, 0o755))
	up := strings.Repeat("../", strings.Count(root, "/")+2)
	for link, target := range map[string]string{
		"abs":        "/inside.txt",
		"rel":        up + strings.TrimPrefix(secret, "/"),
		"escape":     secret,
		"sub/dotdot": "..",
		"mk":         "/made-by-link",
	} {
		require.NoError(t, os.Symlink(target, filepath.Join(root, link)))
	}
	paths := []string{"/inside.txt", "/abs", "/rel", "/escape", "/.." + secret, "../../inside.txt"}
	r := runAt(t, "/bin/fs_root", append([]string{"/bin/fs_root"}, paths...), "",
		func(c *minikernel.Config) { c.Root = root })
	require.Equal(t, 0, r.Code, r.Log)
	noSuch := "No such file or directory"
	want := []string{
		fmt.Sprintf("%-32s %s", "/inside.txt", "inside"),
		fmt.Sprintf("%-32s %s", "/abs", "inside"),
		fmt.Sprintf("%-32s %s", "/rel", noSuch),
		fmt.Sprintf("%-32s %s", "/escape", noSuch),
		fmt.Sprintf("%-32s %s", "/.."+secret, noSuch),
		fmt.Sprintf("%-32s %s", "../../inside.txt", "inside"),
		"getcwd: /",
		fmt.Sprintf("%-32s %d", "chdir /../../..", 0),
		"getcwd: /",
		fmt.Sprintf("%-32s %d", "chdir sub", 0),
		fmt.Sprintf("%-32s %s", "../../../inside.txt", "inside"),
		fmt.Sprintf("%-32s %d", "chdir dotdot (a link to ..)", 0),
		"getcwd: /",
		fmt.Sprintf("%-32s %d", "readlink /abs", 11),
		"  -> /inside.txt",
		fmt.Sprintf("%-32s %d", "/.. is /", 1),
		fmt.Sprintf("%-32s %d", "/proc/self/exe is argv[0]", 1),
		fmt.Sprintf("%-32s %d", "readlink /proc/self/exe", 12),
		"  -> /bin/fs_root",
		fmt.Sprintf("%-32s %d", "mkdir /../../made", 0),
		fmt.Sprintf("%-32s %d", "create through /mk (absolute link)", 1),
		fmt.Sprintf("%-32s %d", "rename /inside.txt /../moved", 0),
		fmt.Sprintf("%-32s %d", "symlink /.. as /up", 0),
		fmt.Sprintf("%-32s %s", "/up/up/up/moved", "inside"),
		"ls /: abs bin escape made made-by-link mk moved rel sub up",
		"ls /..: abs bin escape made made-by-link mk moved rel sub up",
		"ls /up/..: abs bin escape made made-by-link mk moved rel sub up",
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", r.Stdout)
	// Nothing appeared outside the root, and what the guest made is inside it.
	entries, err := os.ReadDir(base)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{"outside", "root"}, names, "entries next to the root")
	entries, err = os.ReadDir(outside)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the directory outside the root is untouched")
	for _, name := range []string{"made", "made-by-link", "moved"} {
		_, err := os.Lstat(filepath.Join(root, name))
		assert.NoError(t, err, "%s was created inside the root", name)
	}
	assertNoLeak(t, r)
}

// A root that is not a directory is refused when the machine is built.
func TestRootMustBeADirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	for _, root := range []string{file, filepath.Join(file, "missing")} {
		_, err := minikernel.New(minikernel.Config{RAM: 16 << 20, Root: root})
		assert.Error(t, err, "root %s", root)
	}
}

// Two processes that each open and map the same file page map the same physical frame,
// shared or private, until one writes its private mapping: that write copies the page to a
// new frame and leaves the page-cache frame, and the file, alone.
func TestOneFramePerFilePage(t *testing.T) {
	path := filepath.Join(t.TempDir(), "page")
	content := append([]byte("original page\n"), make([]byte, 5000)...)
	require.NoError(t, os.WriteFile(path, content, 0o644))
	type mapping struct {
		pid    int
		va     uint64
		shared bool
	}
	var maps []mapping
	var reads []*minikernel.Event
	var copyFrame uint64
	var copyKind minikernel.FrameKind
	checked := false
	var frames map[uint64][]minikernel.Mapping
	r := runAtWatched(t, binPath(t, "musl_fs_share"), []string{"fs_share", path}, "", func(k *minikernel.Kernel, e *minikernel.Event) {
		switch {
		case e.Kind == minikernel.EvSyscall && e.Name == "mmap" && e.Ret > 0 && int64(e.Args[4]) >= 0:
			maps = append(maps, mapping{e.PID, uint64(e.Ret), e.Args[3]&0x3 == 1})
		case e.Kind == minikernel.EvPageFault && e.VMA != nil && e.VMA.Name == path && !e.Kernel:
			c := *e
			reads = append(reads, &c)
			if e.Outcome == minikernel.FaultCOWCopy {
				copyFrame = e.Frame
			}
		case e.Kind == minikernel.EvSyscall && e.Name == "getppid":
			frames = k.FrameMap() // the marker: the child has written its private page
			copyKind = k.Frames().Kind(copyFrame)
			checked = true
		}
	})
	require.Equal(t, 0, r.Code, r.Log)
	require.True(t, checked, "the marker system call ran")
	require.Len(t, maps, 4, "two mappings in each process")

	// Every read fault on the page, in either process, shared or private, got one frame.
	var cacheFrame uint64
	for _, e := range reads {
		if e.Outcome == minikernel.FaultCOWCopy {
			continue
		}
		assert.Contains(t, []minikernel.FaultOutcome{minikernel.FaultFileRead, minikernel.FaultFileCached}, e.Outcome)
		if cacheFrame == 0 {
			cacheFrame = e.Frame
		}
		assert.Equal(t, cacheFrame, e.Frame, "pid %d fault at %#x", e.PID, e.Addr)
	}
	require.NotZero(t, cacheFrame)
	require.NotZero(t, copyFrame, "the child's private store copied the page")
	assert.NotEqual(t, cacheFrame, copyFrame)

	// At the marker: the page cache holds the file's page in that frame, and the three
	// mappings nobody wrote still map it; the written private mapping maps the copy.
	who := frames[cacheFrame]
	require.NotEmpty(t, who)
	assert.NotNil(t, who[0].Cache, "the page cache's reference comes first")
	assert.Equal(t, path, who[0].Cache.Name())
	assert.Equal(t, uint64(0), who[0].Index)
	mapped := map[mapping]bool{}
	for _, m := range who[1:] {
		for _, want := range maps {
			if m.PID == want.pid && m.VA == want.va {
				mapped[want] = true
			}
		}
	}
	for _, m := range maps {
		if m.pid != maps[0].pid && !m.shared {
			assert.False(t, mapped[m], "the child's written private mapping left the cache frame")
			continue
		}
		assert.True(t, mapped[m], "pid %d %#x (shared %v) maps the cache frame", m.pid, m.va, m.shared)
	}
	require.Len(t, frames[copyFrame], 1, "the copy is the child's alone")
	assert.Equal(t, minikernel.FrameUser, copyKind, "the copy is an anonymous frame")
	assert.Equal(t, "parent reads o o\nchild reads o o\nchild after its private store: o C\nparent after the child: o o\n", r.Stdout)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, b, "the file is unchanged")
	assertNoLeak(t, r)
}

// busybox, if the host has it (it is a static glibc program).
func busybox(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	testcheck.Skip(t, "busybox is not installed on this host (apt-get install busybox-static): shell tests skipped")
	return ""
}

// A shell from the host runs pipelines, command substitution, redirections and file
// commands on the emulator exactly as on the host: sh forks, execs its applets through
// /proc/self/exe, connects them with pipes and waits for them.
func TestShellPipelinesMatchNative(t *testing.T) {
	bb := busybox(t)
	for i, script := range []string{
		`echo hello | tr a-z A-Z | wc -c`,
		`x=$(echo sub; echo shell); echo "[$x]"`,
		`seq 1 1000 | sort -rn | head -n 3; echo status $?`,
		`yes abc | head -c 100000 | md5sum`,
		`for i in 1 2 3; do echo line $i; done > f; cat f | wc -l; mkdir d; mv f d/g; ls d; cat < d/g | tail -n 1; rm -r d; ls`,
		`echo one > a; echo two >> a; ln -s a l; readlink l; cat l; stat -c '%s %F' a l; test -L l && echo link`,
		`printf '%s\n' pear apple fig | sort | sed -e 's/^/- /' | tr -d e`,
		`false | true; echo $?; sh -c 'exit 7'; echo $?; (exit 3) | cat; echo done`,
		`head -c 200000 /proc/self/exe | md5sum; cmp /proc/self/exe /proc/self/exe && echo same`,
		`echo start; sleep 0.01; echo after sleep`,
	} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Logf("script: %s", script)
			nd, ed := t.TempDir(), t.TempDir()
			cmd := exec.Command(bb, "sh", "-c", script)
			cmd.Dir, cmd.Env = nd, env
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			require.NoError(t, cmd.Run(), "native: %s", errb.String())
			r := runAt(t, bb, []string{"sh", "-c", "cd '" + ed + "' && " + script}, "")
			assert.Equal(t, out.String(), r.Stdout)
			assert.Equal(t, errb.String(), r.Stderr)
			assert.Equal(t, 0, r.Code, r.Log)
			assert.Equal(t, tree(t, nd), tree(t, ed), "files the script left")
			assertNoLeak(t, r)
		})
	}
}

// The same pipeline twice takes the same number of instructions: blocking on pipes, waking
// and timers keep the emulator deterministic.
func TestPipelinesAreDeterministic(t *testing.T) {
	bb := busybox(t)
	run := func() uint64 {
		r := runAt(t, bb, []string{"sh", "-c", "seq 1 2000 | sort -rn | tail -n 2; sleep 0.001"}, "")
		require.Equal(t, "2\n1\n", r.Stdout)
		return r.Stats.Instructions
	}
	assert.Equal(t, run(), run())
}

// When the guest's standard output is a host terminal, the terminal answers its ioctls:
// isatty, the window size and the modes are the terminal's, on the emulator as natively;
// a descriptor that is not a terminal is ENOTTY.
func TestTerminalIoctlsAskTheHostTerminal(t *testing.T) {
	_, pts := openPTY(t, 33, 101)
	cmd := exec.Command(binPath(t, "musl_fs_tty"))
	var nerr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(""), pts, &nerr
	require.NoError(t, cmd.Run())
	r := runEmu(t, "musl_fs_tty", "", nil, func(c *minikernel.Config) { c.Stdout = pts })
	assert.Equal(t, nerr.String(), r.Stderr)
	assert.Contains(t, r.Stderr, "33 rows, 101 columns")
	assert.Contains(t, r.Stderr, "TIOCGWINSZ on stdin: -1 ") // ENOTTY, as libc spells it
	assert.Equal(t, 0, r.Code, r.Log)
}

// Given host files for its standard streams (as emu run passes its own), the guest uses
// them as a process started by a shell does: descriptors 1 and 2 opened on one file share
// its offset, a regular file on standard input can seek, and a write to a pipe whose
// reader is gone is SIGPIPE for the guest.
func TestHostFilesAsStandardStreams(t *testing.T) {
	bb := busybox(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	require.NoError(t, os.WriteFile(in, []byte("first\nsecond\nthird\n"), 0o644))
	const script = `echo out; echo err >&2; tail -n 1; echo out2; ls -l /proc/self/fd/0 >/dev/null; echo done`
	run := func(name string, emulate bool) string {
		stdin, err := os.Open(in)
		require.NoError(t, err)
		defer stdin.Close()
		out, err := os.Create(filepath.Join(dir, name))
		require.NoError(t, err)
		defer out.Close()
		if !emulate {
			cmd := exec.Command(bb, "sh", "-c", script)
			cmd.Stdin, cmd.Stdout, cmd.Stderr, cmd.Env = stdin, out, out, env
			require.NoError(t, cmd.Run())
		} else {
			r := runAt(t, bb, []string{"sh", "-c", script}, "", func(c *minikernel.Config) {
				c.Stdin, c.Stdout, c.Stderr = stdin, out, out
			})
			require.Equal(t, 0, r.Code, r.Log)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	want, got := run("native", false), run("emulated", true)
	assert.Equal(t, "out\nerr\nthird\nout2\ndone\n", want)
	assert.Equal(t, want, got)

	rd, wr, err := os.Pipe()
	require.NoError(t, err)
	rd.Close()
	defer wr.Close()
	r := runAt(t, bb, []string{"yes"}, "", func(c *minikernel.Config) { c.Stdout = wr })
	assert.Equal(t, 128+13, r.Code, "killed by SIGPIPE")
}
