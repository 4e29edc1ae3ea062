package ram_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/ram"
)

const testSize = 1 << 20 // 256 frames

func newRAM(t testing.TB, size uint64) *ram.RAM {
	t.Helper()
	r, err := ram.New(size)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func TestNewValidatesSize(t *testing.T) {
	tests := []struct {
		name    string
		size    uint64
		wantErr string
	}{
		{"one frame", ram.FrameSize, ""},
		{"the default 4 GiB", ram.DefaultSize, ""},
		{"zero bytes", 0, "not a positive multiple"},
		{"not a whole number of frames", ram.FrameSize + 1, "not a positive multiple"},
		{"more than 64 TiB", 1 << 47, "exceeds the 64 TiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ram.New(tc.size)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			defer r.Close()
			assert.Equal(t, tc.size, r.Size())
			assert.Equal(t, tc.size/ram.FrameSize, r.Frames())
			assert.Len(t, r.Bytes(), int(tc.size))
		})
	}
}

func TestLoadsAndStoresAreLittleEndian(t *testing.T) {
	const pa = 0x1ff9 // unaligned, and the 8-byte case crosses into the next frame
	tests := []struct {
		name  string
		store func(r *ram.RAM) error
		load  func(r *ram.RAM) (uint64, error)
		bytes []byte // memory at pa afterwards, lowest address first
	}{
		{"8-bit", func(r *ram.RAM) error { return r.Write8(pa, 0xa1) },
			func(r *ram.RAM) (uint64, error) { v, err := r.Read8(pa); return uint64(v), err },
			[]byte{0xa1, 0}},
		{"16-bit", func(r *ram.RAM) error { return r.Write16(pa, 0xb2a1) },
			func(r *ram.RAM) (uint64, error) { v, err := r.Read16(pa); return uint64(v), err },
			[]byte{0xa1, 0xb2, 0}},
		{"32-bit", func(r *ram.RAM) error { return r.Write32(pa, 0xd4c3b2a1) },
			func(r *ram.RAM) (uint64, error) { v, err := r.Read32(pa); return uint64(v), err },
			[]byte{0xa1, 0xb2, 0xc3, 0xd4, 0}},
		{"64-bit", func(r *ram.RAM) error { return r.Write64(pa, 0x08f7e6d5d4c3b2a1) },
			func(r *ram.RAM) (uint64, error) { return r.Read64(pa) },
			[]byte{0xa1, 0xb2, 0xc3, 0xd4, 0xd5, 0xe6, 0xf7, 0x08, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRAM(t, testSize)
			require.NoError(t, tc.store(r))
			got := make([]byte, len(tc.bytes))
			require.NoError(t, r.Read(pa, got))
			assert.Equal(t, tc.bytes, got, "least significant byte at the lowest address")
			v, err := tc.load(r)
			require.NoError(t, err)
			var want uint64
			for i := len(tc.bytes) - 2; i >= 0; i-- {
				want = want<<8 | uint64(tc.bytes[i])
			}
			assert.Equal(t, want, v)
			b, err := r.Read8(pa - 1)
			require.NoError(t, err)
			assert.Zero(t, b, "the byte before is untouched")
		})
	}
}

func TestByteRanges(t *testing.T) {
	r := newRAM(t, testSize)
	in := []byte("across a frame boundary")
	pa := uint64(3*ram.FrameSize - 7)
	require.NoError(t, r.Write(pa, in))
	out := make([]byte, len(in))
	require.NoError(t, r.Read(pa, out))
	assert.Equal(t, in, out)
	assert.Equal(t, in, r.Bytes()[pa:pa+uint64(len(in))], "Bytes is indexed by physical address")

	f, err := r.Frame(3)
	require.NoError(t, err)
	assert.Equal(t, in[7:], f[:len(in)-7], "Frame 3 starts at physical address 0x3000")
	f[100] = 0x5a
	v, err := r.Read8(3*ram.FrameSize + 100)
	require.NoError(t, err)
	assert.Equal(t, uint8(0x5a), v, "Frame aliases physical memory")

	require.NoError(t, r.Write(0, nil), "an empty write touches nothing")
	assert.Equal(t, in, out)

	last := make([]byte, 8)
	require.NoError(t, r.Read(testSize-8, last), "the last bytes of RAM")
}

