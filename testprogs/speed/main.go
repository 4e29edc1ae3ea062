// Command speed times the emulator against qemu-x86_64's JIT and the host: it builds the C
// benchmark programs from their sources (testprogs/src/musl/bench_*.c, with musl-gcc) and
// emu itself, runs each program natively, under emu and, when it is installed, under
// qemu-x86_64, and prints the median CPU time (user + system, of the child process) of
// each, the ratios, and emu's guest MIPS. Run it from the repository root:
//
//	go run ./testprogs/speed            # the full table of issue 13, median of 3
//	go run ./testprogs/speed -n 5 -only loop,sieve
//	go run ./testprogs/speed -scale 0.1 # a quick look
//
// CPU time, not wall time, so that other work on a shared machine disturbs the figures as
// little as possible; all runs of one program are interleaved (native, qemu, emu, native,
// ...) so a burst of load falls on all of them alike. The timed emu runs are plain `emu
// run`; one more run with --stats-json, not timed, counts the guest's instructions for the
// MIPS column. The outputs of native and emulated runs are compared: a difference is
// reported, never hidden.
//
// It knows nothing of the emulator's insides: it runs the emu binary, as a user does.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// bench is one row of the table.
type bench struct {
	name string
	// src is the C program under testprogs/src/musl (built with musl-gcc), or "" for a
	// program of the host (prog).
	src  string
	prog string
	args func(scale float64, dir string) ([]string, error)
	// qemu says whether the row compares with qemu-x86_64 (else with the host only).
	qemu bool
	note string
}

func scaled(base float64, scale float64) string {
	v := base * scale
	if v < 1 {
		v = 1
	}
	return strconv.Itoa(int(v))
}

func fixed(args ...string) func(float64, string) ([]string, error) {
	return func(float64, string) ([]string, error) { return args, nil }
}

var benches = []bench{
	{name: "loop", src: "bench_loop", qemu: true, note: "integer ALU and branch loop",
		args: func(s float64, _ string) ([]string, error) { return []string{scaled(100, s)}, nil }},
	{name: "sieve", src: "bench_sieve", qemu: true, note: "byte sieve over 50 MiB",
		args: func(s float64, _ string) ([]string, error) { return []string{scaled(50, s)}, nil }},
	{name: "qsort", src: "bench_qsort", qemu: true, note: "qsort of 2M ints",
		args: func(s float64, _ string) ([]string, error) { return []string{scaled(2000, s)}, nil }},
	{name: "nbody", src: "bench_nbody", qemu: true, note: "n-body, SSE2 doubles",
		args: func(s float64, _ string) ([]string, error) { return []string{scaled(1000, s)}, nil }},
	{name: "sha256sum", prog: "/usr/bin/sha256sum", note: "coreutils sha256sum of 50 MiB",
		args: func(s float64, dir string) ([]string, error) {
			f, err := dataFile(dir, int(50*s*(1<<20)))
			return []string{f}, err
		}},
	{name: "busybox-sha256", prog: "/bin/busybox", note: "busybox sha256sum of 50 MiB",
		args: func(s float64, dir string) ([]string, error) {
			f, err := dataFile(dir, int(50*s*(1<<20)))
			return []string{"sha256sum", f}, err
		}},
	{name: "python", prog: "/usr/bin/python3", note: "CPython loop",
		args: func(s float64, _ string) ([]string, error) {
			return []string{"-S", "-c", "s = 0\nfor i in range(" + scaled(1000000, s) + "):\n    s += i * i % 7\nprint(s)"}, nil
		}},
	{name: "hello", src: "bench_hello", note: "static hello: startup", args: fixed()},
}

// dataFile writes (once) a file of n pseudo-random bytes in dir and returns its name.
func dataFile(dir string, n int) (string, error) {
	name := filepath.Join(dir, fmt.Sprintf("data-%d", n))
	if _, err := os.Stat(name); err == nil {
		return name, nil
	}
	b := make([]byte, n)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range b {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		b[i] = byte(x >> 32)
	}
	return name, os.WriteFile(name, b, 0o644)
}

// result is one run's outcome.
type result struct {
	cpu    time.Duration
	out    []byte
	insns  uint64 // emu only
	failed string
}

func main() {
	n := flag.Int("n", 3, "runs of each program under each runner (the median is reported)")
	scale := flag.Float64("scale", 1, "scale every workload by this factor")
	only := flag.String("only", "", "comma-separated rows to run (default: all): "+names())
	emuPath := flag.String("emu", "", "the emu binary to time (default: build ./cmd/emu)")
	flag.Parse()
	if err := run(*n, *scale, *only, *emuPath, nil, "", os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "speed: %v\n", err)
		os.Exit(1)
	}
}

func names() string {
	var s []string
	for _, b := range benches {
		s = append(s, b.name)
	}
	return strings.Join(s, ",")
}

