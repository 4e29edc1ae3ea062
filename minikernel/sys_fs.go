package minikernel

import (
	"encoding/binary"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// System calls on names: stat, access, mkdir, unlink, rename, readlink, symlink, link,
// chdir, getcwd, chmod, truncate, umask, utimensat. Linux's fs/namei.c, fs/stat.c,
// fs/open.c and fs/utimes.c. Each resolves its path in the guest's namespace (namei.go):
// calls on a file open it with O_PATH and act on the descriptor; calls on a name open the
// parent directory and act on the last component. The host decides what its file system
// decides (ENOENT, EEXIST, ENOTEMPTY, EACCES, EXDEV, ...); the cases Linux settles from the
// path's shape alone ("." or ".." last, a trailing slash) are settled here, before the host
// is asked, so that no walk ever leaves the root.

// stat(path, statbuf) and lstat.
func sysStat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], 0}
	return sysNewfstatat(k, p, &b)
}

func sysLstat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], atSymlinkNofollow}
	return sysNewfstatat(k, p, &b)
}

// emptyPathFile returns the file an AT_EMPTY_PATH call with an empty path acts on: dirfd's
// (any kind of file), or the working directory for AT_FDCWD (file nil, abs set).
func (k *Kernel) emptyPathFile(p *Process, dirfd uint64) (*File, gpath, Errno) {
	if int32(dirfd) == atFdcwd {
		return nil, gpath{start: p.fs.cwd.fd, name: "."}, 0
	}
	f := fdArg(p, dirfd)
	if f == nil {
		return nil, gpath{}, EBADF
	}
	return f, gpath{}, 0
}

// atTarget is the file a *at() call acts on: a host descriptor for it, or, for a file with
// none (a pipe, a standard stream), the open file itself with fd -1.
type atTarget struct {
	file *File
	fd   int
	own  bool // fd was opened for the call: release closes it
}

func (t atTarget) release() {
	if t.own {
		hostfs.Close(t.fd)
	}
}

// resolveAt finds what dirfd and name denote for a call honouring AT_EMPTY_PATH and
// AT_SYMLINK_NOFOLLOW in flags, as Linux's user_path_at() with LOOKUP_EMPTY does: an empty
// name is ENOENT unless AT_EMPTY_PATH, which makes it dirfd's own file (the working
// directory for AT_FDCWD); any other name is looked up from dirfd. The caller calls
// release on the result.
func (k *Kernel) resolveAt(p *Process, dirfd uint64, name string, flags uint64) (atTarget, Errno) {
	if name == "" {
		if flags&atEmptyPath == 0 {
			return atTarget{fd: -1}, ENOENT
		}
		f, cwd, e := k.emptyPathFile(p, dirfd)
		switch {
		case e != 0:
			return atTarget{fd: -1}, e
		case f != nil:
			return atTarget{file: f, fd: f.hfd}, 0
		}
		fd, e := k.lookupPath(p, cwd, true)
		if e != 0 {
			return atTarget{fd: -1}, e
		}
		return atTarget{fd: fd, own: true}, 0
	}
	abs, e := k.absPath(p, dirfd, name)
	if e != 0 {
		return atTarget{fd: -1}, e
	}
	if pp, ok := k.procPath(p, abs); ok && p != nil {
		return k.procResolveAt(p, pp, flags&atSymlinkNofollow == 0) // procfs.go
	}
	fd, e := k.lookupPath(p, abs, flags&atSymlinkNofollow == 0)
	if e != 0 {
		return atTarget{fd: -1}, e
	}
	return atTarget{fd: fd, own: true}, 0
}

// newfstatat(dirfd, path, statbuf, flags): with AT_EMPTY_PATH and an empty path it is fstat
// of dirfd (glibc's fstat). A regular file the page cache knows reports the guest-visible
// size.
func sysNewfstatat(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[3]
	if flags&^(atSymlinkNofollow|atEmptyPath|atNoAutomount) != 0 {
		return -int64(EINVAL)
	}
	name, e := k.copyInString(p, a[1], pathMax)
	if e != 0 {
		return -int64(e)
	}
	var st hostfs.Stat
	var abs gpath
	if name == "" {
		if flags&atEmptyPath == 0 {
			return -int64(ENOENT)
		}
		f, cwd, e := k.emptyPathFile(p, a[0])
		if e != 0 {
			return -int64(e)
		}
		if f != nil {
			b := [6]uint64{a[0], a[2]}
			return sysFstat(k, p, &b)
		}
		abs = cwd
	} else {
		abs, e = k.absPath(p, a[0], name)
	}
	if e == 0 {
		e = k.statPath(p, abs, flags&atSymlinkNofollow == 0, &st)
	}
	if e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, a[2], statBytes(&st)); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// statPath stats what abs names, following a final symbolic link when follow.
