package ram

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapNoReserve keeps the reservation out of the host's commit accounting.
const mapNoReserve = unix.MAP_NORESERVE

// hugePages asks for transparent huge pages; a host without them simply says no.
func hugePages(mem []byte) { _ = unix.Madvise(mem, unix.MADV_HUGEPAGE) }

// resident counts the bytes of mem the host backs now (mincore).
func resident(mem []byte) (uint64, error) {
	if len(mem) == 0 {
		return 0, nil
	}
	pageSize := unix.Getpagesize()
	vec := make([]byte, (len(mem)+pageSize-1)/pageSize)
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&mem[0])),
		uintptr(len(mem)), uintptr(unsafe.Pointer(&vec[0])))
	if e != 0 {
		return 0, fmt.Errorf("ram: mincore: %w", e)
	}
	var n uint64
	for _, b := range vec {
		n += uint64(b & 1)
	}
	return n * uint64(pageSize), nil
}
