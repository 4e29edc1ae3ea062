package minikernel

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
	"github.com/vmemu/vmemu/tlb"
)

// newMachine spawns prog on a fresh 64 MiB machine without running it.
func newMachine(t *testing.T, cfg Config, prog string, args ...string) (*Kernel, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	if cfg.RAM == 0 {
		cfg.RAM = 64 << 20
	}
	cfg.Stdout = &out
	k, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	_, err = k.Spawn(progs+prog, append([]string{prog}, args...), []string{"HOME=/"})
	require.NoError(t, err)
	return k, &out
}

// inspectProgs are the test programs the inspection tests run: one process or several,
// demand-zero, file pages, COW, shared mappings, stack growth, exec, a SIGSEGV.
var inspectProgs = []string{"hello", "bss_sum", "touch_unowned", "dbg_cow", "dbg_exec", "vm_cow",
	"vm_demand", "vm_shared", "vm_sparse", "vm_stack", "vm_procs", "vm_spurious", "pie_hello"}

// stepAll runs k to the end with RunToTrap and HandleTrap, calling at (if not nil) with
// every trap before it is handled.
func stepAll(t *testing.T, k *Kernel, budget uint64, at func(PendingTrap)) {
	t.Helper()
	for n := 0; k.Live(); n++ {
		require.Less(t, n, 10_000_000, "runaway")
		pt, err := k.RunToTrap(budget)
		require.NoError(t, err)
		if at != nil {
			at(pt)
		}
		require.NoError(t, k.HandleTrap(pt))
	}
}

// RunToTrap followed by HandleTrap is Step: the same output, instruction count and events
// as Run, one trap at a time, with several processes scheduled alike.
func TestTwoPhaseStepIsStep(t *testing.T) {
	for _, prog := range inspectProgs {
		t.Run(prog, func(t *testing.T) {
			want := runProg(t, prog)
			require.NoError(t, want.err)

			k, out := newMachine(t, Config{}, prog)
			var events []Event
			k.Subscribe(func(e *Event) {
				c := *e
				c.VMA = nil
				events = append(events, c)
			})
			init := k.Current()
			traps := 0
			stepAll(t, k, 1_000_000, func(pt PendingTrap) {
				if pt.Kind != cpu.TrapBudget {
					traps++
				}
			})
			assert.Equal(t, want.out.String(), out.String())
			assert.Equal(t, want.k.CPU().Instructions(), k.CPU().Instructions())
			// runProg subscribed before Spawn: skip the events of the exec itself.
			i := 0
			for i < len(want.events) && want.events[i].Kind != EvExec {
				i++
			}
			wantEv := want.events[i+1:]
			require.Equal(t, len(wantEv), len(events))
			for j := range events {
				require.Equal(t, fmt.Sprint(wantEv[j]), fmt.Sprint(events[j]), "event %d", j)
			}
			assert.Equal(t, want.code, ExitCode(init.WaitStatus()))
			assert.Greater(t, traps, 2)
		})
	}
}

// Single-stepping (a budget of one instruction, as the debugger's watchpoints do) schedules
// the processes exactly as Run does: the same events in the same order.
func TestSingleSteppingSchedulesAsRun(t *testing.T) {
	for _, prog := range []string{"dbg_cow", "vm_procs"} {
		t.Run(prog, func(t *testing.T) {
			want := runProg(t, prog)
			require.NoError(t, want.err)
			k, out := newMachine(t, Config{}, prog)
			var events []string
			k.Subscribe(func(e *Event) {
				c := *e
				c.VMA = nil
				events = append(events, fmt.Sprint(c))
			})
			stepAll(t, k, 1, nil)
			assert.Equal(t, want.out.String(), out.String())
			i := 0
			for i < len(want.events) && want.events[i].Kind != EvExec {
				i++
			}
			var wantEv []string
			for _, e := range want.events[i+1:] {
				wantEv = append(wantEv, fmt.Sprint(e))
			}
			assert.Equal(t, wantEv, events)
		})
	}
}

// A trap can be handled once, and only while nothing has run since it was raised.
func TestHandleTrapRefusesATrapThatIsNotPending(t *testing.T) {
	k, _ := newMachine(t, Config{}, "hello")
	pt, err := k.RunToTrap(1_000_000)
	require.NoError(t, err)
	require.Equal(t, cpu.TrapException, pt.Kind, "the first instruction fetch faults")
	require.NoError(t, k.HandleTrap(pt))
	assert.Error(t, k.HandleTrap(pt), "handled twice")
	assert.Error(t, k.HandleTrap(PendingTrap{}), "never raised")
	pt2, err := k.RunToTrap(1)
	require.NoError(t, err)
	_, err = k.RunToTrap(1)
	require.NoError(t, err)
	assert.Error(t, k.HandleTrap(pt2), "instructions ran since")
}

