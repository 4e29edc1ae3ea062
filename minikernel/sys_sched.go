package minikernel

// Scheduling attributes a program may set and read back: the nice value (getpriority,
// setpriority: nice(1), renice), the scheduling policy and real-time priority
// (sched_setscheduler, sched_getscheduler, sched_setparam, sched_getparam, the priority
// ranges, sched_rr_get_interval: chrt), the I/O priority (ioprio_get, ioprio_set: ionice)
// and the personality (setarch). Linux's kernel/sched/syscalls.c, kernel/sys.c,
// block/ioprio.c and kernel/exec_domain.c, with their argument checks and permission
// rules. emu keeps them, fork and clone pass them on and /proc/PID/stat shows the nice
// value and policy, but its scheduler takes turns round-robin whatever they say, and
// personality flags (ADDR_NO_RANDOMIZE: emu has no ASLR; READ_IMPLIES_EXEC) change nothing.

import "encoding/binary"

const (
	prioProcess = 0
	prioPgrp    = 1
	prioUser    = 2

	schedOther       = 0
	schedFIFO        = 1
	schedRR          = 2
	schedBatch       = 3
	schedIdle        = 5
	schedDeadline    = 6
	schedResetOnFork = 0x40000000

	capSysNice = 23

	rlimitNice   = 13
	rlimitRtprio = 14

	ioprioWhoProcess = 1
	ioprioWhoPgrp    = 2
	ioprioWhoUser    = 3
	ioprioClassRT    = 1
	ioprioClassIdle  = 3

	rrTimesliceNS = 100_000_000 // RR_TIMESLICE: 100 ms
)

// schedAttrs are a thread's scheduling attributes (task_struct's static_prio, policy,
// rt_priority, ioprio).
type schedAttrs struct {
	nice        int // -20..19
	policy      int
	rtPrio      int
	resetOnFork bool
	ioprio      int
}

// kernelPrio is /proc/PID/stat's priority field: 20 + nice, or -1 - the real-time
// priority for FIFO and RR (task_prio()).
func (s schedAttrs) kernelPrio() int {
	if s.policy == schedFIFO || s.policy == schedRR {
		return -1 - s.rtPrio
	}
	return 20 + s.nice
}

// forkChild is what a new thread or process starts with: the same, unless
// SCHED_RESET_ON_FORK sends it back to SCHED_OTHER and nice 0 (or above).
func (s schedAttrs) forkChild() schedAttrs {
	if s.resetOnFork {
		s.resetOnFork = false
		if s.policy == schedFIFO || s.policy == schedRR {
			s.policy, s.rtPrio = schedOther, 0
		}
		s.nice = max(s.nice, 0)
	}
	return s
}

// prioTargets are the threads getpriority and setpriority name: a process's (a thread's,
// as Linux takes who as a TID), a process group's, or a user's.
func (k *Kernel) prioTargets(p *Process, which, who int64) ([]*Thread, Errno) {
	var ts []*Thread
	switch which {
	case prioProcess:
		if who == 0 {
			return []*Thread{k.cur}, 0
		}
		if t := k.tasks[int(who)]; t != nil && !t.exited && who > 0 {
			ts = append(ts, t)
		}
	case prioPgrp:
		if who == 0 {
			who = int64(p.PGID)
		}
		for _, q := range k.live {
			if int64(q.PGID) == who && !q.kernelInit && !q.exited {
				ts = append(ts, q.threads...)
			}
		}
	case prioUser:
		if who == 0 {
			who = int64(p.cred.ruid)
		}
		for _, q := range k.live {
			if int64(q.cred.ruid) == who && !q.kernelInit && !q.exited {
				ts = append(ts, q.threads...)
			}
		}
	default:
		return nil, EINVAL
	}
	if len(ts) == 0 {
		return nil, ESRCH
	}
	return ts, 0
}

// getpriority(which, who): 20 - the lowest nice value among the targets (the C library
// turns it back into the nice value).
func sysGetpriority(k *Kernel, p *Process, a *[6]uint64) int64 {
	ts, e := k.prioTargets(p, int64(int32(a[0])), int64(int32(a[1])))
	if e != 0 {
		return -int64(e)
	}
	best := 19
	for _, t := range ts {
		best = min(best, t.sched.nice)
	}
	return int64(20 - best)
}

