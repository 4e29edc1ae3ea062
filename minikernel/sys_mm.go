package minikernel

import (
	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// The mm system calls with Linux's argument checks, in the order Linux makes them (which
// decides the errno when several arguments are wrong). The work is in mmap.go.

// mmap flags (include/uapi/asm-generic/mman-common.h, arch/x86/include/uapi/asm/mman.h).
const (
	mapShared         = 0x01
	mapPrivate        = 0x02
	mapSharedValidate = 0x03
	mapDroppable      = 0x08 // Linux 6.11: pages that may be dropped (zeroed) under pressure
	mapType           = 0x0f
	mapFixed          = 0x10
	mapAnonymous      = 0x20
	map32Bit          = 0x40
	mapGrowsdown      = 0x100
	mapDenywrite      = 0x800
	mapExecutable     = 0x1000
	mapLocked         = 0x2000
	mapNoreserve      = 0x4000
	mapPopulate       = 0x8000
	mapNonblock       = 0x10000
	mapStack          = 0x20000
	mapHugetlb        = 0x40000
	mapSync           = 0x80000
	mapFixedNoreplace = 0x100000
	mapUninitialized  = 0x4000000
	// legacyMapMask is what MAP_SHARED (but not MAP_SHARED_VALIDATE) silently accepts.
	legacyMapMask = mapShared | mapPrivate | mapFixed | mapAnonymous | mapDenywrite | mapExecutable |
		mapUninitialized | mapGrowsdown | mapLocked | mapNoreserve | mapPopulate | mapNonblock |
		mapStack | mapHugetlb

	protSem        = 0x8
	protGrowsdown  = 0x01000000
	protGrowsup    = 0x02000000
	protKnownFlags = int64(ProtRead | ProtWrite | ProtExec | protSem)
)

// mmap(addr, length, prot, flags, fd, offset). Linux's sys_mmap -> ksys_mmap_pgoff ->
// do_mmap.
func sysMmap(k *Kernel, p *Process, a *[6]uint64) int64 {
	addr, length, prot, flags, fd, off := a[0], a[1], Prot(a[2]&7), a[3], a[4], a[5]
	if off&0xfff != 0 {
		return -int64(EINVAL)
	}
	var f *File
	devZero := false
	if flags&mapAnonymous == 0 {
		if f = p.fds.get(uint64(int64(int32(fd)))); f == nil || f.pathOnly() {
			return -int64(EBADF)
		}
		if flags&mapHugetlb != 0 {
			return -int64(EINVAL) // not a hugetlbfs file
		}
		if isDevZero(f) && f.readable() && flags&mapType != mapDroppable {
			// mmap_zero(): private is anonymous memory, shared is shared anonymous memory.
			f, flags, devZero = nil, flags|mapAnonymous, true
			if flags&mapType == mapSharedValidate {
				flags = flags&^mapType | mapShared
			}
		}
	} else if flags&mapHugetlb != 0 {
		return -int64(ENOMEM) // no huge pages reserved (vm.nr_hugepages = 0)
	}
	if length == 0 {
		return -int64(EINVAL)
	}
	fixed := flags&(mapFixed|mapFixedNoreplace) != 0
	if !fixed {
		// round_hint_to_min(): a hint below vm.mmap_min_addr is raised to it.
		if addr = pageRoundDown(addr); addr != 0 && addr < mmapMinAddr {
			addr = mmapMinAddr
		}
	}
	if length > ^uint64(0)-0xfff {
		return -int64(ENOMEM)
	}
	length = pageRoundUp(length)
	if off>>12+length>>12 < off>>12 {
		return -int64(EOVERFLOW)
	}
	r := mmapRequest{addr: addr, length: length, prot: prot, off: off, fixed: fixed,
		noReplace: flags&mapFixedNoreplace != 0, map32: flags&map32Bit != 0, file: f,
		anonPrivate: f == nil && flags&mapType == mapPrivate,
		populate:    flags&(mapPopulate|mapNonblock) == mapPopulate || flags&mapLocked != 0}
	if flags&mapNoreserve != 0 {
		r.flags |= VMNoReserve
	}
	if devZero && flags&mapType == mapPrivate {
		r.name = "/dev/zero"
	}
	if flags&mapGrowsdown != 0 {
		r.flags |= VMGrowsDown
	}
	if flags&mapLocked != 0 {
		if !p.canMlock() {
			return -int64(EPERM)
		}
		r.flags |= VMLocked
	}
	r.flags |= p.mm.defFlags // mlockall(MCL_FUTURE)
	if flags&mapType == mapDroppable {
		switch {
		case flags&mapAnonymous == 0:
			return -int64(EINVAL)
		case flags&(mapLocked|mapGrowsdown) != 0:
			return -int64(EINVAL) // a locked or stack area makes no sense to drop
		}
		r.flags = r.flags&^(VMLocked|VMLockOnFault) | VMDroppable | VMWipeOnFork | VMNoReserve
		r.anonPrivate = true
	}
	if !p.mlockFutureOK(r.flags, length) {
		return -int64(EAGAIN)
	}
	r.populate = r.populate || (r.flags&VMLocked != 0 && r.flags&VMLockOnFault == 0)
	if p.mm.denyWriteExec(prot, prot) {
		return -int64(EACCES) // PR_SET_MDWE (prctl.go)
	}
	check := func(r *mmapRequest) Errno { return checkMapType(flags, r) }
	got, e := k.mmapRegion(p, r, check)
	if e != 0 {
		return -int64(e)
	}
	return int64(got)
}

// isDevZero reports whether f is the host's /dev/zero (character device 1:5).
func isDevZero(f *File) bool {
	var st hostfs.Stat
	return f.kind == fileDevice && f.hfd >= 0 && hostFstat(f.hfd, &st) == 0 &&
		st.Type() == hostfs.S_IFCHR && st.Rdev == 1<<8|5
}

// checkMapType applies do_mmap's checks of the mapping type and, for a file, of the file
// and its access mode, in Linux's order, and sets the VMA flags they imply.
func checkMapType(flags uint64, r *mmapRequest) Errno {
	f := r.file
	if f == nil {
		switch flags & mapType {
		case mapShared:
			if flags&mapGrowsdown != 0 {
				return EINVAL
			}
			r.flags |= VMShared
			r.off = 0
		case mapPrivate, mapDroppable:
			r.off = 0
		default:
			return EINVAL
		}
		return 0
	}
	// file_mmap_ok(): the range must lie below MAX_LFS_FILESIZE.
	if maxLFS := uint64(1<<63 - 1); r.length > maxLFS || r.off>>12 > (maxLFS-r.length)>>12 {
		return EOVERFLOW
	}
	switch flags & mapType {
	case mapShared, mapSharedValidate:
		if flags&mapType == mapShared {
			flags &= legacyMapMask
		}
		if flags&^legacyMapMask != 0 {
			return EOPNOTSUPP
		}
		if r.prot&ProtWrite != 0 && !f.writable() {
			return EACCES
		}
		r.flags |= VMShared
		if !f.writable() {
			r.flags |= VMDenyWrite
		}
	case mapPrivate:
	default:
		return EINVAL
	}
	switch {
	case !f.readable():
		return EACCES
	case !isDataFile(f):
		return ENODEV // a directory, stream or device has no mmap method here
	case flags&mapGrowsdown != 0:
		return EINVAL
	}
	return f.sealsAllowMap(r)
}

// munmap(addr, length). Linux's do_vmi_munmap(): unaligned or empty is EINVAL; unmapping
// nothing is fine.
func sysMunmap(k *Kernel, p *Process, a *[6]uint64) int64 {
	start, length := a[0], a[1]
	if start&0xfff != 0 || start > userTop || length > userTop-start {
		return -int64(EINVAL)
	}
	length = pageRoundUp(length)
	if length == 0 {
		return -int64(EINVAL)
	}
	if !k.splitLimit(p.mm, start, start+length, true) {
		return -int64(ENOMEM) // the split would pass vm.max_map_count (mlock.go)
	}
	if length >= 1<<20 {
		k.noteMaxRSS(p, p.mm) // the resident set may fall: keep its peak (rusage.go)
	}
	k.unmapRange(p.mm, start, start+length)
	return 0
}

// mprotect(addr, length, prot). Linux's do_mprotect_pkey().
func sysMprotect(k *Kernel, p *Process, a *[6]uint64) int64 {
	start, length, prot := a[0], a[1], int64(a[2])
	grows := prot & (protGrowsdown | protGrowsup)
	prot &^= protGrowsdown | protGrowsup
	if grows == protGrowsdown|protGrowsup {
		return -int64(EINVAL)
	}
	if start&0xfff != 0 {
		return -int64(EINVAL)
	}
	if length == 0 {
		return 0
	}
	length = pageRoundUp(length)
	end := start + length
	if end <= start {
		return -int64(ENOMEM)
	}
	if prot&^protKnownFlags != 0 {
		return -int64(EINVAL)
	}
	mm := p.mm
	if grows == protGrowsdown {
		// Extend the range down to the start of the grows-down area it begins in.
		i := mm.index(start)
		if i == len(mm.vmas) || mm.vmas[i].Start >= end {
			return -int64(ENOMEM)
		}
		if mm.vmas[i].Flags&VMGrowsDown == 0 {
			return -int64(EINVAL)
		}
		start = mm.vmas[i].Start
	} else if grows != 0 {
		return -int64(EINVAL) // no grows-up areas on x86
	}
	if !k.splitLimit(mm, start, end, false) {
		return -int64(ENOMEM) // a split would pass vm.max_map_count (mlock.go)
	}
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		if mm.denyWriteExec(mm.vmas[i].Prot, Prot(prot&7)) {
			return -int64(EACCES) // PR_SET_MDWE (prctl.go)
		}
	}
	return -int64(k.mprotect(mm, start, end, Prot(prot&7)))
}

