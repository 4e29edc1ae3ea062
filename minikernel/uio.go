package minikernel

import "encoding/binary"

// The memory of one read or write: the user buffers of read/readv (as iovecs) or a kernel
// buffer (sendfile moves bytes from the page cache). Linux's struct iov_iter. Transfers
// address it by a logical offset from its start, so a transfer that sleeps (a pipe write
// waiting for room) resumes where it stopped.

// iovec is one struct iovec: a user address and a length.
type iovec struct{ base, len uint64 }

// uio is the memory a transfer reads from or writes to.
type uio struct {
	iov   []iovec // user memory, in order (nil for a kernel buffer)
	kbuf  []byte  // kernel memory
	total uint64  // bytes in all
	bad   bool    // the range is not user memory at all: the transfer is EFAULT
}

// userBuf is count bytes of user memory at va, as read(2) and write(2) take them: a range
// that wraps or reaches past the user address space fails access_ok() (EFAULT before
// anything moves), and a valid one is capped at MAX_RW_COUNT (vfs_read, vfs_write).
func userBuf(va, count uint64) *uio {
	return &uio{iov: []iovec{{va, min(count, maxRW)}}, total: min(count, maxRW), bad: !accessOK(va, count)}
}

// accessOK is x86-64 Linux's access_ok(): the range [va, va+n) lies in the user address
// space, below TASK_SIZE_MAX, without wrapping. Whether it is mapped is the copy's business.
func accessOK(va, n uint64) bool {
	end := va + n
	return end >= va && end <= userTop
}

// kernelBuf is a kernel buffer.
func kernelBuf(b []byte) *uio { return &uio{kbuf: b, total: uint64(len(b))} }

// readIovecs reads cnt struct iovec at va, as Linux's import_iovec() does: more than
// IOV_MAX (1024) is EINVAL, a bad array EFAULT, a length that makes the total overflow
// ssize_t EINVAL. The total is capped at MAX_RW_COUNT, later vectors shortened to fit.
func (k *Kernel) readIovecs(p *Process, va, cnt uint64) (*uio, Errno) {
	if cnt > 1024 {
		return nil, EINVAL
	}
	u := &uio{iov: make([]iovec, 0, cnt)}
	if cnt == 0 {
		return u, 0
	}
	raw := make([]byte, 16*cnt)
	if _, ok := k.copyIn(p, va, raw); !ok {
		return nil, EFAULT
	}
	for i := uint64(0); i < cnt; i++ {
		v := iovec{binary.LittleEndian.Uint64(raw[16*i:]), binary.LittleEndian.Uint64(raw[16*i+8:])}
		if int64(v.len) < 0 {
			return nil, EINVAL
		}
		if !accessOK(v.base, v.len) {
			return nil, EFAULT // __import_iovec() checks each vector whole
		}
		v.len = min(v.len, maxRW-u.total)
		u.total += v.len
		u.iov = append(u.iov, v)
	}
	return u, 0
}

// store copies data into the buffer at offset off and returns how much it copied before a
// bad user address (ok false), faulting pages in as copy_to_user does.
func (u *uio) store(k *Kernel, p *Process, off uint64, data []byte) (int, bool) {
	if u.iov == nil {
		return copy(u.kbuf[off:], data), true
	}
	return u.each(off, len(data), func(va uint64, from, n int) (int, bool) {
		return k.copyOut(p, va, data[from:from+n])
	})
}

// load copies from the buffer at offset off into buf.
func (u *uio) load(k *Kernel, p *Process, off uint64, buf []byte) (int, bool) {
	if u.iov == nil {
		return copy(buf, u.kbuf[off:]), true
	}
	return u.each(off, len(buf), func(va uint64, from, n int) (int, bool) {
		return k.copyIn(p, va, buf[from:from+n])
	})
}

// each calls fn for the user ranges that make up n bytes at offset off, in order, and
// stops at the first short copy.
func (u *uio) each(off uint64, n int, fn func(va uint64, from, n int) (int, bool)) (int, bool) {
	done := 0
	for _, v := range u.iov {
		if done == n {
			break
		}
		if off >= v.len {
			off -= v.len
			continue
		}
		chunk := int(min(v.len-off, uint64(n-done)))
		got, ok := fn(v.base+off, done, chunk)
		done += got
		if !ok {
			return done, false
		}
		off = 0
	}
	return done, true
}
