package minikernel

import (
	"encoding/binary"
	"os"
	"slices"
)

// Credentials: who a process is. Linux's struct cred (include/linux/cred.h) and the
// set*id calls of kernel/sys.c, with the capability rules of security/commoncap.c. The
// first process has the host user's identity and capabilities; children inherit theirs;
// set*id change them by Linux's rules (an unprivileged process may only move among its
// real, effective and saved IDs; CAP_SETUID/CAP_SETGID may set anything), and every place
// that shows an identity (get*id, AT_UID, si_uid, SO_PEERCRED, /proc/PID/status) reads
// these. The host still checks file access as emu's own user: a guest that drops root
// keeps root's access to files (README, "What differs"), but the files it creates are
// given its identity where the host allows it, and chown obeys the guest's identity.

// creds are a process's credentials. groups is never modified in place (a new slice
// replaces it), so creds can be copied as a value.
type creds struct {
	ruid, euid, suid, fsuid uint32
	rgid, egid, sgid, fsgid uint32
	groups                  []uint32 // supplementary groups, sorted
	capEff, capPrm, capInh  uint64
	capBnd, capAmb          uint64
	keepCaps                bool // PR_SET_KEEPCAPS
	noNewPrivs              bool // PR_SET_NO_NEW_PRIVS
}

// Capabilities (include/uapi/linux/capability.h).
const (
	capChown   = 0
	capFowner  = 3
	capKill    = 5
	capSetgid  = 6
	capSetuid  = 7
	capSetpcap = 8
	capIpcLock = 14
	capIpcOwnr = 15
	capSysAdm  = 21
	capSysRes  = 24
	capLast    = 40 // CAP_LAST_CAP (CAP_CHECKPOINT_RESTORE)
	capFullSet = 1<<(capLast+1) - 1
)

// hostCreds are the credentials emu itself runs with: the first process's.
func hostCreds() creds {
	c := creds{ruid: uint32(os.Getuid()), euid: uint32(os.Geteuid()),
		rgid: uint32(os.Getgid()), egid: uint32(os.Getegid())}
	c.suid, c.fsuid, c.sgid, c.fsgid = c.euid, c.euid, c.egid, c.egid
	gs, _ := os.Getgroups()
	for _, g := range gs {
		c.groups = append(c.groups, uint32(g))
	}
	slices.Sort(c.groups)
	c.groups = slices.Compact(c.groups)
	c.capEff, c.capPrm, c.capInh = hostCapabilities()
	c.capBnd = capFullSet
	return c
}

// capable reports whether the credentials hold capability cap in their effective set.
func (c *creds) capable(cap uint) bool { return c.capEff&(1<<cap) != 0 }

// inGroup reports whether gid is the process's filesystem group or a supplementary one
// (in_group_p).
func (c *creds) inGroup(gid uint32) bool {
	_, found := slices.BinarySearch(c.groups, gid)
	return gid == c.fsgid || found
}

// fixSetuid adjusts the capability sets after a UID change from old, as
// cap_emulate_setxuid() does: leaving root for good (no real, effective or saved UID 0)
// clears the permitted and effective sets unless keepcaps; an effective UID leaving 0
// clears the effective set, and one coming back to 0 restores it from the permitted set.
func (c *creds) fixSetuid(old *creds) {
	if (old.ruid == 0 || old.euid == 0 || old.suid == 0) && c.ruid != 0 && c.euid != 0 && c.suid != 0 {
		if !c.keepCaps {
			c.capPrm, c.capEff = 0, 0
		}
		c.capAmb = 0
	}
	if old.euid == 0 && c.euid != 0 {
		c.capEff = 0
	}
	if old.euid != 0 && c.euid == 0 {
		c.capEff = c.capPrm
	}
	// The filesystem UID going to or from 0 drops or restores the file capabilities.
	const fsMask = 1<<capChown | 1<<1 | 1<<2 | 1<<capFowner | 1<<4 | 1<<9 | 1<<27 // CAP_FS_MASK
	if old.fsuid == 0 && c.fsuid != 0 {
		c.capEff &^= fsMask
	}
	if old.fsuid != 0 && c.fsuid == 0 {
		c.capEff |= c.capPrm & fsMask
	}
}

