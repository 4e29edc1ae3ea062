package cpu

import (
	"debug/elf"
	"testing"

	"github.com/stretchr/testify/require"
)

// elfText returns up to n bytes of the .text section of the ELF file name, from its start.
func elfText(t testing.TB, name string, n int) []byte {
	f, err := elf.Open(name)
	require.NoError(t, err)
	defer f.Close()
	s := f.Section(".text")
	require.NotNil(t, s, "no .text in %s", name)
	n = min(n, int(s.Size))
	text := make([]byte, n)
	_, err = s.ReadAt(text, 0)
	require.NoError(t, err)
	return text
}

// A block that begins inside a cached block takes that block's instructions from the
// branch target on instead of decoding them again: the result is the same raw and
// optimized instructions a fresh decode gives, at every instruction boundary of a static
// glibc program's code (its SSE and AVX string functions included).
func TestBlockFromInsideACachedBlockIsAsDecoded(t *testing.T) {
	text := elfText(t, "../testprogs/bin/glibc_rp_uffd", 256<<10)
	fresh := &CPU{mem: text}
	c := &CPU{mem: text}
	c.code.init()
	checked := 0
	for pa := uint64(0); pa < uint64(len(text)); {
		if pa&0xfff > 4096-maxInstLen {
			pa = pa | 0xfff + 1
			continue
		}
		b := c.decodeBlock(pa, pa)
		c.code.byFrame[pa>>12] = append(c.code.byFrame[pa>>12], b)
		for _, in := range b.raw[1:] {
			at := pa + uint64(in.off)
			got, want := c.decodeBlock(at, at), fresh.decodeBlock(at, at)
			require.Equal(t, want.raw, got.raw, "raw instructions of the block at %#x", at)
			require.Equal(t, want.insts, got.insts, "optimized instructions of the block at %#x", at)
			require.Equal(t, want.size, got.size)
			require.Equal(t, len(want.links), len(got.links))
			checked++
		}
		pa += uint64(b.size)
	}
	require.Less(t, c.stats.InsnsDecoded, fresh.stats.InsnsDecoded/4, "the suffixes were reused")
	t.Logf("%d blocks checked", checked)
}
