//go:build linux && amd64

package cpu

import (
	"runtime"
	"sort"
	"unsafe"

	x "github.com/vmemu/vmemu/cpu/internal/x64"
	"github.com/vmemu/vmemu/tlb"
)

// The code generator for linux/amd64 hosts (see jit.go for what the code must do).
//
// Register use in generated code: RBX holds the *CPU (guest register r at [RBX+8r]); R12
// and R13 hold the values of the DTLB's hit counter and clock, R14 and R15 the ITLB's: the
// shared enter code loads them when Go calls the code (jitPrologue, a block's first bytes,
// which the chain skips), and the shared leave code stores them back before any return to
// Go. RAX, RCX, RDX, RSI, RDI, R8, R10, R11 and XMM0-1 are scratch.
// The code returns in RAX the slot to interpret from (a side exit; with bit 31 set when it
// is not a load or store that jitRun may execute itself), or, with bit 32 set, the exit
// number in bits 16-31 after setting RIP and counting the block's instructions.

// Byte offsets inside CPU and its parts, for addressing them from generated code.
var (
	offR             = int32(unsafe.Offsetof(CPU{}.r))
	offRIP           = int32(unsafe.Offsetof(CPU{}.rip))
	offRflags        = int32(unsafe.Offsetof(CPU{}.rflags))
	offLz            = int32(unsafe.Offsetof(CPU{}.lz))
	offLzA           = offLz + int32(unsafe.Offsetof(lazyFlags{}.a))
	offLzB           = offLz + int32(unsafe.Offsetof(lazyFlags{}.b))
	offLzRes         = offLz + int32(unsafe.Offsetof(lazyFlags{}.res))
	offLzCin         = offLz + int32(unsafe.Offsetof(lazyFlags{}.cin))
	offIcount        = int32(unsafe.Offsetof(CPU{}.icount))
	offJit           = int32(unsafe.Offsetof(CPU{}.jit))
	offLimit         = offJit + int32(unsafe.Offsetof(jitState{}.limit))
	offEntry         = offJit + int32(unsafe.Offsetof(jitState{}.entry))
	offDHits         = offJit + int32(unsafe.Offsetof(jitState{}.dHits))
	offDClock        = offJit + int32(unsafe.Offsetof(jitState{}.dClock))
	offIHits         = offJit + int32(unsafe.Offsetof(jitState{}.iHits))
	offIClock        = offJit + int32(unsafe.Offsetof(jitState{}.iClock))
	offFsBase        = int32(unsafe.Offsetof(CPU{}.fsBase))
	offGsBase        = int32(unsafe.Offsetof(CPU{}.gsBase))
	offCodeGen       = int32(unsafe.Offsetof(CPU{}.codeGen))
	offBva           = int32(unsafe.Offsetof(CPU{}.bva))
	offHelpers       = offJit + int32(unsafe.Offsetof(jitState{}.helpers))
	offMaterialize   = offJit + int32(unsafe.Offsetof(jitState{}.materialize))
	offEnter         = offJit + int32(unsafe.Offsetof(jitState{}.enter))
	offLeave         = offJit + int32(unsafe.Offsetof(jitState{}.leave))
	offChain         = offJit + int32(unsafe.Offsetof(jitState{}.chain))
	offCur           = offJit + int32(unsafe.Offsetof(jitState{}.cur))
	offUitlb         = int32(unsafe.Offsetof(CPU{}.uitlb))
	offUitlbTag      = offUitlb + int32(unsafe.Offsetof(uitlbEntry{}.tag))
	offUitlbBase     = offUitlb + int32(unsafe.Offsetof(uitlbEntry{}.base))
	offUitlbE        = offUitlb + int32(unsafe.Offsetof(uitlbEntry{}.e))
	offTable         = int32(unsafe.Offsetof(CPU{}.code)) + int32(unsafe.Offsetof(codeCache{}.table))
	offBlockPA       = int32(unsafe.Offsetof(block{}.pa))
	offBlockPA2      = int32(unsafe.Offsetof(block{}.pa2))
	offBlockIndex    = int32(unsafe.Offsetof(block{}.jitIndex))
	offLinkVA        = int32(unsafe.Offsetof(link{}.va))
	offLinkB         = int32(unsafe.Offsetof(link{}.b))
	offLinkE         = int32(unsafe.Offsetof(link{}.e))
	offLinkGen       = int32(unsafe.Offsetof(link{}.gen))
	offBlockJit      = int32(unsafe.Offsetof(block{}.jit))
	offBlockJitFlags = int32(unsafe.Offsetof(block{}.jitFlags))
	offBlockInstsLen = int32(unsafe.Offsetof(block{}.insts)) + 8
	offUtlb          = int32(unsafe.Offsetof(CPU{}.utlb))
	offURtag         = offUtlb + int32(unsafe.Offsetof(utlbEntry{}.rtag))
	offUWtag         = offUtlb + int32(unsafe.Offsetof(utlbEntry{}.wtag))
	offUFrame        = offUtlb + int32(unsafe.Offsetof(utlbEntry{}.frame))
	offUE            = offUtlb + int32(unsafe.Offsetof(utlbEntry{}.e))
)

func init() {
	if unsafe.Sizeof(utlbEntry{}) != 40 || unsafe.Sizeof(uitlbEntry{}) != 24 || uitlbSize != 16 || tableSize != 4096 || unsafe.Sizeof(lazyFlags{}) != 32 || offLz+3 != offLzA-5 {
		panic("cpu: the code generator's layout assumptions do not hold")
	}
}

// Kinds of flag state the generator tracks (besides the lz kinds).
const (
	fsUnknown = 0xfe // whatever the previous block left: read it only after materializing
	fsDynamic = 0xfd // decided at run time (a shift by CL): conditions are not generated
)

type jitGen struct {
	c     *CPU
	a     x.Asm
	b     *block
	ins   []inst
	sides map[int]*x.Label
	start *x.Label
	// The flags: the kind and size of the last operation that set them in this block
	// (fsUnknown before any), and whether the host's RFLAGS still hold that operation's
	// flags (computed by the same operation at the same size).
	kind, size uint8
	host       bool
	needFlags  bool // the block reads the flags it was entered with
	prologue   bool // begin with the materialize helper (needFlags)
	counted    bool // the current op has emitted code that counts a TLB hit
	// fw: guest register r was last stored from host register h, and nothing has been
	// emitted since that could change h (the code is at pos).
	fw forward
	// resume[k]: the offset of the code that goes on at slot k after jitRun executed slot
	// k-1 (a memory op that missed), or 0.
	resume []uint32
}

type forward struct {
	r   uint8
	h   x.Reg
	pos int
}

func reg(r uint8) x.Mem { return x.M(x.RBX, offR+8*int32(r)) }

// jitCompile translates block b's optimized instructions, as far as it can, into host code.
func (c *CPU) jitCompile(b *block) {
	b.jit = jitNo
	if c.jit.arena == nil {
		ar, err := x.NewArena(jitArenaSize)
		if err != nil {
			c.jit.broken = true
			return
		}
		c.jit.arena = ar
		runtime.AddCleanup(c, func(ar *x.Arena) { ar.Free() }, ar) // (the CPU's blocks hold its code)
		h, k := c.dtlb.HitCounters()
		c.jit.dHits, c.jit.dClock = uintptr(unsafe.Pointer(h)), uintptr(unsafe.Pointer(k))
		h, k = c.itlb.HitCounters()
		c.jit.iHits, c.jit.iClock = uintptr(unsafe.Pointer(h)), uintptr(unsafe.Pointer(k))
		c.jit.fpk = jitFPConsts
	}
	if c.jit.chain == 0 && !c.emitHelpers() {
		return
	}
	b.jitIndex = int32(len(c.jit.blocks)) // (the code records it when it leaves b for a linked block)
	g := &jitGen{c: c, b: b, ins: b.insts, sides: map[int]*x.Label{}, kind: fsUnknown}
	if !g.gen() {
		return
	}
	if g.needFlags {
		// Again, with the prologue that materializes the flags (the chain enters such
		// blocks too).
		g = &jitGen{c: c, b: b, ins: b.insts, sides: map[int]*x.Label{}, kind: fsUnknown, prologue: true}
		if !g.gen() {
			return
		}
	}
	addr, err := c.jit.arena.Put(g.a.B)
	if err == x.ErrFull && len(c.jit.blocks) > 0 {
		// Start the arena again, as a full code cache is dropped (cache.go), and translate
		// b again: its code names its place in c.jit.blocks.
		c.jitDrop()
		c.jitCompile(b)
		return
	}
	if err != nil {
		return
	}
	if jitCodeHook != nil {
		jitCodeHook(c, b, g.a.B, addr)
	}
	b.jit, b.jitFlags, b.jitResume = addr, g.needFlags, g.resume
	c.jit.blocks = append(c.jit.blocks, b)
	c.jit.Compiled++
	c.jit.Bytes += uint64(len(g.a.B))
}

// side returns the label of the exit that leaves the code before slot i.
func (g *jitGen) side(i int) *x.Label {
	l := g.sides[i]
	if l == nil {
		l = x.NewLabel()
		g.sides[i] = l
	}
	return l
}

// valueSide returns the label of the exit before slot i taken when a test of the operands'
// values fails (jitValueExit): jitRun stops making the block's code run if that happens in
// most of its runs.
func (g *jitGen) valueSide(i int) *x.Label {
	return g.side(i | jitValueExit)
}

// gen emits the block; it reports false when not even the first slot can be translated.
func (g *jitGen) gen() bool {
	a := &g.a
	callEnter(a) // (jitPrologue bytes: the chain enters after them)
	g.start = x.NewLabel()
	var noFlags *x.Label
	if g.prologue {
		// Flags of a kind the helper does not materialize: the interpreter runs the block
		// (bit 31: not a miss that jitRun could execute and go on after).
		noFlags = x.NewLabel()
		a.OpM(8, []byte{0xff}, 2, x.M(x.RBX, offMaterialize)) // call [materialize]
		a.Jcc(x.CondNE, noFlags)
	}
	g.bind(g.start)
	resumes := map[int]*x.Label{}
	i := 0
	for i < len(g.ins) {
		if i > 0 && jitResumable(g.ins[i-1].op) && g.sides[i-1] != nil {
			// jitRun may execute slot i-1 itself after a miss there and come back here:
			// nothing is known of the host's registers or flags.
			l := x.NewLabel()
			g.bind(l)
			g.host = false
			resumes[i] = l
		}
		g.counted = false
		next, ok := g.op(i)
		if !ok && g.counted {
			// The op gave up after code that counts a TLB hit: leaving before it would
			// count that hit twice. Not expected of any op; the block is interpreted.
			return false
		}
		if !ok {
			if i == 0 {
				return false
			}
			g.exitSide(i)
			break
		}
		if next < 0 { // the block ended (the op left it)
			i = len(g.ins) + 1
			break
		}
		i = next
	}
	if i == len(g.ins) {
		// Fell off the end: RIP is the byte after the block.
		g.setRIP(int64(g.b.size))
		g.exitEnd(i, 0)
	}
	for _, k := range sortedKeys(g.sides) {
		g.bind(g.sides[k])
		a.MovImm(x.RAX, uint64(k)) // (the slot, and jitValueExit)
		jmpLeave(a)
	}
	if noFlags != nil {
		g.bind(noFlags)
		a.MovImm(x.RAX, 1<<31)
		jmpLeave(a)
	}
	// The entries for resuming after slot k-1, as the code's start: the counters loaded.
	g.resume = make([]uint32, len(g.ins)+1)
	for _, k := range sortedKeys(resumes) {
		g.resume[k] = uint32(a.Len())
		callEnter(a)
		a.Jmp(resumes[k])
	}
	return true
}

