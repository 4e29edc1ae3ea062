package testprogs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/reclaim"
)

// Memory pressure (the memory issue): page reclaim, swap, the replacement policies.

// memPressureOut is what mem_pressure prints on Linux for a machine of 16 MiB, and of 4 MiB
// (its second argument; recorded on the reference host, and the test also runs it natively
// where it can): checksums and verdicts only, the same on any machine that runs it
// correctly.
var memPressureOut = map[int]string{
	16: `anonymous 24 MiB: 0 bad words, checksum c53e514b9fc0c5a2
child: shared region read, a third rewritten: 0 bad words, checksum 5dc6ddd0c71cb982
parent: child exited 0; its writes are not in my copy: 0 bad words
file 16 MiB written through a shared mapping: 0 bad words
file read back: 0 bad words, checksum a2cdd6487a4166c3
`,
	4: `anonymous 6 MiB: 0 bad words, checksum 2d1e88d6aabf917c
child: shared region read, a third rewritten: 0 bad words, checksum a878657df1b8ffb7
parent: child exited 0; its writes are not in my copy: 0 bad words
file 4 MiB written through a shared mapping: 0 bad words
file read back: 0 bad words, checksum dbcfe334cd53e2b3
`,
}

func memPressure(c *minikernel.Config) { c.RAM = 16 << 20 }

// assertSwapEmpty requires that no swap slot is in use once every process has exited.
func assertSwapEmpty(t *testing.T, r result) {
	t.Helper()
	sw, ok := r.Kernel.Swap()
	require.True(t, ok, "the machine has swap")
	assert.Zero(t, sw.Used, "swap slots in use after every process exited")
	assert.Zero(t, sw.Cached, "swap-cache pages after every process exited")
	assert.Empty(t, r.Kernel.SwapSlots())
}

// mixWord is mem_pressure's pattern: the word at index i of the region filled with seed.
func mixWord(seed, i uint64) uint64 {
	x := seed + i
	x ^= x >> 31
	x *= 0x9e3779b97f4a7c15
	return x ^ x>>29
}

// A working set three times the RAM (24 MiB of anonymous memory shared copy-on-write
// across fork and partly rewritten by the child, then 16 MiB of a file written through a
// shared mapping) on a 16 MiB machine with 64 MiB of swap prints what Linux prints, under
// every policy; pages go to swap and come back (major faults), dirty file pages are written
// back to the file, and nothing leaks.
func TestMemoryPressureEveryPolicy(t *testing.T) {
	mib, policies := 16, reclaim.Names()
	if testing.Short() {
		// An emulated CPU under an emulated CPU is slow: a machine of 4 MiB, three times
		// its RAM all the same, and the default policy.
		mib, policies = 4, []string{reclaim.Default}
	}
	args := func(file string) []string { return []string{file, strconv.Itoa(mib)} }
	want := memPressureOut[mib]
	if canRunNative() {
		n := runHost(t, "musl_mem_pressure", "", args(filepath.Join(t.TempDir(), "native"))...)
		require.Equal(t, want, n.Stdout, "the native run")
	}
	for _, pol := range policies {
		t.Run(pol, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "mapped")
			r := runEmu(t, "musl_mem_pressure", "", args(file), func(c *minikernel.Config) {
				c.RAM, c.Swap, c.Reclaim = uint64(mib)<<20, 4*uint64(mib)<<20, pol
			})
			require.Equal(t, 0, r.Code, r.Log)
			assert.Equal(t, want, r.Stdout)
			rs := r.Stats.Reclaim
			frames := uint64(mib) << 8
			assert.Equal(t, pol, rs.Policy)
			assert.Greater(t, rs.SwapOuts, frames, "pages went to swap")
			assert.Greater(t, rs.SwapIns, frames, "and came back")
			assert.Greater(t, r.Stats.MajorFaults(), rs.SwapIns-1, "every swap-in is a major fault")
			assert.Equal(t, rs.SwapIns, r.Stats.Faults[minikernel.FaultSwapIn])
			assert.NotZero(t, rs.WrittenBack, "dirty shared file pages were written back when reclaimed")
			assert.NotZero(t, rs.Dropped, "clean file pages were dropped (and read again when needed)")
			assert.NotZero(t, rs.Scanned)
			assert.LessOrEqual(t, r.Stats.Frames.Peak, frames, "never more frames than RAM")
			assertNoLeak(t, r)
			assertSwapEmpty(t, r)
			// What the file holds on the host: every word the program stored.
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			require.Len(t, b, mib<<20)
			bad := 0
			for i := 0; i < len(b); i += 8 {
				if binary.LittleEndian.Uint64(b[i:]) != mixWord(3, uint64(i/8)) {
					bad++
				}
			}
			assert.Zero(t, bad, "words of the host file that differ from what the program stored")
		})
	}
}

