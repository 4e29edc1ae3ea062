package minikernel

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu"
)

// The signal frame byte for byte, rt_sigreturn, system-call restarts and the system calls'
// errno answers: what a program on the host cannot see directly, since the host has XSAVE
// (a larger frame) and this CPU does not.

// sigKernel returns a kernel whose one process (hello, loaded, not run) has an executable
// page at code holding code, and registers set for a test: RIP code+ripOff, RSP rsp.
func sigKernel(t *testing.T, code []byte, ripOff uint64) (*Kernel, *Process, uint64) {
	t.Helper()
	k, p := idle(t, 64<<20)
	page := mmapAnon(t, k, p, 0, 4096, ProtRead|ProtWrite|ProtExec, mapPrivate)
	_, ok := k.copyOut(p, page, code)
	require.True(t, ok)
	k.cpu.SetRIP(page + ripOff)
	return k, p, page
}

// setAction installs a disposition as rt_sigaction(2) would.
func setAction(t *testing.T, k *Kernel, p *Process, sig int, act sigAction) {
	t.Helper()
	var b [sigactionLen]byte
	for i, v := range []uint64{act.handler, act.flags, act.restorer, act.mask} {
		binary.LittleEndian.PutUint64(b[8*i:], v)
	}
	va := p.mm.stackTop - 4096
	_, ok := k.copyOut(p, va, b[:])
	require.True(t, ok)
	a := [6]uint64{uint64(sig), va, 0, sigsetSize}
	require.Zero(t, sysRtSigaction(k, p, &a))
}

func peek(t *testing.T, k *Kernel, p *Process, va uint64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	_, ok := k.copyIn(p, va, b)
	require.True(t, ok, "reading %#x", va)
	return b
}

