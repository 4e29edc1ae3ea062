package minikernel

import (
	"fmt"
	"strings"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
	"github.com/vmemu/vmemu/mmu"
)

// The contents of the /proc files (procfs.go), in Linux's formats: fs/proc/task_mmu.c
// (maps, smaps, pagemap, statm's counts), fs/proc/array.c (status, stat), fs/proc/meminfo.c,
// arch/x86/kernel/cpu/proc.c (cpuinfo), fs/proc/stat.c.

// vmaIdentity is what maps shows of an area's backing: device, inode and name.
func (k *Kernel) vmaIdentity(mm *MM, v *VMA) (major, minor uint64, ino uint64, name string) {
	f := v.file()
	switch {
	case f != nil && f.kind == fileShm && f.ino.sysv != nil:
		return 0, 1, uint64(f.ino.sysv.id()), f.ino.name
	case f != nil && f.kind == fileShm:
		return 0, 1, f.ino.id.shm, f.ino.name
	case f != nil && f.hfd >= 0:
		var st hostfs.Stat
		if hostFstat(f.hfd, &st) == 0 {
			major, minor, ino = st.Dev>>8&0xfff|st.Dev>>32&^0xfff, st.Dev&0xff|st.Dev>>12&^0xff, st.Ino
		}
		name = k.fileLinkName(f)
		return
	case v.Name != "":
		return 0, 0, 0, v.Name
	}
	if v.Start <= mm.brk && v.End >= mm.brkStart && v.Start >= mm.brkStart && mm.brk > mm.brkStart {
		return 0, 0, 0, "[heap]"
	}
	return 0, 0, 0, ""
}

// mapsLine is one line of /proc/PID/maps: show_map_vma()'s layout, the name padded to
// column 73.
func (k *Kernel) mapsLine(mm *MM, v *VMA) string {
	major, minor, ino, name := k.vmaIdentity(mm, v)
	perm := []byte("---p")
	if v.Prot&ProtRead != 0 {
		perm[0] = 'r'
	}
	if v.Prot&ProtWrite != 0 {
		perm[1] = 'w'
	}
	if v.Prot&ProtExec != 0 {
		perm[2] = 'x'
	}
	if v.shared() {
		perm[3] = 's'
	}
	var off uint64
	if v.Obj != nil {
		off = v.Off
	}
	s := fmt.Sprintf("%08x-%08x %s %08x %02x:%02x %d ", v.Start, v.End, perm, off, major, minor, ino)
	if name != "" {
		if len(s) < 73 {
			s += strings.Repeat(" ", 73-len(s))
		}
		s += name
	}
	return s + "\n"
}

// vsyscallLine is the vsyscall page's line, last in every maps.
const vsyscallLine = "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n"

// pageStats are an area's page counts, as smaps sums them.
type pageStats struct {
	rss, pss                            uint64 // pss in 1/4096 bytes of a page
	sharedClean, sharedDirty            uint64
	privateClean, privateDirty          uint64
	referenced, anon, file, shmem, swap uint64
}

// areaStats counts the pages of [start, end) of v in mm.
func (k *Kernel) areaStats(mm *MM, v *VMA, st *pageStats) {
	f := v.file()
	if f != nil && f.ino != nil {
		st.swap += k.shmSwappedIn(f.ino, v.pgoff(v.Start), v.pgoff(v.End-1)+1) << 12
	}
	k.visitEntries(mm, v.Start, v.End, func(va, ea uint64, e mmu.PTE) {
		if isSwapPTE(e) {
			st.swap += 4096 // a swapped-out page (swap.go)
			return
		}
		pfn := e.Frame()
		maps := uint64(k.frames.Ref(pfn))
		cache := k.frames.Kind(pfn) == FrameCache
		if (cache || k.frames.flags(pfn)&flagSwapCache != 0) && maps > 1 {
			maps-- // the page cache's or swap cache's own reference
		}
		if maps == 0 {
			maps = 1
		}
		st.rss += 4096
		st.pss += 4096 * 4096 / maps
		dirty := e&mmu.PTEDirty != 0 || !cache
		switch {
		case maps > 1 && dirty:
			st.sharedDirty += 4096
		case maps > 1:
			st.sharedClean += 4096
		case dirty:
			st.privateDirty += 4096
		default:
			st.privateClean += 4096
		}
		if e&mmu.PTEAccessed != 0 {
			st.referenced += 4096
		}
		switch {
		case !cache:
			st.anon += 4096
		case f != nil && f.kind == fileShm:
			st.shmem += 4096
		default:
			st.file += 4096
		}
	})
}

