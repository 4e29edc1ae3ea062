package minikernel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/reclaim"
)

// The out-of-memory killer and fault accounting. When a fault finds no free frame even
// after reclaim (RAM full, and swap full or absent), the kernel kills the process whose
// death frees the most: Linux's mm/oom_kill.c (out_of_memory, select_bad_process,
// oom_badness). The faulting process then retries its access, unless it was the one chosen.
// emu itself never dies of it.

// accountFault tells the replacement policy of a resolved fault, notes the frame as one the
// faulting instruction needs, and culls a page faulted into a locked area at once (Linux's
// mlock_new_folio()). (getrusage's counts are rusage.go's countFault.)
func (k *Kernel) accountFault(p *Process, c faultClass, frame uint64) {
	switch c.out {
	case FaultSIGSEGV, FaultSIGBUS, FaultOOM, FaultEFAULT, FaultUserfault:
		return
	}
	if frame == 0 || k.rc == nil {
		return
	}
	if t := k.cur; t != nil && t.proc == p {
		t.noteInflight(frame)
	}
	if c.vma != nil && c.vma.Flags&VMLocked != 0 {
		k.cullFrame(frame)
		return
	}
	if k.frames.flags(frame)&flagLRU != 0 {
		k.rc.policy.Fault(reclaim.Frame(frame), c.out.Major())
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
			if p.oomScoreAdj != 0 {
				note += fmt.Sprintf(" (oom_score_adj %d)", p.oomScoreAdj)
			}
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

// oomVictim picks the process to kill: the highest badness, and among equals the one
// created last, as select_bad_process() walks the task list (oom_evaluate_task() takes a
// task whose points are not below the chosen one's). Init, processes already exiting and
// those with oom_score_adj -1000 are never chosen.
func (k *Kernel) oomVictim() (*Process, int64) {
	var best *Process
	var bestPoints int64
	for _, p := range k.live {
		if !k.oomKillable(p) {
			continue
		}
		if pts := k.badness(p); best == nil || pts >= bestPoints {
			best, bestPoints = p, pts
		}
	}
	return best, bestPoints
}

// oomKillable reports whether the OOM killer may choose p (oom_badness() returns LONG_MIN
// for the others).
func (k *Kernel) oomKillable(p *Process) bool {
	return !p.kernelInit && !p.exited && !p.groupExit && p.mm != nil && p.oomScoreAdj != oomScoreAdjMin
}

// oomTotal is the memory the OOM killer weighs badness against: RAM's frames and swap's
// slots (oom_badness()'s totalpages).
func (k *Kernel) oomTotal() uint64 {
	total := k.frames.Stats().Total
	if k.swap != nil {
		total += k.swap.Slots()
	}
	return total
}

// oomScore is /proc/PID/oom_score: the badness scaled into [0, 2000] as Linux reports it
// (proc_oom_score()), 0 for a process the OOM killer never chooses.
func (k *Kernel) oomScore(p *Process) int64 {
	if !k.oomKillable(p) {
		return 0
	}
	total := int64(k.oomTotal())
	return (1000 + k.badness(p)*1000/total) * 2 / 3
}

// writeOOMScoreAdj is a write to q's /proc/PID/oom_score_adj by p (__set_oom_adj()): a
// decimal (or 0x hex, 0 octal) number from -1000 to 1000, else EINVAL; lowering it below
// the floor a privileged writer left needs CAP_SYS_RESOURCE (EACCES), and a writer with it
// sets the floor too.
func (k *Kernel) writeOOMScoreAdj(p, q *Process, src *uio) int64 {
	b := make([]byte, min(src.total, 12)) // PROC_NUMBUF - 1
	n, ok := src.load(k, p, 0, b)
	if !ok {
		return -int64(EFAULT)
	}
	text := strings.TrimSpace(string(b[:n]))
	digits := strings.TrimLeft(text, "+-")
	if strings.Contains(text, "_") || len(digits) > 1 && digits[0] == '0' && strings.ContainsRune("bBoO", rune(digits[1])) {
		return -int64(EINVAL) // Go's prefixes and separators; kstrtoint knows only 0x and 0
	}
	v, perr := strconv.ParseInt(text, 0, 32)
	if perr != nil || v < oomScoreAdjMin || v > 1000 {
		return -int64(EINVAL)
	}
	privileged := p.cred.capable(capSysRes)
	if int(v) < q.oomScoreAdjFloor && !privileged {
		return -int64(EACCES)
	}
	q.oomScoreAdj = int(v)
	if privileged {
		q.oomScoreAdjFloor = int(v)
	}
	return int64(src.total)
}

// oomScoreAdjMin is the oom_score_adj that exempts a process from the OOM killer.
const oomScoreAdjMin = -1000

// badness is Linux's oom_badness(): the pages a process's death would free (resident pages,
// swap entries, page-table pages), adjusted by oom_score_adj thousandths of all memory
// (adj x (totalpages / 1000), as Linux computes it; the result may be negative).
func (k *Kernel) badness(p *Process) int64 {
	rss, swap, tables := k.mmCounts(p.mm)
	return int64(rss+swap+tables) + int64(p.oomScoreAdj)*int64(k.oomTotal()/1000)
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
