// Package testcheck is how a test says what it could not check on this host. Outside CI a
// test may skip what the host cannot do (no busybox, no pseudo-terminal, no x86-64 CPU to
// compare with), but it must say so in a line that starts "NOT CHECKED:", so `go test -v`
// (and .ci/run, which lists them) shows what went unchecked. Under CI=true nothing may be
// left unchecked: the same calls fail the test.
//
// It is used by tests only and knows nothing of the emulator.
package testcheck

import (
	"fmt"
	"os"
	"testing"

	"time"
)

// Prefix starts every line this package logs.
const Prefix = "NOT CHECKED: "

// Strict reports whether unchecked parts fail the test (CI=true).
func Strict() bool { return os.Getenv("CI") == "true" }

// Skip ends test t without checking what the message says; under CI=true it fails instead.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Fatalf("%s%s (CI=true: nothing may go unchecked)", Prefix, msg)
	}
	t.Skip(Prefix + msg)
}

// Note records that part of test t went unchecked and lets it go on; under CI=true it marks
// the test failed.
func Note(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if Strict() {
		t.Errorf("%s%s (CI=true: nothing may go unchecked)", Prefix, msg)
		return
	}
	t.Log(Prefix + msg)
}

// RunDeadline is the wall-clock limit tests put on each emulated run (so that a kernel or
// MMU bug that stops the guest progressing fails a test instead of hanging it): 60 seconds,
// or what the environment variable VMEMU_TEST_DEADLINE says (a Go duration; slow machines
// and emulated hosts need more).
func RunDeadline() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("VMEMU_TEST_DEADLINE")); err == nil && d > 0 {
		return d
	}
	return 60 * time.Second
}

// RunBudget is the instruction budget tests give each emulated run that sets none: far more
// than any test program needs (the longest retire well under a billion), so that a runaway guest
// ends with the kernel's instruction-limit error rather than at the deadline.
const RunBudget = 20_000_000_000