// idArg reads a uid_t or gid_t argument: -1 (as 32 bits) means "unchanged".
func idArg(v uint64) (uint32, bool) { return uint32(v), uint32(v) != 0xffffffff }

func sysGetuid(k *Kernel, p *Process, a *[6]uint64) int64  { return int64(p.cred.ruid) }
func sysGeteuid(k *Kernel, p *Process, a *[6]uint64) int64 { return int64(p.cred.euid) }
func sysGetgid(k *Kernel, p *Process, a *[6]uint64) int64  { return int64(p.cred.rgid) }
func sysGetegid(k *Kernel, p *Process, a *[6]uint64) int64 { return int64(p.cred.egid) }

// getresuid(ruid, euid, suid) and getresgid: the real, effective and saved IDs.
func sysGetresuid(k *Kernel, p *Process, a *[6]uint64) int64 {
	return putIDs(k, p, a, p.cred.ruid, p.cred.euid, p.cred.suid)
}

func sysGetresgid(k *Kernel, p *Process, a *[6]uint64) int64 {
	return putIDs(k, p, a, p.cred.rgid, p.cred.egid, p.cred.sgid)
}

func putIDs(k *Kernel, p *Process, a *[6]uint64, ids ...uint32) int64 {
	for i, id := range ids {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], id)
		if _, ok := k.copyOut(p, a[i], b[:]); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// ids is one family of IDs (user or group) of a creds, for the rules both share.
type ids struct {
	r, e, s, fs *uint32
	cap         uint
}

func (c *creds) uids() ids { return ids{&c.ruid, &c.euid, &c.suid, &c.fsuid, capSetuid} }
func (c *creds) gids() ids { return ids{&c.rgid, &c.egid, &c.sgid, &c.fsgid, capSetgid} }

// setCreds installs new credentials for p, after a change of user IDs when uid.
func (p *Process) setCreds(c creds, uid bool) {
	if uid {
		c.fixSetuid(&p.cred)
	}
	p.cred = c
}

// setuid(uid) and setgid(gid): with the capability every ID changes; otherwise the
// effective (and filesystem) ID may become the real or the saved one. Linux's __sys_setuid().
func setXid(p *Process, v uint64, uid bool) int64 {
	id, ok := idArg(v)
	if !ok {
		return -int64(EINVAL)
	}
	c := p.cred
	x := c.gids()
	if uid {
		x = c.uids()
	}
	switch {
	case p.cred.capable(x.cap):
		*x.r, *x.e, *x.s, *x.fs = id, id, id, id
	case id == *x.r || id == *x.s:
		*x.e, *x.fs = id, id
	default:
		return -int64(EPERM)
	}
	p.setCreds(c, uid)
	return 0
}

func sysSetuid(k *Kernel, p *Process, a *[6]uint64) int64 { return setXid(p, a[0], true) }
func sysSetgid(k *Kernel, p *Process, a *[6]uint64) int64 { return setXid(p, a[0], false) }

// setreuid(ruid, euid) and setregid: the real ID may become the real or effective one, the
// effective ID any of the three; setting the real ID, or an effective ID other than the old
// real one, makes the saved ID the new effective ID. Linux's __sys_setreuid().
func setReXid(p *Process, rv, ev uint64, uid bool) int64 {
	c := p.cred
	x := c.gids()
	if uid {
		x = c.uids()
	}
	old := [3]uint32{*x.r, *x.e, *x.s}
	capable := p.cred.capable(x.cap)
	r, setR := idArg(rv)
	e, setE := idArg(ev)
	if setR {
		if r != old[0] && r != old[1] && !capable {
			return -int64(EPERM)
		}
		*x.r = r
	}
	if setE {
		if e != old[0] && e != old[1] && e != old[2] && !capable {
			return -int64(EPERM)
		}
		*x.e = e
	}
	if setR || (setE && e != old[0]) {
		*x.s = *x.e
	}
	*x.fs = *x.e
	p.setCreds(c, uid)
	return 0
}

