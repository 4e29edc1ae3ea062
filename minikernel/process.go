package minikernel

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Processes: creation, exit, zombies, reparenting and wait. Linux's kernel/fork.c,
// kernel/exit.c (do_exit, do_group_exit, exit_notify, forget_original_parent,
// wait_consider_task). A process is a thread group (thread.go has its threads).

// procState is where a process or a thread is in its life.
type procState uint8

const (
	procRunnable procState = iota // running or ready to run
	procBlocked                   // asleep in a system call until something wakes it (sleep.go)
	procZombie                    // a process that exited; its parent has not collected the status yet
	procReaped                    // gone
)

var procStateNames = [...]string{"runnable", "blocked", "zombie", "reaped"}

func (s procState) String() string { return procStateNames[s] }

// Process is one process: a thread group and what its threads share.
type Process struct {
	PID  int // the thread-group ID (tgid): its first thread's TID
	PPID int // 0 when the parent is the kernel itself
	PGID int // process group
	// SID is the session: the emulated init's (1) for the first program, as for a job a
	// shell outside the machine started; setsid makes a new one (sys_proc.go).
	SID int
	// persona is the personality (personality(2), sys_sched.go): kept by fork and execve.
	persona uint32
	mm      *MM
	exe     string // path of the running executable
	exited  bool   // every thread has exited: a zombie, or reaped
	status  int    // wait status as Linux encodes it
	state   procState
	insns   uint64 // instructions retired by all its threads (its CPU time)
	// oomScoreAdj biases the OOM killer (-1000: never; 1000: first), as
	// /proc/PID/oom_score_adj does; oomScoreAdjFloor is the lowest value the process may
	// set without CAP_SYS_RESOURCE (Linux's oom_score_adj_min). fork copies both.
	oomScoreAdj, oomScoreAdjFloor int

	parent   *Process // nil: the kernel reaps it
	children []*Process
	threads  []*Thread // live threads, in creation order
	leader   *Thread   // the first thread (it may have exited while others run)
	fds      *fdTable
	fs       *fsState
	sig      procSig

	exitSignal  int  // the signal the parent gets when this process exits (SIGCHLD)
	subreaper   bool // PR_SET_CHILD_SUBREAPER: orphaned descendants come here
	rlimits     [rlimCount]rlimit
	groupExit   bool       // exit_group or a fatal signal is ending every thread (SIGNAL_GROUP_EXIT)
	groupStatus int        // the wait status of that group exit
	kernelInit  bool       // the emulated init (pid 1): no threads of its own; reaps orphans
	cred        creds      // who the process is (creds.go)
	ctl         prctlState // what prctl set (prctl.go)
	acct        procAcct   // faults, children's usage, peak RSS (rusage.go)

	pidfdWait waitQueue // pidfd pollers and waitid(P_PIDFD), woken when it exits

	traced bool // a debugger sees its signals before they are delivered (debugaccess.go)
}

// MM returns the process's address space (nil once it has exited).
func (p *Process) MM() *MM { return p.mm }

// Exe returns the path of the executable the process runs.
func (p *Process) Exe() string { return p.exe }

// State returns "runnable" (a thread can run), "blocked" (every thread sleeps), "zombie"
// or "reaped".
func (p *Process) State() string {
	if p.state == procRunnable {
		for _, t := range p.threads {
			if t.state == procRunnable {
				return "runnable"
			}
		}
		return "blocked"
	}
	return p.state.String()
}

// Parent returns the parent process, or nil when the kernel is the parent.
func (p *Process) Parent() *Process { return p.parent }

// Init reports whether p is the emulated init, pid 1.
func (p *Process) Init() bool { return p.kernelInit }

// rlimStack returns the soft stack limit, which bounds stack growth.
func (p *Process) rlimStack() uint64 { return p.rlimits[rlimitStack].cur }

// mainThread returns the thread that stands for the process where one must be chosen (the
// leader while it lives, else the first live thread), or nil when none is left.
func (p *Process) mainThread() *Thread {
	if len(p.threads) == 0 {
		return nil
	}
	return p.threads[0]
}

