package minikernel

import "slices"

// Sleeping in a system call, and waking up: the kernel's one mechanism for every blocking
// call (wait4, pause, rt_sigsuspend, rt_sigtimedwait, nanosleep, pipe reads and writes).
// It is Linux's wait_event_interruptible() loop turned inside out, since this kernel runs
// a system call to completion or not at all:
//
//	for (;;) {                                  // a system call that must wait returns
//		prepare_to_wait_event(wq, ...);     //   k.sleepOn(p, sleeper{wq, retry, deadline, intr})
//		if (condition) break;               // retry() re-checks the condition when p runs again
//		if (signal_pending(current))        // a pending unblocked signal ends the sleep:
//			return -ERESTARTSYS;        //   intr() gives the call's result
//		schedule();                         // p.state = procBlocked until wakeAll(wq),
//	}                                           //   a signal (signalWake) or the deadline
//
// The hook for a blocking system call, then, is sleepOn. The call checks its condition
// first; if it must wait it returns k.sleepOn(p, sleeper{...}): sleepOn returns sysBlocks
// (or, when a signal is already pending, the interrupted result at once). Whoever makes
// the condition true calls k.wakeAll(wq). When p runs again, retry() runs: it returns the
// call's result, or sysBlocks to go on sleeping. When a signal p does not block arrives,
// p wakes; if retry() still says sysBlocks, intr() gives the result, by default
// -ERESTARTSYS. The return to user mode (sigdeliver.go) turns the restart codes into what
// Linux gives: ERESTARTSYS restarts the call after a handler with SA_RESTART and is EINTR
// after one without; ERESTARTNOHAND (pause, sigsuspend) is EINTR after any handler;
// ERESTART_RESTARTBLOCK (nanosleep) is EINTR after a handler and otherwise continues
// through restart_syscall; when no handler runs, all of them restart. A call that has
// already done part of its work (a pipe write that copied some bytes) returns that count
// from intr() instead, as Linux's pipe_write() does.

// Restart codes (include/linux/errno.h): results a system call may return when a signal
// interrupts it. They never reach user mode: exitToUser turns them into a restart or
// EINTR.
const (
	errRestartSys    = -512 // ERESTARTSYS: restart after a handler with SA_RESTART
	errRestartNoIntr = -513 // ERESTARTNOINTR: always restart
	errRestartNoHand = -514 // ERESTARTNOHAND: restart only if no handler runs
	errRestartBlock  = -516 // ERESTART_RESTARTBLOCK: continue through restart_syscall
)

// waitQueue is a list of processes asleep until something happens. Linux's
// wait_queue_head_t.
type waitQueue struct {
	waiters []*Process
}

func (q *waitQueue) add(p *Process) {
	if q != nil {
		q.waiters = append(q.waiters, p)
	}
}

func (q *waitQueue) remove(p *Process) {
	if q == nil {
		return
	}
	if i := slices.Index(q.waiters, p); i >= 0 {
		q.waiters = slices.Delete(q.waiters, i, i+1)
	}
}

// sleeper is a system call asleep: how it waits, and which call it is.
type sleeper struct {
	wq *waitQueue // where wakeAll finds it; nil: only a signal or the deadline wakes it
	// retry re-checks the condition when the process runs again: the call's result, or
	// sysBlocks to sleep on. nil: the condition never holds (pause, rt_sigsuspend).
	retry func() int64
	// deadline, when not zero, is the virtual-clock time (nowNS) at which the process is
	// woken; retry must then return a result.
	deadline uint64
	// intr gives the call's result when a signal interrupts it (nil: -ERESTARTSYS).
	intr func() int64

	// The call itself, filled in by the system-call dispatcher.
	nr   uint64
	name string
	args [6]uint64
}

func (s *sleeper) interrupted() int64 {
	if s.intr == nil {
		return errRestartSys
	}
	return s.intr()
}

// sleepOn puts p, which is in a system call, to sleep as s describes, and returns
// sysBlocks for the call to return; or, when a signal p does not block is pending already,
// it returns the interrupted result at once (Linux's prepare_to_wait_event() check).
//
// Preconditions: p is the current process, in a system call that checked its condition.
func (k *Kernel) sleepOn(p *Process, s sleeper) int64 {
	if k.signalPending(p) {
		return s.interrupted()
	}
	k.block(p, &s)
	return sysBlocks
}

