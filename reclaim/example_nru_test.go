package reclaim

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The policy of the README's "Write your own policy", as a student would write it in
// reclaim/nru.go (there with an init function that calls Register("nru", ...)).

// NRU is "not recently used": pages fall into four classes by their accessed (A) and dirty
// (D) bits, and the victim comes from the lowest class: not referenced and clean first, then
// not referenced but dirty (it costs a write), then referenced and clean, then referenced and
// dirty. The A bits of the pages it looked at are cleared, so the next choice sees only what
// was used since.
type NRU struct {
	pages List
}

func (p *NRU) Name() string      { return "nru" }
func (p *NRU) Add(f Frame)       { p.pages.PushBack(f) }
func (p *NRU) Fault(Frame, bool) {}
func (p *NRU) Remove(f Frame)    { p.pages.Remove(f) }

func (p *NRU) Victim(m Memory) (Frame, string, bool) {
	best, bestClass := Frame(0), 4
	var seen []Frame
	p.pages.Each(func(f Frame) bool {
		if !m.Reclaimable(f) {
			return true
		}
		seen = append(seen, f)
		class := 0
		if m.Referenced(f) {
			class += 2
		}
		if m.Dirty(f) {
			class++
		}
		if class < bestClass {
			best, bestClass = f, class
		}
		return bestClass > 0 // nothing beats class 0: stop looking
	})
	if bestClass == 4 {
		return 0, "", false
	}
	for _, f := range seen {
		m.ClearReferenced(f) // age what we looked at (and invalidate its TLB entries)
	}
	p.pages.Remove(best)
	p.pages.PushBack(best) // if the kernel cannot take it after all, look at it last
	return best, fmt.Sprintf("NRU class %d", bestClass), true
}

func TestExamplePolicyNRU(t *testing.T) {
	assert.Equal(t, 9, simulate(t, new(NRU), 3, beladyString))
	var refs []int
	for round := 0; round < 200; round++ {
		for h := 0; h < 6; h++ {
			refs = append(refs, h)
		}
		refs = append(refs, 100+round)
	}
	nru := simulate(t, new(NRU), 8, refs)
	fifo := simulate(t, new(FIFO), 8, refs)
	assert.Less(t, nru, fifo, "NRU keeps the hot set")
}
