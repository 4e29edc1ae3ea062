package minikernel

import "github.com/vmemu/vmemu/minikernel/internal/hostfs"

// Sockets: the socket system calls, which check their arguments and hand the work to the
// socket's family: AF_UNIX sockets live in the kernel (unixsock.go), between guest processes
// only; AF_INET and AF_INET6 sockets are the host's (inetsock.go), limited to the loopback
// addresses unless Config.HostNetwork. Linux's net/socket.c. read, write, readv, writev, poll
// and close reach a socket through the special-file layer (special.go).

// Address families, socket types and flags (include/linux/socket.h, net.h).
const (
	afUnspec  = 0
	afUnix    = 1
	afInet    = 2
	afInet6   = 10
	afNetlink = 16
	afPacket  = 17

	sockStream    = 1
	sockDgram     = 2
	sockRaw       = 3
	sockSeqpacket = 5
	sockTypeMask  = 0xf
	sockNonblock  = oNonblock
	sockCloexec   = oCloexec

	solSocket = 1

	// Socket options (include/uapi/asm-generic/socket.h).
	soDebug     = 1
	soReuseaddr = 2
	soType      = 3
	soError     = 4
	soDontroute = 5
	soBroadcast = 6
	soSndbuf    = 7
	soRcvbuf    = 8
	soKeepalive = 9
	soOobinline = 10
	soLinger    = 13
	soReuseport = 15
	soPasscred  = 16
	soPeercred  = 17
	soRcvlowat  = 18
	soSndlowat  = 19
	soRcvtimeo  = 20
	soSndtimeo  = 21
	soAcceptcon = 30
	soPeersec   = 31
	soSndbufF   = 32
	soRcvbufF   = 33
	soProtocol  = 38
	soDomain    = 39
	soPeekOff   = 42

	// Message flags (include/linux/socket.h).
	msgOOB        = 0x1
	msgPeek       = 0x2
	msgDontroute  = 0x4
	msgCtrunc     = 0x8
	msgTrunc      = 0x20
	msgDontwait   = 0x40
	msgEOR        = 0x80
	msgWaitall    = 0x100
	msgNosignal   = 0x4000
	msgMore       = 0x8000
	msgCmsgCloexe = 0x40000000

	scmRights      = 1
	scmCredentials = 2
	scmMaxFD       = 253

	shutRd   = 0
	shutWr   = 1
	shutRdwr = 2
)

// More errno values of the network code (include/uapi/asm-generic/errno.h).
const (
	ENOTSOCK        Errno = 88
	EDESTADDRREQ    Errno = 89
	EMSGSIZE        Errno = 90
	EPROTOTYPE      Errno = 91
	ENOPROTOOPT     Errno = 92
	EPROTONOSUPPORT Errno = 93
	ESOCKTNOSUPPORT Errno = 94
	EAFNOSUPPORT    Errno = 97
	EADDRINUSE      Errno = 98
	EADDRNOTAVAIL   Errno = 99
	ENETUNREACH     Errno = 101
	ECONNABORTED    Errno = 103
	ECONNRESET      Errno = 104
	EISCONN         Errno = 106
	ENOTCONN        Errno = 107
	ECONNREFUSED    Errno = 111
	EALREADY        Errno = 114
	EINPROGRESS     Errno = 115
)

// msghdr is a struct msghdr read from the guest, with the data vector.
type msghdr struct {
	name    uint64 // msg_name
	namelen uint32
	data    *uio
	control uint64 // msg_control
	ctrllen uint64
	flags   uint32 // msg_flags, as recvmsg returns them
	va      uint64 // where the struct is, for recvmsg's write-back (0: recvfrom)
	from    []byte // the source address recvmsg found
	// fromVA and fromLenVA are recvfrom's address arguments (m.va is 0 then).
	fromVA, fromLenVA uint64
}

// cmsg is one control message.
type cmsg struct {
	level, typ int32
	data       []byte
}

// sockOps is what a socket family implements. Calls that may block return sysBlocks having
// slept (k.sleepOn); counts and results are as the system calls return them.
type sockOps interface {
	fileObject
	bind(k *Kernel, p *Process, f *File, addr []byte) Errno
	listen(k *Kernel, p *Process, f *File, backlog int) Errno
	// accept returns the new descriptor, having written the peer's address to the guest's
	// addr and addrlen (0: not asked) itself: a call that slept finishes in its retry.
	accept(k *Kernel, p *Process, f *File, flags int, addr, addrlen uint64) int64
	connect(k *Kernel, p *Process, f *File, addr []byte) int64
	sendmsg(k *Kernel, p *Process, f *File, m *msghdr, ctl []cmsg, to []byte, flags int) int64
	recvmsg(k *Kernel, p *Process, f *File, m *msghdr, flags int) int64
	shutdown(k *Kernel, p *Process, f *File, how int) Errno
	name(k *Kernel, f *File, peer bool) ([]byte, Errno)
	setsockopt(k *Kernel, p *Process, f *File, level, opt int, val []byte) Errno
	getsockopt(k *Kernel, p *Process, f *File, level, opt int) ([]byte, Errno)
}