// PredictFault, asked before the handler runs, names the outcome the handler then reports,
// for every page fault of every test program; and both agree with an oracle that knows
// nothing of how the kernel classifies faults (faultByEffect): what the handler changed in
// the page tables, the VMAs and the frames, judged by the rules of DESIGN.md's fault flow.
func TestPredictFaultAgreesWithHandler(t *testing.T) {
	for _, prog := range inspectProgs {
		t.Run(prog, func(t *testing.T) {
			k, _ := newMachine(t, Config{}, prog)
			var got []FaultOutcome
			k.Subscribe(func(e *Event) {
				if e.Kind == EvPageFault && !e.Kernel {
					got = append(got, e.Outcome)
				}
			})
			var predicted, observed []FaultOutcome
			for n := 0; k.Live(); n++ {
				require.Less(t, n, 10_000_000, "runaway")
				pt, err := k.RunToTrap(1_000_000)
				require.NoError(t, err)
				if pt.Kind != cpu.TrapException || pt.Vector != cpu.VecPF {
					require.NoError(t, k.HandleTrap(pt))
					continue
				}
				o, v := k.PredictFault(pt)
				predicted = append(predicted, o)
				if o != FaultSIGSEGV {
					assert.NotNil(t, v, "a resolvable fault has a VMA")
				}
				before := snapshotFault(k, pt)
				require.NoError(t, k.HandleTrap(pt))
				observed = append(observed, faultByEffect(k, pt, before))
			}
			require.NotEmpty(t, predicted)
			assert.Equal(t, got, predicted)
			assert.Equal(t, observed, got, "the outcomes the handler reports are what it did")
		})
	}
}

// isShm reports the object behind MAP_SHARED|MAP_ANONYMOUS memory (no file to read).
func isShm(o Object) bool {
	f, ok := o.(*File)
	return ok && f.kind == fileShm
}

// faultState is what an observer sees of a faulting page before the handler runs.
type faultState struct {
	mm     *MM
	vma    *VMA // the VMA covering the address, nil if none
	leaf   mmu.PTE
	frames map[uint64]bool // the frames in use (page cache or a mapping), for a file fault
}

func snapshotFault(k *Kernel, pt PendingTrap) faultState {
	p := k.Process(pt.PID)
	s := faultState{mm: p.MM(), frames: map[uint64]bool{}}
	for _, v := range s.mm.VMAs() {
		if v.Start <= pt.Addr && pt.Addr < v.End {
			s.vma = v
		}
	}
	if lv := k.TableWalk(s.mm, pt.Addr); len(lv) > 0 {
		s.leaf = lv[len(lv)-1].Entry
	}
	if s.vma != nil && s.vma.Obj != nil && s.leaf&mmu.PTEPresent == 0 { // only a file fault asks
		for f := range k.FrameMap() {
			s.frames[f] = true
		}
	}
	return s
}

// faultByEffect classifies a handled page fault by what changed: no usable entry after
// it means a signal; a VMA that appeared under the address is stack growth; an entry that
// already allowed the access, or a frame kept as it was (made writable in a shared
// mapping, or restored after PROT_NONE), is spurious; a write that kept the frame of a
// private mapping reused it; one that changed it copied it; a new entry is demand-zero in
// anonymous memory (shared or not), and for a file a page read (a frame new to the
// machine) or found in the page cache (one already in use).
func faultByEffect(k *Kernel, pt PendingTrap, b faultState) FaultOutcome {
	write, fetch := pt.Code&2 != 0, pt.Code&16 != 0
	allows := func(e mmu.PTE) bool {
		return e&mmu.PTEPresent != 0 && (!write || e&mmu.PTEWrite != 0) && (!fetch || e&mmu.PTENoExec == 0)
	}
	var after mmu.PTE
	if lv := k.TableWalk(b.mm, pt.Addr); len(lv) > 0 {
		after = lv[len(lv)-1].Entry
	}
	switch {
	case !allows(after):
		if b.vma != nil && b.vma.Obj != nil && b.vma.Prot&ProtRead != 0 && !write {
			return FaultSIGBUS // a readable file page that could not be mapped: beyond the end
		}
		return FaultSIGSEGV
	case b.vma == nil:
		return FaultStackGrowth
	case allows(b.leaf):
		return FaultSpurious
	case b.leaf.Frame() != 0 && b.leaf.Frame() == after.Frame():
		if write && b.leaf&mmu.PTEPresent != 0 && b.vma.Flags&VMShared == 0 {
			return FaultCOWReuse
		}
		return FaultSpurious
	case b.leaf&mmu.PTEPresent != 0:
		return FaultCOWCopy
	case b.frames[after.Frame()]:
		return FaultFileCached
	case b.vma.Obj == nil || isShm(b.vma.Obj):
		return FaultDemandZero // a fresh frame, zeroed: anonymous or shared anonymous memory
	}
	return FaultFileRead
}

