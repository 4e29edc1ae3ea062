package minikernel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/ram"
)

// Issue 11, item 1 and item 16: a machine too small for a program never crashes emu, and a
// machine too small to start it says so once, with the size that would have worked.
func TestRAMTooSmallToStart(t *testing.T) {
	var need uint64
	for ram := uint64(4 << 10); ram <= 64<<10; ram += 4 << 10 {
		var out, log bytes.Buffer
		k, err := New(Config{RAM: ram, Stdout: &out, Stderr: &log})
		require.NoError(t, err, "RAM %d KiB", ram>>10)
		_, err = k.Spawn(progs+"hello", []string{"hello"}, nil)
		code := 0
		if err == nil {
			code, err = k.Run()
		}
		k.Close()
		var small *RAMTooSmallError
		if errors.As(err, &small) {
			assert.Empty(t, log.String(), "RAM %d KiB: no kill line when the program never ran", ram>>10)
			assert.Equal(t, ram, small.RAM)
			if need == 0 {
				need = small.Need
			}
			assert.Equal(t, need, small.Need, "RAM %d KiB: the same need whatever the RAM", ram>>10)
			assert.Greater(t, need, ram)
			assert.Contains(t, small.Error(), fmt.Sprintf("RAM too small: %d KiB needed", need>>10))
			continue
		}
		require.NoError(t, err, "RAM %d KiB", ram>>10)
		require.NotZero(t, need, "RAM %d KiB ran before any size was too small", ram>>10)
		assert.GreaterOrEqual(t, ram, need, "RAM %d KiB started below the need", ram>>10)
		if code != 0 {
			assert.Equal(t, 128+SIGKILL, code, "RAM %d KiB: %s", ram>>10, log.String())
			assert.Contains(t, log.String(), "out of memory")
		} else {
			assert.Equal(t, "hello, world\n", out.String())
		}
	}
	assert.NotZero(t, need)
}

// Item 1: execve under memory pressure. The child of hard_execargs execs with 64 arguments
// of 4,000 bytes while the frames run out at every possible point of the copy; the child
// gets ENOMEM or is OOM-killed, and the parent and the machine run on.
func TestExecUnderMemoryPressure(t *testing.T) {
	prog := progs + "musl_hard_execargs"
	runWith := func(limit uint64) (string, string, int, error) {
		var out, log bytes.Buffer
		k, err := New(Config{RAM: 64 << 20, Stdout: &out, Stderr: &log})
		require.NoError(t, err)
		defer k.Close()
		_, err = k.Spawn(prog, []string{"hard_execargs", prog}, nil)
		require.NoError(t, err)
		if limit != 0 {
			k.Frames().SetLimit(limit)
		}
		code, err := k.Run()
		return out.String(), log.String(), code, err
	}
	out, _, code, err := runWith(0)
	require.NoError(t, err)
	require.Equal(t, 0, code)
	require.Equal(t, "child exited 0\n", out)

	// Find the peak, then run with every limit from well below it up to it.
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(t, err)
	_, err = k.Spawn(prog, []string{"hard_execargs", prog}, nil)
	require.NoError(t, err)
	_, err = k.Run()
	require.NoError(t, err)
	peak := k.Frames().Stats().Peak
	k.Close()
	outcomes := map[string]int{}
	for limit := peak - 90; limit <= peak+1; limit++ {
		out, log, code, err := runWith(limit)
		require.NoError(t, err, "frame limit %d", limit)
		if code == 128+SIGKILL && strings.Contains(log, "pid 2 killed by SIGKILL") {
			outcomes["parent OOM-killed"]++ // the parent's own faults found no frame
			continue
		}
		if out == "fork: Out of memory\n" {
			outcomes[out]++
			continue
		}
		require.Equal(t, 0, code, "frame limit %d: %s %s", limit, out, log)
		switch out {
		case "child exited 0\n":
		case "child killed by signal 9\n":
			assert.Contains(t, log, "pid 3 killed by SIGKILL: out of memory")
		case "child execve: Out of memory\n":
		default:
			t.Fatalf("frame limit %d: parent printed %q; log %s", limit, out, log)
		}
		outcomes[out]++
	}
	t.Logf("outcomes: %v", outcomes)
	assert.NotZero(t, outcomes["child killed by signal 9\n"], "some limit must kill the child in its argument copy")
	assert.NotZero(t, outcomes["child exited 0\n"])
}

