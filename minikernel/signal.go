package minikernel

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/vmemu/vmemu/internal/safetext"
)

// Signals: generation, queues and dispositions, as Linux's kernel/signal.c does them for
// processes of one thread or many. A signal is generated (send_signal: queued with its siginfo, or
// dropped when ignored), then delivered when the process next returns to user mode
// (get_signal, sigdeliver.go): its handler runs on a signal frame (sigframe.go), or its
// default action is taken. The system calls that manage dispositions, masks and pending
// signals are here too; the alternate signal stack and rt_sigreturn are in sigframe.go, the
// interval timers in timers.go.

// Signal numbers (x86-64 Linux).
const (
	SIGHUP     = 1
	SIGINT     = 2
	SIGQUIT    = 3
	SIGILL     = 4
	SIGTRAP    = 5
	SIGABRT    = 6
	SIGBUS     = 7
	SIGFPE     = 8
	SIGKILL    = 9
	SIGUSR1    = 10
	SIGSEGV    = 11
	SIGUSR2    = 12
	SIGPIPE    = 13
	SIGALRM    = 14
	SIGTERM    = 15
	SIGSTKFLT  = 16
	SIGCHLD    = 17
	SIGCONT    = 18
	SIGSTOP    = 19
	SIGTSTP    = 20
	SIGTTIN    = 21
	SIGTTOU    = 22
	SIGURG     = 23
	SIGXCPU    = 24
	SIGXFSZ    = 25
	SIGVTALRM  = 26
	SIGPROF    = 27
	SIGWINCH   = 28
	SIGIO      = 29
	SIGPWR     = 30
	SIGSYS     = 31
	sigRTMin   = 32 // SIGRTMIN: signals from here on queue every instance
	numSignals = 64
)

// si_code values (include/uapi/asm-generic/siginfo.h). Negative codes say a process sent
// the signal; positive ones that the kernel did, for a reason the signal's own codes name.
const (
	siUser   = 0    // SI_USER: kill()
	siKernel = 0x80 // SI_KERNEL: the kernel (a #GP, int3, an interval timer)
	siQueue  = -1   // SI_QUEUE: sigqueue()
	siTkill  = -6   // SI_TKILL: tkill() and tgkill()

	ILL_ILLOPN = 2 // illegal operand (what Linux reports for #UD)
	FPE_INTDIV = 1 // integer divide by zero (#DE)
	FPE_FLTDIV = 3 // floating-point divide by zero
	FPE_FLTOVF = 4 // floating-point overflow
	FPE_FLTUND = 5 // floating-point underflow
	FPE_FLTRES = 6 // floating-point inexact result
	FPE_FLTINV = 7 // invalid floating-point operation
	BUS_ADRALN = 1 // invalid address alignment (#AC)
	TRAP_BRKPT = 1 // process breakpoint
	TRAP_TRACE = 2 // process trace trap (single step)
	CLD_EXITED = 1 // child has exited
	CLD_KILLED = 2 // child was killed
)

// syncSignals are the signals an instruction causes: Linux dequeues them first
// (SYNCHRONOUS_MASK), so that the frame's RIP is the faulting instruction's.
const syncSignals = 1<<(SIGSEGV-1) | 1<<(SIGBUS-1) | 1<<(SIGILL-1) | 1<<(SIGTRAP-1) |
	1<<(SIGFPE-1) | 1<<(SIGSYS-1)

var signalNames = map[int]string{SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT",
	SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
	SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
	SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGSTKFLT: "SIGSTKFLT",
	SIGCHLD: "SIGCHLD", SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP",
	SIGTTIN: "SIGTTIN", SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGXCPU: "SIGXCPU",
	SIGXFSZ: "SIGXFSZ", SIGVTALRM: "SIGVTALRM", SIGPROF: "SIGPROF", SIGWINCH: "SIGWINCH",
	SIGIO: "SIGIO", SIGPWR: "SIGPWR", SIGSYS: "SIGSYS"}

// SignalName returns "SIGSEGV" for 11, "SIGRTMIN+2" for 34.
func SignalName(sig int) string {
	if s, ok := signalNames[sig]; ok {
		return s
	}
	if sig >= sigRTMin && sig <= numSignals {
		return fmt.Sprintf("SIGRTMIN+%d", sig-sigRTMin)
	}
	return fmt.Sprintf("signal %d", sig)
}

