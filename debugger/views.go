package debugger

import (
	"debug/elf"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// What the debugger shows: every view reads the machine without side effects (TableWalk,
// mmu.Inspect, PeekUser, TLB entries), so looking never changes what the program does.

var levelName = [5]string{"", "PTE", "PDE", "PDPTE", "PML4E"}
var tableName = [5]string{"", "PT", "PD", "PDPT", "PML4"}

// process returns the process the views are about: the one running on the viewed CPU,
// else the one followed.
func (d *Session) process() *minikernel.Process {
	if p := d.viewProcess(); p != nil {
		return p
	}
	return d.init
}

// where is the location line: pid (and thread, and CPU when there are several), guest time
// (instructions retired by every CPU), rip with symbol and VMA, and the instruction.
func (d *Session) where() string {
	t := d.viewThread()
	if t == nil {
		if d.init.Exited() {
			return fmt.Sprintf("  (pid %d has exited: %s)", d.init.PID, describe.ExitText(d.init.WaitStatus()))
		}
		if d.multi() {
			return fmt.Sprintf("  cpu%d is idle", d.viewCPU().ID())
		}
		return "  (no process is running)"
	}
	p := t.Process()
	rip := d.k.ThreadRegs(t).RIP
	who := describe.TaskName(p.PID, t.TID)
	if d.multi() {
		who = fmt.Sprintf("cpu%d  %s", d.viewCPU().ID(), who)
	}
	return fmt.Sprintf("  %s  insn %d  rip %s  %s", who, d.k.Instructions(), d.symbolic(rip), d.disasm(p, rip))
}

// disasm decodes the instruction at va (AT&T syntax, as objdump and gdb show it).
func (d *Session) disasm(p *minikernel.Process, va uint64) string {
	var buf [15]byte
	n := d.k.PeekUser(p, va, buf[:])
	if n == 0 {
		return "(not mapped yet: fetching it will fault)"
	}
	inst, err := x86asm.Decode(buf[:n], 64)
	if err != nil {
		return fmt.Sprintf("(bytes % x: %v)", buf[:min(n, 8)], err)
	}
	return x86asm.GNUSyntax(inst, va, d.syms.lookupFunc(p.Exe()))
}

// symbolic is "0x401005 <main+5>", or "0x7ffffffde000 [stack]" outside any symbol.
func (d *Session) symbolic(va uint64) string {
	p := d.process()
	s := fmt.Sprintf("%#x", va)
	if p == nil {
		return s
	}
	if name, off := d.syms.find(p.Exe(), va); name != "" {
		if off == 0 {
			return fmt.Sprintf("%s <%s>", s, name)
		}
		return fmt.Sprintf("%s <%s+%#x>", s, name, off)
	}
	if mm := p.MM(); mm != nil {
		if v := mm.Find(va); v != nil {
			return fmt.Sprintf("%s [%s]", s, describe.VMAName(v))
		}
	}
	return s
}

// parseAddr reads ADDR: a number, a register (rsp, $rip), or a symbol, with +/- offsets.
func (d *Session) parseAddr(s string) (uint64, error) {
	var total uint64
	sign := uint64(1)
	rest := s
	for rest != "" {
		i := strings.IndexAny(rest[1:], "+-") + 1
		term := rest
		if i > 0 {
			term, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		switch term[0] {
		case '+':
			sign, term = 1, term[1:]
		case '-':
			sign, term = ^uint64(0), term[1:]
		}
		v, err := d.addrTerm(term)
		if err != nil {
			return 0, err
		}
		total += sign * v
	}
	if s == "" {
		return 0, fmt.Errorf("missing address")
	}
	return total, nil
}

// canonicalAddr is parseAddr for commands about memory a page table can map (x, watch
// pte): a non-canonical address is an error, since no page table maps it.
func (d *Session) canonicalAddr(s string) (uint64, error) {
	va, err := d.parseAddr(s)
	if err == nil && !mmu.Canonical(va) {
		err = fmt.Errorf("%#x is not canonical (bits 63 to 47 differ): no page table maps it, and an access raises #GP", va)
	}
	return va, err
}

func (d *Session) addrTerm(t string) (uint64, error) {
	if v, err := strconv.ParseUint(t, 0, 64); err == nil {
		return v, nil
	}
	name := strings.ToLower(strings.TrimPrefix(t, "$"))
	if name == "rip" || name == "pc" {
		return d.k.CPU().RIP(), nil
	}
	for i, r := range cpu.RegNames {
		if r == name {
			if p := d.process(); p != nil {
				return d.k.Regs(p).GPR[i], nil
			}
		}
	}
	if p := d.process(); p != nil {
		if va, ok := d.syms.addr(p.Exe(), t); ok {
			return va, nil
		}
	}
	return 0, fmt.Errorf("%q is not an address, a register or a symbol of the program", t)
}

// --- stops ---

// showFault prints a pending page fault, decoded, before the kernel handles it.
func (d *Session) showFault(pt *minikernel.PendingTrap) {
	p := d.k.Process(pt.PID)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  rip\t%s  %s\n", d.symbolic(pt.RIP), d.disasm(p, pt.RIP))
	fmt.Fprintf(tw, "  address\t%#x (CR2)\n", pt.Addr)
	fmt.Fprintf(tw, "  access\t%s\n", describe.FaultAccess(pt.Code))
	fmt.Fprintf(tw, "  error code\t%#x [%s]: %s\n", pt.Code, mmu.DecodeErrorCode(pt.Code), describe.ErrorCodeBits(pt.Code))
	out, v := d.k.PredictFault(*pt)
	fmt.Fprintf(tw, "  VMA\t%s\n", describe.VMADesc(v))
	fmt.Fprintf(tw, "  PTE\t%s\n", d.pteSummary(p, pt.Addr))
	fmt.Fprintf(tw, "  kernel\twill resolve it as %s (%s)\n", out, outcomeWhy(out, v))
	tw.Flush()
}

// outcomeWhy says why the kernel decides an outcome.
func outcomeWhy(o minikernel.FaultOutcome, v *minikernel.VMA) string {
	switch o {
	case minikernel.FaultDemandZero:
		return "anonymous memory, first touch: a zeroed frame"
	case minikernel.FaultFileRead:
		return "the page's bytes are read from " + describe.VMAName(v)
	case minikernel.FaultFileCached:
		return "the page of " + describe.VMAName(v) + " is in the page cache already: map it"
	case minikernel.FaultCOWCopy:
		return "a write to a frame shared copy-on-write: copy it"
	case minikernel.FaultCOWReuse:
		return "a write to a copy-on-write frame nobody else holds: make it writable"
	case minikernel.FaultStackGrowth:
		return "just below the stack: the stack grows down"
	case minikernel.FaultSpurious:
		return "the page tables already allow it: a stale TLB entry"
	case minikernel.FaultSwapIn:
		return "the PTE is a swap entry: read the page back from its swap slot, a major fault"
	case minikernel.FaultSwapCached:
		return "the PTE is a swap entry whose page is still in the swap cache: map that frame, a minor fault"
	case minikernel.FaultUserfault:
		return "the area is registered with a userfaultfd: forward the fault to it, the thread sleeps until the page is resolved"
	case minikernel.FaultSIGSEGV:
		if v == nil {
			return "no VMA covers the address"
		}
		return "the VMA forbids this access"
	}
	return "predicted"
}

// showSyscall prints a pending system call with its arguments, from the registers.
func (d *Session) showSyscall() {
	c := d.k.CPU()
	e := minikernel.Event{Sysno: c.Reg(cpu.RAX), Args: [6]uint64{c.Reg(cpu.RDI), c.Reg(cpu.RSI),
		c.Reg(cpu.RDX), c.Reg(cpu.R10), c.Reg(cpu.R8), c.Reg(cpu.R9)}}
	e.Name = syscallDisplayName(e.Sysno)
	call := describe.SyscallText(&e)
	call = call[:strings.LastIndex(call, " = ")]
	d.printf("  rip      %s (after the syscall instruction)\n", d.symbolic(c.RIP()))
	d.printf("  call     %s   [nr %d in rax]\n", call, e.Sysno)
}

// pteSummary describes the entry that maps va in p: the leaf's value, letters and frame
// with its reference count, or the level where the walk stops.
func (d *Session) pteSummary(p *minikernel.Process, va uint64) string {
	if p == nil || p.MM() == nil {
		return "no address space"
	}
	return d.levelSummary(d.k.TableWalk(p.MM(), va))
}

func (d *Session) levelSummary(lv []mmu.Level) string {
	if len(lv) == 0 {
		return "no address space"
	}
	l := lv[len(lv)-1]
	if l.Entry&mmu.PTEPresent == 0 {
		if l.Level == 1 {
			s := fmt.Sprintf("not present (PTE %#x = %#x)", l.EntryAddr, uint64(l.Entry))
			if _, slot, ok := minikernel.SwapEntry(l.Entry); ok {
				s += fmt.Sprintf(" [swap entry: slot %d]", slot)
			} else if soft := minikernel.SoftBits(l.Entry); soft != "" {
				s += " [" + soft + "]"
			}
			return s
		}
		return fmt.Sprintf("not present: the %s (level %d) has P=0, no %s yet", l.Name(), l.Level, tableName[l.Level-1])
	}
	f := l.Entry.Frame()
	s := fmt.Sprintf("0x%016x %s frame %#x (%s, ref %d)", uint64(l.Entry), describe.PTELetters(l.Entry), f,
		d.k.Frames().Kind(f), d.k.Frames().Ref(f))
	if soft := minikernel.SoftBits(l.Entry); soft != "" {
		s += " [" + soft + "]"
	}
	if l.Level > 1 {
		s += fmt.Sprintf(" (a %s page)", tlb.PageSize(l.Level-1))
	}
	return s
}

// --- views ---

func (d *Session) cmdRegs() error {
	p := d.process()
	if p == nil || p.Exited() {
		return fmt.Errorf("regs: no process is running")
	}
	s := d.k.Regs(p)
	if t := d.viewThread(); t != nil && t.Process() == p {
		s = d.k.ThreadRegs(t)
	}
	for i := 0; i < 16; i += 4 {
		var row []string
		for j := i; j < i+4; j++ {
			row = append(row, fmt.Sprintf("%-4s 0x%016x", cpu.RegNames[j], s.GPR[j]))
		}
		d.printf("%s\n", strings.Join(row, "   "))
	}
	d.printf("rip  %s\n", d.symbolic(s.RIP))
	d.printf("rflags %#x [%s]   fs_base %#x   gs_base %#x\n", s.RFLAGS, flagNames(s.RFLAGS), s.FSBase, s.GSBase)
	return nil
}

func flagNames(f uint64) string {
	var out []string
	for _, x := range []struct {
		bit  uint64
		name string
	}{{cpu.FlagCF, "CF"}, {cpu.FlagPF, "PF"}, {cpu.FlagAF, "AF"}, {cpu.FlagZF, "ZF"}, {cpu.FlagSF, "SF"},
		{cpu.FlagTF, "TF"}, {cpu.FlagIF, "IF"}, {cpu.FlagDF, "DF"}, {cpu.FlagOF, "OF"}, {cpu.FlagAC, "AC"}, {cpu.FlagID, "ID"}} {
		if f&x.bit != 0 {
			out = append(out, x.name)
		}
	}
	return strings.Join(out, " ")
}

// cmdWalk shows the page walk the MMU would do for ADDR in the running process.
func (d *Session) cmdWalk(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: walk ADDR")
	}
	p := d.viewProcess()
	if p == nil {
		return fmt.Errorf("walk: no process is running")
	}
	va, err := d.parseAddr(args[0])
	if err != nil {
		return err
	}
	m := d.viewCPU().MMU()
	d.printf("walk %#x in pid %d: CR3 %#x (PML4 at %#x, PCID %d)\n", va, p.PID, m.CR3(),
		m.CR3()&uint64(mmu.PTEAddrMask), m.PCID())
	if !mmu.Canonical(va) {
		d.printf("  %#x is not canonical (bits 63:47 differ): any access raises #GP, not #PF; no walk\n", va)
		return nil
	}
	d.printf("  index    PML4 %d | PDPT %d | PD %d | PT %d | offset %#03x\n",
		va>>39&511, va>>30&511, va>>21&511, va>>12&511, va&0xfff)
	info := m.Inspect(va, mmu.User)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  level\tindex\tentry at\tvalue\trwxugad\tbits\n")
	for _, l := range info.Levels {
		fmt.Fprintf(tw, "  %s\t%d\t%#x\t0x%016x\t%s\t%s\n", l.Name(), l.Index, l.EntryAddr, uint64(l.Entry),
			describe.PTELetters(l.Entry), l.Entry)
	}
	tw.Flush()
	last := info.Levels[len(info.Levels)-1]
	switch {
	case last.Entry&mmu.PTEPresent == 0:
		d.printf("  result   #PF: the %s (level %d) has P=0, so the walk stops there: page not present.\n",
			last.Name(), last.Level)
		d.printf("           A user read would fault with error code %#x [%s].\n", info.Fault.Code, mmu.DecodeErrorCode(info.Fault.Code))
		if typ, slot, ok := minikernel.SwapEntry(last.Entry); ok && last.Level == 1 {
			d.printf("           The PTE is a swap entry (Linux's encoding: type %d in bits 59-63, offset %d\n", typ, slot)
			d.printf("           inverted in bits 9-58): the page is in swap slot %d; a fault reads it back.\n", slot)
		}
	case info.Fault.Code&mmu.ErrReserved != 0:
		d.printf("  result   #PF: the %s (level %d) sets a reserved bit: error code %#x [%s]\n", last.Name(),
			last.Level, info.Fault.Code, mmu.DecodeErrorCode(info.Fault.Code))
	default:
		pa := last.Entry.Addr()&^(uint64(info.Size.Bytes())-1) | va&(info.Size.Bytes()-1)
		if info.OK {
			pa = info.PA
		}
		f := last.Entry.Frame()
		d.printf("  result   frame %#x (%s, ref %d): physical address %#x, a %s page\n", f,
			d.k.Frames().Kind(f), d.k.Frames().Ref(f), pa, info.Size)
		d.printf("           user read %s, user write %s, user fetch %s\n", d.verdict(va, mmu.User),
			d.verdict(va, mmu.User|mmu.Write), d.verdict(va, mmu.User|mmu.Fetch))
	}
	if mm := p.MM(); mm != nil {
		if v := mm.Find(va); v != nil {
			d.printf("  VMA      %s%s\n", describe.VMADesc(v), ifNotPresent(last, " (a fault here is the kernel's to resolve)"))
		} else {
			d.printf("  VMA      none: an access here is SIGSEGV (unless it is just below the stack)\n")
		}
	}
	return nil
}

func ifNotPresent(l mmu.Level, s string) string {
	if l.Entry&mmu.PTEPresent == 0 {
		return s
	}
	return ""
}

// verdict says whether an access would succeed, or the fault it would raise.
func (d *Session) verdict(va uint64, acc mmu.Access) string {
	info := d.viewCPU().MMU().Inspect(va, acc)
	if info.OK {
		return "ok"
	}
	return fmt.Sprintf("faults [%s]", mmu.DecodeErrorCode(info.Fault.Code))
}

func (d *Session) pidArg(args []string) (*minikernel.Process, error) {
	if len(args) == 0 {
		if p := d.process(); p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("no process")
	}
	pid, err := strconv.Atoi(args[0])
	if err != nil {
		return nil, fmt.Errorf("%q is not a pid", args[0])
	}
	p := d.k.Process(pid)
	if p == nil {
		return nil, fmt.Errorf("no process %d", pid)
	}
	return p, nil
}

func (d *Session) cmdVMAs(args []string) error {
	p, err := d.pidArg(args)
	if err != nil {
		return err
	}
	mm := p.MM()
	if mm == nil {
		return fmt.Errorf("vmas: pid %d has no address space (it has exited)", p.PID)
	}
	d.printf("pid %d %s: %d VMAs, program break %#x\n", p.PID, p.Exe(), len(mm.VMAs()), mm.Brk())
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  start\tend\tsize\tprot\toffset\tresident\tname\n")
	for _, v := range mm.VMAs() {
		fmt.Fprintf(tw, "  %#x\t%#x\t%s\t%s\t%#x\t%d\t%s\n", v.Start, v.End, sizeText(v.End-v.Start), describe.VMAProt(v), v.Off,
			d.k.ResidentPages(mm, v.Start, v.End), describe.VMAName(v))
	}
	tw.Flush()
	return nil
}

func sizeText(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dG", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dM", n>>20)
	}
	return fmt.Sprintf("%dK", n>>10)
}

