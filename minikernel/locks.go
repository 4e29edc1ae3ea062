package minikernel

import (
	"time"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// File locks: flock, POSIX record locks (fcntl F_SETLK, F_SETLKW, F_GETLK) and open file
// description locks (F_OFD_*). Linux's fs/locks.c. The kernel keeps every guest lock in a
// table per file and decides conflicts between guest processes itself, with Linux's rules:
//
//   - a POSIX lock belongs to a process's descriptor table (fl_owner = current->files): a
//     new lock of the same owner replaces, splits and merges its older ones; closing any
//     descriptor of the file releases all of them; fork does not inherit them; F_SETLKW that
//     would wait for a chain of processes waiting for the caller fails with EDEADLK;
//   - an OFD lock belongs to the open file description, so dup and fork share it, and only
//     the description's last close releases it (F_GETLK reports l_pid -1);
//   - a flock lock belongs to the open file description too, whole-file, shared or
//     exclusive, and is independent of the record locks.
//
// A host regular file's locks are also taken on the host, through one extra description of
// the file per locked file (the mirror): the union of the guest's record locks as OFD locks,
// the strongest flock as a flock. So a native process sees the guest's locks (a native
// F_GETLK reports them with l_pid -1, as for any OFD lock), and a guest lock that conflicts
// with a native process's lock is refused (EAGAIN) or waited for (F_SETLKW, LOCK_EX without
// LOCK_NB), retrying every 2 ms of host time.

// Lock types and fcntl commands (include/uapi/asm-generic/fcntl.h).
const (
	fRdlck = 0
	fWrlck = 1
	fUnlck = 2

	fGetlk     = 5
	fSetlk     = 6
	fSetlkw    = 7
	fOFDGetlk  = 36
	fOFDSetlk  = 37
	fOFDSetlkw = 38

	lockSH = 1
	lockEX = 2
	lockNB = 4
	lockUN = 8

	offsetMax = 1<<63 - 1 // OFFSET_MAX: a lock "to the end of the file"
	// maxDeadlkIterations bounds the walk of the waits-for chain (MAX_DEADLK_ITERATIONS).
	maxDeadlkIterations = 10
)

// fileLock is one record lock: [start, end] inclusive, of a type, held by an owner (a
// descriptor table for a POSIX lock, an open file description for an OFD lock).
type fileLock struct {
	owner      any
	ofd        bool
	pid        int // the process that took a POSIX lock (l_pid)
	typ        int16
	start, end uint64
}

func (l *fileLock) overlaps(start, end uint64) bool { return l.start <= end && start <= l.end }

// conflicts reports whether l stands in the way of a lock of type typ over [start, end] by
// owner: another owner's lock over some of the range, one of the two a write lock.
func (l *fileLock) conflicts(owner any, typ int16, start, end uint64) bool {
	return l.owner != owner && l.overlaps(start, end) && (l.typ == fWrlck || typ == fWrlck)
}

// flockEntry is one flock lock.
type flockEntry struct {
	owner *File
	excl  bool
}

// fileLocks is every lock on one file, and the processes waiting for one.
type fileLocks struct {
	key     any
	records []*fileLock // POSIX and OFD locks, in no particular order
	flocks  []flockEntry
	waiters waitQueue
	host    int // the mirror: a host descriptor of the file (-1 when none)
	hostLck []hostRange
	hostFl  int // the flock the mirror holds: 0, lockSH or lockEX
}

// hostRange is one range of the file with the record lock type the mirror holds there.
type hostRange struct {
	start, end uint64
	typ        int16
}

// lockWait is a process blocked in F_SETLKW: what it waits to lock, for EDEADLK's walk.
type lockWait struct {
	t          *Thread
	fl         *fileLocks
	typ        int16
	start, end uint64
}

// lockKey names the file f's locks belong to: its inode, its pipe, or the open file itself.
func lockKey(f *File) any {
	switch {
	case f.ino != nil:
		return f.ino
	case f.pipe != nil:
		return f.pipe
	}
	return f
}

// locksOf returns the lock table of f's file, creating it when create.
func (k *Kernel) locksOf(f *File, create bool) *fileLocks {
	key := lockKey(f)
	fl := k.locks[key]
	if fl == nil && create {
		if k.locks == nil {
			k.locks = map[any]*fileLocks{}
		}
		fl = &fileLocks{key: key, host: -1}
		if f.kind == fileRegular && f.hfd >= 0 {
			fl.host = k.openMirror(f)
		}
		k.locks[key] = fl
	}
	return fl
}

// openMirror opens another description of f's host file, read-write when possible, for the
// locks the guest holds to be held on the host too. -1 when it cannot.
func (k *Kernel) openMirror(f *File) int {
	if k.takeHostFD() != 0 {
		return -1
	}
	for _, mode := range []int{oRdwr, oRdonly} {
		if fd, e := hostReopen(f.hfd, mode); e == 0 {
			return fd
		}
	}
	k.releaseHostFD()
	return -1
}

// forget drops fl when nothing is locked and nobody waits: the mirror closes, which releases
// whatever the host still held for it.
func (k *Kernel) forget(fl *fileLocks) {
	if len(fl.records) > 0 || len(fl.flocks) > 0 || len(fl.waiters.ts) > 0 {
		return
	}
	if fl.host >= 0 {
		hostfs.Close(fl.host)
		k.releaseHostFD()
		fl.host = -1
	}
	delete(k.locks, fl.key)
}

// --- record locks ---

// flockArgs is a struct flock as fcntl reads it, turned into a range.
type flockArgs struct {
	typ        int16
	start, end uint64
	pid        int32
}

// readFlock reads and checks a struct flock for f: l_type, l_whence, l_start and l_len
// turned into an inclusive range, as flock64_to_posix_lock() does.
func (k *Kernel) readFlock(p *Process, f *File, va uint64) (flockArgs, Errno) {
	var b [32]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return flockArgs{}, EFAULT
	}
	a := flockArgs{typ: int16(le.Uint16(b[0:])), pid: int32(le.Uint32(b[24:]))}
	whence, lstart, llen := int16(le.Uint16(b[2:])), int64(le.Uint64(b[8:])), int64(le.Uint64(b[16:]))
	var base int64
	switch whence {
	case 0:
	case 1:
		base = int64(f.off)
	case 2:
		base = int64(k.lockFileSize(f))
	default:
		return a, EINVAL
	}
	if lstart > offsetMax-base {
		return a, EOVERFLOW
	}
	start := base + lstart
	if start < 0 {
		return a, EINVAL
	}
	var end int64
	switch {
	case llen > 0:
		if llen-1 > offsetMax-start {
			return a, EOVERFLOW
		}
		end = start + llen - 1
	case llen < 0:
		end = start - 1
		if start += llen; start < 0 {
			return a, EINVAL
		}
	default:
		end = offsetMax
	}
	a.start, a.end = uint64(start), uint64(end)
	return a, 0
}

