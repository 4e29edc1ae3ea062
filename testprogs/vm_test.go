package testprogs

import (
	"debug/elf"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
)

// The virtual-memory programs (src/vm_*.c): each runs natively and on the emulator with the
// same output and exit status, and the emulator's statistics and events agree with what the
// program did.

// assertNoLeak checks that a finished run gave every frame back: only the kernel's boot
// page table is in use, and the page cache is empty.
func assertNoLeak(t *testing.T, r result) {
	t.Helper()
	st := r.Stats.Frames
	assert.Equal(t, uint64(1), st.InUse, "frames in use after every process exited")
	assert.Equal(t, uint64(1), st.Tables, "page-table pages in use after every process exited")
	assert.Zero(t, r.Kernel.PageCache().Pages(), "page-cache frames after every file was closed")
}

// symbol returns the address of a symbol of a test binary.
func symbol(t *testing.T, prog, name string) (uint64, uint64) {
	t.Helper()
	f, err := elf.Open(binPath(t, prog))
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	for _, s := range syms {
		if s.Name == name {
			return s.Value, s.Size
		}
	}
	t.Fatalf("%s has no symbol %s", prog, name)
	return 0, 0
}

// runWatched runs prog on the emulator like runEmu, with watch seeing every event.
func runWatched(t *testing.T, prog string, args []string, watch minikernel.Observer, cfgs ...emuConfig) result {
	t.Helper()
	var out, errb, log strings.Builder
	cfg := minikernel.Config{RAM: 256 << 20, Stdout: &out, Stderr: &errb, Log: &log, MaxInsns: 5_000_000_000}
	for _, f := range cfgs {
		f(&cfg)
	}
	k, err := minikernel.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	stats := k.CollectStats()
	k.Subscribe(watch)
	_, err = k.Spawn(binPath(t, prog), append([]string{prog}, args...), env)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err, "emulating %s; kernel log: %s", prog, log.String())
	return result{Stdout: out.String(), Stderr: errb.String(), Log: log.String(), Code: code,
		Kernel: k, Stats: stats.Snapshot()}
}

// Every vm program prints and exits the same on the emulator as on Linux.
func TestVMProgramsMatchNative(t *testing.T) {
	for _, tc := range []struct {
		prog string
		args []string
		code int
	}{
		{"vm_signals", nil, 0},
		{"vm_demand", nil, 0},
		{"vm_sparse", nil, 0},
		{"vm_cow", nil, 0},
		{"vm_cow", []string{"300", "child"}, 0},
		{"vm_shared", nil, 0},
		{"vm_mmap", nil, 0},
		{"vm_faults", nil, 0},
		{"vm_faults", []string{"null-read"}, 139},
		{"vm_faults", []string{"rodata-write"}, 139},
		{"vm_faults", []string{"exec-heap"}, 139},
		{"vm_faults", []string{"stack-overflow"}, 139},
		{"vm_stack", nil, 0},
		{"vm_exec", []string{"bin/vm_exec", "3", "a", "b"}, 0},
		{"vm_procs", nil, 0},
		{"vm_errno", nil, 0},
	} {
		t.Run(strings.Join(append([]string{tc.prog}, tc.args...), " "), func(t *testing.T) {
			r := sameAsNative(t, tc.prog, "hello input\n", tc.args...)
			assert.Equal(t, tc.code, r.Code)
			assertNoLeak(t, r)
		})
	}
}

// Files through the page cache: the program's output is the same, and so is what it left in
// the file (shared-mapping stores written back by msync and munmap).
func TestVMFileMatchesNative(t *testing.T) {
	nd, ed := t.TempDir(), t.TempDir()
	want := runNative(t, "vm_file", "", nd)
	got := runEmu(t, "vm_file", "", []string{ed})
	assert.Equal(t, want.Stdout, got.Stdout)
	assert.Equal(t, want.Code, got.Code, "emulator log: %s", got.Log)
	wf, err := os.ReadFile(filepath.Join(nd, "data"))
	require.NoError(t, err)
	gf, err := os.ReadFile(filepath.Join(ed, "data"))
	require.NoError(t, err)
	assert.Equal(t, string(wf), string(gf), "file contents after the run")
	assert.Contains(t, got.Log, "SIGBUS (BUS_ADRERR)")
	assertSharedPagesReachTheFile(t, got)
	assertNoLeak(t, got)
}