// newProcess creates a process with PID pid (0: the next free one) as a child of parent
// (nil: of the kernel), with default resource limits and no thread. The caller gives it
// its first thread, an address space and descriptors.
func (k *Kernel) newProcess(parent *Process, pid int) *Process {
	if pid == 0 {
		pid = k.allocPID()
	}
	p := &Process{PID: pid, exitSignal: SIGCHLD, parent: parent, rlimits: defaultRlimits}
	p.acct.startNS = k.nowNS()
	p.PGID, p.SID = p.PID, p.PID
	if parent == nil {
		p.cred = hostCredsCache()
	} else {
		p.cred = parent.cred
		p.ctl = parent.ctl.forkChild()
		p.PPID, p.PGID, p.SID = parent.PID, parent.PGID, parent.SID
		p.rlimits = parent.rlimits
		parent.children = append(parent.children, p)
	}
	k.procs[p.PID] = p
	i, _ := slices.BinarySearchFunc(k.live, p.PID, func(q *Process, pid int) int { return q.PID - pid })
	k.live = slices.Insert(k.live, i, p)
	return p
}

// resume runs what a thread owes itself when the scheduler picks it: a new thread stores
// its TID for CLONE_CHILD_SETTID (Linux's schedule_tail()), and a thread woken in a system
// call (wait4, a pipe, poll, nanosleep, futex) runs it again, finishing it or sleeping on.
func (k *Kernel) resume(t *Thread) {
	if !t.started {
		t.started = true
		if t.setChildTID != 0 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(t.TID))
			k.copyOut(t.proc, t.setChildTID, b[:])
		}
	}
	if t.sleep != nil && !t.exited {
		k.resumeSleep(t)
	}
}

// exit ends every thread of p with wait status status: exit_group, or a signal whose
// default action terminates (Linux's do_group_exit()). The last thread to go ends the
// process (exitProcess).
func (k *Kernel) exit(p *Process, status int) {
	if p.exited || p.groupExit {
		return
	}
	p.groupExit, p.groupStatus = true, status
	// The calling thread goes last, as in Linux where the others die first (zap_other_threads).
	ts := slices.Clone(p.threads)
	if c := k.cur; c != nil && c.proc == p {
		if i := slices.Index(ts, c); i >= 0 {
			ts = append(slices.Delete(ts, i, i+1), c)
		}
	}
	for _, t := range ts {
		k.exitThread(t, status)
	}
}

// exitProcess ends p once its last thread, last, has gone: its descriptors are closed, its
// address space is released, its children go to a new parent, and it becomes a zombie for
// its parent to reap (or is reaped at once when its parent ignores SIGCHLD). Its wait
// status is the group exit's, or else what the last thread passed to exit (what Linux 6.18
// reports, measured: a first thread's exit(7) followed by another's exit(9) is status 9).
// Linux's do_exit() with group_dead, and exit_notify().
func (k *Kernel) exitProcess(p *Process, last *Thread, status int) {
	if p.groupExit {
		status = p.groupStatus
	}
	p.exited = true
	p.status = status
	p.state = procZombie
	k.zombies++
	if i := slices.Index(k.live, p); i >= 0 {
		k.live = slices.Delete(k.live, i, i+1)
	}
	k.emit(&Event{Kind: EvExit, PID: p.PID, TID: last.TID, Status: status})
	k.putFiles(p)
	if mm := p.mm; mm != nil {
		k.noteMaxRSS(p, mm) // getrusage's ru_maxrss (rusage.go)
		k.dropTimers(p)     // its POSIX timers (posixtimer.go)
		p.mm = nil
		k.mmput(mm) // the last thread's reference (the others dropped theirs in exitThread)
	}
	k.reparentChildren(p)
	k.wakeAll(&p.pidfdWait)
	if p.parent == nil || k.notifyParent(p) {
		k.reap(p)
	}
}

