//go:build !(linux && amd64)

package hugeheap

const enabled = false

func addrOf(*[64]byte) uintptr { return 0 }

func madvise(addr, n uintptr, advice int) int { return 0 }

func mincore(addr, n uintptr, vec *[huge >> 12]byte) int { return 0 }