// Without swap, Linux's heuristic overcommit refuses a 24 MiB private mapping on a 16 MiB
// machine; with too little swap the mapping is admitted and the OOM killer ends the process
// that runs out (the child), while the parent and emu go on.
func TestMemoryPressureWithoutEnoughSwap(t *testing.T) {
	r := runEmu(t, "musl_mem_pressure", "", []string{filepath.Join(t.TempDir(), "f")}, memPressure)
	assert.Equal(t, 1, r.Code)
	assert.Equal(t, "mmap of 24 MiB of anonymous memory: Out of memory\n", r.Stdout)
	assertNoLeak(t, r)
	if testing.Short() {
		return // the OOM killer's choice by badness is also TestOOMKillerPicksTheHighestBadness's
	}

	r = runEmu(t, "musl_mem_pressure", "", []string{filepath.Join(t.TempDir(), "f")}, memPressure,
		func(c *minikernel.Config) { c.Swap = 12 << 20 })
	assert.Equal(t, 0, r.Code, r.Log)
	assert.Contains(t, r.Stdout, "parent: child exited 137; its writes are not in my copy: 0 bad words\n")
	assert.Contains(t, r.Stdout, "file read back: 0 bad words")
	assert.Regexp(t, `emu: pid 3 killed by SIGKILL: out of memory: no physical frame for address 0x[0-9a-f]+ \(RAM 16 MiB, \d+ frames in use; swap 12 MiB, 3071 of 3071 slots in use\)`, r.Log)
	assert.Equal(t, uint64(1), r.Stats.Reclaim.OOMKills)
	assert.Equal(t, uint64(1), r.Stats.OOMKills)
	assertNoLeak(t, r)
	assertSwapEmpty(t, r)
}

var faultLine = regexp.MustCompile(`(?m)^page faults: (\d+) \(major (\d+)\)$`)

// faultsOf reads the "page faults: N (major M)" line of belady or hotset.
func faultsOf(t *testing.T, r result) (total, major int) {
	t.Helper()
	m := faultLine.FindStringSubmatch(r.Stdout)
	require.NotNil(t, m, "output: %s log: %s", r.Stdout, r.Log)
	total, _ = strconv.Atoi(m[1])
	major, _ = strconv.Atoi(m[2])
	return total, major
}

// limited runs prog with policy and at most frames resident pages, over a small swap.
func limited(t *testing.T, prog, policy string, frames uint64, noFlush bool) result {
	t.Helper()
	r := runEmu(t, prog, "", nil, func(c *minikernel.Config) {
		c.RAM, c.Swap, c.Reclaim, c.ResidentLimit, c.ReclaimNoFlush = 64<<20, 4<<20, policy, frames, noFlush
	})
	require.Equal(t, 0, r.Code, r.Log)
	assertNoLeak(t, r)
	assertSwapEmpty(t, r)
	return r
}

