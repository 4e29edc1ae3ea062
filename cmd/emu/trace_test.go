package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// traceRun runs prog with a JSON trace of every kind and JSON statistics, and returns the
// parsed trace lines and statistics.
func traceRun(t *testing.T, prog string, extra ...string) ([]map[string]any, map[string]any) {
	t.Helper()
	dir := t.TempDir()
	tf, sf := filepath.Join(dir, "trace.jsonl"), filepath.Join(dir, "stats.json")
	args := append([]string{"run", "--trace=all", "--trace-format=json", "--trace-file=" + tf, "--stats-json=" + sf}, extra...)
	_, stderr, code := emulated(append(args, progs+prog)...)
	require.NotEqual(t, 1, code, stderr)
	raw, err := os.ReadFile(tf)
	require.NoError(t, err)
	var events []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &e), "line %q", sc.Text())
		events = append(events, e)
	}
	require.NotEmpty(t, events)
	var stats map[string]any
	sraw, err := os.ReadFile(sf)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(sraw, &stats))
	return events, stats
}

func num(t *testing.T, v any) uint64 {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "%v is not a number", v)
	return uint64(f)
}

// The JSON trace parses, every line has the common fields, guest time never goes backwards,
// and its counts agree with --stats-json: faults by outcome, system calls by name, TLB
// fills, evictions and flushes per TLB, frames allocated and freed, processes. Both come
// from the kernel's one event stream, so each program's counts are also held to what its
// source says it does (calls: its system calls exactly; minFaults: at least these faults):
// an oracle that knows nothing of the stream.
func TestJSONTraceAgreesWithStats(t *testing.T) {
	for _, tc := range []struct {
		prog      string
		flags     []string
		calls     map[string]uint64 // from the source, when it makes its calls itself
		minFaults map[string]uint64
	}{
		// bss_sum: five put_str (put_u64 is one put_str), exit_group from _start; its 1 MiB
		// table is 256 pages of .bss, each first touched by a read.
		{"bss_sum", []string{"--tlb=dtlb=16/4,large=0"}, map[string]uint64{"write": 5, "exit_group": 1},
			map[string]uint64{"demand-zero": 256}},
		{"hello", nil, map[string]uint64{"write": 1, "exit_group": 1}, nil},
		// touch_unowned: one put_str, then the store to 0xdead0000 that kills it.
		{"touch_unowned", []string{"--tlb=unified,nopcid"}, map[string]uint64{"write": 1},
			map[string]uint64{"SIGSEGV": 1}},
		{"dbg_cow", nil, nil, nil},
		{"dbg_exec", []string{"--tlb=nopcid"}, nil, nil},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			events, stats := traceRun(t, tc.prog, tc.flags...)
			faults := map[string]uint64{}
			calls := map[string]uint64{}
			tlbOps := map[string]uint64{}
			frameOps := map[string]uint64{}
			var kernelFaults, execs, forks, signals, last uint64
			for i, e := range events {
				for _, k := range []string{"insns", "kind", "pid"} {
					require.Contains(t, e, k, "event %d", i)
				}
				insns := num(t, e["insns"])
				assert.GreaterOrEqual(t, insns, last, "event %d goes back in time", i)
				last = insns
				switch e["kind"] {
				case "fault":
					faults[e["outcome"].(string)]++
					if e["kernel"].(bool) {
						kernelFaults++
					}
					_, err := strconv.ParseUint(strings.TrimPrefix(e["addr"].(string), "0x"), 16, 64)
					assert.NoError(t, err)
				case "syscall":
					calls[e["name"].(string)]++
					assert.Len(t, e["args"], 6)
				case "tlb":
					tlbOps[e["tlb"].(string)+" "+e["op"].(string)]++
				case "frame":
					frameOps[e["op"].(string)]++
				case "exec":
					execs++
				case "fork":
					forks++
				case "signal":
					signals++
				}
			}
			pf := stats["page_faults"].(map[string]any)
			var total uint64
			for outcome, n := range pf {
				assert.Equal(t, num(t, n), faults[outcome], "faults %s", outcome)
				total += num(t, n)
			}
			assert.Equal(t, num(t, stats["page_faults_total"]), total)
			assert.Equal(t, num(t, stats["kernel_faults"]), kernelFaults)
			sc := stats["syscalls"].(map[string]any)
			assert.Len(t, sc, len(calls))
			for name, n := range sc {
				assert.Equal(t, num(t, n), calls[name], "syscall %s", name)
			}
			for _, x := range stats["tlbs"].([]any) {
				tl := x.(map[string]any)
				name := tl["name"].(string)
				assert.Equal(t, num(t, tl["fills"]), tlbOps[name+" fill"], "%s fills", name)
				assert.Equal(t, num(t, tl["evictions"]), tlbOps[name+" evict"], "%s evictions", name)
				assert.Equal(t, num(t, tl["flushes"]), tlbOps[name+" flush"], "%s flushes", name)
				assert.Equal(t, num(t, tl["hits"])+num(t, tl["misses"]) > 0, true)
			}
			fr := stats["frames"].(map[string]any)
			assert.Equal(t, num(t, fr["allocated"]), frameOps["alloc"])
			assert.Equal(t, num(t, fr["freed"]), frameOps["free"])
			assert.NotZero(t, execs)
			assert.Equal(t, num(t, stats["processes"]), 1+forks, "the first process and its forks")
			if tc.prog == "dbg_cow" {
				assert.Equal(t, uint64(1), forks)
				assert.NotZero(t, frameOps["get"], "fork shares frames")
				assert.Equal(t, num(t, fr["copied"]), faults["cow-copy"])
				assert.NotZero(t, num(t, fr["peak_shared"]))
			}
			assert.Equal(t, num(t, stats["signals"]), signals)
			assert.LessOrEqual(t, last, num(t, stats["instructions"]))
			if tc.calls != nil {
				assert.Equal(t, tc.calls, calls, "the system calls %s's source makes", tc.prog)
			}
			for outcome, n := range tc.minFaults {
				assert.GreaterOrEqual(t, faults[outcome], n, "%s faults of %s", outcome, tc.prog)
			}
		})
	}
}

