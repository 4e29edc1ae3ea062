package minikernel

import (
	"fmt"

	"github.com/vmemu/vmemu/cpu"
)

// The x86-64 signal frame, rt_sigreturn and sigaltstack: Linux's arch/x86/kernel/signal.c
// (get_sigframe), signal_64.c (x64_setup_rt_frame, rt_sigreturn, restore_sigcontext),
// fpu/signal.c (copy_fpstate_to_sigframe, fpu__restore_sig) and kernel/signal.c
// (do_sigaltstack). The CPU has no XSAVE, so the FPU state in the frame is the 512-byte
// FXSAVE image, as Linux writes it for such a CPU.
//
// The frame, from the handler's RSP up (struct rt_sigframe, asm/sigframe.h):
//
//	+0    pretcode      the handler's return address: sa_restorer (rt_sigreturn)
//	+8    uc_flags      UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS (no UC_FP_XSTATE: no XSAVE)
//	+16   uc_link       0
//	+24   uc_stack      ss_sp, ss_flags, ss_size: the alternate stack as it was
//	+48   uc_mcontext   struct sigcontext: r8-r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp,
//	                    rip, eflags, cs, gs, fs, ss, err, trapno, oldmask, cr2, fpstate,
//	                    reserved1[8] (not written)
//	+304  uc_sigmask    the mask to restore
//	+312  info          siginfo_t (128 bytes; written only for SA_SIGINFO)
//	+440  ...padding... then, 64-byte aligned, the FXSAVE image that fpstate points to,
//	      with Linux's struct _fpx_sw_bytes in its software-available bytes 464-511
//
// Below the interrupted RSP the 128-byte red zone is left alone; at the handler's first
// instruction RSP+8 is a multiple of 16, as after a CALL.

// Frame layout (offsets from the frame's start).
const (
	frUCFlags   = 8
	frUCLink    = 16
	frUCStack   = 24
	frMcontext  = 48
	frSigmask   = 304
	frInfo      = 312
	frameSize   = 440
	sigcontextN = 192 // the bytes of struct sigcontext before reserved1
	redZone     = 128

	ucSigcontextSS     = 0x2
	ucStrictRestoreSS  = 0x4
	userCS, userDS     = 0x33, 0x2b // __USER_CS, __USER_DS
	minSigStkSz        = 2048       // MINSIGSTKSZ
	ssOnStack          = 1
	ssDisable          = 2
	ssAutoDisarm       = 1 << 31
	fpxMagic1          = 0x46505853 // FP_XSTATE_MAGIC1
	fpxMagic2Size      = 4          // FP_XSTATE_MAGIC2_SIZE
	flagRF             = 1 << 16
	fixEflags          = cpu.FlagAC | cpu.FlagOF | cpu.FlagDF | cpu.FlagTF | cpu.FlagSF | cpu.FlagZF | cpu.FlagAF | cpu.FlagPF | cpu.FlagCF | flagRF
	sigcontextGPRCount = 16
)

// sigcontextRegs is the order of the general registers in struct sigcontext.
var sigcontextRegs = [sigcontextGPRCount]int{cpu.R8, cpu.R9, cpu.R10, cpu.R11, cpu.R12, cpu.R13,
	cpu.R14, cpu.R15, cpu.RDI, cpu.RSI, cpu.RBP, cpu.RBX, cpu.RDX, cpu.RAX, cpu.RCX, cpu.RSP}

// onAltStack reports whether sp lies on p's alternate signal stack (Linux's
// __on_sig_stack(): above its base, at most its size above).
func (s *sigState) onAltStack(sp uint64) bool {
	return sp > s.altSP && sp-s.altSP <= s.altSize
}

