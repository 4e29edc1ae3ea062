package cpu

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
	"github.com/vmemu/vmemu/tlb"
)

// Memory access. Every access is a user-mode access translated by the MMU; a failed
// translation raises the exception (the instruction then has no effect, because every
// handler does its loads, and translates its stores, before it changes any register).
// An access that crosses a page boundary translates both pages before touching either.
//
// The fast path. Searching the TLB model (a set-associative array with LRU ages) costs more
// than the rest of a load, so the CPU remembers, per page, the TLB entry its last
// translation went through and the host bytes of the frame (the "micro-TLB" below). This is
// not a second TLB: an entry is used only while the TLB's generation (tlb.TLB.Gen), the MMU's
// epoch and the control registers are unchanged since it was recorded, which is exactly
// while the TLB model would return the same entry, and every use is reported to the TLB with
// tlb.TLB.Hit, so hit counts and replacement ages are those of a search. A stale PTE
// therefore behaves exactly as the TLB model says. Writes take the fast path only through an
// entry that is writable and dirty (the model would not walk) into a frame holding no
// decoded code (no snoop is needed); alignment checking (CR0.AM with RFLAGS.AC) disables the
// fast path altogether.

const (
	utlbSize  = 256 // data pages remembered, direct-mapped by page number (as many as the DTLB holds)
	uitlbSize = 16  // code pages remembered
	noTag     = ^uint64(0)
)

// utlbEntry remembers one data page.
type utlbEntry struct {
	rtag  uint64 // page number (linear address >> 12) that reads may use, or noTag
	wtag  uint64 // page number that writes may use, or noTag
	base  uint64 // physical address of the frame
	frame *ram.Frame
	e     *tlb.Entry
}

// uitlbEntry remembers one code page.
type uitlbEntry struct {
	tag  uint64 // page number, or noTag
	base uint64 // physical address of the 4 KiB frame
	e    *tlb.Entry
}

// microState is what the remembered entries were valid for.
type microState struct {
	dgen, igen, epoch uint64
	cr0, cr4, efer    uint64
}

// translate returns the physical address of va for acc, or raises the fault. It searches
// the TLB model (through the MMU); see xlate for the fast path.
func (c *CPU) translate(va uint64, acc mmu.Access) uint64 {
	pa, f := c.mmu.Translate(va, acc|mmu.User)
	c.syncMicro() // the search may have filled, evicted or invalidated
	if f != nil {
		c.raiseMMU(f)
	}
	return pa
}

// syncMicro brings the remembered pages up to date with the TLBs after a search: when the
// only change in a TLB is one fill, only the pages of the entry written and of the entry it
// replaced can translate differently now, and only they are forgotten; after anything else
// (an invalidation, a flush, several fills) everything is.
func (c *CPU) syncMicro() {
	if c.mmu.Epoch() != c.micro.epoch {
		c.flushMicro()
		return
	}
	if g := c.dtlb.Gen(); g != c.micro.dgen {
		if gen, written, rvpn, rsize, replaced := c.dtlb.LastFillPages(); g == c.micro.dgen+1 && gen == g &&
			written.Size == tlb.Size4K && (!replaced || rsize == tlb.Size4K) && c.itlb != c.dtlb {
			// oneFill and forgetPages, written out for the one fill of a 4 KiB page over
			// another that nearly every data TLB miss is.
			if u := &c.utlb[written.VPN&(utlbSize-1)]; u.rtag == written.VPN {
				u.rtag, u.wtag = noTag, noTag
			}
			if u := &c.utlb[rvpn&(utlbSize-1)]; replaced && u.rtag == rvpn {
				u.rtag, u.wtag = noTag, noTag
			}
		} else if !c.oneFill(c.dtlb, c.micro.dgen, g) {
			c.flushMicro()
			return
		}
		c.micro.dgen = g
		if c.itlb == c.dtlb {
			c.micro.igen = g
		}
	}
	if g := c.itlb.Gen(); g != c.micro.igen {
		if !c.oneFill(c.itlb, c.micro.igen, g) {
			c.flushMicro()
			return
		}
		c.micro.igen = g
	}
}

// oneFill handles a TLB whose only change since generation old is one fill, by forgetting
// the pages it can have changed, and reports whether that was the case.
func (c *CPU) oneFill(t *tlb.TLB, old, now uint64) bool {
	gen, written, rvpn, rsize, replaced := t.LastFillPages()
	if now != old+1 || gen != now {
		return false
	}
	c.forgetPages(t, written.VPN, written.Size)
	if replaced {
		c.forgetPages(t, rvpn, rsize)
	}
	return true
}

