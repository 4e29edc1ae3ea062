package minikernel

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Pipes, as Linux's fs/pipe.c keeps them: a ring of 16 one-page buffers (64 KiB). A write
// first tops up the last buffer when its odd-sized part fits there, then fills whole new
// pages; so a write of at most PIPE_BUF (4096) bytes is never split between two writes'
// data, and how much a non-blocking writer can put in a full pipe is Linux's to the byte.
// A reader drains buffers in order. A read of an empty pipe sleeps until a writer writes,
// or returns 0 (end of file) when no writer is left; a write to a full pipe sleeps until a
// reader makes room; a write with no reader left raises SIGPIPE and fails with EPIPE;
// O_NONBLOCK turns each sleep into EAGAIN. O_DIRECT makes a packet pipe: no merging, and a
// read takes one write's packet at most.
//
// Each buffer's page is a frame of the machine's RAM (FrameKernel), taken when a write
// starts the buffer and given back when a read empties it, as Linux allocates pipe pages:
// a pipe's data costs guest memory, not the host's, so processes filling pipes run the
// machine out of frames (a write then fails with ENOMEM) instead of growing emu.

const (
	pipeBuffers = 16   // PIPE_DEF_BUFFERS
	pipeBufSize = 4096 // one page per buffer
	pipeBuf     = 4096 // PIPE_BUF: writes up to this size are atomic
)

// pipeSlot is one buffer of the ring: a frame with the unread bytes at [off, off+len).
type pipeSlot struct {
	pfn      uint64 // the buffer's frame; 0 while the slot is empty
	off, len int
	packet   bool // written by a packet-mode writer: never merged into
}

// pipe is the kernel object both ends of a pipe share. Linux's struct pipe_inode_info.
type pipe struct {
	slots            [pipeBuffers]pipeSlot
	head, tail       uint // slots in use: tail .. head-1, modulo pipeBuffers
	readers, writers int  // open descriptions of each end
	waiters          waitQueue
	ino              uint64
}

func (pp *pipe) empty() bool { return pp.head == pp.tail }
func (pp *pipe) full() bool  { return pp.head-pp.tail >= pipeBuffers }

// unread returns how many bytes the pipe holds (FIONREAD).
func (pp *pipe) unread() int {
	n := 0
	for i := pp.tail; i != pp.head; i++ {
		n += pp.slots[i%pipeBuffers].len
	}
	return n
}

// isReadEnd reports whether f is a pipe's read end.
func (f *File) isReadEnd() bool { return f.flags&oAccMode == oRdonly }

// newPipe creates a pipe and its two ends, with O_NONBLOCK and O_DIRECT from flags. Linux's
// create_pipe_files().
func (k *Kernel) newPipe(flags int) (r, w *File) {
	k.ns.pipes++
	pp := &pipe{readers: 1, writers: 1, ino: k.ns.pipes}
	if k.pipes == nil {
		k.pipes = map[*pipe]struct{}{}
	}
	k.pipes[pp] = struct{}{}
	name := fmt.Sprintf("pipe:[%d]", pp.ino)
	fl := flags & (oNonblock | oDirect)
	r = &File{k: k, kind: filePipe, name: name, pipe: pp, hfd: -1, flags: oRdonly | fl, refs: 1}
	w = &File{k: k, kind: filePipe, name: name, pipe: pp, hfd: -1, flags: oWronly | fl, refs: 1}
	return r, w
}

// pipeRelease is the last close of one end: the other end's sleepers wake to find EOF or
// EPIPE. Linux's pipe_release().
func (k *Kernel) pipeRelease(f *File) {
	pp := f.pipe
	if f.isReadEnd() {
		pp.readers--
	} else {
		pp.writers--
	}
	if pp.readers == 0 && pp.writers == 0 {
		// free_pipe_info(): the unread data goes with the pipe.
		for i := range pp.slots {
			if s := &pp.slots[i]; s.pfn != 0 {
				k.frames.Put(s.pfn)
				*s = pipeSlot{}
			}
		}
		pp.head, pp.tail = 0, 0
		delete(k.pipes, pp)
	}
	k.wakeAll(&pp.waiters)
}