func TestFrameOperations(t *testing.T) {
	r := newRAM(t, testSize)
	require.NoError(t, r.Write(5*ram.FrameSize, []byte{1, 2, 3}))
	require.NoError(t, r.Write64(6*ram.FrameSize+ram.FrameSize-8, ^uint64(0)))
	require.NoError(t, r.CopyFrame(7, 5))
	got := make([]byte, 4)
	require.NoError(t, r.Read(7*ram.FrameSize, got))
	assert.Equal(t, []byte{1, 2, 3, 0}, got)

	require.NoError(t, r.ZeroFrame(6))
	f, err := r.Frame(6)
	require.NoError(t, err)
	assert.Equal(t, ram.Frame{}, *f)
	v, err := r.Read64(7*ram.FrameSize - 8) // last word of frame 6
	require.NoError(t, err)
	assert.Zero(t, v)
}

func TestOutOfRangeIsAccessError(t *testing.T) {
	const size = testSize
	tests := []struct {
		name   string
		access func(r *ram.RAM) error
		addr   uint64
		n      uint64
	}{
		{"Read8 at the end", func(r *ram.RAM) error { _, err := r.Read8(size); return err }, size, 1},
		{"Read16 straddling the end", func(r *ram.RAM) error { _, err := r.Read16(size - 1); return err }, size - 1, 2},
		{"Read32 straddling the end", func(r *ram.RAM) error { _, err := r.Read32(size - 3); return err }, size - 3, 4},
		{"Read64 straddling the end", func(r *ram.RAM) error { _, err := r.Read64(size - 7); return err }, size - 7, 8},
		{"Read64 at the top of the address space", func(r *ram.RAM) error { _, err := r.Read64(^uint64(0) - 3); return err }, ^uint64(0) - 3, 8},
		{"Write8 at the end", func(r *ram.RAM) error { return r.Write8(size, 1) }, size, 1},
		{"Write16 far away", func(r *ram.RAM) error { return r.Write16(1<<40, 1) }, 1 << 40, 2},
		{"Write32 straddling the end", func(r *ram.RAM) error { return r.Write32(size-2, 1) }, size - 2, 4},
		{"Write64 straddling the end", func(r *ram.RAM) error { return r.Write64(size-4, 1) }, size - 4, 8},
		{"Read of a range past the end", func(r *ram.RAM) error { return r.Read(size-2, make([]byte, 3)) }, size - 2, 3},
		{"Write of a range past the end", func(r *ram.RAM) error { return r.Write(size-1, []byte{1, 2}) }, size - 1, 2},
		{"Frame past the end", func(r *ram.RAM) error { _, err := r.Frame(size / ram.FrameSize); return err }, size, ram.FrameSize},
		{"ZeroFrame past the end", func(r *ram.RAM) error { return r.ZeroFrame(1 << 30) }, 1 << 42, ram.FrameSize},
		{"CopyFrame to a frame past the end", func(r *ram.RAM) error { return r.CopyFrame(256, 0) }, size, ram.FrameSize},
		{"CopyFrame from a frame past the end", func(r *ram.RAM) error { return r.CopyFrame(0, 257) }, size + ram.FrameSize, ram.FrameSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRAM(t, size)
			var err error
			require.NotPanics(t, func() { err = tc.access(r) })
			var ae *ram.AccessError
			require.True(t, errors.As(err, &ae), "got %v", err)
			assert.Equal(t, ram.AccessError{Addr: tc.addr, Size: tc.n, RAM: size}, *ae)
			assert.Contains(t, err.Error(), "beyond the end of RAM")
		})
	}
}

