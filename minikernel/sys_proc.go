package minikernel

import (
	"encoding/binary"
)

// Process system calls: identities, wait4, execve, scheduling and resource limits.

func sysGetpid(k *Kernel, p *Process, a *[6]uint64) int64  { return int64(p.PID) }
func sysGetppid(k *Kernel, p *Process, a *[6]uint64) int64 { return int64(p.PPID) }
func sysGetpgrp(k *Kernel, p *Process, a *[6]uint64) int64 { return int64(p.PGID) }

// getpgid(pid): the process group of pid (0: the caller).
func sysGetpgid(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid := int64(int32(a[0]))
	if pid < 0 {
		return -int64(EINVAL)
	}
	if pid == 0 {
		return int64(p.PGID)
	}
	q := k.procs[int(pid)]
	if q == nil {
		return -int64(ESRCH)
	}
	return int64(q.PGID)
}

// setpgid(pid, pgid): the caller or one of its children joins or starts a group of its
// session: a session leader may not move, nor a child in another session, and the group
// joined must be in the caller's session (EPERM). Linux's EACCES for a child that has
// called execve is not made.
func sysSetpgid(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid, pgid := int64(int32(a[0])), int64(int32(a[1]))
	if pgid < 0 {
		return -int64(EINVAL)
	}
	q := p
	if pid != 0 && pid != int64(p.PID) {
		if q = k.procs[int(pid)]; q == nil || q.parent != p {
			return -int64(ESRCH)
		}
	}
	if pgid == 0 {
		pgid = int64(q.PID)
	}
	if q.SID == q.PID || q.SID != p.SID {
		return -int64(EPERM) // a session leader, or a child in another session
	}
	if pgid != int64(q.PID) {
		found := false
		for _, r := range k.live {
			found = found || int64(r.PGID) == pgid && r.SID == q.SID
		}
		if !found {
			return -int64(EPERM)
		}
	}
	q.PGID = int(pgid)
	return 0
}

// setsid(): the caller starts a new session and a new process group, both with its PID as
// their ID, and returns it; a process group leader may not (EPERM: its group would
// straddle two sessions). kernel/sys.c:ksys_setsid(). The emulated machine has no
// controlling terminals, so there is none to lose.
func sysSetsid(k *Kernel, p *Process, a *[6]uint64) int64 {
	for _, r := range k.live {
		if r.PGID == p.PID && !r.exited {
			return -int64(EPERM)
		}
	}
	p.SID, p.PGID = p.PID, p.PID
	return int64(p.PID)
}

// getsid(pid): the session of pid (0: the caller); ESRCH when there is no such process.
func sysGetsid(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid := int64(int32(a[0]))
	if pid == 0 {
		return int64(p.SID)
	}
	q := k.procs[int(pid)]
	if pid < 0 || q == nil || q.state == procReaped {
		return -int64(ESRCH)
	}
	return int64(q.SID)
}

// wait4(pid, wstatus, options, rusage): collect a child that has exited. With children
// still running and no WNOHANG the caller sleeps on its child-wait queue until a child
// exits (sleep.go); a signal interrupts the sleep with -ERESTARTSYS, so the call restarts
// after a handler with SA_RESTART and fails with EINTR after one without. Linux's
// kernel/exit.c:kernel_wait4() and do_wait().
func sysWait4(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2]&^(wNohang|wUntraced|wContinued|wNothread|wAll|wClone) != 0 {
		return -int64(EINVAL)
	}
	if int32(a[0]) == -1<<31 {
		return -int64(ESRCH) // INT_MIN cannot be negated into a group
	}
	w := &waitCall{pid: int64(int32(a[0])), status: a[1], options: a[2] | wExited, rusage: a[3]}
	return k.waitSleep(p, w)
}