// The rt_sigframe of a SA_SIGINFO handler, as Linux's x64_setup_rt_frame() writes it on a
// CPU without XSAVE, and the registers the handler starts with; then rt_sigreturn puts the
// interrupted state back.
func TestSignalFrameLayout(t *testing.T) {
	k, p, page := sigKernel(t, []byte{0x0f, 0x05}, 2)
	const handler, restorer = 0x401000, 0x402000
	setAction(t, k, p, SIGUSR1, sigAction{handler: handler, flags: saSiginfo | saRestorer, restorer: restorer,
		mask: sigBit(SIGUSR2)})

	var st cpu.State
	k.cpu.Save(&st)
	rsp := st.GPR[cpu.RSP] - 0x1000 - 5 // misaligned on purpose
	for i := range st.GPR {
		st.GPR[i] = 0x1111111111111111 * uint64(i+1)
	}
	st.GPR[cpu.RSP] = rsp
	st.RFLAGS = cpu.InitialRFLAGS | cpu.FlagDF | cpu.FlagCF
	st.Ext = cpu.InitialExtState()
	st.Ext.MXCSR = 0x7f80
	st.Ext.XMM[3] = [2]uint64{0x0123456789abcdef, 0xfedcba9876543210}
	st.Ext.X87.FCW = 0x27f
	k.cpu.Load(&st)
	// Paint the stack below RSP, so that bytes Linux does not write show.
	below := rsp - 4096
	_, ok := k.copyOut(p, below, bytes.Repeat([]byte{0xaa}, int(rsp-below)))
	require.True(t, ok)
	p.leader.sig.trapNr, p.leader.sig.trapErr, p.leader.sig.cr2 = 14, 6, 0xdead000
	p.leader.sig.mask = sigBit(SIGHUP)
	p.leader.sig.sysnr = -1

	k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
	k.exitToUser(p.leader)

	// Where Linux puts them, from its own definitions rather than the implementation's
	// constants: get_sigframe() skips the 128-byte red zone and puts the 512-byte FXSAVE
	// image (no XSAVE) 64-byte aligned below it, then struct rt_sigframe below that:
	// pretcode (8) + struct ucontext (8 + 8 + 24 stack_t + 256 sigcontext + 8 sigset_t = 304)
	// + siginfo_t (128) = 440 bytes, placed so that RSP+8 is 16-byte aligned. Within it,
	// uc_mcontext is at 48, uc_sigmask at 304, info at 312.
	const ucMcontext, ucSigmask, rtInfo, rtSize = 8 + 8 + 8 + 24, 8 + 8 + 8 + 24 + 256, 8 + 304, 8 + 304 + 128
	fp := (rsp - 128 - 512) &^ 63
	frame := (fp-rtSize)&^15 - 8
	le := binary.LittleEndian
	c := k.cpu
	assert.Equal(t, frame, c.Reg(cpu.RSP), "RSP is the frame")
	assert.Zero(t, (c.Reg(cpu.RSP)+8)%16, "RSP+8 is 16-byte aligned, as after a CALL")
	assert.Equal(t, uint64(handler), c.RIP())
	assert.Equal(t, uint64(SIGUSR1), c.Reg(cpu.RDI))
	assert.Equal(t, frame+rtInfo, c.Reg(cpu.RSI), "RSI = &frame.info")
	assert.Equal(t, frame+8, c.Reg(cpu.RDX), "RDX = &frame.uc")
	assert.Zero(t, c.Reg(cpu.RAX))
	assert.Zero(t, c.RFLAGS()&(cpu.FlagDF|cpu.FlagTF), "DF and TF cleared")
	var now cpu.State
	c.Save(&now)
	assert.Equal(t, cpu.InitialExtState(), now.Ext, "the handler starts with the initial FPU state")
	assert.Equal(t, sigBit(SIGHUP)|sigBit(SIGUSR1)|sigBit(SIGUSR2), p.leader.sig.mask, "the old mask, sa_mask and the signal")

	b := peek(t, k, p, frame, rtSize)
	assert.Equal(t, uint64(restorer), le.Uint64(b[0:]), "pretcode = sa_restorer")
	assert.Equal(t, uint64(2|4), le.Uint64(b[8:]), "uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS, without UC_FP_XSTATE")
	assert.Zero(t, le.Uint64(b[16:]), "uc_link")
	assert.Equal(t, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, b[24:36], "uc_stack.ss_sp and ss_flags")
	assert.Equal(t, []byte{0xaa, 0xaa, 0xaa, 0xaa}, b[36:40], "the padding after ss_flags is not written")
	assert.Zero(t, le.Uint64(b[40:]), "uc_stack.ss_size")
	mc := b[ucMcontext:]
	// struct sigcontext (arch/x86/include/uapi/asm/sigcontext.h): r8-r15, rdi, rsi, rbp,
	// rbx, rdx, rax, rcx, rsp, then rip at 128.
	for i, r := range []int{cpu.R8, cpu.R9, cpu.R10, cpu.R11, cpu.R12, cpu.R13, cpu.R14, cpu.R15,
		cpu.RDI, cpu.RSI, cpu.RBP, cpu.RBX, cpu.RDX, cpu.RAX, cpu.RCX, cpu.RSP} {
		assert.Equal(t, st.GPR[r], le.Uint64(mc[8*i:]), "sigcontext %s", cpu.RegNames[r])
	}
	assert.Equal(t, page+2, le.Uint64(mc[128:]), "rip")
	assert.Equal(t, st.RFLAGS, le.Uint64(mc[136:]), "eflags")
	assert.Equal(t, []byte{0x33, 0, 0, 0, 0, 0, 0x2b, 0}, mc[144:152], "cs, gs, fs, ss")
	assert.Equal(t, uint64(6), le.Uint64(mc[152:]), "err")
	assert.Equal(t, uint64(14), le.Uint64(mc[160:]), "trapno")
	assert.Equal(t, sigBit(SIGHUP), le.Uint64(mc[168:]), "oldmask")
	assert.Equal(t, uint64(0xdead000), le.Uint64(mc[176:]), "cr2")
	assert.Equal(t, fp, le.Uint64(mc[184:]), "fpstate")
	assert.Equal(t, bytes.Repeat([]byte{0xaa}, 64), mc[192:256], "reserved1 is not written")
	assert.Equal(t, sigBit(SIGHUP), le.Uint64(b[ucSigmask:]), "uc_sigmask")
	info := b[rtInfo:]
	assert.Equal(t, uint32(SIGUSR1), le.Uint32(info[0:]), "si_signo")
	assert.Equal(t, uint32(p.PID), le.Uint32(info[16:]), "si_pid")
	assert.Equal(t, make([]byte, 128-48), info[48:], "the rest of siginfo_t is zero")

	img := peek(t, k, p, fp, cpu.FXSaveSize)
	var want [cpu.FXSaveSize]byte
	st.Ext.FXSave64(&want)
	assert.Equal(t, want[:cpu.FXSaveUsed], img[:cpu.FXSaveUsed], "the FXSAVE64 image")
	assert.Equal(t, bytes.Repeat([]byte{0xaa}, 48), img[416:464], "FXSAVE's reserved bytes are not written")
	sw := img[464:]
	assert.Equal(t, uint32(0x46505853), le.Uint32(sw[0:]), "magic1 = FP_XSTATE_MAGIC1")
	assert.Equal(t, uint32(512+4), le.Uint32(sw[4:]), "extended_size = the image + FP_XSTATE_MAGIC2_SIZE")
	assert.Zero(t, le.Uint64(sw[8:]), "xfeatures: none without XSAVE")
	assert.Equal(t, uint32(512), le.Uint32(sw[16:]), "xstate_size")
	assert.Equal(t, make([]byte, 28), sw[20:], "the rest of struct _fpx_sw_bytes")

	// The handler returns: its RET pops pretcode and the restorer calls rt_sigreturn.
	c.SetReg(cpu.RSP, frame+8)
	c.SetRFLAGS(cpu.InitialRFLAGS | cpu.FlagID)
	a := [6]uint64{}
	ret := sysRtSigreturn(k, p, &a)
	assert.Equal(t, int64(st.GPR[cpu.RAX]), ret, "rt_sigreturn returns the interrupted RAX")
	c.SetReg(cpu.RAX, uint64(ret))
	var back cpu.State
	c.Save(&back)
	assert.Equal(t, st.GPR, back.GPR)
	assert.Equal(t, page+2, back.RIP)
	assert.Equal(t, st.RFLAGS|cpu.FlagID, back.RFLAGS, "the frame's CF and DF, and the current ID (not a FIX_EFLAGS bit)")
	assert.Equal(t, st.Ext, back.Ext, "the FPU state comes back from the frame")
	assert.Equal(t, sigBit(SIGHUP), p.leader.sig.mask)
	assert.Equal(t, int64(-1), p.leader.sig.sysnr, "no restart check for the restored RAX")
}

