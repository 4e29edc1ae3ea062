package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"vmemu/minikernel"
)

const runUsage = `Usage: emu run [flags] PROG [ARGS...]

Runs PROG, a static x86-64 Linux ELF executable, on the emulated machine. The guest's
standard input, output and error are the host's; emu exits with the guest's exit status
(128 + N when signal N killed it).

Flags:
`

type runOptions struct {
	stats    bool
	ram      string
	maxInsns uint64
	seed     uint64
}

func runFlags(out io.Writer) (*flag.FlagSet, *runOptions) {
	o := &runOptions{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.BoolVar(&o.stats, "stats", false, "print statistics to stderr when the program ends:\ninstructions, page faults by outcome, TLB hits and misses, frames")
	fs.StringVar(&o.ram, "ram", "4G", "physical memory `SIZE` (K, M or G suffix)")
	fs.Uint64Var(&o.maxInsns, "max-insns", 0, "stop after `N` instructions (0: no limit)")
	fs.Uint64Var(&o.seed, "seed", 0, "`SEED` for AT_RANDOM and other guest randomness")
	fs.Usage = func() {
		fmt.Fprint(out, runUsage)
		fs.PrintDefaults()
	}
	return fs, o
}

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
	if err != nil || v == 0 || v > (1<<46)/mult {
		return 0, fmt.Errorf("bad size %q (want e.g. 512M or 4G)", s)
	}
	return v * mult, nil
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
	ramSize, err := parseSize(o.ram)
	if err != nil {
		fmt.Fprintf(stderr, "emu run: --ram: %v\n", err)
		return 2
	}
	if ramSize%4096 != 0 {
		fmt.Fprintf(stderr, "emu run: --ram: %d is not a multiple of 4096\n", ramSize)
		return 2
	}
	prog := fs.Arg(0)
	k, err := minikernel.New(minikernel.Config{RAM: ramSize, Stdin: stdin, Stdout: stdout, Stderr: stderr,
		Seed: o.seed, MaxInsns: o.maxInsns})
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	defer k.Close()
	var stats *minikernel.StatsCollector
	if o.stats {
		stats = k.CollectStats()
	}
	if _, err := k.Spawn(prog, fs.Args(), os.Environ()); err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		if errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	code, err := k.Run()
	if stats != nil {
		s := stats.Snapshot()
		printStats(stderr, &s)
	}
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	return code
}
