//go:build !windows

package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// Issue 11, item 9: signals sent to emu reach the guest as they reach the same program run
// natively, and emu ends as the program does. Each test runs the program both ways, sends
// the same signals at the same points (after the line it waits for), and compares what
// the program printed and how it ended (the exit status, or the signal that killed it).

// proc is a program run natively, or under emu in a process of its own, that a test sends
// signals to.
type proc struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	out   []string
	errb  strings.Builder
}

func startProc(t *testing.T, native bool, prog string, args ...string) *proc {
	t.Helper()
	var cmd *exec.Cmd
	if native {
		needNative(t)
		cmd = exec.Command(progs+prog, args...)
	} else {
		cmd = emuCommand(t, nil, append([]string{"run", progs + prog}, args...)...)
	}
	// A process group of its own, whose parent (this test) is in another group of the same
	// session: not an orphaned group, in which Linux discards SIGTSTP (and so would not stop
	// the native program) however the tests were started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &proc{t: t, cmd: cmd, lines: make(chan string, 64)}
	var err error
	p.stdin, err = cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = &p.errb
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	return p
}

// expect waits for the next line and requires it to be want.
func (p *proc) expect(want string) {
	p.t.Helper()
	select {
	case l, ok := <-p.lines:
		require.True(p.t, ok, "output ended waiting for %q (stderr %s)", want, p.errb.String())
		p.out = append(p.out, l)
		require.Equal(p.t, want, l)
	case <-time.After(20 * time.Second):
		p.t.Fatalf("no %q after 20s (so far %q, stderr %s)", want, p.out, p.errb.String())
	}
}

func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(sig))
}

// end waits for the process and returns the rest of its output and how it ended: "exit N"
// or "signal NAME".
func (p *proc) end() (rest []string, how string) {
	p.t.Helper()
	for l := range p.lines {
		rest = append(rest, l)
	}
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("still running after 20s (stderr %s)", p.errb.String())
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return rest, "exit 0"
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			return rest, "signal " + ws.Signal().String()
		}
		return rest, "exit " + strings.TrimPrefix(ee.Error(), "exit status ")
	}
	p.t.Fatalf("wait: %v", err)
	return nil, ""
}

// hostsigFile holds the native sessions of bothWays, recorded on the reference host by
// test name (VMEMU_NATIVE=update go test ./cmd/emu -run TestHost rewrites it): a host that
// cannot run the x86-64 test programs compares the emulated session with them.
const hostsigFile = "testdata/native_hostsig.json"

// recordedSession is what a native session printed and how it ended.
type recordedSession struct {
	Lines []string `json:"lines"`
	End   string   `json:"end"`
}

// bothWays runs script against the program natively and under emu and requires the same
// output lines and the same end.
func bothWays(t *testing.T, script func(p *proc), prog string, args ...string) {
	t.Helper()
	var outs [2][]string
	var hows [2]string
	for i, native := range []bool{true, false} {
		if native && !liveNative() {
			var r recordedSession
			loadNative(t, hostsigFile, t.Name(), &r)
			outs[i], hows[i] = r.Lines, r.End
			continue
		}
		p := startProc(t, native, prog, args...)
		script(p)
		rest, how := p.end()
		outs[i], hows[i] = append(p.out, rest...), how
		if native {
			saveNative(t, hostsigFile, t.Name(), recordedSession{Lines: outs[i], End: how})
		} else {
			assert.Empty(t, testcheck.WithoutRunnerLines(p.errb.String()), "emu's stderr")
		}
	}
	assert.Equal(t, outs[0], outs[1], "output: native, then emulated")
	assert.Equal(t, hows[0], hows[1], "end: native, then emulated")
}

