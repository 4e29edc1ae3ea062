package minikernel

import (
	"encoding/binary"
	"fmt"
	"os"
	"slices"

	"github.com/vmemu/vmemu/cpu"
)

// Processes: creation, exit, zombies, reparenting and wait. Linux's kernel/fork.c,
// kernel/exit.c (do_exit, exit_notify, forget_original_parent, wait_consider_task).

// procState is where a process is in its life.
type procState uint8

const (
	procRunnable procState = iota // running or ready to run
	procBlocked                   // asleep in a system call until something wakes it (sleep.go)
	procZombie                    // exited; its parent has not collected the status yet
	procReaped                    // gone
)

var procStateNames = [...]string{"runnable", "blocked", "zombie", "reaped"}

func (s procState) String() string { return procStateNames[s] }

// Process is one process.
type Process struct {
	PID    int
	PPID   int // 0 when the parent is the kernel itself
	PGID   int // process group
	mm     *MM
	regs   cpu.State
	exe    string // path of the running executable
	exited bool
	status int // wait status as Linux encodes it
	state  procState
	insns  uint64 // instructions retired in this process (its CPU time)

	parent   *Process // nil: the kernel reaps it
	children []*Process
	fds      *fdTable
	sig      sigState

	exitSignal    int      // the signal the parent gets when this process exits (SIGCHLD)
	setChildTID   uint64   // CLONE_CHILD_SETTID: where to store the PID when the child first runs
	clearChildTID uint64   // set_tid_address / CLONE_CHILD_CLEARTID
	started       bool     // has run since it was created (schedule_tail has run)
	subreaper     bool     // PR_SET_CHILD_SUBREAPER: orphaned descendants come here
	comm          [16]byte // PR_SET_NAME
	rlimits       [rlimCount]rlimit

	sleep *sleepCall // the system call the process sleeps in (sleep.go), or nil
	fs    fsState    // working directory, umask, executable path (namei.go)
}

// MM returns the process's address space (nil once it has exited).
func (p *Process) MM() *MM { return p.mm }

// Exe returns the path of the executable the process runs.
func (p *Process) Exe() string { return p.exe }

// State returns "runnable", "blocked", "zombie" or "reaped".
func (p *Process) State() string { return p.state.String() }

// Parent returns the parent process, or nil when the kernel is the parent.
func (p *Process) Parent() *Process { return p.parent }

// rlimStack returns the soft stack limit, which bounds stack growth.
func (p *Process) rlimStack() uint64 { return p.rlimits[rlimitStack].cur }

// newProcess creates a process with the next PID as a child of parent (nil: of the kernel),
// with default resource limits. The caller gives it an address space and descriptors.
func (k *Kernel) newProcess(parent *Process) *Process {
	p := &Process{PID: k.nextPID, exitSignal: SIGCHLD, parent: parent, rlimits: defaultRlimits}
	k.nextPID++
	p.PGID = p.PID
	if parent != nil {
		p.PPID, p.PGID = parent.PID, parent.PGID
		p.rlimits = parent.rlimits
		parent.children = append(parent.children, p)
	}
	k.procs[p.PID] = p
	k.live = append(k.live, p) // PIDs only grow: the run queue stays in PID order
	return p
}

// resume runs what a process owes itself when the scheduler picks it: a new child stores
// its PID for CLONE_CHILD_SETTID (Linux's schedule_tail()), and a process woken in a
// system call (wait4, a pipe, poll, nanosleep) runs it again, finishing it or sleeping on.
func (k *Kernel) resume(p *Process) {
	if !p.started {
		p.started = true
		if p.setChildTID != 0 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(p.PID))
			k.copyOut(p, p.setChildTID, b[:])
		}
	}
	if p.sleep != nil {
		k.resumeSleep(p)
	}
}

