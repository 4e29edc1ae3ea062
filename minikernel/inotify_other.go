//go:build !linux

package minikernel

// inotify is the host's (inotify_linux.go); other hosts have none to lend: ENOSYS, as a
// kernel built without CONFIG_INOTIFY_USER answers, and programs fall back to polling.
func sysInotifyInit1(k *Kernel, p *Process, a *[6]uint64) int64    { return -int64(ENOSYS) }
func sysInotifyInit(k *Kernel, p *Process, a *[6]uint64) int64     { return -int64(ENOSYS) }
func sysInotifyAddWatch(k *Kernel, p *Process, a *[6]uint64) int64 { return -int64(ENOSYS) }
func sysInotifyRmWatch(k *Kernel, p *Process, a *[6]uint64) int64  { return -int64(ENOSYS) }
