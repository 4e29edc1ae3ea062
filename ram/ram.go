// Package ram models the machine's physical memory: a flat array of bytes at physical
// addresses, divided into 4 KiB frames, read and written little-endian.
//
// It knows nothing about who uses a frame (page tables, processes, files): that is the
// kernel's business. The only extra it carries is what real hardware has too: a snoop that
// notices stores into frames holding decoded instructions, so a CPU's instruction cache can
// stay coherent with self-modifying code.
//
// Host memory is reserved, not committed: the guest's RAM is one anonymous host mapping that
// the host backs only where it is touched, so a 4 GiB guest costs host memory only for the
// frames it uses. The reservation is the one host-specific part (host_*.go): on Unix an
// anonymous mmap (MAP_NORESERVE on Linux), asking for transparent huge pages where the host
// has them (Linux MADV_HUGEPAGE), so the host takes one fault per 2 MiB of guest RAM instead
// of one per 4 KiB; on Windows VirtualAlloc, whose pages are also zero-filled on first touch
// (the whole size counts against the commit limit there).
package ram

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// FrameSize is the size of a physical frame (and of a small page) in bytes.
const FrameSize = 4096

// FrameShift is log2(FrameSize).
const FrameShift = 12

// DefaultSize is the RAM size used when none is given: 4 GiB.
const DefaultSize = 4 << 30

// Frame is the contents of one physical frame. Indexing it with an offset masked by
// FrameSize-1 needs no bounds check.
type Frame = [FrameSize]byte

// AccessError reports an access outside physical memory.
type AccessError struct {
	Addr uint64 // first physical address of the access
	Size uint64 // bytes accessed
	RAM  uint64 // size of RAM
}

func (e *AccessError) Error() string {
	return fmt.Sprintf("physical access of %d bytes at %#x is beyond the end of RAM (%#x bytes)",
		e.Size, e.Addr, e.RAM)
}

// ReserveError reports a RAM size the host cannot reserve address space for (its address
// space, or a limit such as RLIMIT_AS, is smaller).
type ReserveError struct {
	Size uint64 // bytes asked for
	Max  uint64 // the most this host reserved when asked just now (a multiple of 1 MiB; 0: none)
	Err  error
}

func (e *ReserveError) Error() string {
	return fmt.Sprintf("ram: this host cannot reserve %d MiB of address space for RAM (%v); the most it can reserve now is %d MiB",
		e.Size>>20, e.Err, e.Max>>20)
}

func (e *ReserveError) Unwrap() error { return e.Err }

// maxReservable finds, by bisection over whole MiB, the largest size below limit that
// reserve grants now.
func maxReservable(limit uint64) uint64 {
	lo, hi := uint64(0), limit>>20 // lo MiB is known to work (or is 0); hi MiB is known to fail
	for lo+1 < hi {
		mid := lo + (hi-lo)/2
		if m, err := reserve(mid << 20); err == nil {
			_ = release(m)
			lo = mid
		} else {
			hi = mid
		}
	}
	return lo << 20
}

// RAM is the physical memory of one machine.
type RAM struct {
	mem  []byte
	size uint64

	// code has one bit per frame: set while some CPU holds instructions decoded from that
	// frame. A store into such a frame calls onCodeWrite (the snoop).
	code        []uint64
	onCodeWrite func(pfn uint64)

	// files holds the frames a host file page backs (fileframes.go): true when shared
	// with the file.
	files map[uint64]bool
}

// New reserves size bytes of physical memory. size must be a positive multiple of FrameSize.
// The memory reads as zero until written.
func New(size uint64) (*RAM, error) {
	if size == 0 || size%FrameSize != 0 {
		return nil, fmt.Errorf("ram: size %d is not a positive multiple of %d", size, FrameSize)
	}
	if size > 1<<46 {
		return nil, fmt.Errorf("ram: size %#x exceeds the 64 TiB the machine can address", size)
	}
	mem, err := reserve(size)
	if err != nil {
		return nil, &ReserveError{Size: size, Max: maxReservable(size), Err: err}
	}
	frames := size / FrameSize
	return &RAM{mem: mem, size: size, code: make([]uint64, (frames+63)/64)}, nil
}

// Close returns the host memory. The RAM must not be used afterwards.
func (r *RAM) Close() error {
	if r.mem == nil {
		return nil
	}
	err := release(r.mem)
	r.mem = nil
	return err
}

// Size returns the size of physical memory in bytes.
func (r *RAM) Size() uint64 { return r.size }

// Frames returns the number of 4 KiB frames.
func (r *RAM) Frames() uint64 { return r.size / FrameSize }

// Bytes returns all of physical memory as one slice indexed by physical address, for fast
// paths that have already checked their bounds. A caller that stores through it into a frame
// must call NoteWrite for that frame (IsCode tells whether it matters).
func (r *RAM) Bytes() []byte { return r.mem }

// Frame returns the bytes of frame pfn. A caller that stores through it must call NoteWrite.
func (r *RAM) Frame(pfn uint64) (*Frame, error) {
	if pfn >= r.Frames() {
		return nil, &AccessError{Addr: pfn << FrameShift, Size: FrameSize, RAM: r.size}
	}
	return (*Frame)(unsafe.Pointer(&r.mem[pfn<<FrameShift])), nil
}

