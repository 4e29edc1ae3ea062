package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/vmemu/vmemu/internal/phase"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/tlb"
)

// Statistics at the end of a run: a table for people (--stats) and a JSON object for
// programs (--stats-json). Both add the host's wall time and the guest's speed, so
// `emu run --stats` is also the way to time a program.

// runStats is what the statistics report: the kernel's counts and the host time taken.
type runStats struct {
	minikernel.Stats
	Wall time.Duration
	// Shares is the fraction of the run's host time in each phase (internal/phase),
	// sampled.
	Shares [phase.NumPhases]float64
	// PSC counts the paging-structure caches' lookups, when the MMU has them (PSCOn).
	PSC   tlb.PSCStats
	PSCOn bool
	// CodegenBlocks and CodegenBytes count the blocks translated to host code, and the code.
	CodegenBlocks, CodegenBytes uint64
}

// statsBase is the hardware's counters when statistics collection began: the machine's boot
// (enabling paging, the first page table) happens before, and the counts reported are of the
// run, as the trace sees it.
type statsBase struct {
	itlb, dtlb []tlb.Stats // each CPU's
	psc        tlb.PSCStats
	frames     minikernel.FrameStats
}

func baseline(k *minikernel.Kernel) statsBase {
	b := statsBase{frames: k.Frames().Stats(), psc: pscTotal(k)}
	for _, c := range k.CPUs() {
		b.itlb = append(b.itlb, c.MMU().ITLB.Stats)
		b.dtlb = append(b.dtlb, c.MMU().DTLB.Stats)
	}
	return b
}

// pscTotal sums the paging-structure caches' counters of every CPU.
func pscTotal(k *minikernel.Kernel) tlb.PSCStats {
	var t tlb.PSCStats
	for _, c := range k.CPUs() {
		if p := c.MMU().PSC; p != nil {
			s := p.Stats
			t.PDEHits += s.PDEHits
			t.PDPTEHits += s.PDPTEHits
			t.PML4EHits += s.PML4EHits
			t.Misses += s.Misses
			t.Fills += s.Fills
			t.Invalidations += s.Invalidations
		}
	}
	return t
}

// sincePSC returns the paging-structure-cache counts since b.
func (b statsBase) sincePSC(s tlb.PSCStats) tlb.PSCStats {
	return tlb.PSCStats{PDEHits: s.PDEHits - b.psc.PDEHits, PDPTEHits: s.PDPTEHits - b.psc.PDPTEHits,
		PML4EHits: s.PML4EHits - b.psc.PML4EHits, Misses: s.Misses - b.psc.Misses,
		Fills: s.Fills - b.psc.Fills, Invalidations: s.Invalidations - b.psc.Invalidations}
}

// since turns the snapshot's counters into counts since b (levels such as frames in use stay).
func (b statsBase) since(s minikernel.Stats) minikernel.Stats {
	sub := func(now, then tlb.Stats) tlb.Stats {
		return tlb.Stats{Hits: now.Hits - then.Hits, Misses: now.Misses - then.Misses, Walks: now.Walks - then.Walks,
			Fills: now.Fills - then.Fills, Evictions: now.Evictions - then.Evictions,
			Invalidations: now.Invalidations - then.Invalidations, Flushes: now.Flushes - then.Flushes}
	}
	s.ITLB, s.DTLB = tlb.Stats{}, tlb.Stats{}
	cpus := append([]minikernel.CPUStat(nil), s.CPUs...)
	for i := range cpus {
		if i < len(b.itlb) {
			cpus[i].ITLB, cpus[i].DTLB = sub(cpus[i].ITLB, b.itlb[i]), sub(cpus[i].DTLB, b.dtlb[i])
		}
		s.ITLB, s.DTLB = add(s.ITLB, cpus[i].ITLB), add(s.DTLB, cpus[i].DTLB)
	}
	s.CPUs = cpus
	s.Frames.Allocated -= b.frames.Allocated
	s.Frames.Freed -= b.frames.Freed
	s.Frames.Copied -= b.frames.Copied
	return s
}

