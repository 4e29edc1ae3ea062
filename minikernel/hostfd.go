package minikernel

import "github.com/vmemu/vmemu/minikernel/internal/hostfs"

// The host descriptor budget. Every open host file the guest holds (a regular file, a
// directory, a device, one of emu's standard streams) is a host descriptor of emu's, and all
// guest processes together could otherwise use up emu's RLIMIT_NOFILE: then every guest,
// however few files it has open, would get EMFILE, and emu could not open its own files.
// Like Linux's fs.file-max, the kernel caps the descriptors the guest may hold in all below
// emu's limit; past the cap an open fails with ENFILE ("too many open files in system"),
// while each process's own RLIMIT_NOFILE still gives EMFILE.

// fdReserve is how many of emu's descriptors the guest can never take: for emu's own
// files and the transient ones path lookup opens.
const fdReserve = 64

// initFDBudget sets the cap from emu's descriptor limit, which the Go runtime has already
// raised to the hard limit at start.
func (k *Kernel) initFDBudget() {
	limit := hostfs.FileLimit()
	k.fdBudget = int(max(limit, 2*fdReserve) - fdReserve)
}

// takeHostFD accounts for one more host descriptor held by the guest, or fails with ENFILE
// when the guest holds its whole budget.
func (k *Kernel) takeHostFD() Errno {
	if k.hostFDs >= k.fdBudget {
		return ENFILE
	}
	k.hostFDs++
	return 0
}

// releaseHostFD gives back what takeHostFD took.
func (k *Kernel) releaseHostFD() { k.hostFDs-- }

// HostFDs returns how many host descriptors the guest's open files hold, and the most
// they may (the budget).
func (k *Kernel) HostFDs() (held, budget int) { return k.hostFDs, k.fdBudget }