// Dispositions, struct sigaction flags and sigprocmask's how (include/uapi/asm-generic/
// signal-defs.h, arch/x86/include/uapi/asm/signal.h).
const (
	sigDFL       = 0
	sigIGN       = 1
	saNoCldStop  = 0x1
	saNoCldWait  = 0x2
	saSiginfo    = 0x4
	saRestorer   = 0x04000000
	saOnStack    = 0x08000000
	saRestart    = 0x10000000
	saNoDefer    = 0x40000000
	saResetHand  = 0x80000000
	saExposeTag  = 0x800
	saUAPIFlags  = saNoCldStop | saNoCldWait | saSiginfo | saOnStack | saRestart | saNoDefer | saResetHand | saExposeTag | saRestorer
	sigBlock     = 0
	sigUnblock   = 1
	sigSetMask   = 2
	unblockable  = 1<<(SIGKILL-1) | 1<<(SIGSTOP-1)
	sigsetSize   = 8
	sigactionLen = 32 // x86-64 struct kernel_sigaction: handler, flags, restorer, mask
)

// sigBit is sig's bit in a signal set.
func sigBit(sig int) uint64 { return 1 << (sig - 1) }

// sigAction is one signal's disposition, as rt_sigaction stores it.
type sigAction struct {
	handler, flags, restorer, mask uint64
}

// sigInfo is one queued signal: the kernel's struct kernel_siginfo, the 48 bytes of the
// 128-byte siginfo_t that can be non-zero (si_signo, si_errno, si_code, then the union
// whose members sit at offset 16: si_pid and si_uid, si_addr, si_status, si_value,
// si_utime, si_stime), and, for a signal the kernel raised because of a fault, what the
// kernel's log says if the signal's default action kills the process.
type sigInfo struct {
	b   [48]byte
	why string
}

var le = binary.LittleEndian

// newSigInfo returns the siginfo of sig with si_code code and every other field zero
// (Linux's clear_siginfo() then the two assignments).
func newSigInfo(sig, code int) sigInfo {
	var si sigInfo
	le.PutUint32(si.b[0:], uint32(sig))
	le.PutUint32(si.b[8:], uint32(int32(code)))
	return si
}

// userSigInfo is the siginfo of a signal process from sends: si_pid and si_uid name the
// sender (kill: SI_USER; tkill and tgkill: SI_TKILL).
func userSigInfo(sig, code int, from *Process) sigInfo {
	si := newSigInfo(sig, code)
	uid := uint32(os.Getuid())
	if from != nil {
		le.PutUint32(si.b[16:], uint32(from.PID))
		uid = from.cred.ruid
	}
	le.PutUint32(si.b[20:], uid)
	return si
}

// faultSigInfo is the siginfo of a signal an instruction raised: si_addr is the address
// the fault concerns (the access for SIGSEGV and SIGBUS, the instruction for SIGILL and
// SIGFPE), why what the kernel's log says if the signal kills.
func faultSigInfo(sig, code int, addr uint64, why string) sigInfo {
	si := newSigInfo(sig, code)
	le.PutUint64(si.b[16:], addr)
	si.why = why
	return si
}

func (si *sigInfo) signo() int { return int(int32(le.Uint32(si.b[0:]))) }
func (si *sigInfo) code() int  { return int(int32(le.Uint32(si.b[8:]))) }

// sigPending is a set of pending signals and their queued siginfo, in arrival order
// (Linux's struct sigpending). A standard signal is queued at most once; real-time
// signals queue every instance.
type sigPending struct {
	set   uint64
	queue []sigInfo
}

// maxQueued bounds the siginfos queued on the machine (RLIMIT_SIGPENDING's default, for the
// one user all guest processes are; kmem.go also charges each to RAM).
const maxQueued = 64 * 1024

// next returns the signal dequeue takes next among those not in mask: a synchronous one
// first, else the lowest number; 0 if none. Linux's next_signal().
func (q *sigPending) next(mask uint64) int {
	x := q.set &^ mask
	if x == 0 {
		return 0
	}
	if x&syncSignals != 0 {
		x &= syncSignals
	}
	for sig := 1; sig <= numSignals; sig++ {
		if x&sigBit(sig) != 0 {
			return sig
		}
	}
	return 0
}