// Belady's anomaly: FIFO on the reference string 1 2 3 4 1 2 5 1 2 3 4 5 takes 9 faults with
// 3 frames and 10 with 4. Clock behaves like FIFO here (every page is referenced when loaded
// and not again before the hand comes back); lru, which wants a page referenced twice before
// it counts as used, takes 10 either way. With room for all five pages, each faults once, as
// on Linux.
func TestBeladyAnomaly(t *testing.T) {
	for _, tc := range []struct {
		policy      string
		three, four int
	}{{"fifo", 9, 10}, {"clock", 9, 10}, {"lru", 10, 10}} {
		t.Run(tc.policy, func(t *testing.T) {
			f3, m3 := faultsOf(t, limited(t, "musl_belady", tc.policy, 3, false))
			f4, m4 := faultsOf(t, limited(t, "musl_belady", tc.policy, 4, false))
			assert.Equal(t, []int{tc.three, tc.four}, []int{f3, f4}, "faults with 3 and 4 frames")
			assert.Equal(t, []int{f3 - 5, f4 - 5}, []int{m3, m4}, "all but the five first touches are major (swap-ins)")
		})
	}
	r := runEmu(t, "musl_belady", "", nil, func(c *minikernel.Config) { c.RAM = 64 << 20 })
	assert.Equal(t, "reference string: 1 2 3 4 1 2 5 1 2 3 4 5\npage faults: 5 (major 0)\n", r.Stdout)
}

// Pages locked in memory are never reclaimed: once belady has called mlockall, its locked
// pages (text, data, stack) are taken off the policy's lists (culled), and every page that
// reclaim takes after that is one of the five pages of the reference string, mapped after
// the lock. Before the lock, with three frames, startup pages do come and go.
func TestLockedPagesAreNeverReclaimed(t *testing.T) {
	var culled bool
	var before, after int
	taken := map[uint64]bool{}
	r := runWatched(t, "musl_belady", nil, func(e *minikernel.Event) {
		if e.Kind != minikernel.EvReclaim {
			return
		}
		switch e.Reclaim {
		case minikernel.ReclaimCull:
			culled = true
		case minikernel.ReclaimSwapOut, minikernel.ReclaimEvict:
			if !culled {
				before++
				return
			}
			after++
			text := string(describe.AppendEventText(nil, e, false))
			assert.Contains(t, text, "[anon]", "a page taken after mlockall: %s", text)
			taken[e.Addr] = true
		}
	}, func(c *minikernel.Config) { c.Swap, c.Reclaim, c.ResidentLimit = 1<<20, "fifo", 3 })
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, "reference string: 1 2 3 4 1 2 5 1 2 3 4 5\npage faults: 9 (major 4)\n", r.Stdout)
	assert.NotZero(t, r.Stats.Reclaim.Culled, "locked pages were culled")
	assert.NotZero(t, before, "startup pages were reclaimed before the lock")
	assert.Equal(t, 6, after, "9 faults on 5 pages in 3 frames: 6 pages taken after the lock")
	lo, hi := ^uint64(0), uint64(0)
	for a := range taken {
		lo, hi = min(lo, a), max(hi, a)
	}
	assert.LessOrEqual(t, len(taken), 5, "%v", taken)
	assert.Less(t, hi-lo, uint64(6*4096), "pages of the reference mapping only: %v", taken)
	assertNoLeak(t, r)
	assertSwapEmpty(t, r)
}

// A hot set of 32 pages and a cold stream in 48 frames: clock and lru keep the hot set and
// fault about once per cold touch; FIFO evicts hot pages in turn and faults far more.
func TestHotSetClockBeatsFIFO(t *testing.T) {
	faults := map[string]int{}
	for _, pol := range reclaim.Names() {
		faults[pol], _ = faultsOf(t, limited(t, "musl_hotset", pol, 48, false))
	}
	// 544 first touches (32 hot pages, 512 cold) and 512 cold pages touched again after
	// eviction are unavoidable: 1056.
	assert.LessOrEqual(t, faults["clock"], 1056+64, "%v", faults)
	assert.LessOrEqual(t, faults["lru"], 1056+64, "%v", faults)
	assert.Greater(t, faults["fifo"], 2*faults["clock"], "%v", faults)
	assert.Greater(t, faults["random"], faults["clock"], "%v", faults)
}

