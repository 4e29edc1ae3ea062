package minikernel

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu"
)

// Tests that look inside the file layer: system calls made as the dispatcher makes them
// (registers in, RAX out), sleeping and the hook that interrupts a sleep, path shapes, the
// page cache under truncation.

// call makes system call nr in p (the current process) with args, as the SYSCALL
// instruction would, and returns RAX afterwards; sysBlocks when p went to sleep.
func call(k *Kernel, p *Process, nr uint64, args ...uint64) int64 {
	regs := []int{cpu.RDI, cpu.RSI, cpu.RDX, cpu.R10, cpu.R8, cpu.R9}
	k.cpu.SetReg(cpu.RAX, nr)
	for i, v := range args {
		k.cpu.SetReg(regs[i], v)
	}
	k.syscall(p)
	if p.leader.sleep != nil {
		return sysBlocks
	}
	return int64(k.cpu.Reg(cpu.RAX))
}

// scratch maps n bytes of user memory in p for system-call buffers.
func scratch(t *testing.T, k *Kernel, p *Process, n uint64) uint64 {
	return mmapAnon(t, k, p, 0, n, ProtRead|ProtWrite, mapPrivate)
}

// newPipeFDs makes a pipe in p and returns its read and write descriptors.
func newPipeFDs(t *testing.T, k *Kernel, p *Process, buf uint64, flags uint64) (uint64, uint64) {
	require.Equal(t, int64(0), call(k, p, 293, buf, flags))
	var b [8]byte
	_, ok := k.copyIn(p, buf, b[:])
	require.True(t, ok)
	return uint64(binary.LittleEndian.Uint32(b[:])), uint64(binary.LittleEndian.Uint32(b[4:]))
}

// An unknown system call returns ENOSYS, is named in the trace by its Linux name (or its
// number when Linux has none), and the process carries on.
func TestUnknownSyscallIsENOSYSAndNamed(t *testing.T) {
	k, p := idle(t, 64<<20)
	var names []string
	k.Subscribe(func(e *Event) {
		if e.Kind == EvSyscall {
			names = append(names, e.Name)
		}
	})
	assert.Equal(t, -int64(ENOSYS), call(k, p, 334)) // rseq
	assert.Equal(t, -int64(ENOSYS), call(k, p, 999))
	assert.Equal(t, []string{"rseq", "syscall_999"}, names)
	assert.False(t, p.exited)
	assert.Equal(t, "", SyscallName(334), "SyscallName still lists only what is implemented")
}

// A signal for a handler interrupts a call asleep in a pipe read, a pipe write, nanosleep
// or poll with what Linux returns to the signal code: a restart code (ERESTARTSYS for
// calls SA_RESTART may restart, ERESTARTNOHAND otherwise, ERESTART_RESTARTBLOCK for
// nanosleep, which writes the time left), or the bytes a write had already moved.
func TestSignalEndsBlockedFileCalls(t *testing.T) {
	k, p := idle(t, 64<<20)
	buf := scratch(t, k, p, 1<<20)
	rfd, wfd := newPipeFDs(t, k, p, buf, 0)
	setAction(t, k, p, SIGUSR1, sigAction{handler: 0x401000, flags: saRestorer, restorer: 0x402000})

	interrupt := func(name string) (int64, *sleepCall) {
		t.Helper()
		s := p.leader.sleep
		require.NotNil(t, s, "%s sleeps", name)
		require.Equal(t, procBlocked, p.leader.state)
		k.generate(p, userSigInfo(SIGUSR1, siUser, p), false)
		assert.Equal(t, procRunnable, p.leader.state, "%s: woken by the signal", name)
		assert.Equal(t, name, s.name)
		require.True(t, k.resumeSleep(p.leader))
		assert.Nil(t, p.leader.sleep)
		_, ok := k.dequeue(p.leader, 0) // what the return to user mode would deliver
		require.True(t, ok)
		return int64(k.cpu.Reg(cpu.RAX)), s
	}

	assert.Equal(t, sysBlocks, call(k, p, 0, rfd, buf, 10))
	ret, s := interrupt("read")
	assert.Equal(t, int64(errRestartSys), ret)
	assert.True(t, s.restartable)

	assert.Equal(t, sysBlocks, call(k, p, 1, wfd, buf, 70000))
	ret, s = interrupt("write")
	assert.Equal(t, int64(65536), ret, "a write interrupted after moving bytes returns their count")
	assert.True(t, s.restartable)

	ts := buf + 100000
	_, ok := k.copyOut(p, ts, append(binary.LittleEndian.AppendUint64(nil, 5), binary.LittleEndian.AppendUint64(nil, 0)...))
	require.True(t, ok)
	assert.Equal(t, sysBlocks, call(k, p, 35, ts, ts+16))
	ret, s = interrupt("nanosleep")
	assert.Equal(t, int64(errRestartBlock), ret)
	assert.False(t, s.restartable)
	var rem [16]byte
	k.copyIn(p, ts+16, rem[:])
	left := binary.LittleEndian.Uint64(rem[:])*nsPerSec + binary.LittleEndian.Uint64(rem[8:])
	assert.Greater(t, left, uint64(4*nsPerSec), "time left written to rem")
	assert.LessOrEqual(t, left, uint64(5*nsPerSec))

	// poll on the full pipe's write end, no timeout.
	pfd := buf + 200000
	b := binary.LittleEndian.AppendUint32(nil, uint32(wfd))
	b = binary.LittleEndian.AppendUint16(b, pollOut)
	b = binary.LittleEndian.AppendUint16(b, 0)
	k.copyOut(p, pfd, b)
	assert.Equal(t, sysBlocks, call(k, p, 7, pfd, 1, ^uint64(0)))
	ret, s = interrupt("poll")
	assert.Equal(t, int64(errRestartNoHand), ret)
	assert.False(t, s.restartable)
}

