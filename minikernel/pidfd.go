package minikernel

import "slices"

// Process descriptors (pidfds) and waitid: a descriptor that names a process without the
// race of a PID that may be reused, which can be polled (readable once the process has
// exited), signalled, waited for (waitid P_PIDFD), and used to take a copy of one of the
// process's descriptors. Linux's kernel/pid.c (pidfd_open, pidfd_getfd), kernel/signal.c
// (pidfd_send_signal), kernel/exit.c (waitid) and kernel/fork.c (pidfd_poll).

// waitid's idtype (include/uapi/linux/wait.h).
const (
	pAll   = 0
	pPID   = 1
	pPGID  = 2
	pPIDFD = 3
)

// newPidfd opens a pidfd for q in p's descriptor table, with O_RDWR and the flags given
// (O_CLOEXEC, O_NONBLOCK), and returns the descriptor.
func (k *Kernel) newPidfd(p *Process, q *Process, flags int) (int, Errno) {
	f := &File{k: k, kind: filePidfd, name: "anon_inode:[pidfd]", hfd: -1,
		flags: oRdwr | flags&oNonblock, refs: 1, proc: q}
	fd, e := p.fds.install(f, flags&oCloexec != 0, 0)
	if e != 0 {
		f.put()
	}
	return fd, e
}

// pidfdOf returns the process a pidfd names: EBADF when fd is not open or not a pidfd
// (Linux's pidfd_pid()).
func pidfdOf(p *Process, fd uint64) (*Process, Errno) {
	f := fdArg(p, fd)
	if f == nil || f.kind != filePidfd {
		return nil, EBADF
	}
	return f.proc, 0
}

// pidfdPoll is a pidfd's readiness: readable once the process has exited, and hung up once
// it has been reaped as well (Linux's pidfd_poll()).
func pidfdPoll(f *File) int16 {
	var m int16
	if f.proc.exited {
		m |= pollIn | pollRdnorm
	}
	if f.proc.state == procReaped {
		m |= pollHup
	}
	return m
}

// pidfd_send_signal's flags (include/uapi/linux/pidfd.h, Linux 6.9): one of them may name
// the target, otherwise the pidfd's kind does (a process).
const (
	pidfdSignalThread       = 1
	pidfdSignalThreadGroup  = 2
	pidfdSignalProcessGroup = 4
)

// pidfd_open(pid, flags): a pidfd (close-on-exec) for process pid, which must be a
// thread-group leader's PID. flags may hold PIDFD_NONBLOCK (O_NONBLOCK) only.
func sysPidfdOpen(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid, flags := int64(int32(a[0])), a[1]
	if flags&^oNonblock != 0 || pid <= 0 {
		return -int64(EINVAL)
	}
	q := k.procs[int(pid)]
	if q == nil {
		if t := k.tasks[int(pid)]; t != nil {
			return -int64(EINVAL) // a thread that does not lead its group
		}
		return -int64(ESRCH)
	}
	fd, e := k.newPidfd(p, q, int(flags)|oCloexec)
	if e != 0 {
		return -int64(e)
	}
	return int64(fd)
}

