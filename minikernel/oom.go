package minikernel

import (
	"encoding/binary"
	"fmt"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/reclaim"
)

// The out-of-memory killer and fault accounting. When a fault finds no free frame even
// after reclaim (RAM full, and swap full or absent), the kernel kills the process whose
// death frees the most: Linux's mm/oom_kill.c (out_of_memory, select_bad_process,
// oom_badness). The faulting process then retries its access, unless it was the one chosen.
// emu itself never dies of it.

// faultCounts are the minor and major page faults of a task (Linux's min_flt and maj_flt,
// reported by getrusage and wait4).
type faultCounts struct{ minor, major uint64 }

func (a *faultCounts) add(b faultCounts) { a.minor += b.minor; a.major += b.major }

// accountFault counts a resolved fault for the process and the calling thread, tells the
// replacement policy, and culls a page faulted into a locked area at once (Linux's
// mlock_new_folio()).
func (k *Kernel) accountFault(p *Process, c faultClass, frame uint64) {
	switch c.out {
	case FaultSIGSEGV, FaultSIGBUS, FaultOOM, FaultEFAULT:
		return
	}
	major := c.out.Major()
	if major {
		p.faults.major++
	} else {
		p.faults.minor++
	}
	t := k.cur
	if t != nil && t.proc == p {
		if major {
			t.faults.major++
		} else {
			t.faults.minor++
		}
	}
	if frame == 0 || k.rc == nil {
		return
	}
	if t != nil && t.proc == p {
		t.noteInflight(frame)
	}
	if c.vma != nil && c.vma.Flags&VMLocked != 0 {
		k.cullFrame(frame)
		return
	}
	if k.frames.flags(frame)&flagLRU != 0 {
		k.rc.policy.Fault(reclaim.Frame(frame), major)
	}
}

// maxInflight bounds the pages reclaim spares for one instruction: more than any x86
// instruction touches (an instruction and a string operation's source and destination,
// each across a page boundary, and a stack push).
const maxInflight = 16

// noteInflight records that a fault mapped frame for t while t has not retired an
// instruction since its last fault: the instruction needs every such page at once.
func (t *Thread) noteInflight(frame uint64) {
	if t.insns != t.faultAt {
		t.faultAt, t.nflight = t.insns, 0
	}
	if t.nflight < maxInflight {
		t.inflight[t.nflight] = frame
		t.nflight++
	}
}

// needs reports whether frame is one the thread's current instruction has faulted in (see
// noteInflight): taking it would only make the instruction fault again, for ever when
// frames are that scarce (a livelock; Linux avoids it by keeping a faulted page referenced).
func (t *Thread) needs(frame uint64) bool {
	if t == nil || t.insns != t.faultAt {
		return false
	}
	for _, f := range t.inflight[:t.nflight] {
		if f == frame {
			return true
		}
	}
	return false
}

// outOfMemory handles a fault of p at addr that found no frame: reclaim has failed, so the
// process with the highest badness is killed. It reports whether p may retry (another
// process died); p itself is killed otherwise.
func (k *Kernel) outOfMemory(p *Process, addr, rip uint64) bool {
	victim, points := k.oomVictim()
	if victim == nil || victim == p || k.startedOOM(p) {
		note := ""
		if victim == p && len(k.live) > 1 {
			note = fmt.Sprintf("; the OOM killer chose it: badness %d, the highest", points)
		}
		k.oomKill(p, addr, rip, note)
		if k.rc != nil {
			k.rc.stats.OOMKills++
		}
		return false
	}
	rss, swap, tables := k.mmCounts(victim.mm)
	why := fmt.Sprintf("out of memory: pid %d found no physical frame for address %#x (RAM %s%s); the OOM killer "+
		"chose pid %d (%s): badness %d, the highest (resident %d pages, swapped %d, page tables %d, oom_score_adj %d)",
		p.PID, addr, sizeText(k.ram.Size()), k.swapText(), victim.PID, victim.exe, points, rss, swap, tables, victim.oomScoreAdj)
	if k.rc != nil {
		k.rc.stats.OOMKills++
	}
	k.killSignal(victim, SIGKILL, 0, 0, why)
	return true
}

// swapText describes the swap area's use for OOM messages: ", swap 64 MiB, 16383 of 16383
// slots in use", or "" without swap.
func (k *Kernel) swapText() string {
	if k.swap == nil {
		return ""
	}
	return fmt.Sprintf("; swap %s, %d of %d slots in use", sizeText(k.swap.nslots<<12), k.swap.used, k.swap.Slots())
}

// oomVictim picks the process to kill: the highest badness, the lowest PID among equals
// (select_bad_process()). Init, processes already exiting and those with oom_score_adj
// -1000 are never chosen.
func (k *Kernel) oomVictim() (*Process, int64) {
	var best *Process
	var bestPoints int64
	for _, p := range k.live {
		if p.kernelInit || p.exited || p.groupExit || p.mm == nil || p.oomScoreAdj == oomScoreAdjMin {
			continue
		}
		if pts := k.badness(p); best == nil || pts > bestPoints {
			best, bestPoints = p, pts
		}
	}
	return best, bestPoints
}

