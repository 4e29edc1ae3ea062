package minikernel

// POSIX timers: timer_create, timer_settime, timer_gettime, timer_getoverrun, timer_delete.
// Linux's kernel/time/posix-timers.c and posix-cpu-timers.c. A timer on a clock of time
// (CLOCK_REALTIME, MONOTONIC, BOOTTIME, TAI) is a kernel timer on the virtual clock
// (ktimer.go); one on a CPU-time clock (CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID)
// counts the process's or the thread's instructions and is checked after each of its
// traps, the CPU stopping where it is due. An expiry sends the timer's signal (SIGEV_SIGNAL
// to the process, SIGEV_THREAD_ID to one thread) with si_code SI_TIMER, the timer's id, its
// overrun and its sigval; while that signal is still pending, further expiries count as
// overruns instead of queueing more. Timers are not inherited by fork, and execve and exit
// delete them.

// sigevent notification kinds (include/uapi/asm-generic/siginfo.h).
const (
	sigevSignal   = 0
	sigevNone     = 1
	sigevThread   = 2
	sigevThreadID = 4
)

// posixTimer is one timer of a process.
type posixTimer struct {
	id       int32
	clock    int32
	notify   int32
	signo    int
	value    uint64 // sigev_value
	tid      int    // SIGEV_THREAD_ID's thread
	proc     *Process
	timer    ktimer // time clocks
	cpuNext  uint64 // CPU clocks: the CPU time of the next expiry (0: disarmed)
	cpuIntvl uint64
	overrun  uint64 // expiries folded into the pending signal
	lastOver uint64 // timer_getoverrun: the overrun of the last signal sent
	deleted  bool
}

// ptimersOf is p's timer table (its index by id).
func (k *Kernel) ptimersOf(p *Process) map[int32]*posixTimer {
	if k.ptimers == nil {
		k.ptimers = map[*Process]map[int32]*posixTimer{}
	}
	m := k.ptimers[p]
	if m == nil {
		m = map[int32]*posixTimer{}
		k.ptimers[p] = m
	}
	return m
}

// dropTimers deletes every timer of p (execve, exit).
func (k *Kernel) dropTimers(p *Process) {
	for _, t := range k.ptimers[p] {
		t.deleted = true
		k.disarmKTimer(&t.timer)
	}
	delete(k.ptimers, p)
}

// cpuClock reports whether clock counts CPU time.
func cpuClock(clock int32) bool {
	return clock == clockProcessCputime || clock == clockThreadCputime
}

// cpuNow is the CPU time t's clock counts now.
func (t *posixTimer) cpuNow(k *Kernel) uint64 {
	if t.clock == clockThreadCputime {
		if th := k.Thread(t.tid); th != nil {
			return th.insns
		}
	}
	return t.proc.insns
}

// expire sends t's signal for count expiries: folded into the pending one as overruns
// when it has not been taken yet.
func (k *Kernel) expire(t *posixTimer, count uint64) {
	p := t.proc
	if t.deleted || p.exited {
		t.deleted = true
		k.disarmKTimer(&t.timer)
		t.cpuNext = 0
		return
	}
	if t.notify&^sigevThreadID == sigevNone {
		return
	}
	q := &p.sig.shared
	var th *Thread
	if t.notify&sigevThreadID != 0 {
		if th = k.Thread(t.tid); th == nil || th.exited {
			return
		}
		q = &th.sig.private
	}
	for i := range q.queue {
		si := &q.queue[i]
		if si.code() == siTimer && int32(le.Uint32(si.b[16:])) == t.id {
			t.overrun += count
			t.lastOver = t.overrun // what the pending signal will carry when it is taken
			le.PutUint32(si.b[20:], uint32(min(t.overrun, 1<<31-1)))
			return
		}
	}
	t.lastOver, t.overrun = count-1, count-1
	si := newSigInfo(t.signo, siTimer)
	le.PutUint32(si.b[16:], uint32(t.id))
	le.PutUint32(si.b[20:], uint32(min(count-1, 1<<31-1)))
	le.PutUint64(si.b[24:], t.value)
	if th != nil {
		k.generateThread(th, si)
	} else {
		k.generate(p, si, false)
	}
}

// unqueue drops the signal t sent that was not taken yet: a timer set again or deleted does
// not deliver its old expiry (posixtimer_deliver_signal() ignores it).
func (k *Kernel) unqueue(t *posixTimer) {
	queues := []*sigPending{&t.proc.sig.shared}
	for _, th := range t.proc.threads {
		queues = append(queues, &th.sig.private)
	}
	for _, q := range queues {
		for i := 0; i < len(q.queue); i++ {
			si := &q.queue[i]
			if si.code() != siTimer || int32(le.Uint32(si.b[16:])) != t.id {
				continue
			}
			sig := si.signo()
			q.queue = append(q.queue[:i], q.queue[i+1:]...)
			i--
			still := false
			for j := range q.queue {
				if q.queue[j].signo() == sig {
					still = true
				}
			}
			if !still {
				q.set &^= sigBit(sig)
			}
		}
	}
	t.overrun, t.lastOver = 0, 0
}

// posixCPUTimers fires p's CPU-time timers that are due (after each of p's traps).
func (k *Kernel) posixCPUTimers(p *Process) {
	for _, t := range k.ptimers[p] {
		if t.cpuNext == 0 {
			continue
		}
		now := t.cpuNow(k)
		if now < t.cpuNext {
			continue
		}
		count := uint64(1)
		if t.cpuIntvl != 0 {
			count += (now - t.cpuNext) / t.cpuIntvl
			t.cpuNext += count * t.cpuIntvl
		} else {
			t.cpuNext = 0
		}
		k.expire(t, count)
	}
}