// vmFlags is smaps' VmFlags line: Linux's two-letter names of the area's flags.
func vmFlags(v *VMA) string {
	var fl []string
	add := func(c bool, s string) {
		if c {
			fl = append(fl, s)
		}
	}
	add(v.Prot&ProtRead != 0, "rd")
	add(v.Prot&ProtWrite != 0, "wr")
	add(v.Prot&ProtExec != 0, "ex")
	add(v.shared(), "sh")
	add(true, "mr")
	add(v.Flags&VMDenyWrite == 0, "mw")
	add(true, "me")
	add(v.shared() && v.Flags&VMDenyWrite == 0, "ms")
	add(v.Flags&VMGrowsDown != 0, "gd")
	add(v.Flags&VMLocked != 0, "lo")
	add(v.Flags&VMDontCopy != 0, "dc")
	add(v.Flags&VMNoReserve != 0, "nr")
	add(v.Flags&VMWipeOnFork != 0, "wf")
	add(v.Flags&VMDroppable != 0, "dp")
	add(v.Flags&VMUffdMissing != 0, "um")
	add(v.Flags&VMUffdWP != 0, "uw")
	add(v.Flags&VMUffdMinor != 0, "ui")
	add(v.Obj == nil && !v.shared(), "ac")
	return strings.Join(fl, " ") + " "
}

