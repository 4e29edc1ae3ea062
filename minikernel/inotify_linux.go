package minikernel

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// inotify: watching files for changes (fs/notify/inotify). The guest's inotify instance is
// one of the host's, and a watch is the host's watch on the host file the guest's path
// leads to (resolved inside --root like any other path): every change reaches the host file
// (the guest's writes are the host's writes), so the host reports what the guest changed,
// and what host processes change too. The events are the host's, in struct inotify_event's
// layout, which is the same; watch descriptors are per instance as on Linux. A guest that
// waits on the descriptor sleeps in the machine until the host says it is readable, as for
// a host socket. A path in the guest's /proc cannot be watched (EACCES): its files are the
// emulator's, not the host's.

const (
	inCloexec  = oCloexec
	inNonblock = oNonblock

	inOnlydir    = 0x01000000
	inDontFollow = 0x02000000
)

// inotifyObj is the object behind an inotify descriptor: a host inotify instance.
type inotifyObj struct {
	hfd int
	wq  waitQueue
}

func (n *inotifyObj) linkName(f *File) string { return "anon_inode:inotify" }

// inotify_init1(flags) and inotify_init().
func sysInotifyInit1(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(a[0])
	if flags&^(inCloexec|inNonblock) != 0 {
		return -int64(EINVAL)
	}
	if e := k.takeHostFD(); e != 0 {
		return -int64(e)
	}
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		k.releaseHostFD()
		return -int64(hostErrno(err))
	}
	return installSpecial(p, k.newSpecial(&inotifyObj{hfd: fd}, "anon_inode:inotify", oRdonly|flags&oNonblock), flags)
}

func sysInotifyInit(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{}
	return sysInotifyInit1(k, p, &b)
}

// inotifyOf is the inotify instance open on descriptor fd (EBADF: none; EINVAL: not one).
func inotifyOf(p *Process, fd uint64) (*inotifyObj, Errno) {
	f := fdArg(p, fd)
	if f == nil || f.pathOnly() {
		return nil, EBADF
	}
	n, ok := f.obj.(*inotifyObj)
	if !ok || f.kind != fileSpecial {
		return nil, EINVAL
	}
	return n, 0
}

// inotify_add_watch(fd, path, mask): the host watches the file the guest's path names.
func sysInotifyAddWatch(k *Kernel, p *Process, a *[6]uint64) int64 {
	n, e := inotifyOf(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	mask := uint32(a[2])
	if mask&unix.IN_ALL_EVENTS == 0 {
		return -int64(EINVAL) // no event asked for (inotify_arg_to_mask())
	}
	name, e := k.copyInString(p, a[1], pathMax)
	if e != 0 {
		return -int64(e)
	}
	g, e := k.absPath(p, fdcwdArg, name)
	if e != 0 {
		return -int64(e)
	}
	if _, ok := k.procPath(p, g); ok {
		return -int64(EACCES) // the guest's /proc is the emulator's, not a host file to watch
	}
	flags := oPath
	if mask&inDontFollow != 0 {
		flags |= oNofollow
	}
	if mask&inOnlydir != 0 {
		flags |= oDirectory
	}
	target, e := k.hostOpen(g, flags, 0)
	if e != 0 {
		return -int64(e)
	}
	defer hostfs.Close(target)
	// The watch goes on what the descriptor holds: /proc/self/fd/N leads the host to it.
	wd, err := unix.InotifyAddWatch(n.hfd, fmt.Sprintf("/proc/self/fd/%d", target), mask&^inDontFollow)
	if err != nil {
		return -int64(hostErrno(err))
	}
	return int64(wd)
}

// inotify_rm_watch(fd, wd).
func sysInotifyRmWatch(k *Kernel, p *Process, a *[6]uint64) int64 {
	n, e := inotifyOf(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	if _, err := unix.InotifyRmWatch(n.hfd, uint32(a[1])); err != nil {
		return -int64(hostErrno(err))
	}
	return 0
}

// read hands out the host's events, sleeping until there are some unless O_NONBLOCK.
func (n *inotifyObj) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	try := func() int64 {
		buf := make([]byte, min(dst.total, 1<<16))
		got, e := hostfs.Read(n.hfd, buf)
		if e != 0 {
			return -int64(e)
		}
		if _, ok := dst.store(k, p, 0, buf[:got]); !ok {
			return -int64(EFAULT)
		}
		return int64(got)
	}
	r := try()
	if r != -int64(EAGAIN) || f.nonblock() {
		return r
	}
	sleep := func() {
		n.wq.add(k.cur)
		k.watchHost(n.hfd, pollIn, &n.wq)
	}
	sleep()
	return k.block(p, &sleepCall{restartable: true, retry: func() int64 {
		r := try()
		if r != -int64(EAGAIN) {
			return r
		}
		sleep()
		return sysBlocks
	}})
}

func (n *inotifyObj) poll(k *Kernel, f *File) int16 { return hostPollOne(n.hfd, pollIn) }

func (n *inotifyObj) queues(k *Kernel, f *File, add func(*waitQueue)) {
	k.watchHost(n.hfd, pollIn, &n.wq)
	add(&n.wq)
}

func (n *inotifyObj) release(k *Kernel, f *File) {
	k.unwatchHost(n.hfd)
	hostfs.Close(n.hfd)
	k.releaseHostFD()
	n.hfd = -1
	k.wakeAll(&n.wq)
}

// hostErrno is a host error as the guest's errno.
func hostErrno(err error) Errno {
	if en, ok := err.(unix.Errno); ok {
		return Errno(en)
	}
	return EIO
}
