package testprogs

import (
	"testing"
)

// Issue 11 (hardening): the guest's edge cases behave as on Linux. See also
// minikernel/hardening_test.go and cmd/emu/hardening_test.go.

// Item 17: read and write with counts and buffers at the edges of the user address space:
// access_ok() fails a range that wraps or leaves user space (EFAULT, nothing written), a
// valid one is copied up to the first unmapped page.
func TestReadWriteCountsAtTheEdges(t *testing.T) {
	sameInDirs(t, "musl_hard_rwcount", "")
}