// run prints the table to w; its scratch files (emu, the programs, the data) go to a new
// directory under work (the system's temporary directory when "") and are removed after.
// run times the programs; emu runs as emuPath (built when empty) after the words of
// emuRunner (none natively; the tests' runner, such as qemu-aarch64, for an emu built for a
// foreign architecture).
func run(n int, scale float64, only, emuPath string, emuRunner []string, work string, w io.Writer) error {
	if n < 1 {
		return errors.New("-n must be at least 1")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(work, "vmemu-speed-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if emuPath == "" {
		emuPath = filepath.Join(dir, "emu")
		build := exec.Command("go", "build", "-o", emuPath, "./cmd/emu")
		build.Dir, build.Stderr = root, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building emu: %v", err)
		}
	}
	qemu, _ := exec.LookPath("qemu-x86_64")
	musl, _ := exec.LookPath("musl-gcc")
	if musl == "" {
		fmt.Fprintln(w, "note: musl-gcc not found; using the committed binaries in testprogs/bin")
	}
	if qemu == "" {
		fmt.Fprintln(w, "note: qemu-x86_64 not found; emu is compared with the host only")
	}
	want := map[string]bool{}
	for _, s := range strings.Split(only, ",") {
		if s != "" {
			want[s] = true
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "program\tnative s\tqemu s\temu s\temu/qemu\temu/native\tguest MIPS\t\n")
	for _, b := range benches {
		if len(want) > 0 && !want[b.name] {
			continue
		}
		prog := b.prog
		if b.src != "" {
			prog = filepath.Join(dir, b.src)
			if err := buildProg(root, musl, b.src, prog); err != nil {
				return err
			}
		} else if _, err := os.Stat(prog); err != nil {
			fmt.Fprintf(tw, "%s\t(%s not installed)\t\t\t\t\t\t\n", b.name, prog)
			continue
		}
		args, err := b.args(scale, dir)
		if err != nil {
			return err
		}
		// The timed runs are plain `emu run`, as users run programs: --stats-json's phase
		// sampler costs about a millisecond at the start and an atomic exchange at every
		// page walk. One more run, first and not timed, counts the instructions (the same
		// in every run: emu is deterministic).
		emuCmd := append(emuRunner[:len(emuRunner):len(emuRunner)], emuPath)
		count := runEmu(emuCmd, dir, prog, args, true)
		var native, em, qm []result
		for i := 0; i < n; i++ {
			native = append(native, runNative(prog, args))
			if qemu != "" && b.qemu {
				qm = append(qm, runNative(qemu, append([]string{prog}, args...)))
			}
			r := runEmu(emuCmd, dir, prog, args, false)
			r.insns = count.insns
			em = append(em, r)
		}
		row := []string{b.name, secs(native), secs(qm), secs(em), ratio(em, qm), ratio(em, native), mips(em)}
		if msg := problems(native, em); msg != "" {
			row = append(row, msg)
		}
		if b.name == "hello" {
			row[1], row[2], row[3] = msecs(native), msecs(qm), msecs(em)
		}
		fmt.Fprintln(tw, strings.Join(row, "\t")+"\t")
		fmt.Fprintf(os.Stderr, "speed: %s\n", strings.Join(row, " "))
	}
	fmt.Fprintln(w)
	return tw.Flush()
}

// repoRoot finds the module root from the working directory.
func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("run it inside the vmemu repository")
		}
		d = p
	}
}

// buildProg compiles testprogs/src/musl/NAME.c to out, as the Makefile does, or copies the
// committed binary when there is no musl-gcc.
func buildProg(root, musl, name, out string) error {
	if musl == "" {
		b, err := os.ReadFile(filepath.Join(root, "testprogs/bin/musl_"+name))
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o755)
	}
	cc := exec.Command(musl, "-O2", "-static", "-Wall", "-Wextra", "-Werror", "-Wl,--build-id=none",
		"-o", out, filepath.Join(root, "testprogs/src/musl", name+".c"), "-lm")
	cc.Stderr = os.Stderr
	if err := cc.Run(); err != nil {
		return fmt.Errorf("building %s: %v", name, err)
	}
	return nil
}

const runTimeout = 15 * time.Minute

// runNative runs prog with args and returns its CPU time and output.
func runNative(prog string, args []string) result {
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = io.Discard
	err := cmd.Run()
	r := result{out: out.Bytes()}
	if cmd.ProcessState != nil {
		r.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		r.failed = fmt.Sprintf("%s: %v", filepath.Base(prog), err)
	}
	return r
}

// runEmu runs prog under emu (a command and its first words) and, with stats, adds the
// guest instruction count from --stats-json.
func runEmu(emu []string, dir, prog string, args []string, stats bool) result {
	if !stats {
		return runNative(emu[0], append(append(emu[1:len(emu):len(emu)], "run", prog), args...))
	}
	statsFile := filepath.Join(dir, "stats.json")
	r := runNative(emu[0], append(append(emu[1:len(emu):len(emu)], "run", "--stats-json", statsFile, prog), args...))
	var s struct {
		Instructions uint64 `json:"instructions"`
	}
	if b, err := os.ReadFile(statsFile); err == nil && json.Unmarshal(b, &s) == nil {
		r.insns = s.Instructions
	}
	os.Remove(statsFile)
	return r
}

func median(rs []result) time.Duration {
	var d []time.Duration
	for _, r := range rs {
		d = append(d, r.cpu)
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func secs(rs []result) string {
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f", median(rs).Seconds())
}

func msecs(rs []result) string {
	if len(rs) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f ms", float64(median(rs).Microseconds())/1000)
}

func ratio(a, b []result) string {
	if len(a) == 0 || len(b) == 0 || median(b) <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fx", median(a).Seconds()/median(b).Seconds())
}

func mips(em []result) string {
	if len(em) == 0 || em[0].insns == 0 || median(em) <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(em[0].insns)/median(em).Seconds()/1e6)
}

// problems names a failed run or an emulated output that differs from the native one.
func problems(native, em []result) string {
	for _, r := range append(slices.Clone(native), em...) {
		if r.failed != "" {
			return "FAILED " + r.failed
		}
	}
	for _, r := range em {
		if !bytes.Equal(r.out, native[0].out) {
			return "OUTPUT DIFFERS"
		}
	}
	return ""
}
