package minikernel

// Locking memory: mlock, mlock2, munlock, mlockall, munlockall, MAP_LOCKED, and the
// RLIMIT_MEMLOCK accounting. Linux's mm/mlock.c. A locked area (VM_LOCKED) has its pages
// faulted in at once (unless MLOCK_ONFAULT) and is never reclaimed; the sum of the locked
// areas is the process's locked_vm, which an unprivileged process may not take past
// RLIMIT_MEMLOCK (CAP_IPC_LOCK may). Locks are not inherited by fork, nor kept by execve.

// mlock flags (include/uapi/asm-generic/mman-common.h, mman.h).
const (
	mlockOnfault  = 0x01
	mclCurrent    = 1
	mclFuture     = 2
	mclOnfault    = 4
	rlimitMemlock = 8
)

// lockedPages returns the pages of mm's locked areas (mm->locked_vm).
func (mm *MM) lockedPages() uint64 {
	var n uint64
	for _, v := range mm.vmas {
		if v.Flags&VMLocked != 0 {
			n += (v.End - v.Start) >> 12
		}
	}
	return n
}

// lockedIn returns the pages of [start, end) already in locked areas
// (count_mm_mlocked_page_nr()).
func (mm *MM) lockedIn(start, end uint64) uint64 {
	var n uint64
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		if v := mm.vmas[i]; v.Flags&VMLocked != 0 {
			n += (min(end, v.End) - max(start, v.Start)) >> 12
		}
	}
	return n
}

// canMlock reports whether p may lock memory at all: a non-zero RLIMIT_MEMLOCK or
// CAP_IPC_LOCK (can_do_mlock()).
func (p *Process) canMlock() bool {
	return p.rlimits[rlimitMemlock].cur != 0 || p.cred.capable(capIpcLock)
}

// mlockFutureOK reports whether adding bytes of locked memory stays within RLIMIT_MEMLOCK
// (mlock_future_ok()): always for an area that is not locked, or with CAP_IPC_LOCK.
func (p *Process) mlockFutureOK(flags VMAFlags, bytes uint64) bool {
	if flags&VMLocked == 0 || p.cred.capable(capIpcLock) {
		return true
	}
	return p.mm.lockedPages()+bytes>>12 <= p.rlimits[rlimitMemlock].cur>>12
}

// lockable reports whether an area can be locked: a droppable one cannot (its pages are
// volatile), and mlock passes over it without an error.
func (v *VMA) lockable() bool { return v.Flags&VMDroppable == 0 }

// setLockFlags gives every area in [start, end) the lock flags set (VMLocked, and
// VMLockOnFault), splitting areas at the ends; ENOMEM when part of the range is unmapped
// (after changing the mapped parts, as Linux does). Linux's apply_vma_lock_flags().
func (k *Kernel) setLockFlags(mm *MM, start, end uint64, set VMAFlags) Errno {
	if end < start {
		return EINVAL
	}
	if end == start {
		return 0
	}
	if !mm.intersects(start, end) {
		return ENOMEM
	}
	mm.splitAt(start)
	mm.splitAt(end)
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		if v := mm.vmas[i]; v.lockable() {
			v.Flags = v.Flags&^(VMLocked|VMLockOnFault) | set
			k.relockPages(mm, v)
		}
	}
	mm.mergeRange(start, end)
	if !mm.covered(start, end) {
		return ENOMEM
	}
	return 0
}

// doMlock is mlock and mlock2: check the limit, flag the areas, fault the pages in.
// Linux's do_mlock().
func (k *Kernel) doMlock(p *Process, start, length uint64, flags VMAFlags) int64 {
	if !p.canMlock() {
		return -int64(EPERM)
	}
	length = pageRoundUp(length + start&0xfff)
	start = pageRoundDown(start)
	mm := p.mm
	limit := p.rlimits[rlimitMemlock].cur >> 12
	locked := length>>12 + mm.lockedPages()
	if locked > limit && !p.cred.capable(capIpcLock) {
		locked -= mm.lockedIn(start, start+length)
	}
	if locked > limit && !p.cred.capable(capIpcLock) {
		return -int64(ENOMEM)
	}
	if e := k.setLockFlags(mm, start, start+length, flags); e != 0 {
		return -int64(e)
	}
	if flags&VMLockOnFault == 0 && !k.populateLocked(p, start, start+length) {
		// A page that cannot be faulted in (a guard page, a page past the end of its
		// file): __mm_populate()'s EFAULT, which mlock reports as ENOMEM. The areas stay
		// locked.
		return -int64(ENOMEM)
	}
	return 0
}

// populateLocked faults in the pages of the locked, accessible areas in [start, end), as
// __mm_populate() does for mlock, and reports whether every page could be (mlockall
// ignores a failure, mlock does not).
func (k *Kernel) populateLocked(p *Process, start, end uint64) bool {
	mm := p.mm
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		if v.Flags&VMLocked == 0 || v.Flags&VMLockOnFault != 0 || v.Prot == 0 {
			continue
		}
		if !k.populate(p, max(start, v.Start), min(end, v.End), false) {
			return false
		}
		// populate may have changed the list (a stack that grew): find our place again.
		i = mm.index(min(end, v.End) - 1)
	}
	return true
}