// slotBytes returns the bytes of a slot's frame.
func (k *Kernel) slotBytes(s *pipeSlot) []byte {
	fr, _ := k.ram.Frame(s.pfn)
	return fr[:]
}

// pipeRead moves bytes from the pipe of f (its read end) into dst: as many as are there,
// up to dst.total. With the pipe empty it returns 0 when no writer is left, EAGAIN for
// O_NONBLOCK, else sysBlocks with p on the pipe's wait queue. Linux's pipe_read().
func (k *Kernel) pipeRead(p *Process, f *File, dst *uio) int64 {
	pp := f.pipe
	total := dst.total
	if total == 0 {
		return 0
	}
	var ret uint64
	for !pp.empty() && ret < total {
		s := &pp.slots[pp.tail%pipeBuffers]
		chars := min(uint64(s.len), total-ret)
		got, ok := dst.store(k, p, ret, k.slotBytes(s)[s.off:s.off+int(chars)])
		ret += uint64(got)
		s.off += got
		s.len -= got
		if f.flags&oDirect != 0 && ok {
			s.len = 0 // a packet read takes the whole packet, the excess discarded
		}
		if s.len == 0 {
			s.off = 0
			k.frames.Put(s.pfn) // the page goes back to the machine
			s.pfn = 0
			pp.tail++
		}
		if !ok {
			if ret == 0 {
				return -int64(EFAULT)
			}
			break
		}
		if f.flags&oDirect != 0 {
			break
		}
	}
	switch {
	case ret > 0:
		k.wakeAll(&pp.waiters) // writers waiting for room
		return int64(ret)
	case pp.writers == 0:
		return 0
	case f.nonblock():
		return -int64(EAGAIN)
	}
	pp.waiters.add(k.cur)
	return sysBlocks
}

// pipeXfer is the progress of one pipe write across its sleeps.
type pipeXfer struct {
	done    uint64 // bytes written so far
	started bool   // the first attempt has run (the top-up of the last buffer is tried once)
}

// pipeWrite moves src into the pipe of f (its write end), continuing after the bytes an
// earlier attempt of the same call moved (x). It returns the bytes written in all, or
// EPIPE (with SIGPIPE) when no reader is left, EAGAIN for O_NONBLOCK when nothing fits,
// EFAULT for a bad buffer; or sysBlocks with p on the pipe's wait queue when the rest must
// wait for room. Linux's pipe_write().
func (k *Kernel) pipeWrite(p *Process, f *File, src *uio, x *pipeXfer) int64 {
	pp := f.pipe
	total := src.total
	if total == 0 {
		return 0
	}
	packet := f.flags&oDirect != 0
	done := &x.done
	first := !x.started
	x.started = true
	result := func(e Errno) int64 {
		if *done > 0 {
			k.wakeAll(&pp.waiters)
			return int64(*done)
		}
		return -int64(e)
	}
	if pp.readers == 0 {
		k.sendSignal(p, SIGPIPE)
		return result(EPIPE)
	}
	// Top up the last buffer with the odd-sized part, if it fits there whole.
	if chars := int(total & (pipeBufSize - 1)); first && chars != 0 && !pp.empty() && !packet {
		s := &pp.slots[(pp.head-1)%pipeBuffers]
		if end := s.off + s.len; !s.packet && end+chars <= pipeBufSize {
			got, ok := src.load(k, p, 0, k.slotBytes(s)[end:end+chars])
			s.len += got
			*done += uint64(got)
			if !ok {
				return result(EFAULT)
			}
			if *done == total {
				return result(0)
			}
		}
	}
	for *done < total {
		if pp.readers == 0 {
			k.sendSignal(p, SIGPIPE)
			return result(EPIPE)
		}
		if pp.full() {
			if f.nonblock() {
				return result(EAGAIN)
			}
			if *done > 0 {
				k.wakeAll(&pp.waiters) // readers: there is data already
			}
			pp.waiters.add(k.cur)
			return sysBlocks
		}
		s := &pp.slots[pp.head%pipeBuffers]
		if s.pfn == 0 {
			pfn, err := k.frames.AllocDirty(FrameKernel) // written before it is read
			if err != nil {
				return result(ENOMEM) // pipe_write(): no page for the buffer
			}
			s.pfn = pfn
		}
		n := int(min(pipeBufSize, total-*done))
		got, ok := src.load(k, p, *done, k.slotBytes(s)[:n])
		if got > 0 {
			s.off, s.len, s.packet = 0, got, packet
			pp.head++
			*done += uint64(got)
		}
		if !ok {
			return result(EFAULT)
		}
	}
	return result(0)
}