func sysSetreuid(k *Kernel, p *Process, a *[6]uint64) int64 { return setReXid(p, a[0], a[1], true) }
func sysSetregid(k *Kernel, p *Process, a *[6]uint64) int64 { return setReXid(p, a[0], a[1], false) }

// setresuid(ruid, euid, suid) and setresgid: without the capability each new ID must be
// one of the three old ones. Linux's __sys_setresuid().
func setResXid(p *Process, v [3]uint64, uid bool) int64 {
	c := p.cred
	x := c.gids()
	if uid {
		x = c.uids()
	}
	old := [3]uint32{*x.r, *x.e, *x.s}
	capable := p.cred.capable(x.cap)
	for i, dst := range []*uint32{x.r, x.e, x.s} {
		id, set := idArg(v[i])
		if !set {
			continue
		}
		if !capable && id != old[0] && id != old[1] && id != old[2] {
			return -int64(EPERM)
		}
		*dst = id
	}
	*x.fs = *x.e
	p.setCreds(c, uid)
	return 0
}

func sysSetresuid(k *Kernel, p *Process, a *[6]uint64) int64 {
	return setResXid(p, [3]uint64{a[0], a[1], a[2]}, true)
}

func sysSetresgid(k *Kernel, p *Process, a *[6]uint64) int64 {
	return setResXid(p, [3]uint64{a[0], a[1], a[2]}, false)
}

// setfsuid(uid) and setfsgid: the filesystem ID becomes uid when that is one of the real,
// effective, saved or current filesystem IDs, or with the capability. The old value is
// returned whatever happens, as Linux does (an invalid ID changes nothing).
func setFsXid(p *Process, v uint64, uid bool) int64 {
	c := p.cred
	x := c.gids()
	if uid {
		x = c.uids()
	}
	old := *x.fs
	id := uint32(v)
	if id != 0xffffffff && (id == *x.r || id == *x.e || id == *x.s || id == *x.fs || p.cred.capable(x.cap)) {
		*x.fs = id
		p.setCreds(c, uid)
	}
	return int64(old)
}

func sysSetfsuid(k *Kernel, p *Process, a *[6]uint64) int64 { return setFsXid(p, a[0], true) }
func sysSetfsgid(k *Kernel, p *Process, a *[6]uint64) int64 { return setFsXid(p, a[0], false) }

// ngroupsMax is NGROUPS_MAX.
const ngroupsMax = 65536

