package minikernel

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Waiting for descriptors: poll, ppoll, select and pselect6. Linux's fs/select.c
// (do_poll, do_select, poll_select_finish). Each descriptor reports its readiness as a
// poll mask (filePoll): a pipe by its contents and open ends; a regular file or directory
// is always ready; a host device as the host's poll says. When nothing is ready the caller
// sleeps on the wait queues of the pipes it polls, until one changes or the timeout passes
// on the virtual clock. Host descriptors that are not ready (a terminal, a host pipe) wake
// it too: the call's own wait queue is registered with the scheduler's host waiters
// (special.go), which ask the host at every scheduling decision and, when no thread can
// run, wait for the host in real time until the next timer. The machine never waits in a
// host call on the poller's behalf, so the other threads run on (xz -T2 polls its output
// pipe while its worker threads compress).

// Poll events (include/uapi/asm-generic/poll.h).
const (
	pollIn     = 0x1
	pollPri    = 0x2
	pollOut    = 0x4
	pollErr    = 0x8
	pollHup    = 0x10
	pollNval   = 0x20
	pollRdnorm = 0x40
	pollRdband = 0x80
	pollWrnorm = 0x100
	pollWrband = 0x200
	// defaultPollMask is what a file that never blocks reports (DEFAULT_POLLMASK).
	defaultPollMask = pollIn | pollOut | pollRdnorm | pollWrnorm
)

// hostFDOf returns the host descriptor behind f, or -1: a host device's, or a standard
// stream's when the Config gave an *os.File (or anything with an Fd method).
func hostFDOf(f *File) int {
	if f.hfd >= 0 && f.kind == fileDevice {
		return f.hfd
	}
	if f.kind == fileStream {
		for _, x := range []any{f.r, f.w} {
			if h, ok := x.(interface{ Fd() uintptr }); ok && x != nil {
				return int(h.Fd())
			}
		}
	}
	return -1
}

// filePoll returns f's readiness for the events asked, as the file's poll method does.
func (k *Kernel) filePoll(f *File, events int16) int16 {
	switch f.kind {
	case filePipe:
		return f.pipePoll()
	case fileSpecial:
		return k.specialPoll(f)
	case fileStream:
		if fd := hostFDOf(f); fd >= 0 {
			return hostPollOne(fd, events)
		}
		if f.readable() {
			return pollIn | pollRdnorm
		}
		return pollOut | pollWrnorm
	case fileDevice:
		return hostPollOne(f.hfd, events)
	case filePidfd:
		return pidfdPoll(f)
	}
	return defaultPollMask
}

// pollWaiter collects what a poller would sleep on: the pipes it polls, and the host
// descriptors that are not ready.
type pollWaiter struct {
	pipes  []*pipe
	queues []*waitQueue // the wait queues of special files (special.go) and pidfds
	host   []hostfs.PollFd
}

// pollCall is one poll or select call's wait: the queue its host descriptors wake (kept
// across its sleeps) and the sleep itself.
type pollCall struct {
	hostQ waitQueue
	sleep sleepCall
}

// newPollCall returns the wait of a poll or select call whose retry is try and whose
// timeout ends at deadline. A signal that ends the sleep leaves no host watch behind.
func (k *Kernel) newPollCall(deadline uint64) *pollCall {
	c := &pollCall{}
	c.sleep = sleepCall{deadline: deadline, intr: func() int64 {
		k.unwatchQueue(&c.hostQ)
		return errRestartNoHand
	}}
	return c
}

// pollCheck returns the readiness of descriptor fd for events (POLLNVAL when it is not open,
// and for an O_PATH descriptor), noting what the caller could sleep on.
func (k *Kernel) pollCheck(p *Process, fd int32, events int16, w *pollWaiter) int16 {
	f := p.fds.get(uint64(int64(fd)))
	if f == nil || f.pathOnly() {
		return pollNval
	}
	m := k.filePoll(f, events) & (events | pollErr | pollHup)
	if m == 0 {
		switch {
		case f.kind == filePipe:
			w.pipes = append(w.pipes, f.pipe)
		case f.kind == filePidfd:
			w.queues = append(w.queues, &f.proc.pidfdWait)
		case f.kind == fileSpecial:
			k.specialQueues(f, func(q *waitQueue) { w.queues = append(w.queues, q) })
		case hostFDOf(f) >= 0:
			w.host = append(w.host, hostfs.PollFd{Fd: int32(hostFDOf(f)), Events: events})
		}
	}
	return m
}

// pollSleep puts the calling thread on the queues of w, and on c's own queue, which the
// host descriptors of w wake when one is ready.
func (k *Kernel) pollSleep(w *pollWaiter, c *pollCall) {
	for _, pp := range w.pipes {
		pp.waiters.add(k.cur)
	}
	for _, q := range w.queues {
		q.add(k.cur)
	}
	if len(w.host) > 0 {
		for _, h := range w.host {
			k.watchHost(int(h.Fd), h.Events, &c.hostQ)
		}
		c.hostQ.add(k.cur)
	}
}