// smapsBody is the counters smaps shows for one area (or the rollup of all).
func smapsBody(size uint64, st *pageStats, locked bool, rollup bool) string {
	var b strings.Builder
	kb := func(label string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", label, v>>10) }
	if !rollup {
		kb("Size:", size)
		kb("KernelPageSize:", 4096)
		kb("MMUPageSize:", 4096)
	}
	kb("Rss:", st.rss)
	kb("Pss:", st.pss/4096)
	kb("Pss_Dirty:", (st.sharedDirty+st.privateDirty)*st.pss/max(st.rss, 1)/4096)
	if rollup {
		kb("Pss_Anon:", st.anon*st.pss/max(st.rss, 1)/4096)
		kb("Pss_File:", st.file*st.pss/max(st.rss, 1)/4096)
		kb("Pss_Shmem:", st.shmem*st.pss/max(st.rss, 1)/4096)
	}
	kb("Shared_Clean:", st.sharedClean)
	kb("Shared_Dirty:", st.sharedDirty)
	kb("Private_Clean:", st.privateClean)
	kb("Private_Dirty:", st.privateDirty)
	kb("Referenced:", st.referenced)
	kb("Anonymous:", st.anon)
	kb("KSM:", 0)
	kb("LazyFree:", 0)
	kb("AnonHugePages:", 0)
	kb("ShmemPmdMapped:", 0)
	kb("FilePmdMapped:", 0)
	kb("Shared_Hugetlb:", 0)
	kb("Private_Hugetlb:", 0)
	kb("Swap:", st.swap)
	kb("SwapPss:", st.swap)
	var l uint64
	if locked {
		l = st.pss / 4096
	}
	kb("Locked:", l)
	return b.String()
}

// ProcMaps returns q's /proc/PID/maps as the guest reads it (for gdb's info proc
// mappings): Linux's format, with the device and inode numbers of mapped files.
func (k *Kernel) ProcMaps(q *Process) []byte { return k.procMaps(q, false) }

// procMaps is /proc/PID/maps, or smaps with the counters of each area.
func (k *Kernel) procMaps(q *Process, smaps bool) []byte {
	mm := q.mm
	if mm == nil {
		return nil
	}
	var b strings.Builder
	for _, v := range mm.vmas {
		b.WriteString(k.mapsLine(mm, v))
		if smaps {
			var st pageStats
			k.areaStats(mm, v, &st)
			b.WriteString(smapsBody(v.End-v.Start, &st, v.Flags&VMLocked != 0, false))
			fmt.Fprintf(&b, "THPeligible:    %d\n", 0)
			b.WriteString("VmFlags: " + vmFlags(v) + "\n")
		}
	}
	b.WriteString(vsyscallLine)
	if smaps {
		var st pageStats
		b.WriteString(smapsBody(4096, &st, false, false))
		b.WriteString("THPeligible:    0\nVmFlags: ex \n")
	}
	return []byte(b.String())
}

// procSmapsRollup is /proc/PID/smaps_rollup: every area's counters summed.
func (k *Kernel) procSmapsRollup(q *Process) []byte {
	mm := q.mm
	if mm == nil {
		return nil
	}
	var st pageStats
	var locked uint64
	for _, v := range mm.vmas {
		var one pageStats
		k.areaStats(mm, v, &one)
		st.rss += one.rss
		st.pss += one.pss
		st.sharedClean += one.sharedClean
		st.sharedDirty += one.sharedDirty
		st.privateClean += one.privateClean
		st.privateDirty += one.privateDirty
		st.referenced += one.referenced
		st.anon += one.anon
		st.file += one.file
		st.shmem += one.shmem
		if v.Flags&VMLocked != 0 {
			locked += one.pss
		}
	}
	low, high := uint64(0), uint64(0)
	if len(mm.vmas) > 0 {
		low, high = mm.vmas[0].Start, mm.vmas[len(mm.vmas)-1].End
	}
	head := fmt.Sprintf("%08x-%08x ---p 00000000 00:00 0", low, uint64(0xffffffffff601000))
	_ = high
	head += strings.Repeat(" ", max(73-len(head), 0)) + "[rollup]\n"
	body := smapsBody(0, &st, false, true)
	body = strings.Replace(body, fmt.Sprintf("%-16s%8d kB\n", "Locked:", 0), fmt.Sprintf("%-16s%8d kB\n", "Locked:", locked/4096>>10), 1)
	return []byte(head + body)
}

// memCounts are an address space's sizes in pages, as status and statm show them.
type memCounts struct {
	total, rss, anon, file, shmem, locked, data, stack, exec, lib, pte, swap uint64
}

// memOf counts mm's pages.
func (k *Kernel) memOf(mm *MM) memCounts {
	var c memCounts
	if mm == nil {
		return c
	}
	for _, v := range mm.vmas {
		pages := (v.End - v.Start) >> 12
		c.total += pages
		var st pageStats
		k.areaStats(mm, v, &st)
		c.rss += st.rss >> 12
		c.anon += st.anon >> 12
		c.file += st.file >> 12
		c.shmem += st.shmem >> 12
		c.swap += st.swap >> 12
		switch {
		case v.Flags&VMLocked != 0:
			c.locked += pages
		}
		switch {
		case v.Flags&VMGrowsDown != 0:
			c.stack += pages
		case v.Prot&ProtExec != 0 && v.Obj != nil && !v.shared():
			c.exec += pages
		case !v.shared() && v.Prot&ProtWrite != 0:
			c.data += pages
		}
	}
	mm.hiwaterRSS = max(mm.hiwaterRSS, c.rss)
	mm.hiwaterVM = max(mm.hiwaterVM, c.total)
	c.pte = uint64(len(mm.vmas)) * 4 // page-table pages: a rough count, in KiB
	return c
}

// initComm is the name /proc gives the emulated init (pid 1), which has no thread to carry
// one: what a Linux system without systemd calls it.
const initComm = "init"

// threadlessComm is the name of a process with no thread left to carry one: init's.
func (q *Process) threadlessComm() string {
	if q.kernelInit {
		return initComm
	}
	return ""
}

// procStatus is /proc/PID/status (or a thread's, t set): fs/proc/array.c's layout.
func (k *Kernel) procStatus(q *Process, t *Thread) []byte {
	if t == nil {
		t = q.mainThread()
	}
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	name := q.threadlessComm()
	if t != nil {
		name = t.Name()
	}
	state := "R (running)"
	switch {
	case q.kernelInit:
		state = "S (sleeping)" // the emulated init only waits for orphans
	case q.state == procZombie:
		state = "Z (zombie)"
	case t != nil && t.state == procBlocked:
		state = "S (sleeping)"
	}
	umask := uint32(0o022)
	if q.fs != nil {
		umask = q.fs.mask()
	}
	tid := q.PID
	if t != nil {
		tid = t.TID
	}
	c := &q.cred
	w("Name:\t%s\nUmask:\t%04o\nState:\t%s\nTgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\nTracerPid:\t0\n",
		name, umask, state, q.PID, tid, q.PPID)
	w("Uid:\t%d\t%d\t%d\t%d\nGid:\t%d\t%d\t%d\t%d\n", c.ruid, c.euid, c.suid, c.fsuid, c.rgid, c.egid, c.sgid, c.fsgid)
	fdsize := 64
	if q.fds != nil {
		fdsize = q.fds.capacity()
	}
	w("FDSize:\t%d\nGroups:\t", fdsize)
	for _, g := range c.groups {
		w("%d ", g)
	}
	w("\nNStgid:\t%d\nNSpid:\t%d\nNSpgid:\t%d\nNSsid:\t%d\nKthread:\t0\n", q.PID, tid, q.PGID, q.SID)
	if q.mm != nil {
		m := k.memOf(q.mm)
		kb := func(label string, pages uint64) { w("%s\t%8d kB\n", label, pages*4) }
		kb("VmPeak:", q.mm.hiwaterVM)
		kb("VmSize:", m.total)
		kb("VmLck:", m.locked)
		kb("VmPin:", 0)
		kb("VmHWM:", q.mm.hiwaterRSS)
		kb("VmRSS:", m.rss)
		kb("RssAnon:", m.anon)
		kb("RssFile:", m.file)
		kb("RssShmem:", m.shmem)
		kb("VmData:", m.data)
		kb("VmStk:", m.stack)
		kb("VmExe:", m.exec)
		kb("VmLib:", m.lib)
		w("VmPTE:\t%8d kB\n", m.pte)
		kb("VmSwap:", m.swap)
		w("HugetlbPages:\t%8d kB\n", 0)
		w("CoreDumping:\t0\n")
		thp := 1
		if q.mm.thpDisable {
			thp = 0
		}
		w("THP_enabled:\t%d\nuntag_mask:\t0xffffffffffffffff\n", thp)
	}
	threads := 0
	for _, th := range q.threads {
		if !th.exited {
			threads++
		}
	}
	ign, cgt := q.sigDispositions()
	var pnd, blk uint64
	if t != nil {
		pnd, blk = t.sig.private.set, t.sig.mask
	}
	w("Threads:\t%d\nSigQ:\t%d/%d\nSigPnd:\t%016x\nShdPnd:\t%016x\nSigBlk:\t%016x\nSigIgn:\t%016x\nSigCgt:\t%016x\n",
		threads, k.queuedSignals(q), q.rlimits[11].cur, pnd, q.sig.shared.set, blk, ign, cgt)
	w("CapInh:\t%016x\nCapPrm:\t%016x\nCapEff:\t%016x\nCapBnd:\t%016x\nCapAmb:\t%016x\n",
		c.capInh, c.capPrm, c.capEff, c.capBnd, c.capAmb)
	nnp := 0
	if c.noNewPrivs {
		nnp = 1
	}
	w("NoNewPrivs:\t%d\nSeccomp:\t0\nSeccomp_filters:\t0\n", nnp)
	w("Speculation_Store_Bypass:\tnot vulnerable\nSpeculationIndirectBranch:\tunknown\n")
	n := len(k.cpus)
	w("Cpus_allowed:\t%x\nCpus_allowed_list:\t%s\n", uint64(1)<<n-1, cpuList(n))
	w("Mems_allowed:\t1\nMems_allowed_list:\t0\n")
	w("voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n")
	return []byte(b.String())
}

// cpuList is "0" or "0-3": the CPUs of a machine of n.
func cpuList(n int) string {
	if n <= 1 {
		return "0"
	}
	return fmt.Sprintf("0-%d", n-1)
}

// procPidStat is /proc/PID/stat (or a thread's): the 52 fields of do_task_stat().
func (k *Kernel) procPidStat(q *Process, t *Thread) []byte {
	if t == nil {
		t = q.mainThread()
	}
	state := "R"
	switch {
	case q.kernelInit:
		state = "S"
	case q.state == procZombie:
		state = "Z"
	case t != nil && t.state == procBlocked:
		state = "S"
	}
	name, tid, cpuNo := q.threadlessComm(), q.PID, 0
	var utime, minflt, majflt uint64
	if t != nil {
		name, tid, cpuNo = t.Name(), t.TID, t.lastCPU
	}
	for _, th := range q.threads {
		if t == nil || th == t || t.TID == q.PID {
			utime += th.insns
			minflt += th.ru.minflt
			majflt += th.ru.majflt
		}
	}
	const tick = nsPerSec / 100
	var vsize, rss uint64
	var startCode, endCode, startStack, startData, endData, startBrk, argStart, argEnd, envStart, envEnd uint64
	if mm := q.mm; mm != nil {
		m := k.memOf(mm)
		vsize, rss = m.total*4096, m.rss
		startStack, startBrk = mm.stackTop, mm.brkStart
		argStart, argEnd, envStart, envEnd = mm.argStart, mm.argEnd, mm.envStart, mm.envEnd
		for _, v := range mm.vmas {
			if v.Prot&ProtExec != 0 && startCode == 0 {
				startCode, endCode = v.Start, v.End
			}
			if v.Prot&ProtWrite != 0 && v.Obj != nil && startData == 0 {
				startData, endData = v.Start, v.End
			}
		}
	}
	threads := 0
	for _, th := range q.threads {
		if !th.exited {
			threads++
		}
	}
	var blocked, pending uint64
	if t != nil {
		blocked, pending = t.sig.mask, t.sig.private.set|q.sig.shared.set
	}
	ign, cgt := q.sigDispositions()
	var sa schedAttrs
	if t != nil {
		sa = t.sched
	}
	s := fmt.Sprintf("%d (%s) %s %d %d %d 0 -1 4194304 %d %d %d %d %d 0 %d %d %d %d %d 0 %d %d %d %d %d %d %d 0 0 %d %d %d %d 0 0 0 %d %d %d %d 0 0 0 %d %d %d %d %d %d %d %d\n",
		tid, name, state, q.PPID, q.PGID, q.SID,
		minflt, q.acct.child.minflt, majflt, q.acct.child.majflt, utime/tick, q.acct.childInsns/tick, 0,
		sa.kernelPrio(), sa.nice, threads, q.acct.startNS/tick, vsize, rss, q.rlimits[9].cur,
		startCode, endCode, startStack, pending, blocked, ign, cgt, q.exitSignal, cpuNo, sa.rtPrio, sa.policy,
		startData, endData, startBrk, argStart, argEnd, envStart, envEnd, q.status>>8&0xff)
	return []byte(s)
}

// procStatm is /proc/PID/statm: size, resident, shared, text, lib (0), data, dirty (0), in
// pages.
func (k *Kernel) procStatm(q *Process) []byte {
	m := k.memOf(q.mm)
	return []byte(fmt.Sprintf("%d %d %d %d 0 %d 0\n", m.total, m.rss, m.file+m.shmem, m.exec, m.data+m.stack))
}

// procEnviron is /proc/PID/environ: the environment strings execve laid out, as they are
// now in the process's memory.
func (k *Kernel) procEnviron(q *Process) []byte {
	mm := q.mm
	if mm == nil || mm.envEnd <= mm.envStart {
		return nil
	}
	b := make([]byte, mm.envEnd-mm.envStart)
	n, _ := k.ReadMemory(q, mm.envStart, b)
	return b[:n]
}

// procLimits is /proc/PID/limits.
func procLimits(q *Process) []byte {
	names := []struct{ name, unit string }{
		{"Max cpu time", "seconds"}, {"Max file size", "bytes"}, {"Max data size", "bytes"},
		{"Max stack size", "bytes"}, {"Max core file size", "bytes"}, {"Max resident set", "bytes"},
		{"Max processes", "processes"}, {"Max open files", "files"}, {"Max locked memory", "bytes"},
		{"Max address space", "bytes"}, {"Max file locks", "locks"}, {"Max pending signals", "signals"},
		{"Max msgqueue size", "bytes"}, {"Max nice priority", ""}, {"Max realtime priority", ""},
		{"Max realtime timeout", "us"}}
	var b strings.Builder
	fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units")
	v := func(x uint64) string {
		if x == rlimInfinity {
			return "unlimited"
		}
		return fmt.Sprint(x)
	}
	for i, n := range names {
		r := q.rlimits[i]
		fmt.Fprintf(&b, "%-25s %-20s %-20s %-10s\n", n.name, v(r.cur), v(r.max), n.unit)
	}
	return []byte(b.String())
}

// Pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent   = 1 << 63
	pmSwap      = 1 << 62
	pmFile      = 1 << 61
	pmGuard     = 1 << 58 // a guard region (Linux 6.15)
	pmUffdWP    = 1 << 57
	pmExclusive = 1 << 56
	pmSoftDirty = 1 << 55
	pmPFNMask   = 1<<55 - 1
)

