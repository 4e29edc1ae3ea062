package minikernel

import "slices"

// Sleeping in a system call, and waking up: the kernel's one mechanism for every blocking
// call (wait4, pause, rt_sigsuspend, rt_sigtimedwait, nanosleep, pipe reads and writes,
// poll). It is Linux's wait_event_interruptible() loop turned inside out, since this kernel
// runs a system call to completion or not at all:
//
//	for (;;) {                                  // a call that must wait puts p on the
//		prepare_to_wait_event(wq, ...);     //   wait queues it needs (q.add(p)), then
//		if (condition) break;               //   returns k.block(p, &sleepCall{...});
//		if (signal_pending(current))        //   retry() re-checks the condition when p
//			return -ERESTARTSYS;        //   runs again (re-adding p to its queues if
//		schedule();                         //   it must wait on); a pending unblocked
//	}                                           //   signal then ends the sleep: intr()
//
// The hook for a blocking system call, then, is block(). The call checks its condition
// first; if it must wait it puts p on its wait queues and returns k.block(p, s): that is
// sysBlocks (p sleeps), or, when a signal p does not block is already pending, the
// interrupted result at once. Whoever makes the condition true calls k.wakeAll(q). A
// signal p does not block wakes it (signalWake); the deadline, when there is one, too.
// When p runs again, retry() runs first: it returns the call's result, or sysBlocks to
// sleep on. If it says sysBlocks and a signal is pending, the call ends with its
// interrupted result (interruptedResult): intr() when given (a pipe write that moved
// bytes returns their count), and -EINTR becomes the restart code Linux uses:
// -ERESTARTSYS for a call SA_RESTART may restart (restartable: read, write, wait4), else
// -ERESTARTNOHAND (poll, select). The return to user mode (sigdeliver.go) turns the
// restart codes into EINTR or a restart: ERESTARTSYS restarts after a handler with
// SA_RESTART and is EINTR after one without; ERESTARTNOHAND (pause, sigsuspend, poll) is
// EINTR after any handler; ERESTART_RESTARTBLOCK (nanosleep) is EINTR after a handler and
// otherwise continues through restart_syscall; when no handler runs, all of them restart.

// Restart codes (include/linux/errno.h): results a system call may return when a signal
// interrupts it. They never reach user mode: exitToUser turns them into a restart or
// EINTR.
const (
	errRestartSys    = -512 // ERESTARTSYS: restart after a handler with SA_RESTART
	errRestartNoIntr = -513 // ERESTARTNOINTR: always restart
	errRestartNoHand = -514 // ERESTARTNOHAND: restart only if no handler runs
	errRestartBlock  = -516 // ERESTART_RESTARTBLOCK: continue through restart_syscall
)

// waitQueue is the set of threads asleep until something happens to an object (a child
// exits, a pipe gets data or room). Linux's wait_queue_head_t.
type waitQueue struct {
	ts []*Thread
	// watchers are told of every wakeup, whether a thread sleeps or not: the epoll items
	// watching the object (epoll.go; Linux's ep_poll_callback on the wait queue).
	watchers []queueWatcher
}

// add puts t on the queue (once).
func (q *waitQueue) add(t *Thread) {
	if !slices.Contains(q.ts, t) {
		q.ts = append(q.ts, t)
	}
}

// wakeAll makes every thread on q runnable and empties q (Linux's
// wake_up_interruptible_all()). A thread woken for nothing runs its call again, finds it
// must still wait, and goes back on the queue.
func (k *Kernel) wakeAll(q *waitQueue) {
	for _, t := range q.ts {
		k.wake(t)
	}
	q.ts = q.ts[:0]
	for i := len(q.watchers) - 1; i >= 0; i-- {
		q.watchers[i].woken(k) // newest first, as add_wait_queue() puts them at the head
	}
}

// wake makes a thread asleep in a system call runnable; it runs the call again when it is
// scheduled, on a CPU whose clock has reached the moment of the wakeup.
func (k *Kernel) wake(t *Thread) {
	if t != nil && t.state == procBlocked {
		t.state = procRunnable
		t.readyAt = k.nowNS()
	}
}

// sleepCall is a system call asleep: how it waits, and which call it is.
type sleepCall struct {
	// The call itself, filled in by the system-call dispatcher.
	sysno uint64
	name  string
	args  [6]uint64
	// retry re-checks the condition when the process runs again: the call's result, or
	// sysBlocks to sleep on (having put the process on its wait queues again). nil: the
	// condition never holds (pause, rt_sigsuspend), only a signal ends the sleep.
	retry func() int64
	// deadline, when not zero, is the virtual-clock time (nowNS) at which the process is
	// woken; retry must then return a result.
	deadline uint64
	// intr gives the call's result when a signal interrupts it; nil means -EINTR. A
	// result of -EINTR becomes a restart code (see interruptedResult).
	intr func() int64
	// restartable says SA_RESTART may restart the call (read, write, wait4): its -EINTR
	// becomes -ERESTARTSYS; otherwise -ERESTARTNOHAND (poll, select), unless intr gives
	// its own result.
	restartable bool
	// noSignals makes the sleep deaf to signals (TASK_KILLABLE: only a fatal signal, which
	// ends the process at once, cuts it short): vfork's wait for its child.
	noSignals bool
	// hostFD and hostEvents, when hostEvents is not zero, say the call waits for a host
	// descriptor to be ready (POLLIN, POLLOUT): the scheduler polls it (hostio.go).
	// fifoOpen says it waits for a FIFO's other end to be opened, which no poll shows:
	// the scheduler retries it every little while.
	hostFD     int32
	hostEvents int16
	fifoOpen   bool
	// fault, when set, makes this the sleep of a page fault handed to a userfaultfd, not of
	// a system call (userfaultfd.go): retry says 0 once the page was resolved; the thread
	// then (or when a signal comes) returns to the faulting instruction, which runs again,
	// and fault.end runs. A fault the kernel took for a system call restarts that call
	// (fault.restart: its number, or -1).
	fault *uffdWaiter
}