// putFiles drops p's references to its descriptor table and its filesystem state; the
// descriptors close when the last process sharing the table lets go (CLONE_FILES).
func (k *Kernel) putFiles(p *Process) {
	if p.fds != nil {
		p.fds.users--
		if p.fds.users <= 0 {
			p.fds.closeAll()
		}
		p.fds = nil
	}
	if p.fs != nil {
		if p.fs.users--; p.fs.users <= 0 {
			p.fs.release() // the working directory (namei.go)
		}
	}
}

// notifyParent tells p's parent that p has exited: the exit signal (SIGCHLD) with si_pid,
// si_uid, si_status and the CLD_ code, and a wakeup of a wait4. It reports whether p must
// be reaped at once because the parent ignores SIGCHLD or set SA_NOCLDWAIT (with
// SA_NOCLDWAIT the signal is still sent; ignored, it is not). Linux's do_notify_parent().
func (k *Kernel) notifyParent(p *Process) bool {
	parent, sig := p.parent, p.exitSignal
	autoreap := false
	if sig == SIGCHLD && parent.sig.ignoresChildren() {
		autoreap = true
		if parent.sig.act[SIGCHLD].handler == sigIGN {
			sig = 0
		}
	}
	if sig > 0 && sig <= numSignals {
		si := newSigInfo(sig, CLD_EXITED)
		status := p.status >> 8 & 0xff
		if p.status&0x7f != 0 {
			le.PutUint32(si.b[8:], CLD_KILLED)
			status = p.status & 0x7f
		}
		le.PutUint32(si.b[16:], uint32(p.PID))
		le.PutUint32(si.b[20:], p.cred.ruid)
		le.PutUint32(si.b[24:], uint32(status))
		le.PutUint64(si.b[32:], p.insns/(nsPerSec/100)) // si_utime in clock ticks (USER_HZ)
		k.generate(parent, si, false)
	}
	k.wakeAll(&parent.sig.childWait)
	return autoreap
}

// reparentChildren gives p's children to the nearest ancestor that is a child subreaper,
// else to init (pid 1, Linux's child reaper). Zombies among them are announced to the new
// parent (init reaps them at once). Linux's forget_original_parent() and find_new_reaper().
func (k *Kernel) reparentChildren(p *Process) {
	reaper := k.initProc
	for a := p.parent; a != nil; a = a.parent {
		if a.subreaper && !a.exited {
			reaper = a
			break
		}
	}
	if reaper == nil || reaper.exited || reaper == p {
		reaper = nil
	}
	children := p.children
	p.children = nil
	k.parentDied(p, children)
	for _, c := range children {
		c.parent = reaper
		c.PPID = 0
		if reaper != nil {
			c.PPID = reaper.PID
			reaper.children = append(reaper.children, c)
		}
		if c.state == procZombie {
			// reparent_leader(): the new parent hears of the zombie, and reaps it at once
			// if it ignores its children.
			c.exitSignal = SIGCHLD
			if reaper == nil || k.notifyParent(c) {
				k.reap(c)
			}
		}
	}
}

// reap forgets a zombie: its PID is free and its parent no longer lists it.
func (k *Kernel) reap(p *Process) {
	if p.state == procZombie {
		k.zombies--
	}
	p.state = procReaped
	k.wakeAll(&p.pidfdWait) // a pidfd now hangs up
	delete(k.procs, p.PID)
	if len(k.sigFrames) > 0 {
		k.rechargeSignals() // its queued siginfos went with it
	}
	if par := p.parent; par != nil {
		if i := slices.Index(par.children, p); i >= 0 {
			par.children = slices.Delete(par.children, i, i+1)
		}
	}
}

