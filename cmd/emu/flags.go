package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/reclaim"
	"github.com/vmemu/vmemu/tlb"
)

// The machine flags shared by `emu run` and `emu debug`: --ram, --tlb, --seed, --max-insns,
// and the memory-pressure ones: --swap, --swap-file, --reclaim, --frames.

type machineOptions struct {
	ram      string
	tlb      string
	seed     uint64
	maxInsns uint64
	clock    string
	swap     string
	swapFile string
	reclaim  string
	frames   uint64
	cpus     int
	net      string
	notes    []string // set by config: remarks about the flags, for stderr
}

func (o *machineOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&o.ram, "ram", "4G", "physical memory `SIZE` (K, M or G suffix); host memory is spent only\non frames the guest touches")
	fs.StringVar(&o.tlb, "tlb", "default", "TLB geometry `SPEC`: comma-separated items, e.g.\n"+
		"dtlb=256/4,itlb=64/4,large=32,policy=plru,unified,nopcid (see emu help tlb)")
	fs.Uint64Var(&o.seed, "seed", 0, "`SEED` for AT_RANDOM and other guest randomness (runs are deterministic)")
	fs.Uint64Var(&o.maxInsns, "max-insns", 0, "stop after `N` instructions, on all CPUs together (0: no limit)")
	fs.IntVar(&o.cpus, "cpus", 1, "`N` emulated CPUs (1 to 64), each with its own registers, CR3, TLBs and\n"+
		"instruction counter; they take turns of 10,000 instructions in a fixed order, so runs\n"+
		"stay deterministic (default 1: one CPU is the easiest machine to follow)")
	fs.StringVar(&o.net, "net", "loopback", "what the guest's AF_INET/AF_INET6 sockets reach: `loopback` (127.0.0.0/8\n"+
		"and ::1 only, the default) or host (every address the host reaches)")
	fs.StringVar(&o.clock, "clock-start", "host", "the guest's wall clock (CLOCK_REALTIME) at start: host (the host's time\n"+
		"now), or a fixed `TIME` (seconds since the epoch, or RFC 3339 like\n2024-01-01T00:00:00Z) for byte-identical runs")
	fs.StringVar(&o.swap, "swap", "", "a swap area of `SIZE` (K, M or G suffix) for anonymous pages when RAM runs\nshort (default: none; see README \"Memory pressure\")")
	fs.StringVar(&o.swapFile, "swap-file", "", "keep the swap area in the host `FILE` (created or overwritten) instead of\nhost memory; without --swap, the file's size")
	fs.StringVar(&o.reclaim, "reclaim", reclaim.Default, "page-replacement `POLICY`: "+strings.Join(reclaim.Names(), ", ")+"; add ,noflush to\nclear accessed bits without invalidating the TLB (a teaching switch)")
	fs.Uint64Var(&o.frames, "frames", 0, "at most `N` frames hold pages that reclaim may take (locked pages aside),\nas in a textbook exercise (0: no limit but RAM)")
}

// config turns the flags into a kernel configuration, or says clearly which flag is wrong.
func (o *machineOptions) config() (minikernel.Config, error) {
	var cfg minikernel.Config
	size, err := parseSize(o.ram)
	if err != nil {
		return cfg, fmt.Errorf("--ram: %v", err)
	}
	if size%4096 != 0 {
		return cfg, fmt.Errorf("--ram: %d is not a multiple of 4096", size)
	}
	spec, err := parseTLBSpec(o.tlb)
	if err != nil {
		return cfg, fmt.Errorf("--tlb: %v", err)
	}
	o.notes = spec.Notes
	cfg.RAM = size
	cfg.MMU = spec.MMU
	cfg.NoPCID = spec.NoPCID
	cfg.NoShootdown = spec.NoShootdown
	if o.cpus < 1 || o.cpus > 64 {
		return cfg, fmt.Errorf("--cpus: %d is not between 1 and 64", o.cpus)
	}
	cfg.CPUs = o.cpus
	if spec.NoShootdown && o.cpus == 1 {
		o.notes = append(o.notes, "noshootdown: with one CPU there is no other TLB to shoot down (try --cpus 2)")
	}
	cfg.Seed = o.seed
	cfg.MaxInsns = o.maxInsns
	switch o.net {
	case "loopback", "":
	case "host":
		cfg.HostNetwork = true
	default:
		return cfg, fmt.Errorf("--net: %q is neither loopback nor host", o.net)
	}
	if cfg.Realtime, err = parseClockStart(o.clock); err != nil {
		return cfg, fmt.Errorf("--clock-start: %v", err)
	}
	if o.swap != "" {
		if cfg.Swap, err = parseSize(o.swap); err != nil {
			return cfg, fmt.Errorf("--swap: %v", err)
		}
	}
	cfg.SwapFile = o.swapFile
	name, opt, _ := strings.Cut(o.reclaim, ",")
	if _, err := reclaim.New(name); err != nil {
		return cfg, fmt.Errorf("--reclaim: %v", err)
	}
	switch strings.TrimSpace(opt) {
	case "":
	case "noflush":
		cfg.ReclaimNoFlush = true
	default:
		return cfg, fmt.Errorf("--reclaim: unknown option %q (want POLICY or POLICY,noflush)", opt)
	}
	cfg.Reclaim = name
	cfg.ResidentLimit = o.frames
	return cfg, nil
}

