package minikernel

import (
	"fmt"
	"sync/atomic"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Host signals: what the host sends emu (Ctrl-C, Ctrl-\, Ctrl-Z from the terminal, kill,
// a resized window) reaches the guest as a terminal and the host kernel would deliver it:
// to the guest's foreground process group, with si_code SI_KERNEL (the tty driver's
// kill_pgrp()). emu's command layer receives the host signals and posts them here
// (PostHostSignal, safe from any goroutine); the kernel delivers them at its next step, or
// at once when it was waiting for a host descriptor (a read of the terminal): such a wait
// also watches a self-pipe the post writes to, so a blocked read is interrupted as the host
// kernel would interrupt it (restarted, or EINTR after a handler, or the end of the
// process when the signal kills it).
//
// The guest has no terminal of its own: its foreground process group is the first
// process's (init's), as it stands when the signal comes.
//
// A job-control stop (SIGTSTP, SIGTTIN, SIGTTOU) that a foreground process takes with the
// default action stops the whole machine: the kernel calls Config.OnJobStop, which stops
// emu itself until the host continues it (the shell's fg), since the kernel does not stop
// single processes. A handler for it runs as usual.
//
// RequestStop (also safe from any goroutine) ends Run with a *HostStopError at the next
// step: emu's answer to a terminating signal that follows one the guest did not take
// (HostSignalUnheeded), so a guest that ignores Ctrl-C cannot keep emu from ending. Run returns with every process as it was; Close then writes back
// what is dirty.

// errnoRestart is the restart code an interrupted host wait returns through an Errno
// (the system call's result is its negation, ERESTARTSYS): the return to user mode restarts
// the call, or makes it EINTR after a handler without SA_RESTART.
const errnoRestart = Errno(-errRestartSys)

// hostSignals is the mailbox between emu's signal goroutine and the kernel.
type hostSignals struct {
	pending      atomic.Uint64 // bit sig-1 for each signal posted and not yet delivered
	stop         atomic.Int32  // the signal that asked Run to stop, or 0
	unheeded     atomic.Bool   // the last terminating host signal reached no process that takes it
	debugWake    atomic.Bool   // a debugger wants the machine back (Interrupt, debugaccess.go)
	wakeR, wakeW int           // self-pipe (non-blocking, close-on-exec); -1 until made
}

// HostStopError is what Run returns when RequestStop ended the run.
type HostStopError struct{ Signal int }

func (e *HostStopError) Error() string {
	return fmt.Sprintf("stopped by %s (the guest did not take the signal before it)", SignalName(e.Signal))
}

// initHostSignals makes the self-pipe. A kernel without one (the host refused a pipe)
// still delivers host signals at its steps; only a blocked host read is not interrupted.
func (k *Kernel) initHostSignals() {
	k.hs.wakeR, k.hs.wakeW = -1, -1
	if r, w, e := hostfs.Pipe(); e == 0 {
		k.hs.wakeR, k.hs.wakeW = r, w
	}
}

// closeHostSignals closes the self-pipe.
func (k *Kernel) closeHostSignals() {
	if k.hs.wakeR >= 0 {
		hostfs.Close(k.hs.wakeR)
		hostfs.Close(k.hs.wakeW)
		k.hs.wakeR, k.hs.wakeW = -1, -1
	}
}

// PostHostSignal records that the host sent emu signal sig, for the guest's foreground
// process group. It may be called from any goroutine.
func (k *Kernel) PostHostSignal(sig int) {
	if sig <= 0 || sig > 64 {
		return
	}
	for {
		old := k.hs.pending.Load()
		if k.hs.pending.CompareAndSwap(old, old|sigBit(sig)) {
			break
		}
	}
	k.poke()
}

// HostSignalPosted reports whether sig was posted (PostHostSignal) and is still waiting to
// be delivered. It may be called from any goroutine.
func (k *Kernel) HostSignalPosted(sig int) bool {
	return sig > 0 && sig <= 64 && k.hs.pending.Load()&sigBit(sig) != 0
}

// RequestStop asks Run to return (with a *HostStopError naming sig) at its next step. It
// may be called from any goroutine.
func (k *Kernel) RequestStop(sig int) {
	k.hs.stop.CompareAndSwap(0, int32(sig))
	k.poke()
}

// poke wakes a host wait (a full pipe already holds a wakeup: nothing more to do).
func (k *Kernel) poke() {
	if k.hs.wakeW >= 0 {
		b := [1]byte{1}
		_, _ = hostfs.Write(k.hs.wakeW, b[:])
	}
}

// stopRequested returns the error Run ends with once RequestStop was called, or nil.
func (k *Kernel) stopRequested() error {
	if sig := k.hs.stop.Load(); sig != 0 {
		return &HostStopError{Signal: int(sig)}
	}
	return nil
}

// deliverHostSignals sends every posted host signal to the foreground process group.
func (k *Kernel) deliverHostSignals() {
	set := k.hs.pending.Swap(0)
	for sig := 1; set != 0; sig++ {
		if set&1 != 0 {
			k.deliverHostSignal(sig)
		}
		set >>= 1
	}
}

// foreground returns the guest's foreground process group: the first program's.
func (k *Kernel) foreground() int {
	if k.first == nil {
		return 0
	}
	return k.first.PGID
}

// takesDefault reports whether process p would take sig's default action now: its
// disposition is SIG_DFL and some thread of it does not block it.
func takesDefault(p *Process, sig int) bool {
	if p.sig.act[sig].handler != sigDFL {
		return false
	}
	for _, t := range p.threads {
		if t.sig.mask&sigBit(sig) == 0 {
			return true
		}
	}
	return false
}

// heeds reports whether process p takes sig at all (a handler or a default action that
// does something), with some thread not blocking it.
func heeds(p *Process, sig int) bool {
	for _, t := range p.threads {
		if !t.ignored(sig) && t.sig.mask&sigBit(sig) == 0 {
			return true
		}
	}
	return false
}

// deliverHostSignal sends sig to every live process of the foreground group (none left:
// nobody gets it, as on Linux when the terminal's group is empty).
func (k *Kernel) deliverHostSignal(sig int) {
	fg := k.foreground()
	var targets []*Process
	for _, p := range k.live {
		if p.PGID == fg && !p.kernelInit && !p.exited {
			targets = append(targets, p)
		}
	}
	if defaultActionOf(sig) == actStop {
		// The machine stops when a foreground process would: emu stops itself, and the
		// processes with a handler get the signal when it continues.
		var stopper *Process
		for _, p := range targets {
			if stopper == nil && takesDefault(p, sig) {
				stopper = p
			}
		}
		if stopper != nil && k.cfg.OnJobStop != nil {
			e := Event{Kind: EvSignal, PID: stopper.PID, Signal: sig,
				Text: "from the host: default action stop (the machine stops until continued)"}
			if t := stopper.mainThread(); t != nil {
				e.TID, e.RIP = t.TID, k.ripOf(t)
			}
			k.emit(&e)
			k.cfg.OnJobStop(sig)
		}
		kept := targets[:0]
		for _, p := range targets {
			if !takesDefault(p, sig) {
				kept = append(kept, p)
			}
		}
		targets = kept
	}
	if sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT {
		heeded := false
		for _, p := range targets {
			heeded = heeded || heeds(p, sig)
		}
		k.hs.unheeded.Store(!heeded)
	}
	for _, p := range targets {
		k.generate(p, newSigInfo(sig, siKernel), false)
	}
}

// HostSignalUnheeded reports whether the last terminating signal the host sent (SIGINT,
// SIGTERM, SIGHUP, SIGQUIT) has not reached a process that takes it: it is still waiting
// to be delivered, or every process of the foreground group ignores or blocks it (or there
// is none). emu ends the run at the next such signal rather than forward it to a guest that
// does not listen. It may be called from any goroutine.
func (k *Kernel) HostSignalUnheeded() bool {
	const terminating = 1<<(SIGINT-1) | 1<<(SIGTERM-1) | 1<<(SIGHUP-1) | 1<<(SIGQUIT-1)
	return k.hs.pending.Load()&terminating != 0 || k.hs.unheeded.Load()
}

// hostSignalsPosted reports whether a host signal or a stop request waits.
func (k *Kernel) hostSignalsPosted() bool {
	return k.hs.pending.Load() != 0 || k.hs.stop.Load() != 0
}

// waitHost waits until the host descriptor fd is ready for events (POLLIN or POLLOUT), as
// a blocking read or write of it would, while watching for host signals. It returns true
// when the wait ended because the current thread has a signal to take (or is gone, or Run
// must stop): the caller then returns the restart code, and the return to user mode
// settles it.
func (k *Kernel) waitHost(fd int, events int16) (interrupted bool) {
	t := k.cur
	for {
		if k.hostSignalsPosted() {
			k.deliverHostSignals()
		}
		if t == nil || t.exited || t.proc.exited || t.signalPending() || k.hs.stop.Load() != 0 ||
			k.hs.debugWake.Swap(false) {
			return true
		}
		fds := []hostfs.PollFd{{Fd: int32(fd), Events: events}, {Fd: int32(k.hs.wakeR), Events: pollIn}}
		if k.hs.wakeR < 0 {
			fds = fds[:1]
		}
		if _, e := hostfs.PollIntr(fds, -1); e != 0 && e != hostfs.EINTR {
			return false // let the read or write itself report the problem
		}
		if len(fds) == 2 && fds[1].Revents != 0 {
			k.drainWake()
		}
		if fds[0].Revents != 0 {
			return false
		}
	}
}

// drainWake empties the self-pipe.
func (k *Kernel) drainWake() {
	var b [64]byte
	for {
		if r, _ := hostfs.Read(k.hs.wakeR, b[:]); r <= 0 {
			break
		}
	}
}

// Signal-waiting system calls: what only a signal ends.
const (
	nrPause        = 34
	nrRtSigtimedwt = 128
	nrRtSigsuspend = 130
)

// awaitHostSignal is the scheduler's idle loop when host signals reach the guest: with
// every process asleep and one of them waiting for a signal, it waits until the host sends
// one (or asks Run to stop), delivers it and reports true. Otherwise (no such sleeper, or
// host signals not wired) it reports false at once: the machine is deadlocked.
func (k *Kernel) awaitHostSignal() bool {
	if k.awaitHostIO() {
		return true
	}
	if !k.cfg.HostSignals || k.hs.wakeR < 0 {
		return false
	}
	waiting := false
	for _, t := range k.runq {
		if s := t.sleep; s != nil && (s.sysno == nrPause || s.sysno == nrRtSigsuspend || s.sysno == nrRtSigtimedwt) {
			waiting = true
		}
	}
	if !waiting {
		return false
	}
	for !k.hostSignalsPosted() {
		if k.hs.debugWake.Swap(false) {
			k.idleInterrupted = true
			return true // the debugger's turn: the sleepers sleep on when the machine resumes
		}
		_, _ = hostfs.PollIntr([]hostfs.PollFd{{Fd: int32(k.hs.wakeR), Events: pollIn}}, -1)
		k.drainWake()
	}
	k.deliverHostSignals()
	return true
}
