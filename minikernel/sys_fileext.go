package minikernel

import (
	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// More calls on open files that real programs make: fadvise64, fallocate and
// copy_file_range. Linux's mm/fadvise.c, fs/open.c (vfs_fallocate) and fs/read_write.c
// (copy_file_range). Data moves through the page cache, so mappings and read() see it.

// fadvise64(fd, offset, len, advice): advice about a file's use. The page cache keeps what
// it reads until the last close, so every piece of advice is accepted and changes nothing;
// the arguments are checked as Linux checks them: a pipe is ESPIPE, unknown advice or a
// negative length EINVAL.
func sysFadvise64(k *Kernel, p *Process, a *[6]uint64) int64 {
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	if f.kind == filePipe || isFIFO(f) {
		return -int64(ESPIPE)
	}
	if int64(a[2]) < 0 || a[3] > 5 { // POSIX_FADV_NORMAL .. POSIX_FADV_NOREUSE
		return -int64(EINVAL)
	}
	return 0
}

// isFIFO reports whether f is a host FIFO.
func isFIFO(f *File) bool {
	if f.kind != fileDevice || f.hfd < 0 {
		return false
	}
	var st hostfs.Stat
	return hostFstat(f.hfd, &st) == 0 && st.Type() == hostfs.S_IFIFO
}

// fallocate modes (include/uapi/linux/falloc.h).
const (
	fallocKeepSize      = 0x01
	fallocPunchHole     = 0x02
	fallocNoHideStale   = 0x04
	fallocCollapseRange = 0x08
	fallocZeroRange     = 0x10
	fallocInsertRange   = 0x20
	fallocUnshareRange  = 0x40
	fallocWriteZeroes   = 0x80
)

// fallocate(fd, mode, offset, len): reserve space (growing the file unless
// FALLOC_FL_KEEP_SIZE), punch a hole or zero a range. Host files are changed by the host,
// and the cached pages of the range follow (a hole reads as zeros through every mapping);
// a memfd or shared-memory object grows, or loses the pages of a hole. Collapsing and
// inserting ranges shift a file's pages under its mappings: EOPNOTSUPP, as a file system
// without them answers. Linux's vfs_fallocate() argument checks, in its order.
func sysFallocate(k *Kernel, p *Process, a *[6]uint64) int64 {
	mode, off, length := a[1], int64(a[2]), int64(a[3])
	f := fdArg(p, a[0])
	if f == nil || f.pathOnly() {
		return -int64(EBADF)
	}
	if off < 0 || length <= 0 {
		return -int64(EINVAL)
	}
	const valid = fallocKeepSize | fallocPunchHole | fallocNoHideStale | fallocCollapseRange |
		fallocZeroRange | fallocInsertRange | fallocUnshareRange | fallocWriteZeroes
	if mode&^valid != 0 {
		return -int64(EOPNOTSUPP)
	}
	switch mode &^ fallocKeepSize {
	case 0, fallocUnshareRange, fallocZeroRange:
	case fallocPunchHole:
		if mode&fallocKeepSize == 0 {
			return -int64(EOPNOTSUPP)
		}
	case fallocCollapseRange, fallocInsertRange, fallocWriteZeroes:
		if mode&fallocKeepSize != 0 {
			return -int64(EINVAL)
		}
	default:
		return -int64(EOPNOTSUPP)
	}
	if !f.writable() {
		return -int64(EBADF)
	}
	if f.flags&oAppend != 0 && mode&(fallocPunchHole|fallocZeroRange|fallocCollapseRange|fallocInsertRange) != 0 {
		return -int64(EPERM)
	}
	switch {
	case f.kind == filePipe || isFIFO(f):
		return -int64(ESPIPE)
	case f.kind == fileDir:
		return -int64(EISDIR)
	case f.kind != fileRegular && f.kind != fileShm:
		return -int64(ENODEV)
	}
	if off+length < 0 || off+length > 1<<63-1 {
		return -int64(EFBIG)
	}
	if mode&(fallocCollapseRange|fallocInsertRange) != 0 {
		return -int64(EOPNOTSUPP)
	}
	if e := f.sealsAllowFallocate(mode, uint64(off), uint64(length)); e != 0 {
		return -int64(e)
	}
	end := uint64(off + length)
	ino := f.ino
	if f.kind == fileRegular {
		if e := hostfs.Fallocate(f.hfd, uint32(mode), off, length); e != 0 {
			return -int64(e)
		}
		k.stampFD(f.hfd)
	}
	if mode&(fallocPunchHole|fallocZeroRange|fallocWriteZeroes) != 0 {
		k.zeroCachedRange(ino, uint64(off), min(end, ino.size), f.kind == fileShm && mode&fallocPunchHole != 0)
	}
	if mode&fallocKeepSize == 0 && end > ino.size {
		k.setSize(ino, end)
	}
	return 0
}

// zeroCachedRange zeroes the bytes [from, to) of ino's cached pages, so that read() and
// every shared mapping see a hole; with free, whole pages in the range leave the cache
// instead (a hole in shared memory gives its pages back; mappings read zeros afresh).
func (k *Kernel) zeroCachedRange(ino *Inode, from, to uint64, free bool) {
	if from < to && ino.swapped != nil {
		// Swapped-out pages wholly in the range become holes; the partly covered ones at
		// either end come back to be cleared in part.
		k.shmDropSwapped(ino, pageRoundUp(from)>>12, to>>12)
		_, _ = k.shmSwapIn(ino, from>>12)
		_, _ = k.shmSwapIn(ino, (to-1)>>12)
	}
	for _, idx := range ino.sortedPages() {
		ps, pe := idx<<12, idx<<12+4096
		if pe <= from || ps >= to {
			continue
		}
		pfn := ino.pages[idx]
		if free && ps >= from && pe <= to {
			k.unmapInodeRange(ino, ps, pe)
			delete(ino.pages, idx)
			k.frames.Put(pfn)
			continue
		}
		fr, _ := k.ram.Frame(pfn)
		clear(fr[max(ps, from)-ps : min(pe, to)-ps])
		k.ram.NoteWrite(pfn)
	}
}

// copy_file_range(fd_in, off_in, fd_out, off_out, len, flags): bytes from one regular file
// to another through the page cache, at the given offsets (NULL: the file positions, which
// advance). Linux's checks: flags must be 0; both regular files (EISDIR for a directory,
// EINVAL otherwise); the input readable and the output writable without O_APPEND (EBADF);
// overlapping ranges of one file EINVAL.
func sysCopyFileRange(k *Kernel, p *Process, a *[6]uint64) int64 {
	if a[5] != 0 {
		return -int64(EINVAL)
	}
	in, out := fdArg(p, a[0]), fdArg(p, a[2])
	if in == nil || out == nil || in.pathOnly() || out.pathOnly() {
		return -int64(EBADF)
	}
	switch {
	case in.kind == fileDir || out.kind == fileDir:
		return -int64(EISDIR)
	case !isDataFile(in) || !isDataFile(out):
		return -int64(EINVAL)
	case !in.readable() || !out.writable() || out.flags&oAppend != 0:
		return -int64(EBADF)
	}
	readOff := func(va uint64, cur uint64) (uint64, Errno) {
		if va == 0 {
			return cur, 0
		}
		var b [8]byte
		if _, ok := k.copyIn(p, va, b[:]); !ok {
			return 0, EFAULT
		}
		v := le.Uint64(b[:])
		if int64(v) < 0 {
			return 0, EINVAL
		}
		return v, 0
	}
	posIn, e := readOff(a[1], in.off)
	if e != 0 {
		return -int64(e)
	}
	posOut, e := readOff(a[3], out.off)
	if e != 0 {
		return -int64(e)
	}
	count := min(a[4], maxRW)
	if int64(posIn+count) < 0 || int64(posOut+count) < 0 {
		return -int64(EOVERFLOW)
	}
	if in.ino == out.ino && posIn < posOut+count && posOut < posIn+count {
		return -int64(EINVAL)
	}
	if !sameFileSystem(in, out) {
		return -int64(EXDEV) // Linux 5.19 and later copy only within one file system
	}
	if e := out.sealsAllowWrite(posOut, count); e != 0 {
		return -int64(e)
	}
	var done uint64
	buf := make([]byte, min(count, 1<<16))
	for done < count {
		chunk := buf[:min(count-done, uint64(len(buf)))]
		n, e := k.fileRead(p, in, kernelBuf(chunk), posIn+done)
		if e != 0 || n == 0 {
			if done == 0 && e != 0 {
				return -int64(e)
			}
			break
		}
		w, e := k.fileWrite(p, out, kernelBuf(chunk[:n]), posOut+done)
		done += w
		if e != 0 || w < n {
			if done == 0 {
				return -int64(e)
			}
			break
		}
	}
	put := func(va, v uint64) bool {
		var b [8]byte
		le.PutUint64(b[:], v)
		_, ok := k.copyOut(p, va, b[:])
		return ok
	}
	if a[1] != 0 {
		if !put(a[1], posIn+done) {
			return -int64(EFAULT)
		}
	} else {
		in.off = posIn + done
	}
	if a[3] != 0 {
		if !put(a[3], posOut+done) {
			return -int64(EFAULT)
		}
	} else {
		out.off = posOut + done
	}
	return int64(done)
}

// sameFileSystem reports whether two data files lie on one file system: two host files on
// one host device, or two memfds (the kernel's internal tmpfs).
func sameFileSystem(a, b *File) bool {
	if a.kind != b.kind {
		return false
	}
	if a.kind == fileShm {
		return true
	}
	var sa, sb hostfs.Stat
	return hostFstat(a.hfd, &sa) == 0 && hostFstat(b.hfd, &sb) == 0 && sa.Dev == sb.Dev
}

// isDataFile reports whether f holds bytes in the page cache: a regular file, or a memfd.
func isDataFile(f *File) bool { return f.kind == fileRegular || f.kind == fileShm }

// unmapInodeRange removes every PTE that maps a page of ino in the byte range [from, to)
// (page-aligned), in every process, as unmapMappingRange does from an offset to the end.
func (k *Kernel) unmapInodeRange(ino *Inode, from, to uint64) {
	k.forEachMapping(ino, func(mm *MM, v *VMA) {
		end := v.Off + (v.End - v.Start)
		start, stop := max(from, v.Off), min(to, end)
		if start >= stop {
			return
		}
		g := tlbGather{mm: mm}
		k.zap(mm, v, v.Start+(start-v.Off), v.Start+(stop-v.Off), &g)
		k.finish(&g)
	})
}
