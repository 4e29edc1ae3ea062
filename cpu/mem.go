package cpu

import (
	"encoding/binary"

	"vmemu/mmu"
)

// Memory access. Every access is a user-mode access translated by the MMU; a failed
// translation raises the exception (the instruction then has no effect, because every
// handler does its loads, and translates its stores, before it changes any register).
// An access that crosses a page boundary translates both pages before touching either.

// translate returns the physical address of va for acc, or raises the fault.
func (c *CPU) translate(va uint64, acc mmu.Access) uint64 {
	pa, f := c.mmu.Translate(va, acc|mmu.User)
	if f != nil {
		c.raiseMMU(f)
	}
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
	n := uint64(size)
	c.checkAlign(va, size)
	if va&0xfff <= 0x1000-n {
		pa := c.translate(va, mmu.Read)
		c.physical(pa, n)
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
	for len(buf) > 0 {
		pa := c.translate(va, acc)
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
		c.translate(a, acc)
		if p == last {
			return
		}
	}
}

// write stores size (1, 2, 4 or 8) bytes at va.
func (c *CPU) write(va uint64, size uint8, v uint64) {
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
		return
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], v)
	c.writeBytes(va, buf[:n])
}

// writeBytes stores buf at linear address va.
func (c *CPU) writeBytes(va uint64, buf []byte) {
	c.probe(va, uint64(len(buf)), mmu.Write)
	for len(buf) > 0 {
		pa := c.translate(va, mmu.Write)
		chunk := min(uint64(len(buf)), 0x1000-va&0xfff)
		c.physical(pa, chunk)
		copy(c.mem[pa:pa+chunk], buf)
		c.stored(pa)
		buf = buf[chunk:]
		va += chunk
	}
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
	c.write(sp, 8, v)
	c.r[RSP] = sp
}

// pop loads the value at RSP and moves RSP up.
func (c *CPU) pop() uint64 {
	v := c.read(c.r[RSP], 8)
	c.r[RSP] += 8
	return v
}