// jitPrologue is the length of callEnter's code: the chain enters a block's code after it.
const jitPrologue = 6

// callEnter calls the shared enter code (call [rbx+disp32]: jitPrologue bytes).
func callEnter(a *x.Asm) {
	a.OpM(4, []byte{0xff}, 2, x.Mem{Base: x.RBX, Index: x.NoReg, Disp: offEnter})
}

// jmpLeave jumps to the shared leave code, which stores the TLB counters and returns RAX to Go.
func jmpLeave(a *x.Asm) { a.OpM(4, []byte{0xff}, 4, x.M(x.RBX, offLeave)) }

func sortedKeys(m map[int]*x.Label) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// memSize is the size of the access of a fast load or store.
func memSize(op uint16) int {
	switch op {
	case opLoad64, opStore64, opStoreI64:
		return 8
	case opLoad32, opLoadSx32, opStore32, opStoreI32:
		return 4
	case opLoadZx16:
		return 2
	}
	return 1
}

// jitResumable lists the ops jitSlow executes after a side exit at them, so the code goes
// on after them instead of the interpreter.
func jitResumable(op uint16) bool {
	switch op {
	case opLoad64, opLoad32, opLoadZx8, opLoadZx16, opLoadSx32,
		opStore64, opStore32, opStore8, opStoreI64, opStoreI32, opStoreI8,
		opXmmLoad, opXmmStore, opXmmInt:
		return true
	}
	return false
}

// exitSide leaves before slot i, for the interpreter to go on from there.
func (g *jitGen) exitSide(i int) {
	g.a.MovImm(x.RAX, uint64(i))
	jmpLeave(&g.a)
}

// exitEnd leaves the block through exit after n instructions, RIP already set. When the
// block's link for that exit holds (as run's chain checks it) and the linked block has code
// that needs nothing done first and fits in the budget, the code goes on into that code:
// the ITLB hit is counted, and the followed link recorded for jitRun (the shared chain).
func (g *jitGen) exitEnd(n, exit int) {
	a := &g.a
	a.AluMI(8, x.Add, x.M(x.RBX, offIcount), int32(n))
	if exit < len(g.b.links) {
		a.MovImm(x.RCX, uint64(exit)<<16|uint64(n))
		a.MovImm(x.RDX, uint64(uintptr(unsafe.Pointer(&g.b.links[exit]))))
		a.OpM(8, []byte{0xff}, 4, x.M(x.RBX, offChain)) // jmp [chain]
		return
	}
	a.MovImm(x.RAX, 1<<32|uint64(exit)<<16|uint64(n))
	jmpLeave(a)
}

// setRIP sets RIP to the block's linear address plus d (the address is regBlock).
func (g *jitGen) setRIP(d int64) {
	g.a.Load(8, x.RAX, reg(regBlock))
	g.a.Lea(8, x.RAX, x.M(x.RAX, int32(d)))
	g.a.Store(8, x.M(x.RBX, offRIP), x.RAX)
}

func fits32(v int64) bool { return v == int64(int32(v)) }

// lazy records the flags of an operation: kind and size, operands a and b and result res
// (host registers, or for b, an immediate when bReg is NoReg).
func (g *jitGen) lazy(kind, size uint8, ra x.Reg, rb x.Reg, bImm uint64, rres x.Reg) {
	a := &g.a
	if g.fw.pos == len(a.B) && g.fw.h != x.R8 {
		defer func() { g.fw.pos = len(a.B) }() // (only stores, and R8)
	}
	a.StoreImm(4, x.M(x.RBX, offLz), int32(uint32(kind)|uint32(size)<<8))
	a.Store(8, x.M(x.RBX, offLzA), ra)
	if rb == x.NoReg {
		if fits32(int64(bImm)) {
			a.StoreImm(8, x.M(x.RBX, offLzB), int32(bImm))
		} else {
			a.MovImmKeepFlags(x.R8, bImm)
			a.Store(8, x.M(x.RBX, offLzB), x.R8)
		}
	} else {
		a.Store(8, x.M(x.RBX, offLzB), rb)
	}
	a.Store(8, x.M(x.RBX, offLzRes), rres)
}

// setFlags notes that the last flag-setting operation is kind at size, and whether the
// host's flags now hold its result.
func (g *jitGen) setFlags(kind, size uint8, host bool) { g.kind, g.size, g.host = kind, size, host }

// hostValid reports whether condition cc can be read from the host's flags after an
// operation of kind: only when the SDM defines every flag the condition reads.
func hostValid(kind uint8, cc uint8) bool {
	switch kind {
	case lzAdd, lzSub, lzLogic, lzNone, lzAdc, lzSbb:
		return true
	case lzInc, lzDec:
		return cc>>1 != 1 && cc>>1 != 3 // not CF
	case lzShl, lzShr, lzSar:
		return cc>>1 != 0 && cc>>1 < 6 // not OF
	case lzMul:
		return cc>>1 <= 1 // CF and OF only
	}
	return false
}

// condFlags makes the host's flags hold the guest's for condition cc, and reports false
// when that cannot be done here (the interpreter evaluates it instead).
func (g *jitGen) condFlags(cc uint8) bool {
	a := &g.a
	if g.kind == fsUnknown {
		g.needFlags = true // jitRun materializes them before entering: lz.kind is lzNone
		g.kind = lzNone
	}
	if g.host && hostValid(g.kind, cc) {
		return true
	}
	sz := int(g.size)
	regen := true
	switch g.kind {
	case lzNone:
		a.Load(8, x.RAX, x.M(x.RBX, offRflags))
		a.AluRI(4, x.And, x.RAX, int32(ArithFlags))
		a.B = append(a.B, 0x50, 0x9d) // push rax; popfq
	case lzSub:
		a.Load(8, x.RAX, x.M(x.RBX, offLzA))
		a.AluRM(sz, x.Cmp, x.RAX, x.M(x.RBX, offLzB))
	case lzAdd:
		a.Load(8, x.RAX, x.M(x.RBX, offLzA))
		a.AluRM(sz, x.Add, x.RAX, x.M(x.RBX, offLzB))
	case lzLogic:
		a.Load(8, x.RAX, x.M(x.RBX, offLzRes))
		a.TestRR(sz, x.RAX, x.RAX)
	case lzInc, lzDec:
		if !hostValid(g.kind, cc) {
			return false
		}
		a.Load(8, x.RAX, x.M(x.RBX, offLzA))
		if g.kind == lzInc {
			a.Inc(sz, x.RAX)
		} else {
			a.Dec(sz, x.RAX)
		}
	default:
		regen = false
	}
	if regen {
		g.host = true
		return true
	}
	if g.kind >= fsDynamic || cc>>1 != 2 && cc>>1 != 4 && cc>>1 != 5 {
		return false
	}
	// E, S and P read ZF, SF and PF, which follow the result whatever the operation
	// (arith): the host's flags hold them for this one use.
	a.Load(8, x.RAX, x.M(x.RBX, offLzRes))
	a.TestRR(sz, x.RAX, x.RAX)
	g.host = false
	return true
}

// ea computes a fast form's effective address [disp + base + index<<scale] into RAX.
func (g *jitGen) ea(in *inst) {
	a := &g.a
	base, index := in.base&31, in.index&31
	hb, hi := x.NoReg, x.NoReg
	if base != regZero {
		a.Load(8, x.RAX, reg(base))
		hb = x.RAX
	}
	if index != regZero {
		a.Load(8, x.RCX, reg(index))
		hi = x.RCX
	}
	disp := in.disp
	if !fits32(disp) {
		a.MovImm(x.RDX, uint64(disp))
		if hb == x.NoReg {
			hb = x.RDX
		} else if hi == x.NoReg {
			hi = x.RDX
		} else {
			a.Lea(8, x.RAX, x.MI(x.RAX, x.RCX, in.scale&3, 0))
			hi = x.RDX
		}
		disp = 0
	}
	switch {
	case hb == x.NoReg && hi == x.NoReg:
		a.MovImm(x.RAX, uint64(disp))
	case hi == x.NoReg && hb == x.RAX && disp == 0:
	default:
		a.Lea(8, x.RAX, x.Mem{Base: hb, Index: hi, Scale: in.scale & 3, Disp: int32(disp)})
	}
}

// eaRaw computes the effective address of an instruction as decoded (CPU.ea: any base,
// RIP-relative, 32-bit addressing, an FS or GS override) into RAX; ok is false for an
// operand it does not know.
func (g *jitGen) eaRaw(in *inst) bool {
	a := &g.a
	disp := in.disp
	hb, hi := x.NoReg, x.NoReg
	switch {
	case in.base < 16:
		a.Load(8, x.RAX, reg(in.base))
		hb = x.RAX
	case in.base == baseRIP:
		a.Load(8, x.RAX, reg(regBlock))
		hb = x.RAX
		disp += int64(in.off) + int64(in.len)
	case in.base != noReg:
		return false
	}
	if in.index < 16 {
		a.Load(8, x.RCX, reg(in.index))
		hi = x.RCX
	} else if in.index != noReg {
		return false
	}
	if !fits32(disp) {
		return false
	}
	if hb == x.NoReg && hi == x.NoReg {
		a.MovImm(x.RAX, uint64(disp))
	} else {
		a.Lea(8, x.RAX, x.Mem{Base: hb, Index: hi, Scale: in.scale & 3, Disp: int32(disp)})
	}
	if in.form&fAddr32 != 0 {
		a.MovRR(4, x.RAX, x.RAX)
	}
	switch in.seg {
	case segFS:
		a.AluRM(8, x.Add, x.RAX, x.M(x.RBX, offFsBase))
	case segGS:
		a.AluRM(8, x.Add, x.RAX, x.M(x.RBX, offGsBase))
	}
	g.host = false
	return true
}

// access looks up the remembered page of the address in RAX for an access of size bytes
// (rtag for a read, wtag for a write), leaving for slot i on a miss or at the page end. On
// a hit it counts hits DTLB hits (1, or 3 for a read-modify-write) and leaves the frame in
// RSI and the offset in RDX; RAX is kept. The lookup is shared code (emitHelpers).
func (g *jitGen) access(i int, size int, write bool, hits int32) {
	a := &g.a
	g.counted = g.counted || hits > 0
	a.OpM(8, []byte{0xff}, 2, x.M(x.RBX, offHelpers+8*int32(helperIndex(size, write, hits)))) // call [helper]
	a.Jcc(x.CondNE, g.side(i))
	g.host = false
}

// countHits does tlb.Hit's work n times for the entry in register e: the counter, the
// clock (R12 and R13), the entry's stamp.
func countHits(a *x.Asm, e x.Reg, n int32) {
	a.AluRI(8, x.Add, x.R12, n)
	a.AluRI(8, x.Add, x.R13, n)
	a.Store(8, x.M(e, int32(tlb.StampOffset)), x.R13)
}

// countHits is countHits in a block's code.
func (g *jitGen) countHits(e x.Reg, n int32) {
	g.counted = true
	countHits(&g.a, e, n)
}