func (k *Kernel) statPath(p *Process, abs gpath, follow bool, st *hostfs.Stat) Errno {
	if pp, ok := k.procPath(p, abs); ok && p != nil {
		return k.procStatPath(p, pp, follow, st) // procfs.go
	}
	l, e := k.lookup(p, abs, follow)
	if e != 0 {
		return e
	}
	defer l.Close()
	if e := hostfs.Fstatat(l.Dir, l.Name, st, l.Follow); e != 0 {
		return Errno(e)
	}
	k.patchSize(st)
	return 0
}

// statx masks and flags (include/uapi/linux/stat.h).
const (
	statxBasicStats = 0x7ff
	statxReserved   = 0x80000000
)

// statx(dirfd, path, flags, mask, statxbuf): the host's struct statx for host files, with
// the guest-visible size; one built from fstat for pipes and the standard streams.
func sysStatx(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags, mask := a[2], uint32(a[3])
	if flags&^(atSymlinkNofollow|atNoAutomount|atEmptyPath|atStatxSyncType) != 0 ||
		flags&atStatxSyncType == atStatxSyncType || mask&statxReserved != 0 {
		return -int64(EINVAL)
	}
	name, e := k.copyInString(p, a[1], pathMax)
	if e != 0 {
		return -int64(e)
	}
	var buf [256]byte
	t, e := k.resolveAt(p, a[0], name, flags)
	if e != 0 {
		return -int64(e)
	}
	defer t.release()
	var st hostfs.Stat
	if t.fd < 0 {
		if e := k.statOf(t.file, &st); e != 0 {
			return -int64(e)
		}
		statxFromStat(&st, &buf)
	} else {
		switch e := hostfs.Statx(t.fd, int(flags&atStatxSyncType), mask, &buf); e {
		case 0:
		case hostfs.ENOSYS: // a host without statx: the basic fields, from stat
			if e := hostFstat(t.fd, &st); e != 0 {
				return -int64(e)
			}
			statxFromStat(&st, &buf)
		default:
			return -int64(e)
		}
		if hostFstat(t.fd, &st) == 0 {
			k.patchSize(&st)
			binary.LittleEndian.PutUint64(buf[40:], uint64(st.Size))
		}
	}
	if _, ok := k.copyOut(p, a[4], buf[:]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// statxFromStat lays out a struct statx with the basic fields of st.
func statxFromStat(st *hostfs.Stat, b *[256]byte) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], statxBasicStats)
	le.PutUint32(b[4:], uint32(st.Blksize))
	le.PutUint32(b[16:], uint32(st.Nlink))
	le.PutUint32(b[20:], st.Uid)
	le.PutUint32(b[24:], st.Gid)
	le.PutUint16(b[28:], uint16(st.Mode))
	le.PutUint64(b[32:], st.Ino)
	le.PutUint64(b[40:], uint64(st.Size))
	le.PutUint64(b[48:], uint64(st.Blocks))
	for i, ts := range []hostfs.Timespec{st.Atim, {}, st.Ctim, st.Mtim} {
		le.PutUint64(b[64+16*i:], uint64(ts.Sec))
		le.PutUint32(b[72+16*i:], uint32(ts.Nsec))
	}
	le.PutUint32(b[128:], uint32(st.Rdev>>8&0xfff))
	le.PutUint32(b[132:], uint32(st.Rdev&0xff|st.Rdev>>12&^0xff))
	le.PutUint32(b[136:], uint32(st.Dev>>8&0xfff))
	le.PutUint32(b[140:], uint32(st.Dev&0xff|st.Dev>>12&^0xff))
}

// access(path, mode), faccessat(dirfd, path, mode) and faccessat2(dirfd, path, mode,
// flags): the host decides, for the file the path names in the guest's namespace.
func sysAccess(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], 0}
	return sysFaccessat2(k, p, &b)
}

