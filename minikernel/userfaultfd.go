package minikernel

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/vmemu/vmemu/mmu"
)

// userfaultfd: user space handling its own page faults (Linux's fs/userfaultfd.c and
// mm/userfaultfd.c). A process opens a userfaultfd, agrees on the API (UFFDIO_API) and
// registers ranges of its anonymous or shared-memory areas (UFFDIO_REGISTER) for missing
// pages, write-protected pages, or minor faults (a shared-memory page that is in the page
// cache but not mapped). A fault there is not resolved by the kernel: the faulting thread
// sleeps, and a message (struct uffd_msg) waits on the descriptor; another thread reads
// it and resolves the page with UFFDIO_COPY (a page of its own bytes), UFFDIO_ZEROPAGE,
// UFFDIO_CONTINUE (map the cached page) or UFFDIO_WRITEPROTECT (lift the protection),
// which wake the sleeper (unless DONTWAKE; UFFDIO_WAKE wakes it later); the faulting
// instruction then runs again. The trace shows such a fault with outcome "userfault", the
// faulting thread's TID, and the ioctl that resolved it from the handler's.
//
// Where the fault is taken by the kernel touching user memory for a system call (a read()
// into a registered page), the call stops there with EFAULT as far as it got, the thread
// sleeps as for its own fault, and the call starts again from the beginning once the page
// is resolved: what the call did before the fault is not undone (Linux waits inside the
// copy instead). A page swapped out loses its write protection (Linux keeps it in the
// swap entry). Not implemented: the non-cooperative events (fork, remap, remove, unmap),
// UFFDIO_MOVE and UFFDIO_POISON, write-protecting pages that are not mapped
// (UFFD_FEATURE_WP_UNPOPULATED, the marker of guard.go is ready for it), hugetlbfs and
// /dev/userfaultfd; the features UFFDIO_API offers say so.

const (
	uffdAPI = 0xaa

	uffdUserModeOnly = 1 // userfaultfd(2) flag

	// UFFDIO_API features.
	uffdFeaturePagefaultFlagWP = 1 << 0
	uffdFeatureMissingShmem    = 1 << 5
	uffdFeatureSigbus          = 1 << 7
	uffdFeatureThreadID        = 1 << 8
	uffdFeatureMinorShmem      = 1 << 10
	uffdFeatureExactAddress    = 1 << 11
	uffdFeatures               = uffdFeaturePagefaultFlagWP | uffdFeatureMissingShmem | uffdFeatureSigbus |
		uffdFeatureThreadID | uffdFeatureMinorShmem | uffdFeatureExactAddress

	// The ioctls, by their numbers (_UFFDIO_*), and their requests.
	uffdRegisterNr     = 0x00
	uffdUnregisterNr   = 0x01
	uffdWakeNr         = 0x02
	uffdCopyNr         = 0x03
	uffdZeropageNr     = 0x04
	uffdWriteprotectNr = 0x06
	uffdContinueNr     = 0x07
	uffdAPINr          = 0x3f

	uffdioAPI          = 0xc018aa3f // _IOWR(UFFDIO, _UFFDIO_API, struct uffdio_api)
	uffdioRegister     = 0xc020aa00
	uffdioUnregister   = 0x8010aa01
	uffdioWake         = 0x8010aa02
	uffdioCopy         = 0xc028aa03
	uffdioZeropage     = 0xc020aa04
	uffdioWriteprotect = 0xc018aa06
	uffdioContinue     = 0xc020aa07

	uffdAPIIoctls   = 1<<uffdRegisterNr | 1<<uffdUnregisterNr | 1<<uffdAPINr
	uffdRangeIoctls = 1<<uffdWakeNr | 1<<uffdCopyNr | 1<<uffdZeropageNr | 1<<uffdWriteprotectNr | 1<<uffdContinueNr

	// UFFDIO_REGISTER modes.
	uffdModeMissing = 1
	uffdModeWP      = 2
	uffdModeMinor   = 4

	// The mode bits of COPY (ZEROPAGE and CONTINUE share DONTWAKE; CONTINUE has WP as 2
	// too) and of WRITEPROTECT.
	uffdDontwake = 1
	uffdCopyWP   = 2
	uffdWPModeWP = 1
	uffdWPNoWake = 2

	// struct uffd_msg.
	uffdEventPagefault   = 0x12
	uffdPagefaultWrite   = 1
	uffdPagefaultWP      = 2
	uffdPagefaultMinor   = 4
	uffdMsgSize          = 32
	uffdPagefaultFlagsAt = 8
)

