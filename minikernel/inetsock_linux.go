package minikernel

import (
	"encoding/binary"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
	"golang.org/x/sys/unix"
)

// AF_INET and AF_INET6 sockets: host sockets, which the guest uses through the socket
// calls as Linux answers them. They are limited to the loopback addresses (127.0.0.0/8,
// ::1 and ::ffff:127.0.0.0/104) unless Config.HostNetwork (emu run --net host): binding to
// the wildcard address binds to loopback instead (getsockname still shows the wildcard),
// and connecting or sending elsewhere is ENETUNREACH. Every host socket is non-blocking on
// the host; a guest call that must wait sleeps in the machine until the host says the
// socket is ready (special.go's host waiters), so other guest processes run meanwhile (a
// server and its client can both be guests).

// inetSock is one AF_INET or AF_INET6 socket.
type inetSock struct {
	family, typ, proto int
	hfd                int
	wildcard           []byte // the wildcard address the guest bound (nil: none)
	wq                 waitQueue
	rcvtimeo, sndtimeo uint64
	ino                uint64
	listening          bool
}

func (s *inetSock) linkName(f *File) string { return fmt.Sprintf("socket:[%d]", s.ino) }

func (s *inetSock) stat(f *File, st *hostfs.Stat) { socketStat(s.ino, st) }

// newInetSock makes a host socket of the family, type and protocol.
func (k *Kernel) newInetSock(p *Process, family, typ, proto int) (sockOps, Errno) {
	if e := k.takeHostFD(); e != 0 {
		return nil, e
	}
	fd, e := hostSocket(family, typ|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, proto)
	if e != 0 {
		k.releaseHostFD()
		return nil, e
	}
	k.ns.pipes++
	return &inetSock{family: family, typ: typ, proto: proto, hfd: fd, ino: k.ns.pipes}, 0
}

// allowed checks a destination or local address against the loopback limit. A wildcard
// local address (bind) becomes the loopback address of its family.
func (k *Kernel) allowedAddr(addr []byte, local bool) ([]byte, Errno) {
	if k.cfg.HostNetwork || len(addr) < 2 {
		return addr, 0
	}
	switch le.Uint16(addr) {
	case afInet:
		if len(addr) < 8 {
			return addr, 0 // the host says EINVAL
		}
		ip := addr[4:8]
		switch {
		case ip[0] == 127:
			return addr, 0
		case local && ip[0]|ip[1]|ip[2]|ip[3] == 0:
			out := append([]byte(nil), addr...)
			copy(out[4:8], []byte{127, 0, 0, 1})
			return out, 0
		}
	case afInet6:
		if len(addr) < 24 {
			return addr, 0
		}
		ip := addr[8:24]
		var zero, one [16]byte
		one[15] = 1
		mapped := [12]byte{10: 0xff, 11: 0xff}
		switch {
		case [16]byte(ip) == one:
			return addr, 0
		case [12]byte(ip[:12]) == mapped && ip[12] == 127:
			return addr, 0
		case local && [16]byte(ip) == zero:
			out := append([]byte(nil), addr...)
			copy(out[8:24], one[:])
			return out, 0
		}
	default:
		return addr, 0 // another family: the host answers (EAFNOSUPPORT, EINVAL)
	}
	if local {
		return nil, EADDRNOTAVAIL
	}
	return nil, ENETUNREACH
}

func (s *inetSock) bind(k *Kernel, p *Process, f *File, addr []byte) Errno {
	a, e := k.allowedAddr(addr, true)
	if e != 0 {
		return e
	}
	if e := hostSockcall(unix.SYS_BIND, s.hfd, a); e != 0 {
		return e
	}
	if len(a) == len(addr) && string(a) != string(addr) {
		s.wildcard = addr
	}
	return 0
}

func (s *inetSock) listen(k *Kernel, p *Process, f *File, backlog int) Errno {
	if _, e := hostCall(unix.SYS_LISTEN, uintptr(s.hfd), uintptr(backlog), 0); e != 0 {
		return e
	}
	s.listening = true
	return 0
}