// Without SA_SIGINFO the kernel does not write the siginfo (RSI still points at its place).
func TestSignalFrameWithoutSiginfo(t *testing.T) {
	k, p, _ := sigKernel(t, []byte{0x0f, 0x05}, 2)
	setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer, restorer: 0x402000})
	rsp := k.cpu.Reg(cpu.RSP)
	_, ok := k.copyOut(p, rsp-4096, bytes.Repeat([]byte{0xaa}, 4096))
	require.True(t, ok)
	k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
	k.exitToUser(p.leader)
	assert.Equal(t, bytes.Repeat([]byte{0xaa}, 128), peek(t, k, p, k.cpu.Reg(cpu.RSI), 128))
}

// A frame rt_sigreturn cannot use is SIGSEGV (SI_KERNEL): an unmapped one, or one whose
// FXSAVE image sets a reserved MXCSR bit (where FXRSTOR raises #GP). With SIGSEGV's default
// action the process dies.
func TestRtSigreturnBadFrame(t *testing.T) {
	for _, tc := range []struct {
		name  string
		frame func(k *Kernel, p *Process) uint64 // returns RSP at rt_sigreturn
	}{
		{"unmapped", func(k *Kernel, p *Process) uint64 { return 0x10008 }},
		{"reserved MXCSR bit", func(k *Kernel, p *Process) uint64 {
			setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer, restorer: 0x402000})
			k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
			k.exitToUser(p.leader)
			fp := binary.LittleEndian.Uint64(peek(t, k, p, k.cpu.Reg(cpu.RSP)+frMcontext+184, 8))
			k.copyOut(p, fp+24, []byte{0, 0, 1, 0}) // MXCSR bit 16
			return k.cpu.Reg(cpu.RSP) + 8
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, p, _ := sigKernel(t, []byte{0x0f, 0x05}, 2)
			k.cpu.SetReg(cpu.RSP, tc.frame(k, p))
			a := [6]uint64{}
			assert.Zero(t, sysRtSigreturn(k, p, &a))
			k.exitToUser(p.leader)
			assert.True(t, p.exited)
			assert.Equal(t, SIGSEGV, p.status)
		})
	}
}