// userfaultCtx is the object behind a userfaultfd: Linux's struct userfaultfd_ctx.
type userfaultCtx struct {
	mm       *MM // the address space it serves (ctx->mm), whoever holds the descriptor
	features uint64
	ready    bool // UFFDIO_API done
	userOnly bool // UFFD_USER_MODE_ONLY: faults the kernel takes are not handed over
	released bool
	waiters  []*uffdWaiter // faults waiting, in the order they came
	readq    waitQueue     // readers and pollers of the descriptor
}

// uffdPending is a fault a system call's copy took on a page that goes to a userfaultfd.
type uffdPending struct {
	addr, flags uint64
}

// uffdWaiter is one fault handed over: the thread asleep, its message, whether a reader
// has had the message, and whether the page was resolved.
type uffdWaiter struct {
	ctx      *userfaultCtx
	t        *Thread
	page     uint64
	addr     uint64 // the address reported
	flags    uint64
	read     bool
	resolved bool
	restart  int64 // the system call to run again (a fault the kernel took), or -1
}

func (c *userfaultCtx) linkName(f *File) string { return "anon_inode:[userfaultfd]" }

// fdinfo is what /proc/PID/fdinfo/N adds for a userfaultfd (userfaultfd_show_fdinfo()).
func (c *userfaultCtx) fdinfo() string {
	pending := 0
	for _, w := range c.waiters {
		if !w.read {
			pending++
		}
	}
	return fmt.Sprintf("pending:\t%d\ntotal:\t%d\nAPI:\t%x:%x:%x\n", pending, len(c.waiters), uffdAPI,
		c.features, uint64(uffdAPIIoctls))
}

// userfaultfd(flags).
func sysUserfaultfd(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(a[0])
	if !userfaultfdAllowed(p, flags) {
		return -int64(EPERM)
	}
	if flags&^(oCloexec|oNonblock|uffdUserModeOnly) != 0 {
		return -int64(EINVAL)
	}
	c := &userfaultCtx{mm: p.mm, userOnly: flags&uffdUserModeOnly != 0}
	return installSpecial(p, k.newSpecial(c, "anon_inode:[userfaultfd]", oRdonly|flags&oNonblock), flags)
}

// userfaultfdAllowed is userfaultfd_syscall_allowed(): with vm.unprivileged_userfaultfd
// (the host's), for UFFD_USER_MODE_ONLY, or with CAP_SYS_PTRACE.
func userfaultfdAllowed(p *Process, flags int) bool {
	const capSysPtrace = 19
	if flags&uffdUserModeOnly != 0 || p.cred.capable(capSysPtrace) {
		return true
	}
	b, err := os.ReadFile("/proc/sys/vm/unprivileged_userfaultfd")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// read hands out the messages of the faults no reader has had yet, as many as fit (at
// least one: it sleeps for it unless O_NONBLOCK).
func (c *userfaultCtx) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	if dst.total < uffdMsgSize {
		return -int64(EINVAL)
	}
	if !c.ready {
		return -int64(EINVAL)
	}
	return k.sleepOn(p, f, func() int64 {
		var n uint64
		for _, w := range c.live() {
			if w.read || n+uffdMsgSize > uint64(dst.total) {
				continue
			}
			var m [uffdMsgSize]byte
			m[0] = uffdEventPagefault
			le.PutUint64(m[uffdPagefaultFlagsAt:], w.flags)
			le.PutUint64(m[16:], w.addr)
			if c.features&uffdFeatureThreadID != 0 {
				le.PutUint32(m[24:], uint32(w.t.TID))
			}
			if _, ok := dst.store(k, p, n, m[:]); !ok {
				if n == 0 {
					return -int64(EFAULT)
				}
				break
			}
			w.read = true
			n += uffdMsgSize
		}
		if n == 0 {
			return -int64(EAGAIN)
		}
		return int64(n)
	})
}

