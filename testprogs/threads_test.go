package testprogs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/minikernel"
)

// Threads (issue 9): pthread programs built against musl and glibc, static and dynamic, run
// on the host and on the emulator with one CPU and with four, with the same output.

// cpus configures an emulated run with n CPUs.
func cpus(n int) emuConfig { return func(c *minikernel.Config) { c.CPUs = n } }

// sameAsNativeOn is sameAsNative on a machine configured by cfgs.
func sameAsNativeOn(t *testing.T, prog string, args []string, cfgs ...emuConfig) result {
	t.Helper()
	want := runNative(t, prog, "", args...)
	got := runEmu(t, prog, "", args, cfgs...)
	want = nativeAgain(t, prog, "", args, want, got)
	assert.Equal(t, want.Stdout, got.Stdout, "%s: standard output differs", prog)
	assert.Equal(t, want.Stderr, got.Stderr, "%s: standard error differs", prog)
	assert.Equal(t, want.Code, got.Code, "%s: exit code differs; emulator log: %s", prog, got.Log)
	return got
}

// builds are the four builds of each thr_ program.
var builds = []string{"musl_", "glibc_", "dynmusl_", "dynglibc_"}

// TestThreadPrograms: mutexes, condition variables, barriers, rwlocks, TLS, thread-specific
// data, cancellation, semaphores (thr_sync); robust, PI and error-checking mutexes, timed
// locks (thr_robust); a thread faulting into its SIGSEGV handler, process- and
// thread-directed signals, exit against exit_group, execve from a thread (thr_signal); and
// the futex, clone3, tgkill and pidfd system calls with their errors (thr_futex).
func TestThreadPrograms(t *testing.T) {
	for _, prog := range []string{"thr_sync", "thr_robust", "thr_signal", "thr_futex"} {
		for _, b := range builds {
			for _, n := range []int{1, 4} {
				t.Run(fmt.Sprintf("%s%s/cpus%d", b, prog, n), func(t *testing.T) {
					r := sameAsNativeOn(t, b+prog, nil, cpus(n))
					assert.NotZero(t, r.Stats.Threads, "the program made threads")
				})
			}
		}
	}
}

// TestSharedFutexes: futexes shared between processes through a MAP_SHARED file (mapped at
// different addresses) and through shared anonymous memory meet, keyed by the page; a
// private mapping's futex does not (thr_shared).
func TestSharedFutexes(t *testing.T) {
	for _, b := range builds {
		for _, n := range []int{1, 3} {
			t.Run(fmt.Sprintf("%sthr_shared/cpus%d", b, n), func(t *testing.T) {
				dir := t.TempDir()
				sameAsNativeOn(t, b+"thr_shared", []string{dir}, cpus(n))
			})
		}
	}
}

// A thread bomb gets EAGAIN at the task limit, and the machine stays up.
func TestThreadBombGetsEAGAIN(t *testing.T) {
	r := runEmu(t, "musl_thr_bomb", "", nil, func(c *minikernel.Config) { c.MaxProcs = 64; c.CPUs = 2 })
	assert.Equal(t, 0, r.Code)
	assert.Equal(t, "pthread_create failed with EAGAIN after 63 threads\n", r.Stdout,
		"64 tasks: the main thread and 63 more (init has no thread)")
}

// Threads that wait on each other for ever are a deadlock, reported with each thread and
// the call it sleeps in, as for processes.
func TestThreadDeadlockIsReported(t *testing.T) {
	var out, log bytes.Buffer
	k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, Stdout: &out, Log: &log, CPUs: 2})
	require.NoError(t, err)
	defer k.Close()
	_, err = k.Spawn(binPath(t, "musl_thr_deadlock"), []string{"thr_deadlock"}, env)
	require.NoError(t, err)
	_, err = k.Run()
	require.True(t, errors.Is(err, minikernel.ErrDeadlock), "%v", err)
	for _, want := range []string{"pid 2 in futex", "tid 3 of pid 2 in futex", "tid 4 of pid 2 in futex"} {
		assert.Contains(t, err.Error(), want)
	}
}

