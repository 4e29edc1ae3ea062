package ram

import (
	"errors"
	"fmt"
	"unsafe"
)

// File frames. A frame can be backed by one 4 KiB page of a host file instead of anonymous
// host memory: the host maps the file's page at the frame's place in the RAM region
// (MAP_SHARED, or MAP_PRIVATE for a file open read-only, with MAP_FIXED). Loads and stores
// to the frame are then loads and stores to the host's page cache page of that file, as
// they are for a process that maps the file natively: a store is in the host's page cache
// the moment it is made, so it survives emu being killed (even by SIGKILL), and a change
// the host makes to the file is seen at once.
//
// This is a property of how a frame is backed, not of what it holds: the RAM still knows
// nothing about files or their owners; the kernel decides which frames to back so, and
// when to give a frame back its anonymous memory (UnmapFile).

// ErrNoFileFrames reports a host that cannot back frames with file pages (no mmap, or a
// page size other than 4 KiB).
var ErrNoFileFrames = errors.New("ram: this host cannot map file pages into RAM")

// FileFramesSupported reports whether this host can back frames with host file pages.
func FileFramesSupported() bool { return fileFramesSupported() }

// MapFile backs frame pfn with the page of the host file open on fd at byte offset off (a
// multiple of FrameSize), shared with the file when shared is true (fd must be open for
// reading and writing), else private (copy-on-write at the host, for a file open read-only;
// the frame must then not be stored to). What the frame held before is gone. The page must
// lie within the file: touching a page past its end is a host SIGBUS.
func (r *RAM) MapFile(pfn uint64, fd int, off int64, shared bool) error {
	if pfn >= r.Frames() {
		return &AccessError{Addr: pfn << FrameShift, Size: FrameSize, RAM: r.size}
	}
	if off%FrameSize != 0 {
		return fmt.Errorf("ram: file offset %#x is not a multiple of %d", off, FrameSize)
	}
	if err := mapFileAt(unsafe.Pointer(&r.mem[pfn<<FrameShift]), fd, off, shared); err != nil {
		return err
	}
	if r.files == nil {
		r.files = map[uint64]bool{}
	}
	r.files[pfn] = shared
	r.NoteWrite(pfn) // its bytes changed under any decoded copy
	return nil
}

// UnmapFile gives frame pfn back anonymous, zero-filled memory, if a file page backed it.
func (r *RAM) UnmapFile(pfn uint64) error {
	if _, ok := r.files[pfn]; !ok {
		return nil
	}
	if err := mapAnonAt(unsafe.Pointer(&r.mem[pfn<<FrameShift])); err != nil {
		return err
	}
	delete(r.files, pfn)
	r.NoteWrite(pfn)
	return nil
}

// FileBacked reports whether a file page backs frame pfn, and whether it is shared with
// the file (stores reach the file).
func (r *RAM) FileBacked(pfn uint64) (backed, shared bool) {
	shared, backed = r.files[pfn]
	return backed, shared
}

// FileFrames returns how many frames file pages back now.
func (r *RAM) FileFrames() int { return len(r.files) }

// FrameOfHostAddr returns the frame whose host memory holds address a (from a host fault),
// and whether a is in RAM at all.
func (r *RAM) FrameOfHostAddr(a uintptr) (uint64, bool) {
	if len(r.mem) == 0 {
		return 0, false
	}
	base := uintptr(unsafe.Pointer(&r.mem[0]))
	if a < base || a-base >= uintptr(r.size) {
		return 0, false
	}
	return uint64(a-base) >> FrameShift, true
}
