//go:build unix && !linux

package ram

import (
	"errors"
	"fmt"
)

// mapNoReserve: these hosts commit anonymous memory on first touch anyway.
const mapNoReserve = 0

// hugePages: no transparent huge pages to ask for (macOS superpages are wired, never lazy).
func hugePages([]byte) {}

func resident([]byte) (uint64, error) {
	return 0, fmt.Errorf("ram: resident memory: %w on this host", errors.ErrUnsupported)
}