// pidfd_send_signal(pidfd, sig, info, flags): kill() through a pidfd, with an optional
// siginfo as rt_sigqueueinfo takes it. flags may name the target as Linux 6.9 allows: the
// thread (PIDFD_SIGNAL_THREAD, si_code SI_TKILL), the process, or its process group; at
// most one of them. ESRCH once the process has exited.
func sysPidfdSendSignal(k *Kernel, p *Process, a *[6]uint64) int64 {
	sig, flags := int(int32(a[1])), a[3]
	if flags&^(pidfdSignalThread|pidfdSignalThreadGroup|pidfdSignalProcessGroup) != 0 || flags&(flags-1) != 0 {
		return -int64(EINVAL)
	}
	q, e := pidfdOf(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	code := siUser
	if flags == pidfdSignalThread {
		code = siTkill
	}
	si := userSigInfo(sig, code, p)
	if a[2] != 0 {
		if _, ok := k.copyIn(p, a[2], si.b[:]); !ok {
			return -int64(EFAULT)
		}
		if si.signo() != sig {
			return -int64(EINVAL)
		}
		if (si.code() >= 0 || si.code() == siTkill) && q != p {
			return -int64(EPERM)
		}
	}
	if q.exited {
		return -int64(ESRCH)
	}
	if q.kernelInit {
		return -int64(EPERM)
	}
	if sig == 0 {
		return 0
	}
	switch flags {
	case pidfdSignalThread:
		if t := q.leader; t != nil && !t.exited {
			k.generateThread(t, si)
		}
	case pidfdSignalProcessGroup:
		for _, r := range slices.Clone(k.live) {
			if r.PGID == q.PGID && !r.kernelInit {
				k.generate(r, si, false)
			}
		}
	default:
		k.generate(q, si, false)
	}
	return 0
}

// pidfd_getfd(pidfd, targetfd, flags): a copy, in the caller's table (close-on-exec), of
// descriptor targetfd of the process the pidfd names. flags must be 0.
func sysPidfdGetfd(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2] != 0 {
		return -int64(EINVAL)
	}
	q, e := pidfdOf(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if q.exited || q.fds == nil {
		return -int64(ESRCH)
	}
	f := fdArg(q, a[1])
	if f == nil {
		return -int64(EBADF)
	}
	f.get()
	fd, e := p.fds.install(f, true, 0)
	if e != 0 {
		f.put()
		return -int64(e)
	}
	return int64(fd)
}

// waitid(idtype, id, infop, options, rusage): wait for a child named by PID, process
// group, pidfd (P_PIDFD) or any (P_ALL), reporting it in a siginfo_t (si_signo SIGCHLD,
// si_code CLD_EXITED or CLD_KILLED, si_pid, si_uid, si_status) rather than a status word.
// options must ask for WEXITED (stopped and continued children are never reported: job
// control is not modelled); WNOWAIT leaves the child a zombie; WNOHANG returns 0 at once,
// with a zeroed siginfo, when no child is ready. Linux's kernel_waitid().
func sysWaitid(k *Kernel, p *Process, a *[6]uint64) int64 {
	idtype, id, options := a[0], a[1], a[3]
	if options&^(wNohang|wExited|wUntraced|wContinued|wNowait|wNothread|wAll|wClone) != 0 ||
		options&(wExited|wUntraced|wContinued) == 0 {
		return -int64(EINVAL)
	}
	w := &waitCall{infop: a[2], options: options, rusage: a[4], waitid: true}
	switch idtype {
	case pAll:
		w.pid = -1
	case pPID:
		if int32(id) <= 0 {
			return -int64(EINVAL)
		}
		w.pid = int64(int32(id))
	case pPGID:
		if int32(id) < 0 {
			return -int64(EINVAL)
		}
		w.pid = -int64(int32(id))
		if id == 0 {
			w.pid = 0
		}
	case pPIDFD:
		q, e := pidfdOf(p, id)
		if e != 0 {
			return -int64(e)
		}
		w.pidfd = q
		if fdArg(p, id).nonblock() {
			w.options |= wNohang
		}
	default:
		return -int64(EINVAL)
	}
	if options&wExited == 0 {
		// Only stopped or continued children asked about: none is ever reported.
		if w.options&wNohang != 0 {
			w.options |= wNowait
		}
	}
	return k.waitSleep(p, w)
}

// waitSleep runs doWait and, when the caller must wait, sleeps on the child-wait queue
// until a child changes state (SA_RESTART restarts it).
func (k *Kernel) waitSleep(p *Process, w *waitCall) int64 {
	ret := k.doWait(p, w)
	if ret != waitBlocks {
		return ret
	}
	try := func() int64 {
		r := k.doWait(p, w)
		if r == waitBlocks {
			p.sig.childWait.add(k.cur) // exit() wakes the parent's queue
		}
		return r
	}
	p.sig.childWait.add(k.cur)
	return k.block(p, &sleepCall{retry: try, restartable: true})
}
