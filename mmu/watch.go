package mmu

// Data watchpoints: the MMU's part of the debug-register model (SDM Vol. 3B 17.2, DR0-DR3
// with DR7's R/W and LEN fields). A debugger outside the machine sets them, as ptrace sets a
// thread's debug registers; the guest never sees them. Unlike DR0-DR3 there may be any
// number, of any length and alignment, and a watchpoint may watch reads alone (DR7 has no
// read-only condition). The processor asks CheckWatch after each data access it makes
// through the slow path, and never remembers a translation of a watched page for its fast
// path (WatchedPage), so no access escapes the check; a hit is a trap, reported after the
// instruction completes, as a data breakpoint is.

// Watchpoint watches the bytes [Addr, Addr+Len) of the address space whose PML4 is at
// physical address Space (CR3 without its flags and PCID: the watchpoint belongs to one
// process, as a thread's debug registers do), for reads, writes or both.
type Watchpoint struct {
	Space     uint64
	Addr, Len uint64
	Read      bool
	Write     bool
}

// WatchHit is the watchpoint the last hit matched, and the access.
type WatchHit struct {
	Watchpoint
	VA     uint64 // the first byte of the access
	Access Access
}

// SetWatchpoints replaces the watchpoints. The change is an epoch (Epoch): a processor
// forgets the translations it remembered, so a newly watched page takes the slow path.
func (m *MMU) SetWatchpoints(ws []Watchpoint) {
	m.watches = append(m.watches[:0], ws...)
	m.epoch++
}

// Watchpoints returns the watchpoints set.
func (m *MMU) Watchpoints() []Watchpoint { return m.watches }

// space is the PML4 address of the current address space.
func (m *MMU) space() uint64 { return m.cr3 & uint64(PTEAddrMask) }

// Watching reports whether a watchpoint applies to the current address space.
func (m *MMU) Watching() bool {
	if len(m.watches) == 0 {
		return false
	}
	s := m.space()
	for i := range m.watches {
		if m.watches[i].Space == s {
			return true
		}
	}
	return false
}

// WatchedPage reports whether a watchpoint of the current address space covers any byte of
// the 4 KiB page holding va.
func (m *MMU) WatchedPage(va uint64) bool {
	if len(m.watches) == 0 {
		return false
	}
	s, page := m.space(), va&^0xfff
	for i := range m.watches {
		w := &m.watches[i]
		if w.Space == s && w.Addr < page+0x1000 && page < w.Addr+w.Len {
			return true
		}
	}
	return false
}

// CheckWatch checks a data access of n bytes at va against the watchpoints and reports
// whether one matched; the first match is recorded for LastWatchHit.
func (m *MMU) CheckWatch(va, n uint64, acc Access) bool {
	s := m.space()
	for i := range m.watches {
		w := &m.watches[i]
		if w.Space != s || va >= w.Addr+w.Len || w.Addr >= va+n {
			continue
		}
		if (acc&Write != 0 && w.Write) || (acc&Write == 0 && w.Read) {
			m.hit = WatchHit{Watchpoint: *w, VA: va, Access: acc}
			m.hits++
			return true
		}
	}
	return false
}

// LastWatchHit returns the watchpoint the last match of CheckWatch found, and how many
// matches there have been (a debugger compares the count to know whether a new one came).
func (m *MMU) LastWatchHit() (WatchHit, uint64) { return m.hit, m.hits }