// live drops the waiters whose thread is gone and returns the rest.
func (c *userfaultCtx) live() []*uffdWaiter {
	c.waiters = slices.DeleteFunc(c.waiters, func(w *uffdWaiter) bool { return w.t.exited })
	return c.waiters
}

func (c *userfaultCtx) poll(k *Kernel, f *File) int16 {
	if !c.ready {
		return pollErr
	}
	for _, w := range c.live() {
		if !w.read {
			return pollIn | pollRdnorm
		}
	}
	return 0
}

func (c *userfaultCtx) queues(k *Kernel, f *File, add func(*waitQueue)) { add(&c.readq) }

// release is the last close: every area registered with c is unregistered (and loses its
// write protection), and every waiting fault is woken to be resolved by the kernel
// (userfaultfd_release()).
func (c *userfaultCtx) release(k *Kernel, f *File) {
	c.released = true
	if c.mm != nil && c.mm.users > 0 {
		k.uffdUnregister(c, c.mm, 0, userTop, true)
	}
	k.uffdWake(c, 0, userTop)
}

// remove takes w off c's list.
func (c *userfaultCtx) remove(w *uffdWaiter) {
	if i := slices.Index(c.waiters, w); i >= 0 {
		c.waiters = slices.Delete(c.waiters, i, i+1)
	}
}

// --- faults ---

// uffdReason says whether a fault on page (entry pte) of v, registered with a userfaultfd,
// for acc goes to it, and the message's flags: a missing page (MISSING mode), a write to a
// write-protected page (WP), a shared-memory page in the page cache but not mapped (MINOR).
func (k *Kernel) uffdReason(v *VMA, page uint64, pte mmu.PTE, acc mmu.Access) (uint64, bool) {
	var flags uint64
	if acc&mmu.Write != 0 {
		flags = uffdPagefaultWrite
	}
	if pte&mmu.PTEPresent != 0 {
		if v.Flags&VMUffdWP != 0 && pte&pteUffdWP != 0 && acc&mmu.Write != 0 {
			return flags | uffdPagefaultWP, true
		}
		return 0, false
	}
	if pte != 0 && (!isMarkerPTE(pte) || isGuardPTE(pte)) {
		return 0, false // swapped out, PROT_NONE, or a guard page: not missing
	}
	if v.Obj == nil {
		return flags, v.Flags&VMUffdMissing != 0
	}
	f := v.file()
	idx := v.pgoff(page)
	_, cached := f.ino.pages[idx]
	_, swapped := f.ino.swapped[idx]
	switch {
	case f.kind != fileShm:
		return 0, false
	case !cached && !swapped:
		return flags, v.Flags&VMUffdMissing != 0
	default:
		return flags | uffdPagefaultMinor, v.Flags&VMUffdMinor != 0
	}
}

// handOver queues a fault at addr, which classifyFault found for v's userfaultfd with the
// message flags, and puts the faulting thread to sleep until the page is resolved (or a
// signal comes); restart is the system call to run again afterwards (a fault the kernel
// took for it), or -1. A signal pending already makes the fault return at once to take it
// (false). (With UFFD_FEATURE_SIGBUS classifyFault made the fault a SIGBUS.)
func (k *Kernel) handOver(p *Process, v *VMA, addr, flags uint64, restart int64) bool {
	c, t := v.uffd, k.cur
	if t.signalPending() {
		return false
	}
	w := &uffdWaiter{ctx: c, t: t, page: pageRoundDown(addr), addr: pageRoundDown(addr), flags: flags, restart: restart}
	if c.features&uffdFeatureExactAddress != 0 {
		w.addr = addr
	}
	c.waiters = append(c.waiters, w)
	k.wakeAll(&c.readq)
	t.sleep = &sleepCall{name: fmt.Sprintf("a page fault at %#x handed to its userfaultfd", addr), fault: w}
	t.state = procBlocked
	p.acct.voluntary++
	return true
}