// pipeReadCall is a read of a pipe that sleeps until it can finish. A signal interrupts it
// with EINTR (nothing has been read when it sleeps).
func (k *Kernel) pipeReadCall(p *Process, f *File, dst *uio) int64 {
	try := func() int64 { return k.pipeRead(p, f, dst) }
	if r := try(); r != sysBlocks {
		return r
	}
	return k.block(p, &sleepCall{retry: try, restartable: true})
}

// pipeWriteCall is a write to a pipe that sleeps until every byte is written. A signal
// interrupts it with the count written so far, or EINTR when that is none.
func (k *Kernel) pipeWriteCall(p *Process, f *File, src *uio) int64 {
	var x pipeXfer
	try := func() int64 { return k.pipeWrite(p, f, src, &x) }
	if r := try(); r != sysBlocks {
		return r
	}
	return k.block(p, &sleepCall{retry: try, restartable: true, intr: func() int64 {
		if x.done > 0 {
			return int64(x.done)
		}
		return -int64(EINTR)
	}})
}

// pipePoll is what poll(2) reports for f, an end of a pipe. Linux's pipe_poll().
func (f *File) pipePoll() int16 {
	pp := f.pipe
	var m int16
	if f.isReadEnd() {
		if !pp.empty() {
			m |= pollIn | pollRdnorm
		}
		if pp.writers == 0 {
			m |= pollHup
		}
	} else {
		if !pp.full() {
			m |= pollOut | pollWrnorm
		}
		if pp.readers == 0 {
			m |= pollErr
		}
	}
	return m
}

// stat is what fstat reports for a pipe: a FIFO on the pipe file system, owned by the
// user that runs the machine.
func (pp *pipe) stat() hostfs.Stat {
	return hostfs.Stat{Dev: 0xe, Ino: pp.ino, Nlink: 1, Mode: hostfs.S_IFIFO | 0o600,
		Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Blksize: 4096}
}

// pipe2(fds, flags): a new pipe; fds[0] reads, fds[1] writes. O_CLOEXEC, O_NONBLOCK and
// O_DIRECT are the flags it takes; others are EINVAL. Linux's do_pipe2().
func sysPipe2(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(int32(a[1]))
	if flags&^(oCloexec|oNonblock|oDirect) != 0 {
		return -int64(EINVAL)
	}
	r, w := k.newPipe(flags)
	cloexec := flags&oCloexec != 0
	rfd, e := p.fds.install(r, cloexec, 0)
	if e != 0 {
		r.put()
		w.put()
		return -int64(e)
	}
	wfd, e := p.fds.install(w, cloexec, 0)
	if e != 0 {
		_ = p.fds.close(uint64(rfd))
		w.put()
		return -int64(e)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if _, ok := k.copyOut(p, a[0], b[:]); !ok {
		_ = p.fds.close(uint64(rfd))
		_ = p.fds.close(uint64(wfd))
		return -int64(EFAULT)
	}
	return 0
}

// pipe(fds) is pipe2(fds, 0).
func sysPipe(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], 0}
	return sysPipe2(k, p, &b)
}