// block records s as p's sleep and takes p off the run queue.
func (k *Kernel) block(p *Process, s *sleeper) {
	p.sleep = s
	p.state = procBlocked
	s.wq.add(p)
	if s.deadline != 0 {
		k.noteEvent(s.deadline)
	}
}

// wakeAll makes every process asleep on q runnable; each re-checks its condition when it
// runs (Linux's wake_up_interruptible_all()). A process stays on the queue until it runs.
func (k *Kernel) wakeAll(q *waitQueue) {
	for _, p := range q.waiters {
		if p.state == procBlocked {
			p.state = procRunnable
		}
	}
}

// signalWake wakes p if it sleeps in a system call, because a signal it does not block
// arrived (Linux's signal_wake_up()).
func (k *Kernel) signalWake(p *Process) {
	if p.state == procBlocked && p.sleep != nil {
		p.state = procRunnable
	}
}

// cancelSleep forgets p's sleep (p is exiting).
func (k *Kernel) cancelSleep(p *Process) {
	if s := p.sleep; s != nil {
		s.wq.remove(p)
		p.sleep = nil
	}
}

// resumeSleeper runs when the scheduler picks p, woken from a sleep: the call's condition
// is checked again; it finishes with its result, or with the interrupted result when a
// signal is pending, or p goes back to sleep.
func (k *Kernel) resumeSleeper(p *Process) {
	s := p.sleep
	s.wq.remove(p)
	p.sleep = nil
	ret := int64(sysBlocks)
	if s.retry != nil {
		ret = s.retry()
	}
	if ret == sysBlocks {
		if !k.signalPending(p) {
			if s.deadline != 0 && k.nowNS() >= s.deadline {
				s.deadline = 0 // a retry that ignores its deadline must not wake for ever
			}
			k.block(p, s)
			return
		}
		ret = s.interrupted()
	}
	k.finishSyscall(p, s.nr, s.name, &s.args, ret)
}

// noteEvent records that something happens at virtual time t (a sleeper's deadline, an
// interval timer): the CPU stops there, and an idle machine's clock jumps to it.
func (k *Kernel) noteEvent(t uint64) {
	if k.nextEvent == 0 || t < k.nextEvent {
		k.nextEvent = t
	}
}

// eventDue reports whether a timer or a sleeper's deadline has come.
func (k *Kernel) eventDue() bool { return k.nextEvent != 0 && k.nowNS() >= k.nextEvent }

// runTimers fires the ITIMER_REAL timers that have expired (SIGALRM) and wakes the
// sleepers whose deadline has come, then finds the next such event.
func (k *Kernel) runTimers() {
	now := k.nowNS()
	for _, p := range slices.Clone(k.live) {
		if p.exited {
			continue
		}
		if t := &p.sig.timers[itimerReal]; t.expires != 0 && t.expires <= now {
			t.last, t.expires = t.expires, 0 // re-armed when its SIGALRM is dequeued
			k.generate(p, newSigInfo(SIGALRM, siKernel), false)
		}
		if s := p.sleep; s != nil && p.state == procBlocked && s.deadline != 0 && s.deadline <= now {
			p.state = procRunnable
		}
	}
	k.nextEvent = 0
	for _, p := range k.live {
		if t := p.sig.timers[itimerReal]; t.expires != 0 {
			k.noteEvent(t.expires)
		}
		if s := p.sleep; s != nil && p.state == procBlocked && s.deadline != 0 {
			k.noteEvent(s.deadline)
		}
	}
}

// idle advances the virtual clock to the next timer or deadline when every process is
// asleep, as an idle CPU waits for its timer interrupt. It reports false when nothing is
// due ever: a deadlock.
func (k *Kernel) idle() bool {
	if k.nextEvent == 0 {
		k.runTimers() // nextEvent may be stale-early or missing; recompute before giving up
		if k.nextEvent == 0 {
			return false
		}
	}
	if now := k.nowNS(); k.nextEvent > now {
		k.clockNS += k.nextEvent - now
	}
	k.runTimers()
	return true
}
