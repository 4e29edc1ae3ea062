package minikernel

import (
	"fmt"

	"github.com/vmemu/vmemu/cpu"
)

// Delivering signals on the way back to user mode, restarting interrupted system calls,
// and turning the CPU's exceptions into signals. Linux's kernel/entry/common.c
// (exit_to_user_mode_loop), arch/x86/kernel/signal.c (arch_do_signal_or_restart,
// handle_signal), kernel/signal.c (get_signal, signal_delivered) and arch/x86/kernel/
// traps.c (do_trap, math_error, exc_general_protection, exc_int3, exc_debug_user).

// sysRestartSyscallNr is restart_syscall's number: the call a process makes to continue
// a system call interrupted with -ERESTART_RESTARTBLOCK.
const sysRestartSyscallNr = 219

// exitToUser does what every return to user mode does (exit_to_user_mode_loop): it
// delivers the pending signals p does not block, one at a time in dequeue order, each
// handler's frame on top of the previous one (so the last one set up runs first); it
// settles a system call that returned a restart code (restart it, or make it EINTR); and
// it puts back the mask rt_sigsuspend replaced when no handler took it into a frame.
//
// Preconditions: t is the thread running on this CPU, runnable.
func (k *Kernel) exitToUser(t *Thread) {
	settled := false
	for k.cur == t && !t.exited {
		info, act, ok := k.getSignal(t)
		if !ok {
			break
		}
		if !settled {
			k.restartAfterHandler(t, act)
			settled = true
		}
		k.handleSignal(t, &info, act)
	}
	if t.exited || k.cur != t {
		return
	}
	if !settled {
		k.restartWithoutHandler(t)
	}
	t.sig.sysnr = -1
	if t.sig.restoreMask {
		t.sig.restoreMask = false
		k.setBlocked(t, t.sig.savedMask)
	}
}

// getSignal dequeues signals until one has a handler, and returns it with a copy of its
// action (SA_RESETHAND gives the signal back its default action now). Ignored signals are
// dropped; a signal whose default action terminates ends t's process here (with the
// one-line reason on the kernel's log when a fault raised it). Linux's get_signal().
func (k *Kernel) getSignal(t *Thread) (sigInfo, sigAction, bool) {
	p := t.proc
	for {
		info, ok := k.dequeue(t, t.sig.mask)
		if !ok {
			return sigInfo{}, sigAction{}, false
		}
		if p.traced && k.tracer != nil && info.signo() != SIGKILL {
			// ptrace_signal(): the debugger sees the signal first, and may cancel or change it.
			if info, ok = k.traceSignal(t, info); !ok {
				if p.exited || t.exited {
					return sigInfo{}, sigAction{}, false
				}
				continue
			}
		}
		sig := info.signo()
		a := &p.sig.act[sig]
		if a.handler == sigIGN {
			continue
		}
		if a.handler != sigDFL {
			act := *a
			if act.flags&saResetHand != 0 {
				a.handler = sigDFL
			}
			return info, act, true
		}
		switch defaultActionOf(sig) {
		case actIgn:
			continue
		case actStop:
			k.logf("pid %d: %s ignored: job control (stopping processes) is not implemented", p.PID, SignalName(sig))
			continue
		}
		if info.why != "" {
			k.killSignal(p, sig, info.code(), k.cpu.RIP(), info.why)
		} else {
			k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: k.cpu.RIP(), Signal: sig, SigCode: info.code(),
				Text: "default action: terminate"})
			k.exit(p, sig)
		}
		return sigInfo{}, sigAction{}, false
	}
}