// TestTLBShootdown: a thread on CPU 0 unmaps, then write-protects, a page a thread on CPU 1
// has in its TLB; the kernel's shootdown makes CPU 1's next store fault, as on Linux. The
// trace shows each shootdown (initiator, target, page, why) and their number is the
// statistics'. Under --tlb noshootdown the stores go through the stale entry instead.
func TestTLBShootdown(t *testing.T) {
	var shootdowns []minikernel.Event
	watch := func(c *minikernel.Config) { c.CPUs = 2 }
	want := runNative(t, "musl_tlb_shootdown", "")
	got := runEmu(t, "musl_tlb_shootdown", "", nil, watch, func(c *minikernel.Config) {})
	assert.Equal(t, want.Stdout, got.Stdout)
	assert.Contains(t, got.Stdout, "munmap: the worker's next store faulted: SIGSEGV SEGV_MAPERR at the page: yes")
	assert.Contains(t, got.Stdout, "mprotect(PROT_READ): the worker's next store faulted: SIGSEGV SEGV_ACCERR at the page: yes")

	// The same run, watched: every shootdown is an event, and the statistics count them.
	r := runEmuObserved(t, "musl_tlb_shootdown", "", nil, keepEvents(minikernel.EvShootdown, &shootdowns), watch)
	s := r.Stats
	require.NotEmpty(t, shootdowns)
	assert.Equal(t, uint64(len(shootdowns)), s.Shootdowns.ShootdownsSent, "one event per shootdown")
	assert.Equal(t, s.Shootdowns.ShootdownsSent, s.Shootdowns.ShootdownIPIs, "one target each: CPU 1")
	reasons := map[string]bool{}
	for _, e := range shootdowns {
		assert.Equal(t, 0, e.CPU, "the main thread, on CPU 0, initiates")
		assert.Equal(t, uint64(1<<1), e.Targets, "CPU 1 is interrupted")
		reasons[e.Text] = true
		line := describe.EventText(&e)
		assert.Contains(t, line, "cpu0 -> cpu1")
	}
	assert.True(t, reasons["munmap"] && reasons["mprotect"], "%v", reasons)

	// The teaching switch: no interrupt, and the worker keeps storing through its TLB.
	r = runEmu(t, "musl_tlb_shootdown", "", nil, watch, func(c *minikernel.Config) { c.NoShootdown = true })
	assert.Equal(t, "munmap: the worker stored 100000 more times through a stale TLB entry, and never faulted\n"+
		"mprotect(PROT_READ): the worker stored 100000 more times through a stale TLB entry, and never faulted\n", r.Stdout)
	assert.Equal(t, 0, r.Code, "the stale stores land in parked frames: emu and the program go on")
	assert.Zero(t, r.Stats.Shootdowns.ShootdownsSent)
	assert.Zero(t, r.Stats.Shootdowns.ShootdownIPIs)
	assert.NotZero(t, r.Stats.Shootdowns.ShootdownsSkipped)
}

// traceOf runs prog on n CPUs and returns its whole trace, text lines as emu writes them.
func traceOf(t *testing.T, prog string, n int, args ...string) []byte {
	var out, log, trace bytes.Buffer
	k, err := minikernel.New(minikernel.Config{RAM: 256 << 20, Stdout: &out, Log: &log, CPUs: n,
		Realtime: time.Unix(1704067200, 0)}) // a fixed wall clock: its nanoseconds steer musl's timeouts
	require.NoError(t, err)
	defer k.Close()
	k.ObserveHardware(true, true)
	k.Subscribe(func(e *minikernel.Event) {
		trace.Write(append(describe.AppendEventText(nil, e, n > 1), '\n'))
	})
	_, err = k.Spawn(binPath(t, prog), append([]string{prog}, args...), env)
	require.NoError(t, err)
	_, err = k.Run()
	require.NoError(t, err, "log: %s", log.String())
	return append(trace.Bytes(), out.Bytes()...)
}