// forgetPages forgets the remembered pages from vpn on, as many as a page of size covers,
// that were translated through t.
func (c *CPU) forgetPages(t *tlb.TLB, vpn uint64, size tlb.PageSize) {
	n := size.Bytes() >> 12
	if t == c.dtlb {
		if n == 1 {
			if u := &c.utlb[vpn&(utlbSize-1)]; u.rtag == vpn {
				u.rtag, u.wtag = noTag, noTag
			}
		} else {
			for i := range c.utlb {
				if u := &c.utlb[i]; u.rtag-vpn < n {
					u.rtag, u.wtag = noTag, noTag
				}
			}
		}
	}
	if t == c.itlb {
		for i := range c.uitlb {
			if u := &c.uitlb[i]; u.tag-vpn < n {
				u.tag = noTag
			}
		}
		c.codeGen++ // chained blocks went through the old ITLB contents
	}
}

// syncMicroFull is syncMicro that also checks the control registers and the alignment-check
// state, which only change between runs (or at POPF, which calls it).
func (c *CPU) syncMicroFull() {
	m := c.mmu
	if m.CR0() != c.micro.cr0 || m.CR4() != c.micro.cr4 || m.EFER() != c.micro.efer {
		c.flushMicro()
		return
	}
	c.syncMicro()
}

// flushMicro forgets every remembered page, and every chain between blocks.
func (c *CPU) flushMicro() {
	for i := range c.utlb {
		c.utlb[i].rtag, c.utlb[i].wtag = noTag, noTag
	}
	for i := range c.uitlb {
		c.uitlb[i].tag = noTag
	}
	c.codeGen++
	m := c.mmu
	// Field by field: a microState built whole is copied with 16-byte moves, which the host
	// does not forward from the stores that built it nor to the loads of syncMicro after.
	mc := &c.micro
	mc.dgen, mc.igen, mc.epoch = c.dtlb.Gen(), c.itlb.Gen(), m.Epoch()
	mc.cr0, mc.cr4, mc.efer = m.CR0(), m.CR4(), m.EFER()
}

// remember records the translation of va to pa that the MMU just made for a data access.
//
// Preconditions: the last MMU call was a successful Translate of va, followed by syncMicro.
func (c *CPU) remember(va, pa uint64) {
	e := c.mmu.LastEntry()
	base := pa &^ 0xfff
	if e == nil || base+ram.FrameSize > uint64(len(c.mem)) || c.alignChecking() || c.noMicro ||
		c.watching && c.mmu.WatchedPage(va) {
		return
	}
	u := &c.utlb[va>>12&(utlbSize-1)]
	u.rtag, u.wtag = noTag, noTag
	if e.Perm&tlb.PermUser == 0 {
		return
	}
	u.rtag = va >> 12
	const rwd = tlb.PermWrite | tlb.PermUser | tlb.PermDirty
	if e.Perm&rwd == rwd && !c.ram.IsCode(base>>12) {
		u.wtag = va >> 12
	}
	u.base = base
	u.frame = (*ram.Frame)(c.mem[base : base+ram.FrameSize])
	u.e = e
}

// forgetFrameWrites stops fast-path writes into frame pfn, which now holds decoded code.
func (c *CPU) forgetFrameWrites(pfn uint64) {
	for i := range c.utlb {
		if u := &c.utlb[i]; u.base>>12 == pfn {
			u.wtag = noTag
		}
	}
}

// xlate returns the physical address of va for a data access (read or write), through the
// remembered page when there is one.
func (c *CPU) xlate(va uint64, acc mmu.Access) uint64 {
	u := &c.utlb[va>>12&(utlbSize-1)]
	tag := u.rtag
	if acc&mmu.Write != 0 {
		tag = u.wtag
	}
	if tag == va>>12 {
		c.dtlb.Hit(u.e)
		return u.base | va&0xfff
	}
	pa := c.translate(va, acc)
	c.remember(va, pa)
	return pa
}

// physical checks that [pa, pa+n) is RAM; an access to a physical address with no memory
// behind it is a machine check, which only a page table pointing past RAM can cause.
func (c *CPU) physical(pa, n uint64) {
	if pa+n > uint64(len(c.mem)) || pa+n < pa {
		c.raise(VecMC, 0, pa)
	}
}

