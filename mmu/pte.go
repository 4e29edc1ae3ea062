package mmu

import (
	"fmt"
	"strings"
)

// PTE is one 64-bit paging-structure entry in the exact Intel format (SDM Vol. 3A, tables
// 4-15 to 4-20). The same type serves all four levels; which bits mean what at each level is
// told by the constants below.
type PTE uint64

// Paging-structure entry bits.
const (
	PTEPresent  PTE = 1 << 0  // P: the entry maps a page or references a table
	PTEWrite    PTE = 1 << 1  // R/W: writes allowed (when 1 at every level)
	PTEUser     PTE = 1 << 2  // U/S: user-mode accesses allowed (when 1 at every level)
	PTEPWT      PTE = 1 << 3  // page-level write-through
	PTEPCD      PTE = 1 << 4  // page-level cache disable
	PTEAccessed PTE = 1 << 5  // A: set by the processor when the entry is used
	PTEDirty    PTE = 1 << 6  // D: set by the processor on a write (leaf entries only)
	PTEPageSize PTE = 1 << 7  // PS in a PDPTE or PDE: maps a 1 GiB or 2 MiB page; PAT in a PTE
	PTEGlobal   PTE = 1 << 8  // G: global translation (leaf entries, with CR4.PGE)
	PTENoExec   PTE = 1 << 63 // XD: instruction fetches disallowed (with EFER.NXE)

	// PTESoftMask covers bits 9-11, which the processor ignores and leaves to software.
	PTESoftMask PTE = 7 << 9
	// PTESoftShift is the position of the lowest software bit.
	PTESoftShift = 9

	// PTEAddrMask covers bits 51:12, where an entry holds a physical address. Bits at and
	// above MAXPHYADDR within it are reserved.
	PTEAddrMask PTE = 0x000F_FFFF_FFFF_F000
)

// Addr returns the physical address held in bits 51:12 (for a large-page leaf, the caller
// masks off the low bits that belong to the page offset and the PAT bit).
func (p PTE) Addr() uint64 { return uint64(p & PTEAddrMask) }

// Frame returns the physical frame number held in the entry.
func (p PTE) Frame() uint64 { return p.Addr() >> 12 }

// Soft returns the three software-available bits 9-11.
func (p PTE) Soft() uint8 { return uint8((p & PTESoftMask) >> PTESoftShift) }

// WithSoft returns p with bits 9-11 replaced by v (low three bits).
func (p PTE) WithSoft(v uint8) PTE {
	return p&^PTESoftMask | PTE(v&7)<<PTESoftShift
}

// String spells the entry the way a student reads it: the bits that are set, by name, then
// the frame. An entry that is not present says so and shows its raw value.
func (p PTE) String() string {
	if p&PTEPresent == 0 {
		if p == 0 {
			return "not present"
		}
		return fmt.Sprintf("not present (raw %#x)", uint64(p))
	}
	var b strings.Builder
	for _, f := range []struct {
		bit  PTE
		name string
	}{{PTEPresent, "P"}, {PTEWrite, "RW"}, {PTEUser, "US"}, {PTEPWT, "PWT"}, {PTEPCD, "PCD"},
		{PTEAccessed, "A"}, {PTEDirty, "D"}, {PTEPageSize, "PS"}, {PTEGlobal, "G"}, {PTENoExec, "NX"}} {
		if p&f.bit != 0 {
			b.WriteString(f.name)
			b.WriteByte(' ')
		}
	}
	if s := p.Soft(); s != 0 {
		fmt.Fprintf(&b, "soft=%d ", s)
	}
	fmt.Fprintf(&b, "frame=%#x", p.Frame())
	return b.String()
}

// Error-code bits of a page-fault exception (SDM Vol. 3A 4.7).
const (
	ErrPresent  uint32 = 1 << 0 // P: 0 = not-present page, 1 = protection violation
	ErrWrite    uint32 = 1 << 1 // W/R: the access was a write
	ErrUser     uint32 = 1 << 2 // U/S: the access was a user-mode access
	ErrReserved uint32 = 1 << 3 // RSVD: a reserved bit was set in some paging-structure entry
	ErrFetch    uint32 = 1 << 4 // I/D: the access was an instruction fetch (see Fault)
)

// DecodeErrorCode spells a page-fault error code: "P W U RSVD I" with '-' for clear bits.
func DecodeErrorCode(code uint32) string {
	names := []struct {
		bit       uint32
		set, clrd string
	}{{ErrPresent, "P", "-"}, {ErrWrite, "W", "-"}, {ErrUser, "U", "-"}, {ErrReserved, "RSVD", "-"}, {ErrFetch, "I", "-"}}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n.clrd
		if code&n.bit != 0 {
			parts[i] = n.set
		}
	}
	return strings.Join(parts, " ")
}
