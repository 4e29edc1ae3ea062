//go:build !windows

package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// Real gdb (Debian's, in batch mode) debugging programs on the emulator through the stub:
// the programs of testprogs/src/gdb, built with -g -O0 static against musl and dynamic
// against glibc. Each test runs emu in-process with --gdb on a Unix socket in a temporary
// directory, gdb as a child process, and checks what gdb printed, what the program printed
// (unchanged from a native run) and how emu exited.

// needGDB returns the gdb to run, or skips the test (fails it under CI, where .ci/run
// installs gdb).
func needGDB(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("gdb")
	if err != nil {
		testcheck.Skip(t, "gdb is not installed (.ci/run installs it): %v", err)
	}
	return path
}

// gdbRun is one debugging session's results.
type gdbRun struct {
	gdb      string // what gdb printed (stdout and stderr)
	out, err string // emu's standard output (the guest's) and error
	code     int    // emu's exit code
}

// gdbOptions changes how debugSession runs things.
type gdbOptions struct {
	emuArgs []string                                     // before the program: "debug", flags... (default: run)
	args    []string                                     // the program's arguments
	during  func(gdb *exec.Cmd, gdbOut, emu *syncBuffer) // runs while gdb runs (Ctrl-C tests)
	stdin   *os.File                                     // the guest's standard input (default: empty)
	sysroot bool                                         // leave gdb's sysroot as it is (target:), to read files through the stub
}

// gdbSession debugs testprogs/bin/PROG with gdb commands cmds.
func gdbSession(t *testing.T, prog string, o gdbOptions, cmds ...string) gdbRun {
	t.Helper()
	gdbPath := needGDB(t)
	testprogs, err := filepath.Abs("../../testprogs")
	require.NoError(t, err)
	bin := filepath.Join(testprogs, "bin", prog)
	sock := filepath.Join(t.TempDir(), "gdb.sock")

	var out, errb syncBuffer
	args := o.emuArgs
	if args == nil {
		args = []string{"run"}
	}
	args = append(append(args, "--gdb", sock, bin), o.args...)
	done := make(chan int, 1)
	var stdin io.Reader = strings.NewReader("")
	if o.stdin != nil {
		stdin = o.stdin
	}
	go func() { done <- Main(args, stdin, &out, &errb) }()
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("emu ended (%d) before listening: %s", code, errb.String())
		case <-time.After(10 * time.Millisecond):
		}
		require.Less(t, i, 1000, "emu never listened on %s", sock)
	}

	gargs := []string{"-batch", "-nx", "-q", "-ex", "set confirm off", "-ex", "set pagination off", "-ex", "set width 0",
		"-ex", "set style enabled off"}
	if !o.sysroot {
		gargs = append(gargs, "-ex", "set sysroot /")
	}
	gargs = append(gargs, "-ex", "target remote "+sock)
	for _, c := range cmds {
		gargs = append(gargs, "-ex", c)
	}
	gargs = append(gargs, bin)
	cmd := exec.Command(gdbPath, gargs...)
	cmd.Dir = gdbSources(t, testprogs) // the debug information names sources relative to it
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Env = append(os.Environ(), "DEBUGINFOD_URLS=", "HOME="+t.TempDir(), "LC_ALL=C")
	var gout syncBuffer
	cmd.Stdout, cmd.Stderr = &gout, &gout
	require.NoError(t, cmd.Start())
	if o.during != nil {
		o.during(cmd, &gout, &out)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waited:
	case <-time.After(2 * time.Minute):
		// Say all that can explain a hang: gdb's state (T: stopped), everyone's stacks.
		state, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
		stacks := make([]byte, 1<<20)
		stacks = stacks[:runtime.Stack(stacks, true)]
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-waited
		t.Fatalf("gdb timed out (/proc stat: %s)\ngdb said:\n%s\nemu said:\n%s\ngoroutines:\n%s", state, gout.String(),
			errb.String(), stacks)
	}
	var code int
	select {
	case code = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("emu did not end after gdb did; gdb said (%v):\n%s\nemu said:\n%s", werr, gout.String(), errb.String())
	}
	r := gdbRun{gdb: gout.String(), out: out.String(), err: errb.String(), code: code}
	require.NotContains(t, r.err+r.out, "goroutine ", "a Go panic reached the user")
	t.Logf("gdb:\n%s\nemu stderr:\n%s", r.gdb, r.err)
	return r
}