// execve(path, argv, envp). On success it does not return: the process runs the new image
// (its RAX is 0). Bad pointers are EFAULT; a missing file (or interpreter) ENOENT; a file
// without execute permission EACCES; a file that is not an ELF64 x86-64 program ENOEXEC;
// an interpreter that is not one ELIBBAD; too many arguments E2BIG.
func sysExecve(k *Kernel, p *Process, a *[6]uint64) int64 {
	path, e := k.userPath(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	argv, e := k.userStrings(p, a[1])
	if e != 0 {
		return -int64(e)
	}
	envp, e := k.userStrings(p, a[2])
	if e != 0 {
		return -int64(e)
	}
	if err := k.execve(p, path, argv, envp); err != nil {
		return -int64(err.Errno)
	}
	return 0
}

// userStrings reads a NULL-terminated array of string pointers (argv, envp); a NULL array
// is empty, as Linux accepts it.
func (k *Kernel) userStrings(p *Process, va uint64) ([]string, Errno) {
	var out []string
	total := 0
	for va != 0 {
		var b [8]byte
		if _, ok := k.copyIn(p, va, b[:]); !ok {
			return nil, EFAULT
		}
		ptr := binary.LittleEndian.Uint64(b[:])
		if ptr == 0 {
			break
		}
		s, e := k.copyInString(p, ptr, maxArgStrlen)
		if e == ENAMETOOLONG {
			return nil, E2BIG
		}
		if e != 0 {
			return nil, e
		}
		if total += len(s) + 9; total > maxArgBytes || len(out) >= 0x7fffffff {
			return nil, E2BIG
		}
		out = append(out, s)
		va += 8
	}
	return out, 0
}

// sched_yield(): give up the rest of the time slice.
func sysSchedYield(k *Kernel, p *Process, a *[6]uint64) int64 {
	k.this.slice = k.cfg.Quantum
	return 0
}

// gettid(): the calling thread's ID.
func sysGettid(k *Kernel, p *Process, a *[6]uint64) int64 { return int64(k.cur.TID) }

// set_tid_address(tidptr): remember where to clear the thread ID at exit (and wake a
// futex waiter there); returns the TID.
func sysSetTidAddress(k *Kernel, p *Process, a *[6]uint64) int64 {
	k.cur.clearChildTID = a[0]
	return int64(k.cur.TID)
}

// Resource limits: RLIMIT_STACK bounds stack growth and places mmap_base at the next
// execve; the others are reported with Linux's defaults and may be changed, without effect.
const (
	rlimitStack  = 3
	rlimitNproc  = 6
	rlimitNofile = 7
	rlimCount    = 16
	rlimInfinity = ^uint64(0)
)

type rlimit struct{ cur, max uint64 }

// defaultRlimits are Linux's defaults for a process started from a login shell.
var defaultRlimits = func() [rlimCount]rlimit {
	var r [rlimCount]rlimit
	for i := range r {
		r[i] = rlimit{rlimInfinity, rlimInfinity}
	}
	r[rlimitStack] = rlimit{stackLimit, rlimInfinity}
	r[4] = rlimit{0, rlimInfinity}                                               // RLIMIT_CORE
	r[6] = rlimit{1024 * 64, 1024 * 64}                                          // RLIMIT_NPROC
	r[rlimitNofile] = rlimit{maxFDs, 4096}                                       // RLIMIT_NOFILE
	r[8] = rlimit{8 << 20, 8 << 20}                                              // RLIMIT_MEMLOCK
	r[11] = rlimit{1024 * 64, 1024 * 64}                                         // RLIMIT_SIGPENDING
	r[12] = rlimit{819200, 819200}                                               // RLIMIT_MSGQUEUE
	r[13], r[14], r[15] = rlimit{}, rlimit{}, rlimit{rlimInfinity, rlimInfinity} // NICE, RTPRIO, RTTIME
	return r
}()

func rlimitBytes(r rlimit) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, r.cur)
	binary.LittleEndian.PutUint64(b[8:], r.max)
	return b
}

// prlimit64(pid, resource, new, old): get and set a limit of the caller or another process.
func sysPrlimit64(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid, res := int64(int32(a[0])), a[1]
	if res >= rlimCount {
		return -int64(EINVAL)
	}
	q := p
	if pid != 0 {
		if q = k.procs[int(pid)]; q == nil || q.exited {
			return -int64(ESRCH)
		}
	}
	var nr rlimit
	if a[2] != 0 {
		var b [16]byte
		if _, ok := k.copyIn(p, a[2], b[:]); !ok {
			return -int64(EFAULT)
		}
		nr = rlimit{binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])}
		if nr.cur > nr.max {
			return -int64(EINVAL)
		}
		if nr.max > q.rlimits[res].max {
			return -int64(EPERM) // raising a hard limit needs CAP_SYS_RESOURCE
		}
		if res == rlimitNofile && nr.max > 1<<20 {
			return -int64(EPERM)
		}
	}
	if a[3] != 0 {
		if _, ok := k.copyOut(p, a[3], rlimitBytes(q.rlimits[res])); !ok {
			return -int64(EFAULT)
		}
	}
	if a[2] != 0 {
		q.rlimits[res] = nr
	}
	return 0
}

// getrlimit(resource, rlim) and setrlimit(resource, rlim).
func sysGetrlimit(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{0, a[0], 0, a[1]}
	return sysPrlimit64(k, p, &b)
}

func sysSetrlimit(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{0, a[0], a[1], 0}
	return sysPrlimit64(k, p, &b)
}
