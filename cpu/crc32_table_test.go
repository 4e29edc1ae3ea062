package cpu

import (
	"hash/crc32"
	"testing"
)

// The written-out CRC-32C table of the CRC32 instruction is hash/crc32's Castagnoli table.
func TestCRC32CTable(t *testing.T) {
	want := crc32.MakeTable(crc32.Castagnoli)
	for i := range crc32cSSETable {
		if crc32cSSETable[i] != want[i] {
			t.Fatalf("entry %d: %#08x, want %#08x", i, crc32cSSETable[i], want[i])
		}
	}
}