// How the return to user mode settles a system call a signal interrupted (Linux's
// handle_signal() and arch_do_signal_or_restart()): the RAX and RIP the interrupted code
// resumes with, as the frame saved them for a handler or as they are when none runs.
func TestSyscallRestartRules(t *testing.T) {
	const nr = 61
	eintr := negErrno(EINTR)
	for _, tc := range []struct {
		name    string
		ret     int64
		handler bool
		flags   uint64
		rax     uint64
		back    uint64 // how far RIP moved back
	}{
		{"ERESTARTSYS, handler without SA_RESTART: EINTR", errRestartSys, true, 0, eintr, 0},
		{"ERESTARTSYS, handler with SA_RESTART: restart", errRestartSys, true, saRestart, nr, 2},
		{"ERESTARTNOINTR, handler: restart", errRestartNoIntr, true, 0, nr, 2},
		{"ERESTARTNOHAND, handler with SA_RESTART: EINTR", errRestartNoHand, true, saRestart, eintr, 0},
		{"ERESTART_RESTARTBLOCK, handler with SA_RESTART: EINTR", errRestartBlock, true, saRestart, eintr, 0},
		{"ERESTARTSYS, no handler: restart", errRestartSys, false, 0, nr, 2},
		{"ERESTARTNOHAND, no handler: restart", errRestartNoHand, false, 0, nr, 2},
		{"ERESTART_RESTARTBLOCK, no handler: restart_syscall", errRestartBlock, false, 0, sysRestartSyscallNr, 2},
		{"EAGAIN is a result, never restarted", -int64(EAGAIN), true, saRestart, negErrno(EAGAIN), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, p, page := sigKernel(t, []byte{0x0f, 0x05}, 2)
			setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer | tc.flags, restorer: 0x402000})
			k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
			if !tc.handler {
				p.sig.act[SIGUSR1].handler = sigIGN // ignored by the time it is delivered
			}
			p.leader.sig.sysnr = nr
			k.cpu.SetReg(cpu.RAX, uint64(tc.ret))
			k.exitToUser(p.leader)
			rax, rip := k.cpu.Reg(cpu.RAX), k.cpu.RIP()
			if tc.handler {
				mc := peek(t, k, p, k.cpu.Reg(cpu.RSP)+frMcontext, sigcontextN)
				rax, rip = binary.LittleEndian.Uint64(mc[104:]), binary.LittleEndian.Uint64(mc[128:])
			}
			assert.Equal(t, tc.rax, rax, "RAX")
			assert.Equal(t, page+2-tc.back, rip, "RIP")
			assert.Equal(t, int64(-1), p.leader.sig.sysnr)
		})
	}
}