// getgroups(size, list): size 0 asks how many; a size too small for them is EINVAL.
func sysGetgroups(k *Kernel, p *Process, a *[6]uint64) int64 {
	gs := p.cred.groups
	size := int64(int32(a[0]))
	switch {
	case size < 0:
		return -int64(EINVAL)
	case size == 0:
		return int64(len(gs))
	case size < int64(len(gs)):
		return -int64(EINVAL)
	}
	b := make([]byte, 4*len(gs))
	for i, g := range gs {
		binary.LittleEndian.PutUint32(b[4*i:], g)
	}
	if _, ok := k.copyOut(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	return int64(len(gs))
}

// setgroups(size, list): CAP_SETGID replaces the supplementary groups.
func sysSetgroups(k *Kernel, p *Process, a *[6]uint64) int64 {
	size := int64(int32(a[0]))
	if size < 0 || size > ngroupsMax {
		return -int64(EINVAL)
	}
	if !p.cred.capable(capSetgid) {
		return -int64(EPERM)
	}
	b := make([]byte, 4*size)
	if _, ok := k.copyIn(p, a[1], b); !ok && size > 0 {
		return -int64(EFAULT)
	}
	gs := make([]uint32, size)
	for i := range gs {
		gs[i] = binary.LittleEndian.Uint32(b[4*i:])
		if gs[i] == 0xffffffff {
			return -int64(EINVAL)
		}
	}
	slices.Sort(gs)
	p.cred.groups = gs
	return 0
}

// Capability header versions (include/uapi/linux/capability.h).
const (
	capV1 = 0x19980330
	capV2 = 0x20071026
	capV3 = 0x20080522
)

// capget(hdrp, datap): the capability sets of a process (pid 0: the caller). An unknown
// version is EINVAL, with the preferred version written back into the header.
func sysCapget(k *Kernel, p *Process, a *[6]uint64) int64 {
	words, q, e := k.capHeader(p, a[0])
	if a[1] == 0 && e == EINVAL {
		return 0 // asking only which version the kernel wants: it is in the header now
	}
	if e != 0 {
		return -int64(e)
	}
	if a[1] == 0 {
		return 0
	}
	c := &q.cred
	b := make([]byte, 12*words)
	for i := 0; i < words; i++ {
		le.PutUint32(b[12*i:], uint32(c.capEff>>(32*i)))
		le.PutUint32(b[12*i+4:], uint32(c.capPrm>>(32*i)))
		le.PutUint32(b[12*i+8:], uint32(c.capInh>>(32*i)))
	}
	if _, ok := k.copyOut(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// capHeader reads a capget/capset header: the number of 32-bit words of each set the
// version carries, and the process pid names.
func (k *Kernel) capHeader(p *Process, va uint64) (int, *Process, Errno) {
	var h [8]byte
	if _, ok := k.copyIn(p, va, h[:]); !ok {
		return 0, nil, EFAULT
	}
	words := 0
	switch le.Uint32(h[:]) {
	case capV1:
		words = 1
	case capV2, capV3:
		words = 2
	default:
		le.PutUint32(h[:], capV3)
		if _, ok := k.copyOut(p, va, h[:4]); !ok {
			return 0, nil, EFAULT
		}
		return 0, nil, EINVAL
	}
	pid := int32(le.Uint32(h[4:]))
	if pid < 0 {
		return 0, nil, EINVAL
	}
	q := p
	if pid != 0 {
		if q = k.procs[int(pid)]; q == nil || q.exited {
			return 0, nil, ESRCH
		}
	}
	return words, q, 0
}

// capset(hdrp, datap): the caller sets its own capability sets, within Linux's rules
// (cap_capset): the new permitted set within the old, the effective set within the new
// permitted, the inheritable set within old inheritable plus permitted (or the bounding set
// with CAP_SETPCAP).
func sysCapset(k *Kernel, p *Process, a *[6]uint64) int64 {
	words, q, e := k.capHeader(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if q != p {
		return -int64(EPERM)
	}
	b := make([]byte, 12*words)
	if _, ok := k.copyIn(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	var eff, prm, inh uint64
	for i := 0; i < words; i++ {
		eff |= uint64(le.Uint32(b[12*i:])) << (32 * i)
		prm |= uint64(le.Uint32(b[12*i+4:])) << (32 * i)
		inh |= uint64(le.Uint32(b[12*i+8:])) << (32 * i)
	}
	eff, prm, inh = eff&capFullSet, prm&capFullSet, inh&capFullSet
	c := p.cred
	limit := c.capInh | c.capPrm
	if c.capable(capSetpcap) {
		limit = c.capInh | c.capBnd
	}
	switch {
	case inh&^limit != 0, inh&^(c.capInh|c.capBnd) != 0:
		return -int64(EPERM)
	case prm&^c.capPrm != 0:
		return -int64(EPERM)
	case eff&^prm != 0:
		return -int64(EPERM)
	}
	c.capEff, c.capPrm, c.capInh = eff, prm, inh
	c.capAmb &= prm & inh
	p.cred = c
	return 0
}