// A process that reads its own empty pipe while holding the write end can never wake:
// the scheduler reports a deadlock naming the call, rather than hanging.
func TestPipeDeadlockIsReported(t *testing.T) {
	k, p := idle(t, 64<<20)
	buf := scratch(t, k, p, 4096)
	rfd, _ := newPipeFDs(t, k, p, buf, 0)
	require.Equal(t, sysBlocks, call(k, p, 0, rfd, buf, 1))
	_, err := k.Run()
	require.True(t, errors.Is(err, ErrDeadlock), "%v", err)
	assert.Contains(t, err.Error(), "pid 2 in read")
}

// A sleeper with a deadline is not a deadlock: when nothing can run, the virtual clock
// jumps to the deadline and the sleeper wakes with the call complete.
func TestSleepAdvancesTheVirtualClock(t *testing.T) {
	k, p := idle(t, 64<<20)
	buf := scratch(t, k, p, 4096)
	k.copyOut(p, buf, append(binary.LittleEndian.AppendUint64(nil, 2), binary.LittleEndian.AppendUint64(nil, 500)...))
	before := k.nowNS()
	require.Equal(t, sysBlocks, call(k, p, 35, buf, 0))
	_, err := k.schedule()
	require.NoError(t, err)
	assert.Nil(t, p.leader.sleep, "woken and finished")
	assert.Equal(t, int64(0), int64(k.cpu.Reg(cpu.RAX)))
	assert.Equal(t, before+2*nsPerSec+500, k.nowNS(), "the clock reads exactly the deadline")
}

// Path shapes Linux settles before asking the file system: a last component "." or "..",
// the root, a trailing slash.
func TestPathShapeErrors(t *testing.T) {
	k, p := idle(t, 64<<20)
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), nil, 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	buf := scratch(t, k, p, 8192)
	str := func(s string, at uint64) uint64 {
		k.copyOut(p, buf+at, append([]byte(s), 0))
		return buf + at
	}
	for _, tc := range []struct {
		name string
		nr   uint64
		path string
		want Errno
	}{
		{"mkdir .", 83, dir + "/.", EEXIST},
		{"mkdir ..", 83, dir + "/d/..", EEXIST},
		{"mkdir /", 83, "/", EEXIST},
		{"rmdir .", 84, dir + "/d/.", EINVAL},
		{"rmdir ..", 84, dir + "/d/..", ENOTEMPTY},
		{"rmdir /", 84, "/", EBUSY},
		{"unlink /", 87, "/", EISDIR},
		{"unlink ..", 87, dir + "/d/..", EISDIR},
		{"unlink file/", 87, dir + "/f/", ENOTDIR},
		{"unlink dir/", 87, dir + "/d/", EISDIR},
		{"unlink missing/", 87, dir + "/m/", ENOENT},
		{"chdir file", 80, dir + "/f", ENOTDIR},
		{"empty path", 87, "", ENOENT},
	} {
		assert.Equal(t, -int64(tc.want), call(k, p, tc.nr, str(tc.path, 0)), tc.name)
	}
	assert.Equal(t, -int64(EBUSY), call(k, p, 82, str(dir+"/d/..", 0), str(dir+"/x", 4096)), "rename ..")
	assert.Equal(t, -int64(EBUSY), call(k, p, 82, str(dir+"/f", 0), str("/", 4096)), "rename onto /")
	assert.Equal(t, -int64(EEXIST), call(k, p, 316, fdcwdArg, str(dir+"/f", 0), fdcwdArg, str(dir+"/d/.", 4096), 1),
		"renameat2 NOREPLACE onto .")
	assert.Equal(t, -int64(ENOTDIR), call(k, p, 82, str(dir+"/f", 0), str(dir+"/g/", 4096)), "rename file to name/")
	assert.Equal(t, -int64(EEXIST), call(k, p, 88, str("x", 0), str(dir+"/f/", 4096)), "symlink onto file/")
	assert.Equal(t, -int64(ENOENT), call(k, p, 88, str("x", 0), str(dir+"/new/", 4096)), "symlink to new/")
}

