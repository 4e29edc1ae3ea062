package minikernel

import (
	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Waiting for the host. A read of the terminal, of a host pipe or FIFO, a write to one
// that is full, an open of a FIFO whose other end is not open yet: on Linux each sleeps
// until the host object is ready, and so does the guest thread here, in the kernel's one
// sleep mechanism (sleep.go), not in a host system call: the other guest threads run on,
// a signal interrupts the wait as it interrupts any sleep, and no host call can hold the
// whole machine (a FIFO opened by one guest process and written by another works). The
// host descriptor is put in non-blocking mode where it is the kernel's own (a FIFO the
// guest opened), and otherwise only touched once poll says it is ready.
//
// The scheduler looks at the host descriptors its sleepers wait for at each step when
// there are any (pollHostIO), and, when every thread sleeps, waits for one of them, for a
// host signal or for a stop request (awaitHostIO).

// errFifoNoReader is openFile's answer for a FIFO opened for writing that has no reader
// yet: not an errno the guest sees; the open sleeps and tries again.
const errFifoNoReader = Errno(-1)

// hostIOCall is a read (write false) or write of a host device, FIFO or terminal at its
// position, sleeping while the host has nothing to read or no room.
func (k *Kernel) hostIOCall(p *Process, f *File, u *uio, write bool) int64 {
	events := int16(pollIn)
	if write {
		events = pollOut
	}
	var done uint64 // a write's progress across its sleeps
	try := func() int64 {
		for {
			// A blocking read waits until poll reports data or the end (for a FIFO, POLLHUP
			// only once a writer has come and gone: a reader whose open returned before any
			// writer came waits for one, as its open would have on Linux). A descriptor the
			// host holds non-blocking is otherwise simply tried (a non-blocking read of a
			// FIFO with no writer is the end of file, which no poll reports); another only
			// once poll says it is ready, so that the host never blocks.
			tryIt := f.hostNB && (write || f.nonblock())
			if !tryIt && hostPollOne(f.hfd, events) == 0 {
				switch {
				case write && done > 0 && f.nonblock():
					return int64(done)
				case f.nonblock():
					return -int64(EAGAIN)
				}
				return sysBlocks // (a blocking write sleeps until all of it is in)
			}
			if !write {
				n, e := k.streamRead(p, f, u)
				if e == EAGAIN && f.hostNB && !f.nonblock() {
					return sysBlocks // nothing there yet: sleep until poll says so
				}
				if e == EAGAIN && !f.nonblock() {
					continue // someone read it first: wait again
				}
				if e != 0 {
					return -int64(e)
				}
				return int64(n)
			}
			n, e := k.hostWriteSome(p, f, u, done)
			done += n
			switch {
			case e == EAGAIN && f.hostNB && !f.nonblock():
				return sysBlocks // full: sleep until there is room for the rest
			case e == EAGAIN && !f.nonblock():
				continue // full again: wait for room for the rest
			case e != 0 && done == 0:
				return -int64(e)
			case e != 0 || done == u.total:
				return int64(done)
			}
		}
	}
	if r := try(); r != sysBlocks {
		return r
	}
	k.hostSleepHint = true
	return k.block(p, &sleepCall{retry: try, restartable: true, hostFD: int32(f.hfd), hostEvents: events,
		intr: func() int64 {
			if done > 0 {
				return int64(done)
			}
			return -int64(EINTR)
		}})
}

// hostWriteSome writes src from offset off to f's host descriptor until it is written,
// the host takes less (EAGAIN: full), or fails; it returns the bytes written.
func (k *Kernel) hostWriteSome(p *Process, f *File, src *uio, off uint64) (uint64, Errno) {
	var tmp [4096]byte
	var done uint64
	for off+done < src.total {
		n := min(src.total-off-done, uint64(len(tmp)))
		got, ok := src.load(k, p, off+done, tmp[:n])
		if got > 0 {
			w, e := hostfs.Write(f.hfd, tmp[:got])
			if w > 0 {
				done += uint64(w)
			}
			if e != 0 {
				if Errno(e) == EPIPE {
					k.sendSignal(p, SIGPIPE) // a host pipe with no reader left
				}
				return done, Errno(e)
			}
			if w < got {
				return done, EAGAIN
			}
		}
		if !ok {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
		if hostPollOne(f.hfd, pollOut) == 0 {
			return done, EAGAIN
		}
	}
	return done, 0
}

// pollHostIO wakes, without waiting, the threads whose host descriptor is ready; a step of
// Run calls it while such sleepers exist.
func (k *Kernel) pollHostIO() {
	var fds []hostfs.PollFd
	var who []*Thread
	fifo := false
	for _, t := range k.runq {
		if s := t.sleep; s != nil && t.state == procBlocked {
			if s.hostEvents != 0 {
				fds = append(fds, hostfs.PollFd{Fd: s.hostFD, Events: s.hostEvents})
				who = append(who, t)
			}
			fifo = fifo || s.fifoOpen
		}
	}
	if len(fds) == 0 && !fifo {
		k.hostSleepHint = false
		return
	}
	if len(fds) > 0 {
		if n, _ := hostfs.Poll(fds, 0); n > 0 {
			for i, fd := range fds {
				if fd.Revents != 0 {
					k.wake(who[i])
				}
			}
		}
	}
}

// awaitHostIO is the scheduler's idle wait when every thread sleeps: if some wait for host
// descriptors or FIFO opens, it waits (in poll, which the self-pipe of hostsig.go cuts
// short) until one is ready, a host signal comes or Run must stop, wakes them, and reports
// true. With no such sleeper it reports false at once.
func (k *Kernel) awaitHostIO() bool {
	var fds []hostfs.PollFd
	var who []*Thread
	var fifos []*Thread
	for _, t := range k.runq {
		if s := t.sleep; s != nil && t.state == procBlocked {
			if s.hostEvents != 0 {
				fds = append(fds, hostfs.PollFd{Fd: s.hostFD, Events: s.hostEvents})
				who = append(who, t)
			}
			if s.fifoOpen {
				fifos = append(fifos, t)
			}
		}
	}
	if len(fds) == 0 && len(fifos) == 0 {
		return false
	}
	n := len(fds)
	if k.hs.wakeR >= 0 {
		fds = append(fds, hostfs.PollFd{Fd: int32(k.hs.wakeR), Events: pollIn})
	}
	timeout := -1
	if len(fifos) > 0 {
		timeout = 20 // no poll shows a FIFO's other end being opened: look again soon
	}
	_, _ = hostfs.PollIntr(fds, timeout)
	if len(fds) > n && fds[n].Revents != 0 {
		k.drainWake()
	}
	if k.hs.debugWake.Swap(false) {
		k.idleInterrupted = true // a debugger wants the machine back: Run's step returns
	}
	for i := 0; i < n; i++ {
		if fds[i].Revents != 0 {
			k.wake(who[i])
		}
	}
	for _, t := range fifos {
		k.wake(t)
	}
	if k.hostSignalsPosted() {
		k.deliverHostSignals()
	}
	return true
}