// sockArg returns the socket fd names: EBADF, or ENOTSOCK for another kind of file.
func sockArg(p *Process, fd uint64) (*File, sockOps, Errno) {
	f := fdArg(p, fd)
	if f == nil || f.pathOnly() {
		return nil, nil, EBADF
	}
	s, ok := f.obj.(sockOps)
	if !ok {
		return nil, nil, ENOTSOCK
	}
	return f, s, 0
}

// newSocket makes a socket of the family, type (with SOCK_NONBLOCK and SOCK_CLOEXEC
// stripped) and protocol.
func (k *Kernel) newSocket(p *Process, family, typ, proto int) (sockOps, Errno) {
	switch family {
	case afUnix:
		return k.newUnixSock(p, typ, proto)
	case afInet, afInet6:
		return k.newInetSock(p, family, typ, proto)
	}
	if family < 0 || family >= 46 { // AF_MAX
		return nil, EAFNOSUPPORT
	}
	return nil, EAFNOSUPPORT // families this kernel does not have (netlink, packet, ...)
}

// socket(domain, type, protocol).
func sysSocket(k *Kernel, p *Process, a *[6]uint64) int64 {
	typ := int(int32(a[1]))
	flags := typ &^ sockTypeMask
	if flags&^(sockNonblock|sockCloexec) != 0 {
		return -int64(EINVAL)
	}
	s, e := k.newSocket(p, int(int32(a[0])), typ&sockTypeMask, int(int32(a[2])))
	if e != 0 {
		return -int64(e)
	}
	return installSpecial(p, k.sockFile(s, flags), flags)
}

// sockFile makes the open file of a socket.
func (k *Kernel) sockFile(s sockOps, flags int) *File {
	return k.newSpecial(s, "socket:", oRdwr|flags&sockNonblock)
}

// socketpair(domain, type, protocol, sv): AF_UNIX only (EOPNOTSUPP for the others).
func sysSocketpair(k *Kernel, p *Process, a *[6]uint64) int64 {
	family, typ := int(int32(a[0])), int(int32(a[1]))
	flags := typ &^ sockTypeMask
	if flags&^(sockNonblock|sockCloexec) != 0 {
		return -int64(EINVAL)
	}
	typ &= sockTypeMask
	if family != afUnix {
		if _, e := k.newSocket(p, family, typ, int(int32(a[2]))); e != 0 {
			return -int64(e)
		}
		return -int64(EOPNOTSUPP)
	}
	s1, e := k.newUnixSock(p, typ, int(int32(a[2])))
	if e != 0 {
		return -int64(e)
	}
	s2, _ := k.newUnixSock(p, typ, int(int32(a[2])))
	u1, u2 := s1.(*unixSock), s2.(*unixSock)
	u1.pair(u2)
	f1, f2 := k.sockFile(u1, flags), k.sockFile(u2, flags)
	fd1, e := p.fds.install(f1, flags&sockCloexec != 0, 0)
	if e != 0 {
		f1.put()
		f2.put()
		return -int64(e)
	}
	fd2, e := p.fds.install(f2, flags&sockCloexec != 0, 0)
	if e != 0 {
		_ = p.fds.close(uint64(fd1))
		f2.put()
		return -int64(e)
	}
	var b [8]byte
	le.PutUint32(b[0:], uint32(fd1))
	le.PutUint32(b[4:], uint32(fd2))
	if _, ok := k.copyOut(p, a[3], b[:]); !ok {
		_ = p.fds.close(uint64(fd1))
		_ = p.fds.close(uint64(fd2))
		return -int64(EFAULT)
	}
	return 0
}

// sockaddrArg reads a socket address argument of addrlen bytes (at most 128:
// sizeof(struct sockaddr_storage), else EINVAL).
func (k *Kernel) sockaddrArg(p *Process, va, n uint64) ([]byte, Errno) {
	if int32(n) < 0 || n > 128 {
		return nil, EINVAL
	}
	b := make([]byte, n)
	if n > 0 {
		if _, ok := k.copyIn(p, va, b); !ok {
			return nil, EFAULT
		}
	}
	return b, 0
}