func TestCodeSnoop(t *testing.T) {
	tests := []struct {
		name  string
		store func(r *ram.RAM) error
		calls []uint64 // frames the snoop is told about
	}{
		{"Write8 into a code frame", func(r *ram.RAM) error { return r.Write8(4*ram.FrameSize+9, 1) }, []uint64{4}},
		{"Write16 into a code frame", func(r *ram.RAM) error { return r.Write16(4*ram.FrameSize, 1) }, []uint64{4}},
		{"Write32 into a code frame", func(r *ram.RAM) error { return r.Write32(5*ram.FrameSize-4, 1) }, []uint64{4}},
		{"Write64 into a code frame", func(r *ram.RAM) error { return r.Write64(4*ram.FrameSize+8, 1) }, []uint64{4}},
		{"Write of a range into a code frame", func(r *ram.RAM) error { return r.Write(4*ram.FrameSize, make([]byte, 100)) }, []uint64{4}},
		{"Write64 straddling two code frames", func(r *ram.RAM) error { return r.Write64(5*ram.FrameSize-4, 1) }, []uint64{4, 5}},
		{"Write of a range over three frames, two of them code", func(r *ram.RAM) error {
			return r.Write(3*ram.FrameSize+1, make([]byte, 2*ram.FrameSize))
		}, []uint64{4, 5}},
		{"ZeroFrame of a code frame", func(r *ram.RAM) error { return r.ZeroFrame(5) }, []uint64{5}},
		{"CopyFrame into a code frame", func(r *ram.RAM) error { return r.CopyFrame(4, 9) }, []uint64{4}},
		{"CopyFrame out of a code frame is not a store to it", func(r *ram.RAM) error { return r.CopyFrame(9, 4) }, nil},
		{"NoteWrite after a store through Bytes", func(r *ram.RAM) error {
			r.Bytes()[5*ram.FrameSize] = 0x90
			r.NoteWrite(5)
			return nil
		}, []uint64{5}},
		{"Write8 into an ordinary frame", func(r *ram.RAM) error { return r.Write8(6*ram.FrameSize, 1) }, nil},
		{"a load from a code frame", func(r *ram.RAM) error { _, err := r.Read64(4 * ram.FrameSize); return err }, nil},
		{"an empty Write", func(r *ram.RAM) error { return r.Write(4*ram.FrameSize+1, nil) }, nil},
		{"a store that fails", func(r *ram.RAM) error { _ = r.Write64(testSize-4, 1); return nil }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRAM(t, testSize)
			var calls []uint64
			r.SetCodeSnoop(func(pfn uint64) {
				assert.False(t, r.IsCode(pfn), "the mark is cleared before the call")
				calls = append(calls, pfn)
			})
			r.MarkCode(4)
			r.MarkCode(5)
			require.NoError(t, tc.store(r))
			assert.Equal(t, tc.calls, calls)
			for _, pfn := range []uint64{4, 5} {
				assert.Equal(t, !containsFrame(tc.calls, pfn), r.IsCode(pfn), "frame %d still marked", pfn)
			}
			// The mark is gone: a second store into the same frames says nothing.
			calls = nil
			require.NoError(t, tc.store(r))
			for _, pfn := range calls {
				assert.False(t, containsFrame(tc.calls, pfn), "frame %d reported twice", pfn)
			}
		})
	}
	t.Run("marks out of range are ignored", func(t *testing.T) {
		r := newRAM(t, testSize)
		r.MarkCode(1 << 40)
		assert.False(t, r.IsCode(1<<40))
		r.NoteWrite(1 << 40)
	})
	t.Run("without a snoop a store just clears the mark", func(t *testing.T) {
		r := newRAM(t, testSize)
		r.MarkCode(2)
		require.NoError(t, r.Write8(2*ram.FrameSize, 1))
		assert.False(t, r.IsCode(2))
	})
	t.Run("frames 63 and 64 sit in different words of the bitmap", func(t *testing.T) {
		r := newRAM(t, testSize)
		r.MarkCode(63)
		assert.True(t, r.IsCode(63))
		assert.False(t, r.IsCode(64))
		assert.False(t, r.IsCode(62))
	})
}

func containsFrame(list []uint64, pfn uint64) bool {
	for _, p := range list {
		if p == pfn {
			return true
		}
	}
	return false
}

func TestCloseReleasesMemory(t *testing.T) {
	r, err := ram.New(testSize)
	require.NoError(t, err)
	require.NoError(t, r.Close())
	require.NoError(t, r.Close(), "a second Close does nothing")
}

// TestBigRAMCostsOnlyWhatIsTouched checks that a 4 GiB guest is reserved, not committed.
func TestBigRAMCostsOnlyWhatIsTouched(t *testing.T) {
	r := newRAM(t, 4<<30)
	res, err := r.Resident()
	if errors.Is(err, errors.ErrUnsupported) {
		testcheck.Skip(t, "this host cannot say which pages it backs: %v", err)
	}
	require.NoError(t, err)
	assert.Less(t, res, uint64(4<<20), "resident right after New")

	const touched = 10
	for i := uint64(0); i < touched; i++ {
		pa := i*(r.Size()/touched) + 0x123
		require.NoError(t, r.Write8(pa, 0xee))
	}
	res, err = r.Resident()
	require.NoError(t, err)
	assert.GreaterOrEqual(t, res, uint64(touched*ram.FrameSize), "every touched frame is backed")
	// With transparent huge pages a touched frame may bring its whole 2 MiB along.
	assert.Less(t, res, uint64(64<<20), "resident after touching %d frames", touched)
	t.Logf("resident after touching %d frames of 4 GiB: %d KiB", touched, res>>10)
}

// BenchmarkResident measures the mincore scan of a 4 GiB RAM and reports the host memory
// that touching ten frames spread over it costs.
func BenchmarkResident(b *testing.B) {
	r := newRAM(b, 4<<30)
	for i := uint64(0); i < 10; i++ {
		require.NoError(b, r.Write8(i*(r.Size()/10), 1))
	}
	var res uint64
	b.ResetTimer()
	for b.Loop() {
		var err error
		if res, err = r.Resident(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(res)/10/1024, "resident-KiB/touched-frame")
}