// take removes sig's first queued siginfo; the bit stays set while more instances are
// queued. A signal set without a queue entry comes with a blank SI_USER siginfo. Linux's
// collect_signal().
func (q *sigPending) take(sig int) sigInfo {
	for i := range q.queue {
		if q.queue[i].signo() == sig {
			si := q.queue[i]
			q.queue = append(q.queue[:i], q.queue[i+1:]...)
			for _, r := range q.queue[i:] {
				if r.signo() == sig {
					return si
				}
			}
			q.set &^= sigBit(sig)
			return si
		}
	}
	q.set &^= sigBit(sig)
	return newSigInfo(sig, siUser)
}

// flush forgets the pending signals in set. Linux's flush_sigqueue_mask().
func (q *sigPending) flush(set uint64) {
	q.set &^= set
	kept := q.queue[:0]
	for _, si := range q.queue {
		if set&sigBit(si.signo()) == 0 {
			kept = append(kept, si)
		}
	}
	q.queue = kept
}

// sigState is a thread's own signal state: the blocked mask, the signals sent to the
// thread itself (tgkill, raise, a fault), the alternate signal stack, and the records
// Linux keeps per thread for signal frames and system-call restarts. What the threads of a
// process share is in procSig.
type sigState struct {
	mask    uint64 // bit sig-1 set: blocked
	private sigPending

	// realBlocked is the mask rt_sigtimedwait replaced while it sleeps (Linux's
	// real_blocked): a signal it blocks is not ignored even though the mask now lets it in.
	realBlocked uint64
	// savedMask is the mask rt_sigsuspend replaced; restoreMask says the return to user
	// mode must put it back, or save it in the signal frame (TIF_RESTORE_SIGMASK).
	savedMask   uint64
	restoreMask bool

	// The alternate signal stack (sigaltstack): base, size and flags (SS_AUTODISARM).
	altSP, altSize uint64
	altFlags       uint32

	// sysnr is the system call the thread is in (Linux's orig_ax), -1 when it entered
	// the kernel otherwise, or when rt_sigreturn disabled the restart checks.
	sysnr int64
	// restart is what restart_syscall resumes (Linux's restart_block), nil when nothing.
	restart func(k *Kernel, p *Process) int64

	// The last exception's vector, error code and CR2 (thread.trap_nr, error_code, cr2):
	// a signal frame's trapno, err and cr2 report them.
	trapNr, trapErr, cr2 uint64
}

// sigHand is the table of signal dispositions, shared by a process's threads and, with
// CLONE_SIGHAND, by processes (Linux's sighand_struct).
type sigHand struct {
	act [numSignals + 1]sigAction
}

// procSig is the signal state a process's threads share (Linux's signal_struct): the
// dispositions, the signals sent to the process as a whole (kill, a timer, a child), the
// wait queue of wait4 and the interval timers.
type procSig struct {
	*sigHand
	shared sigPending

	// childWait is where wait4 sleeps until a child changes state (wait_chldexit).
	childWait waitQueue

	timers [3]itimer // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF (timers.go)

	currTarget int // the thread a process-directed signal was last given to (curr_target)
}

// cloneThread returns the signal state of a new thread: the creator's mask, nothing
// pending, and the alternate stack kept only when the thread gets an address space of its
// own or vfork's (Linux's copy_process: sas_ss_reset for CLONE_VM without CLONE_VFORK).
func (s *sigState) cloneThread(sharedVM bool) sigState {
	c := sigState{mask: s.mask, sysnr: -1}
	if !sharedVM {
		c.altSP, c.altSize, c.altFlags = s.altSP, s.altSize, s.altFlags
	}
	return c
}

// ignoresChildren reports whether children are reaped without a zombie: SIGCHLD ignored or
// SA_NOCLDWAIT (Linux's exit_notify() autoreap).
func (h *sigHand) ignoresChildren() bool {
	a := h.act[SIGCHLD]
	return a.handler == sigIGN || a.flags&saNoCldWait != 0
}

// pending returns the signals pending for t: its own and its process's.
func (t *Thread) pending() uint64 { return t.sig.private.set | t.proc.sig.shared.set }

