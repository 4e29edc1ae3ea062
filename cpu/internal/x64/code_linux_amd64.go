//go:build linux && amd64

package x64

import (
	"errors"
	"syscall"
	"unsafe"
)

// Supported reports whether this host can run generated code.
const Supported = true

// Arena is executable host memory that code is copied into, allocated from the operating
// system with mmap (outside Go's heap, so the collector neither scans nor moves it).
type Arena struct {
	mem  []byte
	used int
}

// NewArena maps size bytes of memory that can be written and executed.
func NewArena(size int) (*Arena, error) {
	mem, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC,
		syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return nil, err
	}
	// Huge pages where the host has them: fewer page faults as code is written (a hint;
	// its failure changes nothing).
	_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE
	return &Arena{mem: mem}, nil
}

// ErrFull is returned by Put when the arena has no room left.
var ErrFull = errors.New("x64: code arena full")

// Put copies code into the arena and returns its address, 16-byte aligned.
func (ar *Arena) Put(code []byte) (uintptr, error) {
	start := (ar.used + 15) &^ 15
	if start+len(code) > len(ar.mem) {
		return 0, ErrFull
	}
	copy(ar.mem[start:], code)
	ar.used = start + len(code)
	return uintptr(unsafe.Pointer(&ar.mem[start])), nil
}

// Reset forgets all the code in the arena; its addresses must no longer be called.
func (ar *Arena) Reset() { ar.used = 0 }

// Used is the number of bytes of code in the arena.
func (ar *Arena) Used() int { return ar.used }

// Free returns the arena's memory to the operating system.
func (ar *Arena) Free() error {
	if ar.mem == nil {
		return nil
	}
	err := syscall.Munmap(ar.mem)
	ar.mem = nil
	return err
}

// Call runs the code at addr with RBX holding arg and returns what it leaves in RAX. The
// code must return with RET, keep RSP and RBP, and use no more than 64 bytes of stack.
// It runs with the goroutine unpreemptible, so it must return soon.
func Call(addr, arg uintptr) uint64