// alignChecking reports whether misaligned data accesses raise #AC: CR0.AM and RFLAGS.AC
// are set (CPL is always 3 here). Linux sets CR0.AM, so a program that sets AC gets SIGBUS
// for a misaligned access (SDM Vol. 3A 6.15, "Interrupt 17").
func (c *CPU) alignChecking() bool {
	return c.rflags&FlagAC != 0 && c.mmu.CR0()&mmu.CR0AM != 0
}

// checkAlign raises #AC(0) if alignment checking is on and va is not a multiple of size
// (a power of two).
func (c *CPU) checkAlign(va uint64, size uint8) {
	if va&uint64(size-1) != 0 && c.alignChecking() {
		c.raise(VecAC, 0, 0)
	}
}

// read loads size (1, 2, 4 or 8) bytes at va.
func (c *CPU) read(va uint64, size uint8) uint64 {
	u := &c.utlb[va>>12&(utlbSize-1)]
	if off := va & 0xfff; u.rtag == va>>12 && off <= 0xff8 {
		// Eight bytes of the frame, masked to size: no switch on a size that alternates
		// (int and pointer loads, as in a comparison function) and mispredicts.
		c.dtlb.Hit(u.e)
		return binary.LittleEndian.Uint64(u.frame[off:]) & sizeMask[size&15]
	}
	if off := va & 0xfff; u.rtag == va>>12 && off <= 0x1000-uint64(size) {
		c.dtlb.Hit(u.e)
		f := u.frame
		switch size {
		case 1:
			return uint64(f[off])
		case 2:
			return uint64(binary.LittleEndian.Uint16(f[off:]))
		case 4:
			return uint64(binary.LittleEndian.Uint32(f[off:]))
		default:
			return binary.LittleEndian.Uint64(f[off:])
		}
	}
	return c.readSlow(va, size)
}

// readSlow is read through the TLB model.
func (c *CPU) readSlow(va uint64, size uint8) uint64 {
	n := uint64(size)
	c.checkAlign(va, size)
	if va&0xfff <= 0x1000-n {
		pa := c.translate(va, mmu.Read)
		c.physical(pa, n)
		c.remember(va, pa)
		if c.watching {
			c.watchAccess(va, n, mmu.Read)
		}
		switch size {
		case 1:
			return uint64(c.mem[pa])
		case 2:
			return uint64(binary.LittleEndian.Uint16(c.mem[pa:]))
		case 4:
			return uint64(binary.LittleEndian.Uint32(c.mem[pa:]))
		default:
			return binary.LittleEndian.Uint64(c.mem[pa:])
		}
	}
	var buf [8]byte
	c.readBytes(va, buf[:n], mmu.Read)
	return binary.LittleEndian.Uint64(buf[:])
}

// readBytes fills buf from linear address va (any length, any alignment) with access acc.
func (c *CPU) readBytes(va uint64, buf []byte, acc mmu.Access) {
	// Translate every page first, so a fault leaves nothing half done.
	c.probe(va, uint64(len(buf)), acc)
	if c.watching {
		c.watchAccess(va, uint64(len(buf)), acc)
	}
	for len(buf) > 0 {
		pa := c.xlate(va, acc)
		chunk := min(uint64(len(buf)), 0x1000-va&0xfff)
		c.physical(pa, chunk)
		copy(buf, c.mem[pa:pa+chunk])
		buf = buf[chunk:]
		va += chunk
	}
}

// probe translates every page of [va, va+n) for acc, raising the first fault.
func (c *CPU) probe(va, n uint64, acc mmu.Access) {
	if n == 0 {
		return
	}
	last := (va + n - 1) &^ 0xfff
	for p := va &^ 0xfff; ; p += 0x1000 {
		a := p
		if a < va {
			a = va
		}
		if acc&mmu.Fetch != 0 {
			c.translate(a, acc)
		} else {
			c.xlate(a, acc)
		}
		if p == last {
			return
		}
	}
}