// An 8 GiB MAP_NORESERVE mapping costs only the 32 pages vm_sparse touches, plus the page
// tables that map them: far less than the 256 MiB machine has.
func TestSparseMappingCostsOnlyTouchedPages(t *testing.T) {
	var start uint64
	faults := 0
	r := runWatched(t, "vm_sparse", nil, func(e *minikernel.Event) {
		switch {
		case e.Kind == minikernel.EvSyscall && e.Name == "mmap":
			start = uint64(e.Ret)
		case e.Kind == minikernel.EvPageFault && start != 0 && e.Addr >= start && e.Addr < start+8<<30:
			assert.Equal(t, minikernel.FaultDemandZero, e.Outcome)
			faults++
		}
	})
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, 32, faults, "faults in the 8 GiB mapping: one per touched page")
	// Each touched page needs its own page table (they are 256 MiB apart) and a page
	// directory per GiB: about 32 + 8 tables, plus the program, its stack and the 16 pages
	// of its mincore vector.
	assert.Less(t, r.Stats.Frames.Peak, uint64(120), "frames at peak")
	assertNoLeak(t, r)
}

// The statistics agree with the program: in vm_cow's "child" mode the child writes N pages
// of the buffer it shares with its parent, so exactly N copy-on-write copies happen in the
// buffer, and the frame allocator counted every copy the fault handler made.
func TestCOWCopiesMatchPagesWritten(t *testing.T) {
	const n = 200
	buf, _ := symbol(t, "vm_cow", "buf")
	var copies, reuses int
	r := runWatched(t, "vm_cow", []string{"200", "child"}, func(e *minikernel.Event) {
		if e.Kind != minikernel.EvPageFault || e.Addr < buf || e.Addr >= buf+n*4096 {
			return
		}
		switch e.Outcome {
		case minikernel.FaultCOWCopy:
			copies++
		case minikernel.FaultCOWReuse:
			reuses++
		}
	})
	require.Equal(t, 0, r.Code, r.Log)
	s := r.Stats
	assert.Equal(t, n, copies, "copy-on-write copies in the buffer")
	assert.Zero(t, reuses, "the parent never writes the buffer after fork")
	assert.Equal(t, s.Faults[minikernel.FaultCOWCopy], s.Frames.Copied, "every COW copy copied one frame")
	assert.GreaterOrEqual(t, s.Faults[minikernel.FaultCOWCopy], uint64(n))
	assert.LessOrEqual(t, s.Faults[minikernel.FaultCOWCopy], uint64(n+3), "the buffer and a stack page or two")
	assert.Equal(t, uint64(1), s.Forks)
}

// Each way a program dies of SIGSEGV names its si_code on the kernel's log: no mapping at
// the address is SEGV_MAPERR, a mapping that forbids the access is SEGV_ACCERR.
func TestSegfaultsNameTheirSiCode(t *testing.T) {
	for _, tc := range []struct{ fault, code string }{
		{"null-read", "SEGV_MAPERR"},
		{"null-write", "SEGV_MAPERR"},
		{"text-write", "SEGV_ACCERR"},
		{"rodata-write", "SEGV_ACCERR"},
		{"exec-stack", "SEGV_ACCERR"},
		{"exec-heap", "SEGV_ACCERR"},
		{"exec-none", "SEGV_ACCERR"},
		{"hole", "SEGV_MAPERR"},
		{"unmapped-after-munmap", "SEGV_MAPERR"},
		{"readonly-after-mprotect", "SEGV_ACCERR"},
		{"stack-overflow", "SEGV_MAPERR"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			r := runEmu(t, "vm_faults", "", []string{tc.fault})
			assert.Equal(t, 139, r.Code)
			assert.Contains(t, r.Log, "killed by SIGSEGV ("+tc.code+")")
			assert.Equal(t, uint64(1), r.Stats.Faults[minikernel.FaultSIGSEGV])
			assertNoLeak(t, r)
		})
	}
}

// When RAM runs out, the faulting process is killed with SIGKILL and one "out of memory"
// line; its parent and the kernel carry on.
func TestOutOfMemoryKillsOnlyTheFaultingProcess(t *testing.T) {
	r := runEmu(t, "vm_limits", "", []string{"oom"}, func(c *minikernel.Config) { c.RAM = 32 << 20 })
	assert.Equal(t, "memory eater: killed by signal 9\nparent still runs and can fork: exited 0\n", r.Stdout)
	assert.Equal(t, 0, r.Code)
	assert.Contains(t, r.Log, "killed by SIGKILL: out of memory")
	assert.Equal(t, uint64(1), r.Stats.Faults[minikernel.FaultOOM])
	assert.Equal(t, uint64(1), r.Stats.OOMKills)
	assertNoLeak(t, r)
}

