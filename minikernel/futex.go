package minikernel

import (
	"slices"
)

// Futexes: the kernel half of every user-space lock, condition variable, barrier, once
// and thread join. A thread sleeps on a 32-bit word in user memory only if the word still
// holds the value it expects; another thread wakes it after changing the word. Linux's
// kernel/futex/ (core.c: get_futex_key; waitwake.c: futex_wait, futex_wake, futex_wake_op,
// futex_wait_multiple; requeue.c; pi.c) is the model, including its error codes.
//
// A futex is named by its key. A private futex (FUTEX_PRIVATE_FLAG) is keyed by the
// address space and the address. A shared one is keyed as Linux keys it, by what the page
// tables map there: a page of a shared mapping (a file's page in the page cache, or shared
// anonymous memory, which is an object too) by the object and the offset in it, so two
// processes that map one file at different addresses meet on the same futex; a page of a
// private mapping by the address space and the address (with a mark that keeps it apart
// from the private key, as Linux's FUT_OFF_MMSHARED does: a wake must use the flags its
// wait used). The waiters of a key queue in arrival order.

// futex operations and flags (include/uapi/linux/futex.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexFD            = 2 // removed in Linux 2.6.26: ENOSYS
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13

	futexPrivateFlag   = 128
	futexClockRealtime = 256
	futexCmdMask       = ^(futexPrivateFlag | futexClockRealtime)

	futexBitsetAny = 0xffffffff

	futexWaiters   = 0x80000000 // FUTEX_WAITERS: a PI or robust lock word has sleepers
	futexOwnerDied = 0x40000000 // FUTEX_OWNER_DIED: the owner exited holding it
	futexTIDMask   = 0x3fffffff

	robustListLimit = 2048 // ROBUST_LIST_LIMIT: a robust list longer than this is cut
	robustHeadSize  = 24   // sizeof(struct robust_list_head)

	futexWaitvMax = 128 // FUTEX_WAITV_MAX
	futex2Size32  = 2   // FUTEX2_SIZE_U32
	futex2Private = 128 // FUTEX2_PRIVATE
)

// futexKey names a futex: an address space and an address (private futexes, and shared
// ones on private memory, marked mmShared), or an object and a byte offset in it.
type futexKey struct {
	mm       *MM
	ino      *Inode
	off      uint64
	mmShared bool
}

// futexWaiter is one thread's place on one futex's queue.
type futexWaiter struct {
	key    futexKey
	bitset uint32
	s      *futexSleep
	index  int    // its position in a futex_waitv array (0 otherwise)
	pi     bool   // waits for a PI lock: UNLOCK_PI hands the lock over
	uaddr  uint64 // PI: the lock word's address in the waiter's address space
}

// futexSleep is a thread asleep in a futex call, on one futex or several (futex_waitv).
type futexSleep struct {
	t     *Thread
	ws    []*futexWaiter
	woken int // the index of the futex that woke it; -1 while asleep
}

// futexTable holds the queues of waiters, by key (Linux's futex hash buckets), and, for a
// PI lock that has waiters, the thread that owns it (Linux's pi_state->owner).
type futexTable struct {
	q       map[futexKey][]*futexWaiter
	piOwner map[futexKey]*Thread
}

// setPIOwner records t as the owner of the PI lock key (nil: no PI state any more), keeping
// each thread's list of the PI locks it owns (Linux's pi_state_list) in step.
func (ft *futexTable) setPIOwner(key futexKey, t *Thread) {
	if ft.piOwner == nil {
		ft.piOwner = map[futexKey]*Thread{}
	}
	if old := ft.piOwner[key]; old != nil {
		if i := slices.Index(old.piOwned, key); i >= 0 {
			old.piOwned = slices.Delete(old.piOwned, i, i+1)
		}
		delete(ft.piOwner, key)
	}
	if t != nil {
		ft.piOwner[key] = t
		t.piOwned = append(t.piOwned, key)
	}
}

