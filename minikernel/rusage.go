package minikernel

// Resource usage: getrusage, and the counts behind it (Linux's task_struct min_flt/maj_flt,
// signal_struct's totals and cmaxrss, mm's hiwater_rss). CPU time is guest instructions
// (one nanosecond each, all of it user time); a minor fault is one the kernel resolved
// without reading a page (demand-zero, copy-on-write, a page already in the page cache or
// the swap cache), a major fault one that read the file or swap (FaultOutcome.Major); the peak resident set is sampled when it can fall:
// at exit, at execve, and before large unmappings.

// rusageAcct counts one thread's or process's page faults.
type rusageAcct struct {
	minflt, majflt uint64
}

// procAcct is what a process accumulates: its own faults, and those, the CPU time and the
// largest peak resident set of its reaped children (and theirs).
type procAcct struct {
	self        rusageAcct
	child       rusageAcct
	childInsns  uint64
	maxrss      uint64 // pages: the largest resident set of its address spaces
	childMaxrss uint64 // pages: the largest of its reaped children's
	voluntary   uint64 // times a thread slept in a system call (nvcsw)
	startNS     uint64 // virtual time of its creation (/proc/PID/stat's starttime)
}

// countFault counts a fault of the current thread with the outcome it had.
func (k *Kernel) countFault(out FaultOutcome) {
	t := k.cur
	if t == nil {
		return
	}
	switch out {
	case FaultSIGSEGV, FaultSIGBUS, FaultOOM, FaultEFAULT, FaultUserfault:
	case FaultFileRead, FaultSwapIn: // out.Major(): the page had to be read
		t.ru.majflt++
		t.proc.acct.self.majflt++
	default:
		t.ru.minflt++
		t.proc.acct.self.minflt++
	}
}

// noteMaxRSS records mm's resident set in p's peak before it falls (exit, execve, a large
// munmap).
func (k *Kernel) noteMaxRSS(p *Process, mm *MM) {
	if p == nil || mm == nil {
		return
	}
	m := k.memOf(mm)
	p.acct.maxrss = max(p.acct.maxrss, mm.hiwaterRSS, m.rss)
}

// reaped adds a reaped child's usage to its parent's (wait_task_zombie()).
func (p *Process) reaped(c *Process) {
	p.acct.child.minflt += c.acct.self.minflt + c.acct.child.minflt
	p.acct.child.majflt += c.acct.self.majflt + c.acct.child.majflt
	p.acct.childInsns += c.insns + c.acct.childInsns
	p.acct.childMaxrss = max(p.acct.childMaxrss, c.acct.maxrss, c.acct.childMaxrss)
}

// rusage lays out a struct rusage (144 bytes): times from instructions, the peak resident
// set in KiB, the fault counts, the voluntary context switches.
func rusage(insns, maxrssPages uint64, ru rusageAcct, nvcsw uint64) []byte {
	b := make([]byte, 144)
	le.PutUint64(b[0:], insns/nsPerSec)
	le.PutUint64(b[8:], insns%nsPerSec/1000)
	le.PutUint64(b[32:], maxrssPages*4)
	le.PutUint64(b[64:], ru.minflt)
	le.PutUint64(b[72:], ru.majflt)
	le.PutUint64(b[128:], nvcsw)
	return b
}

// childRusage is what wait4 reports of a child it reaps: the child's own usage and its
// reaped children's.
func (k *Kernel) childRusage(c *Process) []byte {
	ru := rusageAcct{c.acct.self.minflt + c.acct.child.minflt, c.acct.self.majflt + c.acct.child.majflt}
	return rusage(c.insns+c.acct.childInsns, max(c.acct.maxrss, c.acct.childMaxrss), ru, c.acct.voluntary)
}

// getrusage(who, usage): RUSAGE_SELF (the process, every thread), RUSAGE_CHILDREN (the
// reaped children), RUSAGE_THREAD (the caller).
func sysGetrusage(k *Kernel, p *Process, a *[6]uint64) int64 {
	const self, children, thread = 0, -1, 1
	var b []byte
	switch int32(a[0]) {
	case self:
		k.noteMaxRSS(p, p.mm)
		b = rusage(p.insns, p.acct.maxrss, p.acct.self, p.acct.voluntary)
	case children:
		b = rusage(p.acct.childInsns, p.acct.childMaxrss, p.acct.child, 0)
	case thread:
		t := k.cur
		k.noteMaxRSS(p, p.mm)
		b = rusage(t.insns, p.acct.maxrss, t.ru, 0)
	default:
		return -int64(EINVAL)
	}
	if _, ok := k.copyOut(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	return 0
}