// gdbSources returns a directory that holds the gdb test programs' sources as testprogs/
// does (src/gdb/...), each dated long before any binary. A fresh clone dates files in the
// order git writes them, and gdb warns of a source file more recent than its executable.
func gdbSources(t *testing.T, testprogs string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(testprogs, "src", "gdb")
	dst := filepath.Join(dir, "src", "gdb")
	require.NoError(t, os.MkdirAll(dst, 0o755))
	ents, err := os.ReadDir(src)
	require.NoError(t, err)
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		f := filepath.Join(dst, e.Name())
		require.NoError(t, os.WriteFile(f, b, 0o644))
		require.NoError(t, os.Chtimes(f, old, old))
	}
	return dir
}

// noWarnings checks that gdb warned of nothing and met no protocol trouble.
func noWarnings(t *testing.T, r gdbRun) {
	t.Helper()
	for _, bad := range []string{"warning:", "Remote replied unexpectedly", "Protocol error", "Remote failure",
		"Ignoring packet error", "unknown", "Couldn't", "Cannot"} {
		assert.NotContains(t, r.gdb, bad)
	}
}

// nativeOutput is what the program prints when it runs on the host.
func nativeOutput(t *testing.T, prog string, args ...string) string {
	t.Helper()
	out, code := native(t, prog, args...)
	require.Equal(t, 0, code)
	return out
}

// Source-level debugging of the demo program, static (musl) and dynamic (glibc): breakpoints
// at a function and a line, next, step into a function, locals, globals, a heap string, a
// struct, registers, a hardware watchpoint's old and new value, a backtrace of three frames;
// the program then runs to its end and prints what it prints natively.
func TestGDBSourceLevel(t *testing.T) {
	for _, prog := range []string{"gdb_musl_demo", "gdb_glibc_demo"} {
		t.Run(prog, func(t *testing.T) {
			r := gdbSession(t, prog, gdbOptions{},
				"break main",
				"break demo.c:31", // total += add3(i);
				"continue",
				"next", "next", "next",
				"print heap",
				"print p",
				"print p.name",
				"print greeting",
				"info locals",
				"continue", // to line 31
				"step",     // into add3
				"info frame",
				"step", // into square
				"bt",
				"finish",
				"info registers rip",
				"info registers",
				"info registers fs_base",
				"print $orig_rax",
				"print $mxcsr",
				"watch counter",
				"continue",
				"delete",
				"info sharedlibrary",
				"continue")
			g := r.gdb
			assert.Regexp(t, `Breakpoint 1, main \(\) at \./src/gdb/demo\.c:26|Breakpoint 1, main \(\) at src/gdb/demo\.c:26`, g)
			assert.Contains(t, g, "27\t    char *heap = malloc(32);")
			assert.Contains(t, g, `$1 = 0x`)
			assert.Contains(t, g, `"hello heap"`)
			assert.Contains(t, g, `$2 = {x = 3, y = 4, name = 0x`)
			assert.Contains(t, g, `"origin"}`)
			assert.Contains(t, g, `$3 = 0x`)
			assert.Contains(t, g, `$4 = 0x`)
			assert.Contains(t, g, `"hello from the guest"`)
			assert.Regexp(t, `(?m)^total = 0$`, g)
			assert.Contains(t, g, "Breakpoint 2, main () at ")
			assert.Contains(t, g, "add3 (a=0) at ")
			assert.Contains(t, g, "square (v=0) at ")
			assert.Regexp(t, `(?s)#0  square \(v=0\) at [^\n]*demo\.c:16\n#1  0x[0-9a-f]+ in add3 \(a=0\) at [^\n]*demo\.c:20\n#2  0x[0-9a-f]+ in main \(\) at [^\n]*demo\.c:31`, g)
			assert.Contains(t, g, "Value returned is $5 = 0")
			assert.Regexp(t, `rip\s+0x[0-9a-f]+\s+0x[0-9a-f]+ <add3\+\d+>`, g)
			assert.Regexp(t, `eflags\s+0x[0-9a-f]+\s+\[ .*IF.* \]`, g)
			assert.Regexp(t, `(?m)^cs\s+0x33\s+51$`, g)
			assert.Regexp(t, `(?m)^fs_base\s+0x[0-9a-f]+\s+\d+$`, g)
			assert.Contains(t, g, "$6 = -1", "orig_rax out of a system call")
			assert.Contains(t, g, "$7 = [ IM DM ZM OM UM PM ]", "MXCSR as a new process has it")
			assert.Contains(t, g, "Hardware watchpoint 3: counter")
			assert.Contains(t, g, "Old value = 0\nNew value = 1")
			assert.Contains(t, g, "[Inferior 1 (process 2) exited normally]")
			if strings.Contains(prog, "glibc") {
				assert.Regexp(t, `0x[0-9a-f]+\s+0x[0-9a-f]+\s+Yes\s+/lib/x86_64-linux-gnu/libc\.so\.6`, g)
				assert.Regexp(t, `Yes\s+/lib64/ld-linux-x86-64\.so\.2`, g)
			} else {
				assert.Contains(t, g, "No shared libraries loaded at this time.")
			}
			noWarnings(t, r)
			assert.Equal(t, 0, r.code)
			assert.Equal(t, nativeOutput(t, prog), r.out)
		})
	}
}

