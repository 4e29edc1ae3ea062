package cpu

import "unsafe"

// Memory for decoded instructions. A block's instructions (raw and optimized, pointer-free)
// are carved from large chunks instead of being allocated one block at a time: writing a
// block's instructions was the first touch of fresh host pages, and each page fault cost
// more than decoding the page's instructions (CPython's startup decodes 14 MB of them: 40%
// of its block-building time was page faults). On Linux a chunk asks for transparent huge
// pages (codemem_linux.go), so 2 MiB fault in at once. A chunk is an ordinary Go object:
// it is freed once no block uses it.

const (
	chunkBytes = 4 << 20 // instruction memory per chunk
	hugePage   = 2 << 20
	// maxChunkInsts bounds the instructions carved since the last flush: dropped blocks
	// keep their chunk alive while other blocks of it live, so code that is rewritten
	// again and again flushes the cache for this, as it does for maxCachedInsts.
	maxChunkInsts = 4 * maxCachedInsts
	// smallCode is how many instructions (raw and optimized counted apart, so about half
	// as many decoded ones) are allocated block by block before chunks are used: a small
	// program touches fewer pages so (a static glibc hello decodes about 7,300 and /bin/true
	// 13,300; measured with 1<<13, glibc hello took 60 more page faults and 5 ms more).
	smallCode = 1 << 15
)

// allocInsts returns n zeroed instructions for a block.
func (cc *codeCache) allocInsts(n int) []inst {
	if cc.carved < smallCode {
		cc.carved += n
		return make([]inst, n)
	}
	if len(cc.chunk) < n {
		cc.chunk = newInstChunk()
	}
	s := cc.chunk[:n:n]
	cc.chunk = cc.chunk[n:]
	cc.carved += n
	return s
}

// newInstChunk returns a chunk of chunkBytes of instruction memory, starting at a huge
// page boundary where the host has huge pages.
func newInstChunk() []inst {
	const size = unsafe.Sizeof(inst{})
	all := make([]inst, (chunkBytes+hugePage)/size)
	p := uintptr(unsafe.Pointer(&all[0]))
	aligned := (p + hugePage - 1) &^ (hugePage - 1)
	start := (aligned - p + size - 1) / size
	chunk := all[start : start+chunkBytes/size]
	hugePages(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(&all[0]), aligned-p)), chunkBytes))
	return chunk
}