// altStackFlags is sigaltstack's ss_flags for a process at sp: SS_DISABLE without an
// alternate stack, SS_ONSTACK on it, else 0. With SS_AUTODISARM a process is never
// considered on it. Linux's sas_ss_flags() and on_sig_stack().
func (s *sigState) altStackFlags(sp uint64) uint32 {
	if s.altSize == 0 {
		return ssDisable
	}
	if s.altFlags&ssAutoDisarm == 0 && s.onAltStack(sp) {
		return ssOnStack
	}
	return 0
}

// sigframeAt chooses where the frame for a handler with flags goes, given the interrupted
// RSP: below the red zone, or at the top of the alternate stack for SA_ONSTACK when the
// process is not on it already; the FXSAVE image 64-byte aligned below that, the frame
// below the image with RSP+8 16-byte aligned. ok is false when a frame on the alternate
// stack would overflow it. Linux's get_sigframe() and fpu__alloc_mathframe().
func (s *sigState) sigframeAt(flags, rsp uint64) (frame, fpstate uint64, ok bool) {
	nested := s.altFlags&ssAutoDisarm == 0 && s.onAltStack(rsp)
	entering := false
	sp := rsp - redZone
	if flags&saOnStack != 0 && s.altStackFlags(sp) == 0 {
		sp = s.altSP + s.altSize
		entering = true
	}
	fpstate = (sp - cpu.FXSaveSize) &^ 63
	frame = (fpstate-frameSize)&^15 - 8
	if (nested || entering) && !s.onAltStack(frame) {
		return 0, 0, false
	}
	return frame, fpstate, true
}

// fpuImage fills img with the FXSAVE image of ext and Linux's software bytes
// (save_sw_bytes(): magic1, extended_size = the image + FP_XSTATE_MAGIC2_SIZE, xfeatures =
// 0 since a CPU without XSAVE has no user xfeatures, xstate_size = the image).
func fpuImage(img *[cpu.FXSaveSize]byte, ext *cpu.ExtState) {
	ext.FXSave64(img)
	sw := img[464:]
	clear(sw)
	le.PutUint32(sw[0:], fpxMagic1)
	le.PutUint32(sw[4:], cpu.FXSaveSize+fpxMagic2Size)
	le.PutUint64(sw[8:], 0)
	le.PutUint32(sw[16:], cpu.FXSaveSize)
}