// piWaiter returns the first PI waiter of key, and whether another one follows it.
func (ft *futexTable) piWaiter(key futexKey) (*futexWaiter, bool) {
	var first *futexWaiter
	for _, w := range ft.q[key] {
		if !w.pi {
			continue
		}
		if first != nil {
			return first, true
		}
		first = w
	}
	return first, false
}

// dropPIState forgets key's PI owner once no PI waiter is left.
func (ft *futexTable) dropPIState(key futexKey) {
	if w, _ := ft.piWaiter(key); w == nil {
		ft.setPIOwner(key, nil)
	}
}

func (ft *futexTable) queue(w *futexWaiter) {
	if ft.q == nil {
		ft.q = map[futexKey][]*futexWaiter{}
	}
	ft.q[w.key] = append(ft.q[w.key], w)
}

func (ft *futexTable) unqueue(w *futexWaiter) {
	ws := ft.q[w.key]
	if i := slices.Index(ws, w); i >= 0 {
		ws = slices.Delete(ws, i, i+1)
	}
	if len(ws) == 0 {
		delete(ft.q, w.key)
	} else {
		ft.q[w.key] = ws
	}
}

// unqueueAll takes every waiter of s off its queue.
func (k *Kernel) unqueueAll(s *futexSleep) {
	for _, w := range s.ws {
		k.futexes.unqueue(w)
		if w.pi {
			k.futexes.dropPIState(w.key)
		}
	}
	if s.t.futex == s {
		s.t.futex = nil
	}
}

// futexCancel takes t off every futex queue (it is exiting).
func (k *Kernel) futexCancel(t *Thread) {
	if s := t.futex; s != nil {
		k.unqueueAll(s)
	}
}

// wakeWaiter wakes the thread of w, because of w's futex.
func (k *Kernel) wakeWaiter(w *futexWaiter) {
	s := w.s
	s.woken = w.index
	k.unqueueAll(s)
	k.wake(s.t)
}

// futexKeyOf finds the key of the futex at uaddr for a call from p, as Linux's
// get_futex_key(): EINVAL for a misaligned address, EFAULT where nothing is mapped.
func (k *Kernel) futexKeyOf(p *Process, uaddr uint64, shared bool) (futexKey, Errno) {
	if uaddr&3 != 0 {
		return futexKey{}, EINVAL
	}
	if uaddr >= userTop || p.mm == nil {
		return futexKey{}, EFAULT
	}
	if !shared {
		return futexKey{mm: p.mm, off: uaddr}, 0
	}
	v := p.mm.Find(uaddr)
	if v == nil {
		return futexKey{}, EFAULT
	}
	if f := v.file(); f != nil && f.ino != nil {
		idx := v.pgoff(uaddr)
		// A shared mapping's page is the object's; a private mapping's page is the object's
		// only while it still maps the page cache's frame (no copy-on-write copy yet).
		if v.shared() || k.mapsCachePage(p.mm, f.ino, idx, uaddr) {
			return futexKey{ino: f.ino, off: idx<<12 | uaddr&0xfff}, 0
		}
	}
	return futexKey{mm: p.mm, off: uaddr, mmShared: true}, 0
}

// mapsCachePage reports whether mm maps va to the page cache's frame for page idx of ino.
func (k *Kernel) mapsCachePage(mm *MM, ino *Inode, idx, va uint64) bool {
	pfn, ok := ino.pages[idx]
	if !ok {
		return false
	}
	e, _ := k.lookupPTE(mm, pageRoundDown(va))
	return pteMapped(e) && e.Frame() == pfn
}

// readU32 reads the 32-bit word at va (faulting the page in, as get_user does).
func (k *Kernel) readU32(p *Process, va uint64) (uint32, bool) {
	var b [4]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return 0, false
	}
	return le.Uint32(b[:]), true
}

// writeU32 stores v at va (breaking copy-on-write, as put_user does).
func (k *Kernel) writeU32(p *Process, va uint64, v uint32) bool {
	var b [4]byte
	le.PutUint32(b[:], v)
	_, ok := k.copyOut(p, va, b[:])
	return ok
}