// pagemapEntry is the 64-bit entry of the page at va in mm: present (with the frame
// number when the reader may see it: CAP_SYS_ADMIN, as since Linux 4.2), file-backed or
// shared, mapped by this entry only, soft-dirty (every page here, no clear_refs).
func (k *Kernel) pagemapEntry(mm *MM, va uint64, showPFN bool) uint64 {
	e, _ := k.lookupPTE(mm, va)
	if isMarkerPTE(e) {
		// A guard or write-protect marker: a swap entry of the marker type to Linux, with
		// its own flag (guard.go).
		out := uint64(pmSwap) | (uint64(swpPTEMarker)|markerBits(e)<<5)&pmPFNMask
		if isGuardPTE(e) {
			out |= pmGuard
		}
		if markerBits(e)&pteMarkerUffdWP != 0 {
			out |= pmUffdWP
		}
		return out
	}
	if isSwapPTE(e) {
		// A swapped-out page: the swap type in bits 0-4, the offset in bits 5-54
		// (pte_to_pagemap_entry() with MAX_SWAPFILES_SHIFT).
		typ, off := swapEntryOf(e)
		return pmSwap | pmSoftDirty | (uint64(typ)|off<<5)&pmPFNMask
	}
	if !pteMapped(e) {
		return 0
	}
	pfn := e.Frame()
	out := uint64(pmPresent | pmSoftDirty)
	if e&mmu.PTEPresent == 0 {
		out = pmSoftDirty // PROT_NONE: Linux reports the page present too (pte_protnone)
		out |= pmPresent
	}
	if showPFN {
		out |= pfn & pmPFNMask
	}
	if e&pteUffdWP != 0 {
		out |= pmUffdWP
	}
	maps := k.frames.Ref(pfn)
	if k.frames.Kind(pfn) == FrameCache {
		out |= pmFile
		maps--
	}
	if maps == 1 {
		out |= pmExclusive
	}
	return out
}

