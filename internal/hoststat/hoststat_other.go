//go:build !unix

package hoststat

// FreeSpace returns the bytes left on the file system holding path, and whether the host
// could tell: this host does not say.
func FreeSpace(path string) (uint64, bool) { return 0, false }