// parseClockStart reads --clock-start: "host" (the zero Time: the host's clock), seconds
// since the epoch, or an RFC 3339 time.
func parseClockStart(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "host" {
		return time.Time{}, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 || n > 1<<34 {
			return time.Time{}, fmt.Errorf("%d is out of range (1 to %d seconds since 1970)", n, int64(1)<<34)
		}
		return time.Unix(n, 0), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Unix() <= 0 || t.Unix() > 1<<34 {
		return time.Time{}, fmt.Errorf("bad time %q (want host, seconds since the epoch, or e.g. 2024-01-01T00:00:00Z)", s)
	}
	return t, nil
}

// maxRAM is the most RAM a machine can have: 64 TiB, what 46 physical address bits reach.
const maxRAM = 1 << 46

// parseSize reads "4G", "512M", "64K", "4096" or "1GiB".
func parseSize(s string) (uint64, error) {
	t := strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "IB"), "B")
	mult := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult, t = 1<<10, t[:n-1]
		case 'M':
			mult, t = 1<<20, t[:n-1]
		case 'G':
			mult, t = 1<<30, t[:n-1]
		case 'T':
			mult, t = 1<<40, t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || v == 0 {
		return 0, fmt.Errorf("bad size %q (want e.g. 512M or 4G)", s)
	}
	if v > maxRAM/mult {
		return 0, fmt.Errorf("%s is more than the maximum, 64T (the machine has 46 physical address bits)", s)
	}
	return v * mult, nil
}

// tlbSpec is a parsed --tlb value.
type tlbSpec struct {
	MMU         mmu.Config
	NoPCID      bool
	NoShootdown bool
	Notes       []string // things worth telling the user, e.g. a geometry that goes unused
}

const tlbSpecHelp = `The --tlb SPEC is a comma-separated list of items, applied left to right over the
default geometry (a split TLB: ITLB 64 entries 4-way, DTLB 256 entries 4-way, 32 large-page
entries each, LRU, PCIDs on; paging-structure caches of 2 PML4E, 4 PDPTE and 32 PDE entries):

  dtlb=E/W        data TLB: E entries for 4 KiB pages in W ways (E/W sets, a power of two)
  dtlb=E          the same, fully associative (W = E, at most 64)
  itlb=E/W        instruction TLB, likewise (unused with unified)
  large=N         N fully associative entries for 2 MiB and 1 GiB pages in each TLB (0-64)
  dlarge=N        large-page entries of the DTLB only; ilarge=N of the ITLB only
  policy=P        replacement policy: lru (exact least-recently-used) or plru (tree
                  pseudo-LRU; needs a power-of-two number of ways)
  unified         one TLB (the dtlb geometry) serves fetches and data; split undoes it
  nopcid          run the kernel without CR4.PCIDE: every CR3 load flushes every
                  non-global entry; pcid turns PCIDs back on (the default)
  noshootdown     a teaching switch: the kernel skips the TLB shootdown's interrupts, so
                  with --cpus 2 or more the other CPUs keep translations a munmap or
                  mprotect made stale (see README, TLB shootdowns); shootdown undoes it
  pde=N           entries of the PDE cache (SDM 4.10.3: a TLB miss under a cached PDE
                  reads only the PTE; 0, or 1-4, or 4 ways times a power of two)
  pdpte=N         entries of the PDPTE cache; pml4e=N of the PML4E cache (0-64)
  psc=off         no paging-structure caches: every TLB miss walks all four levels
  default         the default geometry again

Examples:
  --tlb dtlb=64/4                       a small data TLB: watch the misses climb
  --tlb dtlb=16,itlb=8,large=0          tiny, fully associative, no large pages
  --tlb dtlb=256/4,itlb=64/4,large=32,policy=plru,unified,nopcid
`