// futexTimeout reads a futex call's timeout: relative to now (FUTEX_WAIT), or an absolute
// time on CLOCK_MONOTONIC or, with realtime, CLOCK_REALTIME. It returns the deadline on
// the virtual clock (at least 1, so that 0 means none), EFAULT or EINVAL.
func (k *Kernel) futexTimeout(p *Process, va uint64, relative, realtime bool) (uint64, Errno) {
	ns, e := k.readTimespec(p, va)
	if e != 0 {
		return 0, e
	}
	now := k.nowNS()
	switch {
	case relative:
		ns += now
	case realtime:
		if base := k.realtimeBase; ns >= base {
			ns -= base
		} else {
			ns = 0
		}
	}
	return max(ns, 1), 0
}

// futex(uaddr, op, val, timeout or val2, uaddr2, val3). Linux's do_futex().
func sysFutex(k *Kernel, p *Process, a *[6]uint64) int64 {
	uaddr, op, val, uaddr2, val3 := a[0], int(int32(a[1])), uint32(a[2]), a[4], uint32(a[5])
	cmd := op & futexCmdMask
	shared := op&futexPrivateFlag == 0
	realtime := op&futexClockRealtime != 0
	if realtime && cmd != futexWaitBitset && cmd != futexWaitRequeuePI && cmd != futexLockPI2 {
		return -int64(ENOSYS)
	}
	var deadline uint64
	switch cmd {
	case futexWait, futexWaitBitset, futexLockPI, futexLockPI2, futexWaitRequeuePI:
		if a[3] != 0 {
			var e Errno
			relative := cmd == futexWait
			if cmd == futexLockPI {
				realtime = true // FUTEX_LOCK_PI's timeout is always CLOCK_REALTIME
			}
			if deadline, e = k.futexTimeout(p, a[3], relative, realtime); e != 0 {
				return -int64(e)
			}
		}
	}
	val2 := int32(uint32(a[3]))
	switch cmd {
	case futexWait:
		return k.futexWaitOp(p, uaddr, val, deadline, futexBitsetAny, shared)
	case futexWaitBitset:
		if val3 == 0 {
			return -int64(EINVAL)
		}
		return k.futexWaitOp(p, uaddr, val, deadline, val3, shared)
	case futexWake:
		return k.futexWakeOp(p, uaddr, shared, int(int32(val)), futexBitsetAny)
	case futexWakeBitset:
		if val3 == 0 {
			return -int64(EINVAL)
		}
		return k.futexWakeOp(p, uaddr, shared, int(int32(val)), val3)
	case futexRequeue:
		return k.futexRequeue(p, uaddr, uaddr2, shared, int(int32(val)), int(val2), nil)
	case futexCmpRequeue:
		return k.futexRequeue(p, uaddr, uaddr2, shared, int(int32(val)), int(val2), &val3)
	case futexWakeOp:
		return k.futexWakeOpOp(p, uaddr, uaddr2, shared, int(int32(val)), int(val2), val3)
	case futexLockPI, futexLockPI2:
		return k.futexLockPI(p, uaddr, shared, deadline, false)
	case futexTrylockPI:
		return k.futexLockPI(p, uaddr, shared, 0, true)
	case futexUnlockPI:
		return k.futexUnlockPI(p, uaddr, shared)
	}
	// FUTEX_FD (gone since 2.6.26), FUTEX_WAIT_REQUEUE_PI and FUTEX_CMP_REQUEUE_PI (not
	// implemented: no C library uses them) and unknown commands.
	return -int64(ENOSYS)
}

