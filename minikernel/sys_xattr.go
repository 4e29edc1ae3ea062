package minikernel

import (
	"strconv"
	"strings"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Extended attributes: getxattr, setxattr, listxattr, removexattr and their l* (the link
// itself) and f* (an open descriptor) forms, passed through to the host file, so that
// cp -a and tar carry them as natively. Linux's fs/xattr.c checks the arguments first (a
// name of 1 to 255 bytes, else ERANGE; flags XATTR_CREATE or XATTR_REPLACE; a value up to
// 64 KiB, else E2BIG); the host's file system answers the rest (ENODATA, ENOTSUP, EPERM).
// An object of the kernel's own (a pipe, a memfd, a socket) keeps no attributes (kobjXattr).
// The host is reached through the descriptor the path resolved to, never by its name, so
// no walk can leave --root.

const (
	xattrCreate  = 1
	xattrReplace = 2
	xattrNameMax = 255
	xattrSizeMax = 1 << 16
	xattrListMax = 1 << 16
)

// xattrOp is one of the four operations.
type xattrOp int

const (
	xaGet xattrOp = iota
	xaSet
	xaList
	xaRemove
)

// xattrTarget is the host object an xattr call acts on: a host path (a /proc/self/fd magic
// link, or a name inside an open directory) and whether a final symbolic link is followed.
type xattrTarget struct {
	path   string
	follow bool
	close  []int
	kobj   *File // an object of the kernel's own, with no host file (a pipe, a memfd)
}

func (t *xattrTarget) release() {
	for _, fd := range t.close {
		hostfs.Close(fd)
	}
}

// pathTarget resolves a path argument for an xattr call.
func (k *Kernel) pathTarget(p *Process, va uint64, follow bool) (*xattrTarget, Errno) {
	abs, e := k.userPathAt(p, fdcwdArg, va)
	if e != 0 {
		return nil, e
	}
	fd, e := k.lookupPath(p, abs, follow)
	if e != 0 {
		return nil, e
	}
	t := &xattrTarget{path: procFDPath(fd), follow: true, close: []int{fd}}
	var st hostfs.Stat
	if !follow && hostFstat(fd, &st) == 0 && st.Type() == hostfs.S_IFLNK {
		// The link itself: name it inside its directory, which the host walks to without
		// following it.
		r, e := k.openParent(abs)
		if e != 0 || r.kind != lastNorm {
			t.release()
			if e == 0 {
				e = EINVAL
			}
			return nil, e
		}
		t.close = append(t.close, r.fd)
		t.path, t.follow = procFDPath(r.fd)+"/"+r.name, false
	}
	return t, 0
}

// fdTarget is the target of an f* call on descriptor fd.
func fdTarget(p *Process, fd uint64) (*xattrTarget, Errno) {
	f := fdArg(p, fd)
	switch {
	case f == nil || f.pathOnly():
		return nil, EBADF
	case f.hfd < 0:
		return &xattrTarget{kobj: f}, 0
	}
	return &xattrTarget{path: "/proc/self/fd/" + strconv.Itoa(f.hfd), follow: true}, 0
}

// xattrName reads an attribute name: 1 to 255 bytes, else ERANGE.
func (k *Kernel) xattrName(p *Process, va uint64) (string, Errno) {
	s, e := k.copyInString(p, va, xattrNameMax+1)
	if e == ENAMETOOLONG || (e == 0 && s == "") {
		return "", ERANGE
	}
	return s, e
}

// xattrCall does op on t: a[...] are the call's arguments after the path or descriptor
// (name, value, size, flags as the op takes them).
func (k *Kernel) xattrCall(p *Process, t *xattrTarget, op xattrOp, a []uint64) int64 {
	defer t.release()
	var name string
	if op != xaList {
		var e Errno
		if name, e = k.xattrName(p, a[0]); e != 0 {
			return -int64(e)
		}
	}
	if t.kobj != nil {
		return kobjXattr(t.kobj, op, name, a)
	}
	switch op {
	case xaGet:
		size := min(a[2], xattrSizeMax)
		buf := make([]byte, size, max(size, 1))
		n, e := hostGetxattr(t.follow, t.path, name, buf)
		if e != 0 {
			return -int64(e)
		}
		if size > 0 {
			if n > uintptr(size) {
				return -int64(ERANGE)
			}
			if _, ok := k.copyOut(p, a[1], buf[:n]); !ok {
				return -int64(EFAULT)
			}
		}
		return int64(n)
	case xaSet:
		size, flags := a[2], a[3]
		if flags&^(xattrCreate|xattrReplace) != 0 {
			return -int64(EINVAL)
		}
		if size > xattrSizeMax {
			return -int64(E2BIG)
		}
		buf := make([]byte, size)
		if size > 0 {
			if _, ok := k.copyIn(p, a[1], buf); !ok {
				return -int64(EFAULT)
			}
		}
		return -int64(hostSetxattr(t.follow, t.path, name, buf, flags))
	case xaList:
		size := min(a[1], xattrListMax)
		buf := make([]byte, size, max(size, 1))
		n, e := hostListxattr(t.follow, t.path, buf)
		if e != 0 {
			return -int64(e)
		}
		if size > 0 {
			if n > uintptr(size) {
				return -int64(ERANGE) // the list grew between the host's two looks
			}
			if _, ok := k.copyOut(p, a[0], buf[:n]); !ok {
				return -int64(EFAULT)
			}
		}
		return int64(n)
	}
	return -int64(hostRemovexattr(t.follow, t.path, name))
}

// kobjXattr answers for an object of the kernel's own, which keeps no attributes: none to
// get or list; setting or removing one is what Linux's xattr_permission() says for a user.*
// attribute on a file that is neither regular nor a directory (EPERM), and ENOTSUP
// otherwise (a memfd, or another namespace).
func kobjXattr(f *File, op xattrOp, name string, a []uint64) int64 {
	user := strings.HasPrefix(name, "user.") && f.kind != fileShm
	switch {
	case op == xaList:
		return 0
	case op == xaGet || (op == xaRemove && !user):
		return -int64(ENODATA)
	case op == xaSet && a[3]&^(xattrCreate|xattrReplace) != 0:
		return -int64(EINVAL)
	case user:
		return -int64(EPERM)
	}
	return -int64(EOPNOTSUPP)
}

func xattrPath(follow bool, op xattrOp) syscallFn {
	return func(k *Kernel, p *Process, a *[6]uint64) int64 {
		t, e := k.pathTarget(p, a[0], follow)
		if e != 0 {
			return -int64(e)
		}
		return k.xattrCall(p, t, op, a[1:5])
	}
}

func xattrFD(op xattrOp) syscallFn {
	return func(k *Kernel, p *Process, a *[6]uint64) int64 {
		t, e := fdTarget(p, a[0])
		if e != 0 {
			return -int64(e)
		}
		return k.xattrCall(p, t, op, a[1:5])
	}
}

var (
	sysGetxattr     = xattrPath(true, xaGet)
	sysLgetxattr    = xattrPath(false, xaGet)
	sysFgetxattr    = xattrFD(xaGet)
	sysSetxattr     = xattrPath(true, xaSet)
	sysLsetxattr    = xattrPath(false, xaSet)
	sysFsetxattr    = xattrFD(xaSet)
	sysListxattr    = xattrPath(true, xaList)
	sysLlistxattr   = xattrPath(false, xaList)
	sysFlistxattr   = xattrFD(xaList)
	sysRemovexattr  = xattrPath(true, xaRemove)
	sysLremovexattr = xattrPath(false, xaRemove)
	sysFremovexattr = xattrFD(xaRemove)
)

// ENODATA: no such attribute.
const ENODATA Errno = 61