func sysFaccessat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], a[1], a[2], 0}
	return sysFaccessat2(k, p, &b)
}

func sysFaccessat2(k *Kernel, p *Process, a *[6]uint64) int64 {
	mode, flags := a[2], a[3]
	if mode&^7 != 0 || flags&^(atEaccess|atSymlinkNofollow|atEmptyPath) != 0 {
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
		return 0 // a pipe or stream: its owner may do anything with it
	}
	return -int64(hostfs.AccessFd(t.fd, uint32(mode), flags&atEaccess != 0))
}

// unlink(path), rmdir(path) and unlinkat(dirfd, path, flags): the host removes the name;
// an open or mapped file lives on (in the page cache and behind its host descriptors), as
// on Linux. Linux's do_unlinkat() and do_rmdir().
func sysUnlink(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], 0}
	return sysUnlinkat(k, p, &b)
}

func sysRmdir(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], atRemovedir}
	return sysUnlinkat(k, p, &b)
}

func sysUnlinkat(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[2]&^atRemovedir != 0 {
		return -int64(EINVAL)
	}
	abs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	rmdir := a[2]&atRemovedir != 0
	r, e := k.openParent(abs)
	if e != 0 {
		return -int64(e)
	}
	defer r.close()
	switch {
	case r.kind == lastRoot && rmdir:
		return -int64(EBUSY)
	case r.kind == lastDot && rmdir:
		return -int64(EINVAL)
	case r.kind == lastDotDot && rmdir:
		return -int64(ENOTEMPTY)
	case r.kind != lastNorm:
		return -int64(EISDIR)
	case !rmdir && r.slash:
		// "name/": ENOENT when absent, EISDIR for a directory, else ENOTDIR.
		var st hostfs.Stat
		if e := hostFstatat(r.fd, r.name, &st, atSymlinkNofollow); e != 0 {
			return -int64(e)
		}
		if st.IsDir() {
			return -int64(EISDIR)
		}
		return -int64(ENOTDIR)
	}
	return -int64(hostfs.Unlinkat(r.fd, r.name, rmdir))
}

// mkdir(path, mode) and mkdirat(dirfd, path, mode): the new directory gets mode less the
// umask, exactly (the host's own umask is undone when it differs).
func sysMkdir(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1]}
	return sysMkdirat(k, p, &b)
}

func sysMkdirat(k *Kernel, p *Process, a *[6]uint64) int64 {
	abs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	mode := uint32(a[2]) & 0o1777 &^ p.fs.mask() &^ setID
	r, e := k.openParent(abs)
	if e != 0 {
		return -int64(e)
	}
	defer r.close()
	if r.kind != lastNorm {
		return -int64(EEXIST)
	}
	if e := hostfs.Mkdirat(r.fd, r.name, mode); e != 0 {
		return -int64(e)
	}
	if mode&k.hostUmask() != 0 {
		_ = hostfs.Fchmodat(r.fd, r.name, mode, false)
	}
	k.stampCreated(p, r.fd, r.name)
	k.stampFD(r.fd)
	return 0
}

// rename(old, new), renameat(olddirfd, old, newdirfd, new) and renameat2(..., flags) with
// RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT. Linux's do_renameat2().
func sysRename(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], fdcwdArg, a[1], 0}
	return sysRenameat2(k, p, &b)
}

func sysRenameat(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], a[1], a[2], a[3], 0}
	return sysRenameat2(k, p, &b)
}

func sysRenameat2(k *Kernel, p *Process, a *[6]uint64) int64 {
	const noReplace, exchange, whiteout = 1, 2, 4
	flags := uint(uint32(a[4]))
	if flags&^(noReplace|exchange|whiteout) != 0 || flags&(noReplace|exchange) == noReplace|exchange ||
		flags&(whiteout|exchange) == whiteout|exchange {
		return -int64(EINVAL)
	}
	oldAbs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	newAbs, e := k.userPathAt(p, a[2], a[3])
	if e != 0 {
		return -int64(e)
	}
	from, e := k.openParent(oldAbs)
	if e != 0 {
		return -int64(e)
	}
	defer from.close()
	to, e := k.openParent(newAbs)
	if e != 0 {
		return -int64(e)
	}
	defer to.close()
	switch {
	case from.kind != lastNorm:
		return -int64(EBUSY)
	case to.kind != lastNorm && flags&noReplace != 0:
		return -int64(EEXIST)
	case to.kind != lastNorm:
		return -int64(EBUSY)
	}
	if from.slash || to.slash {
		// A trailing slash on either name needs the source to be a directory.
		var st hostfs.Stat
		if e := hostFstatat(from.fd, from.name, &st, atSymlinkNofollow); e != 0 {
			return -int64(e)
		}
		if !st.IsDir() {
			return -int64(ENOTDIR)
		}
	}
	return -int64(hostfs.Renameat2(from.fd, from.name, to.fd, to.name, flags))
}