// printPSC shows the paging-structure caches (SDM 4.10.3): each cached PML4E, PDPTE and
// PDE, the region it maps and the table it points to.
func (d *Session) printPSC(p *tlb.PSC) {
	if p == nil {
		d.printf("paging-structure caches: none (psc=off)\n")
		return
	}
	s := p.Stats
	d.printf("paging-structure caches (%s): walks begun below a cached PDE %d, PDPTE %d, PML4E %d; from CR3 %d\n",
		p.Config(), s.PDEHits, s.PDPTEHits, s.PML4EHits, s.Misses)
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	n := 0
	for level := 4; level >= 2; level-- {
		for _, e := range p.Entries(level) {
			if n == 0 {
				fmt.Fprintf(tw, "  entry\tmaps from\tsize\tnext table\tpcid\tperm\n")
			}
			n++
			fmt.Fprintf(tw, "  %s\t%#x\t%s\t%#x\t%d\t%s\n", []string{2: "PDE", 3: "PDPTE", 4: "PML4E"}[level], e.VA,
				[]string{2: "2M", 3: "1G", 4: "512G"}[level], e.Table, e.PCID, describe.TLBLetters(e.Perm))
		}
	}
	tw.Flush()
}

func (d *Session) cmdFrames(args []string) error {
	f := d.k.Frames()
	st := f.Stats()
	var only uint64
	shared := false
	if len(args) > 0 {
		if args[0] == "shared" {
			shared = true
		} else {
			v, err := strconv.ParseUint(args[0], 0, 64)
			if err != nil || v >= st.Total {
				return fmt.Errorf("frames: %q is not a frame number (or shared)", args[0])
			}
			only = v
		}
	}
	d.printf("frames in use %d of %d (peak %d), shared now %d (peak %d), page-table pages %d, copied %d\n",
		st.InUse, st.Total, st.Peak, st.Shared, st.PeakShared, st.Tables, st.Copied)
	rs := d.k.ReclaimStats()
	d.printf("page reclaim: policy %s holds %d frames; free %d (watermarks min %d, low %d, high %d); reclaimed %d",
		rs.Policy, rs.Held, f.Free(), rs.Min, rs.Low, rs.High, rs.Reclaimed)
	if sw, ok := d.k.Swap(); ok {
		d.printf("; swap %d of %d slots in use", sw.Used, sw.Slots)
	}
	d.printf("\n")
	rmap := d.k.FrameMap()
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  frame\tkind\tref\treclaim\tmapped by\n")
	for pfn := uint64(0); pfn < st.Total; pfn++ {
		ref := f.Ref(pfn)
		if ref == 0 || (only != 0 && pfn != only) || (shared && ref < 2) {
			continue
		}
		fmt.Fprintf(tw, "  %#x\t%s\t%d\t%s\t%s\n", pfn, f.Kind(pfn), ref, d.k.FrameReclaimState(pfn), d.mappers(rmap[pfn]))
	}
	tw.Flush()
	return nil
}

