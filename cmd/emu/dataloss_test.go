//go:build !windows

package main

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The data-loss suite (issue 11; items 4, 5, 6): every way a run can end, by the guest's
// doing or the host's, leaves the files as the same program leaves them natively. The
// program (hard_ending) stores a pattern through a shared mapping, writes a file and
// buffers a line for another in stdio, then ends; the test compares the files it left, what it
// printed and its exit code (as a shell shows it: 128 + N for signal N).

// ending is one run of hard_ending.
type ending struct {
	dir    string
	files  map[string]string // filesLeft(dir)
	stdout string
	stderr string
	code   int
}

// endingsFile holds hard_ending's native endings recorded on the reference host (x86-64
// Linux), by test case: what a host that cannot run the x86-64 test programs (a real arm64
// or macOS machine) compares with. VMEMU_NATIVE=update go test ./cmd/emu -run TestNoDataLost
// rewrites it from live runs.
const endingsFile = "testdata/native_endings.json"

// recordedEnding is a native ending as recorded.
type recordedEnding struct {
	Files  map[string]string `json:"files"`
	Stdout string            `json:"stdout"`
	Code   int               `json:"code"`
}

// nativeEnding is hard_ending HOW's native ending for test case name: a live run where the
// host can make one (recorded too under VMEMU_NATIVE=update), else (or under
// VMEMU_NATIVE=recorded, as in testprogs) the recording.
func nativeEnding(t *testing.T, name, how string, stop func(*exec.Cmd)) ending {
	t.Helper()
	if liveNative() {
		e := runEnding(t, true, how, nil, stop)
		saveNative(t, endingsFile, name, recordedEnding{Files: e.files, Stdout: e.stdout, Code: e.code})
		return e
	}
	var r recordedEnding
	loadNative(t, endingsFile, name, &r)
	return ending{files: r.Files, stdout: r.Stdout, code: r.Code}
}

// runEnding runs hard_ending HOW natively or under emu (with emuFlags), calls stop once it
// is ready (nil: let it end by itself), and waits for it.
func runEnding(t *testing.T, native bool, how string, emuFlags []string, stop func(*exec.Cmd)) ending {
	t.Helper()
	dir := t.TempDir()
	var cmd *exec.Cmd
	if native {
		needNative(t)
		cmd = exec.Command(progs+"musl_hard_ending", how, dir)
	} else {
		cmd = emuCommand(t, nil, append(append(append([]string{"run"}, emuFlags...), progs+"musl_hard_ending"), how, dir)...)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var got []string
	select {
	case l := <-lines:
		got = append(got, l)
		require.Equal(t, "ready", l, "stderr: %s", stderr.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: not ready after 20s", how)
	}
	if stop != nil {
		stop(cmd)
	}
	for l := range lines {
		got = append(got, l)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: still running after 30s", how)
	}
	e := ending{dir: dir, files: filesLeft(t, dir), stdout: strings.Join(got, "\n"), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ws := ee.Sys().(syscall.WaitStatus)
		e.code = ws.ExitStatus()
		if ws.Signaled() {
			e.code = 128 + int(ws.Signal())
		}
	} else {
		require.NoError(t, err)
	}
	return e
}

// filesLeft describes the files hard_ending left in its directory, by name: the size, a
// hash and the first bytes of each (short enough to read in a failure).
func filesLeft(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, name := range []string{"mapped", "written", "buffered"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		m[name] = summary(b)
	}
	return m
}

func summary(b []byte) string {
	return fmt.Sprintf("%d bytes, sha256 %x, %q...", len(b), sha256.Sum256(b), b[:min(len(b), 12)])
}

// pattern is what hard_ending stores through its mapping.
func pattern() string {
	b := make([]byte, 16384)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return summary(b)
}

func signalAfterReady(sig syscall.Signal) func(*exec.Cmd) {
	return func(c *exec.Cmd) {
		time.Sleep(50 * time.Millisecond)
		_ = c.Process.Signal(sig)
	}
}

// Every way a guest ends its run, and every signal the host ends emu with, leaves the
// same files as natively: the shared mapping's pattern included, SIGKILL to emu included.
func TestNoDataLostHoweverTheRunEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		how  string
		stop func(*exec.Cmd)
	}{
		{"exit", "exit", nil},
		{"_exit", "_exit", nil},
		{"crash", "crash", nil},
		{"abort", "abort", nil},
		{"self-kill", "selfkill", nil},
		{"fork and exit", "fork", nil},
		{"SIGINT to emu", "pause", signalAfterReady(syscall.SIGINT)},
		{"SIGTERM to emu", "pause", signalAfterReady(syscall.SIGTERM)},
		{"SIGHUP to emu", "pause", signalAfterReady(syscall.SIGHUP)},
		{"SIGQUIT to emu", "pause", signalAfterReady(syscall.SIGQUIT)},
		{"SIGKILL to emu", "pause", signalAfterReady(syscall.SIGKILL)},
		{"SIGKILL to a busy emu", "loop", signalAfterReady(syscall.SIGKILL)},
		{"SIGTERM to a busy emu", "loop", signalAfterReady(syscall.SIGTERM)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := nativeEnding(t, tc.name, tc.how, tc.stop)
			got := runEnding(t, false, tc.how, nil, tc.stop)
			assert.Equal(t, want.files, got.files, "files left")
			if tc.how == "fork" {
				// The child's stores through the shared mapping are in the file too.
				b, _ := os.ReadFile(filepath.Join(got.dir, "mapped"))
				assert.Equal(t, "ABCDEFGHIJ", string(b[4096:4106]))
			} else {
				assert.Equal(t, pattern(), got.files["mapped"])
			}
			assert.Equal(t, want.stdout, got.stdout, "standard output")
			assert.Equal(t, want.code, got.code, "exit code; emu's stderr: %s", got.stderr)
		})
	}
}

