package reclaim

import "fmt"

func init() {
	Register("fifo", func() Policy { return new(FIFO) })
	Register("clock", func() Policy { return new(Clock) })
	Register("lru", func() Policy { return new(LRU) })
	Register("random", func() Policy { return new(Random) })
}

// FIFO reclaims the page that has been resident longest, whether or not it is used: the
// simplest policy, and the one that shows Belady's anomaly (more frames, more faults on some
// reference strings). It never reads an accessed bit.
type FIFO struct {
	q List // front: the oldest
}

func (p *FIFO) Name() string      { return "fifo" }
func (p *FIFO) Add(f Frame)       { p.q.PushBack(f) }
func (p *FIFO) Fault(Frame, bool) {}
func (p *FIFO) Remove(f Frame)    { p.q.Remove(f) }

func (p *FIFO) Victim(m Memory) (Frame, string, bool) {
	var victim Frame
	found := false
	p.q.Each(func(f Frame) bool {
		if m.Reclaimable(f) {
			victim, found = f, true
		}
		return !found
	})
	return victim, "first in", found
}

// Clock is the second-chance algorithm: the frames stand in a circle and a hand sweeps it.
// A page whose accessed bit is set gets a second chance (the bit is cleared, with the TLB
// invalidation that needs, and the hand moves on); the first page found with A clear is
// the victim. New pages join just behind the hand, so they are looked at last.
type Clock struct {
	ring List
	hand Frame // the frame the hand points at (meaningful while ring is not empty)
}

func (p *Clock) Name() string      { return "clock" }
func (p *Clock) Fault(Frame, bool) {}

func (p *Clock) Add(f Frame) {
	if p.ring.Len() == 0 {
		p.ring.PushBack(f)
		p.hand = f
		return
	}
	p.ring.InsertBefore(f, p.hand)
}

func (p *Clock) Remove(f Frame) {
	if f == p.hand && p.ring.Len() > 1 {
		p.advance()
	}
	p.ring.Remove(f)
}

// advance moves the hand to the next frame of the circle.
func (p *Clock) advance() {
	next, ok := p.ring.Next(p.hand)
	if !ok {
		next, _ = p.ring.Front()
	}
	p.hand = next
}

func (p *Clock) Victim(m Memory) (Frame, string, bool) {
	// Two sweeps at most: the first clears every A bit it meets, so the second finds a
	// victim unless nothing is reclaimable.
	for n := 2*p.ring.Len() + 1; n > 0 && p.ring.Len() > 0; n-- {
		f := p.hand
		p.advance()
		if !m.Reclaimable(f) {
			continue
		}
		if m.ClearReferenced(f) {
			continue // second chance
		}
		return f, "clock hand found A clear", true
	}
	return 0, "", false
}

// LRU approximates least-recently-used the way Linux does (mm/vmscan.c): two lists, active
// and inactive, and a referenced mark per page (Linux's PG_referenced). New pages start at
// the head of the inactive list. To find a victim the kernel looks at the inactive tail: a
// page not referenced since it was last looked at (A clear) is the victim; a referenced one
// is marked and goes round the inactive list once more, and if it is referenced again by
// then it is promoted to the active list (every mapped page starts referenced by the fault
// that brought it in, so one use is not enough: folio_check_references()). While the
// inactive list is shorter than the active one, pages move from the active tail to the
// inactive head with their A bits cleared (shrink_active_list()), so an active page has to
// be used again to stay.
type LRU struct {
	active, inactive List       // front: most recently placed; back: the next looked at
	marked           frameIndex // 1: referenced on its last trip
}

func (p *LRU) Name() string      { return "lru" }
func (p *LRU) Add(f Frame)       { p.inactive.PushFront(f) }
func (p *LRU) Fault(Frame, bool) {}

func (p *LRU) Remove(f Frame) {
	if !p.inactive.Remove(f) {
		p.active.Remove(f)
	}
	p.marked.set(f, 0)
}

// ActiveLen and InactiveLen return the lengths of the two lists.
func (p *LRU) ActiveLen() int   { return p.active.Len() }
func (p *LRU) InactiveLen() int { return p.inactive.Len() }

// deactivate moves the page at the active tail to the inactive head, clearing its A bits.
func (p *LRU) deactivate(m Memory) {
	f, ok := p.active.Back()
	if !ok {
		return
	}
	m.ClearReferenced(f)
	p.active.Remove(f)
	p.inactive.PushFront(f)
}

func (p *LRU) Victim(m Memory) (Frame, string, bool) {
	for n := 3*(p.active.Len()+p.inactive.Len()) + 1; n > 0; n-- {
		if p.inactive.Len() < p.active.Len() {
			p.deactivate(m)
		}
		f, ok := p.inactive.Back()
		if !ok {
			return 0, "", false
		}
		switch {
		case !m.Reclaimable(f):
			p.inactive.PushFront(f) // passed over: looked at again later
		case m.ClearReferenced(f):
			if p.marked.get(f) != 0 {
				p.inactive.Remove(f)
				p.active.PushFront(f) // referenced on two trips: promoted
			} else {
				p.marked.set(f, 1)
				p.inactive.PushFront(f) // referenced once: another trip round the inactive list
			}
		default:
			p.marked.set(f, 0)
			return f, "inactive and not referenced", true
		}
	}
	return 0, "", false
}

// Random reclaims a page chosen uniformly at random (reproducibly: Memory.Rand follows
// --seed). It is the baseline the others must beat.
type Random struct {
	frames []Frame
	pos    frameIndex // index in frames, plus one
}

func (p *Random) Name() string      { return "random" }
func (p *Random) Fault(Frame, bool) {}

func (p *Random) Add(f Frame) {
	if p.pos.get(f) != 0 {
		return
	}
	p.frames = append(p.frames, f)
	p.pos.set(f, int32(len(p.frames)))
}

func (p *Random) Remove(f Frame) {
	i := p.pos.get(f) - 1
	if i < 0 {
		return
	}
	last := p.frames[len(p.frames)-1]
	p.frames[i] = last
	p.pos.set(last, i+1)
	p.frames = p.frames[:len(p.frames)-1]
	p.pos.set(f, 0)
}

func (p *Random) Victim(m Memory) (Frame, string, bool) {
	n := len(p.frames)
	if n == 0 {
		return 0, "", false
	}
	for try := 0; try < 8; try++ {
		if f := p.frames[m.Rand(n)]; m.Reclaimable(f) {
			return f, fmt.Sprintf("random pick of %d", n), true
		}
	}
	// Few are reclaimable: look at each, from a random start.
	start := m.Rand(n)
	for i := 0; i < n; i++ {
		if f := p.frames[(start+i)%n]; m.Reclaimable(f) {
			return f, fmt.Sprintf("random pick of %d", n), true
		}
	}
	return 0, "", false
}
