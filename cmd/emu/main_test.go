package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/ram"
)

const progs = "../../testprogs/bin/"

// runsFile holds the native runs of native, recorded on the reference host.
const runsFile = "testdata/native_runs.json"

// nativeRun is one recorded run of native.
type nativeRun struct {
	Stdout string `json:"stdout"`
	Code   int    `json:"code"`
}

// native runs a test program on the host and returns its output and exit code as a shell
// reports it (128 + signal); where the host cannot run it, what it did on the reference host.
func native(t *testing.T, prog string, args ...string) (string, int) {
	t.Helper()
	key := strings.Join(append([]string{prog}, args...), " ")
	if !liveNative() {
		var r nativeRun
		loadNative(t, runsFile, key, &r)
		return r.Stdout, r.Code
	}
	out, code := nativeLive(t, prog, args...)
	saveNative(t, runsFile, key, nativeRun{Stdout: out, Code: code})
	return out, code
}

func nativeLive(t *testing.T, prog string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(progs+prog, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return out.String(), 128 + int(ws.Signal())
		}
		return out.String(), ee.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), 0
}

// emulated runs emu with args and returns stdout, stderr and the exit code.
func emulated(args ...string) (string, string, int) {
	var out, errb bytes.Buffer
	code := Main(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// The test programs print the same and exit the same on the emulator as on Linux.
func TestProgramsMatchNative(t *testing.T) {
	for _, tc := range []struct {
		prog string
		args []string
	}{
		{"hello", nil},
		{"bss_sum", nil},
		{"bss_sum", []string{"a", "b", "c"}}, // argc changes the sum and the exit status
		{"touch_unowned", nil},
		{"dbg_cow", nil},
		{"dbg_exec", nil},
	} {
		t.Run(strings.Join(append([]string{tc.prog}, tc.args...), " "), func(t *testing.T) {
			wantOut, wantCode := native(t, tc.prog, tc.args...)
			out, stderr, code := emulated(append([]string{"run", progs + tc.prog}, tc.args...)...)
			assert.Equal(t, wantOut, out)
			assert.Equal(t, wantCode, code, "stderr: %s", stderr)
		})
	}
}

func TestHelloPrintsAndExitsZero(t *testing.T) {
	out, stderr, code := emulated("run", progs+"hello")
	assert.Equal(t, "hello, world\n", out)
	assert.Equal(t, 0, code)
	assert.Empty(t, stderr)
}

// The page-toucher dies of SIGSEGV (139) with one line that names the address.
func TestPageToucherIsKilledWithSIGSEGV(t *testing.T) {
	out, stderr, code := emulated("run", progs+"touch_unowned")
	assert.Equal(t, "about to write to 0xdead0000\n", out)
	assert.Equal(t, 139, code)
	assert.Contains(t, stderr, "SIGSEGV")
	assert.Contains(t, stderr, "0xdead0000")
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
}

// --stats shows the demand-zero faults: bss_sum's 1 MiB array is 256 pages. The TLB table
// has a row per TLB whose hits and misses add up to what the MMU looked up.
func TestStatsShowDemandZeroFaults(t *testing.T) {
	_, stderr, code := emulated("run", "--stats", progs+"bss_sum")
	require.NotEqual(t, 126, code, stderr)
	for _, want := range []string{"instructions retired", "host wall time", "guest speed", "MIPS",
		"page faults", "demand-zero", "frames in use at exit", "frames at peak", "frames shared at peak",
		"frames copied", "page-table pages at peak", "processes created", "hit rate"} {
		assert.Contains(t, stderr, want)
	}
	var dz int
	tlbRows := map[string][]string{}
	for _, line := range strings.Split(stderr, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "demand-zero" {
			dz = atoi(t, f[1])
		}
		if len(f) == 9 && (f[0] == "ITLB" || f[0] == "DTLB") {
			tlbRows[f[0]] = f[1:]
		}
	}
	assert.GreaterOrEqual(t, dz, 256, stderr)
	require.Len(t, tlbRows, 2, stderr)
	assert.Greater(t, atoi(t, tlbRows["DTLB"][1]), 256, "each new page of the array misses the DTLB")
}

func atoi(t *testing.T, s string) int {
	n := 0
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', "not a number: %q", s)
		n = n*10 + int(c-'0')
	}
	return n
}

// Host-side problems are one clear line and a non-zero status, never a panic.
func TestBadInputGetsAClearError(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage")
	require.NoError(t, os.WriteFile(garbage, []byte("plain text: neither ELF nor #! script\n"), 0o755))
	truncated := filepath.Join(dir, "truncated")
	hello, err := os.ReadFile(progs + "hello")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(truncated, hello[:100], 0o755))

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"missing program", []string{"run", filepath.Join(dir, "nope")}, 127, "no such file"},
		{"not an ELF", []string{"run", garbage}, 126, "elf"},
		{"truncated ELF", []string{"run", truncated}, 126, "elf"},
		{"no program", []string{"run"}, 2, "no program"},
		{"bad ram size", []string{"run", "--ram", "lots", progs + "hello"}, 2, "bad size"},
		{"bad tlb", []string{"run", "--tlb", "dtlb=100/3", progs + "hello"}, 2, "--tlb: dtlb: 100 entries do not divide into 3 ways"},
		{"bad trace kind", []string{"run", "--trace", "faults,bogus", progs + "hello"}, 2, "unknown trace kind \"bogus\""},
		{"bad trace format", []string{"run", "--trace", "all", "--trace-format", "xml", progs + "hello"}, 2, "neither text nor json"},
		{"debug: no program", []string{"debug"}, 2, "no program"},
		{"debug: missing program", []string{"debug", filepath.Join(dir, "nope")}, 127, "no such file"},
		{"debug: missing script", []string{"debug", "--script", filepath.Join(dir, "nope"), progs + "hello"}, 2, "--script"},
		{"unknown command", []string{"fly"}, 2, "unknown command"},
		{"bad policy", []string{"run", "--reclaim", "belady", progs + "hello"}, 2, "--reclaim: no replacement policy \"belady\" (want clock, fifo, lru, random)"},
		{"bad policy option", []string{"run", "--reclaim", "clock,fast", progs + "hello"}, 2, "--reclaim: unknown option"},
		{"bad swap size", []string{"run", "--swap", "lots", progs + "hello"}, 2, "--swap: bad size"},
		{"swap file unwritable", []string{"run", "--swap", "1M", "--swap-file", filepath.Join(dir, "nope", "swap"), progs + "hello"}, 2, "--swap-file: swap file"},
		{"swap file without a size", []string{"run", "--swap-file", filepath.Join(dir, "absent"), progs + "hello"}, 2, "give --swap size"},
		{"swap too small", []string{"run", "--swap", "4K", progs + "hello"}, 2, "too small"},
		{"debug: bad policy", []string{"debug", "--reclaim", "nru", progs + "hello"}, 2, "no replacement policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := emulated(tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Contains(t, strings.ToLower(stderr), strings.ToLower(tc.msg))
			assert.NotContains(t, stderr, "goroutine")
		})
	}
}

