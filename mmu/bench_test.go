package mmu_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// workingSet maps n consecutive 4K pages from testVA and returns their addresses.
func workingSet(m *machine, n int) []uint64 {
	vas := make([]uint64, n)
	for i := range vas {
		vas[i] = testVA + uint64(i)<<12
		m.mapPage(vas[i], testPA+uint64(i)<<12, tlb.Size4K, P|W|U|A|D)
	}
	return vas
}

func TestTranslateAllocatesNothing(t *testing.T) {
	m := boot(t, mmu.CR4PGE|mmu.CR4PCIDE)
	vas := workingSet(m, 4)
	m.mapPage(0x4000_0000, 0x20_0000, tlb.Size2M, P|W|U)
	m.ok(vas[0], mmu.User|mmu.Write)
	m.ok(0x4000_0000, mmu.Write)
	tests := []struct {
		name string
		f    func()
	}{
		{"TLB hit, 4K read", func() { m.mmu.Translate(vas[0]+8, mmu.User) }},
		{"TLB hit, 4K write", func() { m.mmu.Translate(vas[0]+8, mmu.User|mmu.Write) }},
		{"TLB hit, 2M read", func() { m.mmu.Translate(0x4012_3456, mmu.Read) }},
		{"page walk and fill", func() {
			m.mmu.Invlpg(vas[1])
			m.mmu.Translate(vas[1], mmu.Read)
		}},
		{"page fault", func() { m.mmu.Translate(0x5000, mmu.Read) }},
		{"#GP", func() { m.mmu.Translate(1<<63, mmu.Read) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Zero(t, testing.AllocsPerRun(1000, tc.f))
		})
	}
}

func BenchmarkTranslateTLBHit(b *testing.B) {
	m := boot(b, 0)
	vas := workingSet(m, 64)
	for _, va := range vas {
		m.ok(va, mmu.User)
	}
	walks := m.walks()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, f := m.mmu.Translate(vas[i&63]|0x123, mmu.User); f != nil {
			b.Fatal(f)
		}
	}
	b.StopTimer()
	if m.walks() != walks {
		b.Fatalf("%d walks during a TLB-hit benchmark", m.walks()-walks)
	}
}

// BenchmarkTranslateWalk cycles through more pages than a 4-entry TLB holds, so every
// translation misses and walks the four levels (and fills, evicting the oldest entry).
func BenchmarkTranslateWalk(b *testing.B) {
	cfg := mmu.DefaultConfig()
	cfg.DTLB = tlb.Config{Name: "DTLB", Entries: 4, Ways: 4}
	m := bootWith(b, cfg, 0)
	vas := workingSet(m, 64)
	hits := m.mmu.DTLB.Stats.Hits
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, f := m.mmu.Translate(vas[i&63]|0x123, mmu.User); f != nil {
			b.Fatal(f)
		}
	}
	b.StopTimer()
	if m.mmu.DTLB.Stats.Hits != hits {
		b.Fatalf("%d TLB hits during a page-walk benchmark", m.mmu.DTLB.Stats.Hits-hits)
	}
}