// cmdSwap lists the swap area's slots in use: how many swap entries name each, the frame
// holding its page in the swap cache, and the PTEs that name it.
func (d *Session) cmdSwap(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("usage: swap")
	}
	sw, ok := d.k.Swap()
	if !ok {
		d.printf("no swap area (emu run --swap SIZE makes one)\n")
		return nil
	}
	where := "in host memory"
	if sw.Path != "" {
		where = "in " + safetext.Escape(sw.Path)
	}
	d.printf("swap: %d slots of 4 KiB %s (slot 0 is the header); %d in use (peak %d), %d in the swap cache; %d pages written, %d read\n",
		sw.Slots, where, sw.Used, sw.Peak, sw.Cached, sw.PagesOut, sw.PagesIn)
	users := d.k.SwapUsers()
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  slot\tentries\tswap cache\tnamed by\n")
	for _, sl := range d.k.SwapSlots() {
		cache := "-"
		if sl.Frame != 0 {
			cache = fmt.Sprintf("frame %#x", sl.Frame)
		}
		var who []string
		for _, m := range users[sl.Slot] {
			name := "-"
			if p := d.k.Process(m.PID); p != nil && p.MM() != nil {
				name = describe.VMAName(p.MM().Find(m.VA))
			}
			who = append(who, fmt.Sprintf("pid %d %#x %s", m.PID, m.VA, name))
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\n", sl.Slot, sl.Count, cache, strings.Join(who, "; "))
	}
	tw.Flush()
	return nil
}

