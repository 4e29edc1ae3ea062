package reclaim

// List is a doubly linked list of distinct frames, the building block of the policies here
// and a convenience for your own: insertion, removal and moves are O(1) and, once the list
// has grown, allocate nothing. The zero value is an empty list.
type List struct {
	nodes []node // nodes[0] is the sentinel: its next is the front, its prev the back
	index map[Frame]int32
	free  []int32
}

type node struct {
	f          Frame
	prev, next int32
}

func (l *List) init() {
	if l.nodes == nil {
		l.nodes = []node{{}}
		l.index = map[Frame]int32{}
	}
}

// Len returns how many frames the list holds.
func (l *List) Len() int { return len(l.index) }

// Contains reports whether f is in the list.
func (l *List) Contains(f Frame) bool {
	_, ok := l.index[f]
	return ok
}

// PushBack adds f at the back; if f is in the list already it moves there.
func (l *List) PushBack(f Frame) { l.insertAfter(f, l.backIndex()) }

// PushFront adds f at the front; if f is in the list already it moves there.
func (l *List) PushFront(f Frame) { l.insertAfter(f, 0) }

// InsertBefore adds f just before at (at the back when at is not in the list); if f is in
// the list already it moves there.
func (l *List) InsertBefore(f, at Frame) {
	l.init()
	i, ok := l.index[at]
	if !ok || at == f {
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
	if i, ok := l.index[f]; ok {
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
	l.index[f] = i
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
	i, ok := l.index[f]
	if !ok {
		return false
	}
	l.unlink(i)
	delete(l.index, f)
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
	i, ok := l.index[f]
	if !ok || l.nodes[i].next == 0 {
		return 0, false
	}
	return l.nodes[l.nodes[i].next].f, true
}

// Prev returns the frame before f; ok is false at the front or when f is not in the list.
func (l *List) Prev(f Frame) (Frame, bool) {
	i, ok := l.index[f]
	if !ok || l.nodes[i].prev == 0 {
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