// The teaching switch: clearing A bits without invalidating the TLB. The hot pages stay in
// the TLB, so the processor never sets their A bits again; clock then sees every page as
// unused and degenerates to FIFO, fault for fault.
func TestStaleAccessedBitsMakeClockFIFO(t *testing.T) {
	fifo, _ := faultsOf(t, limited(t, "musl_hotset", "fifo", 48, false))
	clock, _ := faultsOf(t, limited(t, "musl_hotset", "clock", 48, false))
	stale, _ := faultsOf(t, limited(t, "musl_hotset", "clock", 48, true))
	assert.Greater(t, stale, 2*clock, "stale TLB entries hide the use of hot pages")
	assert.Equal(t, fifo, stale)
}

// Pages shared copy-on-write by a parent and its child go to swap once each, every PTE that
// mapped them becoming a swap entry (the reverse map finds both); the child reads them back
// and they stay in the swap cache, where the parent's faults find them (minor faults).
func TestSharedPagesAreSwappedOnce(t *testing.T) {
	type out struct {
		addr   uint64
		mapped int
	}
	var outs []out
	cached := map[int]int{}
	r := runWatched(t, "musl_swap_cow", nil, func(e *minikernel.Event) {
		switch {
		case e.Kind == minikernel.EvReclaim && e.Reclaim == minikernel.ReclaimSwapOut:
			outs = append(outs, out{e.Addr, e.Mapped})
		case e.Kind == minikernel.EvPageFault && e.Outcome == minikernel.FaultSwapCached:
			cached[e.PID]++
		}
	}, func(c *minikernel.Config) { c.Swap, c.Reclaim, c.ResidentLimit = 1<<20, "fifo", 24 })
	want := runNative(t, "musl_swap_cow", "")
	assert.Equal(t, want.Stdout, r.Stdout)
	require.Equal(t, 0, r.Code, r.Log)
	shared := map[uint64]int{}
	for _, o := range outs {
		if o.mapped == 2 {
			shared[o.addr]++
		}
	}
	assert.Len(t, shared, 16, "each of the 16 shared pages went to swap while both processes mapped it")
	for addr, n := range shared {
		assert.Equal(t, 1, n, "page %#x was written to swap %d times", addr, n)
	}
	assert.NotZero(t, cached[2], "the parent found pages in the swap cache: %v", cached)
	assert.Equal(t, r.Stats.Reclaim.SwapCacheHits, r.Stats.Faults[minikernel.FaultSwapCached])
	assertNoLeak(t, r)
	assertSwapEmpty(t, r)
}

// Two threads of one process on two CPUs under a resident limit: clearing accessed bits and
// taking pages must reach the other CPU's TLB (shootdowns), or a thread would keep writing
// to a frame already given to another page. Each thread checks every word it reads back;
// with --tlb noshootdown's skipped interrupts the other CPU's stale entries are the bug the
// teaching switch shows.
func TestReclaimWithSeveralCPUs(t *testing.T) {
	for _, pol := range []string{"clock", "lru"} {
		t.Run(pol, func(t *testing.T) {
			why := map[string]int{}
			r := runWatched(t, "musl_swap_threads", nil, func(e *minikernel.Event) {
				if e.Kind == minikernel.EvShootdown {
					why[e.Text]++
				}
			}, func(c *minikernel.Config) {
				c.CPUs, c.Swap, c.Reclaim, c.ResidentLimit = 2, 4<<20, pol, 40
			})
			want := runNative(t, "musl_swap_threads", "")
			assert.Equal(t, want.Stdout, r.Stdout)
			require.Equal(t, 0, r.Code, r.Log)
			assert.NotZero(t, r.Stats.Reclaim.SwapOuts)
			assert.NotZero(t, why["clear accessed bits"], "A bits cleared while the other CPU ran the address space: %v", why)
			assert.NotZero(t, why["reclaim"], "pages taken while the other CPU ran the address space: %v", why)
			assertNoLeak(t, r)
			assertSwapEmpty(t, r)
		})
	}
}

