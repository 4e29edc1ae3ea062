//go:build unix

package hoststat

import "golang.org/x/sys/unix"

// FreeSpace returns the bytes an unprivileged writer may still use on the file system
// holding path, and whether the host could tell.
func FreeSpace(path string) (uint64, bool) {
	var st unix.Statfs_t
	if unix.Statfs(path, &st) != nil {
		return 0, false
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true
}
