package minikernel

import (
	"encoding/binary"
	"fmt"
)

// Signals, as far as this issue goes: dispositions are recorded (rt_sigaction), masks are
// kept (rt_sigprocmask), and a signal takes its default action: terminate, ignore, or stay
// pending while blocked. Running a guest's handler needs a signal frame on the user stack
// and rt_sigreturn, which come with a later issue; until then a signal whose disposition is
// a handler takes its default action and the kernel says so on its log. Linux's
// kernel/signal.c (send_signal, get_signal, do_sigaction, sigprocmask).

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
	SIGCHLD    = 17
	SIGCONT    = 18
	SIGSTOP    = 19
	SIGTSTP    = 20
	SIGTTIN    = 21
	SIGTTOU    = 22
	SIGURG     = 23
	SIGWINCH   = 28
	numSignals = 64
)

// siKernel is SI_KERNEL, the si_code of a signal the kernel sends for a general
// protection fault.
const siKernel = 0x80

var signalNames = map[int]string{SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT",
	SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS", SIGFPE: "SIGFPE",
	SIGKILL: "SIGKILL", SIGUSR1: "SIGUSR1", SIGSEGV: "SIGSEGV", SIGUSR2: "SIGUSR2",
	SIGPIPE: "SIGPIPE", SIGALRM: "SIGALRM", SIGTERM: "SIGTERM", SIGCHLD: "SIGCHLD",
	SIGCONT: "SIGCONT", SIGSTOP: "SIGSTOP", SIGTSTP: "SIGTSTP", SIGTTIN: "SIGTTIN",
	SIGTTOU: "SIGTTOU", SIGURG: "SIGURG", SIGWINCH: "SIGWINCH"}

// SignalName returns "SIGSEGV" for 11.
func SignalName(sig int) string {
	if s, ok := signalNames[sig]; ok {
		return s
	}
	return fmt.Sprintf("signal %d", sig)
}

// Dispositions and flags of struct sigaction.
const (
	sigDFL       = 0
	sigIGN       = 1
	saNoCldWait  = 0x2
	sigBlock     = 0
	sigUnblock   = 1
	sigSetMask   = 2
	unblockable  = 1<<(SIGKILL-1) | 1<<(SIGSTOP-1)
	sigsetSize   = 8
	sigactionLen = 32 // x86-64 struct kernel_sigaction: handler, flags, restorer, mask
)

// sigAction is one signal's disposition, as rt_sigaction stores it.
type sigAction struct {
	handler, flags, restorer, mask uint64
}

// sigState is a process's signal dispositions, blocked mask and pending set.
type sigState struct {
	act     [numSignals + 1]sigAction
	mask    uint64 // bit sig-1 set: blocked
	pending uint64
}

// ignoresChildren reports whether children are reaped without a zombie: SIGCHLD ignored or
// SA_NOCLDWAIT (Linux's exit_notify() autoreap).
func (s *sigState) ignoresChildren() bool {
	a := s.act[SIGCHLD]
	return a.handler == sigIGN || a.flags&saNoCldWait != 0
}

// resetHandlers gives every signal with a handler back its default action, as execve does
// (ignored signals stay ignored, the mask and pending set are kept).
func (s *sigState) resetHandlers() {
	for i := range s.act {
		if s.act[i].handler > sigIGN {
			s.act[i] = sigAction{}
		}
	}
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
	case SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, 24, 25, 31:
		return actCore
	case SIGCHLD, SIGCONT, SIGURG, SIGWINCH:
		return actIgn
	case SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU:
		return actStop
	}
	return actTerm
}

// sendSignal delivers sig to p: SIGKILL always terminates; an ignored signal is dropped; a
// blocked one stays pending; otherwise the default action is taken.
func (k *Kernel) sendSignal(p *Process, sig int) {
	if sig == 0 || p.exited {
		return
	}
	if sig != SIGKILL && sig != SIGSTOP {
		if h := p.sig.act[sig].handler; h == sigIGN || (h == sigDFL && defaultActionOf(sig) == actIgn) {
			return
		}
		if p.sig.mask&(1<<(sig-1)) != 0 {
			p.sig.pending |= 1 << (sig - 1)
			return
		}
	}
	k.deliver(p, sig)
}

// deliver takes the action of an unblocked signal sig on p.
func (k *Kernel) deliver(p *Process, sig int) {
	h := p.sig.act[sig].handler
	act := defaultActionOf(sig)
	if sig == SIGKILL {
		act = actTerm
	}
	if h > sigIGN && sig != SIGKILL && sig != SIGSTOP && act != actIgn {
		fmt.Fprintf(k.log, "emu: pid %d: %s has a handler, but signal handlers are not implemented yet: taking the default action\n",
			p.PID, SignalName(sig))
	}
	switch act {
	case actTerm, actCore:
		k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: k.ripOf(p), Signal: sig, Text: "default action: terminate"})
		k.exit(p, sig&0x7f)
	case actStop:
		fmt.Fprintf(k.log, "emu: pid %d: %s ignored: job control (stopping processes) is not implemented\n", p.PID, SignalName(sig))
	}
}