// nanosleep interrupted by a signal that runs no handler continues through restart_syscall
// and still ends at the first call's deadline; the trace shows -ERESTART_RESTARTBLOCK, then
// restart_syscall.
func TestNanosleepRestartsWithoutHandler(t *testing.T) {
	// syscall; mov edi, eax; mov eax, 60; syscall (exit with nanosleep's result)
	code := []byte{0x0f, 0x05, 0x89, 0xc7, 0xb8, 0x3c, 0, 0, 0, 0x0f, 0x05}
	k, p, page := sigKernel(t, code, 0)
	var calls []string
	var rets []int64
	k.Subscribe(func(e *Event) {
		if e.Kind == EvSyscall {
			calls, rets = append(calls, e.Name), append(rets, e.Ret)
		}
	})
	ts := p.mm.stackTop - 8192 // setAction uses the page above
	k.copyOut(p, ts, timespecBytes(nsPerSec))
	setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer, restorer: 0x402000})
	k.cpu.SetReg(cpu.RAX, 35)
	k.cpu.SetReg(cpu.RDI, ts)
	k.cpu.SetReg(cpu.RSI, 0)
	start := k.nowNS()
	require.NoError(t, k.Step(1)) // runs the SYSCALL: p sleeps
	require.Equal(t, procBlocked, p.leader.state)
	k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
	require.Equal(t, procRunnable, p.leader.state, "the signal wakes the sleeper")
	p.sig.act[SIGUSR1].handler = sigIGN // by delivery the signal is ignored: no handler runs
	code2, err := k.Run()
	require.NoError(t, err)
	assert.Zero(t, code2, "nanosleep returned 0")
	assert.Equal(t, []string{"nanosleep", "restart_syscall", "exit"}, calls)
	assert.Equal(t, []int64{errRestartBlock, 0, 0}, rets)
	assert.GreaterOrEqual(t, k.nowNS()-start, uint64(nsPerSec))
	assert.Less(t, k.nowNS()-start, uint64(nsPerSec)+1000, "the restarted sleep ends at the first deadline")
	assert.Equal(t, page+11, k.cpu.RIP())
}

// sigaltstack's answers (Linux's do_sigaltstack()).
func TestSigaltstackErrors(t *testing.T) {
	k, p, _ := sigKernel(t, nil, 0)
	base := mmapAnon(t, k, p, 0, 65536, ProtRead|ProtWrite, mapPrivate)
	stack := func(sp uint64, flags uint32, size uint64) uint64 {
		b := make([]byte, 24)
		binary.LittleEndian.PutUint64(b[0:], sp)
		binary.LittleEndian.PutUint32(b[8:], flags)
		binary.LittleEndian.PutUint64(b[16:], size)
		va := p.mm.stackTop - 2048
		k.copyOut(p, va, b)
		return va
	}
	call := func(ss, old uint64) int64 {
		a := [6]uint64{ss, old}
		return sysSigaltstack(k, p, &a)
	}
	assert.Equal(t, -int64(ENOMEM), call(stack(base, 0, minSigStkSz-1), 0), "below MINSIGSTKSZ")
	assert.Equal(t, -int64(EINVAL), call(stack(base, 4, 65536), 0), "unknown flags")
	assert.Equal(t, -int64(EFAULT), call(0x10000, 0), "a bad pointer")
	assert.Zero(t, call(stack(base, ssOnStack, 65536), 0), "SS_ONSTACK is accepted (and ignored)")
	k.cpu.SetReg(cpu.RSP, base+100)
	assert.Equal(t, -int64(EPERM), call(stack(0, ssDisable, 0), 0), "changing it while on it")
	out := p.mm.stackTop - 1024
	assert.Zero(t, call(0, out))
	got := peek(t, k, p, out, 24)
	assert.Equal(t, base, binary.LittleEndian.Uint64(got[0:]))
	assert.Equal(t, uint32(ssOnStack), binary.LittleEndian.Uint32(got[8:]), "on it")
	k.cpu.SetReg(cpu.RSP, p.mm.stackTop-4096)
	assert.Zero(t, call(stack(0, ssDisable, 0), out))
	assert.Zero(t, call(0, out))
	assert.Equal(t, uint32(ssDisable), binary.LittleEndian.Uint32(peek(t, k, p, out+8, 4)))
}

