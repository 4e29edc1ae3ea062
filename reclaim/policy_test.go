package reclaim

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
)

// simMemory is a machine in miniature for policy tests: each page of a reference string
// lives in its own frame (the frame number is the page number) with one PTE whose A bit an
// access sets.
type simMemory struct {
	pte     map[Frame]mmu.PTE
	locked  map[Frame]bool
	rng     *rand.Rand
	scanned int
}

func newSim() *simMemory {
	return &simMemory{pte: map[Frame]mmu.PTE{}, locked: map[Frame]bool{}, rng: rand.New(rand.NewPCG(1, 2))}
}

func (m *simMemory) Referenced(f Frame) bool { m.scanned++; return m.pte[f]&mmu.PTEAccessed != 0 }
func (m *simMemory) ClearReferenced(f Frame) bool {
	m.scanned++
	was := m.pte[f]&mmu.PTEAccessed != 0
	m.pte[f] &^= mmu.PTEAccessed
	return was
}
func (m *simMemory) Dirty(f Frame) bool { return m.pte[f]&mmu.PTEDirty != 0 }
func (m *simMemory) PTEs(f Frame, buf []mmu.PTE) []mmu.PTE {
	if e, ok := m.pte[f]; ok {
		buf = append(buf, e)
	}
	return buf
}
func (m *simMemory) Reclaimable(f Frame) bool { m.scanned++; return !m.locked[f] }
func (m *simMemory) Anonymous(Frame) bool     { return true }
func (m *simMemory) Rand(n int) int           { return m.rng.IntN(n) }

// simulate runs refs through p with room for frames pages and returns the faults.
func simulate(t *testing.T, p Policy, frames int, refs []int) int {
	m := newSim()
	faults := 0
	for _, r := range refs {
		f := Frame(r)
		if _, ok := m.pte[f]; ok {
			m.pte[f] |= mmu.PTEAccessed
			continue
		}
		faults++
		if len(m.pte) == frames {
			v, why, ok := p.Victim(m)
			require.True(t, ok, "%s found no victim", p.Name())
			require.NotEmpty(t, why)
			_, resident := m.pte[v]
			require.True(t, resident, "%s chose frame %v, which it was never given or was removed", p.Name(), v)
			delete(m.pte, v)
			p.Remove(v)
		}
		m.pte[f] = mmu.PTEPresent | mmu.PTEAccessed
		p.Add(f)
		p.Fault(f, true)
	}
	return faults
}

func policy(t *testing.T, name string) Policy {
	p, err := New(name)
	require.NoError(t, err)
	require.Equal(t, name, p.Name())
	return p
}

var beladyString = []int{1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5}

// Belady's anomaly (Belady, Nelson and Shedler 1969; OSTEP 22.5): FIFO faults 9 times with 3
// frames and 10 times with 4 on this string.
func TestFIFOBeladyAnomaly(t *testing.T) {
	assert.Equal(t, 9, simulate(t, policy(t, "fifo"), 3, beladyString))
	assert.Equal(t, 10, simulate(t, policy(t, "fifo"), 4, beladyString))
}

// Clock is not a stack algorithm: on Belady's string every page is referenced when loaded
// and never again before the hand comes round, so the A bits carry no information and clock
// behaves exactly like FIFO, anomaly and all. lru's second trip round the inactive list
// spares it the anomaly here (10 faults with either size).
func TestBeladyStringDefeatsABits(t *testing.T) {
	assert.Equal(t, 9, simulate(t, policy(t, "clock"), 3, beladyString))
	assert.Equal(t, 10, simulate(t, policy(t, "clock"), 4, beladyString))
	assert.Equal(t, 10, simulate(t, policy(t, "lru"), 3, beladyString))
	assert.Equal(t, 10, simulate(t, policy(t, "lru"), 4, beladyString))
}

// optimal counts the faults of Belady's MIN (OPT) on refs with room for frames pages: the
// victim is the resident page whose next use lies furthest in the future (or never comes).
// It needs the future, so it can be no policy of a kernel; it is the yardstick: no policy
// faults less on any string.
func optimal(frames int, refs []int) int {
	resident := map[int]bool{}
	faults := 0
	for i, r := range refs {
		if resident[r] {
			continue
		}
		faults++
		if len(resident) == frames {
			victim, furthest := 0, -1
			for p := range resident {
				next := len(refs) // never used again
				for j := i + 1; j < len(refs); j++ {
					if refs[j] == p {
						next = j
						break
					}
				}
				if next > furthest || next == furthest && p < victim {
					victim, furthest = p, next
				}
			}
			delete(resident, victim)
		}
		resident[r] = true
	}
	return faults
}