// brk(addr): returns the new break, or the old one when refused (never an errno).
func sysBrkFn(k *Kernel, p *Process, a *[6]uint64) int64 {
	return int64(k.brk(p.mm, a[0]))
}

// mremap flags.
const (
	mremapMaymove   = 1
	mremapFixed     = 2
	mremapDontunmap = 4
)

// mremap(old_addr, old_size, new_size, flags, new_addr): shrink in place, grow in place
// when the pages above are free, or move (MREMAP_MAYMOVE, MREMAP_FIXED, MREMAP_DONTUNMAP)
// with the pages themselves (PTEs move; nothing is copied). Linux's mm/mremap.c.
func sysMremap(k *Kernel, p *Process, a *[6]uint64) int64 {
	addr, oldLen, newLen, flags, newAddr := a[0], a[1], a[2], a[3], a[4]
	if oldLen > ^uint64(0)-0xfff || newLen > ^uint64(0)-0xfff {
		return -int64(EINVAL)
	}
	oldLen, newLen = pageRoundUp(oldLen), pageRoundUp(newLen)
	// Linux's check_mremap_params(), in its order.
	switch {
	case flags&^(mremapMaymove|mremapFixed|mremapDontunmap) != 0, addr&0xfff != 0,
		newLen == 0, newLen > userTop:
		return -int64(EINVAL)
	}
	if flags&(mremapFixed|mremapDontunmap) != 0 {
		switch {
		case newAddr > userTop-newLen, newAddr&0xfff != 0, flags&mremapMaymove == 0,
			flags&mremapDontunmap != 0 && oldLen != newLen,
			addr+oldLen > newAddr && newAddr+newLen > addr:
			return -int64(EINVAL)
		case len(p.mm.vmas)+2 >= k.maxMapCount()-3:
			return -int64(ENOMEM)
		}
	}
	mm := p.mm
	if flags&(mremapFixed|mremapDontunmap) != 0 {
		return k.mremapTo(p, addr, oldLen, newAddr, newLen, flags)
	}
	if oldLen >= newLen && oldLen != 0 {
		if oldLen > newLen {
			k.unmapRange(mm, addr+newLen, addr+oldLen)
		}
		return int64(addr)
	}
	v, e := vmaToResize(mm, addr, oldLen, newLen)
	if e != 0 {
		return -int64(e)
	}
	if oldLen != 0 && oldLen == v.End-addr {
		delta := newLen - oldLen
		if v.End+delta > v.End && v.End+delta <= userTop && !mm.intersects(v.End, v.End+delta) {
			if v.Flags&VMNoReserve == 0 && !v.shared() && v.Prot&ProtWrite != 0 && !k.enoughMemory(delta>>12) {
				return -int64(ENOMEM)
			}
			v.End += delta
			k.growShm(v)
			mm.mergeRange(v.Start, v.End)
			return int64(addr)
		}
	}
	if flags&mremapMaymove == 0 {
		return -int64(ENOMEM)
	}
	// A private anonymous area is placed like a new one: 2 MiB-aligned when its length is a
	// multiple of 2 MiB.
	to, e := mm.getUnmappedArea(0, newLen, placement{thpOK: v.Obj == nil && !v.shared()})
	if e != 0 {
		return -int64(e)
	}
	return k.moveVMA(p, v, addr, oldLen, newLen, to, false)
}