// resumeFault is resumeSleep for a fault handed to a userfaultfd: the thread sleeps on
// until the page is resolved or a signal comes; then it returns to the faulting
// instruction (or to the SYSCALL of the call whose copy faulted), which runs again.
func (k *Kernel) resumeFault(t *Thread, s *sleepCall) bool {
	w := s.fault
	if !w.resolved && !t.signalPending() {
		t.state = procBlocked
		return false
	}
	w.ctx.remove(w)
	t.sleep = nil
	if w.restart >= 0 && k.cur == t {
		k.restartSyscall(uint64(w.restart))
	}
	return true
}

// uffdWake resolves the waiting faults on pages in [start, end) and wakes their threads.
func (k *Kernel) uffdWake(c *userfaultCtx, start, end uint64) {
	c.waiters = slices.DeleteFunc(c.waiters, func(w *uffdWaiter) bool {
		if w.page < start || w.page >= end {
			return false
		}
		w.resolved = true
		k.wake(w.t)
		return true
	})
}

// --- ioctls ---

// ioctl runs a UFFDIO_ request on the descriptor.
func (c *userfaultCtx) ioctl(k *Kernel, p *Process, f *File, req, arg uint64) int64 {
	if req != uffdioAPI && !c.ready {
		return -int64(EINVAL)
	}
	switch req {
	case uffdioAPI:
		return k.uffdAPI(c, p, arg)
	case uffdioRegister:
		return k.uffdRegisterIoctl(c, p, arg)
	case uffdioUnregister, uffdioWake:
		var b [16]byte
		if _, ok := k.copyIn(p, arg, b[:]); !ok {
			return -int64(EFAULT)
		}
		start, n := le.Uint64(b[:]), le.Uint64(b[8:])
		if e := validateRange(start, n, true); e != 0 {
			return -int64(e)
		}
		if req == uffdioWake {
			k.uffdWake(c, start, start+n)
			return 0
		}
		mm, e := c.liveMM()
		if e != 0 {
			return -int64(e)
		}
		return -int64(k.uffdUnregister(c, mm, start, start+n, false))
	case uffdioCopy, uffdioZeropage, uffdioContinue:
		return k.uffdFill(c, p, req, arg)
	case uffdioWriteprotect:
		return k.uffdWriteprotect(c, p, arg)
	}
	return -int64(EINVAL)
}

// liveMM is c's address space, or ESRCH when it is gone (mmget_not_zero()).
func (c *userfaultCtx) liveMM() (*MM, Errno) {
	if c.mm == nil || c.mm.users <= 0 {
		return nil, ESRCH
	}
	return c.mm, 0
}

// validateRange checks a range an ioctl names: page-aligned start (when aligned) and
// length, not empty, inside user space above vm.mmap_min_addr (validate_range()).
func validateRange(start, n uint64, aligned bool) Errno {
	switch {
	case aligned && start&0xfff != 0, n&0xfff != 0, n == 0, start < mmapMinAddr, start >= userTop,
		n > userTop-start:
		return EINVAL
	}
	return 0
}