// posixCPUBudget limits how far p may run before a CPU-time timer is due.
func (k *Kernel) posixCPUBudget(p *Process, budget uint64) uint64 {
	for _, t := range k.ptimers[p] {
		if t.cpuNext != 0 {
			now := t.cpuNow(k)
			budget = min(budget, max(t.cpuNext, now+1)-now)
		}
	}
	return budget
}

// timer_create(clockid, sevp, timerid).
func sysTimerCreate(k *Kernel, p *Process, a *[6]uint64) int64 {
	clock := int32(a[0])
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime, clockTAI, clockProcessCputime, clockThreadCputime:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		if !p.cred.capable(capWakeAlarm) {
			return -int64(EPERM)
		}
	default:
		return -int64(EINVAL)
	}
	m := k.ptimersOf(p)
	id := int32(0)
	for m[id] != nil {
		id++
	}
	t := &posixTimer{id: id, clock: clock, notify: sigevSignal, signo: SIGALRM, value: uint64(id), proc: p}
	if clock == clockThreadCputime {
		t.tid = k.cur.TID
	}
	if a[1] != 0 {
		var b [64]byte
		if _, ok := k.copyIn(p, a[1], b[:]); !ok {
			return -int64(EFAULT)
		}
		t.value = le.Uint64(b[0:])
		t.signo = int(int32(le.Uint32(b[8:])))
		t.notify = int32(le.Uint32(b[12:]))
		switch t.notify {
		case sigevNone:
		case sigevSignal, sigevThreadID | sigevSignal:
			if t.signo <= 0 || t.signo > numSignals {
				return -int64(EINVAL)
			}
			if t.notify&sigevThreadID != 0 {
				tid := int(int32(le.Uint32(b[16:])))
				if th := k.Thread(tid); th == nil || th.proc != p || th.exited {
					return -int64(EINVAL)
				}
				t.tid = tid
			}
		default:
			return -int64(EINVAL) // SIGEV_THREAD is the C library's (it uses SIGEV_THREAD_ID)
		}
	}
	var b [4]byte
	le.PutUint32(b[:], uint32(id))
	if _, ok := k.copyOut(p, a[2], b[:]); !ok {
		return -int64(EFAULT)
	}
	t.timer.fire = func(k *Kernel, count uint64) { k.expire(t, count) }
	m[id] = t
	return 0
}

// timerArg returns p's timer id (EINVAL for none).
func (k *Kernel) timerArg(p *Process, id uint64) (*posixTimer, Errno) {
	t := k.ptimers[p][int32(id)]
	if t == nil || int64(int32(id)) != int64(id) {
		return nil, EINVAL
	}
	return t, 0
}

// remaining returns a timer's time to its next expiry and its interval.
func (k *Kernel) timerState(t *posixTimer) (value, interval uint64) {
	if cpuClock(t.clock) {
		if t.cpuNext == 0 {
			return 0, t.cpuIntvl
		}
		now := t.cpuNow(k)
		if t.cpuNext <= now {
			return 1, t.cpuIntvl
		}
		return t.cpuNext - now, t.cpuIntvl
	}
	if t.timer.expires == 0 {
		return 0, t.timer.interval
	}
	return max(t.timer.remaining(k.nowNS()), 1), t.timer.interval
}

// timer_settime(timerid, flags, new_value, old_value): TIMER_ABSTIME sets an absolute
// expiry on the timer's clock; a value of zero disarms it.
func sysTimerSettime(k *Kernel, p *Process, a *[6]uint64) int64 {
	interval, value, e := k.readItimerspec(p, a[2])
	if e != 0 {
		return -int64(e)
	}
	t, e := k.timerArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if a[3] != 0 {
		v, i := k.timerState(t)
		if _, ok := k.copyOut(p, a[3], itimerspecBytes(i, v)); !ok {
			return -int64(EFAULT)
		}
	}
	abs := a[1]&timerAbstime != 0
	k.disarmKTimer(&t.timer)
	k.unqueue(t)
	t.cpuNext, t.cpuIntvl, t.timer.interval = 0, 0, 0
	t.overrun = 0
	if value == 0 {
		return 0
	}
	if cpuClock(t.clock) {
		now := t.cpuNow(k)
		next := now + value
		if abs {
			next = max(value, now)
		}
		t.cpuNext, t.cpuIntvl = max(next, 1), interval
		return 0
	}
	k.armKTimer(&t.timer, k.expiryOf(t.clock, value, abs), interval)
	return 0
}

// timer_gettime(timerid, curr_value).
func sysTimerGettime(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := k.timerArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	v, i := k.timerState(t)
	if _, ok := k.copyOut(p, a[1], itimerspecBytes(i, v)); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// timer_getoverrun(timerid): the overrun count of the last signal the timer sent.
func sysTimerGetoverrun(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := k.timerArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	return int64(min(t.lastOver, 1<<31-1))
}

// timer_delete(timerid).
func sysTimerDelete(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := k.timerArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	t.deleted = true
	k.disarmKTimer(&t.timer)
	k.unqueue(t)
	delete(k.ptimers[p], t.id)
	return 0
}
