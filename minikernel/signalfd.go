package minikernel

import "fmt"

// signalfd: signals read as a file. Linux's fs/signalfd.c. A read takes pending signals of
// the descriptor's mask (the reading thread's own first, then its process's) and returns one
// struct signalfd_siginfo (128 bytes) for each that fits, waiting for one when none is
// pending; poll says readable when one is. The signals must be blocked for this to be the
// way they arrive, as on Linux: an unblocked one is delivered to a handler first.

// More si_code values (include/uapi/asm-generic/siginfo.h).
const (
	siTimer = -2 // SI_TIMER: a POSIX timer expired
	siMesgq = -3 // SI_MESGQ: a message queue became non-empty
)

// signalfd is the object behind a signalfd descriptor.
type signalfd struct {
	mask uint64 // the signals it reads (never SIGKILL or SIGSTOP)
}

func (s *signalfd) linkName(f *File) string { return "anon_inode:[signalfd]" }

func (s *signalfd) fdinfo() string { return fmt.Sprintf("sigmask:\t%016x\n", s.mask) }

func (s *signalfd) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	const size = 128
	n := dst.total / size
	if n == 0 {
		return -int64(EINVAL)
	}
	t := k.cur
	return k.sleepOn(p, f, func() int64 {
		var done uint64
		for done < n {
			si, ok := k.dequeue(t, ^s.mask)
			if !ok {
				break
			}
			if _, ok := dst.store(k, p, done*size, signalfdSiginfo(&si)); !ok {
				if done == 0 {
					return -int64(EFAULT)
				}
				break
			}
			done++
		}
		if done == 0 {
			return -int64(EAGAIN)
		}
		return int64(done * size)
	})
}

func (s *signalfd) poll(k *Kernel, f *File) int16 {
	if t := k.cur; t != nil && t.pending()&s.mask != 0 {
		return pollIn | pollRdnorm
	}
	return 0
}

func (s *signalfd) queues(k *Kernel, f *File, add func(*waitQueue)) {
	if t := k.cur; t != nil {
		add(k.signalfdQueue(t.proc))
	}
}

// signalfdQueue is the queue of p's threads waiting on a signalfd: queueSignal wakes it for
// every signal generated for p (signalfdNotify).
func (k *Kernel) signalfdQueue(p *Process) *waitQueue {
	if k.sfdWaits == nil {
		k.sfdWaits = map[*Process]*waitQueue{}
	}
	q := k.sfdWaits[p]
	if q == nil {
		q = &waitQueue{}
		k.sfdWaits[p] = q
	}
	return q
}

// signalfdNotify wakes the threads of p that wait on a signalfd (a signal arrived).
func (k *Kernel) signalfdNotify(p *Process) {
	if q := k.sfdWaits[p]; q != nil {
		k.wakeAll(q)
		if len(q.ts) == 0 && len(q.watchers) == 0 {
			delete(k.sfdWaits, p)
		}
	}
}

// signalfdSiginfo lays a siginfo out as struct signalfd_siginfo: ssi_signo, ssi_errno,
// ssi_code, ssi_pid, ssi_uid, ssi_fd, ssi_tid, ssi_band, ssi_overrun, ssi_trapno,
// ssi_status, ssi_int, ssi_ptr, ssi_utime, ssi_stime, ssi_addr, ssi_addr_lsb. Linux's
// signalfd_copyinfo(): which siginfo fields are meaningful depends on si_code's class.
func signalfdSiginfo(si *sigInfo) []byte {
	b := make([]byte, 128)
	signo, errno, code := le.Uint32(si.b[0:]), le.Uint32(si.b[4:]), int32(le.Uint32(si.b[8:]))
	le.PutUint32(b[0:], signo)
	le.PutUint32(b[4:], errno)
	le.PutUint32(b[8:], uint32(code))
	switch {
	case code <= 0 || code == siKernel: // from a process (kill, sigqueue, tkill) or the kernel
		le.PutUint32(b[12:], le.Uint32(si.b[16:])) // ssi_pid
		le.PutUint32(b[16:], le.Uint32(si.b[20:])) // ssi_uid
		if code == siQueue || code == siTimer || code == siMesgq {
			le.PutUint32(b[44:], le.Uint32(si.b[24:])) // ssi_int
			le.PutUint64(b[48:], le.Uint64(si.b[24:])) // ssi_ptr
		}
		if code == siTimer {
			le.PutUint32(b[20:], le.Uint32(si.b[16:])) // ssi_tid: the timer's id
			le.PutUint32(b[32:], le.Uint32(si.b[20:])) // ssi_overrun
			le.PutUint32(b[12:], 0)
			le.PutUint32(b[16:], 0)
		}
	case signo == SIGCHLD:
		le.PutUint32(b[12:], le.Uint32(si.b[16:])) // ssi_pid
		le.PutUint32(b[16:], le.Uint32(si.b[20:])) // ssi_uid
		le.PutUint32(b[40:], le.Uint32(si.b[24:])) // ssi_status
		le.PutUint64(b[56:], le.Uint64(si.b[32:])) // ssi_utime
		le.PutUint64(b[64:], le.Uint64(si.b[40:])) // ssi_stime
	case signo == SIGSEGV || signo == SIGBUS || signo == SIGILL || signo == SIGFPE || signo == SIGTRAP:
		le.PutUint64(b[72:], le.Uint64(si.b[16:])) // ssi_addr
	case signo == SIGIO:
		le.PutUint32(b[28:], le.Uint32(si.b[16:])) // ssi_band
		le.PutUint32(b[20:], le.Uint32(si.b[24:])) // ssi_fd
	default:
		le.PutUint32(b[12:], le.Uint32(si.b[16:]))
		le.PutUint32(b[16:], le.Uint32(si.b[20:]))
	}
	return b
}

// signalfd4(fd, mask, sizemask, flags) and signalfd(fd, mask, sizemask): fd -1 makes a new
// signalfd, another fd changes that signalfd's mask.
func sysSignalfd4(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(a[3])
	if flags&^(oCloexec|oNonblock) != 0 || a[2] != sigsetSize {
		return -int64(EINVAL)
	}
	var b [8]byte
	if _, ok := k.copyIn(p, a[1], b[:]); !ok {
		return -int64(EFAULT)
	}
	mask := le.Uint64(b[:]) &^ unblockable
	if int32(a[0]) != -1 {
		f := fdArg(p, a[0])
		if f == nil {
			return -int64(EBADF)
		}
		s, ok := f.obj.(*signalfd)
		if !ok {
			return -int64(EINVAL)
		}
		s.mask = mask
		k.signalfdNotify(p)
		return int64(int32(a[0]))
	}
	return installSpecial(p, k.newSpecial(&signalfd{mask: mask}, "anon_inode:[signalfd]", oRdwr|flags), flags)
}

func sysSignalfd(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], a[1], a[2], 0}
	return sysSignalfd4(k, p, &b)
}