// mlock(addr, len).
func sysMlock(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.doMlock(p, a[0], a[1], VMLocked)
}

// mlock2(addr, len, flags): MLOCK_ONFAULT locks the pages as they are faulted in.
func sysMlock2(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2]&^mlockOnfault != 0 {
		return -int64(EINVAL)
	}
	flags := VMLocked
	if a[2]&mlockOnfault != 0 {
		flags |= VMLockOnFault
	}
	return k.doMlock(p, a[0], a[1], flags)
}

// munlock(addr, len).
func sysMunlock(k *Kernel, p *Process, a *[6]uint64) int64 {
	length := pageRoundUp(a[1] + a[0]&0xfff)
	start := pageRoundDown(a[0])
	return -int64(k.setLockFlags(p.mm, start, start+length, 0))
}

// mlockall(flags): MCL_CURRENT locks every area now, MCL_FUTURE every area made later
// (mm.defFlags), MCL_ONFAULT with either locks pages only as they are faulted in. Linux's
// sys_mlockall() and apply_mlockall_flags().
func sysMlockall(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[0]
	if flags == 0 || flags&^(mclCurrent|mclFuture|mclOnfault) != 0 || flags == mclOnfault {
		return -int64(EINVAL)
	}
	if !p.canMlock() {
		return -int64(EPERM)
	}
	mm := p.mm
	if flags&mclCurrent != 0 && !p.cred.capable(capIpcLock) {
		var total uint64
		for _, v := range mm.vmas {
			total += (v.End - v.Start) >> 12
		}
		if total > p.rlimits[rlimitMemlock].cur>>12 {
			return -int64(ENOMEM)
		}
	}
	add := VMLocked
	if flags&mclOnfault != 0 {
		add |= VMLockOnFault
	}
	mm.defFlags &^= VMLocked | VMLockOnFault
	if flags&mclFuture != 0 {
		mm.defFlags |= add
	}
	if flags&mclCurrent != 0 {
		for _, v := range mm.vmas {
			if v.lockable() {
				v.Flags = v.Flags&^(VMLocked|VMLockOnFault) | add
				k.relockPages(mm, v)
			}
		}
		mm.mergeRange(0, userTop)
		if add&VMLockOnFault == 0 {
			k.populateLocked(p, 0, userTop)
		}
	}
	return 0
}

// munlockall(): nothing locked, now or later.
func sysMunlockall(k *Kernel, p *Process, a *[6]uint64) int64 {
	mm := p.mm
	mm.defFlags &^= VMLocked | VMLockOnFault
	for _, v := range mm.vmas {
		v.Flags &^= VMLocked | VMLockOnFault
		k.relockPages(mm, v)
	}
	mm.mergeRange(0, userTop)
	return 0
}

// splitLimit applies vm.max_map_count to the cuts an mprotect (munmap false) or munmap of
// [start, end) makes inside areas: each cut inside an area adds one, and Linux refuses a cut
// once the count has reached the limit (split_vma()). mprotect cuts at start first and keeps
// that cut when the one at end is refused (vma_modify()); munmap checks only a cut that
// leaves both sides of one area (vms_gather_munmap_vmas()). It reports whether the call may
// go on.
func (k *Kernel) splitLimit(mm *MM, start, end uint64, munmap bool) bool {
	limit := k.maxMapCount()
	i := mm.index(start)
	if i == len(mm.vmas) || mm.vmas[i].Start >= end {
		return true
	}
	first := mm.vmas[i]
	if munmap {
		return !(start > first.Start && end < first.End && len(mm.vmas) >= limit)
	}
	if start > first.Start {
		if len(mm.vmas) >= limit {
			return false
		}
	}
	j := mm.index(end - 1)
	if j < len(mm.vmas) && mm.vmas[j].Start < end && end < mm.vmas[j].End {
		n := len(mm.vmas)
		if start > first.Start {
			n++
		}
		if n >= limit {
			mm.splitAt(start) // the first cut is made, and stays
			return false
		}
	}
	return true
}

// maxMapCount is vm.max_map_count for this machine (Config.MaxMapCount, default 65530).
func (k *Kernel) maxMapCount() int {
	if k.cfg.MaxMapCount > 0 {
		return k.cfg.MaxMapCount
	}
	return maxMapCount
}

// relockPages tells page reclaim that area v was just locked or unlocked: its resident pages
// leave the replacement policy's lists, or go back to them (reclaim.go).
func (k *Kernel) relockPages(mm *MM, v *VMA) {
	if v.Flags&VMLocked != 0 {
		k.lockRange(mm, v.Start, v.End)
	} else {
		k.unlockRange(mm, v.Start, v.End)
	}
}