// parseTLBSpec reads a --tlb value (see tlbSpecHelp) and checks the geometry the way the
// hardware model will, with a message that names the item at fault.
func parseTLBSpec(s string) (tlbSpec, error) {
	spec := tlbSpec{MMU: mmu.DefaultConfig()}
	itlbSet := false
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(strings.ToLower(item))
		key, val, hasVal := strings.Cut(item, "=")
		var err error
		switch {
		case item == "" || item == "default":
			if item == "default" {
				spec, itlbSet = tlbSpec{MMU: mmu.DefaultConfig()}, false
			}
		case item == "unified":
			spec.MMU.Unified = true
		case item == "split":
			spec.MMU.Unified = false
		case item == "nopcid":
			spec.NoPCID = true
		case item == "pcid":
			spec.NoPCID = false
		case item == "noshootdown":
			spec.NoShootdown = true
		case item == "shootdown":
			spec.NoShootdown = false
		case hasVal && (key == "dtlb" || key == "itlb"):
			c := &spec.MMU.DTLB
			if key == "itlb" {
				c, itlbSet = &spec.MMU.ITLB, true
			}
			c.Entries, c.Ways, err = parseGeometry(val)
		case hasVal && (key == "large" || key == "dlarge" || key == "ilarge"):
			var n int
			n, err = parseCount(val, 0, 64)
			if key != "ilarge" {
				spec.MMU.DTLB.LargeEntries = n
			}
			if key != "dlarge" {
				spec.MMU.ITLB.LargeEntries = n
			}
		case hasVal && (key == "pde" || key == "pdpte" || key == "pml4e"):
			var n int
			n, err = parseCount(val, 0, 1024)
			switch {
			case err != nil:
			case key == "pde":
				spec.MMU.PSC.PDE = n
			case key == "pdpte":
				spec.MMU.PSC.PDPTE = n
			default:
				spec.MMU.PSC.PML4E = n
			}
			if err == nil {
				_, err = tlb.NewPSC(spec.MMU.PSC)
			}
		case item == "psc=off":
			spec.MMU.PSC = tlb.PSCConfig{}
		case hasVal && key == "policy":
			switch val {
			case "lru":
				spec.MMU.DTLB.Policy, spec.MMU.ITLB.Policy = tlb.LRU, tlb.LRU
			case "plru", "pseudo-lru":
				spec.MMU.DTLB.Policy, spec.MMU.ITLB.Policy = tlb.PLRU, tlb.PLRU
			default:
				err = fmt.Errorf("unknown policy %q (want lru or plru)", val)
			}
		default:
			return spec, fmt.Errorf("unknown item %q (want dtlb=E/W, itlb=E/W, large=N, policy=lru|plru, unified, split, pcid, nopcid, noshootdown, pde=N, pdpte=N, pml4e=N, psc=off; see emu help tlb)", item)
		}
		if err != nil {
			return spec, fmt.Errorf("%s: %v", item, err)
		}
	}
	if spec.MMU.Unified && itlbSet {
		spec.Notes = append(spec.Notes, fmt.Sprintf("unified: the itlb=%d/%d geometry is not used (one TLB with the dtlb geometry serves fetches too)",
			spec.MMU.ITLB.Entries, spec.MMU.ITLB.Ways))
	}
	spec.MMU.DTLB.Name, spec.MMU.ITLB.Name = "DTLB", "ITLB"
	if spec.MMU.Unified {
		spec.MMU.DTLB.Name = "TLB"
	}
	for _, c := range []tlb.Config{spec.MMU.DTLB, spec.MMU.ITLB} {
		if spec.MMU.Unified && c.Name == "ITLB" {
			continue
		}
		if err := checkGeometry(c); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// parseGeometry reads "E/W" or "E" (fully associative).
func parseGeometry(s string) (entries, ways int, err error) {
	es, ws, hasWays := strings.Cut(s, "/")
	if entries, err = parseCount(es, 1, 1<<16); err != nil {
		return 0, 0, fmt.Errorf("entries: %v", err)
	}
	ways = entries
	if hasWays {
		if ways, err = parseCount(ws, 1, 64); err != nil {
			return 0, 0, fmt.Errorf("ways: %v", err)
		}
	}
	return entries, ways, nil
}

func parseCount(s string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("%d is outside %d..%d", n, lo, hi)
	}
	return n, nil
}

// checkGeometry applies the rules of tlb.New with messages a user can act on.
func checkGeometry(c tlb.Config) error {
	name := strings.ToLower(c.Name)
	switch {
	case c.Ways > 64:
		return fmt.Errorf("%s: %d ways: at most 64 (a fully associative TLB has at most 64 entries)", name, c.Ways)
	case c.Entries%c.Ways != 0:
		return fmt.Errorf("%s: %d entries do not divide into %d ways", name, c.Entries, c.Ways)
	}
	if sets := c.Entries / c.Ways; sets&(sets-1) != 0 {
		return fmt.Errorf("%s: %d entries in %d ways make %d sets, which is not a power of two", name, c.Entries, c.Ways, sets)
	}
	if c.Policy == tlb.PLRU {
		if c.Ways&(c.Ways-1) != 0 {
			return fmt.Errorf("%s: policy=plru needs a power-of-two number of ways, not %d", name, c.Ways)
		}
		if c.LargeEntries&(c.LargeEntries-1) != 0 {
			return fmt.Errorf("%s: policy=plru needs a power-of-two number of large-page entries, not %d", name, c.LargeEntries)
		}
	}
	if _, err := tlb.New(c); err != nil {
		return err
	}
	return nil
}

// machineError reports a machine the flags asked for that the host cannot build (a swap
// area it cannot hold or write) as the flag error it is, and returns exit status 2; 0 for
// any other error.
func machineError(stderr io.Writer, who string, err error) int {
	var se *minikernel.SwapError
	if !errors.As(err, &se) {
		return 0
	}
	flag := "--swap"
	if se.Path != "" {
		flag = "--swap-file"
	}
	fmt.Fprintf(stderr, "%s: %s: %v\n", who, flag, se)
	return 2
}