// deliverPending takes the action of pending signals that are no longer blocked.
func (k *Kernel) deliverPending(p *Process) {
	for sig := 1; sig <= numSignals && !p.exited; sig++ {
		bit := uint64(1) << (sig - 1)
		if p.sig.pending&bit != 0 && p.sig.mask&bit == 0 {
			p.sig.pending &^= bit
			k.deliver(p, sig)
		}
	}
}

// ripOf returns p's instruction pointer: the CPU's if p is running, else the saved one.
func (k *Kernel) ripOf(p *Process) uint64 {
	if p == k.cur {
		return k.cpu.RIP()
	}
	return p.regs.RIP
}

// killSignal ends p with sig's default action (terminate) because of a fault, writing one
// line that names the cause and, for SIGSEGV and SIGBUS, the si_code.
func (k *Kernel) killSignal(p *Process, sig, code int, rip uint64, why string) {
	name := SignalName(sig)
	if sig == SIGSEGV || sig == SIGBUS {
		name += " (" + siCodeName(sig, code) + ")"
	}
	fmt.Fprintf(k.log, "emu: pid %d killed by %s: %s\n", p.PID, name, why)
	k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: rip, Signal: sig, SigCode: code, Text: why})
	k.exit(p, sig&0x7f) // wait status: terminated by signal
}

// rt_sigaction(sig, act, oldact, sigsetsize): record a disposition. Handlers are recorded
// but not run yet (see the package comment on signals above).
func sysRtSigaction(k *Kernel, p *Process, a *[6]uint64) int64 {
	sig := int(a[0])
	if a[3] != sigsetSize || sig < 1 || sig > numSignals {
		return -int64(EINVAL)
	}
	if a[1] != 0 && (sig == SIGKILL || sig == SIGSTOP) {
		return -int64(EINVAL)
	}
	var nb [sigactionLen]byte
	if a[1] != 0 {
		if _, ok := k.copyIn(p, a[1], nb[:]); !ok {
			return -int64(EFAULT)
		}
	}
	if a[2] != 0 {
		old := p.sig.act[sig]
		var ob [sigactionLen]byte
		for i, v := range []uint64{old.handler, old.flags, old.restorer, old.mask} {
			binary.LittleEndian.PutUint64(ob[8*i:], v)
		}
		if _, ok := k.copyOut(p, a[2], ob[:]); !ok {
			return -int64(EFAULT)
		}
	}
	if a[1] != 0 {
		le := binary.LittleEndian
		p.sig.act[sig] = sigAction{handler: le.Uint64(nb[0:]), flags: le.Uint64(nb[8:]),
			restorer: le.Uint64(nb[16:]), mask: le.Uint64(nb[24:]) &^ unblockable}
		if h := p.sig.act[sig].handler; h == sigIGN || (h == sigDFL && defaultActionOf(sig) == actIgn) {
			p.sig.pending &^= 1 << (sig - 1) // POSIX: setting SIG_IGN discards a pending signal
		}
	}
	return 0
}

// rt_sigprocmask(how, set, oldset, sigsetsize): change the blocked mask; signals it
// unblocks that are pending are delivered now.
func sysRtSigprocmask(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[3] != sigsetSize {
		return -int64(EINVAL)
	}
	var set uint64
	if a[1] != 0 {
		var b [8]byte
		if _, ok := k.copyIn(p, a[1], b[:]); !ok {
			return -int64(EFAULT)
		}
		set = binary.LittleEndian.Uint64(b[:]) &^ unblockable
	}
	old := p.sig.mask
	if a[1] != 0 {
		switch a[0] {
		case sigBlock:
			p.sig.mask |= set
		case sigUnblock:
			p.sig.mask &^= set
		case sigSetMask:
			p.sig.mask = set
		default:
			return -int64(EINVAL)
		}
	}
	if a[2] != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], old)
		if _, ok := k.copyOut(p, a[2], b[:]); !ok {
			p.sig.mask = old
			return -int64(EFAULT)
		}
	}
	k.deliverPending(p)
	return 0
}

// kill(pid, sig): send sig to a process, to a process group, or to every process but the
// first. Linux's kill_something_info().
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
	default: // -1: everyone but the first process and the caller
		for _, q := range k.live {
			if q != k.init && q != p {
				targets = append(targets, q)
			}
		}
	}
	if len(targets) == 0 {
		return -int64(ESRCH)
	}
	for _, q := range targets {
		k.sendSignal(q, sig)
	}
	return 0
}

// tgkill(tgid, tid, sig) and tkill(tid, sig): with one thread per process the thread is the
// process (raise() and abort() use these).
func sysTgkill(k *Kernel, p *Process, a *[6]uint64) int64 {
	tgid, tid, sig := int64(int32(a[0])), int64(int32(a[1])), int(int32(a[2]))
	if tgid <= 0 || tid <= 0 || sig < 0 || sig > numSignals {
		return -int64(EINVAL)
	}
	q := k.procs[int(tid)]
	if q == nil || int64(q.PID) != tgid || q.exited {
		return -int64(ESRCH)
	}
	k.sendSignal(q, sig)
	return 0
}

func sysTkill(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], a[0], a[1]}
	return sysTgkill(k, p, &b)
}