// A relative path with a directory descriptor resolves from that directory itself (reached
// through a symbolic link, its ".." is the real parent); a descriptor that is not a
// directory is ENOTDIR, one not open EBADF. Absolute paths ignore the descriptor.
func TestDirfdResolution(t *testing.T) {
	k, p := idle(t, 64<<20)
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	require.NoError(t, os.MkdirAll(filepath.Join(real, "in"), 0o755))
	require.NoError(t, os.Symlink(real, filepath.Join(dir, "link")))
	require.NoError(t, os.WriteFile(filepath.Join(real, "f"), []byte("x"), 0o644))
	buf := scratch(t, k, p, 8192)
	str := func(s string) uint64 {
		k.copyOut(p, buf, append([]byte(s), 0))
		return buf
	}
	dfd := call(k, p, 2, str(filepath.Join(dir, "link", "in")), oRdonly|oDirectory)
	require.GreaterOrEqual(t, dfd, int64(0))
	named, ok := k.guestPathOf(fdArg(p, uint64(dfd)).hfd)
	assert.True(t, ok)
	assert.Equal(t, filepath.Join(real, "in"), named, "the directory is named without the link")
	fd := call(k, p, 257, uint64(dfd), str("../f"), oRdonly)
	assert.GreaterOrEqual(t, fd, int64(0), "../f from inside the link's target")
	assert.Equal(t, -int64(ENOTDIR), call(k, p, 257, uint64(fd), str("x"), oRdonly))
	assert.Equal(t, -int64(EBADF), call(k, p, 257, 77, str("x"), oRdonly))
	assert.GreaterOrEqual(t, call(k, p, 257, 77, str(filepath.Join(real, "f")), oRdonly), int64(0))
}

// ftruncate shrinking a file drops its pages from every process's page tables (shared,
// private unwritten and private copies alike) and from the page cache; the partial last
// page stays, its tail cleared.
func TestTruncateDropsPagesFromEveryMapping(t *testing.T) {
	k, p := idle(t, 64<<20)
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 3*4096)
	for i := range data {
		data[i] = byte('a' + i/4096)
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, e := k.openHost(path, oRdwr, 0)
	require.Zero(t, e)
	fd, _ := p.fds.install(f, false, 3)
	mapFile := func(flags uint64) uint64 {
		a := [6]uint64{0, 3 * 4096, uint64(ProtRead | ProtWrite), flags, uint64(fd), 0}
		r := sysMmap(k, p, &a)
		require.Greater(t, r, int64(0))
		return uint64(r)
	}
	sh, pr := mapFile(mapShared), mapFile(mapPrivate)
	var b [1]byte
	for pg := uint64(0); pg < 3; pg++ {
		k.copyIn(p, sh+pg*4096, b[:])
		k.copyIn(p, pr+pg*4096, b[:])
	}
	k.copyOut(p, pr+2*4096, []byte("P")) // a private copy of the last page
	require.Equal(t, 3, f.ino.CachedPages())
	require.Equal(t, int64(0), call(k, p, 77, uint64(fd), 4096+100))
	assert.Equal(t, uint64(4096+100), f.ino.Size())
	assert.Equal(t, 2, f.ino.CachedPages(), "the last page left the cache")
	for _, va := range []uint64{sh + 2*4096, pr + 2*4096} {
		pte, _ := k.lookupPTE(p.mm, va)
		assert.False(t, pteMapped(pte), "%#x unmapped", va)
	}
	for _, va := range []uint64{sh, sh + 4096, pr, pr + 4096} {
		pte, _ := k.lookupPTE(p.mm, va)
		assert.True(t, pteMapped(pte), "%#x still mapped", va)
	}
	pfn := f.ino.pages[1]
	fr, _ := k.ram.Frame(pfn)
	assert.Equal(t, byte('b'), fr[99])
	assert.Equal(t, make([]byte, 4096-100), fr[100:], "the tail past the new end is zero")
	c := k.classifyFault(p, sh+2*4096, 0)
	assert.Equal(t, FaultSIGBUS, c.out, "a later access past the end is SIGBUS")
}