// helperIndex numbers the lookup helpers: size 1, 2, 4, 8 by read, write,
// read-modify-write (3 hits), and the peeks (0 hits) for reading and writing.
func helperIndex(size int, write bool, hits int32) int {
	k := 0
	switch {
	case hits == 0 && write:
		k = 4
	case hits == 0:
		k = 3
	case write && hits == 3:
		k = 2
	case write:
		k = 1
	}
	if size == 16 {
		switch {
		case hits == 0:
			return 22 // a read peek
		case write:
			return 21 // 3 hits, as xmmStore counts them
		}
		return 20 // 2 hits, as sseLoad2 counts them
	}
	j := 3
	switch size {
	case 1:
		j = 0
	case 2:
		j = 1
	case 4:
		j = 2
	}
	return k*4 + j
}

// emitHelpers puts the shared code into the arena (after it is made or started again).
func (c *CPU) emitHelpers() bool {
	// Enter (called at a block's start from Go, and at resume entries): the TLB counters'
	// values into R12-R15. Leave (jumped to): them stored back, and return RAX to Go.
	for k, store := range []bool{false, true} {
		var a x.Asm
		for j, r := range []x.Reg{x.R12, x.R13, x.R14, x.R15} {
			a.Load(8, x.RDI, x.M(x.RBX, []int32{offDHits, offDClock, offIHits, offIClock}[j]))
			if store {
				a.Store(8, x.M(x.RDI, 0), r)
			} else {
				a.Load(8, r, x.M(x.RDI, 0))
			}
		}
		a.Ret()
		addr, ok := c.putShared(&a)
		if !ok {
			return false
		}
		*[]*uintptr{&c.jit.enter, &c.jit.leave}[k] = addr
	}
	for k := 0; k < 6; k++ {
		for j, size := range []int{1, 2, 4, 8} {
			var a x.Asm
			tag := offURtag
			hits := [...]int32{1, 1, 3, 0, 0}[k%5]
			if k == 1 || k == 2 || k == 4 {
				tag = offUWtag
			}
			if k == 5 { // the 16-byte reads, writes and read peeks
				if j > 2 {
					break
				}
				size, hits = 16, [...]int32{2, 3, 0}[j]
				if j == 1 {
					tag = offUWtag
				}
			}
			// In: RAX, the address. Out: ZF set on a hit, RSI the frame, RDX the offset,
			// RCX the TLB entry (a peek, hits 0, counts nothing: countHit does it later).
			// Changes RDI and the flags.
			a.MovRR(8, x.RDX, x.RAX)
			a.ShiftRI(8, x.Shr, x.RDX, 12)
			a.MovRR(4, x.RCX, x.RDX)
			a.AluRI(4, x.And, x.RCX, utlbSize-1)
			a.Lea(8, x.RCX, x.MI(x.RCX, x.RCX, 2, 0)) // 5*index: an entry is 40 bytes
			a.AluRM(8, x.Cmp, x.RDX, x.MI(x.RBX, x.RCX, 3, tag))
			miss := x.NewLabel()
			a.Jcc(x.CondNE, miss)
			a.MovRR(4, x.RDX, x.RAX)
			a.AluRI(4, x.And, x.RDX, 0xfff)
			if size > 1 {
				a.AluRI(4, x.Cmp, x.RDX, int32(0x1000-size))
				a.Jcc(x.CondA, miss) // (ZF clear)
			}
			a.Load(8, x.RSI, x.MI(x.RBX, x.RCX, 3, offUFrame))
			a.Load(8, x.RCX, x.MI(x.RBX, x.RCX, 3, offUE))
			if hits > 0 {
				countHits(&a, x.RCX, hits)
			}
			a.AluRR(4, x.Cmp, x.RAX, x.RAX) // ZF set: a hit
			a.Bind(miss)
			a.Ret()
			addr, ok := c.putShared(&a)
			if !ok {
				return false
			}
			c.jit.helpers[k*4+j] = addr
		}
	}
	// Materialize (a block's prologue when it reads the flags it is entered with): RFLAGS
	// made whole from the lazy record when its kind is lzSub, lzAdd, lzLogic, lzInc or
	// lzDec (at any size),
	// lz.kind then lzNone, and ZF set; for lzNone ZF set at once; any other kind, ZF clear.
	{
		var a x.Asm
		ret, have, haveLogic, merge := x.NewLabel(), x.NewLabel(), x.NewLabel(), x.NewLabel()
		a.Movzx(1, x.RAX, x.M(x.RBX, offLz))
		a.TestRR(4, x.RAX, x.RAX) // lzNone is 0
		a.Jcc(x.CondE, ret)
		a.Movzx(1, x.RCX, x.M(x.RBX, offLz+1)) // size
		a.Load(8, x.RDX, x.M(x.RBX, offLzA))
		a.Load(8, x.RSI, x.M(x.RBX, offLzB))
		haveIncDec := x.NewLabel()
		for _, k := range []struct {
			kind uint8
			op   int // an ALU operation; -1 TEST of the result; -2 INC, -3 DEC of a
		}{{lzSub, x.Cmp}, {lzAdd, x.Add}, {lzLogic, -1}, {lzInc, -2}, {lzDec, -3}} {
			next := x.NewLabel()
			a.AluRI(4, x.Cmp, x.RAX, int32(k.kind))
			a.Jcc(x.CondNE, next)
			if k.op == -1 {
				a.Load(8, x.RDX, x.M(x.RBX, offLzRes))
			}
			for _, size := range []int{8, 4, 2, 1} {
				skip := x.NewLabel()
				if size > 1 {
					a.AluRI(4, x.Cmp, x.RCX, int32(size))
					a.Jcc(x.CondNE, skip)
				}
				switch k.op {
				case -1:
					a.TestRR(size, x.RDX, x.RDX)
					a.Jmp(haveLogic)
				case -2:
					a.Inc(size, x.RDX)
					a.Jmp(haveIncDec)
				case -3:
					a.Dec(size, x.RDX)
					a.Jmp(haveIncDec)
				default:
					a.AluRR(size, k.op, x.RDX, x.RSI)
					a.Jmp(have)
				}
				if size > 1 {
					a.Bind(skip)
				}
			}
			a.Bind(next)
		}
		a.Ret() // (ZF clear: the last compare failed)
		a.Bind(haveLogic)
		a.B = append(a.B, 0x9c, 0x41, 0x58) // pushfq; pop r8
		a.AluRI(4, x.And, x.R8, int32(ArithFlags&^FlagAF))
		a.Jmp(merge)
		a.Bind(haveIncDec)                  // CF is the one recorded (cin)
		a.B = append(a.B, 0x9c, 0x41, 0x58) // pushfq; pop r8
		a.AluRI(4, x.And, x.R8, int32(ArithFlags&^FlagCF))
		a.Movzx(1, x.RCX, x.M(x.RBX, offLzCin))
		a.AluRR(8, x.Or, x.R8, x.RCX)
		a.Jmp(merge)
		a.Bind(have)
		a.B = append(a.B, 0x9c, 0x41, 0x58) // pushfq; pop r8
		a.AluRI(4, x.And, x.R8, int32(ArithFlags))
		a.Bind(merge)
		a.Load(8, x.RCX, x.M(x.RBX, offRflags))
		a.AluRI(8, x.And, x.RCX, ^int32(ArithFlags))
		a.AluRR(8, x.Or, x.R8, x.RCX)
		a.Store(8, x.M(x.RBX, offRflags), x.R8)
		a.StoreImm(1, x.M(x.RBX, offLz), int32(lzNone))
		a.AluRR(4, x.Xor, x.RAX, x.RAX) // ZF set
		a.Bind(ret)
		a.Ret()
		addr, ok := c.putShared(&a)
		if !ok {
			return false
		}
		c.jit.materialize = addr
	}
	// The chain (see exitEnd). In: RCX = exit<<16 | n, RDX = the link; RIP set and the
	// instructions counted. The next block is the link's when it holds, else the one the
	// top of run's loop would find through the remembered code page and the block table
	// (without filling the link, which only run does). It goes on into that block's code
	// when it has code that needs nothing done first and fits in the budget.
	var a x.Asm
	out, search, found := x.NewLabel(), x.NewLabel(), x.NewLabel()
	a.Load(8, x.RAX, x.M(x.RBX, offRIP))
	a.AluRM(8, x.Cmp, x.RAX, x.M(x.RDX, offLinkVA))
	a.Jcc(x.CondNE, search)
	a.Load(8, x.RDI, x.M(x.RDX, offLinkGen))
	a.AluRM(8, x.Cmp, x.RDI, x.M(x.RBX, offCodeGen))
	a.Jcc(x.CondNE, search)
	a.Load(8, x.RDI, x.M(x.RDX, offLinkB))
	a.TestRR(8, x.RDI, x.RDI)
	a.Jcc(x.CondE, search)
	a.Load(8, x.R11, x.M(x.RDX, offLinkE))
	a.AluRR(4, x.Xor, x.R9, x.R9) // (one page)
	a.Jmp(found)
	// The search: uitlb[rip>>12 & 15], then table[tableIndex(pa)] with pa and pa2 checked
	// (a block of one instruction that straddles the page end goes on only when the next
	// page is remembered too and maps to its pa2: fetchBlock's and straddleFetch's hits).
	a.Bind(search)
	a.MovRR(8, x.RSI, x.RAX)
	a.ShiftRI(8, x.Shr, x.RSI, 12)
	a.MovRR(4, x.RDI, x.RSI)
	a.AluRI(4, x.And, x.RDI, uitlbSize-1)
	a.Lea(8, x.RDI, x.MI(x.RDI, x.RDI, 1, 0)) // 3*index: an entry is 24 bytes
	a.AluRM(8, x.Cmp, x.RSI, x.MI(x.RBX, x.RDI, 3, offUitlbTag))
	a.Jcc(x.CondNE, out)
	a.Load(8, x.R11, x.MI(x.RBX, x.RDI, 3, offUitlbE))
	a.Load(8, x.RSI, x.MI(x.RBX, x.RDI, 3, offUitlbBase))
	a.MovRR(4, x.R8, x.RAX)
	a.AluRI(4, x.And, x.R8, 0xfff)
	a.AluRR(8, x.Or, x.RSI, x.R8) // pa
	a.MovRR(8, x.R8, x.RSI)
	a.ShiftRI(8, x.Shr, x.R8, 12)
	a.AluRR(8, x.Xor, x.R8, x.RSI)
	a.AluRI(4, x.And, x.R8, tableSize-1)
	a.Load(8, x.RDI, x.MI(x.RBX, x.R8, 3, offTable))
	a.TestRR(8, x.RDI, x.RDI)
	a.Jcc(x.CondE, out)
	a.AluRM(8, x.Cmp, x.RSI, x.M(x.RDI, offBlockPA))
	a.Jcc(x.CondNE, out)
	a.AluRR(4, x.Xor, x.R9, x.R9)
	a.AluMI(8, x.Cmp, x.M(x.RDI, offBlockPA2), 0)
	a.Jcc(x.CondE, found)
	a.MovRR(8, x.R8, x.RAX)
	a.ShiftRI(8, x.Shr, x.R8, 12)
	a.AluRI(8, x.Add, x.R8, 1) // the next page
	a.MovRR(4, x.R10, x.R8)
	a.AluRI(4, x.And, x.R10, uitlbSize-1)
	a.Lea(8, x.R10, x.MI(x.R10, x.R10, 1, 0))
	a.AluRM(8, x.Cmp, x.R8, x.MI(x.RBX, x.R10, 3, offUitlbTag))
	a.Jcc(x.CondNE, out)
	a.Load(8, x.R8, x.MI(x.RBX, x.R10, 3, offUitlbBase))
	a.AluRM(8, x.Cmp, x.R8, x.M(x.RDI, offBlockPA2))
	a.Jcc(x.CondNE, out)
	a.Load(8, x.R9, x.MI(x.RBX, x.R10, 3, offUitlbE))
	// RDI: the block, R11: the ITLB entry it is reached through, R9: the next page's when
	// the block straddles the page end (else 0).
	a.Bind(found)
	a.Load(8, x.RSI, x.M(x.RDI, offBlockJit))
	a.AluRI(8, x.Cmp, x.RSI, jitNo)
	a.Jcc(x.CondBE, out)
	a.Load(8, x.R8, x.M(x.RDI, offBlockInstsLen))
	a.AluRM(8, x.Add, x.R8, x.M(x.RBX, offIcount))
	a.AluRM(8, x.Cmp, x.R8, x.M(x.RBX, offLimit))
	a.Jcc(x.CondA, out)
	// Go on: the ITLB hit, the entry for loops in place, the block and its address.
	a.Store(8, x.M(x.RBX, offEntry), x.R11)
	a.AluRI(8, x.Add, x.R14, 1)
	a.AluRI(8, x.Add, x.R15, 1)
	a.Store(8, x.M(x.R11, int32(tlb.StampOffset)), x.R15)
	one := x.NewLabel()
	a.TestRR(8, x.R9, x.R9)
	a.Jcc(x.CondE, one)
	a.StoreImm(8, x.M(x.RBX, offEntry), 0) // (never loops in place: fetchBlock's nil entry)
	a.AluRI(8, x.Add, x.R14, 1)
	a.AluRI(8, x.Add, x.R15, 1)
	a.Store(8, x.M(x.R9, int32(tlb.StampOffset)), x.R15)
	a.Bind(one)
	a.Load(4, x.R8, x.M(x.RDI, offBlockIndex))
	a.Store(4, x.M(x.RBX, offCur), x.R8)
	a.Store(8, x.M(x.RBX, offBva), x.RAX)
	a.Store(8, reg(regBlock), x.RAX)
	a.Lea(8, x.RSI, x.M(x.RSI, jitPrologue))
	a.B = append(a.B, 0xff, 0xe6) // jmp rsi (after the block's call to enter)
	a.Bind(out)
	a.MovRR(4, x.RAX, x.RCX)
	a.B = append(a.B, 0x48, 0x0f, 0xba, 0xe8, 0x20) // bts rax, 32: the block was left
	jmpLeave(&a)
	addr, ok := c.putShared(&a)
	c.jit.chain = addr
	return ok
}