// wait sleeps until the host socket is ready for events (or the timeout passes: EAGAIN),
// running try again each time.
func (s *inetSock) wait(k *Kernel, p *Process, f *File, nonblock bool, events int16, timeout uint64, try func() int64) int64 {
	deadline := uint64(0)
	if timeout != 0 {
		deadline = k.nowNS() + timeout
	}
	r := try()
	if r != -int64(EAGAIN) || nonblock {
		return r
	}
	sleep := func() {
		s.wq.add(k.cur)
		k.watchHost(s.hfd, events, &s.wq)
	}
	sleep()
	return k.block(p, &sleepCall{restartable: true, deadline: deadline, retry: func() int64 {
		r := try()
		if r != -int64(EAGAIN) {
			return r
		}
		if deadline != 0 && k.nowNS() >= deadline {
			return -int64(EAGAIN)
		}
		sleep()
		return sysBlocks
	}})
}

func (s *inetSock) accept(k *Kernel, p *Process, f *File, flags int, addr, addrlen uint64) int64 {
	return s.wait(k, p, f, f.nonblock(), pollIn, s.rcvtimeo, func() int64 {
		if e := k.takeHostFD(); e != 0 {
			return -int64(e)
		}
		var sa [128]byte
		n := uint32(len(sa))
		r, e := retryEINTR(func() (uintptr, syscall.Errno) {
			return sys6(syscall.Syscall6(unix.SYS_ACCEPT4, uintptr(s.hfd), uintptr(unsafe.Pointer(&sa[0])),
				uintptr(unsafe.Pointer(&n)), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0, 0))
		})
		if e != 0 {
			k.releaseHostFD()
			return -int64(e)
		}
		k.ns.pipes++
		c := &inetSock{family: s.family, typ: s.typ, proto: s.proto, hfd: int(r), ino: k.ns.pipes}
		peer := append([]byte(nil), sa[:min(int(n), len(sa))]...)
		return k.acceptDone(p, k.sockFile(c, flags), flags, peer, addr, addrlen)
	})
}

func (s *inetSock) connect(k *Kernel, p *Process, f *File, addr []byte) int64 {
	a, e := k.allowedAddr(addr, false)
	if e != 0 {
		return -int64(e)
	}
	e = hostSockcall(unix.SYS_CONNECT, s.hfd, a)
	if e != EINPROGRESS || f.nonblock() {
		return -int64(e)
	}
	return s.wait(k, p, f, false, pollOut, s.sndtimeo, func() int64 {
		if hostPollOne(s.hfd, pollOut)&(pollOut|pollErr|pollHup) == 0 {
			return -int64(EAGAIN)
		}
		v, e := hostGetsockopt(s.hfd, solSocket, soError)
		if e != 0 {
			return -int64(e)
		}
		return -int64(le.Uint32(v))
	})
}

// hostMsg is a struct msghdr for the host, with its buffers.
type hostMsg struct {
	name    uintptr
	namelen uint32
	_       uint32
	iov     uintptr
	iovlen  uint64
	control uintptr
	ctrllen uint64
	flags   int32
	_       int32
}

func (s *inetSock) sendmsg(k *Kernel, p *Process, f *File, m *msghdr, ctl []cmsg, to []byte, flags int) int64 {
	if to != nil {
		a, e := k.allowedAddr(to, false)
		if e != 0 {
			return -int64(e)
		}
		to = a
	}
	data := make([]byte, m.data.total)
	if n, ok := m.data.load(k, p, 0, data); !ok {
		return -int64(EFAULT)
	} else {
		data = data[:n]
	}
	nonblock := f.nonblock() || flags&msgDontwait != 0
	hostFlags := flags&^(msgDontwait|msgCmsgCloexe) | msgDontwait | msgNosignal
	return s.wait(k, p, f, nonblock, pollOut, s.sndtimeo, func() int64 {
		var iov [2]uint64
		if len(data) > 0 {
			iov[0] = uint64(uintptr(unsafe.Pointer(&data[0])))
		}
		iov[1] = uint64(len(data))
		h := hostMsg{iov: uintptr(unsafe.Pointer(&iov[0])), iovlen: 1}
		if len(to) > 0 {
			h.name, h.namelen = uintptr(unsafe.Pointer(&to[0])), uint32(len(to))
		}
		r, e := retryEINTR(func() (uintptr, syscall.Errno) {
			return sys6(syscall.Syscall(unix.SYS_SENDMSG, uintptr(s.hfd), uintptr(unsafe.Pointer(&h)), uintptr(hostFlags)))
		})
		keepAlive(data, to)
		if e == EPIPE && flags&msgNosignal == 0 {
			k.sendSignal(p, SIGPIPE)
		}
		if e != 0 {
			return -int64(e)
		}
		return int64(r)
	})
}

