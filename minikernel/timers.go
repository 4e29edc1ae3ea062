package minikernel

// Sleeping for a time and interval timers, on the virtual clock (sys_misc.go: one retired
// instruction is one nanosecond, plus the time every process slept together). A sleeper
// wakes when the clock reaches its deadline: while other processes run, their instructions
// advance it; when all sleep, it jumps to the next deadline. Linux's kernel/time/hrtimer.c
// (hrtimer_nanosleep, do_nanosleep) and kernel/time/itimer.c.

// Interval timers (include/uapi/linux/time.h).
const (
	itimerReal    = 0 // wall-clock (here: virtual-clock) time; SIGALRM
	itimerVirtual = 1 // the process's user time; SIGVTALRM
	itimerProf    = 2 // the process's user and system time; SIGPROF
)

// itimer is one interval timer: when it next expires (0: disarmed) and its reload
// interval. ITIMER_REAL counts virtual-clock nanoseconds; the CPU timers count the
// process's instructions (its CPU time; system calls take none).
type itimer struct {
	expires, interval uint64
	last              uint64 // ITIMER_REAL: when it last expired, for the re-arm at dequeue
}

// timerSignal is the signal each timer sends.
var timerSignal = [3]int{SIGALRM, SIGVTALRM, SIGPROF}

// rearmRealTimer re-arms a periodic ITIMER_REAL when its SIGALRM is dequeued, at the first
// multiple of the interval after now (Linux's posixtimer_rearm_itimer(): hrtimer_forward).
func (k *Kernel) rearmRealTimer(p *Process) {
	t := &p.sig.timers[itimerReal]
	if t.expires != 0 || t.interval == 0 {
		return
	}
	now := k.nowNS()
	e := t.last + t.interval
	if e <= now {
		e += (now - e) / t.interval * t.interval
		if e <= now {
			e += t.interval
		}
	}
	t.expires = e
	k.noteEvent(e)
}

// cpuTimers fires p's ITIMER_VIRTUAL and ITIMER_PROF when p's CPU time has reached them.
// Linux's check_cpu_itimer(): a periodic timer moves on by one interval.
func (k *Kernel) cpuTimers(p *Process) {
	if len(k.ptimers) > 0 {
		k.posixCPUTimers(p) // CPU-time POSIX timers (posixtimer.go)
	}
	for _, which := range []int{itimerVirtual, itimerProf} {
		t := &p.sig.timers[which]
		if t.expires == 0 || p.insns < t.expires {
			continue
		}
		if t.interval != 0 {
			t.expires += t.interval
		} else {
			t.expires = 0
		}
		k.generate(p, newSigInfo(timerSignal[which], siKernel), false)
		if p.exited {
			return
		}
	}
}

// timerBudget limits how many instructions p may run before a timer or a deadline is due,
// so the CPU stops exactly there.
func (k *Kernel) timerBudget(p *Process, budget uint64) uint64 {
	if k.nextEvent != 0 {
		now := k.nowNS()
		budget = min(budget, max(k.nextEvent, now+1)-now)
	}
	for _, which := range []int{itimerVirtual, itimerProf} {
		if e := p.sig.timers[which].expires; e != 0 {
			budget = min(budget, max(e, p.insns+1)-p.insns)
		}
	}
	if len(k.ptimers) > 0 {
		budget = k.posixCPUBudget(p, budget)
	}
	return budget
}

// timerRemaining returns how long timer which of p has to run (0: disarmed). An armed
// timer that is due reports one microsecond, as Linux's itimer_get_remtime() does.
func (k *Kernel) timerRemaining(p *Process, which int) uint64 {
	t := p.sig.timers[which]
	if t.expires == 0 {
		return 0
	}
	now := k.nowNS()
	if which != itimerReal {
		now = p.insns
	}
	if t.expires <= now {
		return 1000
	}
	return t.expires - now
}

// setTimer arms timer which of p to expire after value nanoseconds and then every interval
// (value 0 disarms it). Linux's do_setitimer().
func (k *Kernel) setTimer(p *Process, which int, value, interval uint64) {
	t := &p.sig.timers[which]
	if value == 0 {
		*t = itimer{}
		return
	}
	now := k.nowNS()
	if which != itimerReal {
		now = p.insns
	}
	t.expires, t.interval = now+value, interval
	if which == itimerReal {
		k.noteEvent(t.expires)
	}
}

// itimervalBytes lays out a struct itimerval: the interval, then the value, each a struct
// timeval of seconds and microseconds.
func itimervalBytes(interval, value uint64) []byte {
	b := make([]byte, 32)
	le.PutUint64(b[0:], interval/nsPerSec)
	le.PutUint64(b[8:], interval%nsPerSec/1000)
	le.PutUint64(b[16:], value/nsPerSec)
	le.PutUint64(b[24:], value%nsPerSec/1000)
	return b
}