// add adds two TLBs' counters.
func add(a, b tlb.Stats) tlb.Stats {
	return tlb.Stats{Hits: a.Hits + b.Hits, Misses: a.Misses + b.Misses, Walks: a.Walks + b.Walks,
		Fills: a.Fills + b.Fills, Evictions: a.Evictions + b.Evictions,
		Invalidations: a.Invalidations + b.Invalidations, Flushes: a.Flushes + b.Flushes}
}

// MIPS is millions of guest instructions per second of host wall time.
func (s *runStats) MIPS() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return float64(s.Instructions) / s.Wall.Seconds() / 1e6
}

// tlbs returns the TLBs to report, with their names: one when unified.
func (s *runStats) tlbs() []namedTLB {
	if s.Unified {
		return []namedTLB{{"TLB", s.DTLB}}
	}
	return []namedTLB{{"ITLB", s.ITLB}, {"DTLB", s.DTLB}}
}

type namedTLB struct {
	name string
	s    tlb.Stats
}

func (s *runStats) syscallTotal() uint64 {
	var n uint64
	for _, c := range s.Syscalls {
		n += c
	}
	return n
}

// printStats writes the human-readable statistics table.
func printStats(w io.Writer, s *runStats) {
	fmt.Fprintln(w, "--- emu statistics ---")
	row := func(name string, v any, note string) {
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-26s %12v  %s", name, v, note), " "))
	}
	row("instructions retired", s.Instructions, "")
	row("host wall time", fmt.Sprintf("%.3f", s.Wall.Seconds()), "s")
	row("guest speed", fmt.Sprintf("%.1f", s.MIPS()), "MIPS")
	row("host time in the CPU", fmt.Sprintf("%.1f", 100*s.Shares[phase.CPU]), "%  (sampled; TLB searches included)")
	row("host time in the MMU", fmt.Sprintf("%.1f", 100*s.Shares[phase.MMU]), "%  (page walks after TLB misses)")
	row("host time in the kernel", fmt.Sprintf("%.1f", 100*s.Shares[phase.Kernel]), "%  (and the rest of emu)")
	row("blocks run as host code", s.CodegenBlocks, fmt.Sprintf("(%d KiB generated; --interpret: none)", (s.CodegenBytes+1023)/1024))
	row("system calls", s.syscallTotal(), "")
	for _, name := range s.SyscallNames() {
		row("  "+name, s.Syscalls[name], "")
	}
	row("page faults", s.TotalFaults(), "")
	for o := minikernel.FaultOutcome(0); o < minikernel.FaultOutcome(len(s.Faults)); o++ {
		if n := s.FaultCount(o); n > 0 {
			row("  "+o.String(), n, "")
		}
	}
	if s.KernelFaults > 0 {
		row("  taken by the kernel", s.KernelFaults, "(copying for system calls; counted above)")
	}
	row("  major faults", s.MajorFaults(), "(the page was read from a file or from swap)")
	row("  minor faults", s.MinorFaults(), "")
	printReclaim(row, s)
	row("signals", s.Signals, "")
	row("processes created", s.Processes, "")
	if s.HostFilePages+s.CopiedFilePages+s.Writebacks > 0 {
		row("file pages", s.HostFilePages, fmt.Sprintf("host-backed (the host file's page); %d copied, %d written back, %d evicted",
			s.CopiedFilePages, s.Writebacks, s.EvictedFilePages))
	}
	row("threads created", s.Threads, "(clone with CLONE_THREAD)")
	sd := s.Shootdowns
	row("TLB shootdowns", sd.ShootdownsSent, "(a change to page tables another CPU was using)")
	if sd.ShootdownsSkipped > 0 {
		row("  skipped", sd.ShootdownsSkipped, "(--tlb noshootdown: the other CPUs kept stale entries)")
	}
	if sd.ShootdownIPIs > 0 {
		row("  interrupts taken", sd.ShootdownIPIs, "(IPIs serviced by the target CPUs)")
		row("  pages invalidated", sd.ShootdownPages, "(INVLPG on a target)")
		row("  full flushes", sd.ShootdownFlushes, "(INVPCID of the address space on a target)")
		row("  lazy CPUs left", sd.LazyLeaves, "(idle CPUs that left a freed address space)")
	}
	if sd.CallIPIs > 0 {
		row("other interrupts", sd.CallIPIs, "(IPIs taken to run a function for another CPU: membarrier)")
	}
	f := s.Frames
	row("frames in use at exit", f.InUse, fmt.Sprintf("(%d KiB)", f.InUse*4))
	row("frames at peak", f.Peak, fmt.Sprintf("(%d KiB)", f.Peak*4))
	row("frames shared at peak", f.PeakShared, "(reference count above one)")
	row("frames multi-mapped at peak", f.PeakMultiMapped, "(mapped by two or more PTEs: fork, shared libraries)")
	row("frames copied", f.Copied, "(copy-on-write)")
	row("frames allocated", f.Allocated, "")
	row("page-table pages at peak", f.PeakTables, "")
	row("page-table pages at exit", f.Tables, "")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\thits\tmisses\thit rate\twalks\tfills\tevictions\tinvalidations\tflushes\t")
	for _, t := range s.tlbs() {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f%%\t%d\t%d\t%d\t%d\t%d\t\n", t.name, t.s.Hits, t.s.Misses,
			100*t.s.HitRate(), t.s.Walks, t.s.Fills, t.s.Evictions, t.s.Invalidations, t.s.Flushes)
	}
	tw.Flush()
	if len(s.CPUs) > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "\tinstructions\tidle ns\tswitches\tTLB misses\tshootdowns sent\tIPIs taken\tpages\tflushes\t")
		for _, c := range s.CPUs {
			misses := c.DTLB.Misses
			if !s.Unified {
				misses += c.ITLB.Misses
			}
			fmt.Fprintf(tw, "cpu%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.ID, c.InstructionsRetired, c.IdleNS,
				c.ContextSwitches, misses, c.ShootdownsSent, c.ShootdownIPIs, c.ShootdownPages, c.ShootdownFlushes)
		}
		tw.Flush()
	}
	if s.PSCOn {
		p := s.PSC
		fmt.Fprintf(w, "\n  paging-structure caches: walks begun below a cached PDE %d, PDPTE %d, PML4E %d; from CR3 %d\n",
			p.PDEHits, p.PDPTEHits, p.PML4EHits, p.Misses)
		fmt.Fprintf(w, "  (entries filled %d, invalidated %d)\n", p.Fills, p.Invalidations)
	}
}

