package minikernel

import "syscall"

// memfd_create: an anonymous file in the page cache, with no name in any directory, that
// can be written, read, truncated, mapped and passed to other processes like a file, and
// sealed against changes. Linux's mm/memfd.c and mm/shmem.c. It is a shared-memory object
// (fileShm) with a size of its own: pages past the size are SIGBUS in a mapping, as for a
// file; the seals live in the inode, shared by every descriptor.

// memfd_create flags (include/uapi/linux/memfd.h).
const (
	mfdCloexec      = 0x1
	mfdAllowSealing = 0x2
	mfdHugetlb      = 0x4
	mfdNoexecSeal   = 0x8
	mfdExec         = 0x10
	mfdNameMax      = 255 - len("memfd:") // NAME_MAX less the prefix
)

// Seals (include/uapi/linux/fcntl.h) and the fcntl commands that set and read them.
const (
	fAddSeals = 1033
	fGetSeals = 1034

	sealSeal        = 0x01
	sealShrink      = 0x02
	sealGrow        = 0x04
	sealWrite       = 0x08
	sealFutureWrite = 0x10
	sealExec        = 0x20
	sealAll         = sealSeal | sealShrink | sealGrow | sealWrite | sealFutureWrite | sealExec
)

// memfdInfo marks an Inode as a memfd's and holds its seals.
type memfdInfo struct {
	seals uint32
}

// memfd_create(name, flags).
func sysMemfdCreate(k *Kernel, p *Process, a *[6]uint64) int64 {
	flags := a[1]
	if flags&^(mfdCloexec|mfdAllowSealing|mfdHugetlb|mfdNoexecSeal|mfdExec|0xfc000000) != 0 {
		return -int64(EINVAL)
	}
	if flags&mfdHugetlb == 0 && flags&0xfc000000 != 0 {
		return -int64(EINVAL) // a huge page size without MFD_HUGETLB
	}
	if flags&(mfdExec|mfdNoexecSeal) == mfdExec|mfdNoexecSeal {
		return -int64(EINVAL)
	}
	name, e := k.copyInString(p, a[0], mfdNameMax+1)
	if e == ENAMETOOLONG {
		return -int64(EINVAL)
	}
	if e != 0 {
		return -int64(e)
	}
	if flags&mfdHugetlb != 0 {
		return -int64(ENOMEM) // no huge pages reserved (vm.nr_hugepages = 0)
	}
	f := k.newShmFile(0)
	f.ino.name = "/memfd:" + name + " (deleted)"
	f.name = f.ino.name
	f.flags = oRdwr | oLargefile
	mode := uint32(0o777)
	info := &memfdInfo{seals: sealSeal}
	switch {
	case flags&mfdNoexecSeal != 0:
		mode = 0o666
		info.seals = sealExec // sealing allowed, and exec sealed off
	case flags&mfdAllowSealing != 0:
		info.seals = 0
	}
	f.ino.memfd = info
	f.ino.stat.Mode = syscall.S_IFREG | mode
	f.ino.stat.Nlink = 0 // no name in any directory
	f.ino.stat.Uid, f.ino.stat.Gid = p.cred.fsuid, p.cred.fsgid
	f.ino.stat.Blksize = 4096
	f.ino.stat.Ino = f.ino.id.shm
	f.ino.stat.Dev = 1 // the kernel's internal tmpfs
	fd, e := p.fds.install(f, flags&mfdCloexec != 0, 0)
	if e != 0 {
		f.put()
		return -int64(e)
	}
	return int64(fd)
}

// seals returns the seals of f's object (0 for anything but a memfd).
func (f *File) seals() uint32 {
	if f.ino == nil || f.ino.memfd == nil {
		return 0
	}
	return f.ino.memfd.seals
}

// sealsAllowWrite checks a write of n bytes at off: EPERM when the memfd is sealed against
// writing, or against growing and the write would grow it.
func (f *File) sealsAllowWrite(off, n uint64) Errno {
	s := f.seals()
	switch {
	case s&(sealWrite|sealFutureWrite) != 0:
		return EPERM
	case s&sealGrow != 0 && off+n > f.ino.size:
		return EPERM
	}
	return 0
}

// sealsAllowSize checks a change of size: EPERM past a shrink or grow seal.
func (f *File) sealsAllowSize(size uint64) Errno {
	s := f.seals()
	switch {
	case s&sealShrink != 0 && size < f.ino.size, s&sealGrow != 0 && size > f.ino.size:
		return EPERM
	}
	return 0
}