// Without set sysroot, gdb reads the dynamic program's libraries through the stub (host
// I/O): the symbols load, and gdb's one remark is the usual note that file transfers can be
// slow.
func TestGDBReadsLibrariesThroughTheStub(t *testing.T) {
	r := gdbSession(t, "gdb_glibc_demo", gdbOptions{sysroot: true}, "break square", "continue", "bt", "info sharedlibrary",
		"delete", "continue")
	assert.Contains(t, r.gdb, "Reading /lib/x86_64-linux-gnu/libc.so.6 from remote target...")
	assert.Regexp(t, `Yes\s+target:/lib/x86_64-linux-gnu/libc\.so\.6`, r.gdb)
	assert.Contains(t, r.gdb, "#2  0x")
	warnings := regexp.MustCompile(`(?m)^warning: .*$`).FindAllString(r.gdb, -1)
	for _, w := range warnings {
		assert.Contains(t, w, "File transfers from remote targets can be slow", "the only warning")
	}
	assert.Equal(t, 0, r.code)
	assert.Equal(t, nativeOutput(t, "gdb_glibc_demo"), r.out)
}

// monitor runs the emulator's views: the page walk of the stack pointer, the VMAs, and a
// page-fault stop before the kernel handles it (break fault), which gdb reports as a SIGTRAP
// after the emulator's explanation; commands that would run the program are gdb's.
func TestGDBMonitor(t *testing.T) {
	for _, prog := range []string{"gdb_musl_demo", "gdb_glibc_demo"} {
		t.Run(prog, func(t *testing.T) {
			r := gdbSession(t, prog, gdbOptions{},
				"break main",
				"continue",
				"monitor walk $rsp",
				"monitor vmas",
				"monitor regs",
				"monitor x $rsp 16",
				"monitor ps",
				"monitor tlb",
				"monitor frames shared",
				"monitor continue",
				"monitor break fault demand-zero",
				"continue",
				"info registers rip",
				"monitor where",
				"monitor delete all",
				"continue")
			g := r.gdb
			assert.Regexp(t, `walk 0x7fff[0-9a-f]+ in pid 2: CR3 0x[0-9a-f]+`, g)
			assert.Regexp(t, `PTE\s+\d+\s+0x[0-9a-f]+\s+0x[0-9a-f]{16}\s+rw-u-ad`, g)
			assert.Contains(t, g, "VMA      [stack] 0x7ffffffde000-0x7ffffffff000 rw-p")
			assert.Regexp(t, `pid 2 .*gdb_\w+_demo: \d+ VMAs, program break 0x`, g)
			assert.Regexp(t, `0x7ffffffff000\s+132K\s+rw-p\s+0x0\s+\d+\s+\[stack\]`, g)
			assert.Regexp(t, `rax  0x[0-9a-f]{16}`, g)
			assert.Regexp(t, `0x7fff[0-9a-f]+  [0-9a-f ]+\|`, g)
			assert.Regexp(t, `2\s+1\s+running`, g)
			assert.Contains(t, g, "hit rate")
			assert.Contains(t, g, "frames in use")
			assert.Contains(t, g, "error: gdb runs the program here: use its own commands (stepi, continue)")
			assert.Contains(t, g, "breakpoint 1: page faults the kernel will resolve as demand-zero")
			assert.Contains(t, g, "emu: breakpoint 1: page fault in pid 2, before the kernel handles it")
			assert.Contains(t, g, "kernel      will resolve it as demand-zero (anonymous memory, first touch: a zeroed frame)")
			assert.Contains(t, g, "Program received signal SIGTRAP, Trace/breakpoint trap.")
			assert.Contains(t, g, "[Inferior 1 (process 2) exited normally]")
			assert.Equal(t, 0, r.code)
			assert.Equal(t, nativeOutput(t, prog), r.out)
		})
	}
}