// The same threaded program gives byte-identical traces (every event, TLB and frame events
// included) twice on four CPUs.
func TestThreadsAreDeterministic(t *testing.T) {
	for _, prog := range []string{"glibc_thr_sync", "musl_thr_robust", "musl_tlb_shootdown"} {
		a := traceOf(t, prog, 4)
		b := traceOf(t, prog, 4)
		require.Greater(t, len(a), 100000, "%s: a real trace", prog)
		if !bytes.Equal(a, b) {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			line := bytes.Count(a[:i], []byte("\n")) + 1
			t.Errorf("%s: two runs on 4 CPUs differ from line %d", prog, line)
		}
		if prog != "musl_tlb_shootdown" { // two threads only
			assert.True(t, bytes.Contains(a, []byte("cpu3 ")), "%s: the fourth CPU ran something", prog)
		}
	}
}

// goProgram is a Go program with goroutines, channels, a WaitGroup, a mutex, a ticker, a
// sleep and a garbage collection on four Ps: the Go runtime's threads (clone), futexes,
// signals to threads (preemption), sigaltstack, affinity calls and its epoll-driven timers.
const goProgram = `package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

func main() {
	runtime.GOMAXPROCS(4)
	ch := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			s := 0
			for i := 0; i < 100000; i++ {
				s += i % (w + 1)
			}
			ch <- s
		}(w)
	}
	go func() { wg.Wait(); close(ch) }()
	total := 0
	for s := range ch {
		total += s
	}
	var mu sync.Mutex
	n := 0
	var wg2 sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg2.Add(1)
		go func() { defer wg2.Done(); mu.Lock(); n++; mu.Unlock(); runtime.Gosched() }()
	}
	wg2.Wait()
	tick := time.NewTicker(time.Millisecond)
	ticks := 0
	for range tick.C {
		if ticks++; ticks == 5 {
			break
		}
	}
	tick.Stop()
	time.Sleep(2 * time.Millisecond)
	buf := make([][]byte, 0)
	for i := 0; i < 3000; i++ {
		buf = append(buf, make([]byte, 4096))
	}
	runtime.GC()
	fmt.Println("total", total, "n", n, "procs", runtime.GOMAXPROCS(0), "ticks", ticks, "buffers", len(buf))
}
`

// A Go program, built with the Go toolchain here, runs on four CPUs as on the host.
func TestGoProgramWithGoroutines(t *testing.T) {
	if !canRunNative() {
		testcheck.Skip(t, "builds a linux/amd64 program and runs it natively too: this host cannot run it")
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(goProgram), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module goprog\n\ngo 1.22\n"), 0o644))
	bin := filepath.Join(dir, "goprog")
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	outb, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", outb)

	nat := exec.Command(bin)
	nat.Env = env
	want, err := nat.Output()
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(want), "total "), "%s", want)

	var out, log bytes.Buffer
	// The host-backed page cache is on, as for every user: the Go runtime reads
	// /sys/kernel/mm/transparent_hugepage/hpage_pmd_size, a sysfs file that says 4096 bytes
	// and holds fewer, which must be read on the host, never mapped.
	k, err := minikernel.New(minikernel.Config{RAM: 1 << 30, Stdout: &out, Stderr: &log, Log: &log, CPUs: 4,
		MaxInsns: 2_000_000_000})
	require.NoError(t, err)
	defer k.Close()
	stats := k.CollectStats()
	_, err = k.Spawn(bin, []string{"goprog"}, env)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err, "log: %s", log.String())
	assert.Equal(t, 0, code, "log: %s", log.String())
	assert.Equal(t, string(want), out.String())
	s := stats.Snapshot()
	assert.GreaterOrEqual(t, s.Threads, uint64(3), "the Go runtime made threads")
	busy := 0
	for _, c := range s.CPUs {
		if c.InstructionsRetired > 100_000 {
			busy++
		}
	}
	assert.GreaterOrEqual(t, busy, 2, "goroutines ran on several CPUs: %+v", s.CPUs)
}