// printReclaim adds the rows of page reclaim and swap, when reclaim ran or swap exists.
func printReclaim(row func(string, any, string), s *runStats) {
	r := &s.Reclaim
	if r.Scanned == 0 && r.OOMKills == 0 && !s.HasSwap {
		return
	}
	row("page reclaim", r.Policy, fmt.Sprintf("(policy; watermarks min %d, low %d, high %d free frames)", r.Min, r.Low, r.High))
	row("  pages scanned", r.Scanned, "")
	row("  pages reclaimed", r.Reclaimed, "")
	row("  file pages dropped", r.Dropped, "(clean: read again when needed)")
	row("  pages written back", r.WrittenBack, "(dirty shared file pages)")
	row("  swap-outs", r.SwapOuts, "(pages out to swap)")
	row("  swap-ins", r.SwapIns, "(pages in from swap: major faults)")
	row("  swap-cache hits", r.SwapCacheHits, "(faults on a swapped page already back in memory)")
	row("  kswapd passes", r.KswapdRuns, "(free frames below the low watermark)")
	row("  direct reclaim passes", r.DirectRuns, "(below the min watermark)")
	if r.LimitRuns > 0 {
		row("  --frames passes", r.LimitRuns, "(to stay within the resident limit)")
	}
	if r.Culled > 0 {
		row("  locked pages culled", r.Culled, "(mlock: never reclaimed)")
	}
	row("  OOM kills", r.OOMKills, "")
	if s.HasSwap {
		w := s.Swap
		where := "in host memory"
		if w.Path != "" {
			where = "in " + w.Path
		}
		row("swap slots", w.Slots, fmt.Sprintf("(%d KiB, %s)", w.Slots*4, where))
		row("  in use at exit", w.Used, "")
		row("  in use at peak", w.Peak, "")
	}
}

