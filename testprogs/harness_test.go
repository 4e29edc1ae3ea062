// Package testprogs holds the guest programs (sources in src/, committed binaries in bin/)
// and the tests that run each one natively on the host and on the emulator and compare
// what they print and how they exit. This file is the shared harness; each family of
// programs has a test file of its own.
package testprogs

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/minikernel"
)

// env is the environment both runs get, so programs that look at it see the same thing.
var env = []string{"PATH=/usr/bin:/bin", "HOME=/tmp", "LANG=C", "TZ=UTC"}

// result is what a run of a program produced.
type result struct {
	Stdout string
	Stderr string // the guest's stderr (the emulator's own messages are in Log)
	Log    string // emulated runs: the kernel's messages ("killed by SIGSEGV ...")
	Code   int    // exit code as a shell reports it: status, or 128 + signal
	Kernel *minikernel.Kernel
	Stats  minikernel.Stats
}

// binDir is where the test programs are: bin/, or the directory VMEMU_TESTPROGS_BIN names
// (.ci/check-testprogs runs the tests on programs it rebuilt).
func binDir() string {
	if d := os.Getenv("VMEMU_TESTPROGS_BIN"); d != "" {
		return d
	}
	return "bin"
}

// binPath returns the path of a committed test binary, skipping the test if it is absent.
func binPath(t *testing.T, prog string) string {
	t.Helper()
	p := filepath.Join(binDir(), prog)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test program %s is missing (rebuild with make -C testprogs): %v", p, err)
	}
	return p
}

// runNative runs prog on the host CPU and kernel, or gives its recorded native result
// where the host cannot run it or should not be the oracle (native_test.go).
func runNative(t *testing.T, prog string, stdin string, args ...string) result {
	t.Helper()
	if useRecording(prog) {
		return recordedNative(t, prog, stdin, args)
	}
	r := runHost(t, prog, stdin, args...)
	if os.Getenv("VMEMU_NATIVE") == "update" {
		record(t, prog, stdin, args, r)
	}
	return r
}

// nativeAgain returns want, or, when want came from a live native run that differs from the
// emulated run got, the first of up to three more native runs that agrees with got (else
// the last). The emulator's clock is virtual and its output the same on every run; a native
// run is not: on a loaded host a program that times its own sleeps (sig_eintr prints "after
// 9 tenths of a second") can measure 10 or 11. Every comparison stays exact, with a real
// native run; what this forgives is only a host too busy to keep time on one try.
func nativeAgain(t *testing.T, prog, stdin string, args []string, want, got result) result {
	t.Helper()
	same := func(r result) bool { return r.Stdout == got.Stdout && r.Stderr == got.Stderr && r.Code == got.Code }
	if same(want) || useRecording(prog) || os.Getenv("VMEMU_NATIVE") == "update" {
		return want
	}
	for try := 2; try <= 4; try++ {
		want = runHost(t, prog, stdin, args...)
		if same(want) {
			t.Logf("%s: native run %d agrees with the emulated one (an earlier native run differed: host load?)", prog, try)
			break
		}
	}
	return want
}

// runHost runs prog natively.
func runHost(t *testing.T, prog string, stdin string, args ...string) result {
	t.Helper()
	if !canRunNative() {
		testcheck.Skip(t, "this host cannot run x86-64 Linux programs natively: %s not compared", prog)
	}
	cmd := exec.Command(binPath(t, prog), args...)
	cmd.Args[0] = prog
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		ws := ee.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.Code = 128 + int(ws.Signal())
		} else {
			r.Code = ws.ExitStatus()
		}
	case err != nil:
		t.Fatalf("running %s natively: %v", prog, err)
	}
	return r
}

// emuConfig adjusts the machine for one emulated run.
type emuConfig func(*minikernel.Config)

// runEmu runs prog on the emulator (256 MiB of RAM unless a config says otherwise).
func runEmu(t *testing.T, prog string, stdin string, args []string, cfgs ...emuConfig) result {
	t.Helper()
	return runEmuObserved(t, prog, stdin, args, nil, cfgs...)
}

// keepEvents is an observer that appends every event of kind to *to.
func keepEvents(kind minikernel.EventKind, to *[]minikernel.Event) minikernel.Observer {
	return func(e *minikernel.Event) {
		if e.Kind == kind {
			*to = append(*to, *e)
		}
	}
}

// runEmuObserved is runEmu with obs (unless nil) subscribed to the kernel's events from
// before the program starts.
func runEmuObserved(t *testing.T, prog string, stdin string, args []string, obs minikernel.Observer,
	cfgs ...emuConfig) result {
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
	if obs != nil {
		k.Subscribe(obs)
	}
	_, err = k.Spawn(binPath(t, prog), append([]string{prog}, args...), env)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err, "emulating %s; kernel log: %s", prog, log.String())
	return result{Stdout: out.String(), Stderr: errb.String(), Log: log.String(), Code: code,
		Kernel: k, Stats: stats.Snapshot()}
}

// sameAsNative runs prog both ways with args and stdin and requires identical standard
// output, standard error and exit code. It returns the emulated run for further checks.
func sameAsNative(t *testing.T, prog, stdin string, args ...string) result {
	t.Helper()
	want := runNative(t, prog, stdin, args...)
	got := runEmu(t, prog, stdin, args)
	want = nativeAgain(t, prog, stdin, args, want, got)
	assert.Equal(t, want.Stdout, got.Stdout, "%s: standard output differs", prog)
	assert.Equal(t, want.Stderr, got.Stderr, "%s: standard error differs", prog)
	assert.Equal(t, want.Code, got.Code, "%s: exit code differs; emulator log: %s", prog, got.Log)
	return got
}

// casesLine is the last line an instruction-case program prints: "cases: N".
var casesLine = regexp.MustCompile(`(?m)^cases: (\d+)\n?\z`)

// sameCases runs the instruction-case program prog natively and emulated with args, as
// sameAsNative does, requires its output to end with its "cases: N" line (so a program that
// died part way, the same way both times, does not pass) and N > 0, and returns N with the
// emulated run.
func sameCases(t *testing.T, prog string, args ...string) (int, result) {
	t.Helper()
	r := sameAsNative(t, prog, "", args...)
	m := casesLine.FindStringSubmatch(r.Stdout)
	require.NotNil(t, m, "%s must end with its cases line; emulator log: %s", prog, r.Log)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.Greater(t, n, 0, "%s ran no cases", prog)
	return n, r
}

// TestFreestandingBasics: the programs of the first milestone behave as on Linux.
func TestFreestandingBasics(t *testing.T) {
	sameAsNative(t, "hello", "")
	sameAsNative(t, "bss_sum", "", "x", "y")
	r := sameAsNative(t, "touch_unowned", "")
	assert.Equal(t, 139, r.Code)
	assert.Contains(t, r.Log, "0xdead0000")
}
