package minikernel

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// System V shared memory: shmget, shmat, shmdt, shmctl. Linux's ipc/shm.c and ipc/util.c.
// A segment is a shared-memory object in the page cache (fileShm, as behind a
// MAP_SHARED|MAP_ANONYMOUS mapping) that outlives the processes attaching it, found by a
// key or an id. The segment table holds one reference to the object and every attached
// area (VMA) one more, so the number of attaches (shm_nattch, which Linux counts in the
// areas' open and close: an area split in two counts twice, a fork copies the count) is
// the object's references less one. A segment removed with IPC_RMID while attached loses
// its key and is marked SHM_DEST; the last detach destroys it (File.put calls shmDetached).

// shmget flags, shmat flags and shmctl commands (include/uapi/linux/ipc.h, shm.h).
const (
	ipcPrivate = 0
	ipcCreat   = 0o1000
	ipcExcl    = 0o2000
	ipcRmid    = 0
	ipcSet     = 1
	ipcStat    = 2
	ipcInfo    = 3

	shmHugetlb   = 0o4000
	shmNoreserve = 0o10000
	shmRdonly    = 0o10000
	shmRnd       = 0o20000
	shmRemap     = 0o40000
	shmExec      = 0o100000

	shmLockCmd   = 11
	shmUnlockCmd = 12
	shmStatCmd   = 13
	shmInfoCmd   = 14
	shmStatAny   = 15

	shmDest   = 0o1000 // mode: removed, destroyed at the last detach
	shmLocked = 0o2000 // mode: SHM_LOCK'd

	shmMin = 1
	shmMax = ^uint64(0) - 1<<24 // SHMMAX, and SHMALL (in pages)
	shmMni = 4096               // IPCMNI: ids per namespace
	// An id is seq<<15 | index (ipcmni_seq_shift()); seq wraps below INT_MAX>>15.
	ipcSeqShift = 15
	ipcSeqMax   = 0x7fffffff >> ipcSeqShift
)

// shmSeg is one segment: Linux's struct shmid_kernel and its kern_ipc_perm.
type shmSeg struct {
	idx, seq               int
	key                    int32
	uid, gid, cuid, cgid   uint32
	mode                   uint32 // permission bits, SHM_DEST, SHM_LOCKED
	size                   uint64 // bytes as asked for
	atime, dtime, ctime    int64  // seconds of CLOCK_REALTIME
	cpid, lpid             int
	file                   *File // the object; the table's reference
	lockedPages, lockOwner uint64
}

func (s *shmSeg) id() int32 { return int32(s.seq<<ipcSeqShift + s.idx) }

// nattch is the number of areas attaching the segment.
func (s *shmSeg) nattch() uint64 { return uint64(s.file.refs - 1) }

// sysvShm is the segment table of the (one) IPC namespace.
type sysvShm struct {
	segs     []*shmSeg // by index; nil: free
	inUse    int
	lastIdx  int // the index allocated last (-1: none yet)
	seq      int
	totPages uint64            // pages of every segment (shm_tot)
	locked   map[uint32]uint64 // pages SHM_LOCK'd, by the user charged (user_shm_lock)
}

func (k *Kernel) shmTable() *sysvShm {
	if k.sysv == nil {
		k.sysv = &sysvShm{lastIdx: -1, locked: map[uint32]uint64{}}
	}
	return k.sysv
}

// byKey finds the live segment with key.
func (t *sysvShm) byKey(key int32) *shmSeg {
	for _, s := range t.segs {
		if s != nil && s.key == key && s.mode&shmDest == 0 {
			return s
		}
	}
	return nil
}

// byID finds the segment with id (shm_obtain_object_check()), nil when none has it.
func (t *sysvShm) byID(id int32) *shmSeg {
	if id < 0 {
		return nil
	}
	idx := int(id) & (1<<ipcSeqShift - 1)
	if idx >= len(t.segs) || t.segs[idx] == nil || t.segs[idx].id() != id {
		return nil
	}
	return t.segs[idx]
}

// maxIdx is ipc_get_maxidx(), with no segment 0.
func (t *sysvShm) maxIdx() int64 {
	for i := len(t.segs) - 1; i >= 0; i-- {
		if t.segs[i] != nil {
			return int64(i)
		}
	}
	return 0
}

// ipcPerms reports whether p may access s as requested (rwx bits, ipcperms()).
func ipcPerms(p *Process, s *shmSeg, want uint32) bool {
	granted := s.mode
	req := (want>>6 | want>>3 | want) & 7
	c := &p.cred
	switch {
	case c.euid == s.cuid || c.euid == s.uid:
		granted >>= 6
	case c.inGroup(s.cgid) || c.inGroup(s.gid):
		granted >>= 3
	}
	return req&^granted&7 == 0 || c.capable(capIpcOwnr)
}

