package minikernel

import (
	"fmt"
	"slices"

	"github.com/vmemu/vmemu/cpu"
)

// Threads. A Thread is one thread of execution, Linux's task_struct: what the scheduler
// runs on a CPU and what a system call, a fault or a futex wait puts to sleep. A Process is
// a thread group (tgid, Linux's signal_struct with the objects its threads share): the
// address space, the descriptor table, the working directory and the signal handlers, each
// of which clone can also share between processes (CLONE_VM, CLONE_FILES, CLONE_FS,
// CLONE_SIGHAND). TIDs and PIDs come from one number space; a process's PID is its first
// thread's TID. kernel/fork.c (copy_process), kernel/exit.c (do_exit, do_group_exit) and
// fs/exec.c (de_thread) are the models.

// Thread is one thread of a process.
type Thread struct {
	TID   int
	proc  *Process
	regs  cpu.State // saved while the thread is not on a CPU
	state procState // runnable, blocked, or reaped once it has exited
	insns uint64    // instructions retired in this thread (its CPU time)
	// inflight holds the frames faults mapped for the thread since it last retired an
	// instruction (at faultAt): the pages the instruction being retried needs, which page
	// reclaim leaves alone so that it can complete (reclaim.go).
	inflight [maxInflight]uint64
	nflight  int
	faultAt  uint64

	exited bool
	sleep  *sleepCall // the system call the thread sleeps in (sleep.go), or nil
	// uffdPend is a fault of the running system call's copy that goes to a userfaultfd:
	// the call sleeps on it when it returns (userfaultfd.go).
	uffdPend *uffdPending
	sched    schedAttrs // nice value, policy, I/O priority (sys_sched.go)
	sig      sigState   // the signal state that is the thread's own: mask, private queue, ...

	setChildTID   uint64 // CLONE_CHILD_SETTID: where to store the TID when it first runs
	clearChildTID uint64 // set_tid_address / CLONE_CHILD_CLEARTID: zeroed, and woken, at exit
	robustHead    uint64 // set_robust_list: the robust futex list's head (futex.go)
	robustLen     uint64
	started       bool     // has run since it was created (schedule_tail has run)
	comm          [16]byte // PR_SET_NAME and /proc/self/comm: a thread's own name

	// vforkParent is the thread that cloned this one with CLONE_VFORK and sleeps until this
	// thread's process execs or exits (Linux's vfork_done); nil otherwise.
	vforkParent *Thread
	vforkDone   bool // for a parent: its vfork child has released the address space

	on       *PerCPU     // the CPU running the thread, nil when it is not on one
	lastCPU  int         // the CPU it last ran on
	affinity uint64      // the CPUs it may run on (sched_setaffinity), a bit per CPU
	readyAt  uint64      // the virtual time it became runnable: no CPU runs it earlier
	futex    *futexSleep // the futex call it sleeps in, or nil
	piOwned  []futexKey  // the PI locks with waiters that it owns (Linux's pi_state_list)
	ru       rusageAcct  // its page faults (rusage.go)
}

// Process returns the thread's process (its thread group).
func (t *Thread) Process() *Process { return t.proc }

// State returns "runnable", "blocked" or "reaped".
func (t *Thread) State() string { return t.state.String() }

// Exited reports whether the thread has ended.
func (t *Thread) Exited() bool { return t.exited }

// CPU returns the number of the CPU running the thread, or -1.
func (t *Thread) CPU() int {
	if t.on == nil {
		return -1
	}
	return t.on.id
}

// Instructions returns the instructions the thread has retired (its CPU time).
func (t *Thread) Instructions() uint64 { return t.insns }

// Sleeping returns the name of the system call the thread sleeps in, or "".
func (t *Thread) Sleeping() string {
	if t.sleep == nil {
		return ""
	}
	return t.sleep.name
}

// Name returns the thread's name (PR_SET_NAME; the program's base name after execve).
func (t *Thread) Name() string {
	n := slices.Index(t.comm[:], 0)
	if n < 0 {
		n = len(t.comm)
	}
	return string(t.comm[:n])
}

// String describes the thread for traces: "tid 4 of pid 3 (blocked in futex)".
func (t *Thread) String() string {
	s := fmt.Sprintf("tid %d of pid %d (%s", t.TID, t.proc.PID, t.state)
	if t.sleep != nil && t.state == procBlocked {
		s += " in " + t.sleep.name
	}
	return s + ")"
}

// Threads returns the process's live threads in TID order (none once it has exited).
func (p *Process) Threads() []*Thread { return slices.Clone(p.threads) }

// Thread returns the live thread with the given TID, or nil.
func (k *Kernel) Thread(tid int) *Thread { return k.tasks[tid] }

// CurrentThread returns the thread running on the CPU the kernel is acting on (nil when
// that CPU is idle).
func (k *Kernel) CurrentThread() *Thread { return k.cur }