// UFFDIO_API: agree on the API once; the features asked for must be ones this kernel has.
func (k *Kernel) uffdAPI(c *userfaultCtx, p *Process, arg uint64) int64 {
	var b [24]byte
	if _, ok := k.copyIn(p, arg, b[:16]); !ok {
		return -int64(EFAULT)
	}
	api, features := le.Uint64(b[:]), le.Uint64(b[8:])
	if api != uffdAPI || features&^uffdFeatures != 0 || c.ready {
		clear(b[:])
		if _, ok := k.copyOut(p, arg, b[:]); !ok {
			return -int64(EFAULT)
		}
		return -int64(EINVAL)
	}
	le.PutUint64(b[8:], uffdFeatures)
	le.PutUint64(b[16:], uffdAPIIoctls)
	if _, ok := k.copyOut(p, arg, b[:]); !ok {
		return -int64(EFAULT)
	}
	c.features, c.ready = features, true
	return 0
}

// uffdCanRegister is vma_can_userfault(): anonymous or shared-memory areas (minor faults
// only for shared memory), never MAP_DROPPABLE ones.
func uffdCanRegister(v *VMA, flags VMAFlags) bool {
	if v.Flags&VMDroppable != 0 {
		return false
	}
	shm := v.Obj != nil && v.file().kind == fileShm
	if flags&VMUffdMinor != 0 && !shm {
		return false
	}
	return v.Obj == nil || shm
}

// UFFDIO_REGISTER: register the areas in a range for the modes asked.
func (k *Kernel) uffdRegisterIoctl(c *userfaultCtx, p *Process, arg uint64) int64 {
	var b [32]byte
	if _, ok := k.copyIn(p, arg, b[:24]); !ok {
		return -int64(EFAULT)
	}
	start, n, mode := le.Uint64(b[:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	if mode&^(uffdModeMissing|uffdModeWP|uffdModeMinor) != 0 || mode == 0 {
		return -int64(EINVAL)
	}
	var flags VMAFlags
	if mode&uffdModeMissing != 0 {
		flags |= VMUffdMissing
	}
	if mode&uffdModeWP != 0 {
		flags |= VMUffdWP
	}
	if mode&uffdModeMinor != 0 {
		flags |= VMUffdMinor
	}
	if e := validateRange(start, n, true); e != 0 {
		return -int64(e)
	}
	mm, e := c.liveMM()
	if e != 0 {
		return -int64(ENOMEM)
	}
	end := start + n
	if !mm.intersects(start, end) {
		return -int64(ENOMEM)
	}
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		switch {
		case !uffdCanRegister(v, flags):
			return -int64(EINVAL)
		case v.Flags&VMDenyWrite != 0:
			return -int64(EPERM) // no VM_MAYWRITE: UFFDIO_COPY could fill a read-only file's holes
		case v.uffd != nil && v.uffd != c:
			return -int64(EBUSY)
		}
	}
	mm.splitAt(start)
	mm.splitAt(end)
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		v.Flags = v.Flags&^vmUffd | flags
		v.uffd = c
	}
	mm.mergeRange(start, end)
	ioctls := uint64(uffdRangeIoctls)
	if mode&uffdModeMinor == 0 {
		ioctls &^= 1 << uffdContinueNr
	}
	if mode&uffdModeWP == 0 {
		ioctls &^= 1 << uffdWriteprotectNr
	}
	le.PutUint64(b[24:], ioctls)
	if _, ok := k.copyOut(p, arg+24, b[24:]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// uffdUnregister unregisters c's areas in [start, end) of mm: their waiting faults are
// woken and the write protection it put on their pages is lifted. all (the descriptor's
// release) skips the checks of UFFDIO_UNREGISTER, which refuses a range reaching an area
// that could not be registered (EINVAL) or none at all (ENOMEM).
func (k *Kernel) uffdUnregister(c *userfaultCtx, mm *MM, start, end uint64, all bool) Errno {
	if !all {
		if !mm.intersects(start, end) {
			return ENOMEM
		}
		for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
			if !uffdCanRegister(mm.vmas[i], mm.vmas[i].Flags) {
				return EINVAL
			}
		}
	}
	touched := false
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		if mm.vmas[i].uffd == c {
			touched = true
			break
		}
	}
	if !touched {
		return 0
	}
	if !all {
		mm.splitAt(start)
		mm.splitAt(end)
	}
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		if v.uffd != c {
			continue
		}
		lo, hi := max(start, v.Start), min(end, v.End)
		if v.Flags&VMUffdWP != 0 {
			k.uffdProtect(mm, v, lo, hi, false)
		}
		k.uffdWake(c, lo, hi)
		v.Flags &^= vmUffd
		v.uffd = nil
	}
	mm.mergeRange(start, end)
	return 0
}

