package minikernel

import (
	"sort"
	"strings"

	"github.com/vmemu/vmemu/tlb"
)

// Stats is a summary of a run: what the kernel did (counted from its event stream) and what
// the hardware counted.
type Stats struct {
	Instructions uint64
	Syscalls     map[string]uint64
	Faults       [numFaultOutcomes]uint64 // by FaultOutcome
	KernelFaults uint64                   // faults taken while copying for system calls
	Signals      uint64
	Processes    uint64 // created (execve'd first processes and forks)
	Threads      uint64 // threads created in a process (clone with CLONE_THREAD)
	Forks        uint64 // fork, vfork and clone calls that made a process
	Execs        uint64 // successful execve (the first process's included)
	Exits        uint64 // processes that ended, by exit or by a signal
	Switches     uint64 // context switches (a CR3 load of another process's tables)
	OOMKills     uint64 // processes killed because no frame was left
	// PageCache: lookups of file pages that found them cached (Hits) or had to read them
	// (Misses), pages in the cache now, and pages written back from shared mappings.
	PageCacheHits, PageCacheMisses, PageCachePages, Writebacks uint64
	// HostFilePages counts the file pages whose frames the host file's page backed
	// (hostpages.go); CopiedFilePages those that had to be copies (no room under the
	// host's mapping limit, or a host that cannot map them); EvictedFilePages the cached
	// pages dropped to make room.
	HostFilePages, CopiedFilePages, EvictedFilePages uint64
	ITLB, DTLB                                       tlb.Stats // every CPU's together
	Unified                                          bool      // one TLB serves both (ITLB == DTLB)
	Frames                                           FrameStats
	// Shootdowns sums the CPUs' TLB shootdown counters; CPUs has each CPU's counts.
	Shootdowns CPUStats
	CPUs       []CPUStat
	// Reclaim is what page reclaim did; Swap the swap area's use (HasSwap false: none).
	Reclaim ReclaimStats
	Swap    SwapInfo
	HasSwap bool
}

// CPUStat is one CPU's part of a run.
type CPUStat struct {
	ID         int
	ITLB, DTLB tlb.Stats
	CPUStats
}

// MajorFaults counts the faults that read their page from a file or from swap; MinorFaults
// the other faults that mapped a page (Linux's maj_flt and min_flt).
func (s *Stats) MajorFaults() uint64 {
	var n uint64
	for o, c := range s.Faults {
		if FaultOutcome(o).Major() {
			n += c
		}
	}
	return n
}

// MinorFaults counts the faults resolved without reading a page (see MajorFaults); signals,
// EFAULT and out-of-memory outcomes are neither.
func (s *Stats) MinorFaults() uint64 {
	var n uint64
	for o, c := range s.Faults {
		switch out := FaultOutcome(o); {
		case out.Major(), out == FaultSIGSEGV, out == FaultSIGBUS, out == FaultOOM, out == FaultEFAULT:
		default:
			n += c
		}
	}
	return n
}

// FaultCount returns how many page faults had outcome o.
func (s *Stats) FaultCount(o FaultOutcome) uint64 { return s.Faults[o] }

// TotalFaults returns the number of page faults of every outcome.
func (s *Stats) TotalFaults() uint64 {
	var n uint64
	for _, c := range s.Faults {
		n += c
	}
	return n
}

// SyscallNames returns the names of the system calls made, most frequent first.
func (s *Stats) SyscallNames() []string {
	names := make([]string, 0, len(s.Syscalls))
	for n := range s.Syscalls {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := s.Syscalls[names[i]], s.Syscalls[names[j]]
		if a != b {
			return a > b
		}
		return names[i] < names[j]
	})
	return names
}

// StatsCollector counts events. Subscribe it before running; Snapshot reads the totals.
type StatsCollector struct {
	k *Kernel
	s Stats
}

// CollectStats subscribes a collector to k's event stream.
func (k *Kernel) CollectStats() *StatsCollector {
	c := &StatsCollector{k: k, s: Stats{Syscalls: map[string]uint64{}}}
	k.Subscribe(c.observe)
	return c
}

func (c *StatsCollector) observe(e *Event) {
	switch e.Kind {
	case EvPageFault:
		c.s.Faults[e.Outcome]++
		if e.Kernel {
			c.s.KernelFaults++
		}
	case EvSyscall:
		c.s.Syscalls[e.Name]++
	case EvSignal:
		c.s.Signals++
		if e.Signal == SIGKILL && strings.HasPrefix(e.Text, "out of memory") {
			c.s.OOMKills++
		}
	case EvExec:
		if c.s.Processes == 0 {
			c.s.Processes = 1
		}
		c.s.Execs++
	case EvFork:
		c.s.Processes++
		c.s.Forks++
	case EvClone:
		c.s.Threads++
	case EvExit:
		c.s.Exits++
	case EvSwitch:
		c.s.Switches++
	}
}

// Snapshot returns the counts so far, with the hardware's counters read now.
func (c *StatsCollector) Snapshot() Stats {
	s := c.s
	s.Syscalls = make(map[string]uint64, len(c.s.Syscalls))
	for n, v := range c.s.Syscalls {
		s.Syscalls[n] = v
	}
	s.Instructions = c.k.retiredElsewhere + c.k.cpu.Instructions()
	s.ITLB, s.DTLB = tlb.Stats{}, tlb.Stats{}
	s.CPUs = nil
	for _, cc := range c.k.cpus {
		m := cc.mmu
		st := CPUStat{ID: cc.id, ITLB: m.ITLB.Stats, DTLB: m.DTLB.Stats, CPUStats: cc.Stats()}
		s.CPUs = append(s.CPUs, st)
		s.ITLB, s.DTLB = addTLB(s.ITLB, st.ITLB), addTLB(s.DTLB, st.DTLB)
		s.Unified = m.ITLB == m.DTLB
	}
	s.Shootdowns = c.k.ShootdownStats()
	s.Frames = c.k.frames.Stats()
	pc := c.k.cache
	s.PageCacheHits, s.PageCacheMisses, s.PageCachePages = pc.Hits, pc.Misses, uint64(pc.Pages())
	s.Writebacks = c.k.writebacks
	s.Reclaim = c.k.ReclaimStats()
	s.Swap, s.HasSwap = c.k.Swap()
	s.HostFilePages, s.CopiedFilePages, s.EvictedFilePages = c.k.hp.mapped, c.k.hp.copied, c.k.hp.evicted
	return s
}

// addTLB adds two TLBs' counters.
func addTLB(a, b tlb.Stats) tlb.Stats {
	return tlb.Stats{Hits: a.Hits + b.Hits, Misses: a.Misses + b.Misses, Walks: a.Walks + b.Walks,
		Fills: a.Fills + b.Fills, Evictions: a.Evictions + b.Evictions,
		Invalidations: a.Invalidations + b.Invalidations, Flushes: a.Flushes + b.Flushes}
}
