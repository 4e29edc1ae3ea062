package web

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The JSON state: what GET /api/state returns. Field names are stable (the README documents
// them for tests and autograders). Addresses and raw entries are hex strings ("0x404000"),
// since a JavaScript number cannot hold every 64-bit value; frame numbers, counts and
// indices are numbers.

// Hex is a 64-bit value written as a JSON string "0x...".
type Hex uint64

// MarshalText writes the value as 0x followed by lower-case hex digits.
func (h Hex) MarshalText() ([]byte, error) { return fmt.Appendf(nil, "%#x", uint64(h)), nil }

// State is the machine as the page shows it, for one process the page picked.
type State struct {
	Version  uint64 `json:"version"` // bumps whenever the machine may have changed
	Program  string `json:"program"` // the program the session follows
	Status   string `json:"status"`  // "stopped", "running", "exited" or "failed"
	Insns    uint64 `json:"insns"`   // instructions retired: guest time
	Where    string `json:"where"`   // the debugger's location line
	Current  int    `json:"current"` // pid of the running process (0: none)
	PID      int    `json:"pid"`     // the process this state describes
	Stop     *Stop  `json:"stop"`    // the trap the program stopped at, before the kernel handles it
	Breaks   string `json:"breaks"`  // the debugger's breakpoint list, as its breaks command shows it
	Procs    []Proc `json:"processes"`
	Process  *Proc  `json:"process"` // the described process in full (VMAs, page tables), nil if none
	Frames   Frames `json:"frames"`
	CPUs     []CPU  `json:"cpus"`
	Last     *Event `json:"last_event"` // the most recent event of the timeline
	EventSeq uint64 `json:"event_seq"`  // sequence number of the last event (see /api/events)
}

// Stop describes a pending trap: a page fault or system call the kernel has not handled yet.
type Stop struct {
	Kind      string `json:"kind"` // "page-fault", "syscall" or "exception"
	PID       int    `json:"pid"`
	TID       int    `json:"tid"`
	CPU       int    `json:"cpu"`
	RIP       Hex    `json:"rip"`
	Addr      Hex    `json:"addr,omitempty"`       // CR2, for a page fault
	Code      uint32 `json:"error_code"`           // the #PF error code
	CodeBits  string `json:"error_bits,omitempty"` // "P W U - -"
	CodeText  string `json:"error_text,omitempty"` // each bit spelled out
	Access    string `json:"access,omitempty"`     // "user write"
	Outcome   string `json:"outcome,omitempty"`    // what the kernel will decide (predicted)
	VMA       *VMA   `json:"vma,omitempty"`
	Syscall   string `json:"syscall,omitempty"` // name, for a system call
	Exception string `json:"exception,omitempty"`
}

// Proc is one process.
type Proc struct {
	PID      int      `json:"pid"`
	PPID     int      `json:"ppid"`
	State    string   `json:"state"` // "running", "runnable", "blocked", "zombie"
	Exe      string   `json:"exe"`
	PCID     uint16   `json:"pcid"`
	PML4     uint64   `json:"pml4"` // frame of the PML4 (CR3 when it runs)
	Brk      Hex      `json:"brk"`
	Resident uint64   `json:"resident"` // 4 KiB pages mapped
	Threads  []Thread `json:"threads"`
	VMAs     []VMA    `json:"vmas,omitempty"`
	Tables   *Table   `json:"page_table,omitempty"` // the PML4 and below
	Walk     *Walk    `json:"walk,omitempty"`       // the last walk in this process
}

// Thread is one thread of a process.
type Thread struct {
	TID   int    `json:"tid"`
	Name  string `json:"name"`
	State string `json:"state"` // "runnable", "blocked", ...
	CPU   int    `json:"cpu"`   // the CPU it runs on, -1 when it runs on none
}

// VMA is one virtual memory area and the state of its pages.
type VMA struct {
	Start    Hex    `json:"start"`
	End      Hex    `json:"end"`
	Pages    uint64 `json:"pages"` // 4 KiB pages it spans
	Prot     string `json:"prot"`  // "rwx" letters, "-" for a missing right
	Shared   bool   `json:"shared"`
	Offset   Hex    `json:"offset"`
	Name     string `json:"name"`
	Kind     string `json:"kind"` // "text", "data", "heap", "stack", "file", "anon"
	Resident uint64 `json:"resident"`
	// Runs are the pages that are not untouched, in address order: runs of consecutive
	// pages in one state. State is "present" (mapped to a frame) or "swapped" (the PTE
	// holds a swap entry); pages in no run have never been touched.
	Runs []Run `json:"runs"`
}

// Run is a run of consecutive pages in one state.
type Run struct {
	Start Hex    `json:"start"`
	Pages uint64 `json:"pages"`
	State string `json:"state"`
}

// Table is one page-table page: the PML4 (level 4), a PDPT (3), a PD (2) or a PT (1).
type Table struct {
	Level   int     `json:"level"`
	Name    string  `json:"name"` // "PML4", "PDPT", "PD", "PT"
	Frame   uint64  `json:"frame"`
	VA      Hex     `json:"va"` // first linear address it covers
	Entries []Entry `json:"entries"`
	// Omitted counts the entries left out of a page table (level 1) when the process maps
	// more than MaxLeaves pages: the JSON stays small; walk ADDR shows any of them.
	Omitted int `json:"omitted,omitempty"`
}

// MaxLeaves bounds the page-table entries of one state: past it, page tables off the last
// walk's path are described by their count only.
const MaxLeaves = 16384

// Entry is one non-zero paging-structure entry.
type Entry struct {
	Index   int      `json:"index"`
	VA      Hex      `json:"va"` // first linear address the entry covers
	Value   Hex      `json:"value"`
	Bits    []string `json:"bits"`    // P RW US PWT PCD A D PS G NX, as set
	Letters string   `json:"letters"` // rwxugad, as emu debug spells a leaf
	Soft    string   `json:"soft"`    // the kernel's software bits: "cow", "prot-none" or ""
	Present bool     `json:"present"`
	Leaf    bool     `json:"leaf"`           // maps a page (a PTE, or a PS=1 PDE or PDPTE)
	Size    string   `json:"size,omitempty"` // page size of a leaf: 4K, 2M, 1G
	Frame   uint64   `json:"frame"`
	Ref     uint32   `json:"ref"`  // the frame's reference count
	Kind    string   `json:"kind"` // the frame's kind
	Table   *Table   `json:"table,omitempty"`
	// SwapSlot is the slot of a swap entry: a not-present PTE whose page is in swap (Frame
	// is then 0: the entry holds no frame number).
	SwapSlot uint64 `json:"swap_slot,omitempty"`
}

// Walk is the page walk the tree highlights: the entries read, PML4E first, and where it
// ended. It is the MMU's own record of its most recent walk (Source "mmu"), or, when the
// program stopped at a page fault the TLB raised without walking, the entries for the
// faulting address as they are in memory (Source "tables").
type Walk struct {
	VA     Hex     `json:"va"`
	Why    string  `json:"why"`    // "CPU 0's last page walk", ...
	Source string  `json:"source"` // "mmu" or "tables"
	CPU    int     `json:"cpu"`    // the CPU whose MMU walked (-1 for "tables")
	Access string  `json:"access"` // "user write", ...; "" for "tables"
	Levels []Level `json:"levels"`
	// StopLevel is the level whose entry had P=0 (4 = PML4E ... 1 = PTE), 0 when the walk
	// reached a present leaf.
	StopLevel int    `json:"stop_level"`
	Fault     bool   `json:"fault"`                // the walk ended in a page fault
	Code      uint32 `json:"error_code,omitempty"` // its error code
	Result    string `json:"result"`
}

// Level is one entry of a walk.
type Level struct {
	Level     int    `json:"level"`
	Name      string `json:"name"` // "PML4E", "PDPTE", "PDE", "PTE"
	Index     int    `json:"index"`
	EntryAddr Hex    `json:"entry_addr"`
	Value     Hex    `json:"value"` // as the walk read it (before it set A and D)
	Present   bool   `json:"present"`
	// Cached is set for an entry the walk did not read because a paging-structure cache
	// held it (SDM Vol. 3A 4.10.3): Value is then the entry in memory now.
	Cached bool `json:"cached,omitempty"`
	// Now is the entry in memory now, when it differs from what the walk read (the walk
	// set A or D, or the kernel changed the entry since).
	Now *Hex `json:"now,omitempty"`
}

// Frames is physical memory.
type Frames struct {
	Total      uint64 `json:"total"`
	InUse      uint64 `json:"in_use"`
	Peak       uint64 `json:"peak"`
	Shared     uint64 `json:"shared"`
	PageTables uint64 `json:"page_tables"`
	Copied     uint64 `json:"copied"`
	// Kinds has one letter per frame from frame 0 up to the highest frame ever used
	// (frames above it have never been used and are free): "." free, "u" user memory,
	// "s" user memory in the swap cache (its page also has a swap slot), "c" page cache,
	// "t" page table, "k" the kernel's. Frame 0 is reserved (never used).
	Kinds string `json:"kinds"`
	// Refs lists the frames whose reference count is above one, as [frame, count] pairs.
	Refs [][2]uint64 `json:"refs"`
	// Swap is the swap area, nil when the machine has none.
	Swap *Swap `json:"swap"`
}

// Swap is the swap area: its slots, those in use, and the swap cache.
type Swap struct {
	Slots     uint64 `json:"slots"`
	Used      uint64 `json:"used"`
	Peak      uint64 `json:"peak"`
	SwapCache uint64 `json:"swap_cache"` // pages in the swap cache
	PagesIn   uint64 `json:"pages_in"`
	PagesOut  uint64 `json:"pages_out"`
}

// FrameInfo is one frame and every reference to it (GET /api/frame).
type FrameInfo struct {
	Frame    uint64    `json:"frame"`
	Addr     Hex       `json:"addr"` // physical address
	Kind     string    `json:"kind"`
	Ref      uint32    `json:"ref"`
	Mappings []Mapping `json:"mappings"`
}

// Mapping is one reference to a frame: a PTE of a process, a page-table slot, or the page
// cache.
type Mapping struct {
	PID     int    `json:"pid,omitempty"`
	Kind    string `json:"kind"` // "pte", "table", "cache", "swap-cache" (Index: the slot)
	VA      Hex    `json:"va"`
	Level   int    `json:"level,omitempty"` // 1 for a 4 KiB PTE; a table's own level
	Value   Hex    `json:"value,omitempty"`
	Letters string `json:"letters,omitempty"`
	Soft    string `json:"soft,omitempty"`
	VMA     string `json:"vma,omitempty"`
	Cache   string `json:"cache,omitempty"` // the cached file, and Index its page
	Index   uint64 `json:"index,omitempty"`
}

// CPU is one processor and its TLBs.
type CPU struct {
	ID   int  `json:"id"`
	PID  int  `json:"pid"`  // the process it runs (0: idle)
	TID  int  `json:"tid"`  // and the thread
	Lazy bool `json:"lazy"` // idle, with the last address space still in CR3 (lazy TLB)
	CR3  Hex  `json:"cr3"`
	PCID int  `json:"pcid"`
	// ShootdownsSent counts the shootdowns this CPU started that interrupted another;
	// ShootdownIPIs the shootdown interrupts it took.
	ShootdownsSent uint64 `json:"shootdowns_sent"`
	ShootdownIPIs  uint64 `json:"shootdown_ipis"`
	TLBs           []TLB  `json:"tlbs"`
}

// TLB is one TLB: its shape, counters, and valid entries by place.
type TLB struct {
	Name          string     `json:"name"`
	Sets          int        `json:"sets"`
	Ways          int        `json:"ways"`
	LargeEntries  int        `json:"large_entries"`
	Policy        string     `json:"policy"`
	Hits          uint64     `json:"hits"`
	Misses        uint64     `json:"misses"`
	HitRate       float64    `json:"hit_rate"`
	Walks         uint64     `json:"walks"`
	Fills         uint64     `json:"fills"`
	Evictions     uint64     `json:"evictions"`
	Invalidations uint64     `json:"invalidations"`
	Flushes       uint64     `json:"flushes"`
	Entries       []TLBEntry `json:"entries"`
	// LastFill is the entry the most recent fill wrote (nil before any), and LastEvicted
	// the valid entry that fill displaced (nil if the slot was empty).
	LastFill    *TLBEntry `json:"last_fill"`
	LastEvicted *TLBEntry `json:"last_evicted"`
}

// TLBEntry is one valid TLB entry and where it sits.
type TLBEntry struct {
	Large  bool   `json:"large"` // in the fully associative array for 2 MiB and 1 GiB pages
	Set    int    `json:"set"`
	Way    int    `json:"way"`
	VA     Hex    `json:"va"`
	PA     Hex    `json:"pa"`
	Size   string `json:"size"`
	PCID   uint16 `json:"pcid"`
	Perm   string `json:"perm"` // rwxugad, as emu debug spells them
	Global bool   `json:"global"`
	PID    int    `json:"pid,omitempty"` // the process whose PCID it carries, when known
	VMA    string `json:"vma,omitempty"`
}

// Snapshot is what the builder needs besides the kernel: the session's view.
type Snapshot struct {
	K       *minikernel.Kernel
	Pending *minikernel.PendingTrap // nil when the program is not stopped at a trap
	Program string
	Where   string
	Breaks  string
	Status  string
}

// Build describes the machine for pid (0: the running process, else the lowest live one).
// It only reads. It returns an error when pid names no process.
func (s *Snapshot) Build(pid int) (*State, error) {
	k := s.K
	st := &State{Program: s.Program, Status: s.Status, Insns: k.Instructions(), Where: strings.TrimSpace(s.Where),
		Breaks: s.Breaks, Procs: []Proc{}}
	if cur := k.Current(); cur != nil {
		st.Current = cur.PID
	}
	procs := k.Processes()
	for _, p := range procs {
		st.Procs = append(st.Procs, s.proc(p, false))
	}
	var p *minikernel.Process
	switch {
	case pid != 0:
		if p = k.Process(pid); p == nil {
			return nil, fmt.Errorf("no process %d", pid)
		}
	case k.Current() != nil:
		p = k.Current()
	default:
		for _, q := range procs {
			if q.MM() != nil {
				p = q
				break
			}
		}
	}
	if p != nil {
		full := s.proc(p, true)
		st.Process, st.PID = &full, p.PID
	}
	st.Stop = s.stop()
	st.Frames = frames(k)
	st.CPUs = cpus(k)
	return st, nil
}

func (s *Snapshot) proc(p *minikernel.Process, full bool) Proc {
	k := s.K
	out := Proc{PID: p.PID, PPID: p.PPID, State: p.State(), Exe: p.Exe(), Threads: []Thread{}}
	for _, t := range p.Threads() {
		out.Threads = append(out.Threads, Thread{TID: t.TID, Name: t.Name(), State: t.State(), CPU: t.CPU()})
		if t.CPU() >= 0 && !t.Exited() {
			out.State = "running"
		}
	}
	mm := p.MM()
	if mm == nil {
		return out
	}
	out.PCID, out.PML4, out.Brk = mm.PCID(), mm.PML4(), Hex(mm.Brk())
	var tree *Table
	if full {
		tree = pageTable(k, mm.PML4(), 4, 0)
	}
	for _, v := range mm.VMAs() {
		res := k.ResidentPages(mm, v.Start, v.End)
		out.Resident += res
		if !full {
			continue
		}
		out.VMAs = append(out.VMAs, VMA{Start: Hex(v.Start), End: Hex(v.End), Pages: (v.End - v.Start) >> 12,
			Prot: protLetters(v.Prot), Shared: v.Flags&minikernel.VMShared != 0, Offset: Hex(v.Off),
			Name: describe.VMAName(v), Kind: vmaKind(v), Resident: res, Runs: pageRuns(tree, v.Start, v.End)})
	}
	if full {
		out.Tables = tree
		focus := uint64(1) << 63 // no page table covers it
		if out.Walk = s.lastWalk(p); out.Walk != nil {
			focus = uint64(out.Walk.VA)
		}
		prune(tree, MaxLeaves, focus)
	}
	return out
}

// stop describes the pending trap.
func (s *Snapshot) stop() *Stop {
	pt := s.Pending
	if pt == nil {
		return nil
	}
	st := &Stop{PID: pt.PID, TID: pt.TID, CPU: pt.CPU, RIP: Hex(pt.RIP)}
	switch {
	case pt.Kind == cpu.TrapSyscall:
		st.Kind = "syscall"
		nr := s.K.CPU().Reg(cpu.RAX)
		st.Syscall = minikernel.SyscallName(nr)
		if st.Syscall == "" {
			st.Syscall = fmt.Sprintf("syscall_%d", nr)
		}
	case pt.Vector == cpu.VecPF:
		st.Kind = "page-fault"
		st.Addr, st.Code = Hex(pt.Addr), pt.Code
		st.CodeBits = mmu.DecodeErrorCode(pt.Code)
		st.CodeText = describe.ErrorCodeBits(pt.Code)
		st.Access = describe.FaultAccess(pt.Code)
		out, v := s.K.PredictFault(*pt)
		st.Outcome = out.String()
		if v != nil {
			vv := VMA{Start: Hex(v.Start), End: Hex(v.End), Prot: protLetters(v.Prot), Name: describe.VMAName(v), Kind: vmaKind(v)}
			st.VMA = &vv
		}
	default:
		st.Kind = "exception"
		st.Exception = cpu.VectorName(pt.Vector)
	}
	return st
}

var tableNames = [5]string{"", "PT", "PD", "PDPT", "PML4"}
var entryNames = [5]string{"", "PTE", "PDE", "PDPTE", "PML4E"}

// pageTable reads the table in frame pfn at level and, below it, every table its present
// entries reference. Entries that are zero are left out.
func pageTable(k *minikernel.Kernel, pfn uint64, level int, base uint64) *Table {
	t := &Table{Level: level, Name: tableNames[level], Frame: pfn, VA: Hex(base), Entries: []Entry{}}
	r, f := k.RAM(), k.Frames()
	span := uint64(1) << (12 + 9*uint(level-1))
	for i := uint64(0); i < 512; i++ {
		raw, err := r.Read64(pfn<<12 + i*8)
		if err != nil || raw == 0 {
			continue
		}
		e := mmu.PTE(raw)
		va := canonical(base + i*span)
		present := e&mmu.PTEPresent != 0
		leaf := level == 1 || (level <= 3 && e&mmu.PTEPageSize != 0)
		ent := Entry{Index: int(i), VA: Hex(va), Value: Hex(raw), Bits: bitNames(e), Soft: minikernel.SoftBits(e),
			Present: present, Leaf: leaf, Frame: e.Frame()}
		if leaf {
			ent.Letters = describe.PTELetters(e)
			ent.Size = tlb.PageSize(level - 1).String()
		}
		if _, slot, swapped := minikernel.SwapEntry(e); swapped && leaf {
			ent.Frame, ent.SwapSlot = 0, slot
		} else if ent.Frame < f.Stats().Total && (present || ent.Soft != "") {
			ent.Ref, ent.Kind = f.Ref(ent.Frame), f.Kind(ent.Frame).String()
		}
		if present && !leaf {
			ent.Table = pageTable(k, e.Frame(), level-1, va)
		}
		t.Entries = append(t.Entries, ent)
	}
	return t
}

// prune empties the page tables (level 1) beyond the first max leaf entries, keeping the one
// that maps focus, and counts what it left out.
func prune(t *Table, max int, focus uint64) {
	n := 0
	var visit func(t *Table)
	visit = func(t *Table) {
		if t.Level == 1 {
			if n+len(t.Entries) > max && !(focus >= uint64(t.VA) && focus-uint64(t.VA) < 1<<21) {
				t.Omitted, t.Entries = len(t.Entries), []Entry{}
				return
			}
			n += len(t.Entries)
			return
		}
		for i := range t.Entries {
			if c := t.Entries[i].Table; c != nil {
				visit(c)
			}
		}
	}
	if t != nil {
		visit(t)
	}
}

// canonical sign-extends bit 47 of a linear address.
func canonical(va uint64) uint64 { return uint64(int64(va<<16) >> 16) }

// pageRuns finds the pages of [start, end) that the tree maps (present) or whose PTE holds a
// swap entry, as runs in address order.
func pageRuns(t *Table, start, end uint64) []Run {
	runs := []Run{}
	var visit func(t *Table)
	visit = func(t *Table) {
		span := uint64(1) << (12 + 9*uint(t.Level-1))
		for i := range t.Entries {
			e := &t.Entries[i]
			lo, hi := uint64(e.VA), uint64(e.VA)+span
			if hi <= start || lo >= end {
				continue
			}
			if e.Table != nil {
				visit(e.Table)
				continue
			}
			state := pageState(e)
			if state == "" {
				continue
			}
			lo, hi = max(lo, start), min(hi, end)
			n := (hi - lo) >> 12
			if last := len(runs) - 1; last >= 0 && runs[last].State == state &&
				uint64(runs[last].Start)+runs[last].Pages<<12 == lo {
				runs[last].Pages += n
				continue
			}
			runs = append(runs, Run{Start: Hex(lo), Pages: n, State: state})
		}
	}
	if t != nil {
		visit(t)
	}
	return runs
}

// pageState is a leaf entry's page state: "present" when it holds a frame (present, or a
// PROT_NONE page that keeps its frame), "swapped" when it holds a swap entry, "" when the
// page has not been touched.
func pageState(e *Entry) string {
	switch {
	case !e.Leaf:
		return ""
	case e.Present || strings.Contains(e.Soft, "prot-none"):
		return "present"
	case e.SwapSlot != 0:
		return "swapped"
	}
	return ""
}

// lastWalk is the walk the tree highlights in p's address space. At a page fault of p the
// program stopped at, it is the walk that raised it, or the entries for the faulting address
// when the TLB raised it without a walk. Otherwise it is the MMU's record of its last walk on
// the CPU the kernel acts on, or on the first other CPU whose last walk was in p's tables.
// nil when no CPU's last walk was in them.
func (s *Snapshot) lastWalk(p *minikernel.Process) *Walk {
	k, mm := s.K, p.MM()
	inP := func(w *mmu.WalkRecord) bool {
		return w.Count > 0 && (w.CR3&uint64(mmu.PTEAddrMask))>>12 == mm.PML4()
	}
	cpus := k.CPUs()
	if pt := s.Pending; pt != nil && pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF && pt.PID == p.PID {
		if pt.CPU >= 0 && pt.CPU < len(cpus) {
			if w := cpus[pt.CPU].MMU().LastWalk(); inP(&w) && w.Failed && w.VA == pt.Addr {
				return recordedWalk(k, mm, &w, pt.CPU, "the walk that raised the page fault the program stopped at")
			}
		}
		w := tableWalk(k, mm, pt.Addr, "the page fault the program stopped at; the TLB held an entry whose "+
			"permissions forbid the access, so the MMU raised it without a walk (SDM Vol. 3A 4.10.4.1): the entries as they are in memory")
		w.Access, w.Fault, w.Code = describe.FaultAccess(pt.Code), true, pt.Code
		w.finish(k)
		return w
	}
	first := k.ThisCPU().ID()
	if pt := s.Pending; pt != nil && pt.CPU >= 0 && pt.CPU < len(cpus) {
		first = pt.CPU
	}
	order := append([]*minikernel.PerCPU{cpus[first]}, cpus...)
	for i, c := range order {
		if i > 0 && c.ID() == first {
			continue
		}
		if w := c.MMU().LastWalk(); inP(&w) {
			why := "the last page walk"
			if len(cpus) > 1 {
				why = fmt.Sprintf("CPU %d's last page walk", c.ID())
			}
			return recordedWalk(k, mm, &w, c.ID(), why)
		}
	}
	return nil
}

// recordedWalk describes an MMU's record of a walk in mm. Levels a paging-structure cache
// supplied (the walk began below them) are read from memory and marked cached.
func recordedWalk(k *minikernel.Kernel, mm *minikernel.MM, r *mmu.WalkRecord, cpuID int, why string) *Walk {
	w := &Walk{VA: Hex(r.VA), Why: why, Source: "mmu", CPU: cpuID, Access: (r.Access &^ mmu.AC).String(), Fault: r.Failed}
	read := r.Read()
	if len(read) > 0 && read[0].Level < 4 {
		for _, l := range k.TableWalk(mm, r.VA) {
			if l.Level > read[0].Level {
				lv := level(l)
				lv.Cached = true
				w.Levels = append(w.Levels, lv)
			}
		}
	}
	for _, l := range read {
		lv := level(l)
		if now, err := k.RAM().Read64(l.EntryAddr); err == nil && now != uint64(l.Entry) {
			h := Hex(now)
			lv.Now = &h
		}
		w.Levels = append(w.Levels, lv)
	}
	if r.Failed {
		w.Code = r.Code
	}
	w.finish(k)
	return w
}

// tableWalk reads the entries the MMU would read for va in mm, without side effects.
func tableWalk(k *minikernel.Kernel, mm *minikernel.MM, va uint64, why string) *Walk {
	w := &Walk{VA: Hex(va), Why: why, Source: "tables", CPU: -1}
	if !mmu.Canonical(va) {
		w.Result = fmt.Sprintf("%#x is not canonical: an access raises #GP, no walk", va)
		return w
	}
	for _, l := range k.TableWalk(mm, va) {
		w.Levels = append(w.Levels, level(l))
	}
	w.finish(k)
	return w
}

func level(l mmu.Level) Level {
	return Level{Level: l.Level, Name: entryNames[l.Level], Index: int(l.Index), EntryAddr: Hex(l.EntryAddr),
		Value: Hex(l.Entry), Present: l.Entry&mmu.PTEPresent != 0}
}

// finish sets where the walk stopped and its result line.
func (w *Walk) finish(k *minikernel.Kernel) {
	if len(w.Levels) == 0 {
		w.Result = "no address space"
		return
	}
	last := w.Levels[len(w.Levels)-1]
	e := mmu.PTE(last.Value)
	switch {
	case !last.Present:
		w.StopLevel = last.Level
		w.Result = fmt.Sprintf("the %s (level %d) has P=0: the walk stops there, page not present", last.Name, last.Level)
		if _, slot, ok := minikernel.SwapEntry(e); ok && last.Level == 1 {
			w.Result += fmt.Sprintf("; the entry is a swap entry: the page is in swap slot %d", slot)
		}
	case w.Fault && w.Code&mmu.ErrReserved != 0:
		w.Result = fmt.Sprintf("the %s sets a reserved bit: #PF with RSVD=1", last.Name)
	case w.Fault:
		w.Result = fmt.Sprintf("the entries down to the %s allow no %s: #PF with P=1, a protection fault", last.Name, w.Access)
	default:
		f := e.Frame()
		w.Result = fmt.Sprintf("frame %#x (%s, ref %d), a %s page", f, k.Frames().Kind(f), k.Frames().Ref(f),
			tlb.PageSize(last.Level-1))
	}
}

// frames describes physical memory: kinds up to the highest frame used, shared counts.
func frames(k *minikernel.Kernel) Frames {
	f := k.Frames()
	st := f.Stats()
	out := Frames{Total: st.Total, InUse: st.InUse, Peak: st.Peak, Shared: st.Shared, PageTables: st.Tables,
		Copied: st.Copied, Refs: [][2]uint64{}}
	top := uint64(0)
	for pfn := st.Total; pfn > 0; pfn-- {
		if f.Kind(pfn-1) != minikernel.FrameFree {
			top = pfn
			break
		}
	}
	kinds := make([]byte, top)
	for pfn := uint64(0); pfn < top; pfn++ {
		kinds[pfn] = kindLetter(f.Kind(pfn))
		if r := f.Ref(pfn); r > 1 {
			out.Refs = append(out.Refs, [2]uint64{pfn, uint64(r)})
		}
	}
	if sw, ok := k.Swap(); ok {
		out.Swap = &Swap{Slots: sw.Slots, Used: sw.Used, Peak: sw.Peak, SwapCache: sw.Cached, PagesIn: sw.PagesIn, PagesOut: sw.PagesOut}
		for _, sl := range k.SwapSlots() {
			if sl.Frame != 0 && sl.Frame < top && kinds[sl.Frame] == 'u' {
				kinds[sl.Frame] = 's'
			}
		}
	}
	out.Kinds = string(kinds)
	return out
}

func kindLetter(k minikernel.FrameKind) byte {
	switch k {
	case minikernel.FrameUser:
		return 'u'
	case minikernel.FrameTable:
		return 't'
	case minikernel.FrameCache:
		return 'c'
	case minikernel.FrameKernel:
		return 'k'
	}
	return '.'
}

// Frame describes frame pfn and everything that refers to it.
func Frame(k *minikernel.Kernel, pfn uint64) (*FrameInfo, error) {
	f := k.Frames()
	if pfn >= f.Stats().Total {
		return nil, fmt.Errorf("frame %#x is beyond physical memory (%d frames)", pfn, f.Stats().Total)
	}
	out := &FrameInfo{Frame: pfn, Addr: Hex(pfn << 12), Kind: f.Kind(pfn).String(), Ref: f.Ref(pfn), Mappings: []Mapping{}}
	if out.Ref == 0 {
		return out, nil
	}
	for _, m := range k.FrameMap()[pfn] {
		switch {
		case m.Cache != nil:
			out.Mappings = append(out.Mappings, Mapping{Kind: "cache", Cache: m.Cache.Name(), Index: m.Index})
		case m.SwapSlot != 0:
			out.Mappings = append(out.Mappings, Mapping{Kind: "swap-cache", Index: m.SwapSlot})
		case m.Kernel != "":
			out.Mappings = append(out.Mappings, Mapping{Kind: "kernel", Cache: m.Kernel})
		case m.Table:
			out.Mappings = append(out.Mappings, Mapping{PID: m.PID, Kind: "table", VA: Hex(m.VA), Level: m.Level})
		default:
			mp := Mapping{PID: m.PID, Kind: "pte", VA: Hex(m.VA), Level: m.Level, Value: Hex(m.Entry),
				Letters: describe.PTELetters(m.Entry), Soft: minikernel.SoftBits(m.Entry)}
			if p := k.Process(m.PID); p != nil && p.MM() != nil {
				if v := p.MM().Find(m.VA); v != nil {
					mp.VMA = describe.VMAName(v)
				}
			}
			out.Mappings = append(out.Mappings, mp)
		}
	}
	return out, nil
}

// cpus describes each processor and its TLBs.
func cpus(k *minikernel.Kernel) []CPU {
	byPCID := map[uint16]*minikernel.Process{}
	for _, p := range k.Processes() {
		if p.MM() != nil {
			byPCID[p.MM().PCID()] = p
		}
	}
	out := []CPU{}
	for _, pc := range k.CPUs() {
		m := pc.MMU()
		c := CPU{ID: pc.ID(), CR3: Hex(m.CR3()), PCID: int(m.PCID()), TLBs: []TLB{}}
		own := byPCID
		if t := pc.Thread(); t != nil {
			c.PID, c.TID = t.Process().PID, t.TID
			if mm := t.Process().MM(); mm != nil && mm.PCID() == 0 {
				// With PCIDs off, PCID 0 on this CPU is the process it runs.
				own = map[uint16]*minikernel.Process{}
				for id, p := range byPCID {
					own[id] = p
				}
				own[0] = t.Process()
			}
		}
		if mm, lazy := pc.LoadedMM(); mm != nil && lazy {
			c.Lazy = true
		}
		ts := []*tlb.TLB{m.ITLB, m.DTLB}
		if m.ITLB == m.DTLB {
			ts = ts[1:]
		}
		for _, t := range ts {
			c.TLBs = append(c.TLBs, tlbState(t, own))
		}
		st := pc.Stats()
		c.ShootdownsSent, c.ShootdownIPIs = st.ShootdownsSent, st.ShootdownIPIs
		out = append(out, c)
	}
	return out
}

func tlbState(t *tlb.TLB, byPCID map[uint16]*minikernel.Process) TLB {
	cfg, s := t.Config(), t.Stats
	out := TLB{Name: cfg.Name, Sets: cfg.Entries / max(cfg.Ways, 1), Ways: cfg.Ways, LargeEntries: cfg.LargeEntries,
		Policy: cfg.Policy.String(), Hits: s.Hits, Misses: s.Misses, HitRate: s.HitRate(), Walks: s.Walks,
		Fills: s.Fills, Evictions: s.Evictions, Invalidations: s.Invalidations, Flushes: s.Flushes, Entries: []TLBEntry{}}
	entry := func(e tlb.Entry) TLBEntry {
		large, set, way := e.Place()
		te := TLBEntry{Large: large, Set: set, Way: way, VA: Hex(e.VPN << 12), PA: Hex(e.PFN << 12),
			Size: e.Size.String(), PCID: e.PCID, Perm: describe.TLBLetters(e.Perm), Global: e.Perm&tlb.PermGlobal != 0}
		if p := byPCID[e.PCID]; p != nil && p.MM() != nil {
			te.PID = p.PID
			if v := p.MM().Find(e.VPN << 12); v != nil {
				te.VMA = describe.VMAName(v)
			}
		}
		return te
	}
	for _, e := range t.Entries() {
		out.Entries = append(out.Entries, entry(e))
	}
	if _, filled, replaced := t.LastFill(); filled != nil && filled.Valid() {
		e := entry(*filled)
		out.LastFill = &e
		if replaced.Valid() && (replaced.VPN != filled.VPN || replaced.PCID != filled.PCID || replaced.Size != filled.Size) {
			r := entry(replaced)
			out.LastEvicted = &r
		}
	}
	sort.SliceStable(out.Entries, func(i, j int) bool {
		a, b := out.Entries[i], out.Entries[j]
		if a.Large != b.Large {
			return !a.Large
		}
		if a.Set != b.Set {
			return a.Set < b.Set
		}
		return a.Way < b.Way
	})
	return out
}

// protLetters is a VMA's protection as three letters, "rw-".
func protLetters(p minikernel.Prot) string { return p.String() }

// vmaKind classifies a VMA for colouring: text, data, heap, stack, file or anon.
func vmaKind(v *minikernel.VMA) string {
	switch {
	case v.Name == "[heap]":
		return "heap"
	case strings.HasPrefix(v.Name, "[stack"):
		return "stack"
	case v.Obj != nil && v.Prot&minikernel.ProtExec != 0:
		return "text"
	case v.Obj != nil && v.Flags&minikernel.VMShared == 0 && v.Prot&minikernel.ProtWrite != 0:
		return "data"
	case v.Obj != nil:
		return "file"
	}
	return "anon"
}

// bitNames lists the architectural bits set in an entry, in the SDM's order.
func bitNames(e mmu.PTE) []string {
	out := []string{}
	for _, f := range []struct {
		bit  mmu.PTE
		name string
	}{{mmu.PTEPresent, "P"}, {mmu.PTEWrite, "RW"}, {mmu.PTEUser, "US"}, {mmu.PTEPWT, "PWT"}, {mmu.PTEPCD, "PCD"},
		{mmu.PTEAccessed, "A"}, {mmu.PTEDirty, "D"}, {mmu.PTEPageSize, "PS"}, {mmu.PTEGlobal, "G"}, {mmu.PTENoExec, "NX"}} {
		if e&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}
