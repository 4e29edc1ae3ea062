package minikernel

import (
	"fmt"
	"slices"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// AF_UNIX sockets between guest processes: stream, datagram and seqpacket; socketpair;
// bind to a path (a socket file made in the file system, which connect finds by its inode)
// or to a name in the abstract namespace; listen, connect and accept; descriptors and
// credentials passed in control messages (SCM_RIGHTS, SCM_CREDENTIALS); SO_PEERCRED and
// SO_PASSCRED. Linux's net/unix/af_unix.c. Data is queued in the receiving socket as
// messages (a stream's writes are read across message boundaries, but never past one that
// carries descriptors); a sender waits while its bytes in flight pass its send buffer, or,
// for datagrams, while the receiver's queue is longer than net.unix.max_dgram_qlen. A host
// process cannot connect to a guest's socket file (nor a guest to a host's): the socket is
// in emu's kernel, the file only names it.

const (
	unixSndbuf      = 212992 // net.core.wmem_default
	unixMaxDgramQ   = 10     // net.unix.max_dgram_qlen
	unixPathMax     = 108
	sockMinSndbuf   = 4608 // SOCK_MIN_SNDBUF
	sockMinRcvbuf   = 2304 // SOCK_MIN_RCVBUF
	overflowID      = 65534
	unixUnconnected = iota
)

// Socket states (Linux's TCP_* values, which AF_UNIX reuses).
const (
	ssUnconnected = 0
	ssConnected   = 1 // TCP_ESTABLISHED
	ssListening   = 10
)

// ucred is struct ucred: who sent, or who is at the other end.
type ucred struct {
	pid      int32
	uid, gid uint32
}

func (c ucred) bytes() []byte {
	b := make([]byte, 12)
	le.PutUint32(b[0:], uint32(c.pid))
	le.PutUint32(b[4:], c.uid)
	le.PutUint32(b[8:], c.gid)
	return b
}

// credOf is p's ucred.
func credOf(p *Process) ucred { return ucred{int32(p.PID), p.cred.euid, p.cred.egid} }

// skb is one message in a receive queue.
type skb struct {
	data []byte
	off  int     // a stream reader's position in data
	fds  []*File // SCM_RIGHTS, one reference each
	cred ucred
	from *unixSock // the sender (for a datagram's source address)
	size int       // bytes charged to the sender's send buffer
}

// unixSock is one AF_UNIX socket.
type unixSock struct {
	typ      int
	state    int
	addr     []byte // the bound address as getsockname returns it (nil: unbound)
	pathID   *hostfs.Stat
	abstract string
	peer     *unixSock
	peerCred ucred
	hasPeer  bool // peerCred is set (SO_PEERCRED)
	backlog  int
	acceptq  []*unixSock // connections waiting for accept (server ends)
	rcvq     []*skb
	inflight int // bytes this socket has sent that are still queued (its send buffer)
	shutRd   bool
	shutWr   bool
	peerGone bool // the peer closed (EOF, EPIPE)
	err      Errno
	passcred bool
	sndbuf   int
	rcvbuf   int
	rcvtimeo uint64
	sndtimeo uint64
	peekOff  int
	opts     map[int]int32 // other SOL_SOCKET options set (SO_REUSEADDR, SO_KEEPALIVE, ...)
	wq       waitQueue
	ino      uint64
	closed   bool
	owner    ucred // the creator's credentials (socketpair's peer credentials)
	listener ucred // a listener's credentials at listen() time (its clients' peer)
}

func (u *unixSock) linkName(f *File) string { return fmt.Sprintf("socket:[%d]", u.ino) }

func (u *unixSock) stat(f *File, st *hostfs.Stat) { socketStat(u.ino, st) }

// newUnixSock makes an AF_UNIX socket (SOCK_RAW is a datagram socket, as in unix_create()).
func (k *Kernel) newUnixSock(p *Process, typ, proto int) (sockOps, Errno) {
	if proto != 0 && proto != afUnix {
		return nil, EPROTONOSUPPORT
	}
	switch typ {
	case sockStream, sockDgram, sockSeqpacket:
	case sockRaw:
		typ = sockDgram
	default:
		return nil, ESOCKTNOSUPPORT
	}
	k.ns.pipes++
	return &unixSock{typ: typ, sndbuf: unixSndbuf, rcvbuf: unixSndbuf, ino: k.ns.pipes,
		owner: credOf(p)}, 0
}

// pair connects two new sockets to each other (socketpair).
func (u *unixSock) pair(v *unixSock) {
	u.peer, v.peer = v, u
	u.state, v.state = ssConnected, ssConnected
	u.peerCred, v.peerCred = v.owner, u.owner
	u.hasPeer, v.hasPeer = true, true
}

// connectionOriented is stream or seqpacket.
func (u *unixSock) connectionOriented() bool { return u.typ != sockDgram }

// parseUnixAddr reads a sockaddr_un: the abstract name (sun_path[0] = 0: the rest, all of
// it), a path (up to its NUL), or, with only the family (addrlen 2), an autobind request.
func parseUnixAddr(addr []byte) (path, abstract string, auto bool, e Errno) {
	if len(addr) < 2 || len(addr) > 2+unixPathMax || le.Uint16(addr) != afUnix {
		return "", "", false, EINVAL
	}
	if len(addr) == 2 {
		return "", "", true, 0
	}
	sp := addr[2:]
	if sp[0] == 0 {
		return "", string(sp), false, 0
	}
	return cString(sp), "", false, 0
}

// unixAddrBytes is the sockaddr_un of a path (family, path, NUL) or abstract name.
func unixAddrBytes(path, abstract string) []byte {
	if abstract != "" {
		return append([]byte{afUnix, 0}, abstract...)
	}
	b := append([]byte{afUnix, 0}, path...)
	return append(b, 0)
}

// bind(fd, addr): a path gets a socket file (EADDRINUSE when the name exists); an abstract
// name must be free; an autobind picks a free abstract name of five hex digits.
func (u *unixSock) bind(k *Kernel, p *Process, f *File, addr []byte) Errno {
	path, abstract, auto, e := parseUnixAddr(addr)
	if e != 0 {
		return e
	}
	if u.addr != nil && (auto || abstract != "") {
		return EINVAL
	}
	return k.unixBind(p, u, path, abstract, auto)
}

func (k *Kernel) unixBind(p *Process, u *unixSock, path, abstract string, auto bool) Errno {
	if k.unixAbstract == nil {
		k.unixAbstract = map[string]*unixSock{}
		k.unixPaths = map[[2]uint64]*unixSock{}
	}
	switch {
	case auto:
		for i := 0; i < 1<<20; i++ {
			k.unixAuto = (k.unixAuto + 1) & 0xfffff
			name := fmt.Sprintf("\x00%05x", k.unixAuto)
			if k.unixAbstract[abstractKey(u.typ, name)] == nil {
				abstract = name
				break
			}
		}
		if abstract == "" {
			return ENOSPC
		}
		fallthrough
	case abstract != "":
		if k.unixAbstract[abstractKey(u.typ, abstract)] != nil {
			return EADDRINUSE
		}
		k.unixAbstract[abstractKey(u.typ, abstract)] = u
		u.abstract = abstract
		u.addr = unixAddrBytes("", abstract)
		return 0
	}
	g, e := k.absPath(p, fdcwdArg, path)
	if e != 0 {
		return e
	}
	r, e := k.newName(g)
	if e == EEXIST {
		return EADDRINUSE
	}
	if e != 0 {
		return e
	}
	defer r.close()
	mode := uint32(0o777) &^ p.fs.mask()
	var exists hostfs.Stat
	if hostFstatat(r.fd, r.name, &exists, atSymlinkNofollow) == 0 {
		return EADDRINUSE // the name is taken (unix_bind_bsd() makes the node first)
	}
	if u.addr != nil {
		return EINVAL
	}
	if e := hostfs.Mknodat(r.fd, r.name, hostfs.S_IFSOCK|mode, 0); e != 0 {
		if Errno(e) == EEXIST {
			return EADDRINUSE
		}
		return Errno(e)
	}
	if mode&k.hostUmask() != 0 {
		_ = hostfs.Fchmodat(r.fd, r.name, mode, false)
	}
	k.stampCreated(p, r.fd, r.name)
	var st hostfs.Stat
	if e := hostFstatat(r.fd, r.name, &st, atSymlinkNofollow); e != 0 {
		return e
	}
	k.unixPaths[[2]uint64{st.Dev, st.Ino}] = u
	u.pathID = &st
	u.addr = unixAddrBytes(path, "")
	return 0
}

// abstractKey is the key of an abstract name: the socket type and the name.
func abstractKey(typ int, name string) string { return string(rune('0'+typ)) + name }

// unixFind finds the socket of type typ an address names: ECONNREFUSED when nothing listens there (a
// name nobody bound, a socket file of a closed socket or of the host, a file that is not a
// socket), ENOENT for a path that does not exist.
func (k *Kernel) unixFind(p *Process, addr []byte, typ int) (*unixSock, Errno) {
	path, abstract, auto, e := parseUnixAddr(addr)
	if e != 0 || auto {
		return nil, EINVAL
	}
	if abstract != "" {
		// An abstract name is bound per socket type: another type's is not found.
		if u := k.unixAbstract[abstractKey(typ, abstract)]; u != nil {
			return u, 0
		}
		return nil, ECONNREFUSED
	}
	g, e := k.absPath(p, fdcwdArg, path)
	if e != 0 {
		return nil, e
	}
	var st hostfs.Stat
	if e := k.statPath(p, g, true, &st); e != 0 {
		return nil, e
	}
	if st.Type() != hostfs.S_IFSOCK {
		return nil, ECONNREFUSED
	}
	if u := k.unixPaths[[2]uint64{st.Dev, st.Ino}]; u != nil {
		return u, 0
	}
	return nil, ECONNREFUSED
}

// listen(fd, backlog): a bound stream or seqpacket socket starts taking connections.
func (u *unixSock) listen(k *Kernel, p *Process, f *File, backlog int) Errno {
	switch {
	case !u.connectionOriented():
		return EOPNOTSUPP
	case u.state == ssConnected, u.addr == nil:
		return EINVAL
	}
	u.state = ssListening
	u.backlog = backlog
	u.listener = credOf(p)
	k.wakeAll(&u.wq)
	return 0
}

// connect(fd, addr): a stream or seqpacket socket joins the listener's queue (waiting
// while the queue is full), and is connected at once, as in unix_stream_connect(); a
// datagram socket takes the address as its default peer (AF_UNSPEC forgets it).
func (u *unixSock) connect(k *Kernel, p *Process, f *File, addr []byte) int64 {
	if !u.connectionOriented() {
		if len(addr) >= 2 && le.Uint16(addr) == afUnspec {
			u.peer, u.state = nil, ssUnconnected
			return 0
		}
		v, e := k.unixFind(p, addr, u.typ)
		if e != 0 {
			return -int64(e)
		}
		if v.typ != u.typ {
			return -int64(EPROTOTYPE)
		}
		u.peer, u.state, u.peerGone = v, ssConnected, false
		return 0
	}
	switch {
	case u.state == ssConnected:
		return -int64(EISCONN)
	case u.state == ssListening:
		return -int64(EINVAL)
	}
	v, e := k.unixFind(p, addr, u.typ)
	if e != 0 {
		return -int64(e)
	}
	if v.typ != u.typ {
		return -int64(EPROTOTYPE)
	}
	return k.sleepOnQueues(p, f.nonblock(), func(add func(*waitQueue)) { add(&v.wq) }, func() int64 {
		switch {
		case v.closed || v.state != ssListening:
			return -int64(ECONNREFUSED)
		case u.state == ssConnected:
			return -int64(EISCONN)
		case len(v.acceptq) > v.backlog:
			return -int64(EAGAIN)
		}
		s := &unixSock{typ: u.typ, sndbuf: unixSndbuf, rcvbuf: unixSndbuf, owner: v.owner,
			addr: v.addr, passcred: v.passcred}
		k.ns.pipes++
		s.ino = k.ns.pipes
		s.peer, u.peer = u, s
		s.state, u.state = ssConnected, ssConnected
		s.peerCred, s.hasPeer = credOf(p), true
		u.peerCred, u.hasPeer = v.listener, true
		v.acceptq = append(v.acceptq, s)
		k.wakeAll(&v.wq)
		return 0
	}, true)
}

// accept: the first queued connection, as a new open file (waiting for one).
func (u *unixSock) accept(k *Kernel, p *Process, f *File, flags int, addr, addrlen uint64) int64 {
	if !u.connectionOriented() {
		return -int64(EOPNOTSUPP)
	}
	if u.state != ssListening {
		return -int64(EINVAL)
	}
	return k.sleepOn(p, f, func() int64 {
		if len(u.acceptq) == 0 {
			return -int64(EAGAIN)
		}
		s := u.acceptq[0]
		u.acceptq = u.acceptq[1:]
		k.wakeAll(&u.wq)
		peer := []byte{afUnix, 0}
		if s.peer != nil && s.peer.addr != nil {
			peer = s.peer.addr
		}
		return k.acceptDone(p, k.sockFile(s, flags), flags, peer, addr, addrlen)
	})
}

// sendFiles takes the descriptors of an SCM_RIGHTS message: a reference to each open file.
func (k *Kernel) sendFiles(p *Process, data []byte) ([]*File, Errno) {
	n := len(data) / 4
	if n > scmMaxFD {
		return nil, EINVAL
	}
	var fs []*File
	for i := 0; i < n; i++ {
		f := fdArg(p, uint64(le.Uint32(data[4*i:])))
		if f == nil {
			for _, g := range fs {
				g.put()
			}
			return nil, EBADF
		}
		f.get()
		fs = append(fs, f)
	}
	return fs, 0
}

// scmSend reads the control messages of a sendmsg: descriptors and credentials (which must
// be the sender's own unless it has the privileges to claim others). Linux's __scm_send().
func (k *Kernel) scmSend(p *Process, ctl []cmsg) ([]*File, *ucred, Errno) {
	var fds []*File
	var cred *ucred
	drop := func() {
		for _, f := range fds {
			f.put()
		}
	}
	for _, c := range ctl {
		if c.level != solSocket {
			continue
		}
		switch c.typ {
		case scmRights:
			if fds != nil {
				drop()
				return nil, nil, EINVAL
			}
			fs, e := k.sendFiles(p, c.data)
			if e != 0 {
				return nil, nil, e
			}
			fds = fs
		case scmCredentials:
			if len(c.data) != 12 {
				drop()
				return nil, nil, EINVAL
			}
			cr := ucred{int32(le.Uint32(c.data[0:])), le.Uint32(c.data[4:]), le.Uint32(c.data[8:])}
			own := credOf(p)
			c := &p.cred
			uidOK := cr.uid == c.ruid || cr.uid == c.euid || cr.uid == c.suid || c.capable(capSetuid)
			gidOK := cr.gid == c.rgid || cr.gid == c.egid || cr.gid == c.sgid || c.capable(capSetgid)
			if (cr.pid != own.pid && !c.capable(capSysAdm)) || !uidOK || !gidOK {
				drop()
				return nil, nil, EPERM
			}
			cred = &cr
		default:
			drop()
			return nil, nil, EINVAL
		}
	}
	return fds, cred, 0
}

// sendmsg: a stream's bytes go to the peer in pieces of at most half the send buffer
// (the descriptors with the first), waiting for room; a datagram or seqpacket message goes
// whole, or not at all (EMSGSIZE past the send buffer).
func (u *unixSock) sendmsg(k *Kernel, p *Process, f *File, m *msghdr, ctl []cmsg, to []byte, flags int) int64 {
	if flags&msgOOB != 0 {
		return -int64(EOPNOTSUPP)
	}
	var target *unixSock
	switch {
	case u.typ == sockDgram && to != nil:
		v, e := k.unixFind(p, to, u.typ)
		if e != 0 {
			return -int64(e)
		}
		if v.typ != sockDgram {
			return -int64(EPROTOTYPE)
		}
		target = v
	case u.typ == sockDgram:
		if u.peer == nil {
			return -int64(ENOTCONN)
		}
		if u.peerGone || u.peer.closed {
			u.peer, u.state = nil, ssUnconnected
			return -int64(ECONNREFUSED)
		}
		target = u.peer
	case to != nil && u.state != ssConnected:
		return -int64(EOPNOTSUPP)
	case to != nil:
		return -int64(EISCONN)
	default:
		if u.state != ssConnected {
			if u.typ == sockSeqpacket {
				return -int64(ENOTCONN)
			}
			return -int64(ENOTCONN)
		}
		target = u.peer
	}
	fds, cred, e := k.scmSend(p, ctl)
	if e != 0 {
		return -int64(e)
	}
	sender := credOf(p)
	if cred != nil {
		sender = *cred
	}
	total := int(m.data.total)
	dropFds := func() {
		for _, f := range fds {
			f.put()
		}
	}
	if u.typ != sockStream && total > u.sndbuf-32 {
		dropFds()
		return -int64(EMSGSIZE)
	}
	nonblock := f.nonblock() || flags&msgDontwait != 0
	sent := 0
	epipe := func() int64 {
		dropFds()
		if flags&msgNosignal == 0 {
			k.sendSignal(p, SIGPIPE)
		}
		return -int64(EPIPE)
	}
	try := func() int64 {
		for {
			if u.connectionOriented() && (u.shutWr || u.peerGone || target.closed || target.shutRd) {
				if sent > 0 {
					return int64(sent)
				}
				return epipe()
			}
			if u.typ == sockDgram {
				if target.closed {
					dropFds()
					return -int64(ECONNREFUSED)
				}
				if target.peer != nil && target.peer != u && !target.peer.closed {
					dropFds()
					return -int64(EPERM) // the receiver is connected to another socket
				}
				if target.shutRd {
					dropFds()
					return -int64(EPIPE)
				}
				if target.peer != u && len(target.rcvq) > unixMaxDgramQ {
					return -int64(EAGAIN) // the receiver's queue is full (unix_recvq_full())
				}
				if u.inflight >= u.sndbuf {
					return -int64(EAGAIN)
				}
			}
			n := total - sent
			if u.typ == sockStream {
				if u.inflight >= u.sndbuf {
					if sent > 0 && nonblock {
						return int64(sent)
					}
					return -int64(EAGAIN)
				}
				n = min(n, u.sndbuf/2-64)
			}
			buf := make([]byte, n)
			if got, ok := m.data.load(k, p, uint64(sent), buf); !ok {
				if sent > 0 {
					return int64(sent)
				}
				dropFds()
				return -int64(EFAULT)
			} else {
				buf = buf[:got]
			}
			s := &skb{data: buf, cred: sender, from: u, size: skbTruesize(len(buf))}
			if sent == 0 {
				s.fds, fds = fds, nil
			}
			target.rcvq = append(target.rcvq, s)
			u.inflight += s.size
			sent += len(buf)
			k.wakeAll(&target.wq)
			if sent >= total {
				return int64(sent)
			}
		}
	}
	return k.sleepOnQueues(p, nonblock, func(add func(*waitQueue)) {
		add(&u.wq)
		add(&target.wq)
	}, func() int64 {
		r := try()
		if r == -int64(EAGAIN) && sent > 0 && nonblock {
			return int64(sent)
		}
		return r
	}, true)
}

// skbTruesize is what a message of n bytes charges to its sender's send buffer: the data
// in a kmalloc'd head with its skb_shared_info (a power of two of at least 512 bytes), and
// the sk_buff itself (256), as SKB_TRUESIZE() counts it for the kernel's allocation.
func skbTruesize(n int) int {
	head := (n+63)&^63 + 320
	b := 512
	for b < head {
		b <<= 1
	}
	return b + 256
}

// consumed gives a sender back the room a message took in its send buffer.
func (k *Kernel) consumed(s *skb) {
	if s.from != nil {
		s.from.inflight -= s.size
		s.size = 0
		k.wakeAll(&s.from.wq)
	}
}

// recvmsg: a stream reads across its messages (not past one carrying descriptors, nor,
// once it has some bytes, into one), a datagram or seqpacket socket one message (the rest
// of it dropped, MSG_TRUNC). Descriptors arrive as SCM_RIGHTS (those that do not fit in
// the control buffer are closed, MSG_CTRUNC), credentials as SCM_CREDENTIALS with
// SO_PASSCRED.
func (u *unixSock) recvmsg(k *Kernel, p *Process, f *File, m *msghdr, flags int) int64 {
	if flags&msgOOB != 0 {
		return -int64(EOPNOTSUPP)
	}
	if u.state == ssListening || (u.connectionOriented() && u.state != ssConnected && len(u.rcvq) == 0) {
		return -int64(EINVAL) // unix_stream_read_generic(): not established
	}
	nonblock := f.nonblock() || flags&msgDontwait != 0
	total := int(m.data.total)
	copied := 0
	var got []*skb
	try := func() int64 {
		if u.err != 0 {
			e := u.err
			u.err = 0
			return -int64(e)
		}
		for len(u.rcvq) > 0 {
			s := u.rcvq[0]
			if u.typ == sockStream && copied > 0 && (len(s.fds) > 0 || len(got) > 0 && len(got[len(got)-1].fds) > 0) {
				break
			}
			n := min(len(s.data)-s.off, total-copied)
			if n > 0 {
				if c, ok := m.data.store(k, p, uint64(copied), s.data[s.off:s.off+n]); !ok {
					if copied == 0 {
						return -int64(EFAULT)
					}
					break
				} else {
					n = c
				}
			}
			copied += n
			got = append(got, s)
			if u.typ != sockStream {
				if n < len(s.data) {
					m.flags |= msgTrunc
				}
				if flags&msgPeek == 0 {
					u.rcvq = u.rcvq[1:]
					k.consumed(s)
				}
				if flags&msgTrunc != 0 {
					copied = len(s.data)
				}
				return int64(copied)
			}
			if flags&msgPeek != 0 {
				break
			}
			s.off += n
			if s.off < len(s.data) {
				break
			}
			u.rcvq = u.rcvq[1:]
			k.consumed(s)
			if len(s.fds) > 0 || copied >= total {
				break
			}
		}
		switch {
		case copied > 0 && (flags&msgWaitall == 0 || copied >= total || nonblock):
			return int64(copied)
		case copied > 0 && (u.shutRd || u.peerGone || u.peer == nil || u.peer.shutWr || u.peer.closed):
			return int64(copied)
		case total == 0 && u.typ == sockStream:
			return 0
		case u.shutRd:
			return 0
		case u.connectionOriented() && (u.peerGone || u.peer == nil || u.peer.shutWr || u.peer.closed):
			return 0
		}
		return -int64(EAGAIN)
	}
	finish := func(r int64) int64 {
		if u.typ != sockStream && copied > total {
			r = int64(copied) // MSG_TRUNC asked for the real length
		}
		var ctl []byte
		var fds []*File
		for _, s := range got {
			if len(s.fds) > 0 {
				fds = s.fds
				if flags&msgPeek == 0 {
					s.fds = nil
				}
			}
		}
		if u.passcred && len(got) > 0 {
			ctl = append(ctl, cmsgBytes(solSocket, scmCredentials, got[0].cred.bytes())...)
		}
		if len(fds) > 0 {
			ctl = append(ctl, k.receiveFiles(p, m, fds, uint64(len(ctl)), flags, flags&msgPeek == 0)...)
		}
		if len(got) > 0 && got[0].from != nil && u.typ == sockDgram {
			m.from = got[0].from.addr
			if m.from == nil {
				m.from = []byte{afUnix, 0}
			}
		}
		if m.from == nil && u.typ != sockDgram && u.peer != nil {
			m.from = u.peer.addr
			if m.from == nil {
				m.from = []byte{afUnix, 0}
			}
		}
		if e := k.finishRecvmsg(p, m, m.from, ctl); e != 0 {
			return -int64(e)
		}
		return r
	}
	return k.sleepOnQueues(p, nonblock, func(add func(*waitQueue)) { add(&u.wq) }, func() int64 {
		r := try()
		if r < 0 {
			return r
		}
		return finish(r)
	}, true)
}

// receiveFiles installs the descriptors of an SCM_RIGHTS message in p's table, as many as
// fit in the control buffer after used bytes, and returns the control message; the files
// that do not fit are closed, with MSG_CTRUNC. When take is false (MSG_PEEK) the message
// keeps its references and the new descriptors get their own.
func (k *Kernel) receiveFiles(p *Process, m *msghdr, fds []*File, used uint64, flags int, take bool) []byte {
	fit := 0
	if m.ctrllen > used+16 {
		fit = int((m.ctrllen - used - 16) / 4)
	}
	var nums []byte
	for i, f := range fds {
		if !take {
			f.get()
		}
		if i >= fit {
			m.flags |= msgCtrunc
			f.put()
			continue
		}
		fd, e := p.fds.install(f, flags&msgCmsgCloexe != 0, 0)
		if e != 0 {
			m.flags |= msgCtrunc
			f.put()
			continue
		}
		var b [4]byte
		le.PutUint32(b[:], uint32(fd))
		nums = append(nums, b[:]...)
	}
	if len(nums) == 0 {
		return nil
	}
	c := cmsgBytes(solSocket, scmRights, nums)
	return c[:16+len(nums)] // the last message's padding is not counted (CMSG_LEN)
}

// shutdown(fd, how).
func (u *unixSock) shutdown(k *Kernel, p *Process, f *File, how int) Errno {
	if u.connectionOriented() && u.state != ssConnected {
		return ENOTCONN
	}
	if how == shutRd || how == shutRdwr {
		u.shutRd = true
	}
	if how == shutWr || how == shutRdwr {
		u.shutWr = true
	}
	k.wakeAll(&u.wq)
	if u.peer != nil {
		k.wakeAll(&u.peer.wq)
	}
	return 0
}

// name is getsockname (the bound address, or just the family) and getpeername.
func (u *unixSock) name(k *Kernel, f *File, peer bool) ([]byte, Errno) {
	if !peer {
		if u.addr == nil {
			return []byte{afUnix, 0}, 0
		}
		return u.addr, 0
	}
	if u.peer == nil || u.state != ssConnected {
		return nil, ENOTCONN
	}
	if u.peer.addr == nil {
		return []byte{afUnix, 0}, 0
	}
	return u.peer.addr, 0
}

// intOpt reads an int option value (EINVAL when shorter than 4 bytes).
func intOpt(val []byte) (int32, Errno) {
	if len(val) < 4 {
		return 0, EINVAL
	}
	return int32(le.Uint32(val)), 0
}

func intBytes(v int32) []byte {
	b := make([]byte, 4)
	le.PutUint32(b, uint32(v))
	return b
}

// timevalOpt reads a struct timeval option (SO_RCVTIMEO) into nanoseconds (0: none).
func timevalOpt(val []byte) (uint64, Errno) {
	if len(val) < 16 {
		return 0, EINVAL
	}
	sec, usec := int64(le.Uint64(val)), int64(le.Uint64(val[8:]))
	if usec < 0 || usec >= 1e6 {
		return 0, EDOM
	}
	if sec < 0 {
		return 0, 0
	}
	return uint64(sec)*nsPerSec + uint64(usec)*1000, 0
}

func timevalBytes(ns uint64) []byte {
	b := make([]byte, 16)
	le.PutUint64(b, ns/nsPerSec)
	le.PutUint64(b[8:], ns%nsPerSec/1000)
	return b
}

// EDOM: an argument out of the function's domain (a timeval's microseconds).
const EDOM Errno = 33

// setsockopt at SOL_SOCKET: SO_PASSCRED, SO_SNDBUF and SO_RCVBUF (doubled, with Linux's
// minimums), the timeouts, and the flags programs set that change nothing here (kept, so
// getsockopt reads them back). Other levels have no options for AF_UNIX: EOPNOTSUPP.
func (u *unixSock) setsockopt(k *Kernel, p *Process, f *File, level, opt int, val []byte) Errno {
	if level != solSocket {
		return EOPNOTSUPP
	}
	switch opt {
	case soRcvtimeo, soSndtimeo:
		ns, e := timevalOpt(val)
		if e != 0 {
			return e
		}
		if opt == soRcvtimeo {
			u.rcvtimeo = ns
		} else {
			u.sndtimeo = ns
		}
		return 0
	case soLinger:
		if len(val) < 8 {
			return EINVAL
		}
		return 0
	}
	v, e := intOpt(val)
	if e != 0 {
		return e
	}
	switch opt {
	case soPasscred:
		u.passcred = v != 0
	case soSndbuf, soSndbufF:
		u.sndbuf = max(int(min(int64(v), 212992))*2, sockMinSndbuf)
	case soRcvbuf, soRcvbufF:
		u.rcvbuf = max(int(min(int64(v), 212992))*2, sockMinRcvbuf)
	case soPeekOff:
		u.peekOff = int(v)
	case soReuseaddr, soKeepalive, soDebug, soDontroute, soBroadcast, soOobinline, soReuseport,
		soRcvlowat, soSndlowat:
		if u.opts == nil {
			u.opts = map[int]int32{}
		}
		u.opts[opt] = min(max(v, 0), 1)
		if opt == soRcvlowat || opt == soSndlowat {
			u.opts[opt] = max(v, 1)
		}
	default:
		return ENOPROTOOPT
	}
	return 0
}

func (u *unixSock) getsockopt(k *Kernel, p *Process, f *File, level, opt int) ([]byte, Errno) {
	if level != solSocket {
		return nil, EOPNOTSUPP
	}
	b := func(v bool) []byte {
		if v {
			return intBytes(1)
		}
		return intBytes(0)
	}
	switch opt {
	case soType:
		return intBytes(int32(u.typ)), 0
	case soDomain:
		return intBytes(afUnix), 0
	case soProtocol:
		return intBytes(0), 0
	case soError:
		e := u.err
		u.err = 0
		return intBytes(int32(e)), 0
	case soAcceptcon:
		return b(u.state == ssListening), 0
	case soPasscred:
		return b(u.passcred), 0
	case soSndbuf:
		return intBytes(int32(u.sndbuf)), 0
	case soRcvbuf:
		return intBytes(int32(u.rcvbuf)), 0
	case soRcvtimeo:
		return timevalBytes(u.rcvtimeo), 0
	case soSndtimeo:
		return timevalBytes(u.sndtimeo), 0
	case soPeekOff:
		return intBytes(int32(u.peekOff)), 0
	case soLinger:
		return make([]byte, 8), 0
	case soPeercred:
		if !u.hasPeer {
			return ucred{0, overflowID, overflowID}.bytes(), 0
		}
		return u.peerCred.bytes(), 0
	case soPeersec:
		return nil, ENOPROTOOPT
	case soRcvlowat, soSndlowat:
		v := u.opts[opt]
		return intBytes(max(v, 1)), 0
	case soReuseaddr, soKeepalive, soDebug, soDontroute, soBroadcast, soOobinline, soReuseport:
		return intBytes(u.opts[opt]), 0
	}
	return nil, ENOPROTOOPT
}

func (u *unixSock) poll(k *Kernel, f *File) int16 {
	var m int16
	if u.state == ssListening {
		if len(u.acceptq) > 0 {
			m |= pollIn | pollRdnorm
		}
		return m
	}
	if u.err != 0 {
		m |= pollErr
	}
	peerDone := u.connectionOriented() && u.state == ssConnected && (u.peerGone || u.peer == nil || u.peer.closed || u.peer.shutWr)
	if u.shutRd || peerDone && (u.shutWr || u.peerGone || u.peer == nil || u.peer.closed) {
		m |= pollHup
	}
	if u.shutRd || peerDone {
		m |= pollRdhup | pollIn | pollRdnorm
	}
	if len(u.rcvq) > 0 {
		m |= pollIn | pollRdnorm
	}
	if u.connectionOriented() && u.state != ssConnected {
		return m
	}
	writable := u.inflight < u.sndbuf
	if u.typ == sockDgram && u.peer != nil && len(u.peer.rcvq) > unixMaxDgramQ {
		writable = false
	}
	if writable {
		m |= pollOut | pollWrnorm | pollWrband
	}
	return m
}

func (u *unixSock) queues(k *Kernel, f *File, add func(*waitQueue)) {
	add(&u.wq)
	if u.peer != nil {
		add(&u.peer.wq)
	}
}

func (u *unixSock) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	return u.recvmsg(k, p, f, &msghdr{data: dst}, 0)
}