// putShared puts a piece of shared code into the arena (and shows it to jitCodeHook).
func (c *CPU) putShared(a *x.Asm) (uintptr, bool) {
	addr, err := c.jit.arena.Put(a.B)
	if err != nil {
		return 0, false
	}
	if jitCodeHook != nil {
		jitCodeHook(c, nil, a.B, addr)
	}
	return addr, true
}

// frameAt is the operand [RSI + RDX]: the accessed bytes after access.
var frameAt = x.MI(x.RSI, x.RDX, 0, 0)

// loadHost loads guest register r (not AH..BH) into host register h, zero-extended from
// size bytes.
func (g *jitGen) loadHost(h x.Reg, r uint8, size int) {
	if f := g.fw; f.pos == len(g.a.B) && f.r == r&15 {
		// The register was stored from host register f.h just before: use f.h.
		switch {
		case size == 8 && h == f.h:
		case size == 8:
			g.a.MovRR(8, h, f.h)
		case size == 4:
			g.a.MovRR(4, h, f.h)
		default:
			g.a.MovzxR(size, h, f.h)
		}
		if h != f.h {
			g.fw.pos = len(g.a.B)
		}
		return
	}
	switch size {
	case 8:
		g.a.Load(8, h, reg(r&15))
	case 4:
		g.a.Load(4, h, reg(r&15))
	default:
		g.a.Movzx(size, h, reg(r&15))
	}
}

// storeLow writes the low size bytes (1 or 2) of host register h into guest register r,
// the other bytes kept: merged in R11 and stored whole, so a later 8-byte load of r is
// forwarded from the store instead of stalling on a narrow one. The flags are kept.
func (g *jitGen) storeLow(r uint8, h x.Reg, size int) {
	a := &g.a
	a.Load(8, x.R11, reg(r&15))
	op := byte(0x89) // mov r11w, h
	if size == 1 {
		op = 0x88 // mov r11b, h
	}
	a.OpR(size, []byte{op}, h, x.R11)
	g.storeReg(r, x.R11)
}

// bind binds l here: code may arrive from elsewhere, so nothing is known of the host
// registers.
func (g *jitGen) bind(l *x.Label) {
	g.a.Bind(l)
	g.fw.pos = -1
}

// storeReg stores host register h into guest register r (all 64 bits), and remembers that
// h holds it, for a loadHost emitted right after.
func (g *jitGen) storeReg(r uint8, h x.Reg) {
	g.a.Store(8, reg(r&15), h)
	g.fw = forward{r: r & 15, h: h, pos: len(g.a.B)}
}

// aluReg emits a cold-form ALU operation (opALU, opTest) between registers, or a register
// and an immediate, at any size, as execALU and opTest do; ok is false for other shapes.
func (g *jitGen) aluReg(in *inst, test bool) bool {
	a := &g.a
	size := int(in.size)
	if in.form&(fDstMem|fSrcMem|fAddr32) != 0 || in.dst >= 16 || size == 0 ||
		in.form&fSrcImm == 0 && in.src >= 16 {
		return false
	}
	carry := !test && (in.sub == aluAdc || in.sub == aluSbb)
	if carry && !g.withCarry() {
		return false
	}
	m := sizeMask[size]
	a.Load(8, x.RAX, reg(in.dst))
	if in.form&fSrcImm != 0 {
		a.MovImmKeepFlags(x.RCX, in.imm&m)
	} else {
		a.Load(8, x.RCX, reg(in.src))
	}
	a.MovRR(8, x.RDX, x.RAX)
	kind := uint8(lzLogic)
	switch {
	case test:
		a.AluRR(size, x.And, x.RDX, x.RCX)
	case in.sub == aluCmp:
		kind = lzSub
		a.AluRR(8, x.Sub, x.RDX, x.RCX) // (the result, for the record; the flags come below)
	default:
		a.AluRR(size, int(in.sub), x.RDX, x.RCX)
		kind = aluKind(in.sub)
	}
	if !test && in.sub != aluCmp {
		g.storeReg(in.dst, x.RDX) // sizes 1 and 2 merged, 4 zero-extended, by the host
	}
	g.maskTo(x.RAX, size)
	g.maskTo(x.RCX, size)
	if size < 4 {
		a.MovzxR(size, x.RDX, x.RDX)
	} else if size == 4 {
		a.MovRR(4, x.RDX, x.RDX)
	}
	if in.sub == aluCmp && !test {
		a.AluRR(size, x.Cmp, x.RAX, x.RCX) // the flags again (SUB at 8 bytes changed them)
	}
	g.lazy(kind, uint8(size), x.RAX, x.RCX, 0, x.RDX)
	if carry {
		a.Store(1, x.M(x.RBX, offLzCin), x.RSI)
	}
	g.setFlags(kind, uint8(size), true)
	return true
}

// aluKind is the lazy-flags kind of ALU operation alu.
func aluKind(alu uint8) uint8 {
	switch alu {
	case aluAdd:
		return lzAdd
	case aluSub, aluCmp:
		return lzSub
	case aluAdc:
		return lzAdc
	case aluSbb:
		return lzSbb
	}
	return lzLogic
}

// srcOperand loads an RR/RI fast op's source into RCX (or reports the immediate).
func (g *jitGen) srcOperand(in *inst, size int, imm bool) {
	if imm {
		g.a.MovImmKeepFlags(x.RCX, in.imm)
		if size == 4 {
			g.a.MovRR(4, x.RCX, x.RCX)
		}
		return
	}
	g.loadHost(x.RCX, in.src, size)
}

// fastALUs gives, for each fast RR/RI ALU op and its fused form, the host ALU operation and
// the size (0: not such an op), and whether it is the fused form.
var fastALUs = func() (t [opLimit]struct {
	alu, size int
	fused     bool
}) {
	for _, f := range []struct {
		rr64, ri64, f64, rr32, ri32, f32 uint16
		alu                              int
	}{
		{opAdd64RR, opAdd64RI, opAdd64F, opAdd32RR, opAdd32RI, opAdd32F, x.Add},
		{opSub64RR, opSub64RI, opSub64F, opSub32RR, opSub32RI, opSub32F, x.Sub},
		{opAnd64RR, opAnd64RI, opAnd64F, opAnd32RR, opAnd32RI, opAnd32F, x.And},
		{opOr64RR, opOr64RI, opOr64F, opOr32RR, opOr32RI, opOr32F, x.Or},
		{opXor64RR, opXor64RI, opXor64F, opXor32RR, opXor32RI, opXor32F, x.Xor},
	} {
		for _, o := range []struct {
			op    uint16
			size  int
			fused bool
		}{{f.rr64, 8, false}, {f.ri64, 8, false}, {f.f64, 8, true}, {f.rr32, 4, false}, {f.ri32, 4, false}, {f.f32, 4, true}} {
			t[o.op].alu, t[o.op].size, t[o.op].fused = f.alu, o.size, o.fused
		}
	}
	return t
}()

func fastShift(op uint16) (sh int, kind uint8, size int, fused, ok bool) {
	switch op {
	case opShl64RI, opShl64F:
		sh, kind, size = x.Shl, lzShl, 8
	case opShl32RI, opShl32F:
		sh, kind, size = x.Shl, lzShl, 4
	case opShr64RI, opShr64F:
		sh, kind, size = x.Shr, lzShr, 8
	case opShr32RI, opShr32F:
		sh, kind, size = x.Shr, lzShr, 4
	case opSar64RI, opSar64F:
		sh, kind, size = x.Sar, lzSar, 8
	case opSar32RI, opSar32F:
		sh, kind, size = x.Sar, lzSar, 4
	default:
		return 0, 0, 0, false, false
	}
	switch op {
	case opShl64F, opShl32F, opShr64F, opShr32F, opSar64F, opSar32F:
		fused = true
	}
	return sh, kind, size, fused, true
}

