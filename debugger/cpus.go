package debugger

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// Several CPUs: the CPU the views describe (cpu N), what every CPU runs and holds (cpu), the
// threads of every process (threads), and each CPU's TLBs (tlb).

// viewCPU returns the CPU the views describe: the one chosen with cpu N, or else the one
// the kernel acts on (the CPU that ran last).
func (d *Session) viewCPU() *minikernel.PerCPU {
	cpus := d.k.CPUs()
	if d.viewedCPU >= 0 && d.viewedCPU < len(cpus) {
		return cpus[d.viewedCPU]
	}
	return d.k.ThisCPU()
}

// viewThread returns the thread on the viewed CPU (nil when it is idle).
func (d *Session) viewThread() *minikernel.Thread {
	if c := d.viewCPU(); c == d.k.ThisCPU() {
		return d.k.CurrentThread()
	} else {
		return c.Thread()
	}
}

// viewProcess returns the process of the thread on the viewed CPU, or nil.
func (d *Session) viewProcess() *minikernel.Process {
	if t := d.viewThread(); t != nil {
		return t.Process()
	}
	return nil
}

// multi reports whether the machine has several CPUs (the views then name them).
func (d *Session) multi() bool { return len(d.k.CPUs()) > 1 }

// cmdCPU lists the CPUs, or (cpu N) makes CPU N the one regs, where, walk and x describe
// (cpu auto: the CPU that ran last, the default).
func (d *Session) cmdCPU(args []string) error {
	cpus := d.k.CPUs()
	switch {
	case len(args) == 1 && (args[0] == "auto" || args[0] == "-"):
		d.viewedCPU = -1
	case len(args) == 1:
		n, err := strconv.Atoi(strings.TrimPrefix(strings.ToLower(args[0]), "cpu"))
		if err != nil || n < 0 || n >= len(cpus) {
			return fmt.Errorf("cpu: %q is not a CPU (the machine has cpu0 to cpu%d)", args[0], len(cpus)-1)
		}
		d.viewedCPU = n
	case len(args) > 1:
		return fmt.Errorf("usage: cpu [N|auto]")
	}
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  cpu\truns\tCR3\tholds\tinstructions\tshootdown IPIs\t\n")
	for _, c := range cpus {
		mark := " "
		if c == d.viewCPU() {
			mark = "*"
		}
		runs := "idle"
		t := c.Thread()
		if c == d.k.ThisCPU() {
			t = d.k.CurrentThread()
		}
		if t != nil {
			runs = describe.TaskName(t.Process().PID, t.TID)
		}
		mm, lazy := c.LoadedMM()
		holds := "boot tables"
		if mm != nil {
			holds = "pid " + d.ownerOf(mm)
			if lazy {
				holds += " (lazy TLB)"
			}
		}
		st := c.Stats()
		fmt.Fprintf(tw, "%s cpu%d\t%s\t%#x\t%s\t%d\t%d\t\n", mark, c.ID(), runs, c.MMU().CR3(), holds,
			st.InstructionsRetired, st.ShootdownIPIs)
	}
	tw.Flush()
	if len(cpus) > 1 {
		d.printf("  (* the CPU regs, where, walk and x describe; cpu N chooses another, cpu auto follows the one that ran last)\n")
	}
	return nil
}

// ownerOf names the processes whose address space mm is ("2", or "2,7" when shared).
func (d *Session) ownerOf(mm *minikernel.MM) string {
	var pids []string
	for _, p := range d.k.Processes() {
		if p.MM() == mm {
			pids = append(pids, strconv.Itoa(p.PID))
		}
	}
	if len(pids) == 0 {
		return "?"
	}
	return strings.Join(pids, ",")
}

// cmdThreads lists every thread: its process, state, the CPU it runs on and what it sleeps in.
func (d *Session) cmdThreads() {
	tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "  tid\tpid\tname\tstate\tcpu\tinstructions\tsleeping in\n")
	for _, p := range d.k.Processes() {
		for _, t := range p.Threads() {
			state, where := t.State(), "-"
			if t.CPU() >= 0 {
				state, where = "running", fmt.Sprintf("cpu%d", t.CPU())
			}
			sleep := t.Sleeping()
			if sleep == "" || t.State() != "blocked" {
				sleep = "-"
			}
			fmt.Fprintf(tw, "  %d\t%d\t%s\t%s\t%s\t%d\t%s\n", t.TID, p.PID, t.Name(), state, where, t.Instructions(), sleep)
		}
	}
	tw.Flush()
}

// cmdTLB shows the valid entries and the counters of every TLB of every CPU.
func (d *Session) cmdTLB() {
	byPCID := map[uint16]*minikernel.Process{}
	for _, p := range d.k.Processes() {
		if p.MM() != nil {
			byPCID[p.MM().PCID()] = p
		}
	}
	if cur := d.k.Current(); cur != nil && cur.MM() != nil {
		byPCID[cur.MM().PCID()] = cur // with PCIDs off, PCID 0 is the running process
	}
	for _, c := range d.k.CPUs() {
		m := c.MMU()
		if d.multi() {
			d.printf("cpu%d (CR3 %#x, PCID %d):\n", c.ID(), m.CR3(), m.PCID())
		}
		d.tlbEntries(m, byPCID)
		d.printPSC(m.PSC)
	}
}

// tlbEntries prints one MMU's TLBs.
func (d *Session) tlbEntries(m *mmu.MMU, byPCID map[uint16]*minikernel.Process) {
	tlbs := []*tlb.TLB{m.ITLB, m.DTLB}
	if m.ITLB == m.DTLB {
		tlbs = tlbs[1:]
	}
	for _, t := range tlbs {
		entries := t.Entries()
		s := t.Stats
		d.printf("%s: %d valid; hits %d, misses %d (hit rate %.1f%%), walks %d, fills %d, evictions %d, flushes %d\n",
			describe.TLBGeometry(t.Config()), len(entries), s.Hits, s.Misses, 100*s.HitRate(), s.Walks, s.Fills, s.Evictions, s.Flushes)
		if len(entries) == 0 {
			continue
		}
		sort.Slice(entries, func(i, j int) bool {
			if entries[i].PCID != entries[j].PCID {
				return entries[i].PCID < entries[j].PCID
			}
			return entries[i].VPN < entries[j].VPN
		})
		tw := tabwriter.NewWriter(d.out, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  va\tpa\tsize\tpcid\tperm\tvma\n")
		for _, e := range entries {
			where := "-"
			if p := byPCID[e.PCID]; p != nil {
				where = fmt.Sprintf("pid %d %s", p.PID, describe.VMAName(p.MM().Find(e.VPN<<12)))
			}
			fmt.Fprintf(tw, "  %#x\t%#x\t%s\t%d\t%s\t%s\n", e.VPN<<12, e.PFN<<12, e.Size, e.PCID, describe.TLBLetters(e.Perm), where)
		}
		tw.Flush()
	}
}
