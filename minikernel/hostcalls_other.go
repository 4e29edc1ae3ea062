//go:build !linux

package minikernel

// What a host that is not Linux does instead of hostcalls_linux.go's calls: it reports no
// capabilities, holds no mirror of the guest's file locks (native processes do not see
// them), and has no extended attributes for the guest (EOPNOTSUPP, as a file system
// without them answers).

func hostCapabilities() (eff, prm, inh uint64) { return 0, 0, 0 }

func hostReopen(int, int) (int, Errno) { return -1, ENOSYS }

func hostOFDLock(int, int, int16, uint64, uint64) Errno { return ENOSYS }

func hostTestLock(int, int16, uint64, uint64) (hostFlock, bool) { return hostFlock{}, false }

func hostGetxattr(bool, string, string, []byte) (uintptr, Errno) { return 0, EOPNOTSUPP }

func hostSetxattr(bool, string, string, []byte, uint64) Errno { return EOPNOTSUPP }

func hostListxattr(bool, string, []byte) (uintptr, Errno) { return 0, EOPNOTSUPP }

func hostRemovexattr(bool, string, string) Errno { return EOPNOTSUPP }

func procFDPath(int) string { return "" }