// futexWaitOp is FUTEX_WAIT and FUTEX_WAIT_BITSET: sleep on uaddr if it holds val, until a
// wake whose bitset meets bitset (0), the deadline (ETIMEDOUT), or a signal. A signal ends
// a wait without a timeout with -ERESTARTSYS (restarted after an SA_RESTART handler), and
// one with a timeout with -ERESTART_RESTARTBLOCK (EINTR after a handler, else continued
// to the same deadline by restart_syscall). A value that differs is EAGAIN. Linux's
// futex_wait() and futex_wait_setup().
func (k *Kernel) futexWaitOp(p *Process, uaddr uint64, val uint32, deadline uint64, bitset uint32, shared bool) int64 {
	key, e := k.futexKeyOf(p, uaddr, shared)
	if e != 0 {
		return -int64(e)
	}
	cur, ok := k.readU32(p, uaddr)
	if !ok {
		return -int64(EFAULT)
	}
	if cur != val {
		return -int64(EAGAIN)
	}
	if deadline != 0 && k.nowNS() >= deadline {
		return -int64(ETIMEDOUT)
	}
	t := k.cur
	s := &futexSleep{t: t, woken: -1}
	s.ws = []*futexWaiter{{key: key, bitset: bitset, s: s}}
	k.futexes.queue(s.ws[0])
	t.futex = s
	return k.block(p, &sleepCall{deadline: deadline, restartable: deadline == 0,
		retry: func() int64 {
			if s.woken >= 0 {
				return 0
			}
			if deadline != 0 && k.nowNS() >= deadline {
				k.unqueueAll(s)
				return -int64(ETIMEDOUT)
			}
			return sysBlocks
		},
		intr: func() int64 {
			k.unqueueAll(s)
			if s.woken >= 0 {
				return 0 // woken as the signal came: the wake counts (futex_unqueue failed)
			}
			if deadline == 0 {
				return -int64(EINTR) // -ERESTARTSYS
			}
			t.sig.restart = func(k *Kernel, p *Process) int64 {
				return k.futexWaitOp(p, uaddr, val, deadline, bitset, shared)
			}
			return errRestartBlock
		}})
}

// futexWakeOp is FUTEX_WAKE and FUTEX_WAKE_BITSET: wake up to n waiters of uaddr whose
// bitset meets bitset, in the order they came; returns how many. Linux's futex_wake().
func (k *Kernel) futexWakeOp(p *Process, uaddr uint64, shared bool, n int, bitset uint32) int64 {
	key, e := k.futexKeyOf(p, uaddr, shared)
	if e != 0 {
		return -int64(e)
	}
	if w, _ := k.futexes.piWaiter(key); w != nil {
		return -int64(EINVAL) // a PI lock's waiters are the lock's to wake (futex_wake)
	}
	return int64(k.wakeKey(key, n, bitset))
}

// futexWake wakes up to n waiters of the futex at uaddr in t's address space (a thread's
// exit: clear_child_tid, robust futexes), with the shared key as Linux's mm_release() and
// handle_futex_death() use.
func (k *Kernel) futexWake(t *Thread, uaddr uint64, private bool, n int, bitset uint32) {
	if key, e := k.futexKeyOf(t.proc, uaddr, !private); e == 0 {
		k.wakeKey(key, n, bitset)
	}
}

// wakeKey wakes up to n waiters of key whose bitset meets bitset (PI waiters are not woken
// this way: Linux refuses with EINVAL, which this quietly skips).
func (k *Kernel) wakeKey(key futexKey, n int, bitset uint32) int {
	woken := 0
	for _, w := range slices.Clone(k.futexes.q[key]) {
		if woken >= n {
			break
		}
		if w.pi || w.bitset&bitset == 0 {
			continue
		}
		k.wakeWaiter(w)
		woken++
	}
	return woken
}