// Shared memory (MAP_SHARED|MAP_ANONYMOUS, memfd) larger than RAM goes to swap and comes back
// as Linux's shmem does: through a fault, read() or the object being shrunk.
func TestSharedMemoryGoesToSwap(t *testing.T) {
	want := runNative(t, "musl_shm_pressure", "")
	r := runEmu(t, "musl_shm_pressure", "", nil, memPressure, func(c *minikernel.Config) { c.Swap = 64 << 20 })
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, want.Stdout, r.Stdout)
	assert.Greater(t, r.Stats.Reclaim.SwapOuts, uint64(2048))
	assert.Greater(t, r.Stats.Faults[minikernel.FaultSwapIn], uint64(2048))
	assertNoLeak(t, r)
	assertSwapEmpty(t, r)

	// Without swap, the 24 MiB shared mapping is refused, as Linux accounts shared memory.
	r = runEmu(t, "musl_shm_pressure", "", nil, memPressure)
	assert.Equal(t, "mmap of 24 MiB of shared memory: Out of memory\n", r.Stdout)
	assertNoLeak(t, r)
}

// A program reads its own /proc/self/pagemap: the pages reclaim took show as swapped (bit
// 62) with swap type 0 and the slot's offset, the others present; natively, with no
// pressure, all are present.
func TestPagemapShowsSwappedPages(t *testing.T) {
	var present strings.Builder
	for i := 0; i < 8; i++ {
		fmt.Fprintf(&present, "page %d: present\n", i)
	}
	if canRunNative() {
		assert.Equal(t, present.String(), runHost(t, "musl_pagemap_swap", "").Stdout)
	}
	r := limited(t, "musl_pagemap_swap", "fifo", 3, false)
	assert.Equal(t, "page 0: swapped, type 0, offset 1\npage 1: swapped, type 0, offset 2\n"+
		"page 2: swapped, type 0, offset 3\npage 3: swapped, type 0, offset 4\npage 4: swapped, type 0, offset 5\n"+
		"page 5: present\npage 6: present\npage 7: present\n", r.Stdout)
	r = runEmu(t, "musl_pagemap_swap", "", nil, func(c *minikernel.Config) { c.RAM = 64 << 20 })
	assert.Equal(t, present.String(), r.Stdout)
}

// The OOM killer picks by badness: when the child's faults find no frame (16 MiB, no swap),
// the parent, holding 10 MiB, is the one ended; the child goes on, and the kernel says why
// it chose. With room for both, nobody is killed, as natively.
func TestOOMKillerPicksTheHighestBadness(t *testing.T) {
	want := "child: filled 12 MiB\nparent: child exited 0\n"
	if canRunNative() {
		assert.Equal(t, want, runHost(t, "musl_oom_pick", "").Stdout)
	}
	assert.Equal(t, want, runEmu(t, "musl_oom_pick", "", nil).Stdout)
	r := runEmu(t, "musl_oom_pick", "", nil, memPressure)
	assert.Equal(t, 128+minikernel.SIGKILL, r.Code, "the first program, the parent, was killed")
	assert.Equal(t, "child: filled 12 MiB\n", r.Stdout)
	assert.Regexp(t, `emu: pid 2 killed by SIGKILL: out of memory: pid 3 found no physical frame for address 0x[0-9a-f]+ \(RAM 16 MiB\); `+
		`the OOM killer chose pid 2 \(bin/musl_oom_pick\): badness \d+, the highest \(resident \d+ pages, swapped 0, page tables \d+, oom_score_adj 0\)`, r.Log)
	assert.Equal(t, uint64(1), r.Stats.Reclaim.OOMKills)
	assertNoLeak(t, r)
}