const statsJSONHelp = `Statistics JSON (--stats-json FILE): one object,
  instructions        number  instructions retired
  wall_seconds        number  host wall time of the run (not deterministic)
  mips                number  guest instructions per host second, in millions
  syscalls            object  calls by name, e.g. {"write": 5}
  syscalls_total      number
  page_faults         object  faults by outcome; every outcome is present, zeros too
  page_faults_total   number
  kernel_faults       number  faults the kernel took copying for system calls (included above)
  major_faults        number  faults that read their page from a file or from swap
  minor_faults        number  the other faults that mapped a page
  reclaim             object  page reclaim: policy, pages_scanned, pages_reclaimed,
                              file_pages_dropped, pages_written_back, swap_outs, swap_ins,
                              swap_cache_hits, kswapd_runs, direct_runs, limit_runs, culled,
                              oom_kills, watermarks {min, low, high} (free frames)
  swap                object  the swap area (null without one): file (null: host memory),
                              slots, used, peak_used, swap_cache, pages_in, pages_out
  signals             number  signals delivered
  processes           number  processes created
  threads             number  threads created (clone with CLONE_THREAD)
  tlb_shootdowns      object  sent (shootdowns that interrupted another CPU), skipped (under
                              --tlb noshootdown), ipis (interrupts the targets took),
                              pages_invalidated, full_flushes, lazy_leaves
  cpus                array   one object per CPU: id, instructions, idle_ns, switches,
                              itlb_misses, dtlb_misses, shootdowns_sent, shootdown_ipis,
                              shootdown_pages, shootdown_flushes
  tlbs                array   one object per TLB: name (ITLB, DTLB, or TLB when unified),
                              hits, misses, hit_rate (0..1), walks, fills, evictions,
                              invalidations, flushes
  psc                 object  paging-structure caches (null with psc=off): pde_hits,
                              pdpte_hits, pml4e_hits (walks begun below a cached entry),
                              misses (walks from CR3), fills, invalidations
  time_shares         object  sampled share (0..1) of host time: cpu, mmu, kernel (not
                              deterministic)
  frames              object  total, in_use, peak, shared, peak_shared, multi_mapped,
                              peak_multi_mapped, copied, allocated, freed, page_tables,
                              peak_page_tables
`