// futexRequeue is FUTEX_REQUEUE and FUTEX_CMP_REQUEUE: wake up to nWake waiters of uaddr
// and move up to nRequeue others to uaddr2's queue; with cmp, only if uaddr still holds
// *cmp (else EAGAIN). It returns the waiters woken plus those moved, as Linux's
// futex_requeue() does.
func (k *Kernel) futexRequeue(p *Process, uaddr, uaddr2 uint64, shared bool, nWake, nRequeue int, cmp *uint32) int64 {
	if nWake < 0 || nRequeue < 0 {
		return -int64(EINVAL)
	}
	key1, e := k.futexKeyOf(p, uaddr, shared)
	if e != 0 {
		return -int64(e)
	}
	key2, e := k.futexKeyOf(p, uaddr2, shared)
	if e != 0 {
		return -int64(e)
	}
	if cmp != nil {
		cur, ok := k.readU32(p, uaddr)
		if !ok {
			return -int64(EFAULT)
		}
		if cur != *cmp {
			return -int64(EAGAIN)
		}
	}
	count := 0
	for _, w := range slices.Clone(k.futexes.q[key1]) {
		if count-nWake >= nRequeue {
			break
		}
		if w.pi {
			continue
		}
		if count < nWake {
			k.wakeWaiter(w)
			count++
			continue
		}
		if key1 == key2 {
			count++
			continue
		}
		k.futexes.unqueue(w)
		w.key = key2
		k.futexes.queue(w)
		count++
	}
	return int64(count)
}

// futexWakeOpOp is FUTEX_WAKE_OP: atomically apply the operation val3 encodes to the word
// at uaddr2, wake up to nWake waiters of uaddr, and, if the old value of uaddr2 passes the
// comparison val3 encodes, up to nWake2 waiters of uaddr2. It returns how many it woke in
// all. Linux's futex_wake_op() and futex_atomic_op_inuser().
func (k *Kernel) futexWakeOpOp(p *Process, uaddr, uaddr2 uint64, shared bool, nWake, nWake2 int, encoded uint32) int64 {
	key1, e := k.futexKeyOf(p, uaddr, shared)
	if e != 0 {
		return -int64(e)
	}
	key2, e := k.futexKeyOf(p, uaddr2, shared)
	if e != 0 {
		return -int64(e)
	}
	op := encoded >> 28 & 7
	cmp := encoded >> 24 & 15
	oparg := int32(encoded<<8) >> 20 // bits 23:12, sign-extended
	cmparg := int32(encoded<<20) >> 20
	if encoded>>28&8 != 0 { // FUTEX_OP_OPARG_SHIFT
		oparg = 1 << (uint32(oparg) & 31)
	}
	old, ok := k.readU32(p, uaddr2)
	if !ok {
		return -int64(EFAULT)
	}
	var nv uint32
	switch op {
	case 0: // FUTEX_OP_SET
		nv = uint32(oparg)
	case 1: // FUTEX_OP_ADD
		nv = old + uint32(oparg)
	case 2: // FUTEX_OP_OR
		nv = old | uint32(oparg)
	case 3: // FUTEX_OP_ANDN
		nv = old &^ uint32(oparg)
	case 4: // FUTEX_OP_XOR
		nv = old ^ uint32(oparg)
	default:
		return -int64(ENOSYS)
	}
	if !k.writeU32(p, uaddr2, nv) {
		return -int64(EFAULT)
	}
	o := int32(old)
	var pass bool
	switch cmp {
	case 0:
		pass = o == cmparg
	case 1:
		pass = o != cmparg
	case 2:
		pass = o < cmparg
	case 3:
		pass = o <= cmparg
	case 4:
		pass = o > cmparg
	case 5:
		pass = o >= cmparg
	default:
		return -int64(ENOSYS) // the operation has been done, as on Linux
	}
	woken := k.wakeKey(key1, nWake, futexBitsetAny)
	if pass {
		woken += k.wakeKey(key2, nWake2, futexBitsetAny)
	}
	return int64(woken)
}