// putSockaddr writes addr to the guest's buffer va of *lenva bytes (truncated to fit) and
// the full length to *lenva, as move_addr_to_user() does.
func (k *Kernel) putSockaddr(p *Process, va, lenva uint64, addr []byte) Errno {
	if va == 0 || lenva == 0 {
		return 0
	}
	var lb [4]byte
	if _, ok := k.copyIn(p, lenva, lb[:]); !ok {
		return EFAULT
	}
	n := int32(le.Uint32(lb[:]))
	if n < 0 {
		return EINVAL
	}
	if c := min(int(n), len(addr)); c > 0 {
		if _, ok := k.copyOut(p, va, addr[:c]); !ok {
			return EFAULT
		}
	}
	le.PutUint32(lb[:], uint32(len(addr)))
	if _, ok := k.copyOut(p, lenva, lb[:]); !ok {
		return EFAULT
	}
	return 0
}

// bind(fd, addr, addrlen).
func sysBind(k *Kernel, p *Process, a *[6]uint64) int64 {
	addr, e := k.sockaddrArg(p, a[1], a[2])
	if e != 0 {
		return -int64(e)
	}
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	return -int64(s.bind(k, p, f, addr))
}

// listen(fd, backlog): a backlog above net.core.somaxconn (4096) is cut to it.
func sysListen(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	backlog := int(int32(a[1]))
	if backlog < 0 || backlog > 4096 {
		backlog = 4096
	}
	return -int64(s.listen(k, p, f, backlog))
}

// accept(fd, addr, addrlen) and accept4(..., flags).
func sysAccept(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], a[1], a[2], 0}
	return sysAccept4(k, p, &b)
}

func sysAccept4(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(a[3])
	if flags&^(sockNonblock|sockCloexec) != 0 {
		return -int64(EINVAL)
	}
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	return s.accept(k, p, f, flags, a[1], a[2])
}

// acceptDone finishes an accept with the new file nf: its descriptor in p's table and the
// peer's address written out (EFAULT closes the descriptor again, as Linux does).
func (k *Kernel) acceptDone(p *Process, nf *File, flags int, peer []byte, addr, addrlen uint64) int64 {
	fd, e := p.fds.install(nf, flags&sockCloexec != 0, 0)
	if e != 0 {
		nf.put()
		return -int64(e)
	}
	if e := k.putSockaddr(p, addr, addrlen, peer); e != 0 {
		_ = p.fds.close(uint64(fd))
		return -int64(e)
	}
	return int64(fd)
}

// connect(fd, addr, addrlen).
func sysConnect(k *Kernel, p *Process, a *[6]uint64) int64 {
	addr, e := k.sockaddrArg(p, a[1], a[2])
	if e != 0 {
		return -int64(e)
	}
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	return s.connect(k, p, f, addr)
}

// getsockname(fd, addr, addrlen) and getpeername.
func sysGetsockname(k *Kernel, p *Process, a *[6]uint64) int64 { return sockName(k, p, a, false) }
func sysGetpeername(k *Kernel, p *Process, a *[6]uint64) int64 { return sockName(k, p, a, true) }

func sockName(k *Kernel, p *Process, a *[6]uint64, peer bool) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	addr, e := s.name(k, f, peer)
	if e != 0 {
		return -int64(e)
	}
	return -int64(k.putSockaddr(p, a[1], a[2], addr))
}

// shutdown(fd, how).
func sysShutdown(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	how := int(int32(a[1]))
	if how < shutRd || how > shutRdwr {
		return -int64(EINVAL)
	}
	return -int64(s.shutdown(k, p, f, how))
}

// setsockopt(fd, level, optname, optval, optlen) and getsockopt(..., optval, optlen*).
func sysSetsockopt(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	n := int32(a[4])
	if n < 0 {
		return -int64(EINVAL)
	}
	val := make([]byte, min(int(n), 1<<16))
	if len(val) > 0 {
		if _, ok := k.copyIn(p, a[3], val); !ok {
			return -int64(EFAULT)
		}
	}
	return -int64(s.setsockopt(k, p, f, int(int32(a[1])), int(int32(a[2])), val))
}

