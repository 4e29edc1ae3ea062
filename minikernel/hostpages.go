package minikernel

import (
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/ram"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// The page cache of host files lives in the host's page cache. A page-cache frame of a
// host regular file is not a copy of the file's page: the RAM backs the frame with the
// host file's page itself (ram.MapFile: MAP_SHARED for a file open for writing, MAP_PRIVATE
// for one open read-only). So
//   - every store a guest makes through a shared mapping is in the host's page cache the
//     moment it is made: nothing is lost when emu ends, however it ends (SIGKILL included),
//     and nothing has to be written back (msync, munmap and exit have no pages to write);
//   - there is no write-back of whole pages, so no lost update: a host process that
//     writes other bytes of the same page keeps them;
//   - a change the host makes to the file (another process, tail -f's writer) is in the
//     frame at once, and the file's size is asked of the host whenever the kernel needs
//     it (refreshSize): read, fstat, lseek, a fault, an append.
// Linux's own processes see their files the same way, since they share the one page cache.
//
// Each such frame is one host mapping (adjacent ones of one file merge), and the host caps
// the mappings of a process (vm.max_map_count, 65530 by default): the kernel keeps the
// frames it backs so under half of that, dropping cached pages no process maps when it
// runs out. A page that still finds no room, and every page on a host that cannot map file
// pages into RAM (Windows, 16 KiB-page hosts), is a copy, read from the file and written
// back as before (msync, fsync, munmap, exit, emu's end): Stats.HostPages counts both
// kinds.
//
// A host process that shrinks a file the guest maps makes the pages past the new end
// vanish under the frame; an access to one is a host fault, which the CPU reports as
// TrapHostFault (the kernel's goroutine runs with debug.SetPanicOnFault). The kernel then
// learns the new size and drops those pages, and the access is retried: it is now a
// fault past the end of the file, SIGBUS, as on Linux.

// hostPages is the policy's state.
type hostPages struct {
	enabled bool   // the host can back frames with file pages, and the Config allows it
	budget  int    // the most frames backed so at once
	mapped  uint64 // pages backed by the host file, so far
	copied  uint64 // pages copied instead (no room under the budget, or the host refused)
	evicted uint64 // cached pages dropped to make room under the budget
}

// initHostPages decides whether file pages are host-backed and how many may be.
func (k *Kernel) initHostPages() {
	k.hp.enabled = ram.FileFramesSupported() && !k.cfg.CopyFilePages
	k.hp.budget = mapBudget()
	k.frames.release = func(pfn uint64) bool {
		if err := k.ram.UnmapFile(pfn); err != nil {
			k.logf("frame %#x: could not give it back anonymous memory (%v); it is not used again", pfn, err)
			return false
		}
		return true
	}
}

// mapBudget is half the host's per-process mapping limit (the rest is the Go runtime's and
// emu's own), 32765 when the host does not say.
func mapBudget() int {
	n := 65530
	if b, err := hostfs.ReadSmallFile("/proc/sys/vm/max_map_count"); err == nil {
		if v, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && v > 0 {
			n = v
		}
	}
	return max(n/2, 16)
}

// fillFromHost backs frame pfn with page idx of f's host file, and reports whether it did
// (otherwise the caller copies the page). A page past the end of the host file cannot be
// mapped (touching it would be a host fault): it is copied (zeros).
func (k *Kernel) fillFromHost(f *File, idx, pfn uint64) bool {
	if !k.hp.enabled || f.hfd < 0 || f.kind != fileRegular || idx<<12 >= f.ino.size {
		return false
	}
	if k.ram.FileFrames() >= k.hp.budget {
		k.evictHostPages()
		if k.ram.FileFrames() >= k.hp.budget {
			k.hp.copied++
			return false
		}
	}
	// A file open for writing is mapped shared, so that a shared writable mapping of it
	// (which needs such a file) stores into the file; one open read-only, privately.
	shared := f.flags&oAccMode == oRdwr
	if err := k.ram.MapFile(pfn, f.hfd, int64(idx<<12), shared); err != nil {
		if shared {
			err = k.ram.MapFile(pfn, f.hfd, int64(idx<<12), false)
		}
		if err != nil {
			k.hp.copied++
			return false
		}
	}
	k.hp.mapped++
	return true
}

// shareHostPage makes the frame of a cached page shared with its file before a shared
// mapping that may write it maps it: a frame filled through a read-only open of the file
// was mapped privately. f is the mapping's file, open for reading and writing.
func (k *Kernel) shareHostPage(f *File, idx, pfn uint64) {
	if backed, shared := k.ram.FileBacked(pfn); backed && !shared && f.hfd >= 0 {
		if err := k.ram.MapFile(pfn, f.hfd, int64(idx<<12), true); err != nil {
			k.logf("page %d of %s: cannot share it with the file (%v); stores to it may not reach the file", idx, f.name, err)
		}
	}
}

// hostBacked reports whether a host file page backs frame pfn: its data is the file's
// and is neither copied in nor written back.
func (k *Kernel) hostBacked(pfn uint64) bool {
	backed, _ := k.ram.FileBacked(pfn)
	return backed
}

// evictHostPages drops from the page cache the host-backed pages no page table maps (the
// cache's own reference is their only one), the least recently made first would be
// better; these are dropped in inode and page order, so runs stay deterministic.
func (k *Kernel) evictHostPages() {
	ids := make([]fileID, 0, len(k.cache.inodes))
	for id := range k.cache.inodes {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b fileID) int {
		switch {
		case a.dev != b.dev:
			return cmpU64(a.dev, b.dev)
		case a.ino != b.ino:
			return cmpU64(a.ino, b.ino)
		}
		return cmpU64(a.shm, b.shm)
	})
	target := k.hp.budget * 3 / 4
	for _, id := range ids {
		ino := k.cache.inodes[id]
		for _, idx := range ino.sortedPages() {
			if k.ram.FileFrames() <= target {
				return
			}
			pfn := ino.pages[idx]
			if k.hostBacked(pfn) && k.frames.Ref(pfn) == 1 {
				delete(ino.pages, idx)
				k.frames.Put(pfn)
				k.hp.evicted++
			}
		}
	}
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// refreshSize learns the size of f's host file from the host, which other processes may
// have changed, and makes the cache follow it (a shrink drops the pages past the end from
// the cache and from every mapping, as truncation does). Regular host files only.
func (k *Kernel) refreshSize(f *File) {
	if f == nil || f.kind != fileRegular || f.hfd < 0 || f.ino == nil {
		return
	}
	var st hostfs.Stat
	if hostFstat(f.hfd, &st) != 0 {
		return
	}
	if size := uint64(st.Size); size != f.ino.size {
		k.setSize(f.ino, size)
	}
}

// hostFault handles an access that found the host memory behind frame-backed file pages
// gone (TrapHostFault, or the same fault in the kernel's own copy): the host shrank a
// mapped file. It finds the page, learns the file's new size through a mapping of it, and
// drops what lies past the end; it reports whether the access may simply be retried (it
// then faults as Linux would: SIGBUS past the end of the file).
func (k *Kernel) hostFault(addr uint64) bool {
	pfn, ok := k.ram.FrameOfHostAddr(uintptr(addr))
	if !ok || !k.hostBacked(pfn) {
		return false
	}
	for _, ino := range k.cache.inodes {
		for idx, p := range ino.pages {
			if p != pfn {
				continue
			}
			var file *File
			k.forEachMapping(ino, func(mm *MM, v *VMA) {
				if file == nil && v.file() != nil && v.file().hfd >= 0 {
					file = v.file()
				}
			})
			k.refreshSize(file)
			if ino.pages[idx] == pfn {
				// The host still says the page is in the file (an I/O error, say): the
				// frame can no longer be trusted; the page is read again next time.
				delete(ino.pages, idx)
				k.unmapMappingRange(ino, idx<<12)
				k.frames.Put(pfn)
			}
			return true
		}
	}
	return false
}

// hostFaultAddr returns the host address of a fault on host memory that r (a recovered
// panic) reports, if it is one.
func hostFaultAddr(r any) (uint64, bool) {
	if hf, ok := r.(interface{ Addr() uintptr }); ok {
		if _, isRuntime := r.(interface{ RuntimeError() }); isRuntime {
			return uint64(hf.Addr()), true
		}
	}
	return 0, false
}

// unaddressedFault reports whether r (a recovered panic, or the error of a TrapInternal) is
// a fault on memory that does not say where: Go reports a SIGBUS or SIGSEGV whose address
// is below 4096 as a nil dereference without an address, and some hosts give no address
// for a SIGBUS on a vanished file page (qemu-user 7.2 reports 0: the arm64 build under
// qemu-aarch64). It may equally be a nil dereference in emu: hostFaultSomewhere decides.
func unaddressedFault(r any) bool {
	err, ok := r.(interface {
		RuntimeError()
		Error() string
	})
	if !ok {
		return false
	}
	if _, hasAddr := r.(interface{ Addr() uintptr }); hasAddr {
		return false
	}
	return err.Error() == "runtime error: invalid memory address or nil pointer dereference"
}

// hostFaultSomewhere is hostFault for a host fault whose address the host did not give:
// it asks the host for the size of every file the guest maps with pages in host memory
// (processes and areas in order, so that runs stay deterministic) and drops what lies past
// each new end. It reports whether a file had shrunk, the only way host memory behind a
// frame goes away; if none had, the fault was something else (a bug in emu) and the caller
// treats it as such.
func (k *Kernel) hostFaultSomewhere() bool {
	shrank := false
	seen := map[*Inode]bool{}
	for _, p := range k.live {
		if p.mm == nil {
			continue
		}
		for _, v := range p.mm.vmas {
			f := v.file()
			if f == nil || f.hfd < 0 || f.ino == nil || seen[f.ino] {
				continue
			}
			seen[f.ino] = true
			backed := false
			for _, pfn := range f.ino.pages {
				if k.hostBacked(pfn) {
					backed = true
					break
				}
			}
			if !backed {
				continue
			}
			old := f.ino.size
			k.refreshSize(f)
			if f.ino.size < old {
				shrank = true
			}
		}
	}
	return shrank
}

// copyCatching copies src to dst, reporting a fault on host memory (a page of a host
// file that shrank) instead of crashing.
func copyCatching(dst, src []byte) (addr uint64, faulted bool) {
	defer func() {
		if r := recover(); r != nil {
			a, ok := hostFaultAddr(r)
			if !ok && !unaddressedFault(r) { // a copy between slices dereferences no nil
				panic(r)
			}
			addr, faulted = a, true
		}
	}()
	copy(dst, src)
	return 0, false
}

// recoverHostFault ends, with SIGBUS for the current thread's process, a kernel path that
// touched host memory that is gone (other than the user copies, which fail with EFAULT).
// Deferred by handleTrap.
func (k *Kernel) recoverHostFault(t *Thread) {
	r := recover()
	if r == nil {
		return
	}
	a, ok := hostFaultAddr(r)
	switch {
	case ok:
		k.hostFault(a)
	case unaddressedFault(r) && k.hostFaultSomewhere():
	default:
		panic(r)
	}
	if !t.proc.exited {
		k.forceSignal(t.proc, faultSigInfo(SIGBUS, BUS_ADRERR, 0,
			fmt.Sprintf("the kernel found the host memory behind a file page gone (host address %#x)", a)))
	}
}

// catchHostFaults turns faults on host memory in this goroutine into panics that
// hostFaultAddr recognizes (the CPU's Run recovers them as TrapHostFault).
func catchHostFaults() { debug.SetPanicOnFault(true) }

// handleHostFaultTrap is handleTrap's case for TrapHostFault: retry the instruction when
// the kernel could make sense of it, else the thread's process dies of SIGBUS.
func (k *Kernel) handleHostFaultTrap(t *Thread, tr cpu.Trap) {
	if k.hostFault(tr.Addr) || (tr.Addr == 0 && k.hostFaultSomewhere()) {
		return
	}
	k.forceSignal(t.proc, faultSigInfo(SIGBUS, BUS_ADRERR, 0,
		fmt.Sprintf("the host memory behind an access is gone (host address %#x), rip %#x", tr.Addr, tr.RIP)))
}
