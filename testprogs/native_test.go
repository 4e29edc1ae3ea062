package testprogs

// Recorded native runs. The tests compare each emulated run with the same program run
// natively; where the host cannot run an x86-64 Linux program (macOS, arm64) or should not
// be the oracle (the instruction-case programs, whose output is the CPU's and differs
// between CPU vendors and generations), the native result comes from a recording made on
// the reference host (testdata/native/<program>.json.gz): standard output, standard error
// and exit code, per argument list and input. The environment variable VMEMU_NATIVE says
// otherwise:
//
//	VMEMU_NATIVE=update    run natively and rewrite the recordings of every program run:
//	                       VMEMU_NATIVE=update go test ./testprogs (x86-64 Linux, no -short)
//	VMEMU_NATIVE=recorded  use the recordings even where native runs are possible
//
// and VMEMU_HOSTCPU=live compares the instruction-case programs with this host's CPU.

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/vmemu/vmemu/minikernel"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// nativeRun is one recorded native run.
type nativeRun struct {
	Args   []string `json:"args"`
	Stdin  string   `json:"stdin,omitempty"`
	Stdout string   `json:"stdout"`
	Stderr string   `json:"stderr,omitempty"`
	Code   int      `json:"code"`
}

func (r nativeRun) key() string {
	return strings.Join(r.Args, "\x00") + "\x01" + r.Stdin
}

// nativeRecording is a program's recorded runs.
type nativeRecording struct {
	Host string      `json:"host"`
	Runs []nativeRun `json:"runs"`
}

const nativeDir = "testdata/native"

var (
	recMu      sync.Mutex
	recordings = map[string]map[string]nativeRun{} // program -> key -> run
	recorded   = map[string]map[string]nativeRun{} // update mode: what this run recorded
)

// referenceHost: this is the kind of host the recordings were made on, whose native runs
// are the oracle by default.
const referenceHost = runtime.GOOS == "linux" && runtime.GOARCH == "amd64"

// canRunNative reports whether this host runs x86-64 Linux programs natively: an x86-64
// Linux host, or one that runs them for a process of another architecture (an arm64 test
// binary under qemu-user on an x86-64 host). It runs the hello program once to find out
// (testcheck.CanExec).
func canRunNative() bool { return testcheck.CanExec(filepath.Join("bin", "hello")) }

// useRecording reports whether prog's native result comes from its recording (when it
// has one): always for the instruction-case programs (unless VMEMU_HOSTCPU=live), and on
// any host but the reference kind, whose own native runs may differ in what the
// environment leaves to a process (an emulated parent's signal stack, for one).
func useRecording(prog string) bool {
	switch os.Getenv("VMEMU_NATIVE") {
	case "update":
		return false
	case "recorded":
		return true
	}
	if strings.HasPrefix(prog, "icase_") && os.Getenv("VMEMU_HOSTCPU") != "live" {
		return true
	}
	return !referenceHost
}

// recordable reports whether a run can be replayed from a recording: not when an argument
// names a temporary directory of this run.
func recordable(args []string) bool {
	for _, a := range args {
		if strings.Contains(a, os.TempDir()) {
			return false
		}
	}
	return true
}

// recordingOf loads prog's recorded runs.
func recordingOf(prog string) (map[string]nativeRun, error) {
	recMu.Lock()
	defer recMu.Unlock()
	if m, ok := recordings[prog]; ok {
		return m, nil
	}
	m := map[string]nativeRun{}
	f, err := os.Open(filepath.Join(nativeDir, prog+".json.gz"))
	if errors.Is(err, os.ErrNotExist) {
		recordings[prog] = m
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	var rec nativeRecording
	if err := json.NewDecoder(zr).Decode(&rec); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	for _, r := range rec.Runs {
		m[r.key()] = r
	}
	recordings[prog] = m
	return m, nil
}

// recordedNative returns prog's recorded native run with args and stdin, or ends the test
// saying that it is missing.
func recordedNative(t *testing.T, prog, stdin string, args []string) result {
	t.Helper()
	m, err := recordingOf(prog)
	if err != nil {
		t.Fatalf("recorded native runs of %s: %v", prog, err)
	}
	want := nativeRun{Args: args, Stdin: stdin}
	r, ok := m[want.key()]
	switch {
	case ok:
		return result{Stdout: r.Stdout, Stderr: r.Stderr, Code: r.Code}
	case recordable(args) && (os.Getenv("VMEMU_NATIVE") == "recorded" || strings.HasPrefix(prog, "icase_")):
		t.Fatalf("no recorded native run of %s %q: record with VMEMU_NATIVE=update go test ./testprogs", prog, args)
	}
	return runHost(t, prog, stdin, args...) // a run no recording can hold: native where the host can
}

// record keeps a native run for the recordings (update mode).
func record(t *testing.T, prog, stdin string, args []string, r result) {
	if !recordable(args) {
		return
	}
	recMu.Lock()
	defer recMu.Unlock()
	m := recorded[prog]
	if m == nil {
		m = map[string]nativeRun{}
		recorded[prog] = m
	}
	run := nativeRun{Args: append([]string{}, args...), Stdin: stdin, Stdout: r.Stdout, Stderr: r.Stderr, Code: r.Code}
	if old, ok := m[run.key()]; ok && (old.Stdout != run.Stdout || old.Stderr != run.Stderr || old.Code != run.Code) {
		t.Errorf("%s %q gave two different native results in one run: it cannot be recorded", prog, args)
	}
	m[run.key()] = run
}

// saveRecordings writes what an update run recorded, one file per program.
func saveRecordings() error {
	host := hostDescription()
	for prog, m := range recorded {
		rec := nativeRecording{Host: host}
		for _, r := range m {
			rec.Runs = append(rec.Runs, r)
		}
		sort.Slice(rec.Runs, func(i, j int) bool { return rec.Runs[i].key() < rec.Runs[j].key() })
		if err := os.MkdirAll(nativeDir, 0o755); err != nil {
			return err
		}
		f, err := os.Create(filepath.Join(nativeDir, prog+".json.gz"))
		if err != nil {
			return err
		}
		zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
		enc := json.NewEncoder(zw)
		enc.SetIndent("", " ")
		err = enc.Encode(&rec)
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// hostDescription names the host a recording comes from.
func hostDescription() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := ""
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = " Linux " + strings.TrimSpace(string(b))
	}
	return model + kernel + " (" + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

// referenceSSEFeatures are the SSE extensions of the reference host the recordings come
// from, in the instruction-case programs' spelling.
const referenceSSEFeatures = "sse3,ssse3,sse4_1,sse4_2"

func TestMain(m *testing.M) {
	flag.Parse()
	update := os.Getenv("VMEMU_NATIVE") == "update"
	if update && (!referenceHost || testing.Short()) {
		fmt.Fprintln(os.Stderr, "VMEMU_NATIVE=update records native runs: it needs an x86-64 Linux host and no -short")
		os.Exit(2)
	}
	minikernel.SetRunDeadline(testcheck.RunDeadline())
	minikernel.SetRunBudget(testcheck.RunBudget)
	code := m.Run()
	if update {
		if err := saveRecordings(); err != nil {
			fmt.Fprintln(os.Stderr, "writing native recordings:", err)
			code = 1
		}
	}
	os.Exit(code)
}