// shmget(key, size, shmflg).
func sysShmget(k *Kernel, p *Process, a *[6]uint64) int64 {
	key, size, flg := int32(a[0]), a[1], uint32(a[2])
	t := k.shmTable()
	if key != ipcPrivate {
		if s := t.byKey(key); s != nil {
			switch {
			case flg&ipcCreat != 0 && flg&ipcExcl != 0:
				return -int64(EEXIST)
			case s.size < size:
				return -int64(EINVAL)
			case !ipcPerms(p, s, flg&0o777):
				return -int64(EACCES)
			}
			return int64(s.id())
		}
		if flg&ipcCreat == 0 {
			return -int64(ENOENT)
		}
	}
	// newseg()
	if size < shmMin || size > shmMax {
		return -int64(EINVAL)
	}
	pages := pageRoundUp(size) >> 12
	if size > ^uint64(0)-0xfff || t.totPages+pages < t.totPages || t.totPages+pages > shmMax {
		return -int64(ENOSPC)
	}
	if flg&shmHugetlb != 0 {
		return -int64(ENOMEM) // no huge pages reserved (vm.nr_hugepages = 0)
	}
	if flg&shmNoreserve == 0 && !k.enoughMemory(pages) {
		return -int64(ENOMEM)
	}
	if t.inUse >= shmMni {
		return -int64(ENOSPC)
	}
	idx := 0
	for idx < len(t.segs) && t.segs[idx] != nil {
		idx++
	}
	if idx == len(t.segs) {
		t.segs = append(t.segs, nil)
	}
	if idx <= t.lastIdx {
		if t.seq++; t.seq >= ipcSeqMax {
			t.seq = 0
		}
	}
	t.lastIdx = idx
	now := int64(k.realtimeNS() / nsPerSec)
	s := &shmSeg{idx: idx, seq: t.seq, key: key, mode: flg & 0o777, size: size, ctime: now,
		cpid: p.PID, uid: p.cred.euid, gid: p.cred.egid, cuid: p.cred.euid, cgid: p.cred.egid}
	s.file = k.newShmFile(size)
	s.file.ino.sysv = s
	s.file.ino.name = fmt.Sprintf("/SYSV%08x (deleted)", uint32(key))
	s.file.name = s.file.ino.name
	t.segs[idx] = s
	t.inUse++
	t.totPages += pages
	return int64(s.id())
}

// shmat(shmid, shmaddr, shmflg). Linux's do_shmat().
func sysShmat(k *Kernel, p *Process, a *[6]uint64) int64 {
	id, addr, flg := int32(a[0]), a[1], a[2]
	if id < 0 {
		return -int64(EINVAL)
	}
	if addr != 0 {
		if addr&0xfff != 0 { // SHMLBA is the page size on x86
			if flg&shmRnd == 0 {
				return -int64(EINVAL)
			}
			if addr &^= 0xfff; addr == 0 && flg&shmRemap != 0 {
				return -int64(EINVAL)
			}
		}
	} else if flg&shmRemap != 0 {
		return -int64(EINVAL)
	}
	prot, acc := ProtRead|ProtWrite, uint32(0o666)
	if flg&shmRdonly != 0 {
		prot, acc = ProtRead, 0o444
	}
	if flg&shmExec != 0 {
		prot |= ProtExec
		acc |= 0o111
	}
	s := k.shmTable().byID(id)
	if s == nil {
		return -int64(EINVAL)
	}
	if !ipcPerms(p, s, acc) {
		return -int64(EACCES)
	}
	length := pageRoundUp(s.size)
	if addr != 0 && flg&shmRemap == 0 {
		if addr+s.size < addr || p.mm.intersects(addr, addr+length) {
			return -int64(EINVAL)
		}
	}
	if p.mm.denyWriteExec(prot, prot) {
		return -int64(EACCES) // PR_SET_MDWE (prctl.go)
	}
	r := mmapRequest{addr: addr, length: length, prot: prot, fixed: addr != 0, file: s.file,
		flags: VMShared | p.mm.defFlags}
	if !p.mlockFutureOK(r.flags, length) {
		return -int64(EAGAIN)
	}
	r.populate = r.flags&VMLocked != 0 && r.flags&VMLockOnFault == 0
	if flg&shmRdonly != 0 {
		r.flags |= VMDenyWrite
	}
	got, e := k.mmapRegion(p, r, nil)
	if e != 0 {
		return -int64(e)
	}
	return int64(got)
}