// A process alone that runs out of memory is killed with SIGKILL: exit code 137.
func TestOutOfMemoryExitCode(t *testing.T) {
	r := runEmu(t, "vm_touch", "", []string{"100000"}, func(c *minikernel.Config) { c.RAM = 16 << 20 })
	assert.Equal(t, 137, r.Code)
	assert.Contains(t, r.Log, "killed by SIGKILL: out of memory")
	assertNoLeak(t, r)
}

// The statistics agree with the program: vm_touch writes one byte to each of 1000 fresh
// pages twice over (unmapping them in between): 2000 demand-zero faults in its mappings,
// and the frames come back each time.
func TestDemandZeroFaultsMatchPagesTouched(t *testing.T) {
	var start uint64
	faults := 0
	r := runWatched(t, "vm_touch", []string{"1000", "2"}, func(e *minikernel.Event) {
		switch {
		case e.Kind == minikernel.EvSyscall && e.Name == "mmap":
			start = uint64(e.Ret)
		case e.Kind == minikernel.EvPageFault && start != 0 && e.Addr >= start && e.Addr < start+1000*4096:
			assert.Equal(t, minikernel.FaultDemandZero, e.Outcome)
			assert.Zero(t, e.Code&1, "not-present fault")
			faults++
		}
	})
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, 2000, faults)
	assert.GreaterOrEqual(t, r.Stats.Faults[minikernel.FaultDemandZero], uint64(2000))
	assert.Less(t, r.Stats.Frames.Peak, uint64(1100), "the first round's frames were reused by the second")
	assertNoLeak(t, r)
}

// A fork bomb meets the process limit (EAGAIN) and a runaway mmap meets the memory limit
// (ENOMEM) and then the end of the address space; the emulator survives both.
func TestHostLimitsStopRunawayPrograms(t *testing.T) {
	r := runEmu(t, "vm_limits", "", []string{"forkbomb"}, func(c *minikernel.Config) { c.MaxProcs = 64 })
	assert.Equal(t, "forked 63 children, then fork said EAGAIN\nkilled and reaped 63\n", r.Stdout)
	assertNoLeak(t, r)

	r = runEmu(t, "vm_limits", "", []string{"mmap"}, func(c *minikernel.Config) { c.RAM = 64 << 20 })
	// 64 MiB of RAM cannot back a 1 GiB private writable mapping; 2047 areas of 64 GiB fill
	// the 128 TiB address space (below the stack).
	assert.Equal(t, "1 GiB mappings: 0, then ENOMEM\n64 GiB MAP_NORESERVE mappings: 2047, then ENOMEM\n", r.Stdout)
	assertNoLeak(t, r)
}

// A static PIE (ET_DYN without an interpreter) runs, placed as Linux places it with
// randomization off: like an mmap of the whole image, just below mmap_base. (Linux puts its
// vDSO below the image afterwards, so the image's address is the same there.)
func TestStaticPIE(t *testing.T) {
	r := sameAsNative(t, "pie_hello", "", "a")
	k, err := minikernel.New(minikernel.Config{RAM: 16 << 20})
	require.NoError(t, err)
	defer k.Close()
	p, err := k.Spawn(binPath(t, "pie_hello"), []string{"pie_hello"}, nil)
	require.NoError(t, err)
	low := p.MM().VMAs()[0].Start
	main, _ := symbol(t, "pie_hello", "main")
	// The image spans 5 pages (0 to 0x5000 in the file's addresses). Linux 6.18 with
	// randomization off (gdb's starti, info proc mappings) maps it at 0x7ffff7ffa000 too.
	assert.Equal(t, uint64(0x7ffff7fff000-0x5000), low, "load bias")
	assert.Equal(t, uint64(0x7ffff7ffb000), low+main, "main")
	assertNoLeak(t, r)
}

// musl's malloc, realloc and free at many sizes: its heap grows with brk and mmap, large
// blocks are mmap'd and moved with mremap, freed groups go back with munmap and madvise.
func TestMuslMallocMatchesNative(t *testing.T) {
	got := runEmu(t, "musl_vm_malloc", "", nil)
	want := runNative(t, "musl_vm_malloc", "")
	assert.Equal(t, want.Stdout, got.Stdout)
	assert.Equal(t, want.Code, got.Code, got.Log)
	for _, call := range []string{"brk", "mmap", "munmap", "mremap"} {
		assert.NotZero(t, got.Stats.Syscalls[call], call)
	}
	assertNoLeak(t, got)
}