// uffdProtect sets (wp) or clears the write protection of the mapped pages of v in
// [start, end). Lifting it leaves the page read-only: the next write makes it writable the
// usual way (a copy-on-write reuse, or a shared page made writable).
func (k *Kernel) uffdProtect(mm *MM, v *VMA, start, end uint64, wp bool) {
	g := tlbGather{mm: mm, why: "userfaultfd"}
	k.visitPTEs(mm, start, end, func(va, ea uint64, e mmu.PTE) {
		if wp {
			n := (e | pteUffdWP) &^ mmu.PTEWrite
			k.writePTE(ea, n)
			if restricts(e, n) {
				g.add(va)
			}
		} else if e&pteUffdWP != 0 {
			k.writePTE(ea, e&^pteUffdWP)
		}
	})
	k.finish(&g)
}

// UFFDIO_WRITEPROTECT: protect the mapped pages of a range, or lift the protection and
// wake the faults waiting there (unless DONTWAKE).
func (k *Kernel) uffdWriteprotect(c *userfaultCtx, p *Process, arg uint64) int64 {
	var b [24]byte
	if _, ok := k.copyIn(p, arg, b[:]); !ok {
		return -int64(EFAULT)
	}
	start, n, mode := le.Uint64(b[:]), le.Uint64(b[8:]), le.Uint64(b[16:])
	if e := validateRange(start, n, true); e != 0 {
		return -int64(e)
	}
	if mode&^(uffdWPModeWP|uffdWPNoWake) != 0 || mode == uffdWPModeWP|uffdWPNoWake {
		return -int64(EINVAL)
	}
	mm, e := c.liveMM()
	if e != 0 {
		return -int64(e)
	}
	end := start + n
	found := false
	for i := mm.index(start); i < len(mm.vmas) && mm.vmas[i].Start < end; i++ {
		v := mm.vmas[i]
		if v.Flags&VMUffdWP == 0 || v.uffd != c {
			return -int64(ENOENT)
		}
		found = true
		k.uffdProtect(mm, v, max(start, v.Start), min(end, v.End), mode&uffdWPModeWP != 0)
	}
	if !found {
		return -int64(ENOENT)
	}
	if mode == 0 {
		k.uffdWake(c, start, end)
	}
	return 0
}

// uffdFill is UFFDIO_COPY, UFFDIO_ZEROPAGE and UFFDIO_CONTINUE: fill the missing pages of
// a range inside one registered area (with bytes copied from the caller, zeros, or the
// page cache's page), page by page until one is already there (EEXIST); the count done
// goes back in the struct's last field, and the faults waiting on it are woken.
func (k *Kernel) uffdFill(c *userfaultCtx, p *Process, req, arg uint64) int64 {
	var b [40]byte
	size, modeAt := 32, 16
	if req == uffdioCopy {
		size, modeAt = 40, 24
	}
	if _, ok := k.copyIn(p, arg, b[:size-8]); !ok {
		return -int64(EFAULT)
	}
	var dst, src, n uint64
	mode := le.Uint64(b[modeAt:])
	valid := uint64(uffdDontwake)
	if req == uffdioCopy {
		dst, src, n = le.Uint64(b[:]), le.Uint64(b[8:]), le.Uint64(b[16:])
		if e := validateRange(src, n, false); e != 0 {
			return -int64(e)
		}
		valid |= uffdCopyWP
	} else {
		dst, n = le.Uint64(b[:]), le.Uint64(b[8:])
		if req == uffdioContinue {
			valid |= uffdCopyWP
		}
	}
	if e := validateRange(dst, n, true); e != 0 {
		return -int64(e)
	}
	if mode&^valid != 0 {
		return -int64(EINVAL)
	}
	mm, e := c.liveMM()
	if e != 0 {
		return -int64(e)
	}
	done, ferr := k.uffdFillRange(c, p, mm, req, dst, src, n, mode&uffdCopyWP != 0)
	ret := int64(done)
	if done == 0 {
		ret = -int64(ferr)
	}
	le.PutUint64(b[size-8:], uint64(ret))
	if _, ok := k.copyOut(p, arg+uint64(size-8), b[size-8:size]); !ok {
		return -int64(EFAULT)
	}
	if ret < 0 {
		return ret
	}
	if mode&uffdDontwake == 0 {
		k.uffdWake(c, dst, dst+done)
	}
	if done != n {
		return -int64(EAGAIN)
	}
	return 0
}

