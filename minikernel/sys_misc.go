package minikernel

import (
	"encoding/binary"
)

// Time, randomness and the system's name. Guest time is virtual: one retired instruction is
// one nanosecond, plus whatever the guest slept, so that the same program reads the same
// clocks on every run (DESIGN: determinism). CLOCK_REALTIME is the wall clock: it starts
// at the host's time when the machine is made (Config.Realtime fixes another start, for
// byte-identical runs) and advances with guest time (clock.go).

// Clock IDs (include/uapi/linux/time.h).
const (
	clockRealtime        = 0
	clockMonotonic       = 1
	clockProcessCputime  = 2
	clockThreadCputime   = 3
	clockMonotonicRaw    = 4
	clockRealtimeCoarse  = 5
	clockMonotonicCoarse = 6
	clockBoottime        = 7
	clockRealtimeAlarm   = 8
	clockBoottimeAlarm   = 9
	clockTAI             = 11
	timerAbstime         = 1
	nsPerSec             = 1_000_000_000
)

// nowNS returns the monotonic clock in nanoseconds: the clock of the CPU the kernel acts on
// (its instructions, plus the time it idled, plus the jumps of an idle machine: smp.go).
func (k *Kernel) nowNS() uint64 { return k.clockOf(k.this) }

// clockNS returns clock id's value in nanoseconds for p, or EINVAL for an unknown clock.
func (k *Kernel) clockValue(p *Process, id uint64) (uint64, Errno) {
	switch int32(id) {
	case clockRealtime, clockRealtimeCoarse, clockRealtimeAlarm, clockTAI:
		return k.realtimeNS(), 0
	case clockMonotonic, clockMonotonicRaw, clockMonotonicCoarse, clockBoottime, clockBoottimeAlarm:
		return k.nowNS(), 0
	case clockProcessCputime:
		return p.insns, 0
	case clockThreadCputime:
		if t := k.cur; t != nil && t.proc == p {
			return t.insns, 0
		}
		return p.insns, 0
	}
	return 0, EINVAL
}

func timespecBytes(ns uint64) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, ns/nsPerSec)
	binary.LittleEndian.PutUint64(b[8:], ns%nsPerSec)
	return b
}

// clock_gettime(clockid, tp).
func sysClockGettime(k *Kernel, p *Process, a *[6]uint64) int64 {
	ns, e := k.clockValue(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, a[1], timespecBytes(ns)); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// clock_getres(clockid, res): one nanosecond for every clock (NULL res is allowed).
func sysClockGetres(k *Kernel, p *Process, a *[6]uint64) int64 {
	if _, e := k.clockValue(p, a[0]); e != 0 {
		return -int64(e)
	}
	if a[1] != 0 {
		if _, ok := k.copyOut(p, a[1], timespecBytes(1)); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// gettimeofday(tv, tz).
func sysGettimeofday(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[0] != 0 {
		ns := k.realtimeNS()
		b := make([]byte, 16)
		binary.LittleEndian.PutUint64(b, ns/nsPerSec)
		binary.LittleEndian.PutUint64(b[8:], ns%nsPerSec/1000)
		if _, ok := k.copyOut(p, a[0], b); !ok {
			return -int64(EFAULT)
		}
	}
	if a[1] != 0 {
		if _, ok := k.copyOut(p, a[1], make([]byte, 8)); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// time(tloc).
func sysTime(k *Kernel, p *Process, a *[6]uint64) int64 {
	t := k.realtimeNS() / nsPerSec
	if a[0] != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], t)
		if _, ok := k.copyOut(p, a[0], b[:]); !ok {
			return -int64(EFAULT)
		}
	}
	return int64(t)
}

// readTimespec reads a struct timespec and checks it as Linux's timespec64_valid() does.
func (k *Kernel) readTimespec(p *Process, va uint64) (uint64, Errno) {
	var b [16]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return 0, EFAULT
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= nsPerSec {
		return 0, EINVAL
	}
	return uint64(sec)*nsPerSec + uint64(nsec), 0
}

// nanosleep(req, rem): sleep on the virtual clock (timers.go: nanosleepFor). Another
// process's instructions, or, when every process sleeps, a jump of the clock, bring the
// deadline; a signal interrupts the sleep with the time left in rem.
func sysNanosleep(k *Kernel, p *Process, a *[6]uint64) int64 {
	ns, e := k.readTimespec(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	return k.nanosleepFor(p, ns, false, a[1])
}

// clock_nanosleep(clockid, flags, req, rem): relative, or until an absolute time of the
// clock (then rem is not written and an interrupted sleep restarts with the same end).
func sysClockNanosleep(k *Kernel, p *Process, a *[6]uint64) int64 {
	switch int32(a[0]) {
	case clockRealtime, clockMonotonic, clockBoottime, clockTAI:
	default:
		return -int64(EINVAL)
	}
	ns, e := k.readTimespec(p, a[2])
	if e != 0 {
		return -int64(e)
	}
	if a[1]&timerAbstime != 0 {
		now, _ := k.clockValue(p, a[0])
		return k.nanosleepUntil(p, k.nowNS()+(max(ns, now)-now), true, 0)
	}
	return k.nanosleepFor(p, ns, false, a[3])
}

// getrandom(buf, count, flags): bytes from a stream seeded by Config.Seed. GRND_NONBLOCK,
// GRND_RANDOM and GRND_INSECURE are accepted (RANDOM with INSECURE is EINVAL).
func sysGetrandom(k *Kernel, p *Process, a *[6]uint64) int64 {
	const grndNonblock, grndRandom, grndInsecure = 1, 2, 4
	flags := a[2]
	if flags&^(grndNonblock|grndRandom|grndInsecure) != 0 || flags&(grndRandom|grndInsecure) == grndRandom|grndInsecure {
		return -int64(EINVAL)
	}
	count := min(a[1], 1<<25-1) // Linux caps one call at 32 MiB - 1
	var done uint64
	buf := make([]byte, 256)
	for done < count {
		n := min(count-done, uint64(len(buf)))
		for i := uint64(0); i < n; i += 8 {
			k.randCtr++
			seedBytes(k.cfg.Seed^0x5eed*k.randCtr, buf[i:min(i+8, n)])
		}
		got, ok := k.copyOut(p, a[0]+done, buf[:n])
		done += uint64(got)
		if !ok {
			if done == 0 {
				return -int64(EFAULT)
			}
			break
		}
	}
	return int64(done)
}

// uname(buf): a struct utsname of six 65-byte fields. The names are fixed, so a program
// prints the same on every host: Linux, release 6.18.0-vmemu, x86_64.
func sysUname(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := make([]byte, 6*65)
	for i, s := range []string{"Linux", "vmemu", "6.18.0-vmemu", "#1 SMP PREEMPT_DYNAMIC vmemu", "x86_64", "(none)"} {
		copy(b[65*i:], s)
	}
	if _, ok := k.copyOut(p, a[0], b); !ok {
		return -int64(EFAULT)
	}
	return 0
}
