package minikernel

import (
	"encoding/binary"
	"os"
)

// Identities and system information: getresuid, getresgid, getgroups, sysinfo, times.
// The guest runs as the host user (getuid and friends in sys_proc.go); the machine's
// memory and processes are its own.

// getresuid(ruid, euid, suid) and getresgid: the real, effective and saved IDs, which are
// the host user's.
func sysGetresuid(k *Kernel, p *Process, a *[6]uint64) int64 {
	return putIDs(k, p, a, uint32(os.Getuid()), uint32(os.Geteuid()))
}

func sysGetresgid(k *Kernel, p *Process, a *[6]uint64) int64 {
	return putIDs(k, p, a, uint32(os.Getgid()), uint32(os.Getegid()))
}

func putIDs(k *Kernel, p *Process, a *[6]uint64, real, eff uint32) int64 {
	for i, id := range []uint32{real, eff, eff} {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], id)
		if _, ok := k.copyOut(p, a[i], b[:]); !ok {
			return -int64(EFAULT)
		}
	}
	return 0
}

// getgroups(size, list): the host user's supplementary groups; size 0 asks how many, a
// size too small for them is EINVAL.
func sysGetgroups(k *Kernel, p *Process, a *[6]uint64) int64 {
	gs, _ := os.Getgroups()
	size := int64(int32(a[0]))
	switch {
	case size < 0:
		return -int64(EINVAL)
	case size == 0:
		return int64(len(gs))
	case size < int64(len(gs)):
		return -int64(EINVAL)
	}
	b := make([]byte, 4*len(gs))
	for i, g := range gs {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(g))
	}
	if _, ok := k.copyOut(p, a[1], b); !ok {
		return -int64(EFAULT)
	}
	return int64(len(gs))
}

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
		if _, ok := k.copyOut(p, a[0], b); !ok {
			return -int64(EFAULT)
		}
	}
	return int64(k.nowNS() / tick)
}