// oomScoreAdjMin is the oom_score_adj that exempts a process from the OOM killer.
const oomScoreAdjMin = -1000

// badness is Linux's oom_badness(): the pages a process's death would free (resident pages,
// swap entries, page-table pages), adjusted by oom_score_adj thousandths of all memory.
func (k *Kernel) badness(p *Process) int64 {
	rss, swap, tables := k.mmCounts(p.mm)
	points := int64(rss + swap + tables)
	total := k.frames.Stats().Total
	if k.swap != nil {
		total += k.swap.Slots()
	}
	points += int64(p.oomScoreAdj) * int64(total) / 1000
	return max(points, 1)
}

// mmCounts counts an address space's resident pages (present or PROT_NONE leaf entries),
// swap entries and page-table pages.
func (k *Kernel) mmCounts(mm *MM) (rss, swap, tables uint64) {
	if mm == nil {
		return
	}
	k.countLevel(mm.pml4, 4, &rss, &swap, &tables)
	return
}

func (k *Kernel) countLevel(table uint64, level int, rss, swap, tables *uint64) {
	*tables++
	for i := uint64(0); i < 512; i++ {
		e := k.readPTE(table<<12 + i*8)
		switch {
		case level == 1 && pteMapped(e):
			*rss++
		case level == 1 && e != 0:
			*swap++
		case level > 1 && e&mmu.PTEPresent != 0 && !(level == 4 && i >= 256):
			k.countLevel(e.Frame(), level-1, rss, swap, tables)
		}
	}
}

// SwapPages counts the swap entries of mm in [start, end): what /proc/PID/smaps reports as
// Swap (in pages).
func (k *Kernel) SwapPages(mm *MM, start, end uint64) uint64 {
	var n uint64
	k.visitEntries(mm, start, end, func(va, ea uint64, e mmu.PTE) {
		if isSwapPTE(e) {
			n++
		}
	})
	return n
}

// Pagemap bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	PagemapPresent   = 1 << 63
	PagemapSwapped   = 1 << 62
	PagemapFileShare = 1 << 61 // a file page, or shared anonymous memory
	PagemapExclusive = 1 << 56 // mapped by this PTE only
	pagemapPFNMask   = 1<<55 - 1
)

// PagemapEntry is the 64-bit /proc/PID/pagemap entry for the page at va of mm, in Linux's
// format: present pages give their frame number (which Linux shows only to a process with
// CAP_SYS_ADMIN; withPFN says whether to), swapped pages the swap type in bits 0-4 and the
// slot offset in bits 5-54. fs/proc/task_mmu.c:pte_to_pagemap_entry().
func (k *Kernel) PagemapEntry(mm *MM, va uint64, withPFN bool) uint64 {
	e, _ := k.lookupPTE(mm, pageRoundDown(va))
	switch {
	case e&mmu.PTEPresent != 0:
		out := uint64(PagemapPresent)
		if withPFN {
			out |= e.Frame() & pagemapPFNMask
		}
		pfn := e.Frame()
		if k.frames.Kind(pfn) == FrameCache {
			out |= PagemapFileShare
		} else if k.frames.Ref(pfn) == 1 {
			out |= PagemapExclusive
		}
		return out
	case isSwapPTE(e):
		typ, off := swapEntryOf(e)
		return PagemapSwapped | (uint64(typ)|off<<5)&pagemapPFNMask
	}
	if v := mm.Find(va); v != nil && v.Obj != nil && pteMapped(e) {
		return PagemapFileShare
	}
	return 0
}

// getrusage(who, usage): the CPU time (the virtual clock's one instruction per nanosecond)
// and the minor and major page faults of the calling process (RUSAGE_SELF), of its waited-for
// children (RUSAGE_CHILDREN) or of the calling thread (RUSAGE_THREAD). Other fields are zero.
func sysGetrusage(k *Kernel, p *Process, a *[6]uint64) int64 {
	const (
		rusageSelf     = 0
		rusageChildren = -1
		rusageThread   = 1
	)
	var b []byte
	switch int32(a[0]) {
	case rusageSelf:
		b = rusageBytes(p.insns, p.faults)
	case rusageChildren:
		b = rusageBytes(p.cinsns, p.cfaults)
	case rusageThread:
		b = rusageBytes(k.cur.insns, k.cur.faults)
	default:
		return -int64(EINVAL)
	}
	if _, ok := k.copyOut(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// rusageBytes is a struct rusage (144 bytes) with the user time of insns instructions at
// the virtual clock's one instruction per nanosecond, the fault counts (ru_minflt at 64,
// ru_majflt at 72), and zeros elsewhere.
func rusageBytes(insns uint64, f faultCounts) []byte {
	b := make([]byte, 144)
	binary.LittleEndian.PutUint64(b[0:], insns/1e9)
	binary.LittleEndian.PutUint64(b[8:], insns%1e9/1e3)
	binary.LittleEndian.PutUint64(b[64:], f.minor)
	binary.LittleEndian.PutUint64(b[72:], f.major)
	return b
}

// Faults returns the minor and major page faults the process has taken.
func (p *Process) Faults() (minor, major uint64) { return p.faults.minor, p.faults.major }