// shmdt(shmaddr): unmaps the segment attached at shmaddr, with the pieces of it mprotect or
// munmap left, up to the segment's size. Linux's ksys_shmdt().
func sysShmdt(k *Kernel, p *Process, a *[6]uint64) int64 {
	addr := a[0]
	if addr&0xfff != 0 {
		return -int64(EINVAL)
	}
	mm := p.mm
	attached := func(v *VMA) bool {
		f := v.file()
		return f != nil && f.ino != nil && f.ino.sysv != nil && v.Start >= addr && (v.Start-addr)>>12 == v.Off>>12
	}
	var file *File
	var limit uint64
	i := mm.index(addr)
	for ; i < len(mm.vmas); i++ {
		if v := mm.vmas[i]; attached(v) {
			file, limit = v.file(), addr+pageRoundUp(v.file().ino.sysv.size)
			k.unmapRange(mm, v.Start, v.End)
			break
		}
	}
	if file == nil {
		return -int64(EINVAL)
	}
	for i = mm.index(addr); i < len(mm.vmas) && mm.vmas[i].End <= limit; {
		if v := mm.vmas[i]; attached(v) && v.file() == file {
			k.unmapRange(mm, v.Start, v.End)
			continue
		}
		i++
	}
	return 0
}

// shmOpened and shmDetached keep a segment's attach and detach times and last PID as an
// area is made (attach, split, fork) or closed (detach, munmap, exit): Linux's shm_open()
// and shm_close(). The last detach of a removed segment destroys it.
func (k *Kernel) shmOpened(s *shmSeg) {
	s.atime = int64(k.realtimeNS() / nsPerSec)
	if k.cur != nil {
		s.lpid = k.cur.proc.PID
	}
}

func (k *Kernel) shmDetached(s *shmSeg) {
	s.dtime = int64(k.realtimeNS() / nsPerSec)
	if k.cur != nil {
		s.lpid = k.cur.proc.PID
	}
	if s.mode&shmDest != 0 && s.nattch() == 0 {
		k.shmDestroy(s)
	}
}

// shmDestroy removes s from the table and drops the table's reference to its object.
func (k *Kernel) shmDestroy(s *shmSeg) {
	t := k.shmTable()
	t.segs[s.idx] = nil
	for len(t.segs) > 0 && t.segs[len(t.segs)-1] == nil {
		t.segs = t.segs[:len(t.segs)-1]
	}
	t.inUse--
	t.totPages -= pageRoundUp(s.size) >> 12
	k.shmUnlock(s)
	f := s.file
	f.ino.sysv = nil
	f.put()
}

// shmUnlock gives back the locked pages s charged (SHM_UNLOCK, or its destruction).
func (k *Kernel) shmUnlock(s *shmSeg) {
	if s.mode&shmLocked != 0 {
		t := k.shmTable()
		t.locked[uint32(s.lockOwner)] -= s.lockedPages
		s.mode &^= shmLocked
		s.lockedPages = 0
	}
}

