//go:build !unix && !windows

package ram

import (
	"errors"
	"fmt"
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