// futexLockPI is FUTEX_LOCK_PI, FUTEX_LOCK_PI2 and (trylock) FUTEX_TRYLOCK_PI: take the
// priority-inheritance lock whose word at uaddr holds its owner's TID. A free word gets
// the caller's TID (keeping FUTEX_OWNER_DIED); a word the caller owns is EDEADLK; a word
// naming no live thread is ESRCH; otherwise FUTEX_WAITERS is set and the caller sleeps
// until UNLOCK_PI hands it the lock (0), the deadline (ETIMEDOUT), or, for trylock, fails
// at once with EAGAIN. Signals do not end the wait (-ERESTARTNOINTR). This kernel has no
// priorities, so the inheritance itself has nothing to boost. Linux's futex_lock_pi() and
// futex_lock_pi_atomic().
func (k *Kernel) futexLockPI(p *Process, uaddr uint64, shared bool, deadline uint64, trylock bool) int64 {
	key, e := k.futexKeyOf(p, uaddr, shared)
	if e != 0 {
		return -int64(e)
	}
	t := k.cur
	word, ok := k.readU32(p, uaddr)
	if !ok {
		return -int64(EFAULT)
	}
	owner := int(word & futexTIDMask)
	switch {
	case owner == 0:
		nv := word&futexOwnerDied | uint32(t.TID)
		if len(k.futexes.q[key]) > 0 {
			nv |= futexWaiters
		}
		if !k.writeU32(p, uaddr, nv) {
			return -int64(EFAULT)
		}
		return 0
	case owner == t.TID:
		return -int64(EDEADLK)
	}
	o := k.tasks[owner]
	if o == nil || o.exited {
		return -int64(ESRCH)
	}
	if word&futexWaiters == 0 && !k.writeU32(p, uaddr, word|futexWaiters) {
		return -int64(EFAULT)
	}
	if trylock {
		return -int64(EAGAIN)
	}
	if deadline != 0 && k.nowNS() >= deadline {
		return -int64(ETIMEDOUT)
	}
	s := &futexSleep{t: t, woken: -1}
	s.ws = []*futexWaiter{{key: key, bitset: futexBitsetAny, s: s, pi: true, uaddr: uaddr}}
	k.futexes.queue(s.ws[0])
	if k.futexes.piOwner[key] == nil {
		k.futexes.setPIOwner(key, o) // attach_to_pi_owner(): the lock's owner holds the PI state
	}
	t.futex = s
	return k.block(p, &sleepCall{deadline: deadline,
		retry: func() int64 {
			if s.woken >= 0 {
				return 0 // the unlocker wrote our TID: the lock is ours
			}
			if deadline != 0 && k.nowNS() >= deadline {
				k.unqueueAll(s)
				return -int64(ETIMEDOUT)
			}
			return sysBlocks
		},
		intr: func() int64 {
			k.unqueueAll(s)
			if s.woken >= 0 {
				return 0
			}
			return errRestartNoIntr
		}})
}

// futexUnlockPI is FUTEX_UNLOCK_PI: the caller, which must own the lock (else EPERM),
// hands it to the first waiter (whose TID, with FUTEX_WAITERS, goes into the word) or, with
// none, leaves the word 0. Linux's futex_unlock_pi() and wake_futex_pi().
func (k *Kernel) futexUnlockPI(p *Process, uaddr uint64, shared bool) int64 {
	key, e := k.futexKeyOf(p, uaddr, shared)
	if e != 0 {
		return -int64(e)
	}
	word, ok := k.readU32(p, uaddr)
	if !ok {
		return -int64(EFAULT)
	}
	if int(word&futexTIDMask) != k.cur.TID {
		return -int64(EPERM)
	}
	if !k.handOffPI(p, key, uaddr, 0) {
		k.futexes.setPIOwner(key, nil)
		if !k.writeU32(p, uaddr, 0) {
			return -int64(EFAULT)
		}
	}
	return 0
}

// handOffPI gives the PI lock at uaddr (key) to its first waiter, writing the waiter's TID
// with FUTEX_WAITERS and the extra bits into the word, and wakes it; false when nobody
// waits. The waiter owns the PI state while others still wait (wake_futex_pi()).
func (k *Kernel) handOffPI(p *Process, key futexKey, uaddr uint64, extra uint32) bool {
	w, more := k.futexes.piWaiter(key)
	if w == nil {
		return false
	}
	if !k.writeU32(p, uaddr, uint32(w.s.t.TID)|futexWaiters|extra) {
		return false
	}
	k.wakeWaiter(w)
	if more {
		k.futexes.setPIOwner(key, w.s.t)
	} else {
		k.futexes.setPIOwner(key, nil)
	}
	return true
}

