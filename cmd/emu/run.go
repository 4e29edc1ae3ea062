package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vmemu/vmemu/debugger"
	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/internal/hugeheap"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
)

const runUsage = `Usage: emu run [flags] PROG [ARGS...]

Runs PROG, an x86-64 Linux ELF executable (static, or dynamically linked: its interpreter
and shared libraries come from the host's /lib), on the emulated machine. The guest's
standard input, output and error are the host's, and so is its environment; emu exits with
the guest's exit status (128 + N when signal N killed it).

Examples:
  emu run testprogs/bin/hello
  emu run --stats testprogs/bin/bss_sum                 time it, count faults and TLB misses
  emu run --trace=faults testprogs/bin/bss_sum          every page fault, one line each
  emu run --trace=all --trace-format=json --trace-file=t.jsonl --stats-json=s.json PROG
  emu run --ram=64M --tlb=dtlb=16/4,large=0,nopcid --stats PROG
  emu run --root=/srv/jail /bin/busybox sh               the guest sees only /srv/jail

Flags:
`

type runOptions struct {
	machineOptions
	stats       bool
	statsJSON   string
	trace       string
	traceFile   string
	traceFormat string
	root        string
	gdb         string
	cpuprofile  string
	report      string
	interpret   bool
}

func runFlags(out io.Writer) (*flag.FlagSet, *runOptions) {
	o := &runOptions{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(out)
	o.machineOptions.register(fs)
	fs.BoolVar(&o.stats, "stats", false, "print statistics to stderr when the program ends: instructions, host wall\n"+
		"time and guest MIPS, system calls by name, page faults by outcome, TLB hits,\nmisses, walks and flushes per TLB, frames in use, at peak, shared and copied")
	fs.BoolVar(&o.interpret, "interpret", false, "run every instruction in the interpreter: generate no host code for hot blocks\n"+
		"(which emu does on linux/amd64 hosts; the results, counts and traces are the same)")
	fs.StringVar(&o.statsJSON, "stats-json", "", "write the statistics as JSON to `FILE` (see emu help stats)")
	fs.StringVar(&o.trace, "trace", "", "trace events of these `KINDS` (comma-separated): faults, syscalls, tlb,\nframes, process, exec, signals, all (see emu help trace)")
	fs.StringVar(&o.traceFile, "trace-file", "", "write the trace to `FILE` instead of stderr")
	fs.StringVar(&o.root, "root", "", "confine the guest to host directory `DIR`, which becomes its \"/\" (chroot\nsemantics: no path, \"..\" or symbolic link leads out); PROG is found inside DIR")
	fs.StringVar(&o.gdb, "gdb", "", "wait for gdb on `ADDR` (HOST:PORT, :PORT on the loopback address, or a Unix\n"+
		"socket path) before the first instruction; see emu help gdb")
	fs.StringVar(&o.traceFormat, "trace-format", "text", "trace `FORMAT`: text (one aligned line per event) or json (one object\nper line, stable field names)")
	fs.StringVar(&o.report, "report", "", "write a report of the run to `FILE`: one self-contained HTML page (no network)\nwith the statistics, faults over time by outcome, frames in use over time, TLB\nhit rates and the largest VMAs")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of emu itself (pprof format) to `FILE`, for\n`go tool pprof emu FILE`: where the host's time goes while the guest runs")
	fs.Usage = func() {
		fmt.Fprint(out, runUsage)
		fs.PrintDefaults()
	}
	return fs, o
}

func runCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := runFlags(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "emu run: no program given")
		fs.Usage()
		return 2
	}
	cfg, err := o.config()
	if err != nil {
		fmt.Fprintf(stderr, "emu run: %v\n", err)
		return 2
	}
	for _, n := range o.notes {
		fmt.Fprintf(stderr, "emu run: --tlb: note: %s\n", n)
	}
	if err := o.checkRoot(fs); err != nil {
		fmt.Fprintf(stderr, "emu run: --root: %v\n", err)
		return 2
	}
	var kinds describe.KindSet
	if o.trace != "" || o.traceFile != "" {
		spec := o.trace
		if spec == "" {
			spec = "all"
		}
		if kinds, err = describe.ParseKinds(spec); err != nil {
			fmt.Fprintf(stderr, "emu run: --trace: %v\n", err)
			return 2
		}
		if o.traceFormat != "text" && o.traceFormat != "json" {
			fmt.Fprintf(stderr, "emu run: --trace-format: %q is neither text nor json\n", o.traceFormat)
			return 2
		}
	}
	// Every output file is opened before the guest runs: a bad path is an error now, not
	// after a long run, and the run never starts.
	var traceOut, statsOut *os.File
	for _, out := range []struct {
		name string
		flag string
		f    **os.File
	}{{o.traceFile, "--trace-file", &traceOut}, {o.statsJSON, "--stats-json", &statsOut}} {
		if out.name == "" {
			continue
		}
		f, err := createOutput(out.name)
		if err != nil {
			fmt.Fprintf(stderr, "emu run: %s: %v\n", out.flag, err)
			return 2
		}
		defer f.Close()
		*out.f = f
	}
	var tr *tracer
	if o.trace != "" || o.traceFile != "" {
		var w io.Writer = stderr
		if traceOut != nil {
			w = traceOut
		}
		tr = newTracer(w, kinds, o.traceFormat == "json")
		if traceOut == nil {
			// The trace shares the terminal with the guest: keep them in order.
			stdout, stderr = flushingWriter{stdout, tr}, flushingWriter{stderr, tr}
		}
	}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = stdin, stdout, stderr
	cfg.Root = o.root
	cfg.OnJobStop, cfg.HostSignals = stopSelf, true
	k, err := minikernel.New(cfg)
	if err != nil {
		if code := machineError(stderr, "emu run", err); code != 0 {
			return code
		}
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	defer k.Close()
	defer forwardSignals(k)()
	if o.interpret {
		for _, c := range k.CPUs() {
			c.CPU().SetCodegen(false)
		}
	}
	var stats *minikernel.StatsCollector
	var base statsBase
	if o.stats || o.statsJSON != "" || o.report != "" {
		stats, base = k.CollectStats(), baseline(k)
	}
	var report *reportFile
	if o.report != "" {
		if report, err = newReport(k, o.report); err != nil {
			fmt.Fprintf(stderr, "emu run: --report: %v\n", err)
			return 2
		}
		defer report.discard()
	}
	if tr != nil {
		tr.attach(k)
	}
	prog := fs.Arg(0)
	p, err := k.Spawn(prog, fs.Args(), os.Environ())
	if err != nil {
		o.finishTrace(tr, stderr)
		fmt.Fprintf(stderr, "emu: %v\n", err)
		if errors.Is(err, os.ErrNotExist) && o.root != "" {
			fmt.Fprintf(stderr, "emu: (with --root, %s is looked up inside %s)\n", safetext.Escape(prog), safetext.Escape(o.root))
		}
		return spawnStatus(err)
	}
	if o.cpuprofile != "" {
		stop, perr := startCPUProfile(o.cpuprofile)
		if perr != nil {
			fmt.Fprintf(stderr, "emu run: --cpuprofile: %v\n", perr)
			return 2
		}
		defer stop()
	}
	var sampler *phaseSampler
	if stats != nil {
		sampler = startPhaseSampler()
	}
	// The heap may have grown into memory mapped since hugeheap's init marked it.
	hugeheap.Advise()
	start := time.Now()
	var code int
	if o.gdb != "" {
		d := debugger.New(k, stderr, cfg.MaxInsns)
		d.Follow(p)
		code = serveGDB(k, p, d, o.gdb, cfg.MaxInsns, stderr)
	} else {
		code, err = k.Run()
	}
	wall := time.Since(start)
	o.finishTrace(tr, stderr)
	if stats != nil {
		s := runStats{Stats: base.since(stats.Snapshot()), Wall: wall, Shares: sampler.finish()}
		for _, c := range k.CPUs() {
			b, n := c.CPU().CodegenStats()
			s.CodegenBlocks += b
			s.CodegenBytes += n
		}
		if k.MMU().PSC != nil {
			s.PSC, s.PSCOn = base.sincePSC(pscTotal(k)), true
		}
		if o.stats {
			printStats(stderr, &s)
		}
		if statsOut != nil {
			// A failed write is reported; the exit status stays the guest's.
			if _, werr := statsOut.Write(statsJSON(&s)); werr != nil {
				fmt.Fprintf(stderr, "emu: --stats-json: %v\n", werr)
			} else if werr := statsOut.Close(); werr != nil {
				fmt.Fprintf(stderr, "emu: --stats-json: %v\n", werr)
			}
		}
		if report != nil {
			if werr := report.write(fs.Args(), &s, code, err); werr != nil {
				fmt.Fprintf(stderr, "emu: --report: %v\n", werr)
				return 1
			}
		}
	}
	var stopped *minikernel.HostStopError
	if errors.As(err, &stopped) {
		// The second signal: the run ends here; what the guest stored is written back as
		// the deferred Close tears the machine down.
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 128 + stopped.Signal
	}
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	return code
}