// procPagemap reads /proc/PID/pagemap of q at offset off: one 8-byte entry per virtual page
// (offset = page number * 8). Both must be multiples of 8 (EINVAL), as in pagemap_read().
func (k *Kernel) procPagemap(p, q *Process, dst *uio, off uint64) int64 {
	if off%8 != 0 || dst.total%8 != 0 {
		return -int64(EINVAL)
	}
	if q == nil || q.mm == nil {
		return 0
	}
	show := p.cred.capable(capSysAdm)
	var done uint64
	buf := make([]byte, 8*512)
	for done < dst.total {
		vpn := (off + done) / 8
		if vpn >= userTop>>12 {
			break
		}
		n := min((dst.total-done)/8, 512, userTop>>12-vpn)
		for i := uint64(0); i < n; i++ {
			le.PutUint64(buf[8*i:], k.pagemapEntry(q.mm, (vpn+i)<<12, show))
		}
		got, ok := dst.store(k, p, done, buf[:8*n])
		done += uint64(got)
		if !ok {
			if done == 0 {
				return -int64(EFAULT)
			}
			break
		}
	}
	return int64(done)
}

// procCpuinfo is /proc/cpuinfo: one block per emulated CPU, from what its CPUID says.
func (k *Kernel) procCpuinfo() []byte {
	var b strings.Builder
	n := len(k.cpus)
	for i, c := range k.cpus {
		x := c.cpu
		_, vb, vc, vd := x.CPUID(0, 0)
		vendor := string(le.AppendUint32(le.AppendUint32(le.AppendUint32(nil, vb), vd), vc))
		sig, _, f1c, f1d := x.CPUID(1, 0)
		family := sig >> 8 & 0xf
		if family == 0xf {
			family += sig >> 20 & 0xff
		}
		model := sig>>4&0xf | (sig>>16&0xf)<<4
		var brand []byte
		for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
			a, bb, cc, d := x.CPUID(leaf, 0)
			for _, r := range []uint32{a, bb, cc, d} {
				brand = le.AppendUint32(brand, r)
			}
		}
		name := strings.TrimSpace(strings.TrimRight(string(brand), "\x00"))
		if name == "" {
			name = "vmemu virtual CPU"
		}
		fmt.Fprintf(&b, "processor\t: %d\nvendor_id\t: %s\ncpu family\t: %d\nmodel\t\t: %d\nmodel name\t: %s\nstepping\t: %d\n",
			i, vendor, family, model, name, sig&0xf)
		fmt.Fprintf(&b, "cpu MHz\t\t: 1000.000\ncache size\t: 0 KB\nphysical id\t: 0\nsiblings\t: %d\ncore id\t\t: %d\ncpu cores\t: %d\napicid\t\t: %d\ninitial apicid\t: %d\n",
			n, i, n, i, i)
		fmt.Fprintf(&b, "fpu\t\t: yes\nfpu_exception\t: yes\ncpuid level\t: %d\nwp\t\t: yes\nflags\t\t: %s\n", func() uint32 { a, _, _, _ := x.CPUID(0, 0); return a }(), cpuFlags(x.CPUID, f1c, f1d))
		fmt.Fprintf(&b, "bugs\t\t:\nbogomips\t: 2000.00\nclflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: 46 bits physical, 48 bits virtual\npower management:\n\n")
	}
	return []byte(b.String())
}