// mappers describes who refers to a frame: "pid 1 0x404000 [heap] rw-u-ad; pid 2 ...".
func (d *Session) mappers(ms []minikernel.Mapping) string {
	if len(ms) == 0 {
		return "no process (kernel)"
	}
	var parts []string
	for _, m := range ms {
		if m.Cache != nil {
			parts = append(parts, fmt.Sprintf("page cache: %s page %d", m.Cache.Name(), m.Index))
			continue
		}
		if m.SwapSlot != 0 {
			parts = append(parts, fmt.Sprintf("swap cache: slot %d", m.SwapSlot))
			continue
		}
		if m.Kernel != "" {
			parts = append(parts, "kernel: "+m.Kernel)
			continue
		}
		if m.Table {
			if m.Level == 4 {
				parts = append(parts, fmt.Sprintf("pid %d PML4", m.PID))
			} else {
				parts = append(parts, fmt.Sprintf("pid %d %s for %#x", m.PID, tableName[m.Level], m.VA))
			}
			continue
		}
		name := "-"
		if p := d.k.Process(m.PID); p != nil && p.MM() != nil {
			name = describe.VMAName(p.MM().Find(m.VA))
		}
		soft := minikernel.SoftBits(m.Entry)
		if soft != "" {
			soft = " [" + soft + "]"
		}
		parts = append(parts, fmt.Sprintf("pid %d %#x %s %s%s", m.PID, m.VA, name, describe.PTELetters(m.Entry), soft))
	}
	return strings.Join(parts, "; ")
}

