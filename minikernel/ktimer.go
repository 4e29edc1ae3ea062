package minikernel

// Kernel timers on the virtual clock: what timerfd and POSIX timers arm. Each has an
// expiry (guest monotonic time, nowNS) and an interval; when the clock reaches the expiry
// (the CPU stops there, or an idle machine's clock jumps there: noteEvent), wakeTimers
// fires it with the number of expiries that passed (1 plus the overruns), and re-arms it
// when it has an interval. Linux's hrtimers, as the timerfd and posix-timers code uses them.

// ktimer is one kernel timer.
type ktimer struct {
	expires  uint64 // the next expiry, in nowNS time; 0: disarmed
	interval uint64 // re-arm period (0: one-shot)
	fire     func(k *Kernel, count uint64)
}

// armKTimer arms t to expire at expires (nowNS time) and every interval after.
func (k *Kernel) armKTimer(t *ktimer, expires, interval uint64) {
	if expires == 0 {
		expires = 1
	}
	if t.expires == 0 {
		k.ktimers = append(k.ktimers, t)
	}
	t.expires, t.interval = expires, interval
	k.noteEvent(expires)
}

// disarmKTimer stops t.
func (k *Kernel) disarmKTimer(t *ktimer) {
	if t.expires == 0 {
		return
	}
	t.expires = 0
	for i, x := range k.ktimers {
		if x == t {
			k.ktimers = append(k.ktimers[:i], k.ktimers[i+1:]...)
			break
		}
	}
}

// fireKTimers fires every armed timer whose expiry has come (wakeTimers calls it).
func (k *Kernel) fireKTimers(now uint64) {
	if len(k.ktimers) == 0 {
		return
	}
	var due []*ktimer
	for _, t := range k.ktimers {
		if t.expires != 0 && t.expires <= now {
			due = append(due, t)
		}
	}
	for _, t := range due {
		if t.expires == 0 || t.expires > now {
			continue // a timer an earlier one's action disarmed or re-armed
		}
		count := uint64(1)
		if t.interval != 0 {
			count += (now - t.expires) / t.interval
			k.armKTimer(t, t.expires+count*t.interval, t.interval)
		} else {
			k.disarmKTimer(t)
		}
		t.fire(k, count)
	}
}

// noteKTimers records the next expiry of the armed timers (wakeTimers' recomputation).
func (k *Kernel) noteKTimers() {
	for _, t := range k.ktimers {
		if t.expires != 0 {
			k.noteEvent(t.expires)
		}
	}
}

// remaining returns the time until t's next expiry (0 when disarmed or due).
func (t *ktimer) remaining(now uint64) uint64 {
	if t.expires == 0 || t.expires <= now {
		return 0
	}
	return t.expires - now
}
