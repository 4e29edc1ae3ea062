package ram

import (
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// reserve allocates size bytes with VirtualAlloc. Windows cannot fault in a reserved page on
// first touch, so the pages are committed at once; the system still gives each one a physical
// page only when it is first touched (they read as zero), but the whole size counts against
// the commit limit.
func reserve(size uint64) ([]byte, error) {
	if uint64(int(size)) != size || int(size) < 0 {
		return nil, errTooBig
	}
	p, err := windows.VirtualAlloc(0, uintptr(size), windows.MEM_RESERVE|windows.MEM_COMMIT, windows.PAGE_READWRITE)
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*byte)(unsafe.Add(nil, p)), int(size)), nil // memory outside the Go heap
}

// release returns memory from reserve to the host.
func release(mem []byte) error {
	return windows.VirtualFree(uintptr(unsafe.Pointer(&mem[0])), 0, windows.MEM_RELEASE)
}

func resident([]byte) (uint64, error) {
	return 0, fmt.Errorf("ram: resident memory: %w on Windows", errors.ErrUnsupported)
}

// Windows cannot place a file view inside the RAM's allocation: frames stay anonymous and
// the kernel copies file pages (and writes them back).
func fileFramesSupported() bool                        { return false }
func mapFileAt(unsafe.Pointer, int, int64, bool) error { return ErrNoFileFrames }
func mapAnonAt(unsafe.Pointer) error                   { return ErrNoFileFrames }