// setupFrame builds the frame for delivering info to the handler act on p's user stack
// and points the registers at the handler: RDI = the signal, RSI = &frame.info, RDX =
// &frame.uc, RAX = 0, RIP = the handler, RSP = the frame; DF, RF and TF cleared; the FPU
// state reset to its initial state (it is in the frame). It reports false, leaving the
// registers alone, when the frame cannot be written. Linux's x64_setup_rt_frame() and
// handle_signal(), writing exactly the bytes they write.
//
// Preconditions: t is the thread running on this CPU.
func (k *Kernel) setupFrame(t *Thread, info *sigInfo, act sigAction, oldmask uint64) (uint64, bool) {
	if act.flags&saRestorer == 0 {
		return 0, false // "x86-64 should always use SA_RESTORER"
	}
	p := t.proc
	var st cpu.State
	k.cpu.Save(&st)
	s := &t.sig
	frame, fp, ok := s.sigframeAt(act.flags, st.GPR[cpu.RSP])
	if !ok {
		return 0, false
	}
	var img [cpu.FXSaveSize]byte
	fpuImage(&img, &st.Ext)
	if !k.put(p, fp, img[:cpu.FXSaveUsed]) || !k.put(p, fp+464, img[464:]) {
		return 0, false
	}
	var b [frInfo]byte
	le.PutUint64(b[0:], act.restorer)
	le.PutUint64(b[frUCFlags:], ucSigcontextSS|ucStrictRestoreSS)
	le.PutUint64(b[frUCLink:], 0)
	le.PutUint64(b[frUCStack:], s.altSP)
	le.PutUint32(b[frUCStack+8:], s.altFlags)
	le.PutUint64(b[frUCStack+16:], s.altSize)
	mc := b[frMcontext:]
	for i, r := range sigcontextRegs {
		le.PutUint64(mc[8*i:], st.GPR[r])
	}
	le.PutUint64(mc[128:], st.RIP)
	le.PutUint64(mc[136:], st.RFLAGS)
	le.PutUint16(mc[144:], userCS)
	le.PutUint16(mc[146:], 0) // gs
	le.PutUint16(mc[148:], 0) // fs
	le.PutUint16(mc[150:], userDS)
	le.PutUint64(mc[152:], s.trapErr)
	le.PutUint64(mc[160:], s.trapNr)
	le.PutUint64(mc[168:], oldmask)
	le.PutUint64(mc[176:], s.cr2)
	le.PutUint64(mc[184:], fp)
	le.PutUint64(b[frSigmask:], oldmask)
	// ss_flags is an int followed by padding that Linux leaves as it was, and reserved1 is
	// not written either.
	if !k.put(p, frame, b[:frUCStack+12]) || !k.put(p, frame+frUCStack+16, b[frUCStack+16:frMcontext+sigcontextN]) ||
		!k.put(p, frame+frSigmask, b[frSigmask:frInfo]) {
		return 0, false
	}
	if act.flags&saSiginfo != 0 && !k.put(p, frame+frInfo, info.bytes()) {
		return 0, false
	}
	st.GPR[cpu.RDI] = uint64(info.signo())
	st.GPR[cpu.RAX] = 0
	st.GPR[cpu.RSI] = frame + frInfo
	st.GPR[cpu.RDX] = frame + frUCFlags
	st.GPR[cpu.RSP] = frame
	st.RIP = act.handler
	st.RFLAGS &^= cpu.FlagDF | flagRF | cpu.FlagTF
	st.Ext = cpu.InitialExtState() // fpu__clear_user_states()
	k.cpu.Load(&st)
	return frame, true
}

// put writes b to p's memory at va.
func (k *Kernel) put(p *Process, va uint64, b []byte) bool {
	_, ok := k.copyOut(p, va, b)
	return ok && !p.exited
}

// rt_sigreturn(): return from a handler. The frame is at RSP-8 (the handler's RET popped
// pretcode): the mask, the registers (RFLAGS only in its user-changeable bits), the FPU
// state and the alternate stack come back, and the interrupted code resumes with its RAX.
// FS and GS bases are not in the frame and stay as they are. A frame that cannot be read,
// or with an FXSAVE image FXRSTOR would refuse, is SIGSEGV. Linux's rt_sigreturn() and
// restore_sigcontext().
func sysRtSigreturn(k *Kernel, p *Process, a *[6]uint64) int64 {
	var st cpu.State
	k.cpu.Save(&st)
	frame := st.GPR[cpu.RSP] - 8
	if frame >= userTop || frame+frameSize > userTop || frame+frameSize < frame {
		return k.badFrame(p, frame)
	}
	var b [frInfo]byte
	if _, ok := k.copyIn(p, frame+frSigmask, b[frSigmask:frInfo]); !ok {
		return k.badFrame(p, frame)
	}
	if _, ok := k.copyIn(p, frame+frUCFlags, b[frUCFlags:frUCLink]); !ok {
		return k.badFrame(p, frame)
	}
	t := k.cur
	k.setBlocked(t, le.Uint64(b[frSigmask:])&^unblockable)
	t.sig.restart = nil // a restart pending from before the handler is EINTR now
	t.sig.sysnr = -1    // the restored RAX is not a system call's result to restart
	if _, ok := k.copyIn(p, frame+frMcontext, b[frMcontext:frMcontext+sigcontextN]); !ok {
		return k.badFrame(p, frame)
	}
	mc := b[frMcontext:]
	for i, r := range sigcontextRegs {
		st.GPR[r] = le.Uint64(mc[8*i:])
	}
	st.RIP = le.Uint64(mc[128:])
	st.RFLAGS = st.RFLAGS&^fixEflags | le.Uint64(mc[136:])&fixEflags&^flagRF
	if fp := le.Uint64(mc[184:]); fp == 0 {
		st.Ext = cpu.InitialExtState()
	} else {
		var img [cpu.FXSaveSize]byte
		if _, ok := k.copyIn(p, fp, img[:]); !ok || !st.Ext.FXRstor64(&img) {
			st.Ext = cpu.InitialExtState() // fpu__restore_sig() failed: the initial state
			k.cpu.Load(&st)
			return k.badFrame(p, frame)
		}
	}
	k.cpu.Load(&st)
	// restore_altstack(): only a bad pointer is an error.
	if _, ok := k.copyIn(p, frame+frUCStack, b[frUCStack:frMcontext]); !ok {
		return k.badFrame(p, frame)
	}
	k.doSigaltstack(p, b[frUCStack:frMcontext], nil, st.GPR[cpu.RSP])
	return int64(st.GPR[cpu.RAX])
}