// mremapTo is mremap with MREMAP_FIXED or MREMAP_DONTUNMAP. Linux's mremap_to().
func (k *Kernel) mremapTo(p *Process, addr, oldLen, newAddr, newLen, flags uint64) int64 {
	mm := p.mm
	if flags&mremapFixed != 0 {
		k.unmapRange(mm, newAddr, newAddr+newLen)
	}
	if oldLen > newLen {
		k.unmapRange(mm, addr+newLen, addr+oldLen)
		oldLen = newLen
	}
	v, e := vmaToResize(mm, addr, oldLen, newLen)
	if e != 0 {
		return -int64(e)
	}
	to, e := mm.getUnmappedArea(newAddr, newLen, placement{fixed: flags&mremapFixed != 0})
	if e != 0 {
		return -int64(e)
	}
	return k.moveVMA(p, v, addr, oldLen, newLen, to, flags&mremapDontunmap != 0)
}

// vmaToResize finds the area [addr, addr+oldLen) lies in and checks that it may be resized
// to newLen. Linux's vma_to_resize().
func vmaToResize(mm *MM, addr, oldLen, newLen uint64) (*VMA, Errno) {
	v := mm.Find(addr)
	if v == nil {
		return nil, EFAULT
	}
	if oldLen == 0 && !v.shared() {
		return nil, EINVAL // duplicating a private area (old_size 0) is refused
	}
	if oldLen > v.End-addr {
		return nil, EFAULT // cannot remap across areas
	}
	if v.Obj != nil && v.pgoff(addr)+newLen>>12 < v.pgoff(addr) {
		return nil, EINVAL
	}
	return v, 0
}