// handleSignal runs the handler act for info: it builds the frame, then blocks the
// handler's mask and the signal itself (unless SA_NODEFER) and disarms an SS_AUTODISARM
// alternate stack. When the frame cannot be written the process gets SIGSEGV instead: it
// is killed if the signal was SIGSEGV itself (force_sigsegv()). Linux's handle_signal()
// and signal_delivered().
func (k *Kernel) handleSignal(t *Thread, info *sigInfo, act sigAction) {
	p := t.proc
	s := &t.sig
	sig := info.signo()
	oldmask := s.mask
	if s.restoreMask {
		oldmask = s.savedMask // sigmask_to_save(): the frame restores the mask before sigsuspend
	}
	rip, rsp := k.cpu.RIP(), k.cpu.Reg(cpu.RSP)
	frame, ok := k.setupFrame(t, info, act, oldmask)
	if !ok {
		if p.exited {
			return
		}
		why := fmt.Sprintf("cannot write the signal frame for %s (rsp %#x, rip %#x)", SignalName(sig), rsp, rip)
		if info.why != "" {
			why = info.why + "; then " + why
		}
		if act.flags&saRestorer == 0 {
			why = fmt.Sprintf("the handler of %s has no SA_RESTORER, which x86-64 requires", SignalName(sig))
		}
		if sig == SIGSEGV {
			k.killSignal(p, SIGSEGV, siKernel, rip, why)
			return
		}
		k.forceSignal(p, withWhy(newSigInfo(SIGSEGV, siKernel), why))
		return
	}
	s.restoreMask = false
	mask := s.mask | act.mask
	if act.flags&saNoDefer == 0 {
		mask |= sigBit(sig)
	}
	k.setBlocked(t, mask&^unblockable)
	if s.altFlags&ssAutoDisarm != 0 {
		s.altSP, s.altSize, s.altFlags = 0, 0, 0
	}
	if len(k.observers) > 0 {
		k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: rip, Signal: sig, SigCode: info.code(),
			Text: fmt.Sprintf("handler %#x, frame at %#x", act.handler, frame)})
	}
}

// restartAfterHandler settles an interrupted system call before the first handler runs:
// ERESTARTSYS restarts with SA_RESTART and is EINTR without; ERESTARTNOINTR always
// restarts; ERESTARTNOHAND and ERESTART_RESTARTBLOCK are EINTR. Restarting backs RIP up to
// the 2-byte SYSCALL and puts the call's number back in RAX.
func (k *Kernel) restartAfterHandler(t *Thread, act sigAction) {
	if t.sig.sysnr < 0 {
		return
	}
	switch ret := int64(k.cpu.Reg(cpu.RAX)); ret {
	case errRestartBlock, errRestartNoHand:
		k.cpu.SetReg(cpu.RAX, negErrno(EINTR))
	case errRestartSys, errRestartNoIntr:
		if ret == errRestartSys && act.flags&saRestart == 0 {
			k.cpu.SetReg(cpu.RAX, negErrno(EINTR))
			return
		}
		k.restartSyscall(uint64(t.sig.sysnr))
	}
}

// restartWithoutHandler settles a system call interrupted by a signal that ran no handler
// (it was ignored when delivered): every restart code restarts the call, and
// ERESTART_RESTARTBLOCK continues it through restart_syscall.
func (k *Kernel) restartWithoutHandler(t *Thread) {
	if t.sig.sysnr < 0 {
		return
	}
	switch int64(k.cpu.Reg(cpu.RAX)) {
	case errRestartNoHand, errRestartSys, errRestartNoIntr:
		k.restartSyscall(uint64(t.sig.sysnr))
	case errRestartBlock:
		k.restartSyscall(sysRestartSyscallNr)
	}
}

// restartSyscall makes the thread on this CPU execute its SYSCALL again, with nr in RAX.
func (k *Kernel) restartSyscall(nr uint64) {
	k.cpu.SetReg(cpu.RAX, nr)
	k.cpu.SetRIP(k.cpu.RIP() - 2)
}