// cpuFlags names the feature bits CPUID reports, as cpuinfo's flags line does.
func cpuFlags(cpuid func(a, c uint32) (uint32, uint32, uint32, uint32), ecx, edx uint32) string {
	d1 := []string{0: "fpu", 1: "vme", 2: "de", 3: "pse", 4: "tsc", 5: "msr", 6: "pae", 7: "mce", 8: "cx8", 9: "apic",
		11: "sep", 12: "mtrr", 13: "pge", 14: "mca", 15: "cmov", 16: "pat", 17: "pse36", 19: "clflush",
		23: "mmx", 24: "fxsr", 25: "sse", 26: "sse2", 28: "ht"}
	c1 := []string{0: "pni", 1: "pclmulqdq", 9: "ssse3", 12: "fma", 13: "cx16", 19: "sse4_1", 20: "sse4_2",
		22: "movbe", 23: "popcnt", 25: "aes", 26: "xsave", 28: "avx", 29: "f16c", 30: "rdrand"}
	var fl []string
	for i := 0; i < 32; i++ {
		if i < len(d1) && d1[i] != "" && edx>>i&1 != 0 {
			fl = append(fl, d1[i])
		}
	}
	_, _, _, e1d := cpuid(0x80000001, 0)
	if e1d>>11&1 != 0 {
		fl = append(fl, "syscall")
	}
	if e1d>>20&1 != 0 {
		fl = append(fl, "nx")
	}
	if e1d>>29&1 != 0 {
		fl = append(fl, "lm")
	}
	for i := 0; i < 32; i++ {
		if i < len(c1) && c1[i] != "" && ecx>>i&1 != 0 {
			fl = append(fl, c1[i])
		}
	}
	_, b7, _, _ := cpuid(7, 0)
	names7 := map[int]string{3: "bmi1", 5: "avx2", 7: "smep", 8: "bmi2", 20: "smap"}
	for i := 0; i < 32; i++ {
		if n, ok := names7[i]; ok && b7>>i&1 != 0 {
			fl = append(fl, n)
		}
	}
	_, _, e1c, _ := cpuid(0x80000001, 0)
	if e1c>>5&1 != 0 {
		fl = append(fl, "abm")
	}
	if e1c>>8&1 != 0 {
		fl = append(fl, "3dnowprefetch")
	}
	return strings.Join(fl, " ")
}