// catch fork stops at the fork with the child's pid; the child is detached and runs.
// follow-fork-mode child follows the child to a breakpoint in its code and its exit. catch
// vfork stops at a vfork.
func TestGDBFork(t *testing.T) {
	for _, prog := range []string{"gdb_musl_forks", "gdb_glibc_forks"} {
		t.Run(prog, func(t *testing.T) {
			want := nativeOutput(t, prog)
			r := gdbSession(t, prog, gdbOptions{}, "catch fork", "continue", "info inferiors", "continue")
			assert.Contains(t, r.gdb, "Catchpoint 1 (fork)")
			assert.Regexp(t, `Catchpoint 1 \(forked process 3\)`, r.gdb)
			assert.Contains(t, r.gdb, "[Detaching after fork from child process 3]")
			assert.Contains(t, r.gdb, "[Inferior 1 (process 2) exited normally]")
			assert.Equal(t, 0, r.code)
			assert.Equal(t, want, r.out)

			r = gdbSession(t, prog, gdbOptions{}, "set follow-fork-mode child", "break child_work", "continue",
				"bt", "print n", "continue")
			assert.Contains(t, r.gdb, "[Attaching after Thread 2.2 fork to child Thread 3.3]")
			assert.Contains(t, r.gdb, "[Detaching after fork from parent process 2]")
			assert.Regexp(t, `hit Breakpoint 1, child_work \(n=10\) at `, r.gdb)
			assert.Regexp(t, `#1  0x[0-9a-f]+ in main \(argc=1, argv=0x[0-9a-f]+\) at `, r.gdb)
			assert.Contains(t, r.gdb, "$1 = 10")
			assert.Contains(t, r.gdb, "[Inferior 2 (process 3) exited with code 03]")
			assert.Equal(t, 0, r.code)
			assert.Equal(t, want, r.out)

			// vfork: the parent waits until its child has execed; gdb catches the vfork,
			// detaches the child, and hears when the parent goes on (vforkdone).
			r = gdbSession(t, prog, gdbOptions{args: []string{"vfork"}}, "catch vfork", "continue", "continue")
			assert.Contains(t, r.gdb, "Catchpoint 1 (vforked process 3)")
			assert.Contains(t, r.gdb, "[Detaching after vfork from child process 3]")
			assert.Contains(t, r.gdb, "[Inferior 1 (process 2) exited normally]")
			noWarnings(t, r)
			assert.Equal(t, 0, r.code)
			assert.Equal(t, nativeOutput(t, prog, "vfork"), r.out)
		})
	}
}