// exitPIState hands every PI lock exiting thread t still owns, with waiters, to its first
// waiter, whose TID (with FUTEX_WAITERS, and FUTEX_OWNER_DIED if the word had it) goes
// into the word in the waiter's address space: the waiter's FUTEX_LOCK_PI returns 0 and it
// owns the lock. Linux's exit_pi_state_list(), then the new owner's fixup_pi_owner().
func (k *Kernel) exitPIState(t *Thread) {
	for _, key := range slices.Clone(t.piOwned) {
		w, more := k.futexes.piWaiter(key)
		if w == nil {
			k.futexes.setPIOwner(key, nil)
			continue
		}
		nt := w.s.t
		k.inMM(nt, func() {
			word, _ := k.readU32(nt.proc, w.uaddr)
			k.writeU32(nt.proc, w.uaddr, word&futexOwnerDied|uint32(nt.TID)|futexWaiters)
		})
		k.wakeWaiter(w)
		if more {
			k.futexes.setPIOwner(key, nt)
		} else {
			k.futexes.setPIOwner(key, nil)
		}
	}
}

// futex_waitv(waiters, nr_futexes, flags, timeout, clockid): sleep on up to 128 futexes at
// once, each given as struct futex_waitv {u64 val; u64 uaddr; u32 flags; u32 reserved}
// with FUTEX2_SIZE_U32 (and FUTEX2_PRIVATE), until one is woken: the result is its index.
// A value that differs is EAGAIN; the absolute timeout is on clockid (CLOCK_MONOTONIC or
// CLOCK_REALTIME). Linux's sys_futex_waitv() and futex_wait_multiple().
func sysFutexWaitv(k *Kernel, p *Process, a *[6]uint64) int64 {
	uw, n, flags, uts, clk := a[0], a[1], a[2], a[3], int32(a[4])
	if flags != 0 || n == 0 || n > futexWaitvMax || uw == 0 {
		return -int64(EINVAL)
	}
	var deadline uint64
	if uts != 0 {
		if clk != clockRealtime && clk != clockMonotonic {
			return -int64(EINVAL)
		}
		var e Errno
		if deadline, e = k.futexTimeout(p, uts, false, clk == clockRealtime); e != 0 {
			return -int64(e)
		}
	}
	type entry struct {
		val  uint32
		addr uint64
		key  futexKey
	}
	es := make([]entry, n)
	for i := range es {
		var b [24]byte
		if _, ok := k.copyIn(p, uw+uint64(i)*24, b[:]); !ok {
			return -int64(EFAULT)
		}
		f := le.Uint32(b[16:])
		if f&^(futex2Size32|futex2Private) != 0 || f&3 != futex2Size32 || le.Uint32(b[20:]) != 0 {
			return -int64(EINVAL)
		}
		val := le.Uint64(b[0:])
		if val>>32 != 0 {
			return -int64(EINVAL)
		}
		key, e := k.futexKeyOf(p, le.Uint64(b[8:]), f&futex2Private == 0)
		if e != 0 {
			return -int64(e)
		}
		es[i] = entry{val: uint32(val), addr: le.Uint64(b[8:]), key: key}
	}
	for _, x := range es {
		cur, ok := k.readU32(p, x.addr)
		if !ok {
			return -int64(EFAULT)
		}
		if cur != x.val {
			return -int64(EAGAIN)
		}
	}
	if deadline != 0 && k.nowNS() >= deadline {
		return -int64(ETIMEDOUT)
	}
	t := k.cur
	s := &futexSleep{t: t, woken: -1}
	for i, x := range es {
		w := &futexWaiter{key: x.key, bitset: futexBitsetAny, s: s, index: i}
		s.ws = append(s.ws, w)
		k.futexes.queue(w)
	}
	t.futex = s
	return k.block(p, &sleepCall{deadline: deadline, restartable: true,
		retry: func() int64 {
			if s.woken >= 0 {
				return int64(s.woken)
			}
			if deadline != 0 && k.nowNS() >= deadline {
				k.unqueueAll(s)
				return -int64(ETIMEDOUT)
			}
			return sysBlocks
		},
		intr: func() int64 {
			k.unqueueAll(s)
			if s.woken >= 0 {
				return int64(s.woken)
			}
			return -int64(EINTR) // -ERESTARTSYS
		}})
}

