package minikernel

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/reclaim"
)

// Swap entries have Linux's x86-64 layout (pgtable_64.h): P clear, bit 8 (PROT_NONE) clear,
// the type in bits 59-63, the offset inverted in bits 9-58, so that the address bits of the
// not-present entry name no real memory (the L1TF mitigation).
func TestSwapEntryEncoding(t *testing.T) {
	for _, tc := range []struct {
		typ  uint8
		off  uint64
		want uint64
	}{
		{0, 1, 0x07ff_ffff_ffff_fc00},
		{0, 2, 0x07ff_ffff_ffff_fa00},
		{0, 0x3ffff, 0x07ff_ffff_f800_0000},
		{1, 1, 0x0fff_ffff_ffff_fc00},
		{31, 1, 0xffff_ffff_ffff_fc00},
		{0, 1<<50 - 1, 0},
	} {
		e := swapPTE(tc.typ, tc.off)
		assert.Equal(t, tc.want, uint64(e), "type %d offset %#x", tc.typ, tc.off)
		if tc.want == 0 {
			continue // the largest offset inverts to all zeros: an empty entry, never used
		}
		typ, off := swapEntryOf(e)
		assert.Equal(t, tc.typ, typ)
		assert.Equal(t, tc.off, off)
		if tc.typ == swpPTEMarker {
			// The last type is SWP_PTE_MARKER: a PTE marker, not a swap entry (guard.go).
			assert.False(t, isSwapPTE(e))
			assert.True(t, isMarkerPTE(e))
			assert.Equal(t, "uffd-wp marker", SoftBits(e))
			continue
		}
		assert.True(t, isSwapPTE(e))
		assert.False(t, pteMapped(e), "a swap entry holds no frame")
		assert.Zero(t, e&(mmu.PTEPresent|pteProtNone))
		assert.Equal(t, "swap "+itoa(int(tc.typ))+":"+itoa(int(tc.off)), SoftBits(e))
	}
	// A PROT_NONE entry is not a swap entry, and an empty one is neither.
	assert.False(t, isSwapPTE(mmu.PTE(0x1234000)|pteProtNone))
	assert.False(t, isSwapPTE(0))
	assert.True(t, isGuardPTE(markerPTE(pteMarkerGuard)))
	assert.Equal(t, "guard", SoftBits(markerPTE(pteMarkerGuard)))
	assert.Equal(t, "prot-none", SoftBits(mmu.PTE(0x1234000)|pteProtNone))
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + itoa(n%10)
}

// stepUntil runs k until cond holds or the program ends; it reports whether cond held.
func stepUntil(t *testing.T, k *Kernel, cond func() bool) bool {
	t.Helper()
	for k.Live() {
		if cond() {
			return true
		}
		require.NoError(t, k.Step(1000))
	}
	return cond()
}

// runFor runs k for about n more instructions (whole traps), or until the program ends.
func runFor(t *testing.T, k *Kernel, n uint64) {
	t.Helper()
	end := k.retired + n
	for k.Live() && k.retired < end {
		require.NoError(t, k.Step(end-k.retired))
	}
}

// A page swapped out while two processes map it: both PTEs hold the same swap entry (the
// reverse map updated every sharer), /proc/PID/pagemap's entry says swapped with the type
// and offset, the slot counts two references, and at the end no slot or frame is left.
func TestSwappedPageEntriesAndPagemap(t *testing.T) {
	k, err := New(Config{RAM: 64 << 20, Swap: 1 << 20, Reclaim: "fifo", ResidentLimit: 24})
	require.NoError(t, err)
	defer k.Close()
	var first *Event
	k.Subscribe(func(e *Event) {
		if first == nil && e.Kind == EvReclaim && e.Reclaim == ReclaimSwapOut && e.Mapped == 2 {
			c := *e
			c.VMA = nil
			first = &c
		}
	})
	_, err = k.Spawn(progs+"musl_swap_cow", []string{"swap_cow"}, nil)
	require.NoError(t, err)
	require.True(t, stepUntil(t, k, func() bool { return first != nil }), "no shared page went to swap")

	slot := first.Slot
	require.NotZero(t, slot)
	assert.Equal(t, uint32(2), k.swap.Count(slot), "one reference per PTE")
	for _, pid := range []int{2, 3} {
		p := k.Process(pid)
		require.NotNil(t, p)
		lv := k.TableWalk(p.MM(), first.Addr)
		leaf := lv[len(lv)-1]
		require.Equal(t, 1, leaf.Level)
		assert.Equal(t, swapPTE(0, slot), leaf.Entry, "pid %d's PTE", pid)
		typ, got, ok := SwapEntry(leaf.Entry)
		assert.True(t, ok)
		assert.Equal(t, uint8(0), typ)
		assert.Equal(t, slot, got)
		pm := k.pagemapEntry(p.MM(), first.Addr, true)
		assert.Equal(t, uint64(pmSwap|pmSoftDirty)|slot<<5, pm, "pagemap of pid %d: swapped, type 0, offset %d", pid, slot)
		assert.Regexp(t, `(?m)^Swap:\s+[1-9]\d* kB$`, string(k.procMaps(p, true)), "smaps of pid %d", pid)
		assert.Regexp(t, `(?m)^VmSwap:\s+[1-9]\d* kB$`, string(k.procStatus(p, nil)), "status of pid %d", pid)
	}
	// A debugger reads the swapped page from swap, changing nothing; its forced write gives
	// the writer its own copy and leaves the other's swap entry.
	var buf [16]byte
	n, err := k.ReadMemory(k.Process(2), first.Addr, buf[:])
	require.NoError(t, err)
	require.Equal(t, 16, n)
	w0, w1 := binary.LittleEndian.Uint64(buf[:]), binary.LittleEndian.Uint64(buf[8:])
	assert.Equal(t, w0+1, w1, "swap_cow's pattern: consecutive words")
	assert.Zero(t, (w0-7*1000003)%512, "the first word of one of its pages")
	assert.Equal(t, 16, k.PeekUser(k.Process(3), first.Addr, buf[:]))
	assert.Equal(t, w0, binary.LittleEndian.Uint64(buf[:]))
	assert.Equal(t, uint32(2), k.swap.Count(slot), "reading brought nothing back")
	n, err = k.WriteMemory(k.Process(3), first.Addr, buf[:8]) // the same bytes: the program's checks hold
	require.NoError(t, err)
	require.Equal(t, 8, n)
	assert.Equal(t, uint32(1), k.swap.Count(slot), "pid 3 has its own copy now")
	e3, _ := k.lookupPTE(k.Process(3).MM(), first.Addr)
	assert.NotZero(t, e3&mmu.PTEPresent)
	e2, _ := k.lookupPTE(k.Process(2).MM(), first.Addr)
	assert.Equal(t, swapPTE(0, slot), e2, "pid 2 still has the swap entry")
	users := k.SwapUsers()[slot]
	require.Len(t, users, 1)
	assert.Equal(t, 2, users[0].PID)

	code, err := k.Run()
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, uint64(1), k.frames.Stats().InUse, "frames left: the boot page table only")
	assert.Zero(t, k.swap.used, "swap slots left")
	assert.Empty(t, k.swap.cache)
}