// procMeminfo is /proc/meminfo: the machine's RAM, its free frames, the page cache.
func (k *Kernel) procMeminfo() []byte {
	total := k.ram.Size() >> 10
	free := k.frames.Free() << 2
	cached := uint64(k.cache.Pages()) << 2
	var b strings.Builder
	kb := func(label string, v uint64) { fmt.Fprintf(&b, "%-16s%8d kB\n", label, v) }
	kb("MemTotal:", total)
	kb("MemFree:", free)
	kb("MemAvailable:", free+cached)
	kb("Buffers:", 0)
	kb("Cached:", cached)
	var swapTotal, swapFree, swapCached uint64
	if sw, ok := k.Swap(); ok {
		swapTotal, swapFree, swapCached = sw.Slots<<2, (sw.Slots-sw.Used)<<2, sw.Cached<<2
	}
	kb("SwapCached:", swapCached)
	for _, l := range []string{"Active:", "Inactive:", "Active(anon):", "Inactive(anon):", "Active(file):",
		"Inactive(file):", "Unevictable:", "Mlocked:"} {
		kb(l, 0)
	}
	kb("SwapTotal:", swapTotal)
	kb("SwapFree:", swapFree)
	for _, l := range []string{"Dirty:", "Writeback:", "AnonPages:", "Mapped:", "Shmem:", "KReclaimable:",
		"Slab:", "SReclaimable:", "SUnreclaim:", "KernelStack:", "PageTables:", "SecPageTables:",
		"NFS_Unstable:", "Bounce:", "WritebackTmp:"} {
		kb(l, 0)
	}
	kb("CommitLimit:", total)
	kb("Committed_AS:", (k.ram.Size()>>12-k.frames.Free())<<2)
	kb("VmallocTotal:", 34359738367)
	for _, l := range []string{"VmallocUsed:", "VmallocChunk:", "Percpu:", "HardwareCorrupted:",
		"AnonHugePages:", "ShmemHugePages:", "ShmemPmdMapped:", "FileHugePages:", "FilePmdMapped:"} {
		kb(l, 0)
	}
	fmt.Fprintf(&b, "%-16s%8d\n%-16s%8d\n%-16s%8d\n%-16s%8d\n", "HugePages_Total:", 0, "HugePages_Free:", 0,
		"HugePages_Rsvd:", 0, "HugePages_Surp:", 0)
	kb("Hugepagesize:", 2048)
	kb("Hugetlb:", 0)
	kb("DirectMap4k:", total)
	return []byte(b.String())
}