// catch exec stops in the child once execve has loaded the new program; gdb then reads the
// new program's symbols and stops at a breakpoint in it.
func TestGDBExec(t *testing.T) {
	prog := "gdb_glibc_forks"
	want := nativeOutput(t, prog, "exec")
	r := gdbSession(t, prog, gdbOptions{args: []string{"exec"}}, "set follow-fork-mode child", "catch exec",
		"continue", "break child_work", "continue", "print n", "continue")
	assert.Contains(t, r.gdb, "is executing new program: ")
	assert.Regexp(t, `hit Catchpoint 1 \(exec'd [^)]*gdb_glibc_forks\)`, r.gdb)
	assert.Regexp(t, `hit Breakpoint 2(\.\d)?, child_work \(n=4\)`, r.gdb)
	assert.Contains(t, r.gdb, "$1 = 4")
	assert.Contains(t, r.gdb, "[Inferior 2 (process 3) exited with code 03]")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, want, r.out)
}

// A guest signal stops the program before it is delivered: gdb shows SIGSEGV at the faulting
// line with its siginfo (si_addr the wild pointer); continuing delivers it, and the program
// dies of it as it would natively.
func TestGDBSignal(t *testing.T) {
	for _, prog := range []string{"gdb_musl_segv", "gdb_glibc_segv"} {
		t.Run(prog, func(t *testing.T) {
			r := gdbSession(t, prog, gdbOptions{}, "continue", "print $_siginfo.si_signo",
				"print $_siginfo.si_code", "print $_siginfo._sifields._sigfault.si_addr", "bt 1", "continue")
			assert.Contains(t, r.gdb, "Program received signal SIGSEGV, Segmentation fault.")
			assert.Regexp(t, `main \(\) at [^\n]*segv\.c:9\n9\t    \*wild = 42;`, r.gdb)
			assert.Contains(t, r.gdb, "$1 = 11")
			assert.Contains(t, r.gdb, "$2 = 1", "SEGV_MAPERR")
			assert.Contains(t, r.gdb, "$3 = (void *) 0xdead0000")
			assert.Contains(t, r.gdb, "Program terminated with signal SIGSEGV, Segmentation fault.")
			assert.Equal(t, 139, r.code)
			out, _ := native(t, prog)
			assert.Equal(t, out, r.out)
		})
	}
}

// Ctrl-C in gdb interrupts the running guest (SIGINT); gdb then changes a variable and the
// program ends normally.
func TestGDBInterrupt(t *testing.T) {
	interrupt := func(gdb *exec.Cmd, _, emu *syncBuffer) {
		// The program is spinning once gdb has resumed it and it has printed its line.
		for i := 0; i < 2000 && !strings.Contains(emu.String(), "spinning"); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		gdb.Process.Signal(syscall.SIGINT)
	}
	r := gdbSession(t, "gdb_musl_spin", gdbOptions{during: interrupt}, "continue", "print spins > 0",
		"set var stop = 1", "continue")
	assert.Contains(t, r.gdb, "Program received signal SIGINT, Interrupt.")
	assert.Contains(t, r.gdb, "$1 = 1")
	assert.Contains(t, r.gdb, "[Inferior 1 (process 2) exited normally]")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "spinning\nstopped after some spins\n", r.out)
}

// Detach lets the program run to its end on its own; kill ends it (SIGKILL: 137).
func TestGDBDetachAndKill(t *testing.T) {
	r := gdbSession(t, "gdb_musl_demo", gdbOptions{}, "break square", "continue", "detach")
	assert.Contains(t, r.gdb, "[Inferior 1 (process 2) detached]")
	assert.Equal(t, 0, r.code)
	assert.Equal(t, nativeOutput(t, "gdb_musl_demo"), r.out)

	r = gdbSession(t, "gdb_musl_demo", gdbOptions{}, "break square", "continue", "kill")
	assert.Contains(t, r.gdb, "[Inferior 1 (process 2) killed]")
	assert.Equal(t, 137, r.code)
	assert.Empty(t, r.out)
}