func (s *inetSock) recvmsg(k *Kernel, p *Process, f *File, m *msghdr, flags int) int64 {
	nonblock := f.nonblock() || flags&msgDontwait != 0
	hostFlags := flags&^(msgDontwait|msgCmsgCloexe|msgWaitall) | msgDontwait
	buf := make([]byte, min(m.data.total, 1<<20))
	ctl := make([]byte, min(m.ctrllen, 4096))
	var name [128]byte
	got := 0
	var h hostMsg
	return s.wait(k, p, f, nonblock, pollIn, s.rcvtimeo, func() int64 {
		var iov [2]uint64
		rest := buf[got:]
		if len(rest) > 0 {
			iov[0] = uint64(uintptr(unsafe.Pointer(&rest[0])))
		}
		iov[1] = uint64(len(rest))
		h = hostMsg{name: uintptr(unsafe.Pointer(&name[0])), namelen: uint32(len(name)),
			iov: uintptr(unsafe.Pointer(&iov[0])), iovlen: 1}
		if len(ctl) > 0 {
			h.control, h.ctrllen = uintptr(unsafe.Pointer(&ctl[0])), uint64(len(ctl))
		}
		n, e := retryEINTR(func() (uintptr, syscall.Errno) {
			return sys6(syscall.Syscall(unix.SYS_RECVMSG, uintptr(s.hfd), uintptr(unsafe.Pointer(&h)), uintptr(hostFlags)))
		})
		keepAlive(buf, ctl)
		if e != 0 && !(e == EAGAIN && got > 0) {
			return -int64(e)
		}
		if e == 0 {
			got += int(n)
			if flags&msgWaitall != 0 && s.typ == sockStream && n > 0 && got < len(buf) && flags&msgPeek == 0 {
				return -int64(EAGAIN) // wait for the rest
			}
		}
		// Done: the bytes, the address and the control messages go to the guest.
		r := got
		if c := min(got, len(buf)); c > 0 {
			if _, ok := m.data.store(k, p, 0, buf[:c]); !ok {
				return -int64(EFAULT)
			}
		}
		m.flags = uint32(h.flags)
		if s.typ != sockStream || h.namelen > 0 {
			m.from = append([]byte(nil), name[:min(int(h.namelen), len(name))]...)
		}
		if e := k.finishRecvmsg(p, m, m.from, ctl[:min(h.ctrllen, uint64(len(ctl)))]); e != 0 {
			return -int64(e)
		}
		return int64(r)
	})
}

func (s *inetSock) shutdown(k *Kernel, p *Process, f *File, how int) Errno {
	_, e := hostCall(unix.SYS_SHUTDOWN, uintptr(s.hfd), uintptr(how), 0)
	k.wakeAll(&s.wq)
	return e
}

func (s *inetSock) name(k *Kernel, f *File, peer bool) ([]byte, Errno) {
	nr := uintptr(unix.SYS_GETSOCKNAME)
	if peer {
		nr = unix.SYS_GETPEERNAME
	}
	var sa [128]byte
	n := uint32(len(sa))
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall(nr, uintptr(s.hfd), uintptr(unsafe.Pointer(&sa[0])), uintptr(unsafe.Pointer(&n))))
	})
	if e != 0 {
		return nil, e
	}
	out := append([]byte(nil), sa[:min(int(n), len(sa))]...)
	if !peer && s.wildcard != nil {
		// Show the wildcard the guest bound, with the port the host chose.
		w := append([]byte(nil), s.wildcard...)
		copy(w[2:4], out[2:4])
		out = w
	}
	return out, 0
}