// TableWalk reads the same entries as the MMU's inspection walk, for mapped and unmapped
// addresses alike, and sets no accessed flag.
func TestTableWalkMatchesTheMMU(t *testing.T) {
	k, _ := newMachine(t, Config{}, "bss_sum")
	for i := 0; i < 200; i++ { // run until some of the array is mapped
		pt, err := k.RunToTrap(1_000_000)
		require.NoError(t, err)
		require.NoError(t, k.HandleTrap(pt))
	}
	mm := k.Current().MM()
	for _, va := range []uint64{k.CPU().RIP(), k.CPU().Reg(cpu.RSP), mm.VMAs()[len(mm.VMAs())-2].Start,
		0xdead0000, 0x7fff00000000, 0} {
		hw := k.MMU().Inspect(va, mmu.User)
		sw := k.TableWalk(mm, va)
		assert.Equal(t, hw.Levels, sw, "va %#x", va)
	}
}

// FrameMap is the reverse of the page tables: at the traps of every test program, each
// frame in use is listed once per reference its count holds (the page cache's, then each
// mapping's), page-table pages under their level, and nothing else is.
func TestFrameMapMatchesReferenceCounts(t *testing.T) {
	for _, prog := range inspectProgs {
		t.Run(prog, func(t *testing.T) {
			k, _ := newMachine(t, Config{}, prog)
			traps, checks, sawCache, sawShared := 0, 0, false, false
			stepAll(t, k, 1_000_000, func(pt PendingTrap) {
				if pt.Kind == cpu.TrapBudget {
					return
				}
				// Every trap early on, then a sample: a full reverse walk per trap is slow.
				if traps++; traps > 64 && traps%61 != 0 {
					return
				}
				checks++
				m := k.FrameMap()
				f := k.Frames()
				st := f.Stats()
				var user, tables, cache, kernel uint64
				for pfn, maps := range m {
					require.Equal(t, int(f.Ref(pfn)), len(maps), "frame %#x: %+v", pfn, maps)
					sawShared = sawShared || len(maps) > 1 && maps[0].Cache == nil
					switch f.Kind(pfn) {
					case FrameUser:
						user++
						for _, mp := range maps {
							require.False(t, mp.Table)
							require.Nil(t, mp.Cache)
							pte, _ := k.lookupPTE(k.Process(mp.PID).MM(), mp.VA)
							require.Equal(t, pfn, pte.Frame())
						}
					case FrameTable:
						tables++
						require.True(t, maps[0].Table)
					case FrameCache:
						cache++
						require.NotNil(t, maps[0].Cache, "the page cache holds the first reference")
						require.Equal(t, pfn, maps[0].Cache.pages[maps[0].Index])
						sawCache = true
					case FrameKernel:
						kernel++
						require.NotEmpty(t, maps[0].Kernel, "a pipe buffer or a charge")
					default:
						t.Fatalf("frame %#x of kind %v is mapped", pfn, f.Kind(pfn))
					}
				}
				require.Equal(t, st.Tables-1, tables, "every page-table page but the boot PML4")
				require.Equal(t, st.InUse-st.Tables, user+cache+kernel, "every frame in use is accounted for")
				require.Equal(t, uint64(k.PageCache().Pages()), cache)
			})
			assert.Greater(t, checks, 2)
			assert.True(t, sawCache, "the program's file pages are in the page cache")
			if strings.Contains(prog, "cow") {
				assert.True(t, sawShared, "fork shares frames between processes")
			}
		})
	}
}