// The ends only emu has: the instruction limit, a deadlock it detects, the OOM killer of
// a small machine. Natively the program would run on (or eat the host's memory); killed,
// it leaves the files these runs must leave too.
func TestNoDataLostWhenEmuEndsTheRun(t *testing.T) {
	want := nativeEnding(t, "SIGKILL to emu", "pause", signalAfterReady(syscall.SIGKILL))
	for _, tc := range []struct {
		name  string
		how   string
		flags []string
		code  int
		say   string
	}{
		{"--max-insns", "loop", []string{"--max-insns", "3000000"}, 1, "instruction limit reached"},
		{"deadlock", "deadlock", nil, 1, "deadlock"},
		{"out of memory", "oom", []string{"--ram", "24M"}, 137, "killed by SIGKILL: out of memory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runEnding(t, false, tc.how, tc.flags, nil)
			assert.Equal(t, want.files, got.files, "files left")
			assert.Equal(t, "ready", got.stdout)
			assert.Equal(t, tc.code, got.code, "stderr: %s", got.stderr)
			assert.Contains(t, got.stderr, tc.say)
		})
	}
}

// coherentRun runs hard_coherent MODE on a file of its own natively or under emu; between
// "ready" and the line on standard input that lets it go on, host(path) changes the file as
// another host process would. It returns what the program printed after "ready" and the
// file's contents at the end.
func coherentRun(t *testing.T, native bool, mode string, setup, host func(path string)) ([]string, []byte) {
	t.Helper()
	if native && !liveNative() {
		var r recordedCoherent
		loadNative(t, coherentFile, t.Name(), &r)
		return r.Lines, r.File
	}
	path := filepath.Join(t.TempDir(), "f")
	if setup != nil {
		setup(path)
	}
	p := startProc(t, native, "musl_hard_coherent", mode, path)
	for {
		select {
		case l, ok := <-p.lines:
			require.True(t, ok, "ended before ready: %s", p.errb.String())
			if l != "ready" {
				p.out = append(p.out, l)
				continue
			}
		case <-time.After(20 * time.Second):
			t.Fatal("not ready")
		}
		break
	}
	host(path)
	_, err := p.stdin.Write([]byte("go\n"))
	require.NoError(t, err)
	rest, how := p.end()
	require.Equal(t, "exit 0", how, "stderr %s", p.errb.String())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if native {
		saveNative(t, coherentFile, t.Name(), recordedCoherent{Lines: append(p.out, rest...), File: b})
	}
	return append(p.out, rest...), b
}