func (r *RAM) check(pa, n uint64) error {
	if pa >= r.size || n > r.size-pa {
		return &AccessError{Addr: pa, Size: n, RAM: r.size}
	}
	return nil
}

// Read8 loads one byte at physical address pa.
func (r *RAM) Read8(pa uint64) (uint8, error) {
	if err := r.check(pa, 1); err != nil {
		return 0, err
	}
	return r.mem[pa], nil
}

// Read16 loads a little-endian 16-bit value.
func (r *RAM) Read16(pa uint64) (uint16, error) {
	if err := r.check(pa, 2); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint16(r.mem[pa:]), nil
}

// Read32 loads a little-endian 32-bit value.
func (r *RAM) Read32(pa uint64) (uint32, error) {
	if err := r.check(pa, 4); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(r.mem[pa:]), nil
}

// Read64 loads a little-endian 64-bit value.
func (r *RAM) Read64(pa uint64) (uint64, error) {
	if err := r.check(pa, 8); err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(r.mem[pa:]), nil
}

// Write8 stores one byte at physical address pa.
func (r *RAM) Write8(pa uint64, v uint8) error {
	if err := r.check(pa, 1); err != nil {
		return err
	}
	r.mem[pa] = v
	r.snoop(pa, 1)
	return nil
}

// Write16 stores a little-endian 16-bit value.
func (r *RAM) Write16(pa uint64, v uint16) error {
	if err := r.check(pa, 2); err != nil {
		return err
	}
	binary.LittleEndian.PutUint16(r.mem[pa:], v)
	r.snoop(pa, 2)
	return nil
}

// Write32 stores a little-endian 32-bit value.
func (r *RAM) Write32(pa uint64, v uint32) error {
	if err := r.check(pa, 4); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(r.mem[pa:], v)
	r.snoop(pa, 4)
	return nil
}

// Write64 stores a little-endian 64-bit value.
func (r *RAM) Write64(pa uint64, v uint64) error {
	if err := r.check(pa, 8); err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(r.mem[pa:], v)
	r.snoop(pa, 8)
	return nil
}

// Read copies len(buf) bytes starting at pa into buf.
func (r *RAM) Read(pa uint64, buf []byte) error {
	if err := r.check(pa, uint64(len(buf))); err != nil {
		return err
	}
	copy(buf, r.mem[pa:])
	return nil
}

// Write copies buf into physical memory starting at pa.
func (r *RAM) Write(pa uint64, buf []byte) error {
	if err := r.check(pa, uint64(len(buf))); err != nil {
		return err
	}
	copy(r.mem[pa:], buf)
	r.snoop(pa, uint64(len(buf)))
	return nil
}

// ZeroFrame fills frame pfn with zeros.
func (r *RAM) ZeroFrame(pfn uint64) error {
	f, err := r.Frame(pfn)
	if err != nil {
		return err
	}
	clear(f[:])
	r.NoteWrite(pfn)
	return nil
}

// CopyFrame copies frame src into frame dst.
func (r *RAM) CopyFrame(dst, src uint64) error {
	d, err := r.Frame(dst)
	if err != nil {
		return err
	}
	s, err := r.Frame(src)
	if err != nil {
		return err
	}
	*d = *s
	r.NoteWrite(dst)
	return nil
}

// SetCodeSnoop installs the function called when a store lands in a frame marked with
// MarkCode. The mark is cleared before the call.
func (r *RAM) SetCodeSnoop(f func(pfn uint64)) { r.onCodeWrite = f }

// MarkCode records that frame pfn holds decoded instructions. Out-of-range frames are ignored.
func (r *RAM) MarkCode(pfn uint64) {
	if pfn < r.Frames() {
		r.code[pfn>>6] |= 1 << (pfn & 63)
	}
}

// IsCode reports whether frame pfn is marked as holding decoded instructions.
func (r *RAM) IsCode(pfn uint64) bool {
	return pfn < r.Frames() && r.code[pfn>>6]&(1<<(pfn&63)) != 0
}

// NoteWrite tells the snoop that frame pfn was written through Bytes or Frame.
func (r *RAM) NoteWrite(pfn uint64) {
	if r.IsCode(pfn) {
		r.code[pfn>>6] &^= 1 << (pfn & 63)
		if r.onCodeWrite != nil {
			r.onCodeWrite(pfn)
		}
	}
}

func (r *RAM) snoop(pa, n uint64) {
	if n == 0 {
		return // an empty store touches no frame (and pa+n-1 would wrap at pa 0)
	}
	for pfn := pa >> FrameShift; pfn <= (pa+n-1)>>FrameShift; pfn++ {
		r.NoteWrite(pfn)
	}
}

// Resident returns how many bytes of guest RAM the host currently backs with real memory,
// as mincore(2) reports it. Hosts that cannot tell (all but Linux) return an error wrapping
// errors.ErrUnsupported.
func (r *RAM) Resident() (uint64, error) { return resident(r.mem) }

// errTooBig: a size the host's address space (int) cannot hold.
var errTooBig = errors.New("larger than this host can address")