func (d *Session) cmdExamine(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return fmt.Errorf("usage: x ADDR [N]")
	}
	p := d.process()
	if p == nil || p.MM() == nil {
		return fmt.Errorf("x: no process")
	}
	va, err := d.canonicalAddr(args[0])
	if err != nil {
		return err
	}
	n := uint64(64)
	if len(args) == 2 {
		if n, err = strconv.ParseUint(args[1], 0, 64); err != nil || n == 0 || n > 1<<16 {
			return fmt.Errorf("x: %q is not a byte count (1 to 65536)", args[1])
		}
	}
	switch end := va + n - 1; {
	case end < va:
		n = -va // to the top of the address space
	case !mmu.Canonical(end):
		n = 1<<47 - va // to the end of the canonical lower half
	}
	buf := make([]byte, n)
	got := d.k.PeekUser(p, va, buf)
	for off := 0; off < got; off += 16 {
		row := buf[off:min(off+16, got)]
		var hexb, asc strings.Builder
		for i := 0; i < 16; i++ {
			if i == 8 {
				hexb.WriteByte(' ')
			}
			if i < len(row) {
				fmt.Fprintf(&hexb, "%02x ", row[i])
				c := row[i]
				if c < 0x20 || c > 0x7e {
					c = '.'
				}
				asc.WriteByte(c)
			} else {
				hexb.WriteString("   ")
			}
		}
		d.printf("0x%012x  %s |%s|\n", va+uint64(off), hexb.String(), asc.String())
	}
	if uint64(got) < n {
		stop := va + uint64(got)
		d.printf("0x%012x  not present in pid %d's page tables: %s\n", stop, p.PID, d.pteSummary(p, stop))
	}
	return nil
}