// PeekUser reads what the program sees (its argv strings) without setting accessed bits,
// filling the TLB or faulting in pages.
func TestPeekUserHasNoSideEffects(t *testing.T) {
	k, _ := newMachine(t, Config{}, "hello", "peek-me")
	p := k.Current()
	rsp := k.CPU().Reg(cpu.RSP)
	var want [8]byte
	_, ok := k.copyIn(p, rsp+16, want[:]) // argv[1]
	require.True(t, ok)
	argv1 := uint64(0)
	for i := 7; i >= 0; i-- {
		argv1 = argv1<<8 | uint64(want[i])
	}
	before := k.TableWalk(p.MM(), argv1)
	stats := k.MMU().DTLB.Stats
	faults := 0
	k.Subscribe(func(e *Event) { faults++ })

	buf := make([]byte, 8)
	assert.Equal(t, 8, k.PeekUser(p, argv1, buf))
	assert.Equal(t, "peek-me\x00", string(buf))
	assert.Equal(t, 0, k.PeekUser(p, 0xdead0000, buf), "unmapped")
	assert.Equal(t, before, k.TableWalk(p.MM(), argv1))
	assert.Equal(t, stats, k.MMU().DTLB.Stats)
	assert.Zero(t, faults)
}

// Config.NoPCID runs without CR4.PCIDE: every address space has PCID 0 and the program
// runs the same.
func TestNoPCIDRunsWithoutPCIDE(t *testing.T) {
	with, out1 := newMachine(t, Config{}, "bss_sum")
	without, out2 := newMachine(t, Config{NoPCID: true}, "bss_sum")
	assert.NotZero(t, with.MMU().CR4()&mmu.CR4PCIDE)
	assert.NotZero(t, with.Current().MM().PCID())
	assert.Zero(t, without.MMU().CR4()&mmu.CR4PCIDE)
	assert.Zero(t, without.Current().MM().PCID())
	assert.Zero(t, without.MMU().CR3()&0xfff, "CR3 holds no PCID")
	_, err := with.Run()
	require.NoError(t, err)
	_, err = without.Run()
	require.NoError(t, err)
	assert.Equal(t, out1.String(), out2.String())
	assert.Equal(t, with.CPU().Instructions(), without.CPU().Instructions())
}

// The hardware hooks, wired into the event stream, report exactly what the hardware
// counted: one EvTLB per fill, eviction, invalidation and flush, one EvFrame per allocation
// and release.
func TestHardwareEventsAgreeWithCounters(t *testing.T) {
	for _, prog := range []string{"bss_sum", "dbg_cow"} {
		t.Run(prog, func(t *testing.T) {
			k, _ := newMachine(t, Config{MMU: smallTLB()}, prog)
			count := map[string]uint64{}
			var shared, peakShared int
			k.Subscribe(func(e *Event) {
				switch e.Kind {
				case EvTLB:
					count[e.TLB+" "+e.TLBOp.String()]++
				case EvFrame:
					count["frame "+e.FrameOp.String()]++
					switch {
					case e.FrameOp == FrameOpGet && e.Ref == 2:
						shared++
					case e.FrameOp == FrameOpPut && e.Ref == 1:
						shared--
					}
					peakShared = max(peakShared, shared)
				}
			})
			k.ObserveHardware(true, true)
			d0, i0, f0 := k.MMU().DTLB.Stats, k.MMU().ITLB.Stats, k.Frames().Stats()
			_, err := k.Run()
			require.NoError(t, err)
			d, i, f := k.MMU().DTLB.Stats, k.MMU().ITLB.Stats, k.Frames().Stats()
			assert.Equal(t, d.Fills-d0.Fills, count["DTLB fill"])
			assert.Equal(t, d.Evictions-d0.Evictions, count["DTLB evict"])
			assert.Equal(t, i.Fills-i0.Fills, count["ITLB fill"])
			assert.Equal(t, d.Flushes-d0.Flushes, count["DTLB flush"])
			assert.Equal(t, f.Allocated-f0.Allocated, count["frame alloc"])
			assert.Equal(t, f.Freed-f0.Freed, count["frame free"])
			if prog == "bss_sum" {
				assert.NotZero(t, count["DTLB evict"], "a 16-entry DTLB evicts")
			}
			assert.Equal(t, int(f.PeakShared), peakShared, "shared frames, counted from the events")
			if prog == "dbg_cow" {
				assert.NotZero(t, count["frame get"], "fork shares every frame")
				assert.NotZero(t, f.PeakShared)
				assert.Zero(t, f.Shared, "nothing is shared once both exited")
			}

			// Off again: the hooks are nil, so a fill costs a nil check.
			k.ObserveHardware(false, false)
			assert.Nil(t, k.MMU().DTLB.Observer)
			assert.Nil(t, k.MMU().ITLB.Observer)
			assert.Nil(t, k.frames.observe)
		})
	}
}

