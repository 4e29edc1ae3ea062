//go:build !windows

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"

	"github.com/vmemu/vmemu/minikernel"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// Some tests need emu as a process of its own: to send it signals, to kill it, to give it
// resource limits. The test binary is that process when started with EMU_TEST_AS_EMU set:
// it runs Main with its arguments, as the emu command would, and exits with its status.

const asEmuEnv = "EMU_TEST_AS_EMU"

// rlimitNotApplied is the exit status of the test binary in emu's role when it could not
// set the resource limit asked for.
const rlimitNotApplied = 99

func TestMain(m *testing.M) {
	if os.Getenv(asEmuEnv) != "" {
		for env, res := range map[string]int{"EMU_TEST_RLIMIT_AS": syscall.RLIMIT_AS, "EMU_TEST_RLIMIT_NOFILE": syscall.RLIMIT_NOFILE} {
			if n, err := strconv.ParseUint(os.Getenv(env), 10, 64); err == nil {
				_ = syscall.Setrlimit(res, &syscall.Rlimit{Cur: n, Max: n})
				var got syscall.Rlimit
				if syscall.Getrlimit(res, &got) != nil || got.Cur != n {
					// qemu-user ignores a guest's RLIMIT_AS (and cannot itself run under
					// one): the test cannot be made under such a runner.
					fmt.Fprintf(os.Stderr, "%s=%d could not be applied (got %d)\n", env, n, got.Cur)
					os.Exit(rlimitNotApplied)
				}
			}
		}
		code := Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		if f := os.Getenv("EMU_TEST_HWM_FILE"); f != "" {
			// The peak resident memory of this process (since its exec: rusage would count
			// the parent's pages a vfork child shares before it).
			b, _ := os.ReadFile("/proc/self/status")
			_ = os.WriteFile(f, b, 0o644)
		}
		exitLikeGuest(code)
	}
	minikernel.SetRunDeadline(testcheck.RunDeadline())
	minikernel.SetRunBudget(testcheck.RunBudget) // every run a test makes in this process
	os.Exit(m.Run())
}

// emuCommand returns a command that runs emu with args as a separate process (the test
// binary in emu's role, started through testcheck.Self so that the run under qemu-aarch64
// works without binfmt_misc), with extra environment variables env.
func emuCommand(t *testing.T, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmd, err := testcheck.Self(args...)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Env = append(append(os.Environ(), asEmuEnv+"=1"), env...)
	return cmd
}
