package ram

import "golang.org/x/sys/unix"

// HostMemory returns how many bytes of memory the host has, RAM and swap together, and
// whether it could tell.
func HostMemory() (uint64, bool) {
	var si unix.Sysinfo_t
	if unix.Sysinfo(&si) != nil {
		return 0, false
	}
	unit := uint64(si.Unit)
	if unit == 0 {
		unit = 1
	}
	return (uint64(si.Totalram) + uint64(si.Totalswap)) * unit, true
}