// A swap area larger than the host's memory is refused at start (where the host says how
// much it has; a --swap-file is the way to a larger one).
func TestSwapLargerThanTheHostIsRefused(t *testing.T) {
	host, ok := ram.HostMemory()
	if !ok {
		testcheck.Skip(t, "this host does not say how much memory it has")
	}
	size := fmt.Sprintf("%dG", host>>30+64)
	_, stderr, code := emulated("run", "--swap", size, progs+"hello")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "emu run: --swap: swap of")
	assert.Contains(t, stderr, "larger than this host's memory")
}

// A "#!" script runs as PROG, as execve runs it: its interpreter with the script's path as
// an argument; a script whose interpreter is missing is a clear error (127, as ENOENT).
func TestScriptAsProgram(t *testing.T) {
	dir := t.TempDir()
	hello, err := filepath.Abs(progs + "hello")
	require.NoError(t, err)
	script := filepath.Join(dir, "script")
	require.NoError(t, os.WriteFile(script, []byte("#!"+hello+" an-argument\n"), 0o755))
	out, stderr, code := emulated("run", script)
	assert.Equal(t, 0, code, stderr)
	assert.Equal(t, "hello, world\n", out)
	missing := filepath.Join(dir, "missing")
	require.NoError(t, os.WriteFile(missing, []byte("#!/nonexistent/interpreter\n"), 0o755))
	_, stderr, code = emulated("run", missing)
	assert.Equal(t, 127, code)
	assert.Contains(t, stderr, "interpreter /nonexistent/interpreter")
}