// Handlers run for every forwarded signal; a read interrupted by a signal whose handler
// has no SA_RESTART ends with EINTR, the others restart.
func TestHostSignalsReachHandlers(t *testing.T) {
	bothWays(t, func(p *proc) {
		p.expect("ready")
		for _, s := range []struct {
			sig  syscall.Signal
			name string
		}{{syscall.SIGUSR1, "USR1"}, {syscall.SIGINT, "INT"}, {syscall.SIGTERM, "TERM"}, {syscall.SIGHUP, "HUP"},
			{syscall.SIGQUIT, "QUIT"}, {syscall.SIGWINCH, "WINCH"}, {syscall.SIGTSTP, "TSTP"}, {syscall.SIGCONT, "CONT"}} {
			p.signal(s.sig)
			p.expect("got SIG" + s.name)
		}
		// The read must have started again after the last handler for SIGUSR2 to interrupt
		// it (a signal between two reads finds none to end): give it the time.
		time.Sleep(100 * time.Millisecond)
		p.signal(syscall.SIGUSR2)
		p.expect("got SIGUSR2")
		p.expect("read: EINTR")
		_, err := io.WriteString(p.stdin, "after the signals\n")
		require.NoError(t, err)
		p.expect("read: after the signals")
		require.NoError(t, p.stdin.Close())
	}, "musl_hard_hostsig", "handle")
}

// A signal's default action ends the program blocked in a read of its standard input, or
// waiting in pause(); emu dies of the same signal. SIGWINCH is ignored by default.
func TestHostSignalsDefaultActions(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1} {
		for _, mode := range []string{"read", "pause"} {
			t.Run(mode+" "+sig.String(), func(t *testing.T) {
				bothWays(t, func(p *proc) {
					p.expect("ready")
					if mode == "pause" {
						p.signal(syscall.SIGWINCH) // ignored: pause goes on
					}
					p.signal(sig)
				}, "musl_hard_hostsig", mode)
			})
		}
	}
}

// A guest that ignores SIGINT keeps running after Ctrl-C, as natively; a second Ctrl-C
// ends emu (exit by SIGINT) with what the guest stored in a shared mapping on the host.
func TestSecondSignalEndsEmuAndKeepsData(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shared")
	p := startProc(t, false, "musl_hard_hostsig", "ignore", file)
	p.expect("ready")
	p.signal(syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	require.Nil(t, p.cmd.ProcessState, "emu must not end at the first SIGINT the guest ignores")
	p.signal(syscall.SIGINT)
	_, how := p.end()
	assert.Equal(t, "signal interrupt", how)
	assert.Contains(t, p.errb.String(), "emu: stopped by SIGINT")
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, "stored before the signal", strings.TrimRight(string(b), "\x00"))
}

// state returns the process's state letter from /proc (T: stopped).
func (p *proc) state() string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return "?"
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// Ctrl-Z (SIGTSTP) stops a program that takes the default action, and SIGCONT continues
// it: emu stops (the whole machine) and continues as the native process does.
func TestHostJobControlStopsAndContinues(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		testcheck.Skip(t, "no /proc to see a stopped process in")
	}
	bothWays(t, func(p *proc) {
		p.expect("ready")
		p.signal(syscall.SIGTSTP)
		deadline := time.Now().Add(10 * time.Second)
		for p.state() != "T" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		require.Equal(p.t, "T", p.state(), "stopped by SIGTSTP")
		p.signal(syscall.SIGCONT)
		for p.state() == "T" && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		require.NotEqual(p.t, "T", p.state(), "continued by SIGCONT")
		require.NoError(p.t, p.stdin.Close())
		p.expect("stdin closed")
	}, "musl_hard_hostsig", "read")
}

// needNative skips (fails, under CI=true) a test that must run a test program natively,
// on a host that cannot (found by trying: an x86-64 Linux host can, and so can an arm64
// test binary under qemu-user on one); these tests send signals to a live process or kill
// it at a moment of their choosing, which no recording can replay.
func needNative(t *testing.T) {
	t.Helper()
	if !testcheck.CanExec(progs + "hello") {
		testcheck.Skip(t, "this host cannot run the x86-64 Linux test programs natively to compare with")
	}
}