// moveVMA creates the area [to, to+newLen) as a copy of the part [addr, addr+oldLen) of v,
// moves that part's pages there, and unmaps the old range (or, with dontUnmap, leaves it
// mapped and empty). With oldLen 0 (a shared area duplicated) nothing moves. Linux's
// move_vma().
func (k *Kernel) moveVMA(p *Process, v *VMA, addr, oldLen, newLen, to uint64, dontUnmap bool) int64 {
	mm := p.mm
	if len(mm.vmas)+3 > k.maxMapCount() {
		return -int64(ENOMEM)
	}
	if grow := newLen - min(newLen, oldLen); grow > 0 && v.Flags&VMNoReserve == 0 && !v.shared() &&
		v.Prot&ProtWrite != 0 && !k.enoughMemory(grow>>12) {
		return -int64(ENOMEM)
	}
	if err := k.movePTEs(mm, addr, to, min(oldLen, newLen)); err != nil {
		return -int64(ENOMEM)
	}
	n := *v
	n.Start, n.End = to, to+newLen
	if n.Obj != nil {
		n.Off = v.Off + (addr - v.Start)
		n.file().get()
	}
	if n.FileEnd != 0 {
		n.FileEnd = n.FileEnd - addr + to
		if n.FileEnd <= n.Start || n.FileEnd >= n.End {
			n.FileEnd = 0
		}
	}
	if oldLen != 0 && !dontUnmap {
		k.unmapRange(mm, addr, addr+oldLen)
	}
	mm.insert(&n)
	k.growShm(&n)
	mm.mergeRange(n.Start, n.End)
	return int64(to)
}