// lockFileSize is the size SEEK_END counts from.
func (k *Kernel) lockFileSize(f *File) uint64 {
	if f.ino != nil {
		return f.ino.size
	}
	var st hostfs.Stat
	if f.hfd >= 0 && hostFstat(f.hfd, &st) == 0 {
		return uint64(st.Size)
	}
	return 0
}

// conflict returns the first lock that stands in the way of a lock of typ over [start,
// end] by owner, or nil.
func (fl *fileLocks) conflict(owner any, typ int16, start, end uint64) *fileLock {
	for _, l := range fl.records {
		if l.conflicts(owner, typ, start, end) {
			return l
		}
	}
	return nil
}

// setRecords applies a lock (or unlock) of owner over [start, end] to the records: the
// owner's locks in the range are cut away, the new one goes in, and it merges with the
// owner's adjacent or overlapping locks of the same type. Linux's posix_lock_inode().
func (fl *fileLocks) setRecords(n *fileLock) {
	var out []*fileLock
	for _, l := range fl.records {
		if l.owner != n.owner || !l.overlaps(n.start, n.end) {
			out = append(out, l)
			continue
		}
		if l.start < n.start {
			left := *l
			left.end = n.start - 1
			out = append(out, &left)
		}
		if l.end > n.end {
			right := *l
			right.start = n.end + 1
			out = append(out, &right)
		}
	}
	if n.typ != fUnlck {
		merged := *n
		var rest []*fileLock
		for _, l := range out {
			adjacent := l.owner == n.owner && l.typ == n.typ &&
				(l.overlaps(merged.start, merged.end) || (merged.end != offsetMax && l.start == merged.end+1) ||
					(l.end != offsetMax && l.end+1 == merged.start))
			if adjacent {
				merged.start, merged.end = min(merged.start, l.start), max(merged.end, l.end)
				continue
			}
			rest = append(rest, l)
		}
		out = append(rest, &merged)
	}
	fl.records = out
}