// oom_score_adj steers the OOM killer as on Linux: the child raises its own to 1000 (the
// file refuses 1001 and words), its oom_score climbs above 1000, and on a 16 MiB machine it
// is the child, not the parent holding more memory, that the OOM killer ends.
func TestOOMScoreAdjChoosesTheVictim(t *testing.T) {
	child := "child: oom_score from 500 to 1000: yes\n" +
		"child: oom_score_adj 1001: Invalid argument\n" +
		"child: oom_score_adj ten: Invalid argument\n" +
		"child: oom_score_adj reads 1000\n" +
		"child: oom_score now from 1000 to 2000: yes\n"
	roomy := child + "child: filled 12 MiB\nparent: child exited 0\n"
	if canRunNative() {
		assert.Equal(t, roomy, runHost(t, "musl_oom_pick", "", "adj").Stdout)
	}
	assert.Equal(t, roomy, runEmu(t, "musl_oom_pick", "", []string{"adj"}).Stdout)
	r := runEmu(t, "musl_oom_pick", "", []string{"adj"}, memPressure)
	assert.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, child+"parent: child exited 137\n", r.Stdout)
	assert.Regexp(t, `emu: pid 3 killed by SIGKILL: out of memory: no physical frame for address 0x[0-9a-f]+ \(RAM 16 MiB, \d+ frames in use\); `+
		`the OOM killer chose it: badness \d+, the highest \(oom_score_adj 1000\)`, r.Log)
	assert.Equal(t, uint64(1), r.Stats.Reclaim.OOMKills)
	assertNoLeak(t, r)
}

// reclaimRun runs prog with cfgs and returns its reclaim, fault and shootdown events as the
// trace prints them (with the CPU's number when cpus), with the run.
func reclaimRun(t *testing.T, prog string, args []string, cpus bool, cfgs ...emuConfig) ([]byte, result) {
	t.Helper()
	var trace []byte
	r := runWatched(t, prog, args, func(e *minikernel.Event) {
		switch e.Kind {
		case minikernel.EvReclaim, minikernel.EvPageFault, minikernel.EvShootdown:
			trace = append(describe.AppendEventText(trace, e, cpus), '\n')
		}
	}, cfgs...)
	require.Equal(t, 0, r.Code, r.Log)
	return trace, r
}

// sameTrace requires two traces to be byte-identical, naming the first line that differs.
func sameTrace(t *testing.T, a, b []byte, what string) {
	t.Helper()
	if bytes.Equal(a, b) {
		return
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	t.Errorf("%s: the traces differ from line %d", what, bytes.Count(a[:i], []byte("\n"))+1)
}

// Reclaim happens at fixed points of the instruction stream: the same program under the
// same flags evicts the same pages to the same slots, with the same faults, shootdowns and
// counts, on every run (kswapd's passes, direct reclaim, the random policy's choices and
// the threads' interleaving on two CPUs included). A program whose processes or threads
// do not run at once (a single thread; a parent waiting for its child) sees the same
// reclaim and faults on one CPU as on several: kswapd runs at a time of the guest's clock,
// not at the end of a CPU's turn.
func TestReclaimIsDeterministic(t *testing.T) {
	type run struct {
		name string
		prog string
		args []string
		cpus []int // the first is run twice and compared in full; the others must agree
		cfg  emuConfig
	}
	runs := []run{
		{"threads", "musl_swap_threads", nil, []int{2}, func(c *minikernel.Config) {
			c.Swap, c.Reclaim, c.ResidentLimit = 4<<20, "clock", 40
		}},
		{"hotset-limit", "musl_hotset", nil, []int{1, 4}, func(c *minikernel.Config) {
			c.Swap, c.Reclaim, c.ResidentLimit = 4<<20, "clock", 48
		}},
		{"hotset-watermarks", "musl_hotset", nil, []int{1, 4}, func(c *minikernel.Config) {
			c.RAM, c.Swap = 2<<20, 4<<20
		}},
	}
	if !testing.Short() {
		runs = append(runs,
			run{"pressure-lru", "musl_mem_pressure", []string{"4"}, []int{1, 2}, func(c *minikernel.Config) {
				c.RAM, c.Swap, c.Reclaim = 4<<20, 16<<20, "lru"
			}},
			run{"pressure-random", "musl_mem_pressure", []string{"4"}, []int{2}, func(c *minikernel.Config) {
				c.RAM, c.Swap, c.Reclaim = 4<<20, 16<<20, "random"
			}})
	}
	for _, tc := range runs {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if len(args) > 0 { // the file's name is in the trace: the same for every run
				args = append([]string{filepath.Join(t.TempDir(), "f")}, args...)
			}
			once := func(cpus int, withCPU bool) ([]byte, minikernel.Stats) {
				tr, r := reclaimRun(t, tc.prog, args, withCPU, tc.cfg, func(c *minikernel.Config) { c.CPUs = cpus })
				return tr, r.Stats
			}
			a, sa := once(tc.cpus[0], true)
			b, sb := once(tc.cpus[0], true)
			require.NotZero(t, sa.Reclaim.SwapOuts, "pages went to swap")
			require.Greater(t, bytes.Count(a, []byte("swap-out")), 100)
			sameTrace(t, a, b, fmt.Sprintf("two runs on %d CPUs", tc.cpus[0]))
			assert.Equal(t, sa, sb, "the counts of two runs")
			if len(tc.cpus) == 1 {
				return
			}
			notShootdown := func(tr []byte) []byte { // an idle CPU may hold the tables lazily
				var out []byte
				for _, l := range bytes.SplitAfter(tr, []byte("\n")) {
					if !bytes.Contains(l, []byte(" shootdown ")) {
						out = append(out, l...)
					}
				}
				return out
			}
			a, sa = once(tc.cpus[0], false)
			for _, n := range tc.cpus[1:] {
				b, sb := once(n, false)
				sameTrace(t, notShootdown(a), notShootdown(b), fmt.Sprintf("%d and %d CPUs", tc.cpus[0], n))
				assert.Equal(t, sa.Instructions, sb.Instructions)
				assert.Equal(t, sa.Faults, sb.Faults)
				assert.Equal(t, sa.Reclaim, sb.Reclaim)
			}
		})
	}
}

