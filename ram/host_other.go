//go:build !unix && !windows

package ram

import (
	"errors"
	"fmt"
	"unsafe"
)

// reserve falls back to the Go heap where the host has no memory-mapping call.
func reserve(size uint64) ([]byte, error) {
	if uint64(int(size)) != size || int(size) < 0 {
		return nil, errTooBig
	}
	return make([]byte, int(size)), nil
}

func release([]byte) error { return nil }

func resident([]byte) (uint64, error) {
	return 0, fmt.Errorf("ram: resident memory: %w on this host", errors.ErrUnsupported)
}

func fileFramesSupported() bool                        { return false }
func mapFileAt(unsafe.Pointer, int, int64, bool) error { return ErrNoFileFrames }
func mapAnonAt(unsafe.Pointer) error                   { return ErrNoFileFrames }