// Hardware breakpoints and read and access watchpoints, which gdb sends as Z1, Z3 and Z4.
func TestGDBHardwareBreakAndWatchKinds(t *testing.T) {
	r := gdbSession(t, "gdb_musl_demo", gdbOptions{}, "hbreak add3", "continue", "delete",
		"rwatch counter", "continue", "continue", "delete", "awatch counter", "continue", "continue", "delete", "continue")
	g := r.gdb
	assert.Contains(t, g, "Hardware assisted breakpoint 1 at ")
	assert.Contains(t, g, "Breakpoint 1, add3 (a=0) at ")
	assert.Contains(t, g, "Hardware read watchpoint 2: counter")
	assert.Contains(t, g, "Value = 0")
	assert.Contains(t, g, "Hardware access (read/write) watchpoint 3: counter")
	assert.Regexp(t, `Old value = 1\nNew value = 2|Value = 1`, g)
	assert.Contains(t, g, "[Inferior 1 (process 2) exited normally]")
	noWarnings(t, r)
	assert.Equal(t, nativeOutput(t, "gdb_musl_demo"), r.out)
}

// emu debug --gdb: the --script commands set the session up (a page-fault breakpoint, a
// trace), then gdb drives; the trace and the fault's explanation reach emu's terminal and
// gdb's console.
func TestGDBUnderEmuDebug(t *testing.T) {
	script := filepath.Join(t.TempDir(), "setup")
	require.NoError(t, os.WriteFile(script, []byte("break fault file-read\ntrace exec\n"), 0o644))
	r := gdbSession(t, "gdb_musl_demo", gdbOptions{emuArgs: []string{"debug", "--script", script}},
		"continue", "monitor breaks", "monitor delete all", "continue")
	assert.Contains(t, r.out, "emu debug: pid 2 ")
	assert.Contains(t, r.out, "(emu) break fault file-read\nbreakpoint 1: page faults the kernel will resolve as file-read")
	assert.Contains(t, r.gdb, "emu: breakpoint 1: page fault in pid 2, before the kernel handles it")
	assert.Contains(t, r.gdb, "will resolve it as file-read")
	assert.Contains(t, r.gdb, "hit 1 times")
	assert.Contains(t, r.gdb, "[Inferior 1 (process 2) exited normally]")
	assert.Contains(t, r.out, "hello from the guest: hello heap 3 4 origin total=8 counter=8\n")
	assert.Equal(t, 0, r.code)
}

// Threads: gdb learns of each new thread (pPID.TID, named after the program), stops in a
// worker at a breakpoint, lists every thread with its frame, shows each one's backtrace,
// steps the stopped thread while the others run, and the program ends with the total it
// computes natively.
func TestGDBThreads(t *testing.T) {
	for _, prog := range []string{"gdb_musl_threads", "gdb_glibc_threads"} {
		t.Run(prog, func(t *testing.T) {
			r := gdbSession(t, prog, gdbOptions{}, "break threads.c:13", "continue", "info threads",
				"thread apply all bt 1", "print id", "next", "delete", "continue")
			g := r.gdb
			assert.Contains(t, g, "[New Thread 2.3]")
			assert.Contains(t, g, "[New Thread 2.4]")
			assert.Regexp(t, `Thread \d "gdb_\w+" hit Breakpoint 1, worker \(arg=0x[12]\) at [^\n]*threads\.c:13`, g)
			assert.Regexp(t, `(?m)^  1    Thread 2\.2 "gdb_\w+" `, g)
			assert.Regexp(t, `(?m)^\* \d    Thread 2\.[34] "gdb_\w+" worker \(arg=0x[12]\) at `, g)
			assert.Regexp(t, `Thread 1 \(Thread 2\.2 "gdb_\w+"\):\n#0  `, g)
			assert.Regexp(t, `\$1 = [12]`, g)
			assert.Regexp(t, `(?m)^14\t        pthread_mutex_unlock\(&lock\);`, g)
			assert.Contains(t, g, "[Inferior 1 (process 2) exited normally]")
			assert.Equal(t, 0, r.code)
			assert.Equal(t, nativeOutput(t, prog), r.out)
		})
	}
}

