package minikernel

import (
	"fmt"
	"sync/atomic"
	"time"
)

// The run deadline and budget: a wall-clock limit and an instruction budget on every Run,
// for tests. A kernel bug that makes a
// guest spin in place (a fault handled over and over, a TLB entry never invalidated) does
// not retire instructions, so no instruction budget ends it; the deadline does, and Run
// says so, so that a broken MMU fails a test in seconds instead of hanging it. Zero (the
// default, and what emu uses) means no deadline.

var (
	runDeadline atomic.Int64
	runBudget   atomic.Uint64
)

// SetRunDeadline sets the deadline of every Run that starts from now on (0: none).
func SetRunDeadline(d time.Duration) { runDeadline.Store(int64(d)) }

// SetRunBudget sets the instruction budget of every Run that starts from now on on a kernel
// whose Config has none (0: none); past it Run ends with ErrInsnLimit.
func SetRunBudget(n uint64) { runBudget.Store(n) }

// DeadlineError is Run's error when the deadline passed.
type DeadlineError struct {
	After   time.Duration
	Retired uint64 // instructions retired by then
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("run deadline of %s passed after %d instructions (a guest or kernel that no longer progresses?)", e.After, e.Retired)
}

// armDeadline starts the deadline timer of a Run, and gives it the test budget; the
// returned function stops the timer.
func (k *Kernel) armDeadline() func() {
	if b := runBudget.Load(); b > 0 && k.cfg.MaxInsns == 0 {
		k.cfg.MaxInsns = b
	}
	d := time.Duration(runDeadline.Load())
	if d <= 0 {
		return func() {}
	}
	k.deadline.after = d
	t := time.AfterFunc(d, func() {
		k.deadline.passed.Store(true)
		k.RequestStop(deadlineStop)
	})
	return func() { t.Stop() }
}

// deadlineStop is the stop request the deadline makes (not a signal number).
const deadlineStop = 1 << 20

// deadlineState is a kernel's deadline.
type deadlineState struct {
	after  time.Duration
	passed atomic.Bool
}

// deadlineErr is Run's error when the deadline passed, else nil.
func (k *Kernel) deadlineErr() error {
	if k.deadline.passed.Load() {
		return &DeadlineError{After: k.deadline.after, Retired: k.retired}
	}
	return nil
}