// execReset is what execve does to signals: handlers go back to SIG_DFL (ignored signals
// stay ignored), every action loses its flags, restorer and mask, and the alternate stack
// is forgotten; the mask and the pending signals stay. Linux's flush_signal_handlers() and
// the sas_ss reset in begin_new_exec().
func (k *Kernel) execResetSignals(t *Thread) {
	p := t.proc
	h := &sigHand{}
	for i := range h.act {
		if p.sig.act[i].handler == sigIGN {
			h.act[i].handler = sigIGN
		}
	}
	p.sig.sigHand = h // unshare_sighand(): a table shared with another process is left to it
	s := &t.sig
	s.altSP, s.altSize, s.altFlags = 0, 0, 0
	s.restart = nil
}

// defaultAction is what a signal does when its disposition is SIG_DFL.
type defaultAction uint8

const (
	actTerm defaultAction = iota // terminate
	actCore                      // terminate (and dump core, which this kernel never does)
	actIgn                       // ignore
	actStop                      // stop (job control: not implemented)
)

func defaultActionOf(sig int) defaultAction {
	switch sig {
	case SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS:
		return actCore
	case SIGCHLD, SIGCONT, SIGURG, SIGWINCH:
		return actIgn
	case SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU:
		return actStop
	}
	return actTerm
}

// ignored reports whether generating sig for t drops it: its disposition ignores it and
// t neither blocks it nor waits for it in rt_sigtimedwait. Linux's sig_ignored().
func (t *Thread) ignored(sig int) bool {
	if (t.sig.mask|t.sig.realBlocked)&sigBit(sig) != 0 {
		return false
	}
	h := t.proc.sig.act[sig].handler
	return h == sigIGN || (h == sigDFL && defaultActionOf(sig) == actIgn)
}

// fatal reports whether delivering sig would terminate the process by its default action.
// Linux's sig_fatal().
func (h *sigHand) fatal(sig int) bool {
	a := defaultActionOf(sig)
	return h.act[sig].handler == sigDFL && (a == actTerm || a == actCore)
}

// signalPending reports whether a signal pending for t is not blocked: what makes a
// sleeping system call return (Linux's signal_pending(), TIF_SIGPENDING).
func (t *Thread) signalPending() bool { return t.pending()&^t.sig.mask != 0 }

// sendSignal sends sig to p from the current thread, as the kernel does for SIGPIPE
// (send_sig with SEND_SIG_NOINFO: si_code SI_USER, si_pid the sender's): to the process as
// a whole.
func (k *Kernel) sendSignal(p *Process, sig int) {
	var from *Process
	if k.cur != nil {
		from = k.cur.proc
	}
	k.generate(p, userSigInfo(sig, siUser, from), false)
}

// generate queues the signal info describes for p: to the process's shared queue, or, when
// private, to the queue of the thread running on this CPU, which must be one of p's (a
// fault, raise). Linux's __send_signal_locked() with complete_signal(): see queueSignal.
func (k *Kernel) generate(p *Process, info sigInfo, private bool) {
	var t *Thread
	if private {
		if t = k.cur; t == nil || t.proc != p {
			t = p.mainThread()
		}
		if t == nil {
			return
		}
	}
	k.queueSignal(p, t, info)
}

// generateThread queues a signal for thread t alone (tgkill, tkill).
func (k *Kernel) generateThread(t *Thread, info sigInfo) { k.queueSignal(t.proc, t, info) }

// queueSignal queues the signal info describes for thread t (its private queue), or, when
// t is nil, for process p (the shared queue), then lets a thread know: Linux's
// __send_signal_locked() and complete_signal(). An ignored signal is dropped; a standard
// signal already pending is not queued twice. A process-directed signal goes to the first
// thread that does not block it, the main thread first (wants_signal()); if every thread
// blocks it, it stays pending. A signal whose default action terminates, and that the
// chosen thread neither blocks nor waits for in rt_sigtimedwait, ends the whole process at
// once, as complete_signal() starts a group exit; others wake the chosen thread if it
// sleeps in a system call, and are delivered when it returns to user mode.
func (k *Kernel) queueSignal(p *Process, t *Thread, info sigInfo) {
	sig := info.signo()
	if sig <= 0 || sig > numSignals || p.exited || p.groupExit || p.kernelInit {
		return
	}
	probe := t
	if probe == nil {
		if probe = p.mainThread(); probe == nil {
			return
		}
	}
	if sig == SIGKILL {
		k.emit(&Event{Kind: EvSignal, PID: p.PID, TID: probe.TID, RIP: k.ripOf(probe), Signal: sig, Text: "default action: terminate"})
		k.exit(p, SIGKILL)
		return
	}
	if sig == SIGSTOP || probe.ignored(sig) {
		if sig == SIGSTOP {
			k.logf("pid %d: SIGSTOP ignored: job control (stopping processes) is not implemented", p.PID)
		}
		return
	}
	q := &p.sig.shared
	if t != nil {
		q = &t.sig.private
	}
	k.signalfdNotify(p) // signalfd.go
	bit := sigBit(sig)
	if sig < sigRTMin && q.set&bit != 0 {
		return // legacy_queue(): one instance of a standard signal
	}
	if k.chargeSignal() { // else pending without its siginfo (kmem.go)
		q.queue = append(q.queue, info)
	}
	q.set |= bit
	// complete_signal(): find a thread that wants it.
	if t == nil {
		t = k.signalTarget(p, bit)
		if t == nil {
			return // every thread blocks it: it waits in the shared queue
		}
	} else if t.sig.mask&bit != 0 {
		return
	}
	if p.sig.fatal(sig) && defaultActionOf(sig) == actTerm && t.sig.realBlocked&bit == 0 && !p.traced {
		k.emit(&Event{Kind: EvSignal, PID: p.PID, TID: t.TID, RIP: k.ripOf(t), Signal: sig, Text: "default action: terminate"})
		k.exit(p, sig)
		return
	}
	k.signalWake(t)
}