// syncHost makes the mirror hold, over [start, end], the strongest record lock any guest
// owner holds there. Acquisitions and upgrades go first; when the host refuses one (a
// native process's lock), those already made are undone and its errno returned, with
// nothing changed. Downgrades and unlocks then cannot fail.
func (k *Kernel) syncHost(fl *fileLocks, start, end uint64) Errno {
	if fl.host < 0 {
		return 0
	}
	want := fl.coverage(start, end)
	have := hostCoverage(fl.hostLck, start, end)
	var done []hostRange
	for _, w := range want {
		for _, h := range have {
			s, e := max(w.start, h.start), min(w.end, h.end)
			if s > e || rank(w.typ) <= rank(h.typ) {
				continue
			}
			if en := hostOFDLock(fl.host, fOFDSetlk, w.typ, s, e); en != 0 {
				for _, d := range done {
					_ = hostOFDLock(fl.host, fOFDSetlk, d.typ, d.start, d.end)
				}
				return en
			}
			done = append(done, hostRange{s, e, h.typ})
		}
	}
	for _, w := range want {
		for _, h := range have {
			s, e := max(w.start, h.start), min(w.end, h.end)
			if s <= e && rank(w.typ) < rank(h.typ) {
				_ = hostOFDLock(fl.host, fOFDSetlk, w.typ, s, e)
			}
		}
	}
	fl.hostLck = mergeRanges(append(cutRanges(fl.hostLck, start, end), want...))
	return 0
}

// rank orders lock types by strength: none, read, write.
func rank(t int16) int {
	switch t {
	case fRdlck:
		return 1
	case fWrlck:
		return 2
	}
	return 0
}

// coverage returns [start, end] cut into ranges, each with the strongest type any record
// lock has there (fUnlck where none).
func (fl *fileLocks) coverage(start, end uint64) []hostRange {
	cuts := []uint64{start}
	for _, l := range fl.records {
		if l.overlaps(start, end) {
			if l.start > start {
				cuts = append(cuts, l.start)
			}
			if l.end < end {
				cuts = append(cuts, l.end+1)
			}
		}
	}
	sortU64(cuts)
	var out []hostRange
	for i, s := range cuts {
		if i > 0 && s == cuts[i-1] {
			continue
		}
		e := end
		for _, c := range cuts[i+1:] {
			if c > s {
				e = c - 1
				break
			}
		}
		t := int16(fUnlck)
		for _, l := range fl.records {
			if l.overlaps(s, e) && rank(l.typ) > rank(t) {
				t = l.typ
			}
		}
		out = append(out, hostRange{s, e, t})
	}
	return mergeRanges(out)
}

