package cpu

import (
	"debug/elf"
	"testing"
)

// pythonText returns up to n bytes of the .text section of the host's python3, page-aligned
// at offset 0, or skips the benchmark when there is none.
func pythonText(b *testing.B, n int) []byte {
	f, err := elf.Open("/usr/bin/python3")
	if err != nil {
		b.Skip("no /usr/bin/python3:", err)
	}
	defer f.Close()
	s := f.Section(".text")
	if s == nil || s.Size < uint64(n) {
		b.Skip("python3 has no .text of", n, "bytes")
	}
	text := make([]byte, n)
	if _, err := s.ReadAt(text, 0); err != nil {
		b.Fatal(err)
	}
	return text
}

// BenchmarkDecodePython decodes and optimizes CPython's code, block after block, as the
// code cache does when CPython starts: the host time per decoded instruction. Each round
// starts with a new CPU.
func BenchmarkDecodePython(b *testing.B) {
	text := pythonText(b, 1<<20)
	b.ReportAllocs()
	b.ResetTimer()
	var insts uint64
	for i := 0; i < b.N; i++ {
		c := &CPU{mem: text}
		for pa := uint64(0); pa < uint64(len(c.mem)); {
			if pa&0xfff > 4096-maxInstLen {
				pa = pa | 0xfff + 1 // a first instruction may straddle the page end
				continue
			}
			blk := c.decodeBlock(pa, pa)
			insts += uint64(len(blk.raw))
			pa += uint64(blk.size)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(insts), "ns/inst")
	b.ReportMetric(float64(insts)/float64(b.N), "insts/op")
}