// getitimer(which, value).
func sysGetitimer(k *Kernel, p *Process, a *[6]uint64) int64 {
	which := int64(int32(a[0]))
	if which < itimerReal || which > itimerProf {
		return -int64(EINVAL)
	}
	b := itimervalBytes(p.sig.timers[which].interval, k.timerRemaining(p, int(which)))
	if _, ok := k.copyOut(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// setitimer(which, new, old): arm or disarm a timer; the old setting goes to old. A NULL
// new disarms, as Linux still accepts; microseconds of a million or more are EINVAL.
func sysSetitimer(k *Kernel, p *Process, a *[6]uint64) int64 {
	which := int64(int32(a[0]))
	var value, interval uint64
	if a[1] != 0 {
		var b [32]byte
		if _, ok := k.copyIn(p, a[1], b[:]); !ok {
			return -int64(EFAULT)
		}
		isec, iusec := int64(le.Uint64(b[0:])), int64(le.Uint64(b[8:]))
		vsec, vusec := int64(le.Uint64(b[16:])), int64(le.Uint64(b[24:]))
		if iusec >= 1e6 || vusec >= 1e6 {
			return -int64(EINVAL)
		}
		toNS := func(sec, usec int64) uint64 {
			if sec < 0 || usec < 0 {
				return 0
			}
			return uint64(sec)*nsPerSec + uint64(usec)*1000
		}
		value, interval = toNS(vsec, vusec), toNS(isec, iusec)
	}
	if which < itimerReal || which > itimerProf {
		return -int64(EINVAL)
	}
	old := itimervalBytes(p.sig.timers[which].interval, k.timerRemaining(p, int(which)))
	k.setTimer(p, int(which), value, interval)
	if a[2] != 0 {
		if _, ok := k.copyOut(p, a[2], old); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// alarm(seconds): ITIMER_REAL once after seconds (0 cancels); returns the seconds the
// previous alarm had left, rounded to the nearest, and never 0 for an armed one. Linux's
// alarm_setitimer().
func sysAlarm(k *Kernel, p *Process, a *[6]uint64) int64 {
	left := k.timerRemaining(p, itimerReal)
	k.setTimer(p, itimerReal, uint64(uint32(a[0]))*nsPerSec, 0)
	secs := left / nsPerSec
	if (secs == 0 && left != 0) || left%nsPerSec >= nsPerSec/2 {
		secs++
	}
	return int64(secs)
}

// nanosleepFor puts p to sleep for ns nanoseconds of virtual time, as nanosleep does (Linux's
// hrtimer_nanosleep() and do_nanosleep()). When a signal interrupts a relative sleep, the
// time left goes to rmtp (if not 0) and the call returns -ERESTART_RESTARTBLOCK: EINTR once
// a handler has run, else restart_syscall sleeps until the same deadline. An absolute
// sleep (abs) returns -ERESTARTNOHAND and is simply restarted.
func (k *Kernel) nanosleepFor(p *Process, ns uint64, abs bool, rmtp uint64) int64 {
	return k.nanosleepUntil(p, k.nowNS()+ns, abs, rmtp)
}

// nanosleepUntil is nanosleepFor until the virtual time deadline. A deadline that has
// passed returns at once, but gives up the rest of the time slice, as Linux's sleeper
// schedules until its expired timer fires.
func (k *Kernel) nanosleepUntil(p *Process, deadline uint64, abs bool, rmtp uint64) int64 {
	if k.nowNS() >= deadline {
		k.this.slice = k.cfg.Quantum
		return 0
	}
	return k.block(p, &sleepCall{deadline: deadline,
		retry: func() int64 {
			if k.nowNS() >= deadline {
				return 0
			}
			return sysBlocks
		},
		intr: func() int64 {
			if abs {
				return errRestartNoHand
			}
			now := k.nowNS()
			if now >= deadline {
				return 0
			}
			if rmtp != 0 {
				if _, ok := k.copyOut(p, rmtp, timespecBytes(deadline-now)); !ok {
					return -int64(EFAULT)
				}
			}
			k.cur.sig.restart = func(k *Kernel, p *Process) int64 {
				return k.nanosleepUntil(p, deadline, false, rmtp)
			}
			return errRestartBlock
		}})
}

// restart_syscall(): continue a system call a signal interrupted with
// -ERESTART_RESTARTBLOCK when no handler ran; the return to user mode makes the process
// call it. Without such a call pending it is EINTR (do_no_restart_syscall).
func sysRestartSyscall(k *Kernel, p *Process, a *[6]uint64) int64 {
	fn := k.cur.sig.restart
	k.cur.sig.restart = nil
	if fn == nil {
		return -int64(EINTR)
	}
	return fn(k, p)
}