// readlink(path, buf, size) and readlinkat(dirfd, path, buf, size): the text of a symbolic
// link, truncated to size, without a NUL. /proc/self/exe reads as the running program.
func sysReadlink(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], a[2]}
	return sysReadlinkat(k, p, &b)
}

func sysReadlinkat(k *Kernel, p *Process, a *[6]uint64) int64 {
	size := int64(int32(a[3]))
	if size <= 0 {
		return -int64(EINVAL)
	}
	abs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	exe, ok := k.magicExe(p, abs)
	text := exe.name
	if pp, isProc := k.procPath(p, abs); isProc && !ok {
		if hg, out := k.procHostPath(p, pp, false); out {
			abs = hg // a path that leaves /proc through one of its links
		} else {
			t, e := k.procReadlink(p, pp)
			if e != 0 {
				return -int64(e)
			}
			text, ok = t, true
		}
	}
	if !ok {
		l, e := k.lookup(p, abs, false)
		if e != 0 {
			return -int64(e)
		}
		defer l.Close()
		var st hostfs.Stat
		if e := hostfs.Fstatat(l.Dir, l.Name, &st, l.Follow); e != 0 {
			return -int64(e)
		}
		if st.Type() != hostfs.S_IFLNK {
			return -int64(EINVAL)
		}
		var he hostfs.Errno
		if text, he = hostfs.Readlinkat(l.Dir, l.Name); he != 0 {
			return -int64(he)
		}
	}
	b := []byte(text)[:min(int64(len(text)), size)]
	if _, ok := k.copyOut(p, a[2], b); !ok {
		return -int64(EFAULT)
	}
	return int64(len(b))
}

// newName opens the parent of a name about to be created (symlink, link): a name that
// is ".", ".." or "/" exists already (EEXIST); "name/" for a non-directory is ENOENT when
// the name is free and EEXIST when taken.
func (k *Kernel) newName(abs gpath) (parentRef, Errno) {
	r, e := k.openParent(abs)
	if e != 0 {
		return r, e
	}
	if r.kind != lastNorm {
		r.close()
		return r, EEXIST
	}
	if r.slash {
		var st hostfs.Stat
		e := hostFstatat(r.fd, r.name, &st, atSymlinkNofollow)
		r.close()
		if e == 0 {
			return r, EEXIST
		}
		return r, ENOENT
	}
	return r, 0
}

// symlink(target, linkpath) and symlinkat(target, newdirfd, linkpath). The target is
// stored as given; it is resolved (inside the guest's root) when the link is followed.
func sysSymlink(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], fdcwdArg, a[1]}
	return sysSymlinkat(k, p, &b)
}

func sysSymlinkat(k *Kernel, p *Process, a *[6]uint64) int64 {
	target, e := k.userPath(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	abs, e := k.userPathAt(p, a[1], a[2])
	if e != 0 {
		return -int64(e)
	}
	r, e := k.newName(abs)
	if e != 0 {
		return -int64(e)
	}
	defer r.close()
	if e := hostfs.Symlinkat(target, r.fd, r.name); e != 0 {
		return -int64(e)
	}
	k.stampCreated(p, r.fd, r.name)
	k.stampFD(r.fd)
	return 0
}

// link(old, new) and linkat(olddirfd, old, newdirfd, new, flags): a new name for a file;
// with AT_SYMLINK_FOLLOW a final symbolic link in old is followed.
func sysLink(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], fdcwdArg, a[1], 0}
	return sysLinkat(k, p, &b)
}