func (d *Session) cmdPS() {
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  pid\tppid\tstate\tpcid\tpml4\tvmas\tresident\tprogram\n")
	for _, p := range d.k.Processes() {
		state := p.State()
		switch {
		case p.Exited():
			state = "zombie, " + describe.ExitText(p.WaitStatus())
		case p == d.k.Current():
			state = "running"
		}
		mm := p.MM()
		if mm == nil {
			fmt.Fprintf(tw, "  %d\t%d\t%s\t-\t-\t-\t-\t%s\n", p.PID, p.PPID, state, p.Exe())
			continue
		}
		var res uint64
		for _, v := range mm.VMAs() {
			res += d.k.ResidentPages(mm, v.Start, v.End)
		}
		fmt.Fprintf(tw, "  %d\t%d\t%s\t%d\t%#x\t%d\t%d\t%s\n", p.PID, p.PPID, state, mm.PCID(), mm.PML4(),
			len(mm.VMAs()), res, p.Exe())
	}
	tw.Flush()
}

// SetTrace prints events of these kinds (as the trace command) as they happen.
func (d *Session) SetTrace(kinds string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cmdTrace([]string{kinds})
}

func (d *Session) cmdTrace(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: trace KINDS (%s) or trace off", describe.TraceGroupNames())
	}
	kinds, err := describe.ParseKinds(args[0])
	if err != nil {
		return err
	}
	d.trace = kinds
	d.k.WantHardware("debugger trace", kinds.Has(minikernel.EvTLB), kinds.Has(minikernel.EvFrame))
	return nil
}