// shmctl(shmid, cmd, buf). On x86-64 cmd carries no IPC_64 version bit.
func sysShmctl(k *Kernel, p *Process, a *[6]uint64) int64 {
	id, cmd, buf := int32(a[0]), int32(a[1]), a[2]
	if cmd < 0 || id < 0 {
		return -int64(EINVAL)
	}
	t := k.shmTable()
	switch cmd {
	case ipcInfo:
		var b [72]byte // struct shminfo64
		le := binary.LittleEndian
		le.PutUint64(b[0:], shmMax)
		le.PutUint64(b[8:], shmMin)
		le.PutUint64(b[16:], shmMni)
		le.PutUint64(b[24:], shmMni)
		le.PutUint64(b[32:], shmMax)
		if _, ok := k.copyOut(p, buf, b[:]); !ok {
			return -int64(EFAULT)
		}
		return t.maxIdx()
	case shmInfoCmd:
		var b [48]byte // struct shm_info
		le := binary.LittleEndian
		le.PutUint32(b[0:], uint32(t.inUse))
		var rss, swp uint64
		for _, s := range t.segs {
			if s != nil {
				rss += uint64(len(s.file.ino.pages))
				swp += uint64(len(s.file.ino.swapped))
			}
		}
		le.PutUint64(b[8:], t.totPages)
		le.PutUint64(b[16:], rss)
		le.PutUint64(b[24:], swp)
		if _, ok := k.copyOut(p, buf, b[:]); !ok {
			return -int64(EFAULT)
		}
		return t.maxIdx()
	case ipcStat, shmStatCmd, shmStatAny:
		var s *shmSeg
		if cmd == ipcStat {
			s = t.byID(id)
		} else if idx := int(id) & (1<<ipcSeqShift - 1); idx < len(t.segs) {
			s = t.segs[idx] // SHM_STAT takes an index (ipcid_to_idx() of it)
		}
		if s == nil {
			return -int64(EINVAL)
		}
		if cmd != shmStatAny && !ipcPerms(p, s, 0o444) {
			return -int64(EACCES)
		}
		if _, ok := k.copyOut(p, buf, k.shmidDS(s)); !ok {
			return -int64(EFAULT)
		}
		if cmd == ipcStat {
			return 0
		}
		return int64(s.id())
	case ipcSet, ipcRmid:
		var in [112]byte
		if cmd == ipcSet {
			if _, ok := k.copyIn(p, buf, in[:]); !ok {
				return -int64(EFAULT)
			}
		}
		s := t.byID(id)
		if s == nil {
			return -int64(EINVAL)
		}
		c := &p.cred
		if c.euid != s.cuid && c.euid != s.uid && !c.capable(capSysAdm) {
			return -int64(EPERM)
		}
		if cmd == ipcRmid {
			s.key = ipcPrivate // ipc_set_key_private()
			s.mode |= shmDest
			if s.nattch() == 0 {
				k.shmDestroy(s)
			}
			return 0
		}
		le := binary.LittleEndian
		uid, gid := le.Uint32(in[4:]), le.Uint32(in[8:])
		if uid == 0xffffffff || gid == 0xffffffff {
			return -int64(EINVAL) // ipc_update_perm(): not a valid ID
		}
		s.uid, s.gid = uid, gid
		s.mode = s.mode&^0o777 | le.Uint32(in[20:])&0o777
		s.ctime = int64(k.realtimeNS() / nsPerSec)
		return 0
	case shmLockCmd, shmUnlockCmd:
		s := t.byID(id)
		if s == nil {
			return -int64(EINVAL)
		}
		c := &p.cred
		if !c.capable(capIpcLock) {
			if c.euid != s.uid && c.euid != s.cuid {
				return -int64(EPERM)
			}
			if cmd == shmLockCmd && p.rlimits[rlimitMemlock].cur == 0 {
				return -int64(EPERM)
			}
		}
		if cmd == shmUnlockCmd {
			k.shmUnlock(s)
			return 0
		}
		if s.mode&shmLocked != 0 {
			return 0
		}
		// user_shm_lock(): the user's SHM_LOCK'd pages stay within RLIMIT_MEMLOCK.
		pages := pageRoundUp(s.size) >> 12
		limit := p.rlimits[rlimitMemlock].cur
		if limit != rlimInfinity && t.locked[c.ruid]+pages > limit>>12 && !c.capable(capIpcLock) {
			return -int64(ENOMEM)
		}
		t.locked[c.ruid] += pages
		s.mode |= shmLocked
		s.lockedPages, s.lockOwner = pages, uint64(c.ruid)
		return 0
	}
	return -int64(EINVAL)
}

// shmidDS is s as struct shmid64_ds (x86-64, 112 bytes).
func (k *Kernel) shmidDS(s *shmSeg) []byte {
	b := make([]byte, 112)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(s.key))
	le.PutUint32(b[4:], s.uid)
	le.PutUint32(b[8:], s.gid)
	le.PutUint32(b[12:], s.cuid)
	le.PutUint32(b[16:], s.cgid)
	le.PutUint32(b[20:], s.mode)
	le.PutUint16(b[24:], uint16(s.seq))
	le.PutUint64(b[48:], s.size)
	le.PutUint64(b[56:], uint64(s.atime))
	le.PutUint64(b[64:], uint64(s.dtime))
	le.PutUint64(b[72:], uint64(s.ctime))
	le.PutUint32(b[80:], uint32(s.cpid))
	le.PutUint32(b[84:], uint32(s.lpid))
	le.PutUint64(b[88:], s.nattch())
	return b
}

// procSysvipcShm is /proc/sysvipc/shm (sysvipc_shm_proc_show()).
func (k *Kernel) procSysvipcShm() []byte {
	var b strings.Builder
	b.WriteString("       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n")
	if k.sysv == nil {
		return []byte(b.String())
	}
	for _, s := range k.sysv.segs {
		if s == nil {
			continue
		}
		fmt.Fprintf(&b, "%10d %10d  %4o %21d %5d %5d  %5d %5d %5d %5d %5d %10d %10d %10d %21d %21d\n",
			s.key, s.id(), s.mode, s.size, s.cpid, s.lpid, s.nattch(), s.uid, s.gid, s.cuid, s.cgid,
			s.atime, s.dtime, s.ctime, uint64(len(s.file.ino.pages))<<12, uint64(len(s.file.ino.swapped))<<12)
	}
	return []byte(b.String())
}