// deadlineIn returns the virtual time ns from now, or 0 for "never" (ns < 0).
func (k *Kernel) deadlineIn(ns int64) uint64 {
	if ns < 0 {
		return 0
	}
	return k.nowNS() + uint64(ns) + 1 // +1: a zero timeout has a deadline too (now)
}

// expired reports whether a deadline (from deadlineIn) has passed.
func (k *Kernel) expired(deadline uint64) bool {
	return deadline != 0 && k.nowNS()+1 >= deadline
}

// remaining returns the nanoseconds left until deadline.
func (k *Kernel) remaining(deadline uint64) uint64 {
	if deadline == 0 || k.nowNS()+1 >= deadline {
		return 0
	}
	return deadline - 1 - k.nowNS()
}

// doPoll is poll's loop: fds is the user's array of nfds struct pollfd, timeout in
// nanoseconds (negative: none). after runs once the call returns (ppoll's time left).
func (k *Kernel) doPoll(p *Process, fds, nfds uint64, timeout int64, after func(deadline uint64)) int64 {
	if nfds > p.rlimits[rlimitNofile].cur {
		return -int64(EINVAL)
	}
	raw := make([]byte, 8*nfds)
	if _, ok := k.copyIn(p, fds, raw); !ok {
		return -int64(EFAULT)
	}
	deadline := k.deadlineIn(timeout)
	c := k.newPollCall(deadline)
	try := func() int64 {
		k.unwatchQueue(&c.hostQ) // what the last sleep registered
		var w pollWaiter
		count := int64(0)
		for i := uint64(0); i < nfds; i++ {
			e := raw[8*i:]
			fd, events := int32(binary.LittleEndian.Uint32(e)), int16(binary.LittleEndian.Uint16(e[4:]))
			var rev int16
			if fd >= 0 {
				rev = k.pollCheck(p, fd, events, &w)
			}
			binary.LittleEndian.PutUint16(e[6:], uint16(rev))
			if rev != 0 {
				count++
			}
		}
		if count == 0 && !k.expired(deadline) && timeout != 0 {
			k.pollSleep(&w, c)
			return sysBlocks
		}
		if _, ok := k.copyOut(p, fds, raw); !ok {
			return -int64(EFAULT)
		}
		if after != nil {
			after(deadline)
		}
		return count
	}
	if r := try(); r != sysBlocks {
		return r
	}
	c.sleep.retry = try
	return k.block(p, &c.sleep)
}

// poll(fds, nfds, timeout): timeout in milliseconds, negative for none.
func sysPoll(k *Kernel, p *Process, a *[6]uint64) int64 {
	ms := int64(int32(a[2]))
	ns := int64(-1)
	if ms >= 0 {
		ns = ms * 1e6
	}
	return k.doPoll(p, a[0], a[1], ns, nil)
}

// readSigmask checks a ppoll/pselect6 signal mask argument: size must be 8, the set
// readable. The mask is not applied: while signals only take default actions, a mask held
// for the duration of one call changes nothing but which signals stay pending.
func (k *Kernel) readSigmask(p *Process, va, size uint64) Errno {
	if va == 0 {
		return 0
	}
	if size != sigsetSize {
		return EINVAL
	}
	var b [8]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return EFAULT
	}
	return 0
}

// timeoutArg reads an optional struct timespec (ppoll, pselect6): -1 for NULL.
func (k *Kernel) timeoutArg(p *Process, va uint64) (int64, Errno) {
	if va == 0 {
		return -1, 0
	}
	ns, e := k.readTimespec(p, va)
	return int64(min(ns, 1<<62)), e
}

// ppoll(fds, nfds, tmo, sigmask, sigsetsize): the time left is written back to tmo.
func sysPpoll(k *Kernel, p *Process, a *[6]uint64) int64 {
	ns, e := k.timeoutArg(p, a[2])
	if e != 0 {
		return -int64(e)
	}
	if e := k.readSigmask(p, a[3], a[4]); e != 0 {
		return -int64(e)
	}
	tmo := a[2]
	return k.doPoll(p, a[0], a[1], ns, func(deadline uint64) {
		if tmo != 0 {
			k.copyOut(p, tmo, timespecBytes(k.remaining(deadline)))
		}
	})
}

// fdSetWords is how many 64-bit words an fd_set of n descriptors takes.
func fdSetWords(n uint64) uint64 { return (n + 63) / 64 }