// Clearing an accessed bit needs a TLB invalidation: while a stale TLB entry for the page
// lives, the processor uses it and never sets A in the PTE again (SDM Vol. 3A 4.8: A is set
// when the entry is used to fill the TLB). With the invalidation, the next use walks the
// tables and sets A; with ReclaimNoFlush (the teaching switch) it does not.
func TestClearedAccessedBitStaysClearWithoutInvalidation(t *testing.T) {
	for _, noFlush := range []bool{false, true} {
		k, err := New(Config{RAM: 64 << 20, ReclaimNoFlush: noFlush})
		require.NoError(t, err)
		p, err := k.Spawn(progs+"musl_hotset", []string{"hotset"}, nil)
		require.NoError(t, err)
		runFor(t, k, 200_000) // well into the loop over the hot pages
		// The hot set is the anonymous area of 32 pages.
		var hot uint64
		for _, v := range p.mm.vmas {
			if v.Obj == nil && v.End-v.Start == 32*4096 {
				hot = v.Start
			}
		}
		require.NotZero(t, hot, "the hot set's area")
		e, ea := k.lookupPTE(p.mm, hot)
		require.NotZero(t, e&mmu.PTEAccessed, "the hot page was used")
		k.buildRmap()
		assert.True(t, reclaimView{k}.ClearReferenced(reclaim.Frame(e.Frame())))
		k.flushYoung()
		assert.Zero(t, k.readPTE(ea)&mmu.PTEAccessed)
		runFor(t, k, 20_000) // dozens more passes over the hot set
		used := k.readPTE(ea)&mmu.PTEAccessed != 0
		assert.Equal(t, !noFlush, used, "A set again (noflush %v)", noFlush)
		k.Close()
	}
}

// /proc/PID/oom_score_adj as Linux's __set_oom_adj() takes it: -1000..1000 in decimal, hex
// or octal, EINVAL otherwise; without CAP_SYS_RESOURCE a process may raise it, and lower it
// only down to the floor a privileged writer left (EACCES below); a privileged writer sets
// the floor. fork copies both.
func TestOOMScoreAdjWrites(t *testing.T) {
	k, err := New(Config{RAM: 16 << 20})
	require.NoError(t, err)
	defer k.Close()
	p, q := &Process{}, &Process{}
	write := func(text string) int64 { return k.writeOOMScoreAdj(p, q, kernelBuf([]byte(text))) }
	for _, bad := range []string{"1001", "-1001", "ten", "", "1_0", "0b1", "0o7", "5 5"} {
		assert.Equal(t, -int64(EINVAL), write(bad), "%q", bad)
	}
	assert.Zero(t, q.oomScoreAdj)
	assert.Equal(t, int64(4), write("500\n"))
	assert.Equal(t, 500, q.oomScoreAdj)
	assert.Equal(t, int64(4), write("0x10"))
	assert.Equal(t, 16, q.oomScoreAdj)
	assert.Equal(t, int64(3), write("010"))
	assert.Equal(t, 8, q.oomScoreAdj)
	assert.Equal(t, int64(1), write("0"), "down to the floor (0) needs no privilege")
	assert.Equal(t, -int64(EACCES), write("-1"), "below the floor without CAP_SYS_RESOURCE")

	p.cred.capEff = 1 << capSysRes
	assert.Equal(t, int64(5), write("-1000"))
	assert.Equal(t, -1000, q.oomScoreAdj)
	assert.Equal(t, -1000, q.oomScoreAdjFloor, "a privileged writer sets the floor")
	p.cred.capEff = 0
	assert.Equal(t, int64(3), write("-10"), "above the floor: allowed")
	assert.Equal(t, -10, q.oomScoreAdj)
	assert.Equal(t, int64(1), write("7"))
}