// set_robust_list(head, len): remember the thread's list of robust futexes, walked when it
// exits. len must be sizeof(struct robust_list_head).
func sysSetRobustList(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[1] != robustHeadSize {
		return -int64(EINVAL)
	}
	k.cur.robustHead, k.cur.robustLen = a[0], a[1]
	return 0
}

// get_robust_list(tid, head_ptr, len_ptr): the robust list of thread tid (0: the caller).
func sysGetRobustList(k *Kernel, p *Process, a *[6]uint64) int64 {
	t := k.cur
	if tid := int32(a[0]); tid != 0 {
		if t = k.tasks[int(tid)]; t == nil {
			return -int64(ESRCH)
		}
	}
	if !k.writeU64(p, a[1], t.robustHead) || !k.writeU64(p, a[2], robustHeadSize) {
		return -int64(EFAULT)
	}
	return 0
}

// exitRobustList releases the robust futexes t holds as it exits: each lock word on its
// list (and the one it was taking or releasing, list_op_pending) whose owner is t gets
// FUTEX_OWNER_DIED, keeping FUTEX_WAITERS, and one waiter is woken, so the next locker
// learns the owner died (EOWNERDEAD); a PI lock goes straight to its first waiter, marked
// the same way. A bad pointer ends the walk; the list is cut at 2048 entries. Linux's
// exit_robust_list() and handle_futex_death().
//
// Preconditions: t's address space is loaded (inMM).
func (k *Kernel) exitRobustList(t *Thread) {
	head := t.robustHead
	t.robustHead = 0
	if head == 0 {
		return
	}
	p := t.proc
	var b [robustHeadSize]byte
	if _, ok := k.copyIn(p, head, b[:]); !ok {
		return
	}
	entry, pi := le.Uint64(b[0:])&^1, le.Uint64(b[0:])&1 != 0
	offset := int64(le.Uint64(b[8:]))
	pending, ppi := le.Uint64(b[16:])&^1, le.Uint64(b[16:])&1 != 0
	for limit := robustListLimit; entry != head && limit > 0; limit-- {
		var nb [8]byte
		_, ok := k.copyIn(p, entry, nb[:])
		next := le.Uint64(nb[:])
		if entry != pending {
			k.futexDeath(t, uint64(int64(entry)+offset), pi, false)
		}
		if !ok {
			return
		}
		entry, pi = next&^1, next&1 != 0
	}
	if pending != 0 {
		k.futexDeath(t, uint64(int64(pending)+offset), ppi, true)
	}
}

// futexDeath marks one robust lock word of exiting thread t (Linux's handle_futex_death()).
func (k *Kernel) futexDeath(t *Thread, uaddr uint64, pi, pendingOp bool) {
	if uaddr&3 != 0 {
		return
	}
	p := t.proc
	word, ok := k.readU32(p, uaddr)
	if !ok {
		return
	}
	if pendingOp && !pi && word == 0 {
		k.futexWake(t, uaddr, false, 1, futexBitsetAny)
		return
	}
	if int(word&futexTIDMask) != t.TID {
		return
	}
	if pi {
		if key, e := k.futexKeyOf(p, uaddr, true); e == 0 && k.handOffPI(p, key, uaddr, futexOwnerDied) {
			return
		}
	}
	nv := word&futexWaiters | futexOwnerDied
	if !k.writeU32(p, uaddr, nv) {
		return
	}
	if !pi && nv&futexWaiters != 0 {
		k.futexWake(t, uaddr, false, 1, futexBitsetAny)
	}
}