// doSelect is select's loop over the three sets (user addresses, 0 for none) of nfds
// descriptors. A descriptor in a set that is not open is EBADF. after runs once the call
// returns (the time left written back).
func (k *Kernel) doSelect(p *Process, nfds int64, sets [3]uint64, timeout int64, after func(deadline uint64)) int64 {
	if nfds < 0 {
		return -int64(EINVAL)
	}
	n := uint64(min(nfds, int64(p.fds.capacity()))) // Linux clamps to the table's size
	words := fdSetWords(n)
	var in [3][]uint64
	for i, va := range sets {
		in[i] = make([]uint64, words)
		if va == 0 || words == 0 {
			continue
		}
		b := make([]byte, 8*words)
		if _, ok := k.copyIn(p, va, b); !ok {
			return -int64(EFAULT)
		}
		for w := range in[i] {
			in[i][w] = binary.LittleEndian.Uint64(b[8*w:])
		}
	}
	// Only the first n bits count; a descriptor in any set must be open.
	for w := uint64(0); w < words; w++ {
		var all uint64
		for i := range in {
			if tail := n - 64*w; tail < 64 {
				in[i][w] &= 1<<tail - 1
			}
			all |= in[i][w]
		}
		for b := uint64(0); b < 64; b++ {
			if all&(1<<b) != 0 && p.fds.get(64*w+b) == nil {
				return -int64(EBADF)
			}
		}
	}
	deadline := k.deadlineIn(timeout)
	const (
		readMask   = pollIn | pollRdnorm | pollRdband | pollHup | pollErr
		writeMask  = pollOut | pollWrnorm | pollWrband | pollErr
		exceptMask = pollPri
	)
	c := k.newPollCall(deadline)
	try := func() int64 {
		k.unwatchQueue(&c.hostQ) // what the last sleep registered
		var w pollWaiter
		var out [3][]uint64
		count := int64(0)
		for i := range out {
			out[i] = make([]uint64, words)
		}
		for fd := uint64(0); fd < n; fd++ {
			word, bit := fd/64, uint64(1)<<(fd%64)
			want := [3]bool{in[0][word]&bit != 0, in[1][word]&bit != 0, in[2][word]&bit != 0}
			if !want[0] && !want[1] && !want[2] {
				continue
			}
			var events int16
			if want[0] {
				events |= readMask
			}
			if want[1] {
				events |= writeMask
			}
			if want[2] {
				events |= exceptMask
			}
			m := k.pollCheck(p, int32(fd), events, &w)
			for i, mask := range [3]int16{readMask, writeMask, exceptMask} {
				if want[i] && m&mask != 0 {
					out[i][word] |= bit
					count++
				}
			}
		}
		if count == 0 && !k.expired(deadline) && timeout != 0 {
			k.pollSleep(&w, c)
			return sysBlocks
		}
		for i, va := range sets {
			if va == 0 || words == 0 {
				continue
			}
			b := make([]byte, 8*words)
			for w := range out[i] {
				binary.LittleEndian.PutUint64(b[8*w:], out[i][w])
			}
			if _, ok := k.copyOut(p, va, b); !ok {
				return -int64(EFAULT)
			}
		}
		if after != nil {
			after(deadline)
		}
		return count
	}
	if r := try(); r != sysBlocks {
		return r
	}
	c.sleep.retry = try
	return k.block(p, &c.sleep)
}

// select(nfds, readfds, writefds, exceptfds, timeout): timeout a struct timeval (NULL: none),
// into which the time left is written back, as Linux does.
func sysSelect(k *Kernel, p *Process, a *[6]uint64) int64 {
	ns := int64(-1)
	if tv := a[4]; tv != 0 {
		var b [16]byte
		if _, ok := k.copyIn(p, tv, b[:]); !ok {
			return -int64(EFAULT)
		}
		sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 {
			return -int64(EINVAL)
		}
		ns = min(sec, 1<<32)*1e9 + usec*1e3
	}
	tv := a[4]
	return k.doSelect(p, int64(int32(a[0])), [3]uint64{a[1], a[2], a[3]}, ns, func(deadline uint64) {
		if tv != 0 {
			left := k.remaining(deadline)
			b := make([]byte, 16)
			binary.LittleEndian.PutUint64(b, left/1e9)
			binary.LittleEndian.PutUint64(b[8:], left%1e9/1e3)
			k.copyOut(p, tv, b)
		}
	})
}

// pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask): timeout a struct
// timespec; sigmask points at {const sigset_t *ss; size_t ss_len}.
func sysPselect6(k *Kernel, p *Process, a *[6]uint64) int64 {
	ns, e := k.timeoutArg(p, a[4])
	if e != 0 {
		return -int64(e)
	}
	if a[5] != 0 {
		var b [16]byte
		if _, ok := k.copyIn(p, a[5], b[:]); !ok {
			return -int64(EFAULT)
		}
		if e := k.readSigmask(p, binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])); e != 0 {
			return -int64(e)
		}
	}
	ts := a[4]
	return k.doSelect(p, int64(int32(a[0])), [3]uint64{a[1], a[2], a[3]}, ns, func(deadline uint64) {
		if ts != 0 {
			k.copyOut(p, ts, timespecBytes(k.remaining(deadline)))
		}
	})
}