// growShm makes a shared-memory object big enough for a VMA that grew.
func (k *Kernel) growShm(v *VMA) {
	if f := v.file(); f != nil && f.kind == fileShm {
		f.ino.size = max(f.ino.size, v.Off+(v.End-v.Start))
	}
}

// madvise advice values (include/uapi/asm-generic/mman-common.h).
const (
	madvNormal        = 0
	madvRandom        = 1
	madvSequential    = 2
	madvWillneed      = 3
	madvDontneed      = 4
	madvFree          = 8
	madvRemove        = 9
	madvDontfork      = 10
	madvDofork        = 11
	madvMergeable     = 12
	madvUnmergeable   = 13
	madvHugepage      = 14
	madvNohugepage    = 15
	madvDontdump      = 16
	madvDodump        = 17
	madvWipeonfork    = 18
	madvKeeponfork    = 19
	madvCold          = 20
	madvPageout       = 21
	madvPopulateRead  = 22
	madvPopulateWrite = 23
	madvCollapse      = 25
)

// madvise(addr, length, advice). MADV_DONTNEED and MADV_FREE give the pages back (the next
// access reads zeros, or the file again); DONTFORK, DOFORK, WIPEONFORK and KEEPONFORK change
// what fork does; POPULATE_READ and POPULATE_WRITE fault pages in; the rest are hints this
// kernel has no use for and accepts, as Linux accepts them. A range with unmapped parts is
// ENOMEM after the mapped parts were advised. Linux's do_madvise().
func sysMadvise(k *Kernel, p *Process, a *[6]uint64) int64 {
	start, length, advice := a[0], a[1], int64(int32(a[2]))
	switch advice {
	case madvNormal, madvRandom, madvSequential, madvWillneed, madvDontneed, madvFree, madvRemove,
		madvDontfork, madvDofork, madvMergeable, madvUnmergeable, madvHugepage, madvNohugepage,
		madvDontdump, madvDodump, madvWipeonfork, madvKeeponfork, madvCold, madvPageout,
		madvPopulateRead, madvPopulateWrite, madvCollapse, madvGuardInstall, madvGuardRemove:
	default:
		return -int64(EINVAL)
	}
	if start&0xfff != 0 {
		return -int64(EINVAL)
	}
	rounded := pageRoundUp(length)
	end := start + rounded
	if (length != 0 && rounded == 0) || end < start {
		return -int64(EINVAL)
	}
	if end == start {
		return 0
	}
	mm := p.mm
	if !mm.intersects(start, end) {
		return -int64(ENOMEM)
	}
	// Checks that refuse the whole call before anything changes.
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		switch advice {
		case madvFree, madvWipeonfork:
			if v.shared() || v.Obj != nil {
				return -int64(EINVAL)
			}
		case madvRemove:
			if v.Obj == nil {
				return -int64(EINVAL)
			}
			if !v.shared() || v.Flags&VMDenyWrite != 0 {
				return -int64(EACCES)
			}
			if f := v.file(); f.kind != fileShm {
				return -int64(EOPNOTSUPP) // punching holes in host files: not supported
			}
		}
	}
	switch advice {
	case madvDontneed, madvFree:
		k.dontNeed(mm, start, end)
	case madvRemove:
		k.dontNeed(mm, start, end)
		for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
			v := mm.vmas[i]
			ino := v.file().ino
			k.shmDropSwapped(ino, v.pgoff(max(start, v.Start)), v.pgoff(min(end, v.End)-1)+1)
			for va := max(start, v.Start); va < min(end, v.End); va += 4096 {
				if pfn, ok := ino.pages[v.pgoff(va)]; ok {
					delete(ino.pages, v.pgoff(va))
					k.frames.Put(pfn)
				}
			}
		}
	case madvDontfork, madvDofork, madvWipeonfork, madvKeeponfork:
		flag, set := VMDontCopy, advice == madvDontfork
		if advice == madvWipeonfork || advice == madvKeeponfork {
			flag, set = VMWipeOnFork, advice == madvWipeonfork
		}
		mm.splitAt(start)
		mm.splitAt(end)
		for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
			if set {
				mm.vmas[i].Flags |= flag
			} else {
				mm.vmas[i].Flags &^= flag
			}
		}
		mm.mergeRange(start, end)
	case madvGuardInstall, madvGuardRemove:
		if e := k.madviseGuard(p, start, end, advice == madvGuardInstall); e != 0 {
			return -int64(e)
		}
	case madvPopulateRead, madvPopulateWrite:
		for va := start; va < end; va += 4096 {
			v := mm.Find(va)
			if v == nil {
				return -int64(ENOMEM)
			}
			if v.Prot == 0 || (advice == madvPopulateWrite && v.Prot&ProtWrite == 0) {
				return -int64(EINVAL) // permissions incompatible with the population
			}
			if !k.populate(p, va, va+4096, advice == madvPopulateWrite) {
				return -int64(EFAULT)
			}
		}
	}
	if !mm.covered(start, end) {
		return -int64(ENOMEM)
	}
	return 0
}

