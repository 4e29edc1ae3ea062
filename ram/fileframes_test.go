package ram

import (
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// A frame backed by a host file page is that page: stores reach the file at once, the
// host's writes show at once, and UnmapFile gives the frame back zeroed anonymous memory.
func TestFileFramesAreTheHostPage(t *testing.T) {
	if !FileFramesSupported() {
		testcheck.Skip(t, "this host cannot map file pages into RAM")
	}
	r, err := New(1 << 20)
	require.NoError(t, err)
	defer r.Close()
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 3*FrameSize)
	copy(data[FrameSize:], "second page")
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	defer f.Close()

	require.NoError(t, r.MapFile(7, int(f.Fd()), FrameSize, true))
	backed, shared := r.FileBacked(7)
	assert.True(t, backed)
	assert.True(t, shared)
	assert.Equal(t, 1, r.FileFrames())
	fr, _ := r.Frame(7)
	assert.Equal(t, "second page", string(fr[:11]))

	copy(fr[100:], "stored by the guest")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "stored by the guest", string(b[FrameSize+100:FrameSize+119]), "in the file at once")

	_, err = f.WriteAt([]byte("host"), FrameSize+200)
	require.NoError(t, err)
	assert.Equal(t, "host", string(fr[200:204]), "the host's write is seen at once")

	require.NoError(t, r.UnmapFile(7))
	backed, _ = r.FileBacked(7)
	assert.False(t, backed)
	assert.Equal(t, make([]byte, FrameSize), fr[:], "anonymous and zero again")
	b, _ = os.ReadFile(path)
	assert.Equal(t, "stored by the guest", string(b[FrameSize+100:FrameSize+119]), "the file keeps it")

	// Private: the file's data, and a store stays in the frame.
	ro, err := os.Open(path)
	require.NoError(t, err)
	defer ro.Close()
	require.NoError(t, r.MapFile(8, int(ro.Fd()), FrameSize, false))
	fr8, _ := r.Frame(8)
	assert.Equal(t, "second page", string(fr8[:11]))
	copy(fr8[:6], "PRIVAT")
	b, _ = os.ReadFile(path)
	assert.Equal(t, "second page", string(b[FrameSize:FrameSize+11]))

	fa, ok := r.FrameOfHostAddr(uintptrOf(&fr8[5]))
	assert.True(t, ok)
	assert.Equal(t, uint64(8), fa)
	assert.Error(t, r.MapFile(8, int(ro.Fd()), 100, false), "an offset not on a page")
}

func uintptrOf(b *byte) uintptr { return uintptr(unsafe.Pointer(b)) }