// A debugger that steps the machine a few instructions at a time (emu debug's step N, gdb's
// stepi) sees the same reclaim as a run does: kswapd does not run at the end of each step.
func TestReclaimTheSameWhenStepped(t *testing.T) {
	cfg := func(c *minikernel.Config) { c.RAM, c.Swap = 2<<20, 4<<20 }
	trace, r := reclaimRun(t, "musl_hotset", nil, false, cfg)
	require.NotZero(t, r.Stats.Reclaim.KswapdRuns, "kswapd ran")

	var out bytes.Buffer
	c := minikernel.Config{Stdout: &out, Log: io.Discard}
	cfg(&c)
	k, err := minikernel.New(c)
	require.NoError(t, err)
	defer k.Close()
	stats := k.CollectStats()
	var stepped []byte
	k.Subscribe(func(e *minikernel.Event) {
		switch e.Kind {
		case minikernel.EvReclaim, minikernel.EvPageFault, minikernel.EvShootdown:
			stepped = append(describe.AppendEventText(stepped, e, false), '\n')
		}
	})
	_, err = k.Spawn(binPath(t, "musl_hotset"), []string{"musl_hotset"}, env)
	require.NoError(t, err)
	for k.Live() {
		require.NoError(t, k.Step(7))
	}
	assert.Equal(t, r.Stdout, out.String())
	sameTrace(t, trace, stepped, "a run and steps of 7 instructions")
	s := stats.Snapshot()
	assert.Equal(t, r.Stats.Reclaim, s.Reclaim)
	assert.Equal(t, r.Stats.Faults, s.Faults)
}

