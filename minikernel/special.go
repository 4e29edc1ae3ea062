package minikernel

import "github.com/vmemu/vmemu/minikernel/internal/hostfs"

// Special files: the kernel objects a descriptor can name that are neither host files nor
// pipes, each with the file operations it has (Linux's struct file_operations): eventfd,
// timerfd, signalfd, epoll, sockets. Such a File has kind fileSpecial and its object in
// obj; read, write, poll, fstat and the last close dispatch to the object, through the small
// interfaces below (an object implements the ones it has; read or write without one is
// EINVAL, as for a file without the method).

// fileObject is the object behind a special file.
type fileObject interface {
	// linkName is what /proc/PID/fd/N shows: "anon_inode:[eventfd]", "socket:[123]".
	linkName(f *File) string
}

// objReader, objWriter, objPoller, objReleaser and objStatter are a fileObject's optional
// operations. read and write return a count or -errno, or sysBlocks after putting the
// caller to sleep (use k.sleepOn). poll returns the ready events; queues adds the wait
// queues a poller sleeps on.
type objReader interface {
	read(k *Kernel, p *Process, f *File, dst *uio) int64
}
type objWriter interface {
	write(k *Kernel, p *Process, f *File, src *uio) int64
}
type objPoller interface {
	poll(k *Kernel, f *File) int16
	queues(k *Kernel, f *File, add func(*waitQueue))
}
type objReleaser interface {
	release(k *Kernel, f *File)
}
type objStatter interface {
	stat(f *File, st *hostfs.Stat)
}

// newSpecial makes an open file for obj with the access mode and O_NONBLOCK in flags.
func (k *Kernel) newSpecial(obj fileObject, name string, flags int) *File {
	return &File{k: k, kind: fileSpecial, name: name, obj: obj, hfd: -1,
		flags: flags & (oAccMode | oNonblock), refs: 1}
}

// installSpecial puts a new special file in p's table (O_CLOEXEC in flags), or drops it.
func installSpecial(p *Process, f *File, flags int) int64 {
	fd, e := p.fds.install(f, flags&oCloexec != 0, 0)
	if e != 0 {
		f.put()
		return -int64(e)
	}
	return int64(fd)
}

// specialRead and specialWrite dispatch read and write to the object.
func (k *Kernel) specialRead(p *Process, f *File, dst *uio) int64 {
	if r, ok := f.obj.(objReader); ok {
		return r.read(k, p, f, dst)
	}
	return -int64(EINVAL)
}

func (k *Kernel) specialWrite(p *Process, f *File, src *uio) int64 {
	if w, ok := f.obj.(objWriter); ok {
		return w.write(k, p, f, src)
	}
	return -int64(EINVAL)
}

// specialPoll is the object's readiness (an object without poll is always ready, as a file
// without the method: DEFAULT_POLLMASK).
func (k *Kernel) specialPoll(f *File) int16 {
	if pl, ok := f.obj.(objPoller); ok {
		return pl.poll(k, f)
	}
	return defaultPollMask
}

// specialQueues adds the wait queues a poller of f sleeps on.
func (k *Kernel) specialQueues(f *File, add func(*waitQueue)) {
	if pl, ok := f.obj.(objPoller); ok {
		pl.queues(k, f, add)
	}
}

// specialStat fills st for fstat: the object's own answer, or an anonymous inode's (mode
// 0600 and no file type, as Linux's anon_inode_inode shows).
func (k *Kernel) specialStat(f *File, st *hostfs.Stat) {
	if s, ok := f.obj.(objStatter); ok {
		s.stat(f, st)
		return
	}
	*st = hostfs.Stat{Dev: 0xe, Ino: 1, Nlink: 1, Mode: 0o600, Blksize: 4096}
}

// specialRelease is the last close of a special file.
func (k *Kernel) specialRelease(f *File) {
	if r, ok := f.obj.(objReleaser); ok {
		r.release(k, f)
	}
}

// sleepOn is how an object's blocking call waits: try is the call; when it answers -EAGAIN
// and f is not O_NONBLOCK, the caller sleeps on the queues of f until woken, then tries
// again. A signal interrupts the sleep (-ERESTARTSYS: restarted under SA_RESTART).
func (k *Kernel) sleepOn(p *Process, f *File, try func() int64) int64 {
	return k.sleepOnQueues(p, f.nonblock(), func(add func(*waitQueue)) { k.specialQueues(f, add) }, try, true)
}