// op emits slot i. It returns the next slot, -1 when the op left the block, or ok false when
// the op is not translated (the code then leaves before it).
func (g *jitGen) op(i int) (next int, ok bool) {
	a := &g.a
	in := &g.ins[i]
	live := in.hint&hFlagsDead == 0
	if f := fastALUs[in.op&(opLimit-1)]; f.size != 0 {
		alu, size, fused := f.alu, f.size, f.fused
		imm := in.form&fSrcImm != 0 // (as run decides: the fused forms have either)
		g.loadHost(x.RAX, in.base, size)
		g.srcOperand(in, size, imm)
		a.MovRR(8, x.RDX, x.RAX)
		a.AluRR(size, alu, x.RDX, x.RCX)
		g.storeReg(in.dst, x.RDX)
		if live {
			switch alu {
			case x.Add, x.Sub:
				kind := uint8(lzAdd)
				if alu == x.Sub {
					kind = lzSub
				}
				if imm {
					g.lazy(kind, uint8(size), x.RAX, x.NoReg, in.imm, x.RDX)
				} else {
					g.lazy(kind, uint8(size), x.RAX, x.RCX, 0, x.RDX)
				}
				g.setFlags(kind, uint8(size), true)
			default:
				g.lazy(lzLogic, uint8(size), x.RDX, x.RDX, 0, x.RDX)
				g.setFlags(lzLogic, uint8(size), true)
			}
		} else {
			g.host = false
		}
		if fused {
			return i + 2, true
		}
		return i + 1, true
	}
	if sh, kind, size, fused, isShift := fastShift(in.op); isShift {
		mask := uint64(63)
		if size == 4 {
			mask = 31
		}
		n := uint8(in.imm & mask)
		if n == 0 {
			return 0, false
		}
		g.loadHost(x.RAX, in.base, size)
		a.MovRR(8, x.RDX, x.RAX)
		a.ShiftRI(size, sh, x.RDX, n)
		g.storeReg(in.dst, x.RDX)
		if live {
			g.lazy(kind, uint8(size), x.RAX, x.NoReg, in.imm, x.RDX)
			g.setFlags(kind, uint8(size), true)
		} else {
			g.host = false
		}
		if fused {
			return i + 2, true
		}
		return i + 1, true
	}
	switch in.op {
	case opXmmMov, opXmmMovLo, opXmmMovmsk, opXmmLoad, opXmmStore, opXmmInt, opXmmFP, opXmmCvtPS2DQ:
		if !g.sse(i, in) {
			return 0, false
		}
	case opNop:
	case opMovRR64:
		a.Load(8, x.RAX, reg(in.src&15))
		g.storeReg(in.dst, x.RAX)
	case opMovRR32:
		a.Load(4, x.RAX, reg(in.src&15))
		g.storeReg(in.dst, x.RAX)
	case opMovRI:
		if fits32(int64(in.imm)) {
			a.StoreImm(8, reg(in.dst&15), int32(in.imm))
		} else {
			a.MovImmKeepFlags(x.RAX, in.imm)
			g.storeReg(in.dst, x.RAX)
		}
	case opLea64, opLea32:
		g.ea(in)
		if in.op == opLea32 {
			a.MovRR(4, x.RAX, x.RAX)
		}
		g.storeReg(in.dst, x.RAX)
		g.host = false // (ea may clear RAX with XOR)
	case opCmp64RR, opCmp64RI, opCmp32RR, opCmp32RI, opTest64RR, opTest64RI, opTest32RR, opTest32RI:
		if !live {
			break
		}
		size := 8
		if in.op == opCmp32RR || in.op == opCmp32RI || in.op == opTest32RR || in.op == opTest32RI {
			size = 4
		}
		imm := in.op == opCmp64RI || in.op == opCmp32RI || in.op == opTest64RI || in.op == opTest32RI
		g.loadHost(x.RAX, in.dst, size)
		g.srcOperand(in, size, imm)
		if in.op == opCmp64RR || in.op == opCmp64RI || in.op == opCmp32RR || in.op == opCmp32RI {
			a.MovRR(8, x.RDX, x.RAX)
			a.AluRR(size, x.Sub, x.RDX, x.RCX)
			if imm {
				g.lazy(lzSub, uint8(size), x.RAX, x.NoReg, in.imm, x.RDX)
			} else {
				g.lazy(lzSub, uint8(size), x.RAX, x.RCX, 0, x.RDX)
			}
			g.setFlags(lzSub, uint8(size), true)
		} else {
			a.AluRR(size, x.And, x.RAX, x.RCX)
			g.lazy(lzLogic, uint8(size), x.RAX, x.RAX, 0, x.RAX)
			g.setFlags(lzLogic, uint8(size), true)
		}
	case opInc64, opDec64, opInc32, opDec32:
		size := 8
		if in.op == opInc32 || in.op == opDec32 {
			size = 4
		}
		kind := uint8(lzInc)
		if in.op == opDec64 || in.op == opDec32 {
			kind = lzDec
		}
		if live {
			// The carry the operation keeps: CF of the flags before it.
			if !g.carryInto(x.RSI) {
				return 0, false
			}
		}
		g.loadHost(x.RAX, in.dst, size)
		a.MovRR(8, x.RDX, x.RAX)
		if kind == lzInc {
			a.Inc(size, x.RDX)
		} else {
			a.Dec(size, x.RDX)
		}
		g.storeReg(in.dst, x.RDX)
		if live {
			g.lazy(kind, uint8(size), x.RAX, x.NoReg, 1, x.RDX)
			a.Store(1, x.M(x.RBX, offLzCin), x.RSI)
			g.setFlags(kind, uint8(size), true)
		} else {
			g.host = false
		}
	case opImulRR, opImulRRI:
		size := int(in.size)
		if in.op == opImulRR {
			g.loadHost(x.RDX, in.dst, size)
			g.loadHost(x.RCX, in.src, size)
			a.ImulRR(size, x.RDX, x.RCX)
		} else {
			if !fits32(int64(in.imm)) && size == 8 {
				return 0, false
			}
			g.loadHost(x.RCX, in.src, size)
			a.ImulRRI(size, x.RDX, x.RCX, int32(in.imm))
		}
		if size == 4 {
			a.B = append(a.B, 0x89, 0xd2) // mov edx, edx: zero-extend (flags kept)
		}
		g.storeReg(in.dst, x.RDX)
		if live {
			a.Setcc(x.CondO, x.RSI)
			a.MovImmKeepFlags(x.RAX, 0)
			g.lazy(lzMul, uint8(size), x.RAX, x.RAX, 0, x.RDX)
			a.Store(1, x.M(x.RBX, offLzCin), x.RSI)
			g.setFlags(lzMul, uint8(size), true)
		} else {
			g.host = false
		}
	case opNegR:
		size := int(in.size)
		if size != 4 && size != 8 {
			return 0, false
		}
		g.loadHost(x.RCX, in.dst, size)
		a.MovRR(8, x.RDX, x.RCX)
		a.Neg(size, x.RDX)
		g.storeReg(in.dst, x.RDX)
		if live {
			a.MovImmKeepFlags(x.RAX, 0)
			g.lazy(lzSub, uint8(size), x.RAX, x.RCX, 0, x.RDX)
			g.setFlags(lzSub, uint8(size), true)
		} else {
			g.host = false
		}
	case opMovzxRR:
		a.Load(8, x.RAX, reg(in.src&15))
		switch in.ssize {
		case 1, 2:
			a.MovzxR(int(in.ssize), x.RAX, x.RAX)
		case 4:
			a.MovRR(4, x.RAX, x.RAX)
		}
		g.storeReg(in.dst, x.RAX)
	case opMovsxRR:
		if in.ssize != 1 && in.ssize != 2 && in.ssize != 4 || in.size != 4 && in.size != 8 {
			return 0, false
		}
		a.Load(8, x.RCX, reg(in.src&15))
		a.MovsxR(8, int(in.ssize), x.RAX, x.RCX)
		if in.size == 4 {
			a.MovRR(4, x.RAX, x.RAX)
		}
		g.storeReg(in.dst, x.RAX)
	case opSetccR:
		if !g.condFlags(in.sub) {
			return 0, false
		}
		a.Setcc(x.Cond(in.sub), x.RCX)
		g.storeLow(in.dst, x.RCX, 1)
	case opCmovRR:
		if !g.condFlags(in.sub) || in.size != 4 && in.size != 8 {
			return 0, false
		}
		a.Load(8, x.RAX, reg(in.dst&15))
		a.Load(8, x.RCX, reg(in.src&15))
		a.Cmov(8, x.Cond(in.sub), x.RAX, x.RCX)
		if in.size == 4 {
			a.MovRR(4, x.RAX, x.RAX)
		}
		g.storeReg(in.dst, x.RAX)
	case opRolRI, opRorRI, opRolF:
		if in.size != 4 && in.size != 8 || live && in.op == opRolF {
			return 0, false
		}
		if live {
			if !g.rotLive(in) {
				return 0, false
			}
			break
		}
		g.loadHost(x.RAX, in.base, int(in.size))
		mask := uint64(63)
		if in.size == 4 {
			mask = 31
		}
		if n := uint8(in.imm & mask); n != 0 {
			a.ShiftRI(int(in.size), x.Rol, x.RAX, n)
		}
		g.storeReg(in.dst, x.RAX)
		g.host = false
		if in.op == opRolF {
			return i + 2, true
		}
	case opBswapR, opNotR:
		if in.size != 4 && in.size != 8 {
			return 0, false
		}
		g.loadHost(x.RAX, in.dst, int(in.size))
		if in.op == opBswapR {
			a.Bswap(int(in.size), x.RAX)
		} else {
			a.Not(int(in.size), x.RAX)
		}
		g.storeReg(in.dst, x.RAX)

	// Memory.
	case opLoad64, opLoad32, opLoadZx8, opLoadZx16, opLoadSx32:
		size := memSize(in.op)
		g.ea(in)
		g.access(i, size, false, 1)
		switch in.op {
		case opLoad64:
			a.Load(8, x.RAX, frameAt)
		case opLoad32:
			a.Load(4, x.RAX, frameAt)
		case opLoadSx32:
			a.Movsx(8, 4, x.RAX, frameAt)
		default:
			a.Movzx(size, x.RAX, frameAt)
		}
		g.storeReg(in.dst, x.RAX)
	case opLoadSx:
		if in.ssize != 1 && in.ssize != 2 || in.size != 4 && in.size != 8 {
			return 0, false
		}
		g.ea(in)
		g.access(i, int(in.ssize), false, 1)
		a.Movsx(8, int(in.ssize), x.RAX, frameAt)
		if in.size == 4 {
			a.MovRR(4, x.RAX, x.RAX)
		}
		g.storeReg(in.dst, x.RAX)
	case opStore64, opStoreI64, opStore32, opStoreI32, opStore8, opStoreI8:
		size := memSize(in.op)
		g.ea(in)
		g.access(i, size, true, 1)
		if in.op == opStore64 || in.op == opStore32 || in.op == opStore8 {
			a.Load(8, x.RAX, reg(in.src&15))
		} else {
			a.MovImmKeepFlags(x.RAX, in.imm)
		}
		a.Store(size, frameAt, x.RAX)
	case opAluRM:
		size := int(in.size)
		if size != 4 && size != 8 || in.sub == aluAdc || in.sub == aluSbb {
			return 0, false
		}
		g.ea(in)
		g.access(i, size, false, 1)
		a.Load(size, x.RCX, frameAt) // v
		g.loadHost(x.RAX, in.dst, size)
		a.MovRR(8, x.RDX, x.RAX)
		kind := uint8(lzLogic)
		switch in.sub {
		case aluAdd:
			kind = lzAdd
			a.AluRR(size, x.Add, x.RDX, x.RCX)
		case aluSub, aluCmp:
			kind = lzSub
			a.AluRR(size, x.Sub, x.RDX, x.RCX)
		default:
			a.AluRR(size, int(in.sub), x.RDX, x.RCX)
		}
		if in.sub != aluCmp {
			g.storeReg(in.dst, x.RDX)
		}
		g.lazy(kind, uint8(size), x.RAX, x.RCX, 0, x.RDX)
		g.setFlags(kind, uint8(size), true)
	case opCmpMI, opCmpMR, opTestMI:
		size := int(in.size)
		g.ea(in)
		g.access(i, size, false, 1)
		if size >= 4 {
			a.Load(size, x.RAX, frameAt)
		} else {
			a.Movzx(size, x.RAX, frameAt)
		}
		m := sizeMask[size]
		switch in.op {
		case opCmpMR:
			a.Load(8, x.RCX, reg(in.src&15))
			g.maskTo(x.RCX, size)
		default:
			a.MovImmKeepFlags(x.RCX, in.imm)
		}
		if in.op == opTestMI {
			a.MovImmKeepFlags(x.RCX, in.imm&m)
			a.AluRR(size, x.And, x.RAX, x.RCX)
			g.maskTo(x.RAX, size)
			g.lazy(lzLogic, uint8(size), x.RAX, x.RAX, 0, x.RAX)
			g.setFlags(lzLogic, uint8(size), false)
			break
		}
		a.MovRR(8, x.RDX, x.RAX)
		a.AluRR(8, x.Sub, x.RDX, x.RCX)
		g.maskTo(x.RDX, size)
		a.AluRR(size, x.Cmp, x.RAX, x.RCX) // the flags, at size
		if in.op == opCmpMI {
			g.lazy(lzSub, uint8(size), x.RAX, x.NoReg, in.imm, x.RDX)
		} else {
			g.lazy(lzSub, uint8(size), x.RAX, x.RCX, 0, x.RDX)
		}
		g.setFlags(lzSub, uint8(size), in.op != opCmpMI || in.imm&^m == 0)
	case opAluMR:
		size := int(in.size)
		if in.sub != aluAdd && in.sub != aluSub && in.sub != aluAnd && in.sub != aluOr && in.sub != aluXor {
			return 0, false
		}
		g.ea(in)
		g.access(i, size, true, 3)
		if in.form&fSrcImm == 0 {
			a.Load(8, x.RCX, reg(in.src&15))
			g.maskTo(x.RCX, size)
		} else {
			a.MovImmKeepFlags(x.RCX, in.imm)
		}
		if size >= 4 {
			a.Load(size, x.RAX, frameAt)
		} else {
			a.Movzx(size, x.RAX, frameAt)
		}
		a.MovRR(8, x.RDI, x.RAX)
		a.AluRR(size, int(in.sub), x.RDI, x.RCX)
		a.Store(size, frameAt, x.RDI)
		g.maskTo(x.RDI, size)
		kind := uint8(lzLogic)
		switch in.sub {
		case aluAdd:
			kind = lzAdd
		case aluSub:
			kind = lzSub
		}
		g.lazy(kind, uint8(size), x.RAX, x.RCX, 0, x.RDI)
		g.setFlags(kind, uint8(size), false)
	case opPushR:
		a.Load(8, x.RAX, reg(RSP))
		a.AluRI(8, x.Sub, x.RAX, 8)
		g.access(i, 8, true, 1)
		a.Load(8, x.RCX, reg(in.src&15))
		a.Store(8, frameAt, x.RCX)
		a.Store(8, reg(RSP), x.RAX)
	case opPopR:
		a.Load(8, x.RAX, reg(RSP))
		g.access(i, 8, false, 1)
		a.Load(8, x.RCX, frameAt)
		a.AluRI(8, x.Add, x.RAX, 8)
		a.Store(8, reg(RSP), x.RAX)
		g.storeReg(in.dst, x.RCX)

	// Control transfers.
	case opCmpJccRR, opCmpJccRI, opTestJccRR, opTestJccRI:
		if i+1 >= len(g.ins) {
			return 0, false
		}
		size := int(in.size)
		if size == 0 || in.dst >= 16 || in.src >= 16 && (in.op == opCmpJccRR || in.op == opTestJccRR) {
			return 0, false
		}
		g.loadHost(x.RAX, in.dst, size)
		if in.op == opCmpJccRR || in.op == opTestJccRR {
			g.loadHost(x.RCX, in.src, size)
		} else {
			a.MovImmKeepFlags(x.RCX, in.imm&sizeMask[size])
		}
		if in.op <= opCmpJccRI {
			a.MovRR(8, x.RDX, x.RAX)
			a.AluRR(size, x.Sub, x.RDX, x.RCX)
			g.lazy(lzSub, uint8(size), x.RAX, x.RCX, 0, x.RDX)
			g.setFlags(lzSub, uint8(size), true)
		} else {
			a.AluRR(size, x.And, x.RAX, x.RCX)
			g.lazy(lzLogic, uint8(size), x.RAX, x.RAX, 0, x.RAX)
			g.setFlags(lzLogic, uint8(size), true)
		}
		jcc := &g.ins[i+1]
		return g.branch(i, i+1, in.sub, jcc)
	case opJcc:
		if !g.condFlags(in.sub) {
			return 0, false
		}
		return g.branch(i, i, in.sub, in)
	case opJmp:
		d := int64(in.off) + int64(in.len) + int64(in.imm)
		if !fits32(d) {
			return 0, false
		}
		g.jumpTo(i, d, i+1, 0)
		return -1, true
	case opCall:
		d := int64(in.off) + int64(in.len) + int64(in.imm)
		if !fits32(d) {
			return 0, false
		}
		g.target(i, d) // RAX: the target, checked
		a.MovRR(8, x.R8, x.RAX)
		a.Load(8, x.RAX, reg(RSP))
		a.AluRI(8, x.Sub, x.RAX, 8)
		g.access(i, 8, true, 1)
		a.Load(8, x.RCX, reg(regBlock))
		a.Lea(8, x.RCX, x.M(x.RCX, int32(in.off)+int32(in.len)))
		a.Store(8, frameAt, x.RCX)
		a.Store(8, reg(RSP), x.RAX)
		a.Store(8, x.M(x.RBX, offRIP), x.R8)
		g.exitEnd(i+1, 0)
		return -1, true
	case opRet:
		if !fits32(int64(in.imm) + 8) {
			return 0, false
		}
		// The target is checked before the hit is counted: a #GP is the interpreter's,
		// which reads it again.
		a.Load(8, x.RAX, reg(RSP))
		g.access(i, 8, false, 0)
		a.Load(8, x.R8, frameAt)
		a.MovRR(8, x.R10, x.RCX)
		g.canonical(i, x.R8)
		g.countHits(x.R10, 1)
		a.Lea(8, x.RAX, x.M(x.RAX, int32(in.imm)+8))
		a.Store(8, reg(RSP), x.RAX)
		a.Store(8, x.M(x.RBX, offRIP), x.R8)
		g.exitEnd(i+1, 0)
		return -1, true
	case opJmpInd, opCallInd:
		if in.form&fSrcImm != 0 || in.size != 8 || in.form&fSrcMem == 0 && in.src >= 16 {
			return 0, false
		}
		// Every check (the target's page, the target, the stack's page) comes before any
		// hit is counted, so a return to the interpreter leaves nothing counted twice.
		mem := in.form&fSrcMem != 0
		if mem {
			if !g.eaRaw(in) {
				return 0, false
			}
			g.access(i, 8, false, 0)
			a.Load(8, x.R8, frameAt)
			a.MovRR(8, x.R10, x.RCX) // the entry
		} else {
			a.Load(8, x.R8, reg(in.src))
		}
		g.canonical(i, x.R8)
		if in.op == opCallInd {
			a.Load(8, x.RAX, reg(RSP))
			a.AluRI(8, x.Sub, x.RAX, 8)
			g.access(i, 8, true, 0)
			if mem {
				g.countHits(x.R10, 1) // the read
			}
			g.countHits(x.RCX, 1) // the push
			a.Load(8, x.RCX, reg(regBlock))
			a.Lea(8, x.RCX, x.M(x.RCX, int32(in.off)+int32(in.len)))
			a.Store(8, frameAt, x.RCX)
			a.Store(8, reg(RSP), x.RAX)
		}
		if in.op == opJmpInd && mem {
			g.countHits(x.R10, 1)
		}
		a.Store(8, x.M(x.RBX, offRIP), x.R8)
		g.exitEnd(i+1, 0)
		return -1, true
	case opALU, opTest:
		if in.form&(fDstMem|fSrcMem) != 0 {
			if !g.aluMem(i, in, in.op == opTest) {
				return 0, false
			}
			break
		}
		if !g.aluReg(in, in.op == opTest) {
			return 0, false
		}
	case opAluRn:
		if in.dst >= 16 || in.form&(fDstMem|fAddr32) != 0 ||
			in.form&(fSrcMem|fSrcImm) == 0 && in.src >= 16 ||
			in.form&fSrcMem != 0 && (in.sub == aluAdc || in.sub == aluSbb) {
			return 0, false // (an access counted, then no carry: counted twice)
		}
		size := int(in.size)
		if in.form&fSrcMem != 0 {
			g.ea(in)
			g.access(i, size, false, 1)
			a.Movzx(size, x.RCX, frameAt)
		} else if in.form&fSrcImm != 0 {
			a.MovImmKeepFlags(x.RCX, in.imm)
		} else {
			g.loadHost(x.RCX, in.src, size)
		}
		if !g.narrowOp(in, size, int(in.sub), x.RCX) {
			return 0, false
		}
	case opShiftRIn:
		if in.dst >= 16 {
			return 0, false
		}
		size := int(in.size)
		n := uint8(in.imm & 31)
		kind, sh := uint8(lzShl), x.Shl
		switch in.sub {
		case shShr:
			kind, sh = lzShr, x.Shr
		case shSar:
			kind, sh = lzSar, x.Sar
		}
		g.loadHost(x.RAX, in.dst, size)
		a.MovRR(8, x.RDX, x.RAX)
		if n != 0 {
			a.ShiftRI(size, sh, x.RDX, n)
		}
		g.storeLow(in.dst, x.RDX, size)
		g.maskTo(x.RDX, size)
		g.lazy(kind, uint8(size), x.RAX, x.NoReg, uint64(n), x.RDX)
		g.setFlags(kind, uint8(size), n != 0 && int(n) < size*8)
	case opNegRn:
		if in.dst >= 16 {
			return 0, false
		}
		size := int(in.size)
		g.loadHost(x.RCX, in.dst, size)
		a.MovRR(8, x.RDX, x.RCX)
		a.Neg(size, x.RDX)
		g.storeLow(in.dst, x.RDX, size)
		g.maskTo(x.RDX, size)
		a.MovImmKeepFlags(x.RAX, 0)
		g.lazy(lzSub, uint8(size), x.RAX, x.RCX, 0, x.RDX)
		g.setFlags(lzSub, uint8(size), true)
	case opMulDiv:
		// DIV of RDX:RAX (EDX:EAX) by a register; #DE (a zero divisor, a quotient too
		// wide) is left to the interpreter. The flags, all undefined, as setDivFlags.
		size := int(in.size)
		if in.sub != mdDiv || size != 4 && size != 8 || in.form&fDstMem != 0 || in.dst >= 16 {
			return 0, false
		}
		if !g.materialize() {
			return 0, false
		}
		g.loadHost(x.RCX, in.dst, size)
		g.loadHost(x.RAX, RAX, size)
		g.loadHost(x.RDX, RDX, size)
		a.TestRR(8, x.RCX, x.RCX)
		a.Jcc(x.CondE, g.side(i))
		a.AluRR(8, x.Cmp, x.RDX, x.RCX)
		a.Jcc(x.CondAE, g.side(i))
		a.OpR(size, []byte{0xf7}, 6, x.RCX) // div rcx (ecx)
		a.Store(8, reg(RAX), x.RAX)
		a.Store(8, reg(RDX), x.RDX)
		a.AluRI(8, x.And, x.R8, ^int32(FlagSF|FlagZF|FlagPF))
		a.AluRI(8, x.Or, x.R8, int32(FlagAF))
		g.setRflags()
	case opImul2:
		size := int(in.size)
		if size != 4 && size != 8 || in.dst >= 16 || in.form&fSrcMem == 0 {
			return 0, false // (the register forms are opImulRR)
		}
		if !g.eaRaw(in) {
			return 0, false
		}
		g.access(i, size, false, 1)
		g.loadHost(x.RDI, in.dst, size)
		a.OpM(size, []byte{0x0f, 0xaf}, x.RDI, frameAt) // imul edi/rdi, [frame] (a 32-bit result zero-extended)
		a.Store(8, reg(in.dst), x.RDI)
		a.Setcc(x.CondO, x.RSI)
		a.MovImmKeepFlags(x.RAX, 0)
		g.lazy(lzMul, uint8(size), x.RAX, x.RAX, 0, x.RDI)
		a.Store(1, x.M(x.RBX, offLzCin), x.RSI)
		g.setFlags(lzMul, uint8(size), true)
	case opRepMS:
		// A zero count does nothing at all; any other goes to the interpreter.
		a.Load(8, x.RCX, reg(RCX))
		if in.form&fAddr32 != 0 {
			a.TestRR(4, x.RCX, x.RCX)
		} else {
			a.TestRR(8, x.RCX, x.RCX)
		}
		a.Jcc(x.CondNE, g.side(i))
		g.host = false
	case opRepString:
		// With a zero count any REP string instruction does nothing (execRepString), and
		// it ends its block: RIP after it. Any other count goes to the interpreter.
		if in.form&fRepNE == 0 && in.form&fRep == 0 {
			return 0, false
		}
		a.Load(8, x.RCX, reg(RCX))
		if in.form&fAddr32 != 0 {
			a.TestRR(4, x.RCX, x.RCX)
		} else {
			a.TestRR(8, x.RCX, x.RCX)
		}
		a.Jcc(x.CondNE, g.side(i))
		g.host = false
		g.setRIP(int64(in.off) + int64(in.len))
		g.exitEnd(i+1, 0)
		return -1, true
	case opMovsR, opStosR:
		// As execFast2: the load, the store, then the pointers (DF from RFLAGS).
		// The store's page is looked up first (a peek), so that a miss on either page
		// returns to the interpreter with nothing counted; then the hits, in order.
		size := int(in.size)
		a.Load(8, x.RAX, reg(RDI))
		g.access(i, size, true, 0)
		a.MovRR(8, x.R9, x.RSI)
		a.MovRR(8, x.R10, x.RDX)
		a.MovRR(8, x.R11, x.RCX)
		if in.op == opMovsR {
			a.Load(8, x.RAX, reg(RSI))
			g.access(i, size, false, 1)
			a.Load(size, x.R8, frameAt)
		} else {
			a.Load(8, x.R8, reg(RAX))
		}
		g.countHits(x.R11, 1)
		a.Store(size, x.MI(x.R9, x.R10, 0, 0), x.R8)
		// d = size, or -size when DF is set
		a.MovImm(x.RCX, uint64(size))
		a.MovImm(x.RDX, uint64(-int64(size)))
		a.OpM(4, []byte{0x0f, 0xba}, 4, x.M(x.RBX, offRflags)) // bt dword [rflags], 10: CF = DF
		a.B = append(a.B, 10)
		a.Cmov(8, x.CondB, x.RCX, x.RDX)
		if in.op == opMovsR {
			a.AluMR(8, x.Add, reg(RSI), x.RCX)
		}
		a.AluMR(8, x.Add, reg(RDI), x.RCX)
		g.host = false
	case opBitScan:
		// BSF, BSR (execBitScan): the index, or, for a zero source, the destination kept;
		// ZF says which; the other flags are kept (bitScanUndefined).
		size := int(in.size)
		if size != 4 && size != 8 || in.dst >= 16 || in.form&fSrcImm != 0 || in.form&fSrcMem == 0 && in.src >= 16 {
			return 0, false
		}
		// (the flags first: an op that counts a hit must not then give up)
		if !g.materialize() { // (R8; changes RCX)
			return 0, false
		}
		if in.form&fSrcMem != 0 {
			if !g.eaRaw(in) {
				return 0, false
			}
			g.access(i, size, false, 1)
			a.Load(size, x.R9, frameAt)
		} else {
			g.loadHost(x.R9, in.src, size)
		}
		zero, done := x.NewLabel(), x.NewLabel()
		a.AluRI(8, x.And, x.R8, ^int32(FlagZF))
		a.TestRR(8, x.R9, x.R9)
		a.Jcc(x.CondE, zero)
		op := byte(0xbc) // bsf
		if in.sub != scanForward {
			op = 0xbd // bsr
		}
		a.OpR(8, []byte{0x0f, op}, x.RAX, x.R9)
		a.Store(8, reg(in.dst), x.RAX) // (below 64: a 32-bit destination is zero-extended)
		a.Jmp(done)
		g.bind(zero)
		a.AluRI(8, x.Or, x.R8, int32(FlagZF))
		g.bind(done)
		g.setRflags()
	case opCvt:
		ops := [...][]byte{cvCbw: {0x66, 0x98}, cvCwde: {0x98}, cvCdqe: {0x48, 0x98}, cvCwd: {0x66, 0x99},
			cvCdq: {0x99}, cvCqo: {0x48, 0x99}}
		if int(in.sub) >= len(ops) {
			return 0, false
		}
		a.Load(8, x.RAX, reg(RAX))
		a.Load(8, x.RDX, reg(RDX))
		a.B = append(a.B, ops[in.sub]...)
		a.Store(8, reg(RAX), x.RAX)
		a.Store(8, reg(RDX), x.RDX)
	case opMov:
		if in.form&(fDstMem|fSrcMem) != 0 {
			if !g.movMem(i, in) {
				return 0, false
			}
			break
		}
		if in.dst >= 16 || in.form&fSrcImm == 0 && in.src >= 16 {
			return 0, false
		}
		size := int(in.size)
		if in.form&fSrcImm != 0 {
			a.MovImmKeepFlags(x.RCX, in.imm&sizeMask[size])
		} else {
			a.Load(8, x.RCX, reg(in.src))
		}
		switch size {
		case 8:
			g.storeReg(in.dst, x.RCX)
		case 4:
			a.MovRR(4, x.RCX, x.RCX)
			g.storeReg(in.dst, x.RCX)
		default:
			g.storeLow(in.dst, x.RCX, size) // the low bytes only, as setReg
		}
	case opTestRIn, opCmpRIn:
		if !live {
			break
		}
		size := int(in.size)
		g.loadHost(x.RAX, in.dst, size)
		if in.op == opTestRIn {
			a.MovImmKeepFlags(x.RCX, in.imm)
			a.AluRR(size, x.And, x.RAX, x.RCX)
			g.maskTo(x.RAX, size)
			g.lazy(lzLogic, uint8(size), x.RAX, x.RAX, 0, x.RAX)
			g.setFlags(lzLogic, uint8(size), true)
			break
		}
		a.MovImmKeepFlags(x.RCX, in.imm)
		a.MovRR(8, x.RDX, x.RAX)
		a.AluRR(8, x.Sub, x.RDX, x.RCX)
		g.maskTo(x.RDX, size)
		a.AluRR(size, x.Cmp, x.RAX, x.RCX)
		g.lazy(lzSub, uint8(size), x.RAX, x.RCX, 0, x.RDX)
		g.setFlags(lzSub, uint8(size), true)
	case opShiftCL:
		size := int(in.size)
		if size != 4 && size != 8 {
			return 0, false
		}
		kind, sh := uint8(lzShl), x.Shl
		switch in.sub {
		case shShr:
			kind, sh = lzShr, x.Shr
		case shSar:
			kind, sh = lzSar, x.Sar
		}
		g.loadHost(x.RAX, in.dst, size)
		a.Load(8, x.RCX, reg(RCX))
		a.AluRI(4, x.And, x.RCX, int32(size*8-1))
		a.MovRR(8, x.RDX, x.RAX)
		a.ShiftRCL(size, sh, x.RDX)
		g.storeReg(in.dst, x.RDX)
		if live {
			skip := x.NewLabel()
			a.TestRR(4, x.RCX, x.RCX)
			a.Jcc(x.CondE, skip) // a count of 0 changes no flags
			g.lazy(kind, uint8(size), x.RAX, x.RCX, 0, x.RDX)
			g.bind(skip)
			g.setFlags(fsDynamic, uint8(size), false)
		} else {
			g.host = false
		}
	default:
		return 0, false
	}
	return i + 1, true
}

