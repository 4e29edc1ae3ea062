package minikernel

import "slices"

// Sleeping in a system call: wait4 until a child exits, read until a pipe has data, write
// until it has room, poll until a descriptor is ready, nanosleep until the virtual clock
// reaches a time. Linux puts the task on wait queues (include/linux/wait.h) and
// schedule()s; here the call leaves a sleepCall on the process and answers sysBlocks, the
// scheduler skips the process until something wakes it, and the call is then run again
// (retry) in the process's context, so a retried call sees the world as it is then.
//
// Signals: a sleep is interruptible. interruptSleep ends it; the call then returns what it
// returns when a signal interrupts it (-EINTR, or the bytes a pipe transfer had already
// moved, with nanosleep writing the time left). Signal delivery (signal.go) decides when
// to call it and whether SA_RESTART restarts the call (restartable).

// sleepCall is a system call asleep in a process.
type sleepCall struct {
	sysno uint64
	name  string
	args  [6]uint64
	// retry runs the call again and returns its result, or sysBlocks to sleep on (having
	// put the process on the wait queues it needs again).
	retry func() int64
	// deadline, when not zero, is the virtual time (nowNS) at which the call wakes by
	// itself; retry then sees the time has come.
	deadline uint64
	// intr is what the call returns when a signal interrupts it; nil means -EINTR.
	intr func() int64
	// restartable says SA_RESTART may restart the call (read, write, wait4, ...) rather
	// than return EINTR; poll, select and nanosleep never restart (signal(7)).
	restartable bool
	interrupted bool
}

// block puts p to sleep in the system call it is running: s runs again when p is woken.
// It returns sysBlocks for the call to return; the dispatcher completes s with the call's
// number, name and arguments. The caller has put p on the wait queues it sleeps on.
func (k *Kernel) block(p *Process, s *sleepCall) int64 {
	p.sleep = s
	p.state = procBlocked
	return sysBlocks
}

// resumeSleep runs the call p sleeps in again, now that p was woken and is current. It
// reports false when the call sleeps on; else the call is finished and its result is in
// RAX.
func (k *Kernel) resumeSleep(p *Process) bool {
	s := p.sleep
	var ret int64
	switch {
	case s.interrupted && s.intr != nil:
		ret = s.intr()
	case s.interrupted:
		ret = -int64(EINTR)
	default:
		ret = s.retry()
	}
	if p.exited {
		return true // the retry ended the process (SIGPIPE, out of memory)
	}
	if ret == sysBlocks && !s.interrupted {
		p.state = procBlocked
		return false
	}
	p.sleep = nil
	k.finishSyscall(p, s.sysno, s.name, &s.args, ret)
	return true
}

// interruptSleep ends p's sleep in a system call because a signal is to be handled: p
// becomes runnable, and when it next runs, the call returns what it returns when
// interrupted (-EINTR, a partial count, ...) instead of sleeping on. It returns the call
// (nil when p was not asleep in one), so that the caller can see whether SA_RESTART may
// restart it (s.restartable) and with which number and arguments. Linux's
// signal_wake_up() waking a TASK_INTERRUPTIBLE sleeper.
func (k *Kernel) interruptSleep(p *Process) *sleepCall {
	s := p.sleep
	if s == nil || p.exited {
		return nil
	}
	s.interrupted = true
	k.wake(p)
	return s
}

// waitQueue is the set of processes asleep until something happens to an object (a pipe
// gets data or room, loses its last reader or writer). Linux's wait_queue_head_t.
type waitQueue struct {
	ps []*Process
}

// add puts p on the queue (once).
func (q *waitQueue) add(p *Process) {
	if !slices.Contains(q.ps, p) {
		q.ps = append(q.ps, p)
	}
}

// wakeAll makes every process on q runnable and empties q. A process woken for nothing
// runs its call again, finds it must still wait, and goes back on the queue.
func (k *Kernel) wakeAll(q *waitQueue) {
	for _, p := range q.ps {
		k.wake(p)
	}
	q.ps = q.ps[:0]
}

// wakeTimers wakes every sleeper whose deadline the virtual clock has reached.
func (k *Kernel) wakeTimers() {
	now := k.nowNS()
	for _, p := range k.live {
		if p.state == procBlocked && p.sleep != nil && p.sleep.deadline != 0 && p.sleep.deadline <= now {
			k.wake(p)
		}
	}
}

// advanceToTimer is what the scheduler does when no process can run: when some sleeper
// has a deadline, the virtual clock jumps to the earliest one (nothing else could happen
// before it) and that sleeper wakes. It reports whether it woke one.
func (k *Kernel) advanceToTimer() bool {
	var next uint64
	for _, p := range k.live {
		if p.state == procBlocked && p.sleep != nil && p.sleep.deadline != 0 &&
			(next == 0 || p.sleep.deadline < next) {
			next = p.sleep.deadline
		}
	}
	if next == 0 {
		return false
	}
	if now := k.nowNS(); next > now {
		k.clockNS += next - now
	}
	k.wakeTimers()
	return true
}
