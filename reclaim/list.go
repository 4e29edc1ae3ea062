package reclaim

// List is a doubly linked list of distinct frames, the building block of the policies here
// and a convenience for your own: insertion, removal, moves and lookups are O(1) and, once
// the list has grown, allocate nothing (the index from a frame to its place is an array
// indexed by frame number, made in chunks as frames are first added). The zero value is an
// empty list.
type List struct {
	nodes []node // nodes[0] is the sentinel: its next is the front, its prev the back
	index frameIndex
	free  []int32
	n     int
}

type node struct {
	f          Frame
	prev, next int32
}

func (l *List) init() {
	if l.nodes == nil {
		l.nodes = []node{{}}
	}
}

// lookup returns f's node, or 0 when f is not in the list.
func (l *List) lookup(f Frame) int32 { return l.index.get(f) }

// frameIndex maps frames to numbers (0: absent) through an array indexed by frame number,
// made in chunks as frames are first set: no hashing, and no allocation once the frames in
// use have been seen.
type frameIndex struct {
	chunks []*[indexChunk]int32
}

// indexChunk is how many frames one chunk of an index covers.
const indexChunk = 1 << 12

func (x *frameIndex) get(f Frame) int32 {
	c := uint64(f) / indexChunk
	if c >= uint64(len(x.chunks)) || x.chunks[c] == nil {
		return 0
	}
	return x.chunks[c][uint64(f)%indexChunk]
}

func (x *frameIndex) set(f Frame, v int32) {
	c := uint64(f) / indexChunk
	if c >= uint64(len(x.chunks)) {
		if v == 0 {
			return
		}
		x.chunks = append(x.chunks, make([]*[indexChunk]int32, c+1-uint64(len(x.chunks)))...)
	}
	if x.chunks[c] == nil {
		if v == 0 {
			return
		}
		x.chunks[c] = new([indexChunk]int32)
	}
	x.chunks[c][uint64(f)%indexChunk] = v
}

// Len returns how many frames the list holds.
func (l *List) Len() int { return l.n }

// Contains reports whether f is in the list.
func (l *List) Contains(f Frame) bool { return l.lookup(f) != 0 }

// PushBack adds f at the back; if f is in the list already it moves there.
func (l *List) PushBack(f Frame) { l.insertAfter(f, l.backIndex()) }

// PushFront adds f at the front; if f is in the list already it moves there.
func (l *List) PushFront(f Frame) { l.insertAfter(f, 0) }

// InsertBefore adds f just before at (at the back when at is not in the list); if f is in
// the list already it moves there.
func (l *List) InsertBefore(f, at Frame) {
	l.init()
	i := l.lookup(at)
	if i == 0 || at == f {
		l.PushBack(f)
		return
	}
	l.insertAfter(f, l.nodes[i].prev)
}

func (l *List) backIndex() int32 {
	l.init()
	return l.nodes[0].prev
}

func (l *List) insertAfter(f Frame, after int32) {
	l.init()
	if i := l.lookup(f); i != 0 {
		if i == after {
			return
		}
		l.unlink(i)
		l.link(i, after)
		return
	}
	var i int32
	if n := len(l.free); n > 0 {
		i = l.free[n-1]
		l.free = l.free[:n-1]
	} else {
		l.nodes = append(l.nodes, node{})
		i = int32(len(l.nodes) - 1)
	}
	l.nodes[i].f = f
	l.index.set(f, i)
	l.n++
	l.link(i, after)
}

func (l *List) link(i, after int32) {
	next := l.nodes[after].next
	l.nodes[i].prev, l.nodes[i].next = after, next
	l.nodes[after].next = i
	l.nodes[next].prev = i
}

func (l *List) unlink(i int32) {
	n := &l.nodes[i]
	l.nodes[n.prev].next = n.next
	l.nodes[n.next].prev = n.prev
}

// Remove takes f out of the list and reports whether it was there.
func (l *List) Remove(f Frame) bool {
	i := l.lookup(f)
	if i == 0 {
		return false
	}
	l.unlink(i)
	l.index.set(f, 0)
	l.n--
	l.free = append(l.free, i)
	return true
}

// Front returns the first frame; ok is false when the list is empty.
func (l *List) Front() (f Frame, ok bool) {
	if l.Len() == 0 {
		return 0, false
	}
	return l.nodes[l.nodes[0].next].f, true
}

// Back returns the last frame; ok is false when the list is empty.
func (l *List) Back() (f Frame, ok bool) {
	if l.Len() == 0 {
		return 0, false
	}
	return l.nodes[l.nodes[0].prev].f, true
}

// Next returns the frame after f; ok is false at the back or when f is not in the list.
func (l *List) Next(f Frame) (Frame, bool) {
	i := l.lookup(f)
	if i == 0 || l.nodes[i].next == 0 {
		return 0, false
	}
	return l.nodes[l.nodes[i].next].f, true
}

// Prev returns the frame before f; ok is false at the front or when f is not in the list.
func (l *List) Prev(f Frame) (Frame, bool) {
	i := l.lookup(f)
	if i == 0 || l.nodes[i].prev == 0 {
		return 0, false
	}
	return l.nodes[l.nodes[i].prev].f, true
}

// Each calls fn for every frame from front to back until fn returns false. fn must not
// change the list.
func (l *List) Each(fn func(Frame) bool) {
	if l.Len() == 0 {
		return
	}
	for i := l.nodes[0].next; i != 0; i = l.nodes[i].next {
		if !fn(l.nodes[i].f) {
			return
		}
	}
}