// Item 19 (and 1): a process that has exited is never killed afterwards. Forked children
// exit while frames run out at every point: the kernel's store to clear_child_tid at exit
// may find no frame for its copy-on-write copy; it fails quietly (the process is already
// gone), so each child is reported once, by its parent's wait and at most one kill line.
func TestExitedProcessIsReportedOnce(t *testing.T) {
	prog := progs + "musl_hard_forkexit"
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(t, err)
	_, err = k.Spawn(prog, []string{"hard_forkexit", "4"}, nil)
	require.NoError(t, err)
	_, err = k.Run()
	require.NoError(t, err)
	peak := k.Frames().Stats().Peak
	k.Close()
	for limit := peak - 12; limit <= peak; limit++ {
		var out, log bytes.Buffer
		k, err := New(Config{RAM: 64 << 20, Stdout: &out, Stderr: &log})
		require.NoError(t, err)
		exits := map[int]int{}
		k.Subscribe(func(e *Event) {
			if e.Kind == EvExit {
				exits[e.PID]++
			}
			if e.Kind == EvSignal && e.Signal == SIGKILL {
				exits[e.PID] += 10 // a kill after the exit would make this 11
			}
		})
		_, err = k.Spawn(prog, []string{"hard_forkexit", "4"}, nil)
		require.NoError(t, err)
		k.Frames().SetLimit(limit)
		_, err = k.Run()
		k.Close()
		require.NoError(t, err)
		for pid, n := range exits {
			assert.Contains(t, []int{1, 11}, n, "limit %d: pid %d reported %d times; log %s", limit, pid, n, log.String())
		}
		for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
			if l != "" {
				assert.Equal(t, 1, strings.Count(log.String(), l), "limit %d: line repeated: %s", limit, l)
			}
		}
	}
}

// The cost of a page-cache page of a host file: filling it (a miss) and dropping it, with
// the frame backed by the host file's page (mmap MAP_FIXED, then anonymous memory back)
// and as a copy (pread; nothing to do at the drop). 4,096 pages of a 16 MiB file per round.
func BenchmarkFilePageHostBacked(b *testing.B) { benchFilePages(b, false) }
func BenchmarkFilePageCopied(b *testing.B)     { benchFilePages(b, true) }

func benchFilePages(b *testing.B, copyPages bool) {
	const pages = 4096
	path := filepath.Join(b.TempDir(), "f")
	require.NoError(b, os.WriteFile(path, make([]byte, pages*4096), 0o644))
	k, err := New(Config{RAM: 64 << 20, CopyFilePages: copyPages})
	require.NoError(b, err)
	defer k.Close()
	_, err = k.Spawn(progs+"hello", []string{"hello"}, nil)
	require.NoError(b, err)
	f, e := k.openHost(path, oRdwr, 0)
	require.Zero(b, e)
	defer f.put()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for idx := uint64(0); idx < pages; idx++ {
			if _, _, err := k.cachePage(f, idx); err != nil {
				b.Fatal(err)
			}
		}
		k.truncatePages(f.ino, 0) // drop them all (the host file keeps its size)
		f.ino.size = pages * 4096
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages), "ns/page")
}

// Items 4-6 under the host's mapping limit: with room for 8 host-backed frames, reading
// a 32-page file evicts cached pages no process maps to make room; mapping and writing all
// 32 pages (every frame mapped, nothing to evict) copies the pages past the limit, and those
// copies reach the file when unmapped. The file ends up with every byte either way.
func TestHostPagesUnderTheMapLimit(t *testing.T) {
	if !ram.FileFramesSupported() {
		testcheck.Skip(t, "this host cannot map file pages into RAM")
	}
	k, p := idle(t, 64<<20)
	k.hp.budget = 8
	path := filepath.Join(t.TempDir(), "f")
	data := make([]byte, 32*4096)
	for i := range data {
		data[i] = byte(i / 4096)
	}
	require.NoError(t, os.WriteFile(path, data, 0o644))
	f, e := k.openHost(path, oRdwr, 0)
	require.Zero(t, e)
	fd, _ := p.fds.install(f, false, 3)

	// read(): every page through the cache, the early ones evicted as later ones come.
	buf := mmapAnon(t, k, p, 0, uint64(len(data)), ProtRead|ProtWrite, mapPrivate)
	r := k.doRead(p, f, userBuf(buf, uint64(len(data))), new(uint64))
	require.Equal(t, int64(len(data)), r)
	got := make([]byte, len(data))
	_, ok := k.copyIn(p, buf, got)
	require.True(t, ok)
	assert.Equal(t, data, got)
	assert.LessOrEqual(t, k.ram.FileFrames(), 8)
	assert.NotZero(t, k.hp.evicted, "unmapped cached pages were dropped to make room")

	// A shared mapping of all 32 pages, every one stored to.
	a := [6]uint64{0, uint64(len(data)), uint64(ProtRead | ProtWrite), mapShared, uint64(fd), 0}
	addr := uint64(sysMmap(k, p, &a))
	require.Less(t, addr, uint64(1)<<47)
	for i := 0; i < 32; i++ {
		_, ok := k.copyOut(p, addr+uint64(i)*4096+100, []byte{'A' + byte(i)})
		require.True(t, ok)
	}
	assert.NotZero(t, k.hp.copied, "pages past the limit are copies")
	b, _ := os.ReadFile(path)
	assert.Equal(t, byte('A'), b[100], "a host-backed page has the store at once")
	k.unmap(p.mm, addr, addr+uint64(len(data)))
	b, _ = os.ReadFile(path)
	for i := 0; i < 32; i++ {
		assert.Equal(t, 'A'+byte(i), b[i*4096+100], "page %d", i)
		assert.Equal(t, byte(i), b[i*4096], "page %d keeps the rest", i)
	}
}