// rt_sigaction drops unknown flag bits (SA_UNSUPPORTED probing) and refuses SIGKILL,
// SIGSTOP, signals out of range and a wrong sigsetsize.
func TestRtSigactionRules(t *testing.T) {
	k, p, _ := sigKernel(t, nil, 0)
	setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer | saSiginfo | 0x400 | 1<<40})
	assert.Equal(t, uint64(saRestorer|saSiginfo), p.sig.act[SIGUSR1].flags)
	va := p.mm.stackTop - 4096
	for _, tc := range []struct {
		sig, size uint64
		act       uint64
	}{
		{SIGKILL, 8, va}, {SIGSTOP, 8, va}, {0, 8, 0}, {65, 8, 0}, {SIGUSR1, 4, va},
	} {
		a := [6]uint64{tc.sig, tc.act, 0, tc.size}
		assert.Equal(t, -int64(EINVAL), sysRtSigaction(k, p, &a), "sig %d size %d", tc.sig, tc.size)
	}
	a := [6]uint64{SIGKILL, 0, va, 8}
	assert.Zero(t, sysRtSigaction(k, p, &a), "reading SIGKILL's action is allowed")
}

// A standard signal is pending at most once; real-time signals queue every instance.
func TestPendingQueues(t *testing.T) {
	k, p, _ := sigKernel(t, nil, 0)
	p.leader.sig.mask = ^uint64(0) &^ unblockable
	for i := 0; i < 3; i++ {
		k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
		k.generate(p, userSigInfo(sigRTMin+1, siUser, p), false)
	}
	assert.Len(t, p.sig.shared.queue, 4)
	n := 0
	for {
		si, ok := k.dequeue(p.leader, 0)
		if !ok {
			break
		}
		n++
		assert.Contains(t, []int{SIGUSR1, sigRTMin + 1}, si.signo())
	}
	assert.Equal(t, 4, n)
	assert.Zero(t, p.leader.pending())
}

// alarm returns the seconds the previous alarm had left, rounded to the nearest, and never
// 0 for one still armed (Linux's alarm_setitimer()).
func TestAlarmRounding(t *testing.T) {
	k, p, _ := sigKernel(t, nil, 0)
	for _, tc := range []struct {
		left uint64
		want int64
	}{
		{0, 0}, {1, 1}, {nsPerSec / 2, 1}, {nsPerSec/2 - 1, 1}, {nsPerSec + nsPerSec/2 - 1, 1},
		{nsPerSec + nsPerSec/2, 2}, {5 * nsPerSec, 5},
	} {
		k.setTimer(p, itimerReal, tc.left, 0)
		a := [6]uint64{0}
		assert.Equal(t, tc.want, sysAlarm(k, p, &a), "%d ns left", tc.left)
	}
}

// enterSyscall makes system call nr in p (the current process) as the SYSCALL instruction
// would, and reports whether p went to sleep in it.
func enterSyscall(k *Kernel, p *Process, nr uint64, args ...uint64) bool {
	regs := []int{cpu.RDI, cpu.RSI, cpu.RDX, cpu.R10, cpu.R8, cpu.R9}
	k.cpu.SetReg(cpu.RAX, nr)
	for i, v := range args {
		k.cpu.SetReg(regs[i], v)
	}
	k.syscall(p)
	return p.leader.sleep != nil
}