// sleepOnQueues is sleepOn for a caller that names its queues itself.
func (k *Kernel) sleepOnQueues(p *Process, nonblock bool, queues func(add func(*waitQueue)), try func() int64, restartable bool) int64 {
	r := try()
	if r != -int64(EAGAIN) || nonblock {
		return r
	}
	wait := func() { queues(func(q *waitQueue) { q.add(k.cur) }) }
	wait()
	return k.block(p, &sleepCall{restartable: restartable, retry: func() int64 {
		r := try()
		if r == -int64(EAGAIN) {
			wait()
			return sysBlocks
		}
		return r
	}})
}

// --- waiting on host descriptors ---

// hostWaiter is a wait queue woken when a host descriptor becomes ready: a guest socket
// that is a host socket. The scheduler asks the host about every registered descriptor at
// each scheduling decision (without waiting) and, when no thread can run, waits for them in
// real time until the next timer (advanceToTimer).
type hostWaiter struct {
	fd     int
	events int16
	q      *waitQueue
}

// watchHost registers q to be woken when host descriptor fd is ready for events.
func (k *Kernel) watchHost(fd int, events int16, q *waitQueue) {
	for i := range k.hostWaiters {
		if w := &k.hostWaiters[i]; w.fd == fd && w.q == q {
			w.events |= events
			return
		}
	}
	k.hostWaiters = append(k.hostWaiters, hostWaiter{fd: fd, events: events, q: q})
}

// unwatchHost forgets fd (it is being closed).
func (k *Kernel) unwatchHost(fd int) {
	out := k.hostWaiters[:0]
	for _, w := range k.hostWaiters {
		if w.fd != fd {
			out = append(out, w)
		}
	}
	k.hostWaiters = out
}

// unwatchQueue forgets every host descriptor registered to wake q.
func (k *Kernel) unwatchQueue(q *waitQueue) {
	out := k.hostWaiters[:0]
	for _, w := range k.hostWaiters {
		if w.q != q {
			out = append(out, w)
		}
	}
	k.hostWaiters = out
}

// pollHostWaiters asks the host which registered descriptors are ready, waiting up to
// timeoutMS milliseconds (0: not at all, -1: for ever), and wakes their queues. It reports
// whether it woke any. Host signals (the hardening layer's wake pipe) end a wait too.
func (k *Kernel) pollHostWaiters(timeoutMS int) bool {
	n := len(k.hostWaiters)
	if n == 0 {
		return false
	}
	fds := make([]hostfs.PollFd, n, n+1)
	for i, w := range k.hostWaiters {
		fds[i] = hostfs.PollFd{Fd: int32(w.fd), Events: w.events}
	}
	if timeoutMS != 0 && k.hs.wakeR >= 0 {
		fds = append(fds, hostfs.PollFd{Fd: int32(k.hs.wakeR), Events: pollIn})
	}
	if r, e := hostfs.Poll(fds, timeoutMS); e != 0 || r == 0 {
		return false
	}
	woke := false
	keep := k.hostWaiters[:0]
	for i, w := range k.hostWaiters {
		if fds[i].Revents != 0 {
			k.wakeAll(w.q)
			woke = true
			continue
		}
		keep = append(keep, w)
	}
	k.hostWaiters = keep
	if len(fds) > n && fds[n].Revents != 0 && k.hostSignalsPosted() {
		k.deliverHostSignals()
		woke = true
	}
	return woke
}

// idleHostWait is advanceToTimer's first step: with threads waiting for host descriptors,
// the machine waits for the host until the next timer or sleeper's deadline, in real time.
// It reports whether a descriptor became ready (the clock does not jump then).
func (k *Kernel) idleHostWait() bool {
	if len(k.hostWaiters) == 0 {
		return false
	}
	timeout := -1
	if k.nextEvent != 0 {
		if now := k.nowNS(); k.nextEvent > now {
			timeout = int(min((k.nextEvent-now+999_999)/1_000_000, 1<<30))
		} else {
			timeout = 0
		}
	}
	return k.pollHostWaiters(timeout)
}

// specialSeek is lseek on a special file: a /proc file moves in its contents (a directory
// to an entry number, SEEK_SET only), everything else is ESPIPE.
func (k *Kernel) specialSeek(f *File, off int64, whence uint64) int64 {
	var size int64
	switch o := f.obj.(type) {
	case *procOpenFile:
		size = int64(len(o.data))
	case *procOpenDir:
		if whence != 0 {
			return -int64(EINVAL)
		}
	default:
		return -int64(ESPIPE)
	}
	var pos int64
	switch whence {
	case 0:
		pos = off
	case 1:
		pos = int64(f.off) + off
	case 2:
		pos = size + off
	default:
		return -int64(EINVAL)
	}
	if pos < 0 {
		return -int64(EINVAL)
	}
	f.off = uint64(pos)
	return pos
}