// signalTarget picks the thread of p that takes a process-directed signal with bit bit:
// the main thread if it does not block it, else the next thread after the last one chosen
// that does not (Linux's complete_signal() with wants_signal()); nil when all block it.
func (k *Kernel) signalTarget(p *Process, bit uint64) *Thread {
	if m := p.mainThread(); m != nil && m.sig.mask&bit == 0 {
		return m
	}
	n := len(p.threads)
	start := 0
	for i, t := range p.threads {
		if t.TID == p.sig.currTarget {
			start = i
		}
	}
	for i := 0; i < n; i++ {
		t := p.threads[(start+i)%n]
		if t.sig.mask&bit == 0 {
			p.sig.currTarget = t.TID
			return t
		}
	}
	return nil
}

// queuedSignals counts the siginfos queued for p and its threads (RLIMIT_SIGPENDING's
// count).
func (k *Kernel) queuedSignals(p *Process) int {
	n := len(p.sig.shared.queue)
	for _, t := range p.threads {
		n += len(t.sig.private.queue)
	}
	return n
}

// forceSignal sends a signal an instruction raised to the thread running on this CPU (one
// of p's), as Linux's force_sig_info_to_task() does: a signal it blocks or ignores gets back
// its default action and is unblocked, so that a fault can never be ignored or left pending.
func (k *Kernel) forceSignal(p *Process, info sigInfo) {
	t := k.cur
	if t == nil || t.proc != p {
		return
	}
	sig := info.signo()
	a := &p.sig.act[sig]
	if blocked := t.sig.mask&sigBit(sig) != 0; blocked || a.handler == sigIGN {
		a.handler = sigDFL
		t.sig.mask &^= sigBit(sig)
	}
	k.generateThread(t, info)
}

// dequeue takes the next signal t does not block in mask: a synchronous signal from t's
// own queue first, then t's own signals, then the process's, each by next(). Linux's
// dequeue_synchronous_signal() and dequeue_signal(); an ITIMER_REAL with an interval is
// re-armed when its SIGALRM is taken, as there.
func (k *Kernel) dequeue(t *Thread, mask uint64) (sigInfo, bool) {
	if len(k.sigFrames) > 0 {
		defer k.rechargeSignals() // the siginfo taken no longer costs its share
	}
	s := &t.sig
	if s.private.set&syncSignals&^mask != 0 {
		for _, si := range s.private.queue {
			if sig := si.signo(); si.code() > siUser && syncSignals&sigBit(sig)&^mask != 0 {
				return s.private.take(sig), true
			}
		}
	}
	for _, q := range []*sigPending{&s.private, &t.proc.sig.shared} {
		if sig := q.next(mask); sig != 0 {
			si := q.take(sig)
			if sig == SIGALRM {
				k.rearmRealTimer(t.proc)
			}
			return si, true
		}
	}
	return sigInfo{}, false
}

// ripOf returns t's instruction pointer: its CPU's if t is running, else the saved one.
func (k *Kernel) ripOf(t *Thread) uint64 {
	if t.on != nil {
		return t.on.cpu.RIP()
	}
	return t.regs.RIP
}