// setpriority(which, who, niceval): set the targets' nice value (clamped to -20..19).
// Lowering it needs CAP_SYS_NICE or RLIMIT_NICE (EACCES); another user's process needs
// the caller to own it or CAP_SYS_NICE (EPERM).
func sysSetpriority(k *Kernel, p *Process, a *[6]uint64) int64 {
	ts, e := k.prioTargets(p, int64(int32(a[0])), int64(int32(a[1])))
	if e != 0 {
		return -int64(e)
	}
	nice := min(max(int(int32(a[2])), -20), 19)
	var err Errno
	for _, t := range ts {
		if e := k.maySetSched(p, t); e != 0 {
			err = e
			continue
		}
		if nice < t.sched.nice && !k.canNice(p, nice) {
			err = EACCES
			continue
		}
		t.sched.nice = nice
	}
	return -int64(err)
}

// canNice is can_nice(): RLIMIT_NICE (20 - nice, at most its limit) or CAP_SYS_NICE.
func (k *Kernel) canNice(p *Process, nice int) bool {
	return uint64(20-nice) <= p.rlimits[rlimitNice].cur || p.cred.capable(capSysNice)
}

// maySetSched is check_same_owner() or CAP_SYS_NICE: the caller's effective UID is the
// target's real or effective UID.
func (k *Kernel) maySetSched(p *Process, t *Thread) Errno {
	c, tc := &p.cred, &t.proc.cred
	if c.euid == tc.euid || c.euid == tc.ruid || c.capable(capSysNice) {
		return 0
	}
	return EPERM
}

// schedTarget is the thread a sched_* call names (pid as a TID; 0 is the caller).
func (k *Kernel) schedTarget(pid uint64) (*Thread, Errno) {
	if int32(pid) < 0 {
		return nil, EINVAL
	}
	return k.affinityTarget(pid)
}

// sched_getscheduler(pid): the policy (with SCHED_RESET_ON_FORK).
func sysSchedGetscheduler(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := k.schedTarget(a[0])
	if e != 0 {
		return -int64(e)
	}
	r := int64(t.sched.policy)
	if t.sched.resetOnFork {
		r |= schedResetOnFork
	}
	return r
}

