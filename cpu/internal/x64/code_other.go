//go:build !(linux && amd64)

package x64

import "errors"

// Supported reports whether this host can run generated code: only linux/amd64 can.
const Supported = false

// Arena is executable memory; on this host there is none.
type Arena struct{}

// ErrFull is returned by Put when the arena has no room left.
var ErrFull = errors.New("x64: code arena full")

// NewArena fails: this host does not run generated code.
func NewArena(size int) (*Arena, error) {
	return nil, errors.New("x64: no code generation on this host")
}

// Put is never reached on this host.
func (ar *Arena) Put(code []byte) (uintptr, error) { return 0, ErrFull }

// Reset does nothing.
func (ar *Arena) Reset() {}

// Used is 0.
func (ar *Arena) Used() int { return 0 }

// Free does nothing.
func (ar *Arena) Free() error { return nil }

// Call is never reached on this host.
func Call(addr, arg uintptr) uint64 { panic("x64: no code generation on this host") }