func sysLinkat(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[4]
	if flags&^(atSymlinkFollow|atEmptyPath) != 0 {
		return -int64(EINVAL)
	}
	if flags&atEmptyPath != 0 {
		return -int64(ENOENT) // linking a descriptor needs CAP_DAC_READ_SEARCH
	}
	oldAbs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	newAbs, e := k.userPathAt(p, a[2], a[3])
	if e != 0 {
		return -int64(e)
	}
	old, e := k.lookup(p, oldAbs, flags&atSymlinkFollow != 0)
	if e != 0 {
		return -int64(e)
	}
	defer old.Close()
	r, e := k.newName(newAbs)
	if e != 0 {
		return -int64(e)
	}
	defer r.close()
	var st hostfs.Stat
	if e := hostfs.Fstatat(old.Dir, old.Name, &st, old.Follow); e != 0 {
		return -int64(e)
	}
	if st.IsDir() {
		return -int64(EPERM) // directories have no hard links
	}
	return -int64(hostfs.Linkat(old.Dir, old.Name, r.fd, r.name, old.Follow))
}

// chdir(path): the directory becomes the working directory, held open (not kept as a
// name), so that renaming it does not move where relative names lead.
func sysChdir(k *Kernel, p *Process, a *[6]uint64) int64 {
	abs, e := k.userPathAt(p, fdcwdArg, a[0])
	if e != 0 {
		return -int64(e)
	}
	if pp, ok := k.procPath(p, abs); ok {
		// A working directory is a host directory: /proc's own are not, so chdir into
		// them is refused (README, "What differs"); a link out of /proc (cwd, root) is
		// followed to where it leads.
		hg, out := k.procHostPath(p, pp, true)
		if !out {
			if _, e := k.procWalk(p, pp, true); e != 0 {
				return -int64(e)
			}
			return -int64(EACCES)
		}
		abs = hg
	}
	fd, e := k.hostOpen(abs, oPath|oDirectory, 0)
	if e != 0 {
		return -int64(e)
	}
	return k.setCwd(p, fd)
}

// setCwd makes the directory open on fd (which it takes) p's working directory, if p may
// search it.
func (k *Kernel) setCwd(p *Process, fd int) int64 {
	if e := hostfs.AccessFd(fd, 1 /* X_OK */, false); e != 0 {
		hostfs.Close(fd)
		return -int64(e)
	}
	p.fs.release()
	p.fs.cwd = &hostDir{fd: fd, refs: 1}
	return 0
}

// getcwd(buf, size): the working directory's path under the root, with its NUL; ERANGE
// when size is too small. A directory no longer under the root (moved out by a host
// process) is "(unreachable)", as Linux's d_path() prefixes such a path.
func sysGetcwd(k *Kernel, p *Process, a *[6]uint64) int64 {
	dir, ok := k.guestPathOf(p.fs.cwd.fd)
	if !ok {
		dir = "(unreachable)/"
	}
	b := append([]byte(dir), 0)
	if uint64(len(b)) > a[1] {
		return -int64(ERANGE)
	}
	if _, ok := k.copyOut(p, a[0], b); !ok {
		return -int64(EFAULT)
	}
	return int64(len(b))
}

// chmod(path, mode) and fchmodat(dirfd, path, mode).
func sysChmod(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1]}
	return sysFchmodat(k, p, &b)
}

func sysFchmodat(k *Kernel, p *Process, a *[6]uint64) int64 {
	abs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	l, e := k.lookup(p, abs, true)
	if e != 0 {
		return -int64(e)
	}
	defer l.Close()
	return -int64(hostfs.Fchmodat(l.Dir, l.Name, uint32(a[2])&0o7777&^setID, l.Follow))
}

// truncate(path, length): as ftruncate on the file the path names, without opening it for
// the guest.
func sysTruncate(k *Kernel, p *Process, a *[6]uint64) int64 {
	abs, e := k.userPathAt(p, fdcwdArg, a[0])
	if e != 0 {
		return -int64(e)
	}
	length := int64(a[1])
	if length < 0 {
		return -int64(EINVAL)
	}
	if exe, ok := k.magicExe(p, abs); ok {
		abs = exe
	}
	fd, e := k.hostOpen(abs, oWronly|oNoctty, 0)
	if e != 0 {
		return -int64(e)
	}
	defer hostfs.Close(fd)
	var st hostfs.Stat
	if e := hostFstat(fd, &st); e != 0 {
		return -int64(e)
	}
	if st.Type() != hostfs.S_IFREG {
		return -int64(EINVAL)
	}
	if textBusy(k.cache.inodes[fileID{dev: st.Dev, ino: st.Ino}]) {
		return -int64(ETXTBSY)
	}
	if e := hostfs.Ftruncate(fd, length); e != 0 {
		return -int64(e)
	}
	k.stampFD(fd)
	if ino, ok := k.cache.inodes[fileID{dev: st.Dev, ino: st.Ino}]; ok {
		k.setSize(ino, uint64(length))
	}
	return 0
}

