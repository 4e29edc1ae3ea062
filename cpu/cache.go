package cpu

import (
	"golang.org/x/arch/x86/x86asm"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The decoded-code cache. A block is a run of instructions decoded from one physical page,
// ending at an unconditional control transfer, an instruction that traps, the page end or
// maxBlock instructions; a conditional branch taken leaves it early. Entering a block is one
// instruction fetch, one ITLB lookup. Blocks are keyed by the physical address of their first byte, so code shared
// between processes (or mapped twice) is decoded once; branch targets are kept relative to
// the block start, so a block runs at whatever linear address maps it.
//
// When a block is cached its frame is marked in the RAM's code bitmap; a store into that
// frame, by the CPU or by anyone writing RAM, drops every block of the frame.

const (
	maxBlock   = 64
	tableSize  = 4096 // direct-mapped first-level table
	maxInstLen = 15
	// maxCachedInsts bounds the decoded instructions the cache holds (about 100 bytes
	// each): past it the whole cache is dropped and code is decoded again as it runs, as
	// QEMU flushes a full translation cache. Host memory then stays bounded whatever code
	// a guest makes (code entered at every byte offset decodes many overlapping blocks);
	// large programs (CPython: about 160,000) stay well under it.
	maxCachedInsts = 1 << 19
)

type block struct {
	pa    uint64 // physical address of the first instruction
	insts []inst // optimized for speed (int_fast.go)
	raw   []inst // as decoded, for exact execution
	size  uint16 // bytes covered
	end   uint16 // while executing: how many instructions this run of the block executes
	valid bool
	// pa2 is, for a block of one instruction that straddles the page end, the physical
	// address of the next page, which holds its last bytes (0 otherwise). Such a block is
	// cached under both frames, never chained, and used only while the next page still
	// translates to pa2: each execution fetches through both pages, as the hardware does.
	pa2 uint64
	// links chain the block to the blocks that last followed it through each exit (0: the
	// end of the block; k: the k-th conditional branch, taken, whose inst.ssize is k), so
	// the next block is found without searching: a link holds while CPU.codeGen is what it
	// was when the link was made, that is while the ITLB, the MMU state and the code cache
	// are unchanged. Following a link still reports the ITLB hit the search would have had.
	links []link
	// jit is the address of the block's generated code (jit.go), 0 before it is made, or
	// jitNo; heat counts entries and loops in place until it is made, then value exits in a row (jitGiveUp); jitFlags: the code reads the flags the
	// block is entered with, so they are materialized first.
	jit      uintptr
	heat     uint32
	jitIndex int32 // in CPU.jit.blocks
	// jitResume[k], when not 0, is the offset in the block's code that goes on at slot k
	// once jitRun has executed slot k-1 (a load or store whose page was not remembered).
	jitResume []uint32
	jitExitAt uint64 // the instruction count at the code's last value exit (jitGiveUp)
	jitFlags  bool
}

// link is a remembered successor: the block at linear address va, reached through ITLB
// entry e, valid while CPU.codeGen == gen.
type link struct {
	va  uint64
	b   *block
	e   *tlb.Entry
	gen uint64
}

type codeCache struct {
	table   [tableSize]*block
	blocks  map[uint64]*block   // every cached block, by pa
	byFrame map[uint64][]*block // cached blocks by frame number, for invalidation
	insts   int                 // decoded instructions in the cached blocks
	dec     decoder             // decodeBlock's workspace
	buf     [maxBlock]inst      // decodeBlock's workspace
	chunk   []inst              // the rest of the chunk blocks' instructions come from (codemem.go)
	carved  int                 // instructions taken from chunks since the last flush
}

func (cc *codeCache) init() {
	cc.blocks = map[uint64]*block{}
	cc.byFrame = map[uint64][]*block{}
}

func tableIndex(pa uint64) uint64 { return (pa ^ pa>>12) & (tableSize - 1) }

// endsBlock marks the ops after which a block ends (they set RIP or trap). A conditional
// branch does not: a block goes on past it, and a taken branch leaves the block early (a
// side exit), so straight-line code through not-taken branches runs as one block.
var endsBlock = [opLimit]bool{opUD: true, opCall: true, opCallInd: true, opRet: true,
	opJmp: true, opJmpInd: true, opSyscall: true, opInt3: true, opPriv: true}

// fetchBlock returns the block starting at RIP, decoding it if needed, and the ITLB entry
// its address went through (nil when it must not be remembered). A fetch fault raises #PF
// with RIP at the instruction.
func (c *CPU) fetchBlock() (*block, *tlb.Entry) {
	var pa uint64
	var e *tlb.Entry
	if u := &c.uitlb[c.rip>>12&(uitlbSize-1)]; u.tag == c.rip>>12 {
		c.itlb.Hit(u.e) // the remembered ITLB entry: see mem.go
		pa, e = u.base|c.rip&0xfff, u.e
	} else {
		pa = c.translate(c.rip, mmu.Fetch)
		c.physical(pa, 1)
		if le, base := c.mmu.LastEntry(), pa&^0xfff; le != nil && base+4096 <= uint64(len(c.mem)) && !c.noMicro {
			*u = uitlbEntry{tag: c.rip >> 12, base: base, e: le}
			e = le
		}
	}
	slot := &c.code.table[tableIndex(pa)]
	b := *slot
	if b == nil || b.pa != pa {
		b = c.code.blocks[pa]
	}
	if b != nil && b.pa2 != 0 {
		if c.straddleFetch(c.rip) == b.pa2 {
			*slot = b
			return b, nil // never chained: each entry fetches through both pages
		}
		c.dropBlock(b) // the next page maps elsewhere now
		b = nil
	}
	if b != nil {
		*slot = b
		return b, e
	}
	b = c.decodeBlock(c.rip, pa)
	if !b.valid {
		return b, nil // used once: never chained to
	}
	if c.code.insts+len(b.raw) > maxCachedInsts || c.code.carved > maxChunkInsts {
		c.flushCode()
	}
	c.code.insts += len(b.raw)
	c.code.blocks[pa] = b
	c.cacheInFrame(pa>>12, b)
	*slot = b
	if b.pa2 != 0 {
		c.cacheInFrame(b.pa2>>12, b)
		return b, nil
	}
	return b, e
}

// straddleFetch translates, for an instruction fetch, the page after the one holding va
// and returns its physical address, through the remembered ITLB entries as fetchBlock
// does for the first page.
func (c *CPU) straddleFetch(va uint64) uint64 {
	next := (va | 0xfff) + 1
	u := &c.uitlb[next>>12&(uitlbSize-1)]
	if u.tag == next>>12 {
		c.itlb.Hit(u.e)
		return u.base
	}
	pa := c.translate(next, mmu.Fetch)
	c.physical(pa, maxInstLen)
	if le := c.mmu.LastEntry(); le != nil && pa+4096 <= uint64(len(c.mem)) && !c.noMicro {
		*u = uitlbEntry{tag: next >> 12, base: pa, e: le}
	}
	return pa
}

// cacheInFrame records that block b was decoded (partly) from frame pfn, so a store there
// drops it.
func (c *CPU) cacheInFrame(pfn uint64, b *block) {
	c.code.byFrame[pfn] = append(c.code.byFrame[pfn], b)
	if !c.ram.IsCode(pfn) {
		c.ram.MarkCode(pfn)
		c.forgetFrameWrites(pfn) // stores there must now reach the snoop
	}
}

// flushCode drops every cached block (the cache is full). The frames keep their code
// marks; a store there finds nothing to drop.
func (c *CPU) flushCode() {
	for _, b := range c.code.blocks {
		b.valid = false
	}
	c.code.table = [tableSize]*block{}
	c.code.init()
	c.code.insts = 0
	c.code.carved = 0
	c.codeGen++ // chains lead to the dropped blocks
	c.stats.CodeFlushes++
}

// dropBlock removes block b from the cache (but not from the frame lists, which only
// invalidateFrame trims; a dropped block there is harmless).
func (c *CPU) dropBlock(b *block) {
	b.valid = false
	if c.code.blocks[b.pa] == b {
		delete(c.code.blocks, b.pa)
		c.code.insts -= len(b.raw)
	}
	if slot := &c.code.table[tableIndex(b.pa)]; *slot == b {
		*slot = nil
	}
}

// decodeBlock decodes instructions at linear address va (physical pa). A block whose first
// instruction straddles the page end is that one instruction, decoded from both pages
// (b.pa2 says where the second one was).
func (c *CPU) decodeBlock(va, pa uint64) *block {
	c.stats.BlocksDecoded++
	b := &block{pa: pa, valid: true}
	pageEnd := pa | 0xfff + 1
	// Decoded here, then copied to one allocation of the right size. Instructions another
	// block already decoded are copied instead of decoded again (code entered at a branch
	// target inside a block: a third of CPython's startup decoding).
	raw := c.cachedSuffix(pa, c.code.buf[:0])
	p, done := pa, false
	if n := len(raw); n > 0 {
		first := raw[0].off
		for i := range raw {
			raw[i].off -= first
		}
		last := &raw[n-1]
		p += uint64(last.off) + uint64(last.len)
		done = endsBlock[last.op]
	}
	for !done && p < pageEnd && len(raw) < maxBlock {
		code := c.mem[p:pageEnd]
		if len(code) > maxInstLen {
			code = code[:maxInstLen]
		}
		in, ok := c.code.dec.decode(code)
		if !ok { // needs bytes from the next page
			if len(raw) > 0 {
				break
			}
			var buf [maxInstLen]byte
			n := copy(buf[:], code)
			next := c.straddleFetch(va)
			copy(buf[n:], c.mem[next:])
			in, _ = c.code.dec.decode(buf[:])
			b.pa2 = next
		}
		in.off = uint16(p - pa)
		raw = append(raw, in)
		c.stats.InsnsDecoded++
		p += uint64(in.len)
		if endsBlock[in.op] || b.pa2 != 0 {
			break
		}
	}
	last := &raw[len(raw)-1]
	b.size = last.off + uint16(last.len)
	exits := 1
	for i := range raw {
		if raw[i].op == opJcc {
			raw[i].ssize = uint8(exits)
			exits++
		}
	}
	b.links = make([]link, exits)
	n := len(raw)
	both := c.code.allocInsts(2 * n) // raw and optimized, free of pointers
	b.raw, b.insts = both[:n:n], both[n:]
	copy(b.raw, raw)
	optimizeInto(b.insts, b.raw)
	return b
}

// cachedSuffix appends to buf the instructions a cached block of pa's frame holds from pa
// on, if pa is one of its instruction boundaries (but not its first), and returns buf.
// They are what decoding from pa gives: an instruction decodes from its own bytes the same
// wherever its block starts, a store into the frame drops the frame's blocks, and whatever
// depends on the block (off, the exit numbers in ssize of Jcc) decodeBlock sets again.
// The caller decodes on past them unless the last one ends a block.
func (c *CPU) cachedSuffix(pa uint64, buf []inst) []inst {
	for _, b := range c.code.byFrame[pa>>12] {
		if !b.valid || b.pa2 != 0 || pa <= b.pa || pa >= b.pa+uint64(b.size) {
			continue
		}
		off := uint16(pa - b.pa)
		lo, hi := 0, len(b.raw)
		for lo < hi { // the first instruction at or after off
			m := int(uint(lo+hi) >> 1)
			if b.raw[m].off < off {
				lo = m + 1
			} else {
				hi = m
			}
		}
		if lo < len(b.raw) && b.raw[lo].off == off {
			return append(buf, b.raw[lo:]...)
		}
	}
	return buf
}

// codeBytes returns the bytes decodeBlock decoded in (of block b) from: up to maxInstLen
// bytes at its offset, within its page, followed for a block that straddles the page end
// by the next page's first bytes.
func (c *CPU) codeBytes(b *block, in *inst) []byte {
	pa := b.pa + uint64(in.off)
	code := c.mem[pa:min(pa|0xfff+1, pa+maxInstLen)]
	if b.pa2 != 0 && len(code) < maxInstLen {
		buf := make([]byte, maxInstLen)
		n := copy(buf, code)
		copy(buf[n:], c.mem[b.pa2:])
		return buf
	}
	return code
}

// decoder holds what decoding one instruction works in. The cold decoders are called
// through function values, which Go's escape analysis cannot follow, so the x86asm form and
// the instruction they are given would be allocated for every instruction if they lived on
// the stack; the code cache keeps one decoder instead.
type decoder struct {
	x  x86asm.Inst
	in inst
}

// decodeOne decodes the instruction at the start of code. It returns false when code ends
// before the instruction does (and code is shorter than the longest instruction).
func decodeOne(code []byte) (inst, bool) { return new(decoder).decode(code) }

// decode is decodeOne, in d.
func (d *decoder) decode(code []byte) (inst, bool) {
	if n := hintNOP(code); n > 0 {
		return inst{op: opNop, len: uint8(n), base: noReg, index: noReg}, true
	}
	if fastDecode(code, &d.in) {
		return d.in, true
	}
	var err error
	d.x, err = x86asm.Decode(code, 64)
	if err != nil || d.x.Op == 0 || d.x.Len > len(code) {
		if len(code) < maxInstLen {
			return inst{}, false
		}
		return inst{op: opUD, len: 1, base: noReg, index: noReg}, true
	}
	translate(&d.in, &d.x)
	return d.in, true
}

// hintNOP recognises encodings x86asm gets wrong that a CPU without CET or MPX executes as
// NOPs, and returns their length (0 if code is something else):
//   - 0F 19 to 0F 1F with any ModRM operand: the reserved hint NOPs and NOP r/m (0F 1F /0),
//     which include ENDBR64 (F3 0F 1E FA), ENDBR32 (F3 0F 1E FB), RDSSPD/Q (F3 [REX.W]
//     0F 1E /1) and the MPX BND instructions (0F 1A, 0F 1B); x86asm decodes ENDBR64 as a
//     one-byte REP and knows no 0F 1F but /0;
//   - INCSSPD/Q (F3 [REX.W] 0F AE /5 with a register operand), which x86asm calls LFENCE;
//   - the prefetch hints 0F 0D /r with a memory operand, and the reserved NOPs of group 16
//     (0F 18 /4-/7, and every 0F 18 with a register operand), which x86asm does not decode
//     (except 0F 0D /1, PREFETCHW).
func hintNOP(code []byte) int {
	i, rep := 0, false
	for ; i < len(code) && isLegacyPrefix(code[i]); i++ {
		rep = rep || code[i] == 0xf3
	}
	if i < len(code) && code[i]&0xf0 == 0x40 { // REX
		i++
	}
	if i+2 >= len(code) || code[i] != 0x0f {
		return 0
	}
	op, modrm := code[i+1], code[i+2]
	switch {
	case op >= 0x19 && op <= 0x1f:
		n := modrmLen(code[i+2:])
		if n == 0 || i+2+n > maxInstLen {
			return 0
		}
		return i + 2 + n
	case op == 0xae && rep && modrm>>6 == 3 && modrm>>3&7 == 5:
		return i + 3
	case op == 0x0d && modrm>>6 != 3, op == 0x18 && (modrm>>6 == 3 || modrm>>3&7 >= 4):
		// 0F 0D /r (PREFETCH, PREFETCHW and their reserved forms) and 0F 18 /4-/7 and
		// 11B are prefetch hints or reserved NOPs; x86asm only knows 0F 0D /1.
		n := modrmLen(code[i+2:])
		if n == 0 || i+2+n > maxInstLen {
			return 0
		}
		return i + 2 + n
	}
	return 0
}

func isLegacyPrefix(b byte) bool {
	switch b {
	case 0xf3, 0xf2, 0x66, 0x67, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65:
		return true
	}
	return false
}

// modrmLen returns the length of a ModRM byte with its SIB and displacement, or 0 if code is
// too short to hold them.
// 32-bit addressing in 64-bit mode has the same layout.
func modrmLen(code []byte) int {
	if len(code) == 0 {
		return 0
	}
	modrm := code[0]
	mod, rm := modrm>>6, modrm&7
	n := 1
	if mod != 3 && rm == 4 {
		if len(code) < 2 {
			return 0
		}
		n++
		if mod == 0 && code[1]&7 == 5 {
			n += 4
		}
	}
	switch {
	case mod == 1:
		n++
	case mod == 2:
		n += 4
	case mod == 0 && rm == 5:
		n += 4
	}
	if n > len(code) {
		return 0
	}
	return n
}

// invalidateFrame drops every cached block decoded from frame pfn. The RAM calls it when a
// store lands in a frame marked as holding code.
func (c *CPU) invalidateFrame(pfn uint64) {
	blocks := c.code.byFrame[pfn]
	if len(blocks) == 0 {
		return
	}
	c.stats.CodeInvalid++
	c.codeGen++ // chains may lead to the dropped blocks
	for _, b := range blocks {
		c.dropBlock(b)
		if b == c.blk {
			// The executing block stored into its own code: it ends after the storing
			// instruction, and the next block is decoded from the new bytes.
			b.end = uint16(c.pos + 1)
		}
	}
	delete(c.code.byFrame, pfn)
}
