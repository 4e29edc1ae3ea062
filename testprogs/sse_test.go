package testprogs

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// The SSE instruction-case programs run natively and on the emulator and must print the
// same thing: every result bit and every MXCSR flag of thousands of cases (see
// src/icase_sse_*.c). The host's /proc/cpuinfo says which extensions it has; a program
// skips the cases of any it lacks and says so, and so does the test.

// hostSSEFeatures returns the SSE extensions the host CPU reports, in the programs' spelling
// ("sse3,ssse3,sse4_1,sse4_2"; /proc/cpuinfo calls SSE3 "pni").
func hostSSEFeatures(t *testing.T) string {
	t.Helper()
	if useRecording("icase_sse_fp") {
		return referenceSSEFeatures // the recordings' host's
	}
	f, err := os.Open("/proc/cpuinfo")
	require.NoError(t, err)
	defer f.Close()
	have := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, w := range strings.Fields(v) {
				have[w] = true
			}
			break
		}
	}
	var list, missing []string
	for _, f := range []struct{ cpuinfo, name string }{{"pni", "sse3"}, {"ssse3", "ssse3"},
		{"sse4_1", "sse4_1"}, {"sse4_2", "sse4_2"}} {
		if have[f.cpuinfo] {
			list = append(list, f.name)
		} else {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		testcheck.Note(t, "the host CPU lacks %s: the cases needing it are skipped", strings.Join(missing, ", "))
	}
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ",")
}

// TestSSEInstructionCases runs the SSE case programs natively and emulated.
func TestSSEInstructionCases(t *testing.T) {
	features := hostSSEFeatures(t)
	total := 0
	for _, prog := range []string{"icase_sse_fp", "icase_sse_int", "icase_sse_str"} {
		t.Run(prog, func(t *testing.T) {
			n, r := sameCases(t, prog, features)
			require.Equal(t, 0, r.Code, "emulator log: %s", r.Log)
			assert.Greater(t, n, 100)
			total += n
			for _, line := range strings.Split(r.Stdout, "\n") {
				if strings.HasPrefix(line, "skipped") {
					t.Log(line)
				}
			}
		})
	}
	t.Logf("%d SSE instruction cases identical natively and emulated", total)
	assert.GreaterOrEqual(t, total, 1500)
}

// TestSSEFaultCases runs each exception case of icase_sse_fault natively and emulated: the
// same output and the same death (SIGSEGV for #GP, SIGFPE for #XM) or survival.
func TestSSEFaultCases(t *testing.T) {
	features := hostSSEFeatures(t)
	list := runNative(t, "icase_sse_fault", "", "list")
	m := casesLine.FindStringSubmatch(list.Stdout)
	require.NotNil(t, m)
	n, _ := strconv.Atoi(m[1])
	require.Greater(t, n, 0)
	for i := 0; i < n; i++ {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			r := sameAsNative(t, "icase_sse_fault", "", strconv.Itoa(i), features)
			first, _, _ := strings.Cut(r.Stdout, "\n")
			switch {
			case strings.HasSuffix(first, "#GP"):
				assert.Equal(t, 128+11, r.Code, "%s: SIGSEGV", first)
			case strings.HasSuffix(first, "#XM"):
				assert.Equal(t, 128+8, r.Code, "%s: SIGFPE", first)
				assert.Contains(t, r.Log, "floating-point exception")
			case strings.HasSuffix(first, "no fault"):
				assert.Equal(t, 0, r.Code, "%s", first)
				assert.Contains(t, r.Stdout, "survived")
			case strings.HasPrefix(first, "skipped"):
				t.Log(first)
			default:
				t.Fatalf("unexpected first line %q", first)
			}
		})
	}
}

// TestSSELibc runs libc programs whose hot paths are SSE: glibc's string routines (its
// ifunc resolvers choose the SSE2, SSSE3 and SSE4.x variants from CPUID) over many
// lengths and alignments, and loops gcc -O3 auto-vectorizes, printed with %a.
func TestSSELibc(t *testing.T) {
	for _, prog := range []string{"glibc_sse_strings", "musl_sse_vec"} {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}