// Ctrl-C also stops a program that waits for input on a host terminal or pipe: the wait ends,
// gdb sees SIGINT in the read, and the read starts again when the program resumes (as after
// a signal gdb does not pass), then gets the line.
func TestGDBInterruptWhileReading(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	stoppedInRead := false
	interrupt := func(gdb *exec.Cmd, gdbOut, emu *syncBuffer) {
		defer w.Close()
		waitFor := func(b *syncBuffer, s string) bool {
			for i := 0; i < 1000 && !strings.Contains(b.String(), s); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			return strings.Contains(b.String(), s)
		}
		waitFor(emu, "waiting for input")
		time.Sleep(50 * time.Millisecond) // the program is in its read by now
		gdb.Process.Signal(syscall.SIGINT)
		stoppedInRead = waitFor(gdbOut, "SIGINT") // before any input comes
		w.Write([]byte("hello\n"))
	}
	r2 := gdbSession(t, "gdb_musl_readin", gdbOptions{during: interrupt, stdin: r}, "continue", "bt 1", "continue")
	assert.True(t, stoppedInRead, "the program stopped while it waited for input")
	assert.Contains(t, r2.gdb, "Program received signal SIGINT, Interrupt.")
	assert.Contains(t, r2.gdb, "[Inferior 1 (process 2) exited normally]")
	assert.Equal(t, 0, r2.code)
	assert.Equal(t, "waiting for input\ngot: hello\n", r2.out)
}

// The instruction limit ends a run under gdb as it ends one without: gdb hears the program
// is gone, emu says why and exits 1. A --gdb address emu cannot listen on is a flag error.
func TestGDBLimitsAndBadAddress(t *testing.T) {
	r := gdbSession(t, "gdb_musl_spin", gdbOptions{emuArgs: []string{"run", "--max-insns", "100000"}}, "continue")
	assert.Contains(t, r.gdb, "emu: the instruction limit (--max-insns 100000) is reached: the run ends")
	assert.Contains(t, r.gdb, "Program terminated with signal SIGKILL, Killed.")
	assert.Contains(t, r.err, "instruction limit reached")
	assert.NotContains(t, r.err, "runs on")
	assert.Equal(t, 1, r.code)

	_, stderr, code := emulated("run", "--gdb", filepath.Join(t.TempDir(), "no", "such", "dir", "sock"), progs+"hello")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "emu: --gdb: ")
	_, stderr, code = emulated("run", "--gdb", "nonsense:port:x", progs+"hello")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "emu: --gdb: ")
	_, stderr, code = emulated("debug", "--gdb", ":0", "--http", ":0", progs+"hello")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "choose one")
}

// gdb killed in the middle of a session (the connection drops): the program runs on to its
// end undebugged, its breakpoints gone (the spinning program passes its breakpoint's line
// again and again, unstopped, until the instruction limit ends the run).
func TestGDBConnectionDrops(t *testing.T) {
	drop := func(gdb *exec.Cmd, gdbOut, _ *syncBuffer) {
		for i := 0; i < 1000 && !strings.Contains(gdbOut.String(), "Breakpoint 1, "); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		syscall.Kill(-gdb.Process.Pid, syscall.SIGKILL) // gdb and the sleep it runs
	}
	r := gdbSession(t, "gdb_musl_spin", gdbOptions{during: drop, emuArgs: []string{"run", "--max-insns", "50000000"}},
		"break spin.c:11", "continue", "shell exec sleep 30 </dev/null >/dev/null 2>&1")
	assert.Contains(t, r.gdb, "Breakpoint 1, main () at ")
	assert.Contains(t, r.err, "emu: gdb went away: the program runs on")
	assert.Contains(t, r.err, "instruction limit reached (50000000)")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "spinning\n", r.out)

	// gone while the program runs (gdb waiting in continue).
	dropRunning := func(gdb *exec.Cmd, _, emu *syncBuffer) {
		for i := 0; i < 1000 && !strings.Contains(emu.String(), "spinning"); i++ {
			time.Sleep(10 * time.Millisecond)
		}
		syscall.Kill(-gdb.Process.Pid, syscall.SIGKILL)
	}
	r = gdbSession(t, "gdb_musl_spin", gdbOptions{during: dropRunning, emuArgs: []string{"run", "--max-insns", "50000000"}},
		"continue")
	assert.Contains(t, r.err, "emu: gdb went away: the program runs on")
	assert.Contains(t, r.err, "instruction limit reached (50000000)")
	assert.Equal(t, 1, r.code)
}