// Under memory pressure a debugger's forecast of a page fault (PredictFault, what `break
// fault` shows before the kernel acts) is what the kernel then does, fault for fault, with
// kswapd taking pages in between: it runs before a trap is shown, never between the
// forecast and the handling.
func TestFaultForecastHoldsUnderPressure(t *testing.T) {
	prog, args, cfg := "musl_hotset", []string(nil), func(c *minikernel.Config) { c.RAM, c.Swap = 2<<20, 4<<20 }
	if !testing.Short() {
		prog, args = "musl_mem_pressure", []string{filepath.Join(t.TempDir(), "f"), "4"}
		cfg = func(c *minikernel.Config) { c.RAM, c.Swap = 4<<20, 16<<20 }
	}
	var out bytes.Buffer
	c := minikernel.Config{Stdout: &out, Log: io.Discard}
	cfg(&c)
	k, err := minikernel.New(c)
	require.NoError(t, err)
	defer k.Close()
	stats := k.CollectStats()
	var got []minikernel.FaultOutcome
	k.Subscribe(func(e *minikernel.Event) {
		if e.Kind == minikernel.EvPageFault && !e.Kernel {
			got = append(got, e.Outcome)
		}
	})
	_, err = k.Spawn(binPath(t, prog), append([]string{prog}, args...), env)
	require.NoError(t, err)
	var predicted []minikernel.FaultOutcome
	for k.Live() {
		pt, err := k.RunToTrap(997)
		require.NoError(t, err)
		if pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF {
			o, _ := k.PredictFault(pt)
			predicted = append(predicted, o)
		}
		require.NoError(t, k.HandleTrap(pt))
	}
	s := stats.Snapshot()
	require.NotZero(t, s.Reclaim.KswapdRuns)
	require.NotZero(t, s.Faults[minikernel.FaultSwapIn])
	if len(got) != len(predicted) {
		t.Fatalf("%d faults forecast, %d handled", len(predicted), len(got))
	}
	for i := range got {
		if got[i] != predicted[i] {
			t.Fatalf("fault %d: forecast %v, handled as %v", i, predicted[i], got[i])
		}
	}
}

// readmeTable returns the rows of the first table after the line of README.md's "Memory
// pressure" section that starts with intro: each row's policy (its first `quoted` word, ""
// for a row that names none) and its numbers.
func readmeTable(t *testing.T, intro string) (policies []string, rows [][]int) {
	t.Helper()
	raw, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	s := string(raw)
	i := strings.Index(s, "\n## Memory pressure\n")
	require.GreaterOrEqual(t, i, 0, "README has a Memory pressure section")
	j := strings.Index(s[i:], "\n"+intro)
	require.GreaterOrEqual(t, j, 0, "the section has a paragraph starting %q", intro)
	lines := strings.Split(s[i+j+1:], "\n")
	k := 0
	for k < len(lines) && !strings.HasPrefix(lines[k], "|") {
		k++
	}
	for k += 2; k < len(lines) && strings.HasPrefix(lines[k], "|"); k++ { // past the header
		cells := strings.Split(strings.Trim(lines[k], "|"), "|")
		name := regexp.MustCompile("`([^`]*)`").FindStringSubmatch(cells[0])
		policy := ""
		if name != nil {
			policy = name[1]
		}
		var nums []int
		for _, c := range cells[1:] {
			n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(c), "*"))
			require.NoError(t, err, "README row %q", lines[k])
			nums = append(nums, n)
		}
		policies, rows = append(policies, policy), append(rows, nums)
	}
	require.NotEmpty(t, rows, "a table after %q", intro)
	return policies, rows
}

// The README's tables of belady's and hotset's page faults are what the programs print,
// policy by policy (the optimal row is reclaim/policy_test.go's).
func TestREADMEReclaimFigures(t *testing.T) {
	policies, rows := readmeTable(t, "`belady` plays Belady's reference string")
	require.Len(t, policies, len(reclaim.Names())+1, "every policy, and the optimal")
	for i, pol := range policies {
		if pol == "" {
			continue // the optimal: no policy
		}
		for j, frames := range []uint64{3, 4, 5} {
			got, _ := faultsOf(t, limited(t, "musl_belady", pol, frames, false))
			assert.Equal(t, rows[i][j], got, "belady under %s with %d frames", pol, frames)
		}
	}
	policies, rows = readmeTable(t, "`hotset` loops 1024 times")
	require.Len(t, policies, len(reclaim.Names())+1, "every policy, and clock without flushes")
	for i, pol := range policies {
		name, noFlush := strings.CutSuffix(pol, ",noflush")
		got, major := faultsOf(t, limited(t, "musl_hotset", name, 48, noFlush))
		assert.Equal(t, rows[i], []int{got, major}, "hotset under %s", pol)
	}
}
