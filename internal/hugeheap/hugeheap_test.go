package hugeheap

import "testing"

// Advise is only advice: calling it again, with the heap in any state, changes nothing a
// program can see.
func TestAdviseKeepsHeap(t *testing.T) {
	var keep [][]byte
	for i := 0; i < 64; i++ {
		b := make([]byte, 64<<10)
		b[0], b[len(b)-1] = byte(i), byte(i)
		keep = append(keep, b)
		if i%16 == 0 {
			Advise()
		}
	}
	for i, b := range keep {
		if b[0] != byte(i) || b[len(b)-1] != byte(i) {
			t.Fatalf("block %d changed", i)
		}
	}
}