// The same program and flags give the same trace, byte for byte, in both formats.
func TestTraceIsDeterministic(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		var runs [2][]byte
		for i := range runs {
			f := filepath.Join(t.TempDir(), "trace")
			_, stderr, code := emulated("run", "--trace=all", "--trace-format="+format, "--trace-file="+f,
				"--tlb=dtlb=16/4", "--seed=7", "--clock-start=2024-01-01T00:00:00Z", progs+"bss_sum", "x")
			require.Equal(t, 10, code, stderr) // bss_sum's status: argc-dependent, as natively
			g := filepath.Join(t.TempDir(), "trace")
			_, stderr, code = emulated("run", "--trace=all", "--trace-format="+format, "--trace-file="+g, "--clock-start=1704067200", progs+"dbg_cow")
			require.Equal(t, 0, code, stderr)
			more, err := os.ReadFile(g)
			require.NoError(t, err)
			runs[i], err = os.ReadFile(f)
			require.NoError(t, err)
			runs[i] = append(runs[i], more...)
		}
		assert.Greater(t, len(runs[0]), 10000, format)
		assert.True(t, bytes.Equal(runs[0], runs[1]), "%s traces differ", format)
	}
}

// A fault line says who faulted where, the access, the error code decoded, the VMA found,
// the outcome and the frame given.
func TestFaultTraceLines(t *testing.T) {
	_, stderr, code := emulated("run", "--trace=faults", progs+"touch_unowned")
	assert.Equal(t, 139, code)
	var segv string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "=> SIGSEGV") {
			segv = l
		}
	}
	for _, want := range []string{"pid 2", "fault", "user write at 0xdead0000", "rip 0x", "code 0x6 [- W U - -]", "vma none"} {
		assert.Contains(t, segv, want)
	}

	_, stderr, _ = emulated("run", "--trace=faults", progs+"bss_sum")
	var dz, fr int
	for _, l := range strings.Split(stderr, "\n") {
		switch {
		case strings.Contains(l, "=> demand-zero, frame 0x") && strings.Contains(l, "code 0x4 [- - U - -]"):
			dz++
		case strings.Contains(l, "=> file-read, frame 0x") && strings.Contains(l, "vma "+progs+"bss_sum 0x"):
			fr++
		}
	}
	assert.GreaterOrEqual(t, dz, 256, stderr)
	assert.GreaterOrEqual(t, fr, 2)
}

// A trace on stderr keeps its place relative to what the guest prints: the write system
// call's line comes after the text it wrote.
func TestTraceInterleavesWithGuestOutput(t *testing.T) {
	var both bytes.Buffer
	code := Main([]string{"run", "--trace=syscalls,exec", progs + "hello"}, strings.NewReader(""), &both, &both)
	require.Equal(t, 0, code)
	out := both.String()
	exec := strings.Index(out, " exec ")
	hello := strings.Index(out, "hello, world\n")
	write := strings.Index(out, "write(0x1, ")
	require.True(t, exec >= 0 && hello >= 0 && write >= 0, out)
	assert.Less(t, exec, hello)
	assert.Less(t, hello, write)
}