// --- symbols ---

// symbols caches each program's ELF symbol table, read from the host file.
type symbols map[string]*symtab

type symtab struct {
	syms []elf.Symbol // functions and objects, by address
}

func (s symbols) table(path string) *symtab {
	if t, ok := s[path]; ok {
		return t
	}
	t := &symtab{}
	s[path] = t
	f, err := elf.Open(path)
	if err != nil {
		return t
	}
	defer f.Close()
	all, _ := f.Symbols()
	for _, sym := range all {
		typ := elf.ST_TYPE(sym.Info)
		if sym.Name != "" && sym.Value != 0 && (typ == elf.STT_FUNC || typ == elf.STT_OBJECT || typ == elf.STT_NOTYPE) &&
			sym.Section != elf.SHN_UNDEF && sym.Section < elf.SHN_LORESERVE {
			t.syms = append(t.syms, sym)
		}
	}
	sort.SliceStable(t.syms, func(i, j int) bool { return t.syms[i].Value < t.syms[j].Value })
	return t
}

// find returns the symbol containing va and the offset into it. A symbol without a size
// (assembly labels such as _start) covers up to the next symbol, within a page.
func (s symbols) find(path string, va uint64) (string, uint64) {
	t := s.table(path)
	i := sort.Search(len(t.syms), func(i int) bool { return t.syms[i].Value > va }) - 1
	if i < 0 {
		return "", 0
	}
	sym := t.syms[i]
	if va < sym.Value+sym.Size || (sym.Size == 0 && va-sym.Value < 4096) {
		return sym.Name, va - sym.Value
	}
	return "", 0
}

func (s symbols) addr(path, name string) (uint64, bool) {
	for _, sym := range s.table(path).syms {
		if sym.Name == name {
			return sym.Value, true
		}
	}
	return 0, false
}

// lookupFunc adapts the table for x86asm's disassembler, which names branch targets.
func (s symbols) lookupFunc(path string) x86asm.SymLookup {
	return func(va uint64) (string, uint64) {
		name, off := s.find(path, va)
		if name == "" {
			return "", 0
		}
		return name, va - off
	}
}
