//go:build !linux

package testprogs

import (
	"os"
	"testing"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// openPTY: the terminal tests use Linux's pseudo-terminal ioctls.
func openPTY(t *testing.T, rows, cols uint16) (master, slave *os.File) {
	testcheck.Skip(t, "pseudo-terminal tests need a Linux host")
	return nil, nil
}