// uffdFillRange fills [dst, dst+n) of mm for uffdFill and returns the bytes done and, when
// it stopped short, why.
func (k *Kernel) uffdFillRange(c *userfaultCtx, p *Process, mm *MM, req, dst, src, n uint64, wp bool) (uint64, Errno) {
	v := mm.Find(dst)
	if v == nil || v.End < dst+n || v.uffd != c {
		return 0, ENOENT
	}
	shm := v.Obj != nil && v.file().kind == fileShm
	switch {
	case wp && v.Flags&VMUffdWP == 0, v.Obj != nil && !shm, req == uffdioContinue && !shm:
		return 0, EINVAL
	}
	var buf [4096]byte
	var done uint64
	for ; done < n; done += 4096 {
		va := dst + done
		if req == uffdioCopy {
			if _, ok := k.copyIn(p, src+done, buf[:]); !ok {
				return done, EFAULT
			}
		}
		ea, err := k.walk(mm.pml4, va, true)
		if err != nil {
			return done, ENOMEM
		}
		if e := k.readPTE(ea); e != 0 && (!isMarkerPTE(e) || isGuardPTE(e)) {
			return done, EEXIST
		}
		if e := k.uffdFillPage(v, va, ea, req, buf[:], wp); e != 0 {
			return done, e
		}
	}
	return done, 0
}

// uffdFillPage maps page va of v at entry ea (empty): a new frame holding data (COPY) or
// zeros, or, in shared memory, the object's page, made for it (COPY, ZEROPAGE: EEXIST when
// the object has one) or found in the cache (CONTINUE: EFAULT when it has none).
func (k *Kernel) uffdFillPage(v *VMA, va, ea, req uint64, data []byte, wp bool) Errno {
	var pfn uint64
	if v.Obj == nil {
		var err error
		if pfn, err = k.frames.Alloc(FrameUser); err != nil {
			return ENOMEM
		}
	} else {
		f := v.file()
		idx := v.pgoff(va)
		_, cached := f.ino.pages[idx]
		_, swapped := f.ino.swapped[idx]
		if have := cached || swapped; have != (req == uffdioContinue) {
			if have {
				return EEXIST
			}
			return EFAULT
		}
		cpfn, _, err := k.cachePage(f, idx)
		if err != nil {
			return ENOMEM
		}
		k.frames.Get(cpfn)
		pfn = cpfn
	}
	if req == uffdioCopy {
		fr, _ := k.ram.Frame(pfn)
		copy(fr[:], data)
		k.ram.NoteWrite(pfn)
	}
	e := mmu.PTE(pfn<<12) | leafFlags(v.Prot) | mmu.PTEDirty
	if v.Prot == 0 {
		e = mmu.PTE(pfn<<12) | pteProtNone
	}
	if wp {
		e = e&^mmu.PTEWrite | pteUffdWP
	}
	k.writePTE(ea, e) // P from 0 to 1: no TLB holds the page
	return 0
}
