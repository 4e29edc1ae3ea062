package minikernel

import "github.com/vmemu/vmemu/minikernel/internal/hostfs"

import "time"

// The wall clock. CLOCK_REALTIME starts at the host's time when the machine is made (or at
// Config.Realtime) and then advances with guest time, one nanosecond per instruction plus
// whatever the guest slept, so `date` is right and runs stay deterministic once the start
// is fixed. A kernel stamps the files it changes with its own clock (Linux's
// current_time(inode)): so does this one, so a file the guest writes is never "from the
// future" for the guest (make, tar), even though guest time runs slower than the host's.

// realtimeStart is the CLOCK_REALTIME value, in nanoseconds since the epoch, at virtual time
// zero: start, or the host's clock now when start is the zero Time.
func realtimeStart(start time.Time) uint64 {
	if start.IsZero() {
		start = time.Now()
	}
	ns := start.UnixNano()
	if ns < 0 {
		return 0
	}
	return uint64(ns)
}

// realtimeNS returns CLOCK_REALTIME in nanoseconds since the epoch.
func (k *Kernel) realtimeNS() uint64 { return k.realtimeBase + k.nowNS() }

// RealtimeNS returns the guest's CLOCK_REALTIME in nanoseconds since the epoch.
func (k *Kernel) RealtimeNS() uint64 { return k.realtimeNS() }

// utimeOmit is the tv_nsec that leaves a time unchanged (UTIME_OMIT); utimeNow sets it to
// the current time (UTIME_NOW).
const (
	utimeNow  = 1<<30 - 1
	utimeOmit = 1<<30 - 2
)

// nowTimes returns a utimensat times array: access time unchanged (or now, when both), and
// the modification time the guest's now.
func (k *Kernel) nowTimes(both bool) *[4]int64 {
	now := k.realtimeNS()
	t := &[4]int64{0, utimeOmit, int64(now / nsPerSec), int64(now % nsPerSec)}
	if both {
		t[0], t[1] = t[2], t[3]
	}
	return t
}

// stampFD sets the modification time of the host file open on fd (any kind of descriptor,
// O_PATH too) to the guest's now, as Linux's file_update_time() does after a write or a
// truncation. Errors are ignored: the time is the host's then.
func (k *Kernel) stampFD(fd int) {
	if fd >= 0 {
		_ = hostfs.Futimens(fd, k.nowTimes(false))
	}
}

// stampNew gives a file p has just created, open on fd, its access and modification times
// from the guest's clock, and p's identity (chown.go).
func (k *Kernel) stampNew(p *Process, fd int) {
	if fd >= 0 {
		_ = hostfs.Futimens(fd, k.nowTimes(true))
		k.ownNew(p, fd, "", -1)
	}
}

// stampCreated does what stampNew does for what name in the directory dirfd now is (a new
// directory, symbolic link or node), without following a symbolic link.
func (k *Kernel) stampCreated(p *Process, dirfd int, name string) {
	t := k.nowTimes(true)
	_ = hostfs.Utimensat(dirfd, name, t, false)
	k.ownNew(p, -1, name, dirfd)
}

// guestTimes replaces UTIME_NOW in a utimensat times array (nil: both now) by the guest's
// clock, so that touch sets the guest's time and not the host's.
func (k *Kernel) guestTimes(times *[4]int64) *[4]int64 {
	if times == nil {
		return k.nowTimes(true)
	}
	now := k.realtimeNS()
	for i := 0; i < 4; i += 2 {
		if times[i+1] == utimeNow {
			times[i], times[i+1] = int64(now/nsPerSec), int64(now%nsPerSec)
		}
	}
	return times
}