// msync flags.
const (
	msAsync      = 1
	msInvalidate = 2
	msSync       = 4
)

// msync(addr, length, flags): write the dirty pages of shared file mappings in the range
// back to their files (both MS_SYNC and MS_ASYNC do it at once here). Linux's
// mm/msync.c: unknown flags or MS_ASYNC with MS_SYNC are EINVAL, a hole is ENOMEM.
func sysMsync(k *Kernel, p *Process, a *[6]uint64) int64 {
	start, length, flags := a[0], a[1], a[2]
	if flags&^(msAsync|msInvalidate|msSync) != 0 || start&0xfff != 0 ||
		flags&(msAsync|msSync) == msAsync|msSync {
		return -int64(EINVAL)
	}
	end := start + pageRoundUp(length)
	if end < start {
		return -int64(ENOMEM)
	}
	if end == start {
		return 0
	}
	mm := p.mm
	var unmapped Errno
	for i := mm.index(start); ; i++ {
		if i == len(mm.vmas) {
			return -int64(ENOMEM)
		}
		v := mm.vmas[i]
		if start < v.Start {
			if flags == msAsync {
				return -int64(ENOMEM)
			}
			if start = v.Start; start >= end {
				return -int64(ENOMEM)
			}
			unmapped = ENOMEM
		}
		if flags&msInvalidate != 0 && v.Flags&VMLocked != 0 {
			return -int64(EBUSY) // locked pages cannot be invalidated
		}
		k.syncRange(mm, v, start, end)
		if start = v.End; start >= end {
			return -int64(unmapped)
		}
	}
}

// mincore(addr, length, vec): one byte per page, 1 when the page is in memory: mapped in
// this process, or (for a file or shared-memory area) in the page cache. Linux's
// mm/mincore.c: unaligned addr is EINVAL, a range beyond user space or with a hole ENOMEM,
// a bad vec EFAULT.
func sysMincore(k *Kernel, p *Process, a *[6]uint64) int64 {
	start, length, vec := a[0], a[1], a[2]
	if start&0xfff != 0 {
		return -int64(EINVAL)
	}
	if length > userTop || start > userTop-length {
		return -int64(ENOMEM)
	}
	end := start + pageRoundUp(length)
	mm := p.mm
	out := make([]byte, 0, 4096)
	flush := func() bool {
		if len(out) == 0 {
			return true
		}
		_, ok := k.copyOut(p, vec, out)
		vec += uint64(len(out))
		out = out[:0]
		return ok
	}
	for va := start; va < end; va += 4096 {
		v := mm.Find(va)
		if v == nil {
			return -int64(ENOMEM)
		}
		var in byte
		if pte, _ := k.lookupPTE(mm, va); pteMapped(pte) {
			in = 1
		} else if f := v.file(); f != nil {
			if _, ok := f.ino.pages[v.pgoff(va)]; ok {
				in = 1
			}
		}
		if out = append(out, in); len(out) == cap(out) && !flush() {
			return -int64(EFAULT)
		}
	}
	if !flush() {
		return -int64(EFAULT)
	}
	return 0
}
