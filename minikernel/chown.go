package minikernel

import (
	"os"
	"sync"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// File ownership: chown, fchown, lchown and fchownat, applied to the host file where the
// host allows it (EPERM where it does not). When the guest's identity is not emu's own (a
// guest that changed its IDs, creds.go), the guest's right to the change is checked first,
// as Linux's chown_ok() and chgrp_ok() do; the host then has the last word. Files the guest
// creates get its filesystem IDs, where these differ from emu's and the host lets emu give
// them away.

// chown(path, owner, group) follows a final symbolic link; lchown does not.
func sysChown(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], a[2], 0}
	return sysFchownat(k, p, &b)
}

func sysLchown(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], a[2], atSymlinkNofollow}
	return sysFchownat(k, p, &b)
}

// fchown(fd, owner, group): any open descriptor but an O_PATH one. A pipe or another object
// of the kernel's own has no host file: its owner is the guest's to set.
func sysFchown(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	if f.hfd < 0 {
		return 0
	}
	return -int64(k.chownFD(p, f.hfd, a[1], a[2]))
}

// fchownat(dirfd, path, owner, group, flags) with AT_SYMLINK_NOFOLLOW and AT_EMPTY_PATH.
func sysFchownat(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[4]
	if flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return -int64(EINVAL)
	}
	name, e := k.copyInString(p, a[1], pathMax)
	if e != 0 {
		return -int64(e)
	}
	t, e := k.resolveAt(p, a[0], name, flags)
	if e != 0 {
		return -int64(e)
	}
	defer t.release()
	if t.fd < 0 {
		return 0 // a pipe or stream
	}
	return -int64(k.chownFD(p, t.fd, a[2], a[3]))
}

// chownFD changes the owner and group (-1: unchanged) of the host file open on fd (any kind
// of descriptor) on behalf of p.
func (k *Kernel) chownFD(p *Process, fd int, uv, gv uint64) Errno {
	uid, setU := idArg(uv)
	gid, setG := idArg(gv)
	if !p.cred.sameAsHost() {
		var st hostfs.Stat
		if e := hostFstat(fd, &st); e != 0 {
			return e
		}
		if !chownOK(&p.cred, &st, uid, setU, gid, setG) {
			return EPERM
		}
	}
	return hostFchownat(fd, "", uv, gv, atEmptyPath)
}

// chownOK reports whether c may give the file st describes owner uid (when setU) and group
// gid (when setG): the owner may keep its UID and move the file among its groups;
// CAP_CHOWN may do anything. Linux's chown_ok() and chgrp_ok().
func chownOK(c *creds, st *hostfs.Stat, uid uint32, setU bool, gid uint32, setG bool) bool {
	if c.capable(capChown) {
		return true
	}
	owner := c.fsuid == st.Uid
	if setU && !(owner && uid == st.Uid) {
		return false
	}
	if setG && !(owner && (gid == st.Gid || c.inGroup(gid))) {
		return false
	}
	return true
}

// sameAsHost reports whether the credentials are emu's own, so the host decides exactly as
// Linux would for the guest.
func (c *creds) sameAsHost() bool {
	return c.fsuid == uint32(os.Geteuid()) && c.fsgid == uint32(os.Getegid()) &&
		c.capEff == hostCredsCache().capEff
}

// hostCredsCache returns emu's own credentials, read once, at first use.
var hostCredsCache = sync.OnceValue(hostCreds)

// ownNew gives a file p has just created, open on fd, p's filesystem IDs where they are not
// emu's own: the owner, and the group unless the host chose the directory's (set-group-ID
// directory). Failures are ignored: the host keeps its own choice.
func (k *Kernel) ownNew(p *Process, fd int, nofollowName string, dirfd int) {
	if p == nil {
		return
	}
	c := &p.cred
	heuid, hegid := uint32(os.Geteuid()), uint32(os.Getegid())
	if c.fsuid == heuid && c.fsgid == hegid {
		return
	}
	var st hostfs.Stat
	var e Errno
	if fd >= 0 {
		e = hostFstat(fd, &st)
	} else {
		e = hostFstatat(dirfd, nofollowName, &st, atSymlinkNofollow)
	}
	if e != 0 {
		return
	}
	uv, gv := uint64(0xffffffff), uint64(0xffffffff)
	if c.fsuid != heuid && st.Uid == heuid {
		uv = uint64(c.fsuid)
	}
	if c.fsgid != hegid && st.Gid == hegid {
		gv = uint64(c.fsgid)
	}
	if fd >= 0 {
		_ = hostFchownat(fd, "", uv, gv, atEmptyPath)
	} else {
		_ = hostFchownat(dirfd, nofollowName, uv, gv, atSymlinkNofollow)
	}
}

// hostFchownat is fchownat(dirfd, path, owner, group, flags) with Linux's AT_EMPTY_PATH
// (path "": the descriptor's own file) and AT_SYMLINK_NOFOLLOW.
func hostFchownat(dirfd int, path string, uid, gid uint64, flags int) Errno {
	u, g := int(int32(uint32(uid))), int(int32(uint32(gid)))
	if path == "" && flags&atEmptyPath != 0 {
		return Errno(hostfs.Fchown(dirfd, u, g))
	}
	return Errno(hostfs.Fchownat(dirfd, path, u, g, flags&atSymlinkNofollow == 0))
}
