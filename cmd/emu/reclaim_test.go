package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Page reclaim from the user's door: --swap, --reclaim, --frames, --trace reclaim, the
// statistics, and the debugger's swap views.

// --trace reclaim shows each pass, each page taken with its frame, mapping, slot and the
// policy's reason, and each page read back; --stats-json counts them.
func TestReclaimTraceAndStats(t *testing.T) {
	dir := t.TempDir()
	js := filepath.Join(dir, "stats.json")
	stdout, stderr, code := emulated("run", "--frames", "3", "--swap", "1M", "--reclaim", "fifo", "--trace", "reclaim",
		"--stats-json", js, progs+"musl_belady")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "page faults: 9 (major 4)")
	for _, re := range []string{
		`(?m)^\s+\d+  pid 2   reclaim  scan for 1 frames: limit: 3 resident pages: the limit is 3$`,
		`(?m)^\s+\d+  pid 2   reclaim  swap-out frame 0x[0-9a-f]+ \(pid 2 0x7f[0-9a-f]+ \[anon\], 1 PTE\) -> slot \d+: fifo: first in$`,
		`(?m)^\s+\d+  pid 2   reclaim  swap-in frame 0x[0-9a-f]+ \(pid 2 0x7f[0-9a-f]+ \[anon\]\) <- slot \d+: major fault$`,
		`(?m)^\s+\d+  pid 2   reclaim  done: 1 frames reclaimed \(limit\)$`,
	} {
		assert.Regexp(t, regexp.MustCompile(re), stderr)
	}
	var st map[string]any
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &st))
	r := st["reclaim"].(map[string]any)
	assert.Equal(t, "fifo", r["policy"])
	for _, k := range []string{"swap_outs", "swap_ins", "pages_scanned", "pages_reclaimed", "limit_runs"} {
		assert.NotZero(t, r[k], k)
	}
	assert.Equal(t, r["swap_ins"], st["page_faults"].(map[string]any)["swap-in"])
	assert.NotZero(t, st["major_faults"])
	assert.NotZero(t, st["minor_faults"])
	sw := st["swap"].(map[string]any)
	assert.Nil(t, sw["file"])
	assert.Equal(t, float64(255), sw["slots"])
	assert.Zero(t, sw["used"], "no slot in use at the end")
}

// The JSON trace's reclaim events carry the documented fields.
func TestReclaimJSONTrace(t *testing.T) {
	evs, _ := traceRun(t, "musl_belady", "--frames", "3", "--swap", "1M", "--reclaim", "fifo", "--trace", "reclaim")
	ops := map[string]int{}
	for _, e := range evs {
		if e["kind"] != "reclaim" {
			continue
		}
		op := e["op"].(string)
		ops[op]++
		if op == "swap-out" {
			assert.Regexp(t, `^0x[0-9a-f]+$`, e["frame"])
			assert.NotNil(t, e["slot"])
			assert.Equal(t, float64(1), e["mapped"])
			assert.Nil(t, e["file"])
			assert.Equal(t, "fifo: first in", e["reason"])
		}
	}
	assert.NotZero(t, ops["scan"])
	assert.Equal(t, ops["scan"], ops["done"])
	assert.NotZero(t, ops["swap-out"])
	assert.NotZero(t, ops["swap-in"])
}

// A swap file is made with a Linux swap header and holds the pages written to swap.
func TestSwapFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "swapfile")
	stdout, stderr, code := emulated("run", "--frames", "3", "--swap", "64K", "--swap-file", f, "--reclaim", "fifo", progs+"musl_belady")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "page faults: 9 (major 4)")
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	require.Len(t, b, 64<<10)
	assert.Equal(t, "SWAPSPACE2", string(b[4096-10:4096]), "mkswap's magic")
	assert.Equal(t, []byte{1, 0, 0, 0, 15, 0, 0, 0}, b[1024:1032], "version 1, last page 15")
	// Without --swap the file's size is the area's.
	_, stderr, code = emulated("run", "--frames", "3", "--swap-file", f, "--reclaim", "fifo", progs+"musl_belady")
	require.Equal(t, 0, code, stderr)
}

// emu debug: break fault major and swap-in stop before a page is read back, the PTE shown as
// a swap entry; swap lists the slot and who names it; frames shows the reclaim state.
func TestDebugSwapViews(t *testing.T) {
	r, code, _ := debugSession(t, "break fault swap-in\ncontinue\nswap\nframes\nstep\nbreak fault major\nbreaks\n",
		"--frames", "3", "--swap", "1M", "--reclaim", "fifo", progs+"musl_belady")
	require.Equal(t, 0, code)
	stop, swap, frames, step := r[2].out, r[3].out, r[4].out, r[5].out
	assert.Contains(t, stop, "kernel      will resolve it as swap-in (the PTE is a swap entry")
	slot := regexp.MustCompile(`PTE\s+not present \(PTE 0x[0-9a-f]+ = 0x[0-9a-f]+\) \[swap entry: slot (\d+)\]`).FindStringSubmatch(stop)
	require.NotNil(t, slot, stop)
	assert.Regexp(t, `swap: 255 slots of 4 KiB in host memory \(slot 0 is the header\); \d+ in use`, swap)
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+`+slot[1]+`\s+1\s+-\s+pid 2 0x[0-9a-f]+ `), swap)
	assert.Contains(t, frames, "page reclaim: policy fifo holds")
	assert.Regexp(t, `(?m)^\s+0x[0-9a-f]+\s+user\s+1\s+lru\s+pid 2 `, frames)
	assert.Contains(t, step, "the page was read back from swap into frame")
	assert.Contains(t, r[6].out, "page faults the kernel will resolve as file-read or swap-in")
	assert.Contains(t, r[7].out, "resolve as file-read or swap-in   hit 0 times")

	// walk at the stop's address (the same on a second run) shows the entry and its slot.
	addr := regexp.MustCompile(`address\s+(0x[0-9a-f]+) \(CR2\)`).FindStringSubmatch(stop)
	require.NotNil(t, addr, stop)
	r, code, _ = debugSession(t, "break fault swap-in\ncontinue\nwalk "+addr[1]+"\n",
		"--frames", "3", "--swap", "1M", "--reclaim", "fifo", progs+"musl_belady")
	require.Equal(t, 0, code)
	walk := r[3].out
	assert.Regexp(t, `(?m)^  PTE\s+\d+\s+0x[0-9a-f]+\s+0x07fffffffffff[0-9a-f]{3}\s+-------\s+not present`, walk)
	assert.Contains(t, walk, "The PTE is a swap entry (Linux's encoding: type 0 in bits 59-63, offset "+slot[1])
	assert.Contains(t, walk, "the page is in swap slot "+slot[1]+"; a fault reads it back.")
}
