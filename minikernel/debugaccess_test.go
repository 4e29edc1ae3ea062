package minikernel

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
)

// spawned is the process Spawn started (the emulated init is the first of Processes).
func spawned(k *Kernel) *Process {
	ps := k.Processes()
	return ps[len(ps)-1]
}

// fileBytes returns n bytes of a test program's file at the offset that maps va in p.
func fileBytes(t *testing.T, p *Process, va uint64, n int) []byte {
	t.Helper()
	v := p.MM().Find(va)
	require.NotNil(t, v)
	raw, err := os.ReadFile(progs + "bss_sum")
	require.NoError(t, err)
	off := v.Off + va - v.Start
	return raw[off : off+uint64(n)]
}

// A debugger's read changes nothing: a page the program has not touched reads as the fault
// handler would fill it (the file's bytes, zeros) yet stays not present, no TLB is
// consulted, no frame is allocated, and a fresh entry's accessed bit stays clear.
func TestReadMemoryHasNoSideEffects(t *testing.T) {
	k, _ := newMachine(t, Config{}, "bss_sum")
	p := spawned(k)
	entry := k.Regs(p).RIP
	frames, dtlb, itlb := k.Frames().Stats().InUse, k.MMU().DTLB.Stats, k.MMU().ITLB.Stats
	buf := make([]byte, 16)
	n, err := k.ReadMemory(p, entry, buf)
	require.NoError(t, err)
	assert.Equal(t, 16, n)
	assert.Equal(t, fileBytes(t, p, entry, 16), buf, "the program's text, from the file")
	lv := k.TableWalk(p.MM(), entry)
	assert.Zero(t, lv[len(lv)-1].Entry&mmu.PTEPresent, "still not present")
	assert.Equal(t, frames, k.Frames().Stats().InUse, "no frame allocated")
	assert.Equal(t, dtlb, k.MMU().DTLB.Stats)
	assert.Equal(t, itlb, k.MMU().ITLB.Stats)

	// The bss: anonymous, untouched, zeros.
	var bss *VMA
	for _, v := range p.MM().VMAs() {
		if v.Obj == nil && v.Name == "" {
			bss = v
		}
	}
	require.NotNil(t, bss)
	for i := range buf {
		buf[i] = 0xff
	}
	n, err = k.ReadMemory(p, bss.Start, buf)
	require.NoError(t, err)
	assert.Equal(t, make([]byte, 16), buf[:n])

	// No VMA: nothing; a read that runs off the end of a VMA into none: partial.
	n, err = k.ReadMemory(p, 0xdead0000, buf)
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, ErrNoAccess)
	last := p.MM().VMAs()[len(p.MM().VMAs())-1]
	n, _ = k.ReadMemory(p, last.End-4, buf)
	assert.Equal(t, 4, n)

	// After the first fault is resolved, the new entry has A clear until the CPU retries:
	// reading through it leaves it so.
	pt, err := k.RunToTrap(1)
	require.NoError(t, err)
	require.NoError(t, k.HandleTrap(pt))
	before := k.TableWalk(p.MM(), entry)
	leaf := before[len(before)-1].Entry
	require.NotZero(t, leaf&mmu.PTEPresent)
	require.Zero(t, leaf&mmu.PTEAccessed)
	_, err = k.ReadMemory(p, entry, buf)
	require.NoError(t, err)
	after := k.TableWalk(p.MM(), entry)
	assert.Equal(t, before, after)
}

// A debugger's write to program text is a forced write, as ptrace's: the process gets a
// private copy of the page, still read-only and executable; the page cache's frame (the
// file's page) is untouched.
func TestWriteMemoryCopiesReadOnlyText(t *testing.T) {
	k, _ := newMachine(t, Config{}, "bss_sum")
	p := spawned(k)
	entry := k.Regs(p).RIP
	orig := fileBytes(t, p, entry, 4)
	// Fault the page in as the program would, so a page-cache frame maps it.
	pt, err := k.RunToTrap(1)
	require.NoError(t, err)
	require.NoError(t, k.HandleTrap(pt))
	lv := k.TableWalk(p.MM(), entry)
	cacheFrame := lv[len(lv)-1].Entry.Frame()
	require.Equal(t, FrameCache, k.Frames().Kind(cacheFrame))

	n, err := k.WriteMemory(p, entry, []byte{0x90, 0x90, 0x90, 0x90})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	got := make([]byte, 4)
	k.ReadMemory(p, entry, got)
	assert.Equal(t, []byte{0x90, 0x90, 0x90, 0x90}, got)

	lv = k.TableWalk(p.MM(), entry)
	e := lv[len(lv)-1].Entry
	assert.NotEqual(t, cacheFrame, e.Frame(), "a private copy")
	assert.Equal(t, FrameUser, k.Frames().Kind(e.Frame()))
	assert.Zero(t, e&mmu.PTEWrite, "text stays read-only to the program")
	assert.Zero(t, e&mmu.PTENoExec, "and executable")
	off := entry & 0xfff
	assert.Equal(t, orig, k.RAM().Bytes()[cacheFrame<<12+off:cacheFrame<<12+off+4], "the file's page is unchanged")

	// Nothing can be written where no VMA is.
	n, err = k.WriteMemory(p, 0xdead0000, []byte{1})
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, ErrNoAccess)
}

// execve keeps the auxiliary vector it wrote (for /proc/PID/auxv and debuggers), and the
// command name.
func TestAuxvAndName(t *testing.T) {
	k, _ := newMachine(t, Config{}, "bss_sum")
	p := spawned(k)
	auxv := p.Auxv()
	require.NotEmpty(t, auxv)
	found := false
	for i := 0; i+16 <= len(auxv); i += 16 {
		if binary.LittleEndian.Uint64(auxv[i:]) == atEntry {
			assert.Equal(t, k.Regs(p).RIP, binary.LittleEndian.Uint64(auxv[i+8:]))
			found = true
		}
	}
	assert.True(t, found, "AT_ENTRY")
	assert.Equal(t, uint64(atNull), binary.LittleEndian.Uint64(auxv[len(auxv)-16:]))
	assert.Equal(t, "bss_sum", p.Threads()[0].Name())
}

// The tracer sees a traced process's signal before it is delivered and decides: cancelled,
// the faulting instruction runs again and faults again; passed on, the signal kills. An
// untraced process's signals are not shown to it.
func TestSignalTracer(t *testing.T) {
	k, _ := newMachine(t, Config{}, "touch_unowned")
	p := spawned(k)
	p.SetTraced(true)
	var seen [][]byte
	k.SetTracer(func(th *Thread, info []byte) int {
		require.Same(t, p, th.Process())
		seen = append(seen, info)
		if len(seen) == 1 {
			return 0 // cancel: the write will fault again
		}
		return int(binary.LittleEndian.Uint32(info))
	})
	stepAll(t, k, 1<<20, nil)
	require.Len(t, seen, 2)
	for _, info := range seen {
		assert.Equal(t, uint32(SIGSEGV), binary.LittleEndian.Uint32(info[0:]))
		assert.Equal(t, uint32(SEGV_MAPERR), binary.LittleEndian.Uint32(info[8:]))
		assert.Equal(t, uint64(0xdead0000), binary.LittleEndian.Uint64(info[16:]), "si_addr")
	}
	assert.Equal(t, SIGSEGV, p.WaitStatus()&0x7f)

	k, _ = newMachine(t, Config{}, "touch_unowned")
	calls := 0
	k.SetTracer(func(*Thread, []byte) int { calls++; return 0 })
	stepAll(t, k, 1<<20, nil)
	assert.Zero(t, calls)
}