// sealsAllowFallocate checks fallocate's mode on a sealed memfd (shmem_fallocate): a hole
// needs the right to write, growth the right to grow.
func (f *File) sealsAllowFallocate(mode, off, length uint64) Errno {
	s := f.seals()
	if mode&(fallocPunchHole|fallocZeroRange) != 0 && s&(sealWrite|sealFutureWrite) != 0 {
		return EPERM
	}
	if mode&fallocKeepSize == 0 && off+length > f.ino.size && s&sealGrow != 0 {
		return EPERM
	}
	return 0
}

// sealsAllowMap checks a new mapping of f: a shared mapping of a memfd sealed against
// writing may not be writable, nor become writable later (the VMA is marked so).
func (f *File) sealsAllowMap(r *mmapRequest) Errno {
	if f.seals()&(sealWrite|sealFutureWrite) == 0 || r.flags&VMShared == 0 {
		return 0
	}
	if r.prot&ProtWrite != 0 {
		return EPERM
	}
	r.flags |= VMDenyWrite
	return 0
}

// fcntl(F_ADD_SEALS, seals) and fcntl(F_GET_SEALS). Linux's memfd_add_seals(): EINVAL for
// anything but a memfd or for unknown seals, EPERM when the descriptor is not writable or
// F_SEAL_SEAL is set, EBUSY for F_SEAL_WRITE while a shared mapping may still write.
func (k *Kernel) fcntlSeals(f *File, cmd, arg uint64) int64 {
	if cmd == fGetSeals {
		if f.ino == nil || f.ino.memfd == nil {
			return -int64(EINVAL)
		}
		return int64(f.ino.memfd.seals)
	}
	seals := uint32(arg) // an unsigned int in memfd_add_seals()
	switch {
	case !f.writable():
		return -int64(EPERM)
	case seals&^sealAll != 0, f.ino == nil || f.ino.memfd == nil:
		return -int64(EINVAL)
	}
	m := f.ino.memfd
	if m.seals&sealSeal != 0 {
		return -int64(EPERM)
	}
	if seals&sealWrite != 0 && m.seals&sealWrite == 0 && k.writablyMapped(f.ino) {
		return -int64(EBUSY)
	}
	if seals&sealExec != 0 && f.ino.stat.Mode&0o111 != 0 {
		// F_SEAL_EXEC on an executable memfd implies the write seals: W^X from the start.
		seals |= sealShrink | sealGrow | sealWrite | sealFutureWrite
	}
	m.seals |= seals
	return 0
}

// writablyMapped reports whether a shared mapping that may write maps ino
// (mapping_writably_mapped()).
func (k *Kernel) writablyMapped(ino *Inode) bool {
	found := false
	k.forEachMapping(ino, func(mm *MM, v *VMA) {
		if v.shared() && v.Flags&VMDenyWrite == 0 {
			found = true
		}
	})
	return found
}

// shmWrite writes src at off into a shared-memory object's pages (a memfd's write()),
// growing it as needed.
func (k *Kernel) shmWrite(p *Process, f *File, src *uio, off uint64) (uint64, Errno) {
	if e := f.sealsAllowWrite(off, src.total); e != 0 {
		return 0, e
	}
	ino := f.ino
	if end := off + src.total; end > ino.size && src.total > 0 {
		k.setSize(ino, end)
	}
	var done uint64
	for done < src.total {
		pos := off + done
		pfn, _, err := k.cachePage(f, pos>>12)
		if err != nil {
			if done == 0 {
				return 0, ENOMEM
			}
			break
		}
		fr, _ := k.ram.Frame(pfn)
		n := min(4096-pos&0xfff, src.total-done)
		k.frames.Get(pfn) // pinned while the copy may fault (reclaim.go)
		got, ok := src.load(k, p, done, fr[pos&0xfff:pos&0xfff+n])
		k.frames.Put(pfn)
		k.ram.NoteWrite(pfn)
		done += uint64(got)
		if !ok {
			if done == 0 {
				return 0, EFAULT
			}
			break
		}
	}
	if done < src.total && off+done < ino.size && off+src.total == ino.size {
		k.setSize(ino, off+done) // a short write does not leave the file longer
	}
	return done, 0
}