// sched_getparam(pid, param): the real-time priority.
func sysSchedGetparam(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[1] == 0 {
		return -int64(EINVAL)
	}
	t, e := k.schedTarget(a[0])
	if e != 0 {
		return -int64(e)
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(t.sched.rtPrio))
	if _, ok := k.copyOut(p, a[1], b[:]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// sched_setscheduler(pid, policy, param) and sched_setparam(pid, param) (policy -1:
// keep it): the priority must fit the policy (1..99 for FIFO and RR, 0 otherwise);
// real-time policies need CAP_SYS_NICE or RLIMIT_RTPRIO (EPERM), as does leaving
// SCHED_IDLE or clearing SCHED_RESET_ON_FORK without it.
func (k *Kernel) setScheduler(p *Process, pid uint64, policy int64, param uint64) int64 {
	if param == 0 || int32(pid) < 0 {
		return -int64(EINVAL)
	}
	var b [4]byte
	if _, ok := k.copyIn(p, param, b[:]); !ok {
		return -int64(EFAULT)
	}
	t, e := k.schedTarget(pid)
	if e != 0 {
		return -int64(e)
	}
	prio := int(int32(binary.LittleEndian.Uint32(b[:])))
	reset := t.sched.resetOnFork
	if policy < 0 {
		policy = int64(t.sched.policy)
	} else {
		reset = policy&schedResetOnFork != 0
		policy &^= schedResetOnFork
	}
	switch policy {
	case schedOther, schedBatch, schedIdle:
		if prio != 0 {
			return -int64(EINVAL)
		}
	case schedFIFO, schedRR:
		if prio < 1 || prio > 99 {
			return -int64(EINVAL)
		}
	default:
		return -int64(EINVAL) // SCHED_DEADLINE only through sched_setattr
	}
	if e := k.maySetSched(p, t); e != 0 {
		return -int64(e)
	}
	if !p.cred.capable(capSysNice) {
		rt := policy == schedFIFO || policy == schedRR
		switch {
		case rt && uint64(prio) > p.rlimits[rlimitRtprio].cur && !(int(policy) == t.sched.policy && prio <= t.sched.rtPrio):
			return -int64(EPERM)
		case t.sched.policy == schedIdle && policy != schedIdle:
			return -int64(EPERM)
		case t.sched.resetOnFork && !reset:
			return -int64(EPERM)
		}
	}
	t.sched.policy, t.sched.rtPrio, t.sched.resetOnFork = int(policy), prio, reset
	return 0
}

func sysSchedSetscheduler(k *Kernel, p *Process, a *[6]uint64) int64 {
	if int32(a[1]) < 0 {
		return -int64(EINVAL)
	}
	return k.setScheduler(p, a[0], int64(int32(a[1])), a[2])
}

func sysSchedSetparam(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.setScheduler(p, a[0], -1, a[1])
}

// sched_get_priority_max(policy) and sched_get_priority_min(policy).
func sysSchedGetPriorityMax(k *Kernel, p *Process, a *[6]uint64) int64 {
	switch int32(a[0]) {
	case schedFIFO, schedRR:
		return 99
	case schedOther, schedBatch, schedIdle, schedDeadline:
		return 0
	}
	return -int64(EINVAL)
}

func sysSchedGetPriorityMin(k *Kernel, p *Process, a *[6]uint64) int64 {
	switch int32(a[0]) {
	case schedFIFO, schedRR:
		return 1
	case schedOther, schedBatch, schedIdle, schedDeadline:
		return 0
	}
	return -int64(EINVAL)
}

// sched_rr_get_interval(pid, tp): the time slice of SCHED_RR (100 ms), 0 for FIFO; for the
// other policies emu's turn (Config.Interleave instructions at 1 ns each).
func sysSchedRRGetInterval(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := k.schedTarget(a[0])
	if e != 0 {
		return -int64(e)
	}
	var ns uint64
	switch t.sched.policy {
	case schedRR:
		ns = rrTimesliceNS
	case schedFIFO:
	default:
		ns = k.cfg.Interleave
	}
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], ns/1e9)
	binary.LittleEndian.PutUint64(b[8:], ns%1e9)
	if _, ok := k.copyOut(p, a[1], b[:]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// ioprioTargets are the threads ioprio_get and ioprio_set name.
func (k *Kernel) ioprioTargets(p *Process, which, who int64) ([]*Thread, Errno) {
	switch which {
	case ioprioWhoProcess:
		return k.prioTargets(p, prioProcess, who)
	case ioprioWhoPgrp:
		return k.prioTargets(p, prioPgrp, who)
	case ioprioWhoUser:
		return k.prioTargets(p, prioUser, who)
	}
	return nil, EINVAL
}

// ioprio_get(which, who): the highest I/O priority among the targets (a thread that never
// set one has IOPRIO_CLASS_NONE, 0).
func sysIoprioGet(k *Kernel, p *Process, a *[6]uint64) int64 {
	ts, e := k.ioprioTargets(p, int64(int32(a[0])), int64(int32(a[1])))
	if e != 0 {
		return -int64(e)
	}
	r := -1
	for _, t := range ts {
		r = max(r, t.sched.ioprio)
	}
	return int64(r)
}

// ioprio_set(which, who, ioprio): class in bits 13-15 (NONE, RT, BE, IDLE), level in bits
// 0-2, hints between; the real-time class needs CAP_SYS_ADMIN or CAP_SYS_NICE (EPERM).
func sysIoprioSet(k *Kernel, p *Process, a *[6]uint64) int64 {
	v := int(uint16(a[2]))
	class, level := v>>13&7, v&7 // bits 3-12 are hints (ioprio_check_cap())
	switch {
	case class > ioprioClassIdle, class == 0 && level != 0:
		return -int64(EINVAL)
	case class == ioprioClassRT && !p.cred.capable(capSysAdm) && !p.cred.capable(capSysNice):
		return -int64(EPERM)
	}
	ts, e := k.ioprioTargets(p, int64(int32(a[0])), int64(int32(a[1])))
	if e != 0 {
		return -int64(e)
	}
	for _, t := range ts {
		if e := k.maySetSched(p, t); e != 0 {
			return -int64(e)
		}
		t.sched.ioprio = v
	}
	return 0
}

// personality(persona): set the process's personality (0xffffffff only reads it) and
// return the old one; fork and execve keep it (kernel/exec_domain.c).
func sysPersonality(k *Kernel, p *Process, a *[6]uint64) int64 {
	old := int64(p.persona)
	if v := uint32(a[0]); v != 0xffffffff {
		p.persona = v
	}
	return old
}
