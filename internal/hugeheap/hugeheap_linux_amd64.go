package hugeheap

import "unsafe"

const enabled = true

func addrOf(p *[64]byte) uintptr { return uintptr(unsafe.Pointer(p)) }

// madvise and mincore are the raw system calls (0 or -errno).
func madvise(addr, n uintptr, advice int) int

//go:noescape
func mincore(addr, n uintptr, vec *[huge >> 12]byte) int
