//go:build !linux

package cpu

// hugePages does nothing where transparent huge pages are not known.
func hugePages([]byte) {}
