package minikernel

import "strings"

// prctl: the per-process switches. Linux's kernel/sys.c (SYSCALL_DEFINE5(prctl)). Options
// that concern another architecture (unaligned access, FP modes, SVE, endianness, MPX) are
// EINVAL as on x86-64; options for features this kernel does not model say so with EINVAL
// too, as a kernel built without them does (seccomp filters, PR_SET_TSC, PR_SET_MM,
// kernel same-page merging), and README's "What differs" lists them.

// prctl options (include/uapi/linux/prctl.h).
const (
	prSetPdeathsig         = 1
	prGetPdeathsig         = 2
	prGetDumpable          = 3
	prSetDumpable          = 4
	prGetKeepcaps          = 7
	prSetKeepcaps          = 8
	prGetTiming            = 13
	prSetTiming            = 14
	prSetName              = 15
	prGetName              = 16
	prGetSeccomp           = 21
	prSetSeccomp           = 22
	prCapbsetRead          = 23
	prCapbsetDrop          = 24
	prGetTSC               = 25
	prGetSecurebits        = 27
	prSetSecurebits        = 28
	prSetTimerslack        = 29
	prGetTimerslack        = 30
	prTaskPerfEventsDis    = 31
	prTaskPerfEventsEnable = 32
	prMCEKill              = 33
	prMCEKillGet           = 34
	prSetChildSubreaper    = 36
	prGetChildSubreaper    = 37
	prSetNoNewPrivs        = 38
	prGetNoNewPrivs        = 39
	prGetTIDAddress        = 40
	prSetTHPDisable        = 41
	prGetTHPDisable        = 42
	prCapAmbient           = 47
	prGetSpeculationCtrl   = 52
	prSetSpeculationCtrl   = 53
	prSetIOFlusher         = 57
	prGetIOFlusher         = 58
	prSetMDWE              = 65
	prGetMDWE              = 66
	prGetAuxv              = 0x41555856
	prSetVMA               = 0x53564d41

	mdweRefuseExecGain = 1
	mdweNoInherit      = 2

	defaultTimerSlack = 50_000 // nanoseconds
)

// prctlState is what prctl sets that belongs to the process (the per-mm switches are in
// MM: mdwe, undumpable).
type prctlState struct {
	pdeathSig  int    // PR_SET_PDEATHSIG: the signal this process gets when its parent dies
	timerSlack uint64 // PR_SET_TIMERSLACK (0: the default, 50 µs)
	mceKill    int64  // PR_MCE_KILL: 0 the default policy, else the policy + 1
	ioFlusher  bool
	securebits uint32
}

// forkChild is the prctl state a child starts with: the parent's, without the
// parent-death signal (copy_process() clears it).
func (s prctlState) forkChild() prctlState {
	s.pdeathSig = 0
	return s
}

// inheritMMFlags gives a new address space (fork's or execve's) the flags of old that
// outlive it, as mm_init()'s MMF_INIT_FLAGS does: memory-deny-write-execute, unless it was
// set with PR_MDWE_NO_INHERIT.
func (mm *MM) inheritMMFlags(old *MM) {
	if old == nil {
		return
	}
	if old.mdwe&mdweNoInherit == 0 {
		mm.mdwe = old.mdwe
	}
}

// denyWriteExec reports whether memory-deny-write-execute refuses a mapping whose
// protection goes from old to prot: a new writable and executable mapping, or one becoming
// executable. Linux's map_deny_write_exec().
func (mm *MM) denyWriteExec(old, prot Prot) bool {
	switch {
	case mm.mdwe&mdweRefuseExecGain == 0, prot&ProtExec == 0:
		return false
	case prot&ProtWrite != 0:
		return true
	}
	return old&ProtExec == 0
}

// parentDied sends each child of p that asked for it its parent-death signal, as
// forget_original_parent() does when p exits.
func (k *Kernel) parentDied(p *Process, children []*Process) {
	for _, c := range children {
		if c.ctl.pdeathSig != 0 && !c.exited {
			k.generate(c, userSigInfo(c.ctl.pdeathSig, siUser, p), false)
		}
	}
}