// checkRoot checks --root: an empty value (an unset variable in a script) must not run
// the guest unconfined, and the directory must exist.
func (o *runOptions) checkRoot(fs *flag.FlagSet) error {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "root" })
	if set && o.root == "" {
		return errors.New("empty directory name (leave the flag out to run unconfined)")
	}
	if o.root != "" {
		if fi, err := os.Stat(o.root); err != nil || !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", safetext.Escape(o.root))
		}
	}
	return nil
}

// finishTrace flushes the trace and reports, once, a write that failed (a full disk): the
// trace is incomplete, which the user must hear; the run itself is not affected.
func (o *runOptions) finishTrace(tr *tracer, stderr io.Writer) {
	if tr == nil {
		return
	}
	if err := tr.Flush(); err != nil {
		where := "the trace"
		if o.traceFile != "" {
			where = "--trace-file " + safetext.Escape(o.traceFile)
		}
		fmt.Fprintf(stderr, "emu: writing %s failed, the trace is incomplete: %v\n", where, err)
	}
}

// spawnStatus is emu's exit status when the first program could not be started: 127 when
// it does not exist, 1 when RAM is too small to start it, 126 for the rest (not executable,
// not a valid ELF), as a shell reports them.
func spawnStatus(err error) int {
	var small *minikernel.RAMTooSmallError
	switch {
	case errors.As(err, &small):
		return 1
	case errors.Is(err, os.ErrNotExist):
		return 127
	}
	return 126
}