// Wait options (include/uapi/linux/wait.h).
const (
	wNohang    = 0x1
	wUntraced  = 0x2
	wExited    = 0x4
	wContinued = 0x8
	wNowait    = 0x01000000
	wNothread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// waitBlocks is doWait's answer when the caller must sleep.
const waitBlocks = int64(-1 << 62)

// waitCall is a wait4 or waitid in progress: its arguments, kept while the caller sleeps.
type waitCall struct {
	pid     int64
	pidfd   *Process // waitid(P_PIDFD): the one child asked about
	status  uint64   // user address for the status word (0: none)
	options uint64
	rusage  uint64 // user address for a struct rusage (0: none)
	infop   uint64 // waitid: user address for the siginfo_t (0: none)
	waitid  bool
}

// waitable reports whether child c is one that w asks about. Linux's eligible_child():
// by default only children that report with SIGCHLD; __WCLONE only the others; __WALL both.
func (w *waitCall) waitable(p, c *Process) bool {
	switch {
	case w.pidfd != nil && c != w.pidfd:
		return false
	case w.pid > 0 && int64(c.PID) != w.pid:
		return false
	case w.pid == 0 && c.PGID != p.PGID:
		return false
	case w.pid < -1 && int64(c.PGID) != -w.pid:
		return false
	}
	if w.options&wAll != 0 {
		return true
	}
	return (c.exitSignal == SIGCHLD) != (w.options&wClone != 0)
}

// doWait looks for a zombie child that w asks about and reaps it: the status word and a
// struct rusage (wait4), or the siginfo_t (waitid), go to user memory, and the result is
// the child's PID (wait4) or 0 (waitid). With no such child it returns -ECHILD; with
// children that are still running, 0 for WNOHANG, else waitBlocks. Linux's do_wait().
func (k *Kernel) doWait(p *Process, w *waitCall) int64 {
	found := false
	for _, c := range p.children {
		if !w.waitable(p, c) {
			continue
		}
		found = true
		if c.state != procZombie {
			continue
		}
		// Linux reaps first and copies the status out afterwards (kernel_wait4): a bad
		// pointer is EFAULT, and the child is gone all the same.
		if w.options&wNowait == 0 {
			k.reap(c)
			p.reaped(c) // its usage joins RUSAGE_CHILDREN (rusage.go)
		}
		if w.waitid {
			if w.infop != 0 {
				si := childSigInfo(c)
				if _, ok := k.copyOut(p, w.infop, si.bytes()); !ok {
					return -int64(EFAULT)
				}
			}
		} else if w.status != 0 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(c.status))
			if _, ok := k.copyOut(p, w.status, b[:]); !ok {
				return -int64(EFAULT)
			}
		}
		if w.rusage != 0 {
			if _, ok := k.copyOut(p, w.rusage, k.childRusage(c)); !ok {
				return -int64(EFAULT)
			}
		}
		if w.waitid {
			return 0
		}
		return int64(c.PID)
	}
	switch {
	case !found:
		return -int64(ECHILD)
	case w.options&wNohang != 0:
		if w.waitid && w.infop != 0 {
			// No child is ready: waitid clears si_signo and si_pid (the whole siginfo).
			if _, ok := k.copyOut(p, w.infop, make([]byte, 128)); !ok {
				return -int64(EFAULT)
			}
		}
		return 0
	}
	return waitBlocks
}

// childSigInfo is the siginfo waitid reports for a zombie child: SIGCHLD, CLD_EXITED or
// CLD_KILLED, si_pid, si_uid, si_status.
func childSigInfo(c *Process) sigInfo {
	si := newSigInfo(SIGCHLD, CLD_EXITED)
	status := c.status >> 8 & 0xff
	if c.status&0x7f != 0 {
		le.PutUint32(si.b[8:], CLD_KILLED)
		status = c.status & 0x7f
	}
	le.PutUint32(si.b[16:], uint32(c.PID))
	le.PutUint32(si.b[20:], c.cred.ruid)
	le.PutUint32(si.b[24:], uint32(status))
	return si
}

// String describes the process for traces: "pid 3 (ppid 1, runnable) bin/prog".
func (p *Process) String() string {
	return fmt.Sprintf("pid %d (ppid %d, %s) %s", p.PID, p.PPID, p.State(), p.exe)
}