// rotLive is ROL or ROR of a 32- or 64-bit register whose flags are read (as rotLive in
// int_ops.go): CF and OF from the result, the other flags those before it, materialized in
// RFLAGS (lz.kind becomes lzNone). It reports false when the flags before it cannot be
// materialized here.
func (g *jitGen) rotLive(in *inst) bool {
	a := &g.a
	size := int(in.size)
	w := size * 8
	if !g.materialize() {
		return false
	}
	// The rotation.
	g.loadHost(x.RAX, in.base, size)
	if n := uint8(in.imm & uint64(w-1)); n != 0 {
		a.ShiftRI(size, x.Rol, x.RAX, n)
	}
	g.storeReg(in.dst, x.RAX)
	// CF and OF (rotLive's formulas) into RCX.
	a.MovRR(8, x.RCX, x.RAX)
	a.MovRR(8, x.RDX, x.RAX)
	if in.sub == shRol {
		a.AluRI(4, x.And, x.RCX, 1)            // cf = res & 1
		a.ShiftRI(8, x.Shr, x.RDX, uint8(w-1)) // msb
		a.AluRR(4, x.Xor, x.RDX, x.RCX)        // of = msb ^ cf
	} else {
		a.ShiftRI(8, x.Shr, x.RCX, uint8(w-1)) // cf = msb
		a.ShiftRI(8, x.Shr, x.RDX, uint8(w-2))
		a.AluRI(4, x.And, x.RDX, 1)
		a.AluRR(4, x.Xor, x.RDX, x.RCX) // of = cf ^ bit w-2
	}
	a.ShiftRI(4, x.Shl, x.RDX, 11)
	a.AluRR(4, x.Or, x.RCX, x.RDX)
	a.AluRI(8, x.And, x.R8, ^int32(FlagCF|FlagOF))
	a.AluRR(8, x.Or, x.R8, x.RCX)
	a.Store(8, x.M(x.RBX, offRflags), x.R8)
	a.StoreImm(1, x.M(x.RBX, offLz), int32(lzNone))
	g.setFlags(lzNone, 0, false)
	return true
}