// procStat is /proc/stat: CPU time in USER_HZ ticks (user: instructions retired; idle: the
// time a CPU sat idle), context switches, boot time, processes.
func (k *Kernel) procStat() []byte {
	const tick = nsPerSec / 100
	var b strings.Builder
	var user, idle, ctxt uint64
	lines := make([]string, len(k.cpus))
	for i, c := range k.cpus {
		u, id := c.cpu.Instructions(), c.idleNS
		user += u
		idle += id
		ctxt += c.stats.ContextSwitches
		lines[i] = fmt.Sprintf("cpu%d %d 0 0 %d 0 0 0 0 0 0\n", i, u/tick, id/tick)
	}
	fmt.Fprintf(&b, "cpu  %d 0 0 %d 0 0 0 0 0 0\n", user/tick, idle/tick)
	for _, l := range lines {
		b.WriteString(l)
	}
	running := 0
	for _, t := range k.runq {
		if t.state == procRunnable {
			running++
		}
	}
	fmt.Fprintf(&b, "intr 0\nctxt %d\nbtime %d\nprocesses %d\nprocs_running %d\nprocs_blocked 0\nsoftirq 0 0 0 0 0 0 0 0 0 0 0\n",
		ctxt, k.realtimeBase/nsPerSec, k.nextPID-1, running)
	return []byte(b.String())
}

// procUptime is /proc/uptime: seconds since boot on the virtual clock, and the CPUs' idle
// time.
func (k *Kernel) procUptime() []byte {
	var idle uint64
	for _, c := range k.cpus {
		idle += c.idleNS
	}
	now := k.nowNS()
	return []byte(fmt.Sprintf("%d.%02d %d.%02d\n", now/nsPerSec, now%nsPerSec/1e7, idle/nsPerSec, idle%nsPerSec/1e7))
}

// procLoadavg is /proc/loadavg: no load averages are kept (zeros), the runnable and total
// threads, and the last PID.
func (k *Kernel) procLoadavg() []byte {
	running := 0
	for _, t := range k.runq {
		if t.state == procRunnable {
			running++
		}
	}
	return []byte(fmt.Sprintf("0.00 0.00 0.00 %d/%d %d\n", running, len(k.runq), k.nextPID-1))
}

// sigDispositions returns the sets of signals q ignores and catches (SigIgn and SigCgt in
// /proc/PID/status, fields 34 and 35 of stat).
func (q *Process) sigDispositions() (ign, cgt uint64) {
	for sig := 1; sig <= numSignals; sig++ {
		switch q.sig.act[sig].handler {
		case sigDFL:
		case sigIGN:
			ign |= sigBit(sig)
		default:
			cgt |= sigBit(sig)
		}
	}
	return ign, cgt
}
