package mmu_test

import (
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
)

// This file is a reference model of 4-level paging written from the text of Intel SDM Vol. 3A
// sections 4.5 (the walk), 4.6 (access rights), 4.7 (page-fault error code) and 4.8 (accessed
// and dirty flags). It shares no code with package mmu: the tests compare the MMU, TLB and
// all, against it.

// refState is the part of the processor state a translation depends on.
type refState struct {
	cr3     uint64
	maxPhys uint // MAXPHYADDR, "M" in the SDM's tables
	wp      bool // CR0.WP
	pge     bool // CR4.PGE
	smep    bool // CR4.SMEP
	smap    bool // CR4.SMAP
	nxe     bool // IA32_EFER.NXE
}

// stateOf reads the reference state from the MMU's architectural registers.
func stateOf(m *mmu.MMU) refState {
	return refState{
		cr3:     m.CR3(),
		maxPhys: m.MaxPhysAddr(),
		wp:      m.CR0()&mmu.CR0WP != 0,
		pge:     m.CR4()&mmu.CR4PGE != 0,
		smep:    m.CR4()&mmu.CR4SMEP != 0,
		smap:    m.CR4()&mmu.CR4SMAP != 0,
		nxe:     m.EFER()&mmu.EFERNXE != 0,
	}
}

// refResult is what the reference says a translation does.
type refResult struct {
	gp     bool     // #GP: the address is not canonical
	ok     bool     // the access completes
	pa     uint64   // its physical address, when ok
	code   uint32   // the #PF error code, when neither ok nor gp
	path   []uint64 // physical addresses of the paging-structure entries read, PML4E first
	global bool     // a leaf was reached and is global (G with CR4.PGE), whatever the rights
}

// bits returns a mask with bits hi..lo set (empty when hi < lo).
func bits(hi, lo uint) uint64 {
	if hi < lo {
		return 0
	}
	return (^uint64(0) >> (63 - hi)) &^ (1<<lo - 1)
}

// refRead64 reads a paging-structure entry. Physical addresses outside RAM read as all ones
// (the emulator's bus: nothing answers, the lines float high). This is the one rule here that
// comes from the emulator's documentation rather than from the SDM.
func refRead64(r *ram.RAM, pa uint64) uint64 {
	v, err := r.Read64(pa)
	if err != nil {
		return ^uint64(0)
	}
	return v
}

// refTranslate translates va for acc as SDM Vol. 3A 4.5-4.7 describe 4-level paging.
func refTranslate(r *ram.RAM, s refState, va uint64, acc mmu.Access) refResult {
	var res refResult
	// 4-level paging translates 48-bit linear addresses; bits 63:47 must be equal (3.3.7.1).
	if top := va >> 47; top != 0 && top != 1<<17-1 {
		res.gp = true
		return res
	}
	m := s.maxPhys
	user, write, fetch := acc&mmu.User != 0, acc&mmu.Write != 0, acc&mmu.Fetch != 0

	// 4.7: the error code. P is 0 only for a not-present entry; W/R, U/S report the access;
	// I/D reports a fetch when SMEP is on or when NXE is on (PAE is always on here).
	fault := func(notPresent, rsvd bool) refResult {
		var c uint32
		if !notPresent {
			c |= 1
		}
		if write {
			c |= 1 << 1
		}
		if user {
			c |= 1 << 2
		}
		if rsvd {
			c |= 1 << 3
		}
		if fetch && (s.smep || s.nxe) {
			c |= 1 << 4
		}
		res.code = c
		return res
	}

	// The rights accumulated over the walk (4.6): R/W and U/S must be 1 in every entry for
	// the address to be writable / a user-mode address; XD in any entry forbids fetches.
	rwEvery, usEvery, xdAny := true, true, false

	// Table 4-12: CR3 bits M-1:12 locate the PML4.
	table := s.cr3 & bits(m-1, 12)
	// The linear-address bits that index each level (4.5.4): 47:39, 38:30, 29:21, 20:12.
	var leaf uint64
	var pageShift uint
	for level := 4; ; level-- {
		shift := uint(12 + 9*(level-1))
		ea := table | (va>>shift&0x1ff)<<3
		e := refRead64(r, ea)
		res.path = append(res.path, ea)
		if e&1 == 0 {
			return fault(true, false)
		}
		ps := e&(1<<7) != 0
		isPage := level == 1 || (level == 3 || level == 2) && ps
		// Tables 4-15 to 4-20: reserved bits of each kind of entry.
		rsvd := e&bits(51, m) != 0 || (!s.nxe && e&(1<<63) != 0)
		switch {
		case level == 4 && ps:
			rsvd = true // PML4E bit 7 is reserved
		case level == 3 && isPage:
			rsvd = rsvd || e&bits(29, 13) != 0
		case level == 2 && isPage:
			rsvd = rsvd || e&bits(20, 13) != 0
		}
		if rsvd {
			return fault(false, true)
		}
		rwEvery = rwEvery && e&(1<<1) != 0
		usEvery = usEvery && e&(1<<2) != 0
		xdAny = xdAny || (s.nxe && e&(1<<63) != 0)
		if isPage {
			leaf, pageShift = e, shift
			res.global = s.pge && leaf&(1<<8) != 0
			break
		}
		table = e & bits(m-1, 12)
	}

	if !sdmAllows(s, acc, usEvery, rwEvery, xdAny) {
		return fault(false, false)
	}
	// Physical address: bits M-1:shift from the entry, the rest from the linear address.
	res.ok = true
	res.pa = leaf&bits(m-1, pageShift) | va&(1<<pageShift-1)
	return res
}

// sdmAllows is SDM Vol. 3A 4.6.1, transcribed rule by rule. userAddr: U/S is 1 in every
// paging-structure entry; writable: R/W is 1 in every entry; noExec: XD is 1 in some entry
// (and NXE is on).
func sdmAllows(s refState, acc mmu.Access, userAddr, writable, noExec bool) bool {
	write, fetch, ac := acc&mmu.Write != 0, acc&mmu.Fetch != 0, acc&mmu.AC != 0
	if acc&mmu.User == 0 { // supervisor-mode access (CPL < 3)
		switch {
		case fetch && !userAddr:
			// "Instruction fetches from supervisor-mode addresses: ... if IA32_EFER.NXE = 1,
			// instructions may be fetched from any supervisor-mode address with a
			// translation for which the XD flag is 0 in every paging-structure entry."
			return !noExec
		case fetch && userAddr:
			// "If CR4.SMEP = 1, instructions may not be fetched from any user-mode address."
			return !s.smep && !noExec
		case !write && !userAddr:
			return true // "Data may be read from any supervisor-mode address."
		case !write && userAddr:
			// "If CR4.SMAP = 1, ... data may be read from any user-mode address if EFLAGS.AC
			// = 1 and the access is explicit."
			return !s.smap || ac
		default: // data write
			if userAddr && s.smap && !ac {
				return false // "If CR4.SMAP = 1 and EFLAGS.AC = 0, data may not be written"
			}
			// "If CR0.WP = 0, data may be written to any ... address. If CR0.WP = 1, data
			// may be written to any ... address with a translation for which the R/W flag
			// is 1 in every paging-structure entry."
			return !s.wp || writable
		}
	}
	// User-mode access (CPL = 3): only user-mode addresses.
	if !userAddr {
		return false
	}
	switch {
	case fetch:
		return !noExec // "... from any user-mode address with XD = 0 in every entry"
	case write:
		return writable // "... to user-mode addresses with R/W = 1 in every entry"
	}
	return true // "Data may be read from any user-mode address"
}