// Every blocking call sleeps through the one mechanism, and a signal with a handler ends
// the sleep with the call's restart code, which the return to user mode turns into EINTR
// (the handler has no SA_RESTART): wait4 (ERESTARTSYS), nanosleep (ERESTART_RESTARTBLOCK,
// time left in rem), pause and rt_sigsuspend (ERESTARTNOHAND), rt_sigtimedwait (EINTR).
func TestBlockingCallsAreInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name string
		nr   uint64
		args func(k *Kernel, p *Process, buf uint64) []uint64
		code int64
	}{
		{"wait4", 61, func(k *Kernel, p *Process, buf uint64) []uint64 {
			_, e := k.clone(k.cur, &cloneArgs{exitSignal: SIGCHLD}) // a child that never runs before the signal
			require.Zero(t, e)
			return []uint64{^uint64(0), 0, 0, 0}
		}, errRestartSys},
		{"nanosleep", 35, func(k *Kernel, p *Process, buf uint64) []uint64 {
			k.copyOut(p, buf, timespecBytes(5*nsPerSec))
			return []uint64{buf, buf + 16}
		}, errRestartBlock},
		{"pause", 34, func(*Kernel, *Process, uint64) []uint64 { return nil }, errRestartNoHand},
		{"rt_sigsuspend", 130, func(k *Kernel, p *Process, buf uint64) []uint64 {
			k.copyOut(p, buf, make([]byte, 8))
			return []uint64{buf, 8}
		}, errRestartNoHand},
		{"rt_sigtimedwait", 128, func(k *Kernel, p *Process, buf uint64) []uint64 {
			k.copyOut(p, buf, []byte{0, 0, 0, 0, 0, 0, 0, 0x80}) // SIGRTMAX: never sent
			return []uint64{buf, 0, 0, 8}
		}, -int64(EINTR)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, p, _ := sigKernel(t, []byte{0x0f, 0x05}, 2)
			buf := mmapAnon(t, k, p, 0, 4096, ProtRead|ProtWrite, mapPrivate)
			setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer, restorer: 0x402000})
			var ret int64
			k.Subscribe(func(e *Event) {
				if e.Kind == EvSyscall && e.Name == tc.name {
					ret = e.Ret
				}
			})
			require.True(t, enterSyscall(k, p, tc.nr, tc.args(k, p, buf)...), "%s sleeps", tc.name)
			k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
			require.Equal(t, procRunnable, p.leader.state, "the signal wakes it")
			_, err := k.schedule()
			require.NoError(t, err) // resumes p: the call ends, the handler's frame is built
			assert.Equal(t, tc.code, ret, "the call's result")
			assert.Nil(t, p.leader.sleep)
			assert.Equal(t, uint64(0x401000), k.cpu.RIP(), "the handler runs")
			mc := peek(t, k, p, k.cpu.Reg(cpu.RSP)+frMcontext, sigcontextN)
			assert.Equal(t, negErrno(EINTR), binary.LittleEndian.Uint64(mc[104:]), "the interrupted code sees EINTR")
			if tc.name == "nanosleep" {
				rem := peek(t, k, p, buf+16, 16)
				assert.Equal(t, timespecBytes(5*nsPerSec), rem, "rem: all of it, no virtual time having passed")
			}
		})
	}
}

// rt_sigtimedwait takes a signal whose default action terminates, when it waits for it:
// the signal is not fatal while it waits (complete_signal() checks real_blocked).
func TestSigtimedwaitTakesAFatalSignal(t *testing.T) {
	k, p, _ := sigKernel(t, []byte{0x0f, 0x05}, 2)
	buf := mmapAnon(t, k, p, 0, 4096, ProtRead|ProtWrite, mapPrivate)
	k.copyOut(p, buf, []byte{0, 0x40, 0, 0, 0, 0, 0, 0}) // {SIGTERM}
	p.leader.sig.mask = sigBit(SIGTERM)
	require.True(t, enterSyscall(k, p, 128, buf, buf+64, 0, 8), "rt_sigtimedwait sleeps")
	k.generate(p, userSigInfo(SIGTERM, siUser, p), false)
	require.False(t, p.exited, "SIGTERM does not kill a process waiting for it")
	_, err := k.schedule()
	require.NoError(t, err)
	assert.Equal(t, uint64(SIGTERM), k.cpu.Reg(cpu.RAX), "rt_sigtimedwait returns it")
	assert.Equal(t, uint32(SIGTERM), binary.LittleEndian.Uint32(peek(t, k, p, buf+64, 4)), "si_signo")
	assert.Equal(t, sigBit(SIGTERM), p.leader.sig.mask, "the mask is back")
	assert.Zero(t, p.leader.pending())
}