// killSignal ends p with sig's default action (terminate) because of a fault, writing one
// line that names the cause and, for SIGSEGV and SIGBUS, the si_code.
func (k *Kernel) killSignal(p *Process, sig, code int, rip uint64, why string) {
	name := SignalName(sig)
	if sig == SIGSEGV || sig == SIGBUS {
		name += " (" + siCodeName(sig, code) + ")"
	}
	fmt.Fprintf(k.log, "emu: pid %d killed by %s: %s\n", p.PID, name, safetext.Escape(why))
	k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: rip, Signal: sig, SigCode: code, Text: why})
	k.exit(p, sig&0x7f) // wait status: terminated by signal
}

// readSigset reads a sigset_t argument of sigsetsize bytes: EINVAL unless it is 8, EFAULT
// for a bad pointer.
func (k *Kernel) readSigset(p *Process, va, sigsetsize uint64) (uint64, Errno) {
	if sigsetsize != sigsetSize {
		return 0, EINVAL
	}
	var b [8]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return 0, EFAULT
	}
	return le.Uint64(b[:]), 0
}

// writeU64 stores v at va.
func (k *Kernel) writeU64(p *Process, va, v uint64) bool {
	var b [8]byte
	le.PutUint64(b[:], v)
	_, ok := k.copyOut(p, va, b[:])
	return ok
}