func (u *unixSock) write(k *Kernel, p *Process, f *File, src *uio) int64 {
	return u.sendmsg(k, p, f, &msghdr{data: src}, nil, nil, 0)
}

// release is the last close: the peer sees the end (EOF, EPIPE; ECONNRESET when data was
// left unread here), connections never accepted are closed, descriptors in flight are
// released, the name is forgotten (a path's socket file stays, as on Linux).
func (u *unixSock) release(k *Kernel, f *File) {
	u.closed = true
	if key := abstractKey(u.typ, u.abstract); u.abstract != "" && k.unixAbstract[key] == u {
		delete(k.unixAbstract, key)
	}
	if u.pathID != nil {
		key := [2]uint64{u.pathID.Dev, u.pathID.Ino}
		if k.unixPaths[key] == u {
			delete(k.unixPaths, key)
		}
	}
	if v := u.peer; v != nil && v.peer == u {
		v.peerGone = true
		if len(u.rcvq) > 0 && u.connectionOriented() {
			v.err = ECONNRESET
		}
		k.wakeAll(&v.wq)
	}
	for _, s := range u.rcvq {
		k.consumed(s)
		for _, g := range s.fds {
			g.put()
		}
	}
	u.rcvq = nil
	for _, s := range slices.Clone(u.acceptq) {
		s.closed = true
		if s.peer != nil {
			s.peer.peerGone = true
			k.wakeAll(&s.peer.wq)
		}
	}
	u.acceptq = nil
	k.wakeAll(&u.wq)
}

// fdinfo is /proc/PID/fdinfo's socket lines (none beyond the common ones).
func (u *unixSock) typeName() string {
	switch u.typ {
	case sockDgram:
		return "DGRAM"
	case sockSeqpacket:
		return "SEQPACKET"
	}
	return "STREAM"
}
