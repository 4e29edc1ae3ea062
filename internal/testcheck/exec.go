package testcheck

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
)

// ExecEnv names the environment variable that says how to run a program built for the
// test binary's own architecture: the runner go test's -exec uses, such as qemu-aarch64
// when .ci/run runs the suite for linux/arm64 on an x86-64 host. Such a host may have no
// binfmt_misc registration for the foreign architecture (a container), so the test binary
// cannot exec itself, or an emu it built, directly: every test that starts such a program
// builds its command with Command (or Self), which puts the runner first.
const ExecEnv = "VMEMU_TEST_EXEC"

// Runner is the command (split at spaces) that runs programs built for this test binary's
// architecture: what ExecEnv says; else, where this host cannot exec such a program itself
// (no binfmt_misc entry for it: plain `GOARCH=arm64 go test -exec qemu-aarch64 ./...`),
// the qemu-user program for the architecture if it is installed; else nothing (they run
// directly).
func Runner() []string {
	if r := strings.Fields(os.Getenv(ExecEnv)); len(r) > 0 {
		return r
	}
	return foundRunner()
}

// Command returns a command that runs the program at path, built for this test binary's
// architecture (the test binary itself, an emu a test built), with args: through Runner
// where ExecEnv names one. Programs of another architecture (the x86-64 test programs) are
// started with exec.Command as usual.
func Command(path string, args ...string) *exec.Cmd {
	if r := Runner(); len(r) > 0 {
		return exec.Command(r[0], append(append(r[1:len(r):len(r)], path), args...)...)
	}
	return exec.Command(path, args...)
}

// Self returns a command that runs this test binary again with args (for tests that need
// the code under test as a process of its own), through Runner where ExecEnv names one.
func Self(args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return Command(exe, args...), nil
}

var (
	canExecMu sync.Mutex
	canExec   = map[string]bool{}
)

// CanExec reports whether this host can run the program at path directly, by running it
// once (its output ignored, its exit status 0 required) and remembering the answer. The
// tests use it with a tiny static x86-64 Linux test program to learn whether they can
// compare with native runs: an x86-64 Linux host can, and so can a test binary of another
// architecture under qemu-user on one (qemu hands the exec of a foreign program to the
// host kernel), while a real arm64 or macOS host cannot. Deciding by runtime.GOARCH would
// get the second case wrong.
func CanExec(path string) bool {
	canExecMu.Lock()
	defer canExecMu.Unlock()
	ok, done := canExec[path]
	if !done {
		cmd := exec.Command(path)
		cmd.Stdin = nil
		ok = cmd.Run() == nil
		canExec[path] = ok
	}
	return ok
}

// WithoutRunnerLines returns stderr of a program started through Runner without the lines
// the runner writes of its own: qemu-user reports a guest that a signal killed with a core
// dump ("qemu: uncaught target signal 3 (Quit) - core dumped") where the kernel would say
// nothing.
func WithoutRunnerLines(stderr string) string {
	if len(Runner()) == 0 {
		return stderr
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(stderr, "\n") {
		if !strings.HasPrefix(l, "qemu: uncaught target signal ") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// UnderUserEmulator reports whether this test binary runs under a user-mode emulator
// (qemu-user): the host kernel's architecture (/proc/sys/kernel/arch, Linux 5.x and
// later) is not the one the binary was built for.
func UnderUserEmulator() bool {
	b, err := os.ReadFile("/proc/sys/kernel/arch")
	if err != nil {
		return false
	}
	want := map[string]string{"amd64": "x86_64", "arm64": "aarch64", "386": "i686"}[runtime.GOARCH]
	return want != "" && strings.TrimSpace(string(b)) != want
}