// narrowOp is a byte or word ALU operation (aluNarrow) of the destination register with
// the source in host register src (zero-extended from size bytes).
func (g *jitGen) narrowOp(in *inst, size, alu int, src x.Reg) bool {
	a := &g.a
	carry := alu == aluAdc || alu == aluSbb
	if carry && !g.withCarry() { // (RSI; the host's CF)
		return false
	}
	g.loadHost(x.RAX, in.dst, size)
	a.MovRR(8, x.RDX, x.RAX)
	kind := aluKind(uint8(alu))
	if alu == aluCmp {
		a.AluRR(8, x.Sub, x.RDX, src)
		g.maskTo(x.RDX, size)
		a.AluRR(size, x.Cmp, x.RAX, src)
	} else {
		a.AluRR(size, alu, x.RDX, src)
		g.storeLow(in.dst, x.RDX, size)
		g.maskTo(x.RDX, size)
	}
	g.lazy(kind, uint8(size), x.RAX, src, 0, x.RDX)
	if carry {
		a.Store(1, x.M(x.RBX, offLzCin), x.RSI)
	}
	g.setFlags(kind, uint8(size), true)
	return true
}

// movMem is MOV between a register (or an immediate) and memory, as decoded (any
// addressing, any size; not AH..BH).
func (g *jitGen) movMem(i int, in *inst) bool {
	a := &g.a
	size := int(in.size)
	if size == 0 || in.dst >= 16 && in.form&fDstMem == 0 || in.form&fDstMem != 0 && in.form&fSrcImm == 0 && in.src >= 16 {
		return false
	}
	if !g.eaRaw(in) {
		return false
	}
	if in.form&fDstMem != 0 {
		g.access(i, size, true, 1)
		if in.form&fSrcImm != 0 {
			a.MovImmKeepFlags(x.RCX, in.imm)
		} else {
			a.Load(8, x.RCX, reg(in.src))
		}
		a.Store(size, frameAt, x.RCX)
		return true
	}
	g.access(i, size, false, 1)
	switch size {
	case 8:
		a.Load(8, x.RCX, frameAt)
		g.storeReg(in.dst, x.RCX)
	case 4:
		a.Load(4, x.RCX, frameAt)
		g.storeReg(in.dst, x.RCX)
	default:
		a.Load(size, x.RCX, frameAt)
		g.storeLow(in.dst, x.RCX, size)
	}
	return true
}