// prctl(option, arg2, arg3, arg4, arg5).
func sysPrctl(k *Kernel, p *Process, a *[6]uint64) int64 {
	opt, arg2 := int64(int32(a[0])), a[1]
	zero := func(args ...uint64) bool {
		for _, v := range args {
			if v != 0 {
				return false
			}
		}
		return true
	}
	putInt := func(va uint64, v int32) int64 {
		var b [4]byte
		le.PutUint32(b[:], uint32(v))
		if _, ok := k.copyOut(p, va, b[:]); !ok {
			return -int64(EFAULT)
		}
		return 0
	}
	c := &p.cred
	switch opt {
	case prSetPdeathsig:
		if arg2 > numSignals {
			return -int64(EINVAL)
		}
		p.ctl.pdeathSig = int(arg2)
	case prGetPdeathsig:
		return putInt(arg2, int32(p.ctl.pdeathSig))
	case prGetDumpable:
		if p.mm.undumpable {
			return 0
		}
		return 1
	case prSetDumpable:
		if arg2 > 1 {
			return -int64(EINVAL) // SUID_DUMP_ROOT may not be set this way
		}
		p.mm.undumpable = arg2 == 0
	case prGetKeepcaps:
		if c.keepCaps {
			return 1
		}
		return 0
	case prSetKeepcaps:
		if arg2 > 1 {
			return -int64(EINVAL)
		}
		c.keepCaps = arg2 == 1
	case prGetTiming:
		return 0 // PR_TIMING_STATISTICAL
	case prSetTiming:
		if arg2 != 0 {
			return -int64(EINVAL)
		}
	case prSetName:
		s, e := k.copyInString(p, arg2, 16)
		if e == ENAMETOOLONG {
			var b [15]byte
			if _, ok := k.copyIn(p, arg2, b[:]); !ok {
				return -int64(EFAULT)
			}
			s, e = string(b[:]), 0
		}
		if e != 0 {
			return -int64(e)
		}
		k.cur.comm = [16]byte{}
		copy(k.cur.comm[:15], s)
	case prGetName:
		if _, ok := k.copyOut(p, arg2, k.cur.comm[:]); !ok {
			return -int64(EFAULT)
		}
	case prGetSeccomp:
		return 0 // SECCOMP_MODE_DISABLED
	case prCapbsetRead:
		if arg2 > capLast {
			return -int64(EINVAL)
		}
		return int64(c.capBnd >> arg2 & 1)
	case prCapbsetDrop:
		if arg2 > capLast {
			return -int64(EINVAL)
		}
		if !c.capable(capSetpcap) {
			return -int64(EPERM)
		}
		c.capBnd &^= 1 << arg2
	case prGetSecurebits:
		return int64(p.ctl.securebits)
	case prSetSecurebits:
		if !c.capable(capSetpcap) {
			return -int64(EPERM)
		}
		if arg2 > 0xff {
			return -int64(EINVAL)
		}
		p.ctl.securebits = uint32(arg2)
	case prSetTimerslack:
		p.ctl.timerSlack = arg2 // 0 restores the default
	case prGetTimerslack:
		if p.ctl.timerSlack == 0 {
			return defaultTimerSlack
		}
		return int64(p.ctl.timerSlack)
	case prTaskPerfEventsDis, prTaskPerfEventsEnable:
		return 0 // no perf events to switch
	case prMCEKill:
		const clear, set = 0, 1
		switch arg2 {
		case clear:
			if !zero(a[2], a[3], a[4]) {
				return -int64(EINVAL)
			}
			p.ctl.mceKill = 0
		case set:
			if !zero(a[3], a[4]) || a[2] > 3 {
				return -int64(ERANGE)
			}
			p.ctl.mceKill = int64(a[2]) + 1
		default:
			return -int64(EINVAL)
		}
	case prMCEKillGet:
		if !zero(arg2, a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		if p.ctl.mceKill == 0 {
			return 3 // PR_MCE_KILL_DEFAULT
		}
		return p.ctl.mceKill - 1
	case prSetChildSubreaper:
		p.subreaper = arg2 != 0
	case prGetChildSubreaper:
		v := int32(0)
		if p.subreaper {
			v = 1
		}
		return putInt(arg2, v)
	case prSetNoNewPrivs:
		if arg2 != 1 || !zero(a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		c.noNewPrivs = true
	case prGetNoNewPrivs:
		if !zero(arg2, a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		if c.noNewPrivs {
			return 1
		}
		return 0
	case prGetTIDAddress:
		var b [8]byte
		le.PutUint64(b[:], k.cur.clearChildTID)
		if _, ok := k.copyOut(p, arg2, b[:]); !ok {
			return -int64(EFAULT)
		}
	case prSetTHPDisable:
		if !zero(a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		p.mm.thpDisable = arg2 != 0
	case prGetTHPDisable:
		if !zero(arg2, a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		if p.mm.thpDisable {
			return 1
		}
		return 0
	case prCapAmbient:
		return prctlCapAmbient(p, a)
	case prGetSpeculationCtrl:
		if !zero(a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		if arg2 > 2 {
			return -int64(ENODEV)
		}
		return 0 // PR_SPEC_NOT_AFFECTED: the emulated CPU does not speculate
	case prSetSpeculationCtrl:
		if arg2 > 2 {
			return -int64(ENODEV)
		}
		return -int64(ENXIO) // nothing to control on a CPU that is not affected
	case prSetIOFlusher:
		if !c.capable(capSysRes) {
			return -int64(EPERM)
		}
		if arg2 > 1 || !zero(a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		p.ctl.ioFlusher = arg2 == 1
	case prGetIOFlusher:
		if !c.capable(capSysRes) {
			return -int64(EPERM)
		}
		if !zero(arg2, a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		if p.ctl.ioFlusher {
			return 1
		}
		return 0
	case prSetMDWE:
		return prctlSetMDWE(p.mm, arg2, a)
	case prGetMDWE:
		if !zero(arg2, a[2], a[3], a[4]) {
			return -int64(EINVAL)
		}
		return int64(p.mm.mdwe)
	case prGetAuxv:
		if !zero(a[3], a[4]) {
			return -int64(EINVAL)
		}
		aux := p.mm.auxv
		if n := min(uint64(len(aux)), a[2]); n > 0 {
			if _, ok := k.copyOut(p, arg2, aux[:n]); !ok {
				return -int64(EFAULT)
			}
		}
		return int64(len(aux))
	case prSetVMA:
		return k.prctlSetVMA(p, a)
	default:
		return -int64(EINVAL)
	}
	return 0
}

// prctlSetMDWE is PR_SET_MDWE: memory-deny-write-execute, once set, stays (EPERM to clear
// it or change its flags). Linux's prctl_set_mdwe().
func prctlSetMDWE(mm *MM, bits uint64, a *[6]uint64) int64 {
	switch {
	case a[2] != 0 || a[3] != 0 || a[4] != 0:
		return -int64(EINVAL)
	case bits&^(mdweRefuseExecGain|mdweNoInherit) != 0:
		return -int64(EINVAL)
	case bits&mdweNoInherit != 0 && bits&mdweRefuseExecGain == 0:
		return -int64(EINVAL)
	case mm.mdwe != 0 && uint64(mm.mdwe) != bits:
		return -int64(EPERM)
	}
	mm.mdwe = uint8(bits)
	return 0
}

// prctlCapAmbient is PR_CAP_AMBIENT: IS_SET, RAISE, LOWER, CLEAR_ALL.
func prctlCapAmbient(p *Process, a *[6]uint64) int64 {
	const isSet, raise, lower, clearAll = 1, 2, 3, 4
	c := &p.cred
	if a[1] == clearAll {
		if a[2] != 0 || a[3] != 0 || a[4] != 0 {
			return -int64(EINVAL)
		}
		c.capAmb = 0
		return 0
	}
	if a[3] != 0 || a[4] != 0 || a[2] > capLast {
		return -int64(EINVAL)
	}
	bit := uint64(1) << a[2]
	switch a[1] {
	case isSet:
		if c.capAmb&bit != 0 {
			return 1
		}
		return 0
	case raise:
		if c.capPrm&bit == 0 || c.capInh&bit == 0 {
			return -int64(EPERM)
		}
		c.capAmb |= bit
	case lower:
		c.capAmb &^= bit
	default:
		return -int64(EINVAL)
	}
	return 0
}

// prctlSetVMA is PR_SET_VMA with PR_SET_VMA_ANON_NAME: anonymous areas in [start,
// start+len) get a name ("[anon:NAME]" in /proc/PID/maps), or lose it (NULL). The name is
// at most 80 bytes of printable characters other than \`$[]. Linux's prctl_set_vma() and
// madvise_set_anon_name().
func (k *Kernel) prctlSetVMA(p *Process, a *[6]uint64) int64 {
	const anonName, maxName = 0, 80
	if a[1] != anonName {
		return -int64(EINVAL)
	}
	start, length, uname := a[2], a[3], a[4]
	name := ""
	if uname != 0 {
		s, e := k.copyInString(p, uname, maxName)
		if e == ENAMETOOLONG {
			return -int64(EINVAL)
		}
		if e != 0 {
			return -int64(e)
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < ' ' || c > '~' || c == '\\' || c == '`' || c == '$' || c == '[' || c == ']' {
				return -int64(EINVAL)
			}
		}
		name = "[anon:" + s + "]"
	}
	if start&0xfff != 0 {
		return -int64(EINVAL)
	}
	end := start + pageRoundUp(length)
	if end < start {
		return -int64(EINVAL)
	}
	if end == start {
		return 0
	}
	mm := p.mm
	if !mm.intersects(start, end) {
		return -int64(ENOMEM)
	}
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		if mm.vmas[i].Obj != nil && mm.vmas[i].file().kind != fileShm {
			return -int64(EBADF) // only anonymous memory takes a name
		}
	}
	mm.splitAt(start)
	mm.splitAt(end)
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		if v := mm.vmas[i]; v.Name == "" || strings.HasPrefix(v.Name, "[anon:") {
			v.Name = name // [heap] and [stack] keep their names, as in /proc/PID/maps
		}
	}
	mm.mergeRange(start, end)
	if !mm.covered(start, end) {
		return -int64(ENOMEM)
	}
	return 0
}