// emu help documents every command, every flag of run and debug (the flag sets themselves
// say which there are), and every debugger command.
func TestHelpDocumentsEveryCommandAndFlag(t *testing.T) {
	for _, tc := range []struct {
		topic string
		want  []string
	}{
		{"", []string{"emu run", "emu debug", "emu help"}},
		{"run", []string{"-stats", "-gdb", "-stats-json", "-ram", "-tlb", "-max-insns", "-seed", "-trace", "-trace-file", "-trace-format"}},
		{"debug", []string{"-script", "-gdb", "-input", "-trace", "-ram", "-tlb", "-seed", "-max-insns",
			"step [N]", "continue", "break fault [KIND]", "break syscall [NAME]", "break exec", "break addr ADDR",
			"watch pte ADDR", "regs", "walk ADDR", "vmas [PID]", "tlb", "frames", "x ADDR [N]", "ps", "trace KINDS", "help"}},
		{"gdb", []string{"target remote", "monitor", "walk ADDR", "break fault", "Unix socket"}},
		{"trace", []string{"faults", "syscalls", "tlb", "frames", "process", "exec", "signals", "all", "code_bits", "outcome"}},
		{"stats", []string{"wall_seconds", "mips", "page_faults", "tlbs", "peak_shared"}},
		{"tlb", []string{"dtlb=E/W", "itlb=E/W", "large=N", "policy=P", "unified", "nopcid"}},
	} {
		t.Run(tc.topic, func(t *testing.T) {
			args := []string{"help"}
			if tc.topic != "" {
				args = append(args, tc.topic)
			}
			out, _, code := emulated(args...)
			assert.Equal(t, 0, code)
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
	// And not only the flags listed above: every flag the commands accept.
	rf, _ := runFlags(io.Discard)
	df, _ := debugFlags(io.Discard)
	for topic, fs := range map[string]*flag.FlagSet{"run": rf, "debug": df} {
		out, _, _ := emulated("help", topic)
		fs.VisitAll(func(f *flag.Flag) {
			assert.Contains(t, out, "-"+f.Name, "emu help %s documents -%s", topic, f.Name)
		})
	}
	_, stderr, code := emulated("help", "nonsense")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "topics")
}

// The README documents every flag of emu run and emu debug, every debugger command, every
// trace kind and every JSON field name.
func TestREADMEDocumentsEverything(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(raw)
	rf, _ := runFlags(io.Discard)
	df, _ := debugFlags(io.Discard)
	for _, fs := range []*flag.FlagSet{rf, df} {
		fs.VisitAll(func(f *flag.Flag) {
			assert.Contains(t, readme, "`--"+f.Name, "flag --%s of emu %s", f.Name, fs.Name())
		})
	}
	for _, c := range []string{"step [N]", "continue", "break fault [KIND]", "break syscall [NAME]", "break exec",
		"break addr ADDR", "watch pte ADDR", "regs", "where", "walk ADDR", "vmas [PID]", "`tlb`", "frames",
		"x ADDR [N]", "`ps`", "trace KINDS", "help", "delete"} {
		assert.Contains(t, readme, c)
	}
	for name := range describe.TraceGroups {
		assert.Contains(t, readme, "`"+name+"`")
	}
	for _, doc := range []string{traceJSONHelp, statsJSONHelp} {
		for _, field := range regexp.MustCompile(`\b[a-z]+_[a-z_]+\b`).FindAllString(doc, -1) {
			assert.Contains(t, readme, field, "JSON field %s", field)
		}
	}
}