// The optimal replacement on Belady's string faults 7 times with 3 frames and 6 with 4 (a
// stack algorithm: more frames never cost more faults); no policy does better than it, on
// that string or on a hot-set loop, with any number of frames.
func TestNoPolicyBeatsOptimal(t *testing.T) {
	assert.Equal(t, 7, optimal(3, beladyString))
	assert.Equal(t, 6, optimal(4, beladyString))
	assert.Equal(t, 5, optimal(5, beladyString))
	var hot []int
	for round := 0; round < 100; round++ {
		hot = append(hot, 0, 1, 2, 3, 4, 5, 100+round)
	}
	for _, refs := range [][]int{beladyString, hot} {
		for frames := 1; frames <= 8; frames++ {
			best := optimal(frames, refs)
			if frames > 1 {
				assert.LessOrEqual(t, best, optimal(frames-1, refs), "OPT with %d frames", frames)
			}
			for _, name := range Names() {
				assert.GreaterOrEqual(t, simulate(t, policy(t, name), frames, refs), best,
					"%s with %d frames of %d refs", name, frames, len(refs))
			}
		}
	}
}

// A loop over a hot set with a cold page now and then: the policies that read A bits keep
// the hot set; FIFO evicts hot pages in turn and faults them back.
func TestHotSetClockBeatsFIFO(t *testing.T) {
	var refs []int
	cold := 100
	for round := 0; round < 200; round++ {
		for h := 0; h < 6; h++ {
			refs = append(refs, h)
		}
		refs = append(refs, cold)
		cold++
	}
	faults := map[string]int{}
	for _, name := range Names() {
		faults[name] = simulate(t, policy(t, name), 8, refs)
	}
	assert.Less(t, faults["clock"], faults["fifo"], "%v", faults)
	assert.Less(t, faults["lru"], faults["fifo"], "%v", faults)
	// Every cold page faults once, the six hot pages once each, and a few hot pages again
	// while the lists or the hand settle.
	assert.LessOrEqual(t, faults["clock"], 200+6+6, "%v", faults)
	assert.LessOrEqual(t, faults["lru"], 200+6+6, "%v", faults)
}

// Locked frames (Reclaimable false) are never chosen.
func TestVictimSkipsUnreclaimable(t *testing.T) {
	for _, name := range Names() {
		p := policy(t, name)
		m := newSim()
		for f := Frame(1); f <= 5; f++ {
			m.pte[f] = mmu.PTEPresent
			p.Add(f)
		}
		for f := Frame(1); f <= 4; f++ {
			m.locked[f] = true
		}
		v, _, ok := p.Victim(m)
		require.True(t, ok, name)
		assert.Equal(t, Frame(5), v, name)
		m.locked[5] = true
		_, _, ok = p.Victim(m)
		assert.False(t, ok, "%s: nothing reclaimable", name)
		p.Remove(3)
		p.Remove(42) // never added: ignored
	}
}

func TestClockSecondChanceClearsA(t *testing.T) {
	p := policy(t, "clock")
	m := newSim()
	for f := Frame(1); f <= 3; f++ {
		m.pte[f] = mmu.PTEPresent | mmu.PTEAccessed
		p.Add(f)
	}
	m.pte[2] &^= mmu.PTEAccessed
	v, _, ok := p.Victim(m)
	require.True(t, ok)
	assert.Equal(t, Frame(2), v)
	assert.Zero(t, m.pte[1]&mmu.PTEAccessed, "frame 1 got its second chance: A cleared")
	assert.NotZero(t, m.pte[3]&mmu.PTEAccessed, "the hand stopped before frame 3")
}

func TestUnknownPolicy(t *testing.T) {
	_, err := New("belady")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "clock, fifo, lru, random")
	assert.Panics(t, func() { Register("fifo", func() Policy { return new(FIFO) }) })
}

func TestList(t *testing.T) {
	var l List
	_, ok := l.Front()
	assert.False(t, ok)
	for f := Frame(1); f <= 4; f++ {
		l.PushBack(f)
	}
	l.PushFront(3)
	l.InsertBefore(9, 2)
	assert.True(t, l.Remove(4))
	assert.False(t, l.Remove(4))
	var got []Frame
	l.Each(func(f Frame) bool { got = append(got, f); return true })
	assert.Equal(t, []Frame{3, 1, 9, 2}, got)
	b, _ := l.Back()
	assert.Equal(t, Frame(2), b)
	n, ok := l.Next(1)
	assert.True(t, ok)
	assert.Equal(t, Frame(9), n)
	_, ok = l.Next(2)
	assert.False(t, ok)
	pr, _ := l.Prev(9)
	assert.Equal(t, Frame(1), pr)
	l.PushBack(5) // reuses the freed node
	assert.Equal(t, 5, l.Len())
	assert.True(t, l.Contains(5))
}
