package cpu

import "golang.org/x/sys/unix"

// hugePages asks the kernel to back b, fresh memory not yet touched, with transparent huge
// pages (a hint: where THP is off nothing changes).
func hugePages(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
