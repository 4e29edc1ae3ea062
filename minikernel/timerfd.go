package minikernel

import "fmt"

// timerfd: a timer read as a file. Linux's fs/timerfd.c. timerfd_settime arms it (relative,
// or absolute on its clock with TFD_TIMER_ABSTIME); each expiry adds a tick; read returns
// the ticks since the last read as a u64 (waiting for one when there is none), poll says
// readable when there are ticks. The timer runs on the virtual clock (ktimer.go), so a
// program waiting for it costs nothing when nothing else runs.

const (
	tfdTimerAbstime           = 1
	tfdTimerCancelOnSet       = 2
	capWakeAlarm              = 35
	ecanceled           Errno = 125
)

// timerfd is the object behind a timerfd descriptor.
type timerfd struct {
	clock int32
	ticks uint64
	flags uint64 // the last settime's flags (fdinfo)
	timer ktimer
	wq    waitQueue
}

func (t *timerfd) linkName(f *File) string { return "anon_inode:[timerfd]" }

func (t *timerfd) fdinfo(k *Kernel) string {
	rem := t.timer.remaining(k.nowNS())
	return fmt.Sprintf("clockid: %d\nticks: %d\nsettime flags: 0%o\nit_value: (%d, %d)\nit_interval: (%d, %d)\n",
		t.clock, t.ticks, t.flags, rem/nsPerSec, rem%nsPerSec, t.timer.interval/nsPerSec, t.timer.interval%nsPerSec)
}

func (t *timerfd) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	if dst.total < 8 {
		return -int64(EINVAL)
	}
	return k.sleepOn(p, f, func() int64 {
		if t.ticks == 0 {
			return -int64(EAGAIN)
		}
		var b [8]byte
		le.PutUint64(b[:], t.ticks)
		if _, ok := dst.store(k, p, 0, b[:]); !ok {
			return -int64(EFAULT)
		}
		t.ticks = 0
		return 8
	})
}

func (t *timerfd) poll(k *Kernel, f *File) int16 {
	if t.ticks > 0 {
		return pollIn | pollRdnorm
	}
	return 0
}

func (t *timerfd) queues(k *Kernel, f *File, add func(*waitQueue)) { add(&t.wq) }

func (t *timerfd) release(k *Kernel, f *File) { k.disarmKTimer(&t.timer) }

// timerfd_create(clockid, flags).
func sysTimerfdCreate(k *Kernel, p *Process, a *[6]uint64) int64 {
	clock, flags := int32(a[0]), int(a[1])
	if flags&^(oCloexec|oNonblock) != 0 {
		return -int64(EINVAL)
	}
	switch clock {
	case clockRealtime, clockMonotonic, clockBoottime:
	case clockRealtimeAlarm, clockBoottimeAlarm:
		if !p.cred.capable(capWakeAlarm) {
			return -int64(EPERM)
		}
	default:
		return -int64(EINVAL)
	}
	t := &timerfd{clock: clock}
	t.timer.fire = func(k *Kernel, count uint64) {
		t.ticks += count
		k.wakeAll(&t.wq)
	}
	return installSpecial(p, k.newSpecial(t, "anon_inode:[timerfd]", oRdwr|flags), flags)
}

// timerfdArg returns the timerfd fd names: EBADF for no descriptor, EINVAL for another kind.
func timerfdArg(p *Process, fd uint64) (*timerfd, Errno) {
	f := fdArg(p, fd)
	if f == nil {
		return nil, EBADF
	}
	t, ok := f.obj.(*timerfd)
	if !ok {
		return nil, EINVAL
	}
	return t, 0
}

// readItimerspec reads a struct itimerspec {interval, value}, each a valid timespec.
func (k *Kernel) readItimerspec(p *Process, va uint64) (interval, value uint64, e Errno) {
	if interval, e = k.readTimespec(p, va); e != 0 {
		return
	}
	value, e = k.readTimespec(p, va+16)
	return
}

// itimerspecBytes lays out a struct itimerspec.
func itimerspecBytes(interval, value uint64) []byte {
	return append(timespecBytes(interval), timespecBytes(value)...)
}

// timerfd_settime(fd, flags, new_value, old_value).
func sysTimerfdSettime(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[1]
	interval, value, e := k.readItimerspec(p, a[2])
	if e != 0 {
		return -int64(e)
	}
	if flags&^(tfdTimerAbstime|tfdTimerCancelOnSet) != 0 {
		return -int64(EINVAL)
	}
	t, e := timerfdArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if flags&tfdTimerCancelOnSet != 0 && (flags&tfdTimerAbstime == 0 ||
		(t.clock != clockRealtime && t.clock != clockRealtimeAlarm)) {
		return -int64(EINVAL)
	}
	now := k.nowNS()
	if a[3] != 0 {
		if _, ok := k.copyOut(p, a[3], itimerspecBytes(t.timer.interval, t.timer.remaining(now))); !ok {
			return -int64(EFAULT)
		}
	}
	k.disarmKTimer(&t.timer)
	t.ticks, t.flags = 0, flags
	if value == 0 {
		t.timer.interval = 0
		return 0
	}
	k.armKTimer(&t.timer, k.expiryOf(t.clock, value, flags&tfdTimerAbstime != 0), interval)
	return 0
}

// expiryOf turns a timer value on clock (relative, or absolute when abs) into nowNS time.
// A time already past expires at once (now).
func (k *Kernel) expiryOf(clock int32, value uint64, abs bool) uint64 {
	now := k.nowNS()
	if !abs {
		return now + value
	}
	if clock == clockRealtime || clock == clockRealtimeAlarm || clock == clockTAI {
		if value <= k.realtimeBase {
			return now
		}
		value -= k.realtimeBase
	}
	return max(value, now)
}

// timerfd_gettime(fd, curr_value): the time to the next expiry, and the interval.
func sysTimerfdGettime(k *Kernel, p *Process, a *[6]uint64) int64 {
	t, e := timerfdArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, a[1], itimerspecBytes(t.timer.interval, t.timer.remaining(k.nowNS()))); !ok {
		return -int64(EFAULT)
	}
	return 0
}