// hostCoverage is what the mirror holds over [start, end], gaps as fUnlck.
func hostCoverage(held []hostRange, start, end uint64) []hostRange {
	var out []hostRange
	at := start
	for _, h := range held {
		if h.end < start || h.start > end {
			continue
		}
		s, e := max(h.start, start), min(h.end, end)
		if s > at {
			out = append(out, hostRange{at, s - 1, fUnlck})
		}
		out = append(out, hostRange{s, e, h.typ})
		if e == end {
			return out
		}
		at = e + 1
	}
	return append(out, hostRange{at, end, fUnlck})
}

// cutRanges removes [start, end] from ranges.
func cutRanges(rs []hostRange, start, end uint64) []hostRange {
	var out []hostRange
	for _, r := range rs {
		if r.end < start || r.start > end {
			out = append(out, r)
			continue
		}
		if r.start < start {
			out = append(out, hostRange{r.start, start - 1, r.typ})
		}
		if r.end > end {
			out = append(out, hostRange{end + 1, r.end, r.typ})
		}
	}
	return out
}

// mergeRanges sorts ranges, drops unlocked ones and joins neighbours of one type.
func mergeRanges(rs []hostRange) []hostRange {
	var out []hostRange
	for _, r := range rs {
		if r.typ != fUnlck {
			out = append(out, r)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].start < out[j-1].start; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	var m []hostRange
	for _, r := range out {
		if n := len(m); n > 0 && m[n-1].typ == r.typ && m[n-1].end != offsetMax && m[n-1].end+1 == r.start {
			m[n-1].end = r.end
			continue
		}
		m = append(m, r)
	}
	return m
}

func sortU64(v []uint64) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// hostFlock is the struct flock of the host's fcntl.
type hostFlock struct {
	typ, whence int16
	_           int32
	start, len  int64
	pid         int32
	_           int32
}

// fcntlLock is fcntl's F_GETLK, F_SETLK, F_SETLKW and their F_OFD_ forms on f.
func (k *Kernel) fcntlLock(p *Process, f *File, cmd, va uint64) int64 {
	a, e := k.readFlock(p, f, va)
	if e != 0 {
		return -int64(e)
	}
	ofd := cmd == fOFDGetlk || cmd == fOFDSetlk || cmd == fOFDSetlkw
	if ofd && a.pid != 0 {
		return -int64(EINVAL)
	}
	var owner any = p.fds
	if ofd {
		owner = f
	}
	if cmd == fGetlk || cmd == fOFDGetlk {
		return k.getLock(p, f, owner, a, va)
	}
	switch a.typ {
	case fRdlck:
		if !f.readable() {
			return -int64(EBADF)
		}
	case fWrlck:
		if !f.writable() {
			return -int64(EBADF)
		}
	case fUnlck:
	default:
		return -int64(EINVAL)
	}
	n := &fileLock{owner: owner, ofd: ofd, pid: p.PID, typ: a.typ, start: a.start, end: a.end}
	wait := cmd == fSetlkw || cmd == fOFDSetlkw
	var s *sleepCall
	try := func() int64 {
		fl := k.locksOf(f, a.typ != fUnlck)
		if fl == nil {
			return 0 // unlocking what was never locked
		}
		if a.typ != fUnlck {
			if c := fl.conflict(owner, a.typ, a.start, a.end); c != nil {
				if !wait {
					return -int64(EAGAIN)
				}
				if !ofd && k.posixDeadlock(p, owner, c) {
					return -int64(EDEADLK)
				}
				fl.waiters.add(k.cur)
				k.lockWaits[owner] = &lockWait{t: k.cur, fl: fl, typ: a.typ, start: a.start, end: a.end}
				return sysBlocks
			}
		}
		old := fl.records
		fl.setRecords(n)
		if e := k.syncHost(fl, a.start, a.end); e != 0 {
			fl.records = old
			if wait && e == EAGAIN {
				fl.waiters.add(k.cur)
				return k.hostWait(s)
			}
			k.forget(fl)
			return -int64(e)
		}
		delete(k.lockWaits, owner)
		k.wakeAll(&fl.waiters)
		k.forget(fl)
		return 0
	}
	if k.lockWaits == nil {
		k.lockWaits = map[any]*lockWait{}
	}
	s = &sleepCall{retry: try, restartable: true, intr: func() int64 {
		delete(k.lockWaits, owner)
		if fl := k.locks[lockKey(f)]; fl != nil {
			k.forget(fl)
		}
		return -int64(EINTR)
	}}
	if r := try(); r != sysBlocks {
		return r
	}
	return k.block(p, s)
}

// hostWait is a lock wait for a native process's lock: nothing in the machine will wake
// the caller, so its sleep s gets a deadline 2 ms of guest time away, and 2 ms of host time
// pass for real before it tries again.
func (k *Kernel) hostWait(s *sleepCall) int64 {
	time.Sleep(2 * time.Millisecond)
	s.deadline = k.nowNS() + 2_000_000
	return sysBlocks
}

// getLock is F_GETLK: the first lock that would stand in the way, a native process's
// included, or l_type F_UNLCK.
func (k *Kernel) getLock(p *Process, f *File, owner any, a flockArgs, va uint64) int64 {
	if a.typ != fRdlck && a.typ != fWrlck {
		return -int64(EINVAL)
	}
	var b [32]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return -int64(EFAULT)
	}
	var c *fileLock
	if fl := k.locksOf(f, false); fl != nil {
		c = fl.conflict(owner, a.typ, a.start, a.end)
	}
	if c == nil && f.kind == fileRegular && f.hfd >= 0 {
		// Ask on the mirror when there is one (its own locks, the guest's, never conflict
		// with it), else on the guest's description, which holds no host lock.
		fd := f.hfd
		if fl := k.locksOf(f, false); fl != nil && fl.host >= 0 {
			fd = fl.host
		}
		if hl, found := hostTestLock(fd, a.typ, a.start, a.end); found {
			end := uint64(offsetMax)
			if hl.len != 0 {
				end = uint64(hl.start + hl.len - 1)
			}
			c = &fileLock{typ: hl.typ, start: uint64(hl.start), end: end, pid: int(hl.pid), ofd: hl.pid == -1}
		}
	}
	if c == nil {
		le.PutUint16(b[0:], fUnlck)
	} else {
		le.PutUint16(b[0:], uint16(c.typ))
		le.PutUint16(b[2:], 0)
		le.PutUint64(b[8:], c.start)
		var l uint64
		if c.end != offsetMax {
			l = c.end - c.start + 1
		}
		le.PutUint64(b[16:], l)
		pid := int32(c.pid)
		if c.ofd {
			pid = -1
		}
		le.PutUint32(b[24:], uint32(pid))
	}
	if _, ok := k.copyOut(p, va, b[:]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// posixDeadlock reports whether owner waiting for the lock c would close a cycle: c's
// owner waits for a lock whose owner waits ... for owner. Linux's posix_locks_deadlock().
func (k *Kernel) posixDeadlock(p *Process, owner any, c *fileLock) bool {
	for i := 0; i < maxDeadlkIterations; i++ {
		if c.ofd {
			return false
		}
		w := k.lockWaits[c.owner]
		if w == nil || w.t.sleep == nil || w.t.exited {
			return false
		}
		next := w.fl.conflict(c.owner, w.typ, w.start, w.end)
		if next == nil {
			return false
		}
		if next.owner == owner {
			return true
		}
		c = next
	}
	return false
}

// closeLocks runs when the descriptor table t closes a descriptor of f: t's POSIX locks on
// the file go (locks_remove_posix()).
func (k *Kernel) closeLocks(t *fdTable, f *File) {
	if len(k.locks) == 0 {
		return
	}
	fl := k.locks[lockKey(f)]
	if fl == nil {
		return
	}
	k.dropOwner(fl, t)
}

// releaseFileLocks runs when f's last reference goes: its OFD and flock locks go
// (locks_remove_file()).
func (k *Kernel) releaseFileLocks(f *File) {
	if len(k.locks) == 0 {
		return
	}
	fl := k.locks[lockKey(f)]
	if fl == nil {
		return
	}
	for i, e := range fl.flocks {
		if e.owner == f {
			fl.flocks = append(fl.flocks[:i], fl.flocks[i+1:]...)
			k.syncHostFlock(fl)
			k.wakeAll(&fl.waiters)
			break
		}
	}
	k.dropOwner(fl, f)
}

// dropOwner removes every record lock owner holds on fl.
func (k *Kernel) dropOwner(fl *fileLocks, owner any) {
	had := false
	var out []*fileLock
	for _, l := range fl.records {
		if l.owner == owner {
			had = true
			continue
		}
		out = append(out, l)
	}
	if had {
		fl.records = out
		_ = k.syncHost(fl, 0, offsetMax)
		k.wakeAll(&fl.waiters)
	}
	k.forget(fl)
}

// --- flock ---

// flock(fd, operation): LOCK_SH, LOCK_EX or LOCK_UN, with LOCK_NB for EWOULDBLOCK instead
// of waiting. Converting a lock first drops the old one, as Linux does (not atomically).
// Linux's flock_lock_inode().
func sysFlock(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	op := a[1]
	nb := op&lockNB != 0
	op &^= lockNB
	if op != lockSH && op != lockEX && op != lockUN {
		return -int64(EINVAL)
	}
	excl := op == lockEX
	var s *sleepCall
	try := func() int64 {
		fl := k.locksOf(f, op != lockUN)
		if fl == nil {
			return 0
		}
		mine := -1
		for i, e := range fl.flocks {
			if e.owner == f {
				mine = i
			}
		}
		if mine >= 0 {
			if op != lockUN && fl.flocks[mine].excl == excl {
				return 0
			}
			fl.flocks = append(fl.flocks[:mine], fl.flocks[mine+1:]...)
			k.syncHostFlock(fl)
			k.wakeAll(&fl.waiters)
		}
		if op == lockUN {
			k.forget(fl)
			return 0
		}
		for _, e := range fl.flocks {
			if e.excl || excl {
				if nb {
					k.forget(fl)
					return -int64(EAGAIN)
				}
				fl.waiters.add(k.cur)
				return sysBlocks
			}
		}
		fl.flocks = append(fl.flocks, flockEntry{owner: f, excl: excl})
		if e := k.syncHostFlock(fl); e != 0 {
			fl.flocks = fl.flocks[:len(fl.flocks)-1]
			if !nb && e == EAGAIN {
				fl.waiters.add(k.cur)
				return k.hostWait(s)
			}
			k.forget(fl)
			return -int64(e)
		}
		return 0
	}
	s = &sleepCall{retry: try, restartable: true, intr: func() int64 {
		if fl := k.locks[lockKey(f)]; fl != nil {
			k.forget(fl)
		}
		return -int64(EINTR)
	}}
	if r := try(); r != sysBlocks {
		return r
	}
	return k.block(p, s)
}

// syncHostFlock makes the mirror hold the strongest flock a guest description holds: an
// exclusive one, a shared one, or none. A native process's conflicting flock is EAGAIN.
func (k *Kernel) syncHostFlock(fl *fileLocks) Errno {
	if fl.host < 0 {
		return 0
	}
	want := 0
	for _, e := range fl.flocks {
		if e.excl {
			want = lockEX
			break
		}
		want = lockSH
	}
	if want == fl.hostFl {
		return 0
	}
	op := want | lockNB
	if want == 0 {
		op = lockUN
	}
	if e := hostfs.Flock(fl.host, op); e != 0 {
		return Errno(e)
	}
	fl.hostFl = want
	return 0
}