// aluMem is an ALU operation or TEST with a memory operand, as decoded: reg op= [m] (one
// TLB hit), or [m] op= reg/imm (the write check, the read and the write: three hits, as
// loadRMW and store count them).
func (g *jitGen) aluMem(i int, in *inst, test bool) bool {
	a := &g.a
	size := int(in.size)
	if size == 0 || in.sub == aluAdc || in.sub == aluSbb && !test {
		return false
	}
	rmw := in.form&fDstMem != 0 && !test && in.sub != aluCmp
	if in.form&fDstMem != 0 && in.form&fSrcImm == 0 && in.src >= 16 || in.form&fDstMem == 0 && in.dst >= 16 {
		return false
	}
	if !g.eaRaw(in) {
		return false
	}
	if rmw {
		g.access(i, size, true, 3)
	} else {
		g.access(i, size, false, 1)
	}
	m := sizeMask[size]
	// a (the first operand) into RAX, b into RCX, both zero-extended.
	if in.form&fDstMem != 0 {
		if size >= 4 {
			a.Load(size, x.RAX, frameAt)
		} else {
			a.Movzx(size, x.RAX, frameAt)
		}
		if in.form&fSrcImm != 0 {
			a.MovImmKeepFlags(x.RCX, in.imm&m)
		} else {
			g.loadHost(x.RCX, in.src, size)
		}
	} else {
		if size >= 4 {
			a.Load(size, x.RCX, frameAt)
		} else {
			a.Movzx(size, x.RCX, frameAt)
		}
		g.loadHost(x.RAX, in.dst, size)
	}
	a.MovRR(8, x.RDI, x.RAX)
	kind := uint8(lzLogic)
	switch {
	case test:
		a.AluRR(size, x.And, x.RDI, x.RCX)
	case in.sub == aluCmp:
		kind = lzSub
		a.AluRR(8, x.Sub, x.RDI, x.RCX)
	default:
		a.AluRR(size, int(in.sub), x.RDI, x.RCX)
		if in.sub == aluAdd {
			kind = lzAdd
		} else if in.sub == aluSub {
			kind = lzSub
		}
	}
	if !test && in.sub != aluCmp {
		if rmw {
			a.Store(size, frameAt, x.RDI)
		} else if size >= 4 {
			g.storeReg(in.dst, x.RDI) // (a 32-bit result is zero-extended)
		} else {
			g.storeLow(in.dst, x.RDI, size)
		}
	}
	g.maskTo(x.RDI, size)
	if in.sub == aluCmp && !test {
		a.AluRR(size, x.Cmp, x.RAX, x.RCX)
	}
	g.lazy(kind, uint8(size), x.RAX, x.RCX, 0, x.RDI)
	g.setFlags(kind, uint8(size), true)
	return true
}

// materialize leaves in R8 the whole RFLAGS of the flags as they are now (what c.flags()
// returns), and reports false when the generator cannot compute them.
func (g *jitGen) materialize() bool {
	a := &g.a
	kind := g.kind
	switch kind {
	case fsUnknown, lzNone:
		g.needFlags = true
		g.kind = lzNone
		a.Load(8, x.R8, x.M(x.RBX, offRflags))
		return true
	case lzSub, lzAdd, lzLogic, lzInc, lzDec, lzAdc, lzSbb:
		if !g.host && (kind == lzAdc || kind == lzSbb) {
			return false
		}
		if !g.condFlags(ccE) {
			return false
		}
		a.B = append(a.B, 0x9c)       // pushfq
		a.B = append(a.B, 0x41, 0x58) // pop r8
		switch kind {
		case lzLogic:
			a.AluRI(8, x.And, x.R8, int32(ArithFlags&^FlagAF)) // AF: 0 after a logical operation
		case lzInc, lzDec:
			a.AluRI(8, x.And, x.R8, int32(ArithFlags&^FlagCF))
			a.Movzx(1, x.RCX, x.M(x.RBX, offLzCin))
			a.AluRR(8, x.Or, x.R8, x.RCX)
		default:
			a.AluRI(8, x.And, x.R8, int32(ArithFlags))
		}
		a.Load(8, x.RCX, x.M(x.RBX, offRflags))
		a.AluRI(8, x.And, x.RCX, ^int32(ArithFlags))
		a.AluRR(8, x.Or, x.R8, x.RCX)
		g.host = false
		return true
	}
	return false
}

// setRflags stores R8 as RFLAGS with nothing lazy (lz.kind lzNone).
func (g *jitGen) setRflags() {
	g.a.Store(8, x.M(x.RBX, offRflags), x.R8)
	g.a.StoreImm(1, x.M(x.RBX, offLz), int32(lzNone))
	g.setFlags(lzNone, 0, false)
}

// withCarry sets the host's CF to the guest's (for ADC and SBB), leaving RSI = CF; it
// reports false when the generator cannot know the carry.
func (g *jitGen) withCarry() bool {
	if !g.carryInto(x.RSI) {
		return false
	}
	g.a.B = append(g.a.B, 0x0f, 0xba, 0xe6, 0x00) // bt esi, 0: CF = the carry
	g.host = false
	return true
}

// maskTo zero-extends host register r from size bytes; the flags are kept.
func (g *jitGen) maskTo(r x.Reg, size int) {
	switch size {
	case 1, 2:
		g.a.MovzxR(size, r, r)
	case 4:
		g.a.MovRR(4, r, r)
	}
}

// carryInto puts the carry flag of the flags before the current op into host register r
// (as 0 or 1), and reports false when the generator cannot know it.
func (g *jitGen) carryInto(r x.Reg) bool {
	a := &g.a
	switch g.kind {
	case lzLogic:
		a.MovImmKeepFlags(r, 0)
		return true
	case lzInc, lzDec:
		a.Load(1, r, x.M(x.RBX, offLzCin))
		a.MovzxR(1, r, r)
		return true
	case fsUnknown, lzNone:
		g.needFlags = true
		g.kind = lzNone
		a.Load(8, r, x.M(x.RBX, offRflags))
		a.AluRI(4, x.And, r, 1)
		g.host = false
		return true
	case lzAdd, lzSub, lzShl, lzShr, lzSar, lzMul:
		if !g.condFlags(ccB) {
			return false
		}
		a.Setcc(x.CondB, r)
		a.MovzxR(1, r, r)
		return true
	}
	return false
}

// canonical leaves for slot i when the address in r is not canonical (the interpreter
// raises the #GP). The flags are clobbered.
func (g *jitGen) canonical(i int, r x.Reg) {
	a := &g.a
	a.MovRR(8, x.RDI, r)
	a.ShiftRI(8, x.Shl, x.RDI, 16)
	a.ShiftRI(8, x.Sar, x.RDI, 16)
	a.AluRR(8, x.Cmp, x.RDI, r)
	a.Jcc(x.CondNE, g.side(i))
	g.host = false
}

// target computes the block address plus d into RAX, leaving for slot i if it is not
// canonical.
func (g *jitGen) target(i int, d int64) {
	a := &g.a
	a.Load(8, x.RAX, reg(regBlock))
	a.Lea(8, x.RAX, x.M(x.RAX, int32(d)))
	g.canonical(i, x.RAX)
}

// jumpTo leaves the block for the block address plus d after n instructions, through exit,
// looping in place when d is 0 and jitRun allows it (loopsInPlace). Slot i is the branch.
func (g *jitGen) jumpTo(i int, d int64, n, exit int) {
	a := &g.a
	g.target(i, d)
	if d == 0 && !g.needFlags {
		out := x.NewLabel()
		a.Load(8, x.RDX, x.M(x.RBX, offEntry))
		a.TestRR(8, x.RDX, x.RDX)
		a.Jcc(x.CondE, out)
		a.Load(8, x.RCX, x.M(x.RBX, offIcount))
		a.AluRI(8, x.Add, x.RCX, int32(n))
		a.Lea(8, x.RDI, x.M(x.RCX, int32(len(g.ins))))
		a.AluRM(8, x.Cmp, x.RDI, x.M(x.RBX, offLimit))
		a.Jcc(x.CondA, out)
		a.Store(8, x.M(x.RBX, offIcount), x.RCX)
		// The ITLB hit the fetch would have had (tlb.Hit on the ITLB).
		a.AluRI(8, x.Add, x.R14, 1)
		a.AluRI(8, x.Add, x.R15, 1)
		a.Store(8, x.M(x.RDX, int32(tlb.StampOffset)), x.R15)
		a.Jmp(g.start)
		g.bind(out)
	}
	a.Store(8, x.M(x.RBX, offRIP), x.RAX)
	g.exitEnd(n, exit)
}

// branch emits a conditional branch whose condition cc the host's flags hold: the
// instruction at slot j (jcc, which gives the target and the exit number), fused with
// slot i (i == j when not fused). Taken, the block is left; not taken, code goes on.
func (g *jitGen) branch(i, j int, cc uint8, jcc *inst) (int, bool) {
	a := &g.a
	d := int64(jcc.off) + int64(jcc.len) + int64(jcc.imm)
	if !fits32(d) {
		return 0, false
	}
	notTaken := x.NewLabel()
	a.Jcc(x.Cond(cc^1), notTaken)
	g.jumpTo(i, d, j+1, int(jcc.ssize))
	g.bind(notTaken)
	return j + 1, true
}