// exception turns a CPU exception raised by p's code into the signal Linux sends, with
// the siginfo and the frame's trapno, err and cr2 that arch/x86/kernel/traps.c and
// mm/fault.c give it. The signal is delivered on the way back to user mode: to a handler
// if one is installed, else by its default action, which writes the one-line reason.
func (k *Kernel) exception(p *Process, t cpu.Trap) {
	s := &k.cur.sig
	rip := t.RIP
	switch t.Vector {
	case cpu.VecPF:
		k.pageFault(p, t.Addr, t.Code, rip)
		return
	case cpu.VecGP:
		s.trapNr, s.trapErr = cpu.VecGP, uint64(t.Code)
		k.forceSignal(p, withWhy(newSigInfo(SIGSEGV, siKernel), fmt.Sprintf("general protection fault at rip %#x", rip)))
	case cpu.VecUD:
		what := fmt.Sprintf("invalid or unimplemented instruction at rip %#x: bytes % x", rip, t.Insn)
		if t.Mnemonic != "" {
			what += " (" + t.Mnemonic + ")"
		}
		s.trapNr, s.trapErr = cpu.VecUD, 0
		k.forceSignal(p, faultSigInfo(SIGILL, ILL_ILLOPN, rip, what))
	case cpu.VecDE:
		s.trapNr, s.trapErr = cpu.VecDE, 0
		k.forceSignal(p, faultSigInfo(SIGFPE, FPE_INTDIV, rip, fmt.Sprintf("divide error at rip %#x", rip)))
	case cpu.VecBP:
		// exc_int3() -> do_int3_user(): SIGTRAP with SI_KERNEL, RIP after the INT3.
		s.trapNr, s.trapErr = cpu.VecBP, 0
		k.forceSignal(p, withWhy(newSigInfo(SIGTRAP, siKernel), fmt.Sprintf("breakpoint trap at rip %#x", rip)))
	case cpu.VecDB:
		// exc_debug_user() -> send_sigtrap(): TRAP_TRACE after a single step (TF), else
		// (INT1) TRAP_BRKPT; si_addr is the next instruction.
		code := TRAP_BRKPT
		if k.cpu.RFLAGS()&cpu.FlagTF != 0 {
			code = TRAP_TRACE
		}
		s.trapNr, s.trapErr = cpu.VecDB, 0
		k.forceSignal(p, faultSigInfo(SIGTRAP, code, rip, fmt.Sprintf("debug trap at rip %#x", rip)))
	case cpu.VecMF, cpu.VecXM:
		s.trapNr, s.trapErr = uint64(t.Vector), 0
		code := k.fpuExceptionCode(t.Vector)
		if code == 0 {
			return // a spurious exception: retry the instruction, as math_error() does
		}
		k.forceSignal(p, faultSigInfo(SIGFPE, code, rip, fmt.Sprintf("floating-point exception (%s) at rip %#x",
			cpu.VectorName(t.Vector), rip)))
	case cpu.VecAC:
		s.trapNr, s.trapErr = cpu.VecAC, uint64(t.Code)
		k.forceSignal(p, faultSigInfo(SIGBUS, BUS_ADRALN, 0, fmt.Sprintf("alignment check at rip %#x", rip)))
	default:
		s.trapNr, s.trapErr = uint64(t.Vector), uint64(t.Code)
		k.forceSignal(p, withWhy(newSigInfo(SIGBUS, siKernel), fmt.Sprintf("%s at rip %#x", cpu.VectorName(t.Vector), rip)))
	}
}

// fpuExceptionCode is SIGFPE's si_code for a #MF or #XM: the first unmasked exception
// among invalid operation, divide by zero, overflow, underflow or denormal, and precision,
// read from FSW and FCW (#MF) or MXCSR (#XM); 0 when none is unmasked. Linux's
// fpu__exception_code().
func (k *Kernel) fpuExceptionCode(vector uint8) int {
	var st cpu.State
	k.cpu.Save(&st)
	var err uint32
	if vector == cpu.VecMF {
		err = uint32(st.Ext.X87.FSW &^ st.Ext.X87.FCW)
	} else {
		m := st.Ext.MXCSR
		err = ^(m >> 7) & m
	}
	switch {
	case err&0x01 != 0:
		return FPE_FLTINV
	case err&0x04 != 0:
		return FPE_FLTDIV
	case err&0x08 != 0:
		return FPE_FLTOVF
	case err&0x12 != 0:
		return FPE_FLTUND
	case err&0x20 != 0:
		return FPE_FLTRES
	}
	return 0
}

// negErrno is -e as RAX holds it.
func negErrno(e Errno) uint64 { return uint64(-int64(e)) }