// newThread creates a thread of p with the next TID (tid 0) or the given one (a process's
// first thread takes the process's PID) and puts it on the run queue, runnable.
func (k *Kernel) newThread(p *Process, tid int) *Thread {
	if tid == 0 {
		tid = k.allocPID()
	}
	t := &Thread{TID: tid, proc: p, affinity: k.allCPUs(), readyAt: k.nowNS(), lastCPU: -1}
	t.sig.sysnr = -1
	p.threads = append(p.threads, t)
	if p.leader == nil {
		p.leader = t
	}
	k.tasks[tid] = t
	k.runq = append(k.runq, t)
	slices.SortFunc(k.runq, func(a, b *Thread) int { return a.TID - b.TID }) // TIDs are reused
	return t
}

// allocPID returns the next unused PID or TID (PIDs wrap at Linux's default pid_max).
func (k *Kernel) allocPID() int {
	const pidMax = 1 << 22
	for {
		id := k.nextPID
		k.nextPID++
		if k.nextPID >= pidMax {
			k.nextPID = 2
		}
		if k.tasks[id] == nil && k.procs[id] == nil {
			return id
		}
	}
}

// tasksInUse counts the tasks that hold a PID: live threads and zombie processes (the
// count RLIMIT_NPROC and Config.MaxProcs bound).
func (k *Kernel) tasksInUse() int { return len(k.tasks) + k.zombies }

// exitThread ends thread t with wait status status, as Linux's do_exit() does for one
// thread: its robust futexes are released and its clear_child_tid word zeroed and woken
// (exit_mm -> mm_release), a vfork parent is let go, and the thread leaves its CPU and the
// run queue. The last thread to leave ends the process (exitProcess). A thread is never a
// zombie: only processes are waited for.
func (k *Kernel) exitThread(t *Thread, status int) {
	if t.exited {
		return
	}
	p := t.proc
	k.mmRelease(t)
	t.exited = true
	t.state = procReaped
	t.sleep = nil
	k.futexCancel(t)
	if t.on != nil {
		if t.on.cur == t {
			t.on.cur = nil // the CPU idles, its address space held lazily
			t.on.lazy = t.on.loaded != nil
		}
		if k.cur == t {
			k.cur = nil
		}
		t.on = nil
	}
	if i := slices.Index(k.runq, t); i >= 0 {
		k.runq = slices.Delete(k.runq, i, i+1)
	}
	if i := slices.Index(p.threads, t); i >= 0 {
		p.threads = slices.Delete(p.threads, i, i+1)
	}
	delete(k.tasks, t.TID)
	if len(p.threads) == 0 {
		k.exitProcess(p, t, status) // drops the thread's reference to the address space
		return
	}
	if p.mm != nil {
		k.mmput(p.mm) // the thread's reference to the address space (exit_mm)
	}
	k.emit(&Event{Kind: EvThreadExit, PID: p.PID, TID: t.TID, Status: status})
}

// mmRelease is what a thread does with its address space as it exits or execs (Linux's
// mm_release()): the robust futex list is walked (futex.go), the word at clear_child_tid
// becomes 0 and one futex waiter on it is woken (pthread_join waits there) when another
// task still uses the address space, and a vfork parent waiting for the address space is
// woken.
func (k *Kernel) mmRelease(t *Thread) {
	p := t.proc
	if p.mm != nil {
		k.inMM(t, func() {
			k.exitRobustList(t)
			k.exitPIState(t)
			if t.clearChildTID != 0 && p.mm.users > 1 {
				var zero [4]byte
				if _, ok := k.copyOut(p, t.clearChildTID, zero[:]); ok {
					k.futexWake(t, t.clearChildTID, false, 1, futexBitsetAny)
				}
			}
		})
	}
	t.clearChildTID = 0
	if v := t.vforkParent; v != nil {
		t.vforkParent = nil
		v.vforkDone = true
		k.wake(v)
	}
}

// inMM runs fn with t's address space loaded on this CPU, so that copyIn and copyOut for
// t's process reach t's memory even when another process runs here (a thread killed by a
// signal from elsewhere releases its robust futexes in its own address space). Linux runs
// that work in the dying thread's own context; kthread_use_mm() is the same idea.
func (k *Kernel) inMM(t *Thread, fn func()) {
	prev := k.cur
	if prev != nil && prev.proc.mm == t.proc.mm {
		fn()
		return
	}
	saved, lazy := k.this.loaded, k.this.lazy
	k.loadMM(t.proc.mm)
	k.cur = t
	fn()
	k.cur = prev
	if saved != nil && saved.users > 0 {
		k.loadMM(saved)
		k.this.lazy = lazy && prev == nil // an idle CPU goes back to holding it lazily
	} else {
		k.loadMM(nil)
	}
}

// deThread ends every thread of t's process but t, as execve must (Linux's de_thread()):
// a thread that is not the first takes over the first thread's TID, which is the process's
// PID, so the new program runs as the process it replaced.
func (k *Kernel) deThread(t *Thread) {
	p := t.proc
	for _, o := range slices.Clone(p.threads) {
		if o != t {
			k.exitThread(o, SIGKILL)
		}
	}
	if t.TID != p.PID {
		delete(k.tasks, t.TID)
		t.TID = p.PID
		k.tasks[t.TID] = t
		slices.SortFunc(k.runq, func(a, b *Thread) int { return a.TID - b.TID })
	}
	p.leader = t
}

// curProc returns the process of the thread running on this CPU, or nil.
func (k *Kernel) curProc() *Process {
	if k.cur == nil {
		return nil
	}
	return k.cur.proc
}