// badFrame is rt_sigreturn's answer to a frame it cannot use: SIGSEGV (si_code SI_KERNEL).
// Linux's signal_fault().
func (k *Kernel) badFrame(p *Process, frame uint64) int64 {
	k.cur.sig.sysnr = -1
	k.forceSignal(p, withWhy(newSigInfo(SIGSEGV, siKernel),
		fmt.Sprintf("bad signal frame at %#x in rt_sigreturn", frame)))
	return 0
}

// withWhy attaches the kernel log's reason to a siginfo.
func withWhy(si sigInfo, why string) sigInfo {
	si.why = why
	return si
}

// doSigaltstack installs the stack_t ss (24 bytes: ss_sp, ss_flags, ss_size; nil: no
// change) and fills old (when not nil) with the current one, for a process at sp. Linux's
// do_sigaltstack(): EPERM while running on the alternate stack, EINVAL for flags other than
// SS_ONSTACK, SS_DISABLE (with SS_AUTODISARM), ENOMEM below MINSIGSTKSZ.
func (k *Kernel) doSigaltstack(p *Process, ss, old []byte, sp uint64) Errno {
	s := &k.cur.sig
	if old != nil {
		clear(old)
		le.PutUint64(old[0:], s.altSP)
		le.PutUint32(old[8:], s.altStackFlags(sp)|s.altFlags&ssAutoDisarm)
		le.PutUint64(old[16:], s.altSize)
	}
	if ss == nil {
		return 0
	}
	base, flags, size := le.Uint64(ss[0:]), le.Uint32(ss[8:]), le.Uint64(ss[16:])
	if s.altFlags&ssAutoDisarm == 0 && s.onAltStack(sp) {
		return EPERM
	}
	mode := flags &^ ssAutoDisarm
	if mode != ssDisable && mode != ssOnStack && mode != 0 {
		return EINVAL
	}
	if base == s.altSP && size == s.altSize && flags == s.altFlags {
		return 0
	}
	if mode == ssDisable {
		base, size = 0, 0
	} else if size < minSigStkSz {
		return ENOMEM
	}
	s.altSP, s.altSize, s.altFlags = base, size, flags
	return 0
}

// sigaltstack(ss, old): set and get the alternate signal stack.
func sysSigaltstack(k *Kernel, p *Process, a *[6]uint64) int64 {
	var ss, old []byte
	if a[0] != 0 {
		ss = make([]byte, 24)
		if _, ok := k.copyIn(p, a[0], ss); !ok {
			return -int64(EFAULT)
		}
	}
	if a[1] != 0 {
		old = make([]byte, 24)
	}
	if e := k.doSigaltstack(p, ss, old, k.cpu.Reg(cpu.RSP)); e != 0 {
		return -int64(e)
	}
	if old != nil {
		if _, ok := k.copyOut(p, a[1], old); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}
