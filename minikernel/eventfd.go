package minikernel

import "fmt"

// eventfd: a 64-bit counter as a file. Linux's fs/eventfd.c. write adds to the counter
// (waiting while it would pass 2^64-2), read takes it all (or 1 with EFD_SEMAPHORE, waiting
// while it is 0); poll says readable when non-zero, writable while below the maximum.

const (
	efdSemaphore = 1
	eventfdMax   = ^uint64(0) - 1 // ULLONG_MAX - 1: the largest count
)

// eventfd is the object behind an eventfd descriptor.
type eventfd struct {
	count     uint64
	semaphore bool
	wq        waitQueue
	id        uint64
}

func (e *eventfd) linkName(f *File) string { return "anon_inode:[eventfd]" }

// fdinfo is what /proc/PID/fdinfo/N adds for an eventfd.
func (e *eventfd) fdinfo() string {
	return fmt.Sprintf("eventfd-count: %16x\neventfd-id: %d\n", e.count, e.id)
}

func (e *eventfd) read(k *Kernel, p *Process, f *File, dst *uio) int64 {
	if dst.total < 8 {
		return -int64(EINVAL)
	}
	return k.sleepOn(p, f, func() int64 {
		if e.count == 0 {
			return -int64(EAGAIN)
		}
		v := e.count
		if e.semaphore {
			v = 1
		}
		var b [8]byte
		le.PutUint64(b[:], v)
		if _, ok := dst.store(k, p, 0, b[:]); !ok {
			return -int64(EFAULT)
		}
		e.count -= v
		k.wakeAll(&e.wq)
		return 8
	})
}

func (e *eventfd) write(k *Kernel, p *Process, f *File, src *uio) int64 {
	if src.total < 8 {
		return -int64(EINVAL)
	}
	var b [8]byte
	if _, ok := src.load(k, p, 0, b[:]); !ok {
		return -int64(EFAULT)
	}
	v := le.Uint64(b[:])
	if v == ^uint64(0) {
		return -int64(EINVAL)
	}
	return k.sleepOn(p, f, func() int64 {
		if eventfdMax-e.count < v {
			return -int64(EAGAIN)
		}
		e.count += v
		k.wakeAll(&e.wq)
		return 8
	})
}

func (e *eventfd) poll(k *Kernel, f *File) int16 {
	var m int16
	if e.count > 0 {
		m |= pollIn | pollRdnorm
	}
	if e.count < eventfdMax {
		m |= pollOut | pollWrnorm
	}
	return m
}

func (e *eventfd) queues(k *Kernel, f *File, add func(*waitQueue)) { add(&e.wq) }

// eventfd2(initval, flags) and eventfd(initval).
func sysEventfd2(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := int(a[1])
	if flags&^(oCloexec|oNonblock|efdSemaphore) != 0 {
		return -int64(EINVAL)
	}
	k.anonIDs++
	e := &eventfd{count: uint64(uint32(a[0])), semaphore: flags&efdSemaphore != 0, id: k.anonIDs}
	return installSpecial(p, k.newSpecial(e, "anon_inode:[eventfd]", oRdwr|flags&oNonblock), flags)
}

func sysEventfd(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := [6]uint64{a[0], 0}
	return sysEventfd2(k, p, &b)
}