// interruptedResult is what the call returns when a signal ends its sleep.
func (s *sleepCall) interruptedResult() int64 {
	if s.intr == nil {
		if s.restartable {
			return errRestartSys
		}
		return errRestartNoHand
	}
	r := s.intr()
	if r == -int64(EINTR) && s.restartable {
		return errRestartSys
	}
	return r
}

// block puts the calling thread (one of p's, running on this CPU), which is in a system
// call, to sleep as s describes, and returns sysBlocks for the call to return; the
// dispatcher completes s with the call's number, name and arguments. When a signal the
// thread does not block is pending already, it returns the interrupted result instead, at
// once (prepare_to_wait_event()'s signal check).
//
// Preconditions: the calling thread is in a system call that checked its condition and put
// the thread on the wait queues it sleeps on.
func (k *Kernel) block(p *Process, s *sleepCall) int64 {
	t := k.cur
	if !s.noSignals && t.signalPending() {
		return s.interruptedResult()
	}
	t.sleep = s
	t.state = procBlocked
	p.acct.voluntary++ // a voluntary context switch (rusage.go)
	if s.deadline != 0 {
		k.noteEvent(s.deadline)
	}
	return sysBlocks
}

// signalWake wakes t if it sleeps in a system call, because a signal it does not block
// arrived (Linux's signal_wake_up()).
func (k *Kernel) signalWake(t *Thread) {
	if t.sleep != nil && !t.sleep.noSignals {
		k.wake(t)
	}
}

// resumeSleep runs when the scheduler picks t, woken from a sleep: the call's condition is
// checked again; the call finishes with its result, or with its interrupted result when a
// signal is pending, or t goes back to sleep. It reports whether the call finished (its
// result is then in RAX).
func (k *Kernel) resumeSleep(t *Thread) bool {
	s := t.sleep
	if s.fault != nil {
		return k.resumeFault(t, s)
	}
	ret := int64(sysBlocks)
	if s.retry != nil {
		ret = s.retry()
	}
	if t.exited {
		return true // the retry ended the thread (SIGPIPE, out of memory)
	}
	if ret == sysBlocks {
		if s.noSignals || !t.signalPending() {
			if s.deadline != 0 && k.nowNS() >= s.deadline {
				s.deadline = 0 // a retry that ignores its deadline must not be woken for ever
			}
			t.state = procBlocked
			if s.deadline != 0 {
				k.noteEvent(s.deadline)
			}
			return false
		}
		ret = s.interruptedResult()
	}
	t.sleep = nil
	k.finishSyscall(t, s.sysno, s.name, &s.args, ret)
	return true
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

// wakeTimers fires the ITIMER_REAL timers that have expired (SIGALRM) and wakes the
// sleepers whose deadline has come, then finds the next such event.
func (k *Kernel) wakeTimers() {
	now := k.nowNS()
	k.fireKTimers(now) // timerfd, POSIX timers (ktimer.go)
	for _, p := range slices.Clone(k.live) {
		if p.exited {
			continue
		}
		if t := &p.sig.timers[itimerReal]; t.expires != 0 && t.expires <= now {
			t.last, t.expires = t.expires, 0 // re-armed when its SIGALRM is dequeued
			k.generate(p, newSigInfo(SIGALRM, siKernel), false)
		}
	}
	for _, t := range slices.Clone(k.runq) {
		if s := t.sleep; s != nil && t.state == procBlocked && s.deadline != 0 && s.deadline <= now {
			k.wake(t)
			t.readyAt = s.deadline
		}
	}
	k.nextEvent = 0
	k.noteKTimers()
	for _, p := range k.live {
		if t := p.sig.timers[itimerReal]; t.expires != 0 {
			k.noteEvent(t.expires)
		}
	}
	for _, t := range k.runq {
		if s := t.sleep; s != nil && t.state == procBlocked && s.deadline != 0 {
			k.noteEvent(s.deadline)
		}
	}
}

// advanceToTimer is what the scheduler does when no process can run: the virtual clock
// jumps to the next timer or sleeper's deadline (nothing else could happen before it), as
// an idle CPU waits for its timer interrupt. It reports false when nothing is due, ever:
// a deadlock.
func (k *Kernel) advanceToTimer() bool {
	if k.idleHostWait() {
		return true // a host descriptor a thread waits for is ready (special.go)
	}
	if k.nextEvent == 0 {
		k.wakeTimers() // nextEvent may be stale-early or missing; recompute before giving up
		if k.nextEvent == 0 {
			return false
		}
	}
	if now := k.nowNS(); k.nextEvent > now {
		k.clockNS += k.nextEvent - now
	}
	k.wakeTimers()
	return true
}
