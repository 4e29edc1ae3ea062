//go:build unix

package ram

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// reserve maps size bytes of anonymous, zero-filled host memory that the host backs only
// where it is touched.
func reserve(size uint64) ([]byte, error) {
	if uint64(int(size)) != size || int(size) < 0 {
		return nil, errTooBig
	}
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, err
	}
	hugePages(mem)
	return mem, nil
}

// release returns memory from reserve to the host.
func release(mem []byte) error { return unix.Munmap(mem) }

// fileFramesSupported: mmap places a file page at a 4 KiB frame only where host pages are
// 4 KiB (not on 16 KiB-page hosts such as Apple silicon).
func fileFramesSupported() bool { return unix.Getpagesize() == FrameSize }

// mapFileAt maps one page of the file open on fd at addr, replacing what was there.
func mapFileAt(addr unsafe.Pointer, fd int, off int64, shared bool) error {
	if !fileFramesSupported() {
		return ErrNoFileFrames
	}
	flags := unix.MAP_FIXED | unix.MAP_PRIVATE
	if shared {
		flags = unix.MAP_FIXED | unix.MAP_SHARED
	}
	_, err := unix.MmapPtr(fd, off, addr, FrameSize, unix.PROT_READ|unix.PROT_WRITE, flags)
	return err
}

// mapAnonAt puts fresh anonymous memory (zeros, committed on touch) back at addr.
func mapAnonAt(addr unsafe.Pointer) error {
	_, err := unix.MmapPtr(-1, 0, addr, FrameSize, unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_FIXED|unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
	return err
}