// statsJSON encodes s as one JSON object (fields in a fixed order; see statsJSONHelp).
func statsJSON(s *runStats) []byte {
	o := jsonObj{b: []byte{'{'}}
	o.unum("instructions", s.Instructions)
	o.key("wall_seconds")
	o.b = strconv.AppendFloat(o.b, s.Wall.Seconds(), 'f', 6, 64)
	o.key("mips")
	o.b = strconv.AppendFloat(o.b, s.MIPS(), 'f', 3, 64)
	o.open("syscalls")
	for _, name := range s.SyscallNames() {
		o.unum(name, s.Syscalls[name])
	}
	o.close()
	o.unum("syscalls_total", s.syscallTotal())
	o.open("page_faults")
	for out := minikernel.FaultOutcome(0); out < minikernel.FaultOutcome(len(s.Faults)); out++ {
		o.unum(out.String(), s.FaultCount(out))
	}
	o.close()
	o.unum("page_faults_total", s.TotalFaults())
	o.unum("kernel_faults", s.KernelFaults)
	o.unum("major_faults", s.MajorFaults())
	o.unum("minor_faults", s.MinorFaults())
	r := &s.Reclaim
	o.open("reclaim")
	o.str("policy", r.Policy)
	o.unum("pages_scanned", r.Scanned)
	o.unum("pages_reclaimed", r.Reclaimed)
	o.unum("file_pages_dropped", r.Dropped)
	o.unum("pages_written_back", r.WrittenBack)
	o.unum("swap_outs", r.SwapOuts)
	o.unum("swap_ins", r.SwapIns)
	o.unum("swap_cache_hits", r.SwapCacheHits)
	o.unum("kswapd_runs", r.KswapdRuns)
	o.unum("direct_runs", r.DirectRuns)
	o.unum("limit_runs", r.LimitRuns)
	o.unum("culled", r.Culled)
	o.unum("oom_kills", r.OOMKills)
	o.open("watermarks")
	o.unum("min", r.Min)
	o.unum("low", r.Low)
	o.unum("high", r.High)
	o.close()
	o.close()
	if s.HasSwap {
		w := s.Swap
		o.open("swap")
		if w.Path == "" {
			o.null("file")
		} else {
			o.str("file", w.Path)
		}
		o.unum("slots", w.Slots)
		o.unum("used", w.Used)
		o.unum("peak_used", w.Peak)
		o.unum("swap_cache", w.Cached)
		o.unum("pages_in", w.PagesIn)
		o.unum("pages_out", w.PagesOut)
		o.close()
	} else {
		o.null("swap")
	}
	o.unum("signals", s.Signals)
	o.unum("processes", s.Processes)
	o.unum("threads", s.Threads)
	sd := s.Shootdowns
	o.open("tlb_shootdowns")
	o.unum("sent", sd.ShootdownsSent)
	o.unum("skipped", sd.ShootdownsSkipped)
	o.unum("ipis", sd.ShootdownIPIs)
	o.unum("pages_invalidated", sd.ShootdownPages)
	o.unum("full_flushes", sd.ShootdownFlushes)
	o.unum("lazy_leaves", sd.LazyLeaves)
	o.close()
	o.key("cpus")
	o.b = append(o.b, '[')
	for i, c := range s.CPUs {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '{')
		o.num("id", int64(c.ID))
		o.unum("instructions", c.InstructionsRetired)
		o.unum("idle_ns", c.IdleNS)
		o.unum("switches", c.ContextSwitches)
		o.unum("itlb_misses", c.ITLB.Misses)
		o.unum("dtlb_misses", c.DTLB.Misses)
		o.unum("shootdowns_sent", c.ShootdownsSent)
		o.unum("shootdown_ipis", c.ShootdownIPIs)
		o.unum("shootdown_pages", c.ShootdownPages)
		o.unum("shootdown_flushes", c.ShootdownFlushes)
		o.close()
	}
	o.b = append(o.b, ']')
	o.open("file_pages")
	o.unum("host_backed", s.HostFilePages)
	o.unum("copied", s.CopiedFilePages)
	o.unum("written_back", s.Writebacks)
	o.unum("evicted", s.EvictedFilePages)
	o.close()
	o.key("tlbs")
	o.b = append(o.b, '[')
	for i, t := range s.tlbs() {
		if i > 0 {
			o.b = append(o.b, ',')
		}
		o.b = append(o.b, '{')
		o.str("name", t.name)
		o.unum("hits", t.s.Hits)
		o.unum("misses", t.s.Misses)
		o.key("hit_rate")
		o.b = strconv.AppendFloat(o.b, t.s.HitRate(), 'f', 6, 64)
		o.unum("walks", t.s.Walks)
		o.unum("fills", t.s.Fills)
		o.unum("evictions", t.s.Evictions)
		o.unum("invalidations", t.s.Invalidations)
		o.unum("flushes", t.s.Flushes)
		o.close()
	}
	o.b = append(o.b, ']')
	if s.PSCOn {
		o.open("psc")
		o.unum("pde_hits", s.PSC.PDEHits)
		o.unum("pdpte_hits", s.PSC.PDPTEHits)
		o.unum("pml4e_hits", s.PSC.PML4EHits)
		o.unum("misses", s.PSC.Misses)
		o.unum("fills", s.PSC.Fills)
		o.unum("invalidations", s.PSC.Invalidations)
		o.close()
	} else {
		o.key("psc")
		o.b = append(o.b, "null"...)
	}
	o.open("time_shares")
	for _, p := range []struct {
		name string
		ph   phase.Phase
	}{{"cpu", phase.CPU}, {"mmu", phase.MMU}, {"kernel", phase.Kernel}} {
		o.key(p.name)
		o.b = strconv.AppendFloat(o.b, s.Shares[p.ph], 'f', 4, 64)
	}
	o.close()
	f := s.Frames
	o.open("frames")
	o.unum("total", f.Total)
	o.unum("in_use", f.InUse)
	o.unum("peak", f.Peak)
	o.unum("shared", f.Shared)
	o.unum("peak_shared", f.PeakShared)
	o.unum("multi_mapped", f.MultiMapped)
	o.unum("peak_multi_mapped", f.PeakMultiMapped)
	o.unum("copied", f.Copied)
	o.unum("allocated", f.Allocated)
	o.unum("freed", f.Freed)
	o.unum("page_tables", f.Tables)
	o.unum("peak_page_tables", f.PeakTables)
	o.close()
	o.close()
	return append(o.b, '\n')
}