// umask(mask): set the file-creation mask, return the old one.
func sysUmask(k *Kernel, p *Process, a *[6]uint64) int64 {
	old := p.fs.mask()
	p.fs.umask = uint32(a[0]) & 0o777
	return int64(old)
}

// utimensat(dirfd, path, times, flags): set a file's access and modification times (NULL
// times: now, by the host's clock, as the host stamps every write). A NULL path is
// futimens(dirfd).
func sysUtimensat(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[3]
	if flags&^(atSymlinkNofollow|atEmptyPath) != 0 {
		return -int64(EINVAL)
	}
	var times *[4]int64
	if a[2] != 0 {
		var b [32]byte
		if _, ok := k.copyIn(p, a[2], b[:]); !ok {
			return -int64(EFAULT)
		}
		times = &[4]int64{}
		for i := range times {
			times[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		for _, ns := range []int64{times[1], times[3]} {
			if ns != utimeNow && ns != utimeOmit && (ns < 0 || ns >= nsPerSec) {
				return -int64(EINVAL)
			}
		}
	}
	return k.utimensAt(p, a[0], a[1], times, flags)
}

// utimensAt is utimensat with the times read already (nil: both now).
func (k *Kernel) utimensAt(p *Process, dirfd, path uint64, times *[4]int64, flags uint64) int64 {
	a := [6]uint64{dirfd, path}
	fd := -1
	if a[1] == 0 {
		f := fdArg(p, a[0])
		switch {
		case int32(a[0]) == atFdcwd:
			return -int64(EFAULT)
		case f == nil || f.pathOnly():
			return -int64(EBADF)
		case f.hfd < 0:
			return 0
		}
		fd = f.hfd
	} else {
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
			return 0 // a pipe or stream: its owner may do anything with it
		}
		fd = t.fd
	}
	return -int64(k.setTimes(fd, times))
}

// utimes(path, times) and futimesat(dirfd, path, times): utimensat with two struct timevals
// (microseconds 0..999999, else EINVAL; NULL is now; futimesat with no path acts on dirfd),
// and utime(path, times) with a struct utimbuf (whole seconds). fs/utimes.c.
func sysUtimes(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.futimesat(p, fdcwdArg, a[0], a[1])
}

func sysFutimesat(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.futimesat(p, a[0], a[1], a[2])
}

func (k *Kernel) futimesat(p *Process, dirfd, path, tv uint64) int64 {
	var times *[4]int64
	if tv != 0 {
		var b [32]byte
		if _, ok := k.copyIn(p, tv, b[:]); !ok {
			return -int64(EFAULT)
		}
		times = &[4]int64{}
		for i := 0; i < 2; i++ {
			sec, usec := int64(le.Uint64(b[16*i:])), int64(le.Uint64(b[16*i+8:]))
			if usec < 0 || usec >= 1_000_000 {
				return -int64(EINVAL)
			}
			times[2*i], times[2*i+1] = sec, usec*1000
		}
	}
	return k.utimensAt(p, dirfd, path, times, 0)
}

func sysUtime(k *Kernel, p *Process, a *[6]uint64) int64 {
	var times *[4]int64
	if a[1] != 0 {
		var b [16]byte
		if _, ok := k.copyIn(p, a[1], b[:]); !ok {
			return -int64(EFAULT)
		}
		times = &[4]int64{int64(le.Uint64(b[:])), 0, int64(le.Uint64(b[8:])), 0}
	}
	return k.utimensAt(p, fdcwdArg, a[0], times, 0)
}

// setTimes sets the times of the file open on the host descriptor fd as utimensat does,
// "now" being the guest's clock (clock.go). Setting an explicit time needs the file's
// ownership where "now" needs only write access: when the host refuses the guest's now for
// that reason, the host's own now is set instead.
func (k *Kernel) setTimes(fd int, times *[4]int64) Errno {
	allNow := times == nil || (times[1] == utimeNow && times[3] == utimeNow)
	var orig [4]int64
	if times != nil {
		orig = *times
	}
	e := Errno(hostfs.Futimens(fd, k.guestTimes(times)))
	if allNow && (e == EPERM || e == EACCES) {
		if times != nil {
			times = &orig
		}
		e = Errno(hostfs.Futimens(fd, times))
	}
	return e
}

// statfs(path, buf) and fstatfs(fd, buf): the host's answer for the file system holding
// the file (struct statfs is the same on the host). A pipe or stream is on the kernel's
// pipe file system, which has nothing to report but its type.
func sysStatfs(k *Kernel, p *Process, a *[6]uint64) int64 {
	abs, e := k.userPathAt(p, fdcwdArg, a[0])
	if e != 0 {
		return -int64(e)
	}
	fd, e := k.lookupPath(p, abs, true)
	if e != 0 {
		return -int64(e)
	}
	defer hostfs.Close(fd)
	return k.putStatfs(p, fd, a[1])
}

func sysFstatfs(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil {
		return -int64(EBADF)
	}
	if f.hfd < 0 {
		var b [120]byte
		binary.LittleEndian.PutUint64(b[0:], 0x50495045) // PIPEFS_MAGIC
		binary.LittleEndian.PutUint64(b[8:], 4096)
		binary.LittleEndian.PutUint64(b[64:], 255)
		binary.LittleEndian.PutUint64(b[72:], 4096)
		if _, ok := k.copyOut(p, a[1], b[:]); !ok {
			return -int64(EFAULT)
		}
		return 0
	}
	return k.putStatfs(p, f.hfd, a[1])
}

func (k *Kernel) putStatfs(p *Process, fd int, va uint64) int64 {
	var sf hostfs.Statfs
	if e := hostfs.Fstatfs(fd, &sf); e != 0 {
		return -int64(e)
	}
	if _, ok := k.copyOut(p, va, sf.Bytes()); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// mknod(path, mode, dev) and mknodat(dirfd, path, mode, dev): a FIFO, socket or regular
// file, with mode less the umask (and never set-ID). A directory's mode is EPERM, an
// unknown type EINVAL, as in Linux's may_mknod(). A device node needs CAP_MKNOD, which no
// guest has, so it is EPERM once the name is known to be free (vfs_mknod()), whether or
// not emu itself could make one: the guest must not reach a host device it was not given.
// A whiteout (a character device 0:0) needs no privilege, as on Linux.
func sysMknod(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{fdcwdArg, a[0], a[1], a[2]}
	return sysMknodat(k, p, &b)
}

func sysMknodat(k *Kernel, p *Process, a *[6]uint64) int64 {
	mode := uint32(a[2])
	switch mode & hostfs.S_IFMT {
	case 0:
		mode |= hostfs.S_IFREG
	case hostfs.S_IFREG, hostfs.S_IFCHR, hostfs.S_IFBLK, hostfs.S_IFIFO, hostfs.S_IFSOCK:
	case hostfs.S_IFDIR:
		return -int64(EPERM)
	default:
		return -int64(EINVAL)
	}
	abs, e := k.userPathAt(p, a[0], a[1])
	if e != 0 {
		return -int64(e)
	}
	r, e := k.newName(abs)
	if e != 0 {
		return -int64(e)
	}
	defer r.close()
	dev := a[3]
	if t := mode & hostfs.S_IFMT; t == hostfs.S_IFBLK || t == hostfs.S_IFCHR && uint32(dev) != 0 {
		var st hostfs.Stat
		if hostFstatat(r.fd, r.name, &st, atSymlinkNofollow) == 0 {
			return -int64(EEXIST)
		}
		return -int64(EPERM)
	}
	perm := mode & 0o7777 &^ p.fs.mask() &^ setID
	if e := hostfs.Mknodat(r.fd, r.name, mode&hostfs.S_IFMT|perm, uint64(uint32(dev))); e != 0 {
		return -int64(e)
	}
	if perm&k.hostUmask() != 0 {
		_ = hostfs.Fchmodat(r.fd, r.name, perm, false)
	}
	k.stampCreated(p, r.fd, r.name)
	k.stampFD(r.fd)
	return 0
}
