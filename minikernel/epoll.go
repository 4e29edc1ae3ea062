package minikernel

import (
	"slices"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// epoll: waiting for many descriptors with the interest kept in the kernel. Linux's
// fs/eventpoll.c, with its mechanism: an item watches the wait queues of its file; every
// wakeup of one of them (data came, room came, the other end closed) puts the item on the
// epoll's ready list, in the order the wakeups happen (ep_poll_callback). epoll_wait takes
// the ready list, asks each item's file what is ready (poll), reports what the item is
// interested in, and puts a level-triggered item back on the list; an edge-triggered item
// waits for the next wakeup, and a one-shot item is disabled until EPOLL_CTL_MOD. A file's
// items go when its last descriptor closes. Descriptors of the host (a terminal) are asked
// of the host when a waiter would otherwise sleep (special.go's hostWaiter).

// epoll_ctl operations and event bits (include/uapi/linux/eventpoll.h).
const (
	epollCtlAdd = 1
	epollCtlDel = 2
	epollCtlMod = 3

	epollIn        = 0x001
	epollPri       = 0x002
	epollOut       = 0x004
	epollErr       = 0x008
	epollHup       = 0x010
	epollRdnorm    = 0x040
	epollRdband    = 0x080
	epollWrnorm    = 0x100
	epollWrband    = 0x200
	epollMsg       = 0x400
	epollRdhup     = 0x2000
	epollExclusive = 1 << 28
	epollWakeup    = 1 << 29
	epollOneshot   = 1 << 30
	epollET        = 1 << 31

	epollInOutBits = epollIn | epollPri | epollOut | epollRdnorm | epollRdband | epollWrnorm | epollWrband | epollMsg | epollRdhup
	// epollPrivate are the bits a disabled one-shot item keeps (EP_PRIVATE_BITS).
	epollPrivate = epollWakeup | epollOneshot | epollET | epollExclusive
	epMaxNests   = 4                // EP_MAX_NESTS
	epMaxEvents  = (1<<31 - 1) / 12 // EP_MAX_EVENTS
	epollCloexec = oCloexec         // EPOLL_CLOEXEC
	capBlockSusp = 36               // CAP_BLOCK_SUSPEND
)

// queueWatcher is told of every wakeup of a wait queue it watches.
type queueWatcher interface{ woken(k *Kernel) }

// epoll is the object behind an epoll descriptor.
type epoll struct {
	items  []*epItem // every item, in the order added
	rdlist []*epItem // the ready list: items with a wakeup not yet reported
	wq     waitQueue // epoll_wait callers, and pollers of this epoll
}

// epItem is one interest: a descriptor number and the open file it named when added.
type epItem struct {
	ep      *epoll
	file    *File
	fd      int
	events  uint32
	data    uint64
	ready   bool         // on the ready list
	watched []*waitQueue // the queues it watches
	hostQ   waitQueue    // woken by the host for a host descriptor
}

func (ep *epoll) linkName(f *File) string { return "anon_inode:[eventpoll]" }

// woken is the wakeup callback: the item goes on the ready list (once), and the epoll's
// own waiters and watchers (an outer epoll) are woken.
func (it *epItem) woken(k *Kernel) {
	if it.events&^epollPrivate == 0 {
		return // a disabled one-shot item
	}
	ep := it.ep
	if !it.ready {
		it.ready = true
		ep.rdlist = append(ep.rdlist, it)
	}
	k.wakeAll(&ep.wq)
}

// watch makes it watch the queues of its file.
func (k *Kernel) epWatchQueues(it *epItem) {
	k.fileQueues(it.file, func(q *waitQueue) {
		if !slices.Contains(it.watched, q) {
			q.watchers = append(q.watchers, it)
			it.watched = append(it.watched, q)
		}
	})
	if hostFDOf(it.file) >= 0 && !slices.Contains(it.watched, &it.hostQ) {
		it.hostQ.watchers = append(it.hostQ.watchers, it)
		it.watched = append(it.watched, &it.hostQ)
	}
}

// unwatch stops it watching anything.
func (it *epItem) unwatch() {
	for _, q := range it.watched {
		if i := slices.Index(q.watchers, queueWatcher(it)); i >= 0 {
			q.watchers = slices.Delete(q.watchers, i, i+1)
		}
	}
	it.watched = nil
}

// fileQueues adds the wait queues a poller of f sleeps on: a pipe's, a special file's.
func (k *Kernel) fileQueues(f *File, add func(*waitQueue)) {
	switch f.kind {
	case filePipe:
		add(&f.pipe.waiters)
	case fileSpecial:
		k.specialQueues(f, add)
	}
}

// pollItem returns what is ready on it's file among the events it wants (and always
// EPOLLERR and EPOLLHUP), as ep_item_poll() does.
func (k *Kernel) pollItem(it *epItem, depth int) uint32 {
	var m int16
	if ep, ok := it.file.obj.(*epoll); ok {
		if depth < epMaxNests && ep.anyReady(k, depth+1) {
			m = pollIn | pollRdnorm
		}
	} else {
		m = k.filePoll(it.file, int16(it.events))
	}
	return uint32(uint16(m)) & (it.events | epollErr | epollHup)
}

// anyReady reports whether some item of ep has an event ready (an outer poller's view).
func (ep *epoll) anyReady(k *Kernel, depth int) bool {
	for _, it := range ep.rdlist {
		if k.pollItem(it, depth) != 0 {
			return true
		}
	}
	return false
}

func (ep *epoll) poll(k *Kernel, f *File) int16 {
	if ep.anyReady(k, 0) {
		return pollIn | pollRdnorm
	}
	return 0
}

func (ep *epoll) queues(k *Kernel, f *File, add func(*waitQueue)) {
	add(&ep.wq)
	k.watchHostItems(ep)
}

// watchHostItems asks the scheduler to watch the host descriptors of ep's items.
func (k *Kernel) watchHostItems(ep *epoll) {
	for _, it := range ep.items {
		if fd := hostFDOf(it.file); fd >= 0 && it.events&^epollPrivate != 0 {
			k.watchHost(fd, int16(it.events&epollInOutBits), &it.hostQ)
		}
	}
}

func (ep *epoll) release(k *Kernel, f *File) {
	for _, it := range ep.items {
		it.unwatch()
		k.epForgetItem(it)
	}
	ep.items, ep.rdlist = nil, nil
}

// epForgetItem drops it from the index of items by file.
func (k *Kernel) epForgetItem(it *epItem) {
	list := k.epItems[it.file]
	if i := slices.Index(list, it); i >= 0 {
		list = slices.Delete(list, i, i+1)
	}
	if len(list) == 0 {
		delete(k.epItems, it.file)
	} else {
		k.epItems[it.file] = list
	}
}

// epollFileGone removes the items of a file whose last reference is going (eventpoll_release).
func (k *Kernel) epollFileGone(f *File) {
	for _, it := range slices.Clone(k.epItems[f]) {
		k.epRemove(it)
	}
}

// epRemove takes it out of its epoll.
func (k *Kernel) epRemove(it *epItem) {
	ep := it.ep
	it.unwatch()
	if i := slices.Index(ep.items, it); i >= 0 {
		ep.items = slices.Delete(ep.items, i, i+1)
	}
	if i := slices.Index(ep.rdlist, it); i >= 0 {
		ep.rdlist = slices.Delete(ep.rdlist, i, i+1)
	}
	k.epForgetItem(it)
}

// epoll_create(size) and epoll_create1(flags).
func sysEpollCreate(k *Kernel, p *Process, a *[6]uint64) int64 {
	if int32(a[0]) <= 0 {
		return -int64(EINVAL)
	}
	b := [6]uint64{0}
	return sysEpollCreate1(k, p, &b)
}

func sysEpollCreate1(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(a[0])
	if flags&^epollCloexec != 0 {
		return -int64(EINVAL)
	}
	return installSpecial(p, k.newSpecial(&epoll{}, "anon_inode:[eventpoll]", oRdwr), flags)
}

// canPoll reports whether f has a poll method (file_can_poll()): regular files,
// directories and the memory devices (/dev/null, /dev/zero) do not.
func canPoll(f *File) bool {
	switch f.kind {
	case fileRegular, fileDir, fileShm:
		return false
	case fileDevice:
		return !isMemDevice(f)
	}
	return true
}

// epollLoop reports whether adding the epoll inner to outer would make a cycle or nest
// deeper than EP_MAX_NESTS.
func epollLoop(outer, inner *epoll, depth int) bool {
	if inner == outer || depth > epMaxNests {
		return true
	}
	for _, it := range inner.items {
		if ep, ok := it.file.obj.(*epoll); ok && epollLoop(outer, ep, depth+1) {
			return true
		}
	}
	return false
}

// epoll_ctl(epfd, op, fd, event). Linux's do_epoll_ctl(), its checks in its order.
func sysEpollCtl(k *Kernel, p *Process, a *[6]uint64) int64 {
	op := int32(a[1])
	hasEvent := op != epollCtlDel
	var events uint32
	var data uint64
	if hasEvent {
		var b [12]byte
		if _, ok := k.copyIn(p, a[3], b[:]); !ok {
			return -int64(EFAULT)
		}
		events, data = le.Uint32(b[:]), le.Uint64(b[4:])
	}
	ef, tf := fdArg(p, a[0]), fdArg(p, a[2])
	if ef == nil || tf == nil || tf.pathOnly() {
		return -int64(EBADF)
	}
	if !canPoll(tf) {
		return -int64(EPERM)
	}
	if hasEvent && events&epollWakeup != 0 && !p.cred.capable(capBlockSusp) {
		events &^= epollWakeup
	}
	ep, isEp := ef.obj.(*epoll)
	if ef == tf || !isEp {
		return -int64(EINVAL)
	}
	inner, tIsEp := tf.obj.(*epoll)
	if hasEvent && events&epollExclusive != 0 {
		const ok = epollInOutBits | epollErr | epollHup | epollWakeup | epollET | epollExclusive
		if op == epollCtlMod || (op == epollCtlAdd && (tIsEp || events&^ok != 0)) {
			return -int64(EINVAL)
		}
	}
	if op == epollCtlAdd && tIsEp && epollLoop(ep, inner, 1) {
		return -int64(ELOOP)
	}
	fd := int(int32(a[2]))
	var it *epItem
	for _, x := range ep.items {
		if x.file == tf && x.fd == fd {
			it = x
		}
	}
	switch op {
	case epollCtlAdd:
		if it != nil {
			return -int64(EEXIST)
		}
		it = &epItem{ep: ep, file: tf, fd: fd, events: events | epollErr | epollHup, data: data}
		ep.items = append(ep.items, it)
		if k.epItems == nil {
			k.epItems = map[*File][]*epItem{}
		}
		k.epItems[tf] = append(k.epItems[tf], it)
		k.epWatchQueues(it)
		if k.pollItem(it, 0) != 0 {
			it.woken(k)
		}
	case epollCtlDel:
		if it == nil {
			return -int64(ENOENT)
		}
		k.epRemove(it)
	case epollCtlMod:
		if it == nil {
			return -int64(ENOENT)
		}
		if it.events&epollExclusive != 0 {
			return -int64(EINVAL)
		}
		it.events, it.data = events|epollErr|epollHup, data
		k.epWatchQueues(it)
		if k.pollItem(it, 0) != 0 {
			it.woken(k)
		}
	default:
		return -int64(EINVAL)
	}
	return 0
}

// epollGather reports up to max ready events of ep as struct epoll_event (12 bytes each,
// packed), as ep_send_events() does: each item on the ready list is polled; a level-
// triggered item with events goes back on the list, an edge-triggered one does not, a
// one-shot one is disabled.
func (k *Kernel) epollGather(ep *epoll, max int) []byte {
	var out []byte
	list := ep.rdlist
	ep.rdlist = nil
	var again []*epItem
	i := 0
	for ; i < len(list) && len(out)/12 < max; i++ {
		it := list[i]
		it.ready = false
		rev := k.pollItem(it, 0)
		if rev == 0 {
			continue
		}
		var b [12]byte
		le.PutUint32(b[:], rev)
		le.PutUint64(b[4:], it.data)
		out = append(out, b[:]...)
		switch {
		case it.events&epollOneshot != 0:
			it.events &= epollPrivate
		case it.events&epollET == 0:
			again = append(again, it)
		}
	}
	// Items not reached stay first; the level-triggered ones reported go to the end.
	ep.rdlist = append(append(ep.rdlist, list[i:]...), again...)
	for _, it := range again {
		it.ready = true
	}
	return out
}

// doEpollWait is epoll_wait's loop: timeout in nanoseconds (negative: none).
func (k *Kernel) doEpollWait(p *Process, a *[6]uint64, timeout int64) int64 {
	max := int64(int32(a[2]))
	if max <= 0 || max > epMaxEvents {
		return -int64(EINVAL)
	}
	if a[1] >= userTop || uint64(max)*12 > userTop-a[1] {
		return -int64(EFAULT)
	}
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	ep, ok := f.obj.(*epoll)
	if !ok {
		return -int64(EINVAL)
	}
	deadline := k.deadlineIn(timeout)
	try := func() int64 {
		out := k.epollGather(ep, int(max))
		if len(out) > 0 {
			if _, ok := k.copyOut(p, a[1], out); !ok {
				return -int64(EFAULT)
			}
			return int64(len(out) / 12)
		}
		if timeout == 0 || k.expired(deadline) {
			return 0
		}
		ep.wq.add(k.cur)
		k.watchHostItems(ep)
		return sysBlocks
	}
	if r := try(); r != sysBlocks {
		return r
	}
	return k.block(p, &sleepCall{retry: try, deadline: deadline,
		intr: func() int64 { return -int64(EINTR) }})
}

// epoll_wait(epfd, events, maxevents, timeout): timeout in milliseconds, -1 for none.
func sysEpollWait(k *Kernel, p *Process, a *[6]uint64) int64 {
	ms := int64(int32(a[3]))
	ns := int64(-1)
	if ms >= 0 {
		ns = ms * 1e6
	}
	return k.doEpollWait(p, a, ns)
}

// epoll_pwait(epfd, events, maxevents, timeout, sigmask, sigsetsize) and epoll_pwait2 with a
// struct timespec timeout. The signal mask is checked and, as for ppoll here, not applied.
func sysEpollPwait(k *Kernel, p *Process, a *[6]uint64) int64 {
	if e := k.readSigmask(p, a[4], a[5]); e != 0 {
		return -int64(e)
	}
	return sysEpollWait(k, p, a)
}

func sysEpollPwait2(k *Kernel, p *Process, a *[6]uint64) int64 {
	ns, e := k.timeoutArg(p, a[3])
	if e != 0 {
		return -int64(e)
	}
	if e := k.readSigmask(p, a[4], a[5]); e != 0 {
		return -int64(e)
	}
	return k.doEpollWait(p, a, ns)
}

// isMemDevice reports whether f is one of the host's memory devices without a poll method
// (/dev/null 1:3, /dev/zero 1:5, /dev/full 1:7).
func isMemDevice(f *File) bool {
	var st hostfs.Stat
	if f.hfd < 0 || hostfs.Fstat(f.hfd, &st) != 0 || st.Type() != hostfs.S_IFCHR {
		return false
	}
	return st.Rdev == 1<<8|3 || st.Rdev == 1<<8|5 || st.Rdev == 1<<8|7
}