// coherentFile holds the native runs of hard_coherent (coherentRun, hostTruncates)
// recorded on the reference host by test name.
const coherentFile = "testdata/native_coherent.json"

// recordedCoherent is a native coherentRun.
type recordedCoherent struct {
	Lines []string `json:"lines"`
	File  []byte   `json:"file"`
}

// Item 5: no lost update. The guest stores through a shared mapping, a host process writes
// other bytes of the same page, the guest stores again and unmaps: the file keeps all three,
// as natively (a page written back whole would undo the host's write).
func TestNoLostUpdateBesideAHostWriter(t *testing.T) {
	hostWrite := func(path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("host"), 200)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	outN, fileN := coherentRun(t, true, "lostupdate", nil, hostWrite)
	outE, fileE := coherentRun(t, false, "lostupdate", nil, hostWrite)
	assert.Equal(t, outN, outE)
	assert.Equal(t, summary(fileN), summary(fileE))
	assert.Equal(t, "host", string(fileE[200:204]), "the host's write survives")
	assert.Equal(t, "guest", string(fileE[:5]))
	assert.Equal(t, "again", string(fileE[100:105]))
}

// Item 6: the guest sees the host's changes to a file it has open, as a Linux process does:
// fstat and stat give the new size, read goes on past the old end (tail -f), pread and a
// shared mapping see bytes rewritten in place.
func TestGuestSeesHostChangesToItsFiles(t *testing.T) {
	setup := func(path string) {
		require.NoError(t, os.WriteFile(path, []byte("first line\n"), 0o644))
	}
	hostChange := func(path string) {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("a line the host added\n"), 11)
		require.NoError(t, err)
		_, err = f.WriteAt([]byte("FIRST"), 0)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	outN, _ := coherentRun(t, true, "follow", setup, hostChange)
	outE, _ := coherentRun(t, false, "follow", setup, hostChange)
	assert.Equal(t, outN, outE)
	assert.Contains(t, outE, "read 22 more: a line the host added")
	assert.Contains(t, outE, "mapping at 0: FIRST line")
}

// Item 6 (its other side): a host process shrinks a file the guest maps. A system call
// that reads from the page now past the end fails with EFAULT, the page within the file
// is still there, and touching the page past the end is SIGBUS, as natively (under emu the
// page's host memory vanishes under the frame: the kernel learns the new size from that
// host fault and the access faults as Linux's would).
func TestHostTruncatingAMappedFile(t *testing.T) {
	for _, mode := range []string{"truncated", "truncated-touch"} {
		t.Run(mode, func(t *testing.T) { hostTruncates(t, mode) })
	}
}

func hostTruncates(t *testing.T, mode string) {
	ends := map[bool]string{}
	outs := map[bool][]string{}
	for _, native := range []bool{true, false} {
		if native && !liveNative() {
			var r recordedSession
			loadNative(t, coherentFile, t.Name(), &r)
			outs[native], ends[native] = r.Lines, r.End
			continue
		}
		path := filepath.Join(t.TempDir(), "f")
		p := startProc(t, native, "musl_hard_coherent", mode, path)
		p.expect("before: x x")
		p.expect("ready")
		require.NoError(t, os.Truncate(path, 100))
		_, err := p.stdin.Write([]byte("go\n"))
		require.NoError(t, err)
		rest, how := p.end()
		outs[native], ends[native] = append(p.out, rest...), how
		if native {
			saveNative(t, coherentFile, t.Name(), recordedSession{Lines: outs[native], End: how})
		}
	}
	assert.Equal(t, outs[true], outs[false])
	// Killed by SIGBUS: natively the process itself; under emu the guest, and emu exits
	// with 128 + 7 as it does for every guest killed by a fault.
	assert.Equal(t, "signal bus error", ends[true])
	assert.Equal(t, "exit 135", ends[false])
	if mode == "truncated" {
		assert.Contains(t, outs[false], "write from the page past the end: -1 Bad address")
	}
}