func sysGetsockopt(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	var lb [4]byte
	if _, ok := k.copyIn(p, a[4], lb[:]); !ok {
		return -int64(EFAULT)
	}
	n := int32(le.Uint32(lb[:]))
	if n < 0 {
		return -int64(EINVAL)
	}
	val, e := s.getsockopt(k, p, f, int(int32(a[1])), int(int32(a[2])))
	if e != 0 {
		return -int64(e)
	}
	c := min(int(n), len(val))
	if c > 0 {
		if _, ok := k.copyOut(p, a[3], val[:c]); !ok {
			return -int64(EFAULT)
		}
	}
	le.PutUint32(lb[:], uint32(c))
	if _, ok := k.copyOut(p, a[4], lb[:]); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// readMsghdr reads a struct msghdr and its iovec array.
func (k *Kernel) readMsghdr(p *Process, va uint64) (*msghdr, Errno) {
	var b [56]byte
	if _, ok := k.copyIn(p, va, b[:]); !ok {
		return nil, EFAULT
	}
	m := &msghdr{name: le.Uint64(b[0:]), namelen: le.Uint32(b[8:]), control: le.Uint64(b[32:]),
		ctrllen: le.Uint64(b[40:]), va: va}
	data, e := k.readIovecs(p, le.Uint64(b[16:]), le.Uint64(b[24:]))
	if e != 0 {
		return nil, e
	}
	m.data = data
	return m, 0
}

// readCmsgs parses the control messages of m (sendmsg): each a struct cmsghdr
// {cmsg_len, cmsg_level, cmsg_type} and its data, 8-byte aligned. A malformed one is
// EINVAL, as __scm_send() and cmsg_nxthdr() find it.
func (k *Kernel) readCmsgs(p *Process, m *msghdr) ([]cmsg, Errno) {
	if m.ctrllen == 0 {
		return nil, 0
	}
	if m.ctrllen > 1<<20 {
		return nil, ENOBUFS
	}
	buf := make([]byte, m.ctrllen)
	if _, ok := k.copyIn(p, m.control, buf); !ok {
		return nil, EFAULT
	}
	var out []cmsg
	for off := uint64(0); off+16 <= uint64(len(buf)); {
		n := le.Uint64(buf[off:])
		if n < 16 || off+n > uint64(len(buf)) {
			return nil, EINVAL
		}
		out = append(out, cmsg{level: int32(le.Uint32(buf[off+8:])), typ: int32(le.Uint32(buf[off+12:])),
			data: buf[off+16 : off+n]})
		off += (n + 7) &^ 7
	}
	return out, 0
}

// cmsgBytes lays out one control message with its header, padded to 8 bytes.
func cmsgBytes(level, typ int32, data []byte) []byte {
	n := 16 + len(data)
	b := make([]byte, (n+7)&^7)
	le.PutUint64(b[0:], uint64(n))
	le.PutUint32(b[8:], uint32(level))
	le.PutUint32(b[12:], uint32(typ))
	copy(b[16:], data)
	return b
}

// finishRecvmsg writes back what recvmsg reports in the struct msghdr: msg_namelen,
// msg_controllen and msg_flags; addr and ctl are what the socket has to give (ctl is cut
// to msg_controllen, with MSG_CTRUNC).
func (k *Kernel) finishRecvmsg(p *Process, m *msghdr, addr, ctl []byte) Errno {
	if m.va == 0 {
		if m.fromVA != 0 {
			return k.putSockaddr(p, m.fromVA, m.fromLenVA, addr)
		}
		return 0
	}
	if m.name != 0 && addr != nil {
		n := min(int(m.namelen), len(addr))
		if n > 0 {
			if _, ok := k.copyOut(p, m.name, addr[:n]); !ok {
				return EFAULT
			}
		}
		m.namelen = uint32(len(addr))
	} else {
		m.namelen = uint32(len(addr))
	}
	if uint64(len(ctl)) > m.ctrllen {
		ctl = ctl[:m.ctrllen]
		m.flags |= msgCtrunc
	}
	if len(ctl) > 0 {
		if _, ok := k.copyOut(p, m.control, ctl); !ok {
			return EFAULT
		}
	}
	var b [4]byte
	le.PutUint32(b[:], m.namelen)
	if _, ok := k.copyOut(p, m.va+8, b[:]); !ok {
		return EFAULT
	}
	var c [8]byte
	le.PutUint64(c[:], uint64(len(ctl)))
	if _, ok := k.copyOut(p, m.va+40, c[:]); !ok {
		return EFAULT
	}
	le.PutUint32(b[:], m.flags)
	if _, ok := k.copyOut(p, m.va+48, b[:]); !ok {
		return EFAULT
	}
	return 0
}

// sendmsg(fd, msg, flags).
func sysSendmsg(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	m, e := k.readMsghdr(p, a[1])
	if e != 0 {
		return -int64(e)
	}
	return k.doSendmsg(p, f, s, m, int(int32(a[2])))
}

func (k *Kernel) doSendmsg(p *Process, f *File, s sockOps, m *msghdr, flags int) int64 {
	ctl, e := k.readCmsgs(p, m)
	if e != 0 {
		return -int64(e)
	}
	var to []byte
	if m.name != 0 && m.namelen > 0 {
		if to, e = k.sockaddrArg(p, m.name, uint64(m.namelen)); e != 0 {
			return -int64(e)
		}
	}
	return s.sendmsg(k, p, f, m, ctl, to, flags)
}

// recvmsg(fd, msg, flags).
func sysRecvmsg(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	m, e := k.readMsghdr(p, a[1])
	if e != 0 {
		return -int64(e)
	}
	return s.recvmsg(k, p, f, m, int(int32(a[2])))
}

// sendto(fd, buf, len, flags, dest, addrlen) and recvfrom(fd, buf, len, flags, src, addrlen).
func sysSendto(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	var to []byte
	if a[4] != 0 {
		if to, e = k.sockaddrArg(p, a[4], a[5]); e != 0 {
			return -int64(e)
		}
	}
	m := &msghdr{data: userBuf(a[1], min(a[2], maxRW))}
	return s.sendmsg(k, p, f, m, nil, to, int(int32(a[3])))
}

func sysRecvfrom(k *Kernel, p *Process, a *[6]uint64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	m := &msghdr{data: userBuf(a[1], min(a[2], maxRW)), fromVA: a[4], fromLenVA: a[5]}
	return s.recvmsg(k, p, f, m, int(int32(a[3])))
}

// sendmmsg(fd, msgvec, vlen, flags) and recvmmsg(fd, msgvec, vlen, flags, timeout): one
// message at a time (struct mmsghdr: a msghdr and its length), the count sent or received
// returned; an error after the first message ends the batch with the count so far.
func sysSendmmsg(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.doMmsg(p, a, func(f *File, s sockOps, m *msghdr, flags int) int64 {
		return k.doSendmsg(p, f, s, m, flags)
	})
}

func sysRecvmmsg(k *Kernel, p *Process, a *[6]uint64) int64 {
	return k.doMmsg(p, a, func(f *File, s sockOps, m *msghdr, flags int) int64 {
		return s.recvmsg(k, p, f, m, flags)
	})
}

// doMmsg is sendmmsg's and recvmmsg's loop over the vector: one (send or receive) for each
// struct mmsghdr, whose msg_len it sets. The messages after the first never block (Linux
// blocks for each unless recvmmsg has MSG_WAITFORONE; the README says so), and recvmmsg's
// timeout is not applied.
func (k *Kernel) doMmsg(p *Process, a *[6]uint64, one func(f *File, s sockOps, m *msghdr, flags int) int64) int64 {
	f, s, e := sockArg(p, a[0])
	if e != 0 {
		return -int64(e)
	}
	vlen := min(a[2], 1024) // UIO_MAXIOV
	var i uint64
	for ; i < vlen; i++ {
		va := a[1] + 64*i
		m, e := k.readMsghdr(p, va)
		if e != 0 {
			if i > 0 {
				break
			}
			return -int64(e)
		}
		r := one(f, s, m, int(int32(a[3]))|msgDontwaitIf(i > 0))
		if r < 0 {
			if i > 0 {
				break
			}
			return r
		}
		var b [4]byte
		le.PutUint32(b[:], uint32(r))
		k.copyOut(p, va+56, b[:])
	}
	return int64(i)
}

// msgDontwaitIf is MSG_DONTWAIT when cond: the messages of a batch after the first do not
// wait.
func msgDontwaitIf(cond bool) int {
	if cond {
		return msgDontwait
	}
	return 0
}

// socketStat is what fstat says of a socket: S_IFSOCK, mode 0777, the socket's inode.
func socketStat(ino uint64, st *hostfs.Stat) {
	*st = hostfs.Stat{Dev: 0x8, Ino: ino, Nlink: 1, Mode: hostfs.S_IFSOCK | 0o777, Blksize: 4096}
}

// ENOBUFS: no buffer space; ENOSPC: no space left.
const (
	ENOBUFS Errno = 105
	ENOSPC  Errno = 28
)

// pollRdhup is POLLRDHUP: the peer shut down writing.
const pollRdhup = 0x2000