// exit ends p with wait status status: its descriptors are closed, its address space is
// torn down (every frame and page-table page released), its children go to a new parent,
// and it becomes a zombie for its parent to reap (or is reaped at once when its parent is
// the kernel or ignores SIGCHLD). Linux's do_exit() and exit_notify().
func (k *Kernel) exit(p *Process, status int) {
	if p.exited {
		return
	}
	p.exited = true
	p.status = status
	p.state = procZombie
	p.sleep = nil
	if i := slices.Index(k.live, p); i >= 0 {
		k.live = slices.Delete(k.live, i, i+1)
	}
	k.emit(&Event{Kind: EvExit, PID: p.PID, Status: status})
	if p.clearChildTID != 0 && k.cur == p {
		k.copyOut(p, p.clearChildTID, make([]byte, 4)) // mm_release(): no futex waiter can exist
	}
	p.fds.closeAll()
	p.fs.release()
	k.releaseMM(p.mm)
	p.mm = nil
	if k.cur == p {
		k.cur = nil
	}
	k.reparentChildren(p)
	if p.parent == nil || k.notifyParent(p) {
		k.reap(p)
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
		le.PutUint32(si.b[20:], uint32(os.Getuid()))
		le.PutUint32(si.b[24:], uint32(status))
		le.PutUint64(si.b[32:], p.insns/(nsPerSec/100)) // si_utime in clock ticks (USER_HZ)
		k.generate(parent, si, false)
	}
	k.wakeAll(&parent.sig.childWait)
	return autoreap
}

// reparentChildren gives p's children to the nearest ancestor that is a child subreaper,
// else to the first process (Linux's child reaper, pid 1), or to the kernel once that has
// exited. Zombies among them are reaped by the kernel or announced to the new parent.
// Linux's forget_original_parent() and find_new_reaper().
func (k *Kernel) reparentChildren(p *Process) {
	reaper := k.init
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
	p.state = procReaped
	delete(k.procs, p.PID)
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
	wContinued = 0x8
	wNothread  = 0x20000000
	wAll       = 0x40000000
	wClone     = 0x80000000
)

// waitBlocks is doWait's answer when the caller must sleep.
const waitBlocks = int64(-1 << 62)

// waitCall is a wait4 in progress: its arguments, kept while the caller sleeps.
type waitCall struct {
	pid     int64
	status  uint64 // user address for the status word (0: none)
	options uint64
	rusage  uint64 // user address for a struct rusage (0: none)
}

// waitable reports whether child c is one that w asks about. Linux's eligible_child():
// by default only children that report with SIGCHLD; __WCLONE only the others; __WALL both.
func (w *waitCall) waitable(p, c *Process) bool {
	switch {
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
// struct rusage go to user memory, and the child's PID is the result. With no such
// child it returns -ECHILD; with children that are still running, 0 for WNOHANG, else
// waitBlocks. Linux's do_wait().
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
		k.reap(c)
		if w.status != 0 {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], uint32(c.status))
			if _, ok := k.copyOut(p, w.status, b[:]); !ok {
				return -int64(EFAULT)
			}
		}
		if w.rusage != 0 {
			if _, ok := k.copyOut(p, w.rusage, rusageBytes(c.insns)); !ok {
				return -int64(EFAULT)
			}
		}
		return int64(c.PID)
	}
	switch {
	case !found:
		return -int64(ECHILD)
	case w.options&wNohang != 0:
		return 0
	}
	return waitBlocks
}

// rusageBytes is a struct rusage (144 bytes) with the user time of insns instructions at
// the virtual clock's one instruction per nanosecond, and zeros elsewhere.
func rusageBytes(insns uint64) []byte {
	b := make([]byte, 144)
	binary.LittleEndian.PutUint64(b[0:], insns/1e9)
	binary.LittleEndian.PutUint64(b[8:], insns%1e9/1e3)
	return b
}

// String describes the process for traces: "pid 3 (ppid 1, runnable) bin/prog".
func (p *Process) String() string {
	return fmt.Sprintf("pid %d (ppid %d, %s) %s", p.PID, p.PPID, p.state, p.exe)
}