// Each party's wish for hardware events counts on its own: the hooks are on while anyone
// wants them, on every CPU, and off (a nil check per fill) when the last one lets go.
func TestWantHardwareComposes(t *testing.T) {
	k, _ := newMachine(t, Config{CPUs: 2}, "bss_sum")
	hooks := func() (tlbOn, frameOn bool) {
		for _, c := range k.CPUs() {
			require.Equal(t, c.MMU().DTLB.Observer != nil, k.CPUs()[0].MMU().DTLB.Observer != nil, "cpu%d", c.ID())
			require.Equal(t, c.MMU().ITLB.Observer != nil, c.MMU().DTLB.Observer != nil, "cpu%d", c.ID())
		}
		a, b := k.HardwareObserved()
		require.Equal(t, a, k.CPUs()[1].MMU().DTLB.Observer != nil)
		return a, b
	}
	for _, step := range []struct {
		who          string
		tlb, frame   bool
		wantT, wantF bool
	}{
		{"web", true, false, true, false},
		{"", true, true, true, true},
		{"", false, false, true, false}, // the tracer stops: the page still gets its TLB events
		{"debugger trace", false, true, true, true},
		{"web", false, false, false, true},
		{"debugger trace", false, false, false, false},
	} {
		k.WantHardware(step.who, step.tlb, step.frame)
		tl, fr := hooks()
		assert.Equal(t, step.wantT, tl, "%q wants tlb=%v frame=%v: TLB hooks", step.who, step.tlb, step.frame)
		assert.Equal(t, step.wantF, fr, "%q wants tlb=%v frame=%v: frame hook", step.who, step.tlb, step.frame)
	}
}

func smallTLB() mmu.Config {
	c := mmu.DefaultConfig()
	c.DTLB = tlb.Config{Name: "DTLB", Entries: 16, Ways: 4, LargeEntries: 4}
	return c
}

// The allocator counts frames shared by more than one reference, now and at peak, and
// reports each reference change.
func TestFramesCountSharing(t *testing.T) {
	r, err := ram.New(1 << 20)
	require.NoError(t, err)
	defer r.Close()
	f := NewFrames(r)
	var ops []string
	f.observe = func(pfn uint64, op FrameOp, kind FrameKind, ref uint32) {
		ops = append(ops, fmt.Sprintf("%s %d %s %d", op, pfn, kind, ref))
	}
	a, _ := f.Alloc(FrameUser)
	b, _ := f.Alloc(FrameTable)
	f.Get(a)
	f.Get(a)
	assert.Equal(t, uint64(1), f.Stats().Shared)
	f.Put(a)
	f.Put(a)
	assert.Equal(t, uint64(0), f.Stats().Shared)
	assert.Equal(t, uint64(1), f.Stats().PeakShared)
	f.Put(b)
	assert.Equal(t, uint64(1), f.Stats().PeakTables)
	assert.Equal(t, []string{"alloc 1 user 1", "alloc 2 page-table 1", "get 1 user 2", "get 1 user 3",
		"put 1 user 2", "put 1 user 1", "free 2 page-table 0"}, ops)
}

// An event costs no allocation, with or without subscribers: the kernel builds it on the
// stack and observers see the kernel's copy. A TLB fill with the hardware hooks off costs a
// nil check.
func TestEventsDoNotAllocate(t *testing.T) {
	k, _ := newMachine(t, Config{}, "hello")
	v := &VMA{Start: 0x1000, End: 0x2000}
	emit := func() { k.emit(&Event{Kind: EvPageFault, PID: 1, Addr: 0x1234, VMA: v, Text: "x"}) }
	assert.Zero(t, testing.AllocsPerRun(100, emit), "no subscriber")
	var seen *Event
	n := 0
	k.Subscribe(func(e *Event) { seen, n = e, n+1 })
	assert.Zero(t, testing.AllocsPerRun(100, emit), "one subscriber")
	assert.Equal(t, 101, n)
	assert.Nil(t, seen.VMA, "the kernel's copy drops its VMA pointer after the call")
	fill := func() { k.MMU().DTLB.Fill(tlb.Entry{VPN: 0x5, PFN: 0x5}) }
	assert.Zero(t, testing.AllocsPerRun(100, fill), "hooks off")
	k.ObserveHardware(true, true)
	assert.Zero(t, testing.AllocsPerRun(100, fill), "hooks on: the wire reuses its event")
}