// rt_sigaction(sig, act, oldact, sigsetsize): set and get a disposition. Unknown flag bits
// are dropped (so a program can probe for them), SIGKILL and SIGSTOP cannot be changed, and
// setting a disposition that ignores a pending signal discards it. Linux's do_sigaction().
func sysRtSigaction(k *Kernel, p *Process, a *[6]uint64) int64 {
	sig := int(int32(a[0]))
	if a[3] != sigsetSize {
		return -int64(EINVAL)
	}
	var nb [sigactionLen]byte
	if a[1] != 0 {
		if _, ok := k.copyIn(p, a[1], nb[:]); !ok {
			return -int64(EFAULT)
		}
	}
	if sig < 1 || sig > numSignals || (a[1] != 0 && (sig == SIGKILL || sig == SIGSTOP)) {
		return -int64(EINVAL)
	}
	old := p.sig.act[sig]
	if a[1] != 0 {
		p.sig.act[sig] = sigAction{handler: le.Uint64(nb[0:]), flags: le.Uint64(nb[8:]) & saUAPIFlags,
			restorer: le.Uint64(nb[16:]), mask: le.Uint64(nb[24:]) &^ unblockable}
		if h := p.sig.act[sig].handler; h == sigIGN || (h == sigDFL && defaultActionOf(sig) == actIgn) {
			// POSIX: setting SIG_IGN, or SIG_DFL for a signal ignored by default, discards
			// it when pending, blocked or not.
			p.sig.shared.flush(sigBit(sig))
			for _, t := range p.threads {
				t.sig.private.flush(sigBit(sig))
			}
		}
	}
	if a[2] != 0 {
		var ob [sigactionLen]byte
		for i, v := range []uint64{old.handler, old.flags, old.restorer, old.mask} {
			le.PutUint64(ob[8*i:], v)
		}
		if _, ok := k.copyOut(p, a[2], ob[:]); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// rt_sigprocmask(how, set, oldset, sigsetsize): change the blocked mask (SIGKILL and
// SIGSTOP cannot be blocked). Signals it unblocks that are pending are delivered on the
// way back to user mode. The new mask stays even when oldset is a bad pointer, as on
// Linux.
func sysRtSigprocmask(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[3] != sigsetSize {
		return -int64(EINVAL)
	}
	t := k.cur
	old := t.sig.mask
	if a[1] != 0 {
		set, e := k.readSigset(p, a[1], a[3])
		if e != 0 {
			return -int64(e)
		}
		set &^= unblockable
		mask := t.sig.mask
		switch a[0] {
		case sigBlock:
			mask |= set
		case sigUnblock:
			mask &^= set
		case sigSetMask:
			mask = set
		default:
			return -int64(EINVAL)
		}
		k.setBlocked(t, mask)
	}
	if a[2] != 0 && !k.writeU64(p, a[2], old) {
		return -int64(EFAULT)
	}
	return 0
}

// rt_sigpending(set, sigsetsize): the pending signals the process blocks. Linux copies
// sigsetsize bytes, up to 8.
func sysRtSigpending(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[1] > sigsetSize {
		return -int64(EINVAL)
	}
	var b [8]byte
	le.PutUint64(b[:], k.cur.pending()&k.cur.sig.mask)
	if _, ok := k.copyOut(p, a[0], b[:a[1]]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// kill(pid, sig): send sig to a process, to a process group, or to every process but the
// first and the caller (si_code SI_USER). Signal 0 only checks that a target exists.
// Linux's kill_something_info().
func sysKill(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid, sig := int64(int32(a[0])), int(int32(a[1]))
	if sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	var targets []*Process
	switch {
	case pid > 0:
		if q := k.procs[int(pid)]; q != nil {
			targets = append(targets, q)
		}
	case pid == 0 || pid < -1:
		pg := p.PGID
		if pid < -1 {
			pg = int(-pid)
		}
		for _, q := range k.live {
			if q.PGID == pg {
				targets = append(targets, q)
			}
		}
	default: // -1: everyone but init and the caller
		for _, q := range k.live {
			if q != k.initProc && q != p {
				targets = append(targets, q)
			}
		}
	}
	if len(targets) == 0 {
		return -int64(ESRCH)
	}
	for _, q := range targets {
		if q.kernelInit {
			return -int64(EPERM) // init belongs to root (and ignores what it does not handle)
		}
	}
	for _, q := range targets {
		k.generate(q, userSigInfo(sig, siUser, p), false)
	}
	return 0
}

// tgkill(tgid, tid, sig): send sig to one thread, tid, of process tgid: the signal goes
// to the thread's own queue with si_code SI_TKILL (raise(), abort() and pthread_kill()
// use it). Signal 0 only checks that the thread exists. Linux's do_tkill().
func sysTgkill(k *Kernel, p *Process, a *[6]uint64) int64 {
	tgid, tid, sig := int64(int32(a[0])), int64(int32(a[1])), int(int32(a[2]))
	if tgid <= 0 || tid <= 0 || sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	return k.tkill(p, int(tgid), int(tid), sig)
}

// tkill(tid, sig): tgkill without the check that the thread belongs to a given process.
func sysTkill(k *Kernel, p *Process, a *[6]uint64) int64 {
	tid, sig := int64(int32(a[0])), int(int32(a[1]))
	if tid <= 0 || sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	return k.tkill(p, 0, int(tid), sig)
}

// tkill sends sig to thread tid (of process tgid, when not 0).
func (k *Kernel) tkill(p *Process, tgid, tid, sig int) int64 {
	t := k.tasks[tid]
	if t == nil || (tgid != 0 && t.proc.PID != tgid) || t.proc.exited {
		return -int64(ESRCH)
	}
	if sig != 0 {
		k.generateThread(t, userSigInfo(sig, siTkill, p))
	}
	return 0
}

// rt_sigqueueinfo(tgid, sig, info): send sig with the caller's siginfo (sigqueue() passes
// SI_QUEUE and a value). A process may not pretend to be the kernel or kill() when it
// signals another: a code >= 0, or SI_TKILL, is then EPERM. Linux's do_rt_sigqueueinfo().
func sysRtSigqueueinfo(k *Kernel, p *Process, a *[6]uint64) int64 {
	pid, sig := int64(int32(a[0])), int(int32(a[1]))
	var si sigInfo
	if _, ok := k.copyIn(p, a[2], si.b[:]); !ok {
		return -int64(EFAULT)
	}
	le.PutUint32(si.b[0:], uint32(sig))
	if (si.code() >= 0 || si.code() == siTkill) && pid != int64(p.PID) {
		return -int64(EPERM)
	}
	if sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	q := k.procs[int(pid)]
	if pid <= 0 || q == nil {
		return -int64(ESRCH)
	}
	if sig >= sigRTMin && !k.chargeSignal() {
		return -int64(EAGAIN) // RLIMIT_SIGPENDING, or no memory for the siginfo
	}
	k.generate(q, si, false)
	return 0
}

// rt_tgsigqueueinfo(tgid, tid, sig, info): rt_sigqueueinfo to one thread.
func sysRtTgsigqueueinfo(k *Kernel, p *Process, a *[6]uint64) int64 {
	tgid, tid, sig := int64(int32(a[0])), int64(int32(a[1])), int(int32(a[2]))
	if tgid <= 0 || tid <= 0 {
		return -int64(EINVAL)
	}
	var si sigInfo
	if _, ok := k.copyIn(p, a[3], si.b[:]); !ok {
		return -int64(EFAULT)
	}
	le.PutUint32(si.b[0:], uint32(sig))
	if (si.code() >= 0 || si.code() == siTkill) && tgid != int64(p.PID) {
		return -int64(EPERM)
	}
	if sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	t := k.tasks[int(tid)]
	if t == nil || int64(t.proc.PID) != tgid || t.proc.exited {
		return -int64(ESRCH)
	}
	if sig != 0 {
		k.generateThread(t, si)
	}
	return 0
}

// setBlocked sets t's blocked mask. Process-directed signals pending that t now blocks go
// to another thread that does not, which is woken (Linux's set_current_blocked() with
// retarget_shared_pending()).
func (k *Kernel) setBlocked(t *Thread, mask uint64) {
	newly := mask &^ t.sig.mask & t.proc.sig.shared.set
	t.sig.mask = mask
	for newly != 0 {
		bit := newly & -newly
		newly &^= bit
		for _, o := range t.proc.threads {
			if o != t && o.sig.mask&bit == 0 {
				k.signalWake(o)
				break
			}
		}
	}
}

// pause(): sleep until a signal is delivered; then EINTR (after the handler), or, when no
// handler ran, sleep again (-ERESTARTNOHAND). Nothing but a signal ends the sleep (no
// retry).
func sysPause(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.block(p, &sleepCall{intr: func() int64 { return errRestartNoHand }})
}

// rt_sigsuspend(mask, sigsetsize): replace the mask and sleep until a signal is delivered;
// the old mask comes back when the handler returns (it is saved in the frame) or at once
// when none runs. Always EINTR. Linux's sigsuspend() with set_restore_sigmask().
func sysRtSigsuspend(k *Kernel, p *Process, a *[6]uint64) int64 {
	set, e := k.readSigset(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	t := k.cur
	t.sig.savedMask = t.sig.mask
	t.sig.mask = set &^ unblockable
	return k.block(p, &sleepCall{intr: func() int64 {
		t.sig.restoreMask = true
		return errRestartNoHand
	}})
}

// rt_sigtimedwait(set, info, timeout, sigsetsize): take a pending signal of set without
// running its handler, sleeping for one until the timeout (NULL: for ever). Returns the
// signal number, EAGAIN at the timeout, EINTR when another signal's handler must run.
// Linux's do_sigtimedwait(): the set is unblocked while it sleeps, the mask it replaced
// kept in real_blocked.
func sysRtSigtimedwait(k *Kernel, p *Process, a *[6]uint64) int64 {
	which, e := k.readSigset(p, a[0], a[3])
	if e != 0 {
		return -int64(e)
	}
	var timeout uint64
	hasTimeout := a[2] != 0
	if hasTimeout {
		if timeout, e = k.readTimespec(p, a[2]); e != 0 {
			return -int64(e)
		}
	}
	which &^= unblockable
	uinfo := a[1]
	t := k.cur
	take := func() int64 {
		si, ok := k.dequeue(t, ^which)
		if !ok {
			return sysBlocks
		}
		if uinfo != 0 {
			if _, ok := k.copyOut(p, uinfo, si.bytes()); !ok {
				return -int64(EFAULT)
			}
		}
		return int64(si.signo())
	}
	if r := take(); r != sysBlocks {
		return r
	}
	if hasTimeout && timeout == 0 {
		return -int64(EAGAIN)
	}
	s := &t.sig
	s.realBlocked = s.mask
	s.mask &^= which
	restore := func() { s.mask, s.realBlocked = s.realBlocked, 0 }
	var deadline uint64
	if hasTimeout {
		deadline = k.nowNS() + timeout
	}
	return k.block(p, &sleepCall{deadline: deadline,
		retry: func() int64 {
			if r := take(); r != sysBlocks {
				restore()
				return r
			}
			if hasTimeout && k.nowNS() >= deadline {
				restore()
				return -int64(EAGAIN)
			}
			return sysBlocks
		},
		intr: func() int64 {
			restore()
			return -int64(EINTR)
		}})
}

// bytes returns the 128-byte siginfo_t a program sees.
func (si *sigInfo) bytes() []byte {
	b := make([]byte, 128)
	copy(b, si.b[:])
	return b
}