// info proc and info proc mappings: the command line, the working directory, the program,
// and the VMAs as the guest's /proc/PID/maps shows them (files by the names Linux gives
// them, links resolved).
func TestGDBInfoProc(t *testing.T) {
	r := gdbSession(t, "gdb_glibc_demo", gdbOptions{args: []string{"one", "two"}}, "break main", "continue",
		"info proc", "info proc mappings", "continue")
	testprogs, err := filepath.Abs("../../testprogs")
	require.NoError(t, err)
	bin := filepath.Join(testprogs, "bin", "gdb_glibc_demo")
	assert.Contains(t, r.gdb, "cmdline = '"+bin+" one two'")
	cwd, err := os.Getwd()
	require.NoError(t, err)
	assert.Contains(t, r.gdb, "cwd = '"+cwd+"'")
	assert.Contains(t, r.gdb, "exe = '"+bin+"'")
	assert.Regexp(t, `0x555555555000\s+0x555555556000\s+0x1000\s+0x1000\s+r-xp\s+`+regexp.QuoteMeta(bin), r.gdb)
	libc, err := filepath.EvalSymlinks("/lib/x86_64-linux-gnu/libc.so.6") // as Linux names it
	require.NoError(t, err)
	assert.Regexp(t, `r-xp\s+`+regexp.QuoteMeta(libc)+`\n`, r.gdb)
	assert.Regexp(t, `0x7ffffffde000\s+0x7ffffffff000\s+0x21000\s+0x0\s+rw-p\s+\[stack\]`, r.gdb)
	noWarnings(t, r)
	assert.Equal(t, 0, r.code)
}

// gdb's writes: a variable, a read-only string of the program (a forced write: the process
// gets a private copy of the page, as ptrace gives it), and a function called from gdb.
func TestGDBWritesAndCalls(t *testing.T) {
	for _, prog := range []string{"gdb_musl_demo", "gdb_glibc_demo"} {
		t.Run(prog, func(t *testing.T) {
			r := gdbSession(t, prog, gdbOptions{}, "break main", "continue",
				"set var counter = 100", "set var *(char *)greeting = 'H'", "print greeting",
				"print square(7)", `eval "monitor walk 0x%lx", (unsigned long)greeting`, "continue")
			assert.Contains(t, r.gdb, `"Hello from the guest"`)
			assert.Contains(t, r.gdb, "$2 = 49")
			// The string's page: the process's own copy now (a user frame, not the page
			// cache's), still read-only and not executable, and not accessed: the program has
			// not touched it, only gdb has.
			assert.Regexp(t, `PTE\s+\d+\s+0x[0-9a-f]+\s+0x[0-9a-f]{16}\s+r--u---`, r.gdb)
			assert.Regexp(t, `result   frame 0x[0-9a-f]+ \(user, ref 1\)`, r.gdb)
			assert.Contains(t, r.gdb, "user write faults")
			assert.Contains(t, r.gdb, "[Inferior 1 (process 2) exited normally]")
			noWarnings(t, r)
			assert.Equal(t, 0, r.code)
			assert.Equal(t, "Hello from the guest: hello heap 3 4 origin total=8 counter=108\n", r.out)
		})
	}
}
