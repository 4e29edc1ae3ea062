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
}

func runFlags(out io.Writer) (*flag.FlagSet, *runOptions) {
	o := &runOptions{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(out)
	o.machineOptions.register(fs)
	fs.BoolVar(&o.stats, "stats", false, "print statistics to stderr when the program ends: instructions, host wall\n"+
		"time and guest MIPS, system calls by name, page faults by outcome, TLB hits,\nmisses, walks and flushes per TLB, frames in use, at peak, shared and copied")
	fs.StringVar(&o.statsJSON, "stats-json", "", "write the statistics as JSON to `FILE` (see emu help stats)")
	fs.StringVar(&o.trace, "trace", "", "trace events of these `KINDS` (comma-separated): faults, syscalls, tlb,\nframes, process, exec, signals, all (see emu help trace)")
	fs.StringVar(&o.traceFile, "trace-file", "", "write the trace to `FILE` instead of stderr")
	fs.StringVar(&o.root, "root", "", "confine the guest to host directory `DIR`, which becomes its \"/\" (chroot\nsemantics: no path, \"..\" or symbolic link leads out); PROG is found inside DIR")
	fs.StringVar(&o.gdb, "gdb", "", "wait for gdb on `ADDR` (HOST:PORT, :PORT on the loopback address, or a Unix\n"+
		"socket path) before the first instruction; see emu help gdb")
	fs.StringVar(&o.traceFormat, "trace-format", "text", "trace `FORMAT`: text (one aligned line per event) or json (one object\nper line, stable field names)")
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
	var tr *tracer
	if o.trace != "" || o.traceFile != "" {
		kinds, err := describe.ParseKinds(o.trace)
		if o.trace == "" {
			kinds, err = describe.ParseKinds("all")
		}
		if err != nil {
			fmt.Fprintf(stderr, "emu run: --trace: %v\n", err)
			return 2
		}
		if o.traceFormat != "text" && o.traceFormat != "json" {
			fmt.Fprintf(stderr, "emu run: --trace-format: %q is neither text nor json\n", o.traceFormat)
			return 2
		}
		w := stderr
		if o.traceFile != "" {
			f, err := os.Create(o.traceFile)
			if err != nil {
				fmt.Fprintf(stderr, "emu run: --trace-file: %v\n", err)
				return 2
			}
			defer f.Close()
			w = f
		}
		tr = newTracer(w, kinds, o.traceFormat == "json")
		defer tr.Flush()
		if o.traceFile == "" {
			// The trace shares the terminal with the guest: keep them in order.
			stdout, stderr = flushingWriter{stdout, tr}, flushingWriter{stderr, tr}
		}
	}
	if o.root != "" {
		if fi, err := os.Stat(o.root); err != nil || !fi.IsDir() {
			fmt.Fprintf(stderr, "emu run: --root: %s is not a directory\n", o.root)
			return 2
		}
	}
	cfg.Stdin, cfg.Stdout, cfg.Stderr = stdin, stdout, stderr
	cfg.Root = o.root
	k, err := minikernel.New(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	defer k.Close()
	var stats *minikernel.StatsCollector
	var base statsBase
	if o.stats || o.statsJSON != "" {
		stats, base = k.CollectStats(), baseline(k)
	}
	if tr != nil {
		tr.attach(k)
	}
	prog := fs.Arg(0)
	p, err := k.Spawn(prog, fs.Args(), os.Environ())
	if err != nil {
		if tr != nil {
			tr.Flush()
		}
		fmt.Fprintf(stderr, "emu: %v\n", err)
		if errors.Is(err, os.ErrNotExist) {
			if o.root != "" {
				fmt.Fprintf(stderr, "emu: (with --root, %s is looked up inside %s)\n", prog, o.root)
			}
			return 127
		}
		return 126
	}
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
	if tr != nil {
		tr.Flush()
	}
	if stats != nil {
		s := runStats{Stats: base.since(stats.Snapshot()), Wall: wall}
		if o.stats {
			printStats(stderr, &s)
		}
		if o.statsJSON != "" {
			if werr := os.WriteFile(o.statsJSON, statsJSON(&s), 0o644); werr != nil {
				fmt.Fprintf(stderr, "emu: --stats-json: %v\n", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	return code
}
