package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/tlb"
)

// --tlb specs that are valid, and the geometry each one means.
func TestTLBSpecGeometry(t *testing.T) {
	for _, tc := range []struct {
		spec            string
		dEntries, dWays int
		iEntries, iWays int
		dLarge, iLarge  int
		policy          tlb.Policy
		unified, noPCID bool
	}{
		{"default", 256, 4, 64, 4, 32, 32, tlb.LRU, false, false},
		{"", 256, 4, 64, 4, 32, 32, tlb.LRU, false, false},
		{"dtlb=64/4", 64, 4, 64, 4, 32, 32, tlb.LRU, false, false},
		{"dtlb=16,itlb=8", 16, 16, 8, 8, 32, 32, tlb.LRU, false, false},
		{"dtlb=256/4,itlb=64/4,large=32,policy=plru,unified,nopcid", 256, 4, 64, 4, 32, 32, tlb.PLRU, true, true},
		{"large=0", 256, 4, 64, 4, 0, 0, tlb.LRU, false, false},
		{"dlarge=8,ilarge=4", 256, 4, 64, 4, 8, 4, tlb.LRU, false, false},
		{"unified,split", 256, 4, 64, 4, 32, 32, tlb.LRU, false, false},
		{"nopcid,pcid", 256, 4, 64, 4, 32, 32, tlb.LRU, false, false},
		{"dtlb=8/2,default", 256, 4, 64, 4, 32, 32, tlb.LRU, false, false},
		{" DTLB=32/8 , Policy=PLRU ", 32, 8, 64, 4, 32, 32, tlb.PLRU, false, false},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := parseTLBSpec(tc.spec)
			require.NoError(t, err)
			d, i := s.MMU.DTLB, s.MMU.ITLB
			assert.Equal(t, []int{tc.dEntries, tc.dWays, tc.dLarge}, []int{d.Entries, d.Ways, d.LargeEntries}, "dtlb")
			assert.Equal(t, []int{tc.iEntries, tc.iWays, tc.iLarge}, []int{i.Entries, i.Ways, i.LargeEntries}, "itlb")
			assert.Equal(t, tc.policy, d.Policy)
			assert.Equal(t, tc.unified, s.MMU.Unified)
			assert.Equal(t, tc.noPCID, s.NoPCID)
			if tc.unified && strings.Contains(tc.spec, "itlb=") {
				assert.Contains(t, strings.Join(s.Notes, "\n"), "itlb=64/4 geometry is not used")
			} else {
				assert.Empty(t, s.Notes)
			}
		})
	}
}

// Invalid --tlb specs are refused with a message that names the item and the rule.
func TestTLBSpecErrors(t *testing.T) {
	for _, tc := range []struct{ spec, msg string }{
		{"dtlb=100/3", "100 entries do not divide into 3 ways"},
		{"dtlb=96/4", "24 sets, which is not a power of two"},
		{"dtlb=128", "at most 64"},
		{"dtlb=256/128", "ways: 128 is outside 1..64"},
		{"dtlb=0/4", "entries: 0 is outside"},
		{"dtlb=lots", `"lots" is not a number`},
		{"itlb=48/3,policy=plru", "plru needs a power-of-two number of ways, not 3"},
		{"large=12,policy=plru", "power-of-two number of large-page entries, not 12"},
		{"large=65", "65 is outside 0..64"},
		{"policy=fifo", `unknown policy "fifo"`},
		{"bigtlb", `unknown item "bigtlb"`},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			_, err := parseTLBSpec(tc.spec)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// The geometry reaches the machine: a unified TLB is one row in the statistics; a tiny data
// TLB misses more than the default one; without PCIDs the program still runs the same.
func TestTLBFlagReachesTheMachine(t *testing.T) {
	tlbRow := func(stderr, name string) []string {
		for _, line := range strings.Split(stderr, "\n") {
			if f := strings.Fields(line); len(f) == 9 && f[0] == name {
				return f[1:]
			}
		}
		return nil
	}
	out0, def, code := emulated("run", "--stats", progs+"bss_sum")
	require.Equal(t, 16, code, def)
	out1, uni, code := emulated("run", "--stats", "--tlb", "unified", progs+"bss_sum")
	require.Equal(t, 16, code, uni)
	assert.Equal(t, out0, out1)
	assert.NotNil(t, tlbRow(uni, "TLB"), uni)
	assert.Nil(t, tlbRow(uni, "DTLB"), uni)

	_, tiny, _ := emulated("run", "--stats", "--tlb", "dtlb=4/4,large=0", progs+"bss_sum")
	assert.Greater(t, atoi(t, tlbRow(tiny, "DTLB")[1]), atoi(t, tlbRow(def, "DTLB")[1]), "a 4-entry DTLB misses more")

	out2, nop, code := emulated("run", "--stats", "--tlb", "nopcid", progs+"bss_sum")
	assert.Equal(t, 16, code, nop)
	assert.Equal(t, out0, out2)

	// Several processes: with PCIDs a context switch keeps each one's translations (CR3 bit
	// 63); without, every switch flushes them, so there are more flushes and more misses.
	outP, withPCID, code := emulated("run", "--stats", progs+"vm_procs")
	require.Equal(t, 0, code, withPCID)
	outN, noPCID, code := emulated("run", "--stats", "--tlb", "nopcid", progs+"vm_procs")
	require.Equal(t, 0, code, noPCID)
	assert.Equal(t, outP, outN)
	p, n := tlbRow(withPCID, "DTLB"), tlbRow(noPCID, "DTLB")
	assert.Greater(t, atoi(t, n[7]), atoi(t, p[7]), "flushes")
	assert.Greater(t, atoi(t, n[1]), atoi(t, p[1]), "misses")
}