func (s *inetSock) setsockopt(k *Kernel, p *Process, f *File, level, opt int, val []byte) Errno {
	if level == solSocket {
		switch opt {
		case soRcvtimeo, soSndtimeo:
			ns, e := timevalOpt(val)
			if e != 0 {
				return e
			}
			if opt == soRcvtimeo {
				s.rcvtimeo = ns
			} else {
				s.sndtimeo = ns
			}
			return 0
		case 25: // SO_BINDTODEVICE: only with the host's network
			if !k.cfg.HostNetwork {
				return EPERM
			}
		}
	}
	var ptr uintptr
	if len(val) > 0 {
		ptr = uintptr(unsafe.Pointer(&val[0]))
	}
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(unix.SYS_SETSOCKOPT, uintptr(s.hfd), uintptr(level), uintptr(opt), ptr, uintptr(len(val)), 0))
	})
	keepAlive(val, nil)
	return e
}

func (s *inetSock) getsockopt(k *Kernel, p *Process, f *File, level, opt int) ([]byte, Errno) {
	if level == solSocket {
		switch opt {
		case soRcvtimeo:
			return timevalBytes(s.rcvtimeo), 0
		case soSndtimeo:
			return timevalBytes(s.sndtimeo), 0
		}
	}
	return hostGetsockopt(s.hfd, level, opt)
}

func (s *inetSock) poll(k *Kernel, f *File) int16 {
	return hostPollOne(s.hfd, pollIn|pollOut|pollPri|pollRdhup)
}

func (s *inetSock) queues(k *Kernel, f *File, add func(*waitQueue)) {
	k.watchHost(s.hfd, pollIn|pollOut|pollPri|pollRdhup, &s.wq)
	add(&s.wq)
}

func (s *inetSock) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	return s.recvmsg(k, p, f, &msghdr{data: dst}, 0)
}

func (s *inetSock) write(k *Kernel, p *Process, f *File, src *uio) int64 {
	return s.sendmsg(k, p, f, &msghdr{data: src}, nil, nil, 0)
}

func (s *inetSock) release(k *Kernel, f *File) {
	k.unwatchHost(s.hfd)
	hostfs.Close(s.hfd)
	k.releaseHostFD()
	s.hfd = -1
	k.wakeAll(&s.wq)
}

// hostSocket is socket(family, typ, proto) on the host.
func hostSocket(family, typ, proto int) (int, Errno) {
	r, e := hostCall(unix.SYS_SOCKET, uintptr(family), uintptr(typ), uintptr(proto))
	return int(r), e
}

// hostCall makes a host system call with integer arguments.
func hostCall(nr, a1, a2, a3 uintptr) (uintptr, Errno) {
	return retryEINTR(func() (uintptr, syscall.Errno) { return sys6(syscall.Syscall(nr, a1, a2, a3)) })
}

// hostSockcall is bind or connect with a socket address.
func hostSockcall(nr uintptr, fd int, addr []byte) Errno {
	var ptr *byte
	if len(addr) > 0 {
		ptr = &addr[0]
	}
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall(nr, uintptr(fd), uintptr(unsafe.Pointer(ptr)), uintptr(len(addr))))
	})
	return e
}

// hostGetsockopt is getsockopt on the host, with room for any option's value.
func hostGetsockopt(fd, level, opt int) ([]byte, Errno) {
	var v [256]byte
	n := uint32(len(v))
	_, e := retryEINTR(func() (uintptr, syscall.Errno) {
		return sys6(syscall.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), uintptr(level), uintptr(opt),
			uintptr(unsafe.Pointer(&v[0])), uintptr(unsafe.Pointer(&n)), 0))
	})
	if e != 0 {
		return nil, e
	}
	return append([]byte(nil), v[:min(int(n), len(v))]...), 0
}

// keepAlive keeps buffers reachable until here (their addresses were passed to the host
// inside structures, where the garbage collector does not see them).
//
//go:noinline
func keepAlive(a, b []byte) { _ = len(a) + len(b) }

var _ = binary.LittleEndian
