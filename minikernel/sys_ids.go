package minikernel

import "encoding/binary"

// System information: sysinfo, times (identities are in creds.go). The machine's memory
// and processes are its own.

// sysinfo(info): uptime on the virtual clock, the machine's RAM and free frames, the page
// cache as buffer memory, no swap, and the number of processes. mem_unit is 1.
func sysSysinfo(k *Kernel, p *Process, a *[6]uint64) int64 {
	b := make([]byte, 112)
	le := binary.LittleEndian
	le.PutUint64(b[0:], k.nowNS()/nsPerSec)
	le.PutUint64(b[32:], k.ram.Size())
	le.PutUint64(b[40:], k.frames.Free()<<12)
	le.PutUint64(b[56:], uint64(k.cache.Pages())<<12)
	le.PutUint16(b[80:], uint16(len(k.live)))
	le.PutUint32(b[104:], 1)
	if _, ok := k.copyOut(p, a[0], b); !ok {
		return -int64(EFAULT)
	}
	return 0
}

// times(buf): the caller's CPU time in clock ticks (USER_HZ, 100 a second) of the virtual
// clock, all of it user time; the return value is the ticks since boot.
func sysTimes(k *Kernel, p *Process, a *[6]uint64) int64 {
	const tick = nsPerSec / 100
	if a[0] != 0 {
		b := make([]byte, 32)
		binary.LittleEndian.PutUint64(b, p.insns/tick)
		binary.LittleEndian.PutUint64(b[16:], p.acct.childInsns/tick) // tms_cutime
		if _, ok := k.copyOut(p, a[0], b); !ok {
			return -int64(EFAULT)
		}
	}
	return int64(k.nowNS() / tick)
}