// write stores size (1, 2, 4 or 8) bytes at va.
func (c *CPU) write(va uint64, size uint8, v uint64) {
	u := &c.utlb[va>>12&(utlbSize-1)]
	if off := va & 0xfff; u.wtag == va>>12 && off <= 0x1000-uint64(size) {
		c.dtlb.Hit(u.e)
		f := u.frame
		switch size {
		case 1:
			f[off] = uint8(v)
		case 2:
			binary.LittleEndian.PutUint16(f[off:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(f[off:], uint32(v))
		default:
			binary.LittleEndian.PutUint64(f[off:], v)
		}
		return
	}
	c.writeSlow(va, size, v)
}

// writeSlow is write through the TLB model.
func (c *CPU) writeSlow(va uint64, size uint8, v uint64) {
	n := uint64(size)
	c.checkAlign(va, size)
	if va&0xfff <= 0x1000-n {
		pa := c.translate(va, mmu.Write)
		c.physical(pa, n)
		switch size {
		case 1:
			c.mem[pa] = uint8(v)
		case 2:
			binary.LittleEndian.PutUint16(c.mem[pa:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(c.mem[pa:], uint32(v))
		default:
			binary.LittleEndian.PutUint64(c.mem[pa:], v)
		}
		c.stored(pa)
		c.remember(va, pa)
		if c.watching {
			c.watchAccess(va, n, mmu.Write)
		}
		return
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	c.writeBytes(va, buf[:n])
}

// writeBytes stores buf at linear address va.
func (c *CPU) writeBytes(va uint64, buf []byte) {
	c.probe(va, uint64(len(buf)), mmu.Write)
	if c.watching {
		c.watchAccess(va, uint64(len(buf)), mmu.Write)
	}
	for len(buf) > 0 {
		pa := c.xlate(va, mmu.Write)
		chunk := min(uint64(len(buf)), 0x1000-va&0xfff)
		c.physical(pa, chunk)
		copy(c.mem[pa:pa+chunk], buf)
		c.stored(pa)
		buf = buf[chunk:]
		va += chunk
	}
}

// write80 is writeBytes of an x87 extended real (FSTP m80fp): the same probe and
// translations, but the significand and the sign-exponent are stored into the frame
// directly when the ten bytes stay in one page. (Built in a [10]byte first, they were read
// back by copy with overlapping 8-byte loads that the store buffer cannot forward.)
func (c *CPU) write80(va, mant uint64, se uint16) {
	if va&0xfff > 0x1000-10 {
		var b [10]byte
		binary.LittleEndian.PutUint64(b[:], mant)
		binary.LittleEndian.PutUint16(b[8:], se)
		c.writeBytes(va, b[:])
		return
	}
	c.probe(va, 10, mmu.Write)
	if c.watching {
		c.watchAccess(va, 10, mmu.Write)
	}
	pa := c.xlate(va, mmu.Write)
	c.physical(pa, 10)
	binary.LittleEndian.PutUint64(c.mem[pa:], mant)
	binary.LittleEndian.PutUint16(c.mem[pa+8:], se)
	c.stored(pa)
}

// stored tells the RAM's snoop about a store to the frame holding pa.
func (c *CPU) stored(pa uint64) {
	if c.ram.IsCode(pa >> 12) {
		c.ram.NoteWrite(pa >> 12)
	}
}

// checkWrite makes sure a read-modify-write of size bytes at va can complete: it translates
// for writing (setting D) before the read, so a read-only page faults as a write.
func (c *CPU) checkWrite(va uint64, size uint8) {
	c.probe(va, uint64(size), mmu.Write)
}

// push stores v below RSP and moves RSP; a fault leaves RSP unchanged.
func (c *CPU) push(v uint64) {
	sp := c.r[RSP] - 8
	c.write64(sp, v)
	c.r[RSP] = sp
}

// read64 is read(va, 8), small enough to be inlined into the stack operations.
func (c *CPU) read64(va uint64) uint64 {
	u := &c.utlb[va>>12&(utlbSize-1)]
	if u.rtag == va>>12 && va&0xfff <= 0xff8 {
		c.dtlb.Hit(u.e)
		return binary.LittleEndian.Uint64(u.frame[va&0xfff:])
	}
	return c.readSlow(va, 8)
}

// write64 is write(va, 8, v), small enough to be inlined.
func (c *CPU) write64(va, v uint64) {
	u := &c.utlb[va>>12&(utlbSize-1)]
	if u.wtag == va>>12 && va&0xfff <= 0xff8 {
		c.dtlb.Hit(u.e)
		binary.LittleEndian.PutUint64(u.frame[va&0xfff:], v)
		return
	}
	c.writeSlow(va, 8, v)
}
