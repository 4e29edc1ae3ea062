package testprogs

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu"
)

// The MMX instruction-case programs run natively and on the emulator and must print the
// same thing (see src/icase_mmx_*.c): every result bit of the integer instructions, and
// after each aliasing case the complete x87 state as FNSAVE and FXSAVE store it (TOP, the
// tags, the sign and exponent of every register), so the MMX-x87 aliasing is compared
// with the host processor's.

// TestMMXInstructionCases runs the MMX case programs natively and emulated.
func TestMMXInstructionCases(t *testing.T) {
	features := hostSSEFeatures(t)
	total := 0
	for _, prog := range []string{"icase_mmx_int", "icase_mmx_state"} {
		t.Run(prog, func(t *testing.T) {
			n, r := sameCases(t, prog, features)
			require.Equal(t, 0, r.Code, "emulator log: %s", r.Log)
			assert.Greater(t, n, 300)
			total += n
			for _, line := range strings.Split(r.Stdout, "\n") {
				if strings.HasPrefix(line, "skipped") {
					t.Log(line)
				}
			}
		})
	}
	t.Logf("%d MMX instruction cases identical natively and emulated", total)
	assert.GreaterOrEqual(t, total, 1500)
}

// TestMMXFaultCases runs each exception case of icase_mmx_fault natively and emulated: the
// same output and the same death (SIGFPE for #MF and #XM, SIGILL for #UD, SIGSEGV for #PF
// and #GP) or survival.
func TestMMXFaultCases(t *testing.T) {
	features := hostSSEFeatures(t)
	list := runNative(t, "icase_mmx_fault", "", "list")
	m := casesLine.FindStringSubmatch(list.Stdout)
	require.NotNil(t, m)
	n, _ := strconv.Atoi(m[1])
	require.Greater(t, n, 0)
	for i := 0; i < n; i++ {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			r := sameAsNative(t, "icase_mmx_fault", "", strconv.Itoa(i), features)
			lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
			what := lines[len(lines)-1]
			if strings.HasPrefix(what, "survived") && len(lines) > 1 {
				what = lines[len(lines)-2]
			}
			switch {
			case strings.HasSuffix(what, "#MF"), strings.HasSuffix(what, "#XM"):
				assert.Equal(t, 128+8, r.Code, "%s: SIGFPE", what)
			case strings.HasSuffix(what, "#UD"):
				assert.Equal(t, 128+4, r.Code, "%s: SIGILL", what)
			case strings.HasSuffix(what, "#PF"), strings.HasSuffix(what, "#GP"):
				assert.Equal(t, 128+11, r.Code, "%s: SIGSEGV", what)
			case strings.HasSuffix(what, "no fault"):
				assert.Equal(t, 0, r.Code, "%s", what)
				assert.Contains(t, r.Stdout, "survived")
			case strings.HasPrefix(what, "skipped"):
				t.Log(what)
			default:
				t.Fatalf("unexpected output %q", r.Stdout)
			}
		})
	}
}

// TestGlibcHello: a static glibc program starts (its x86-64 baseline ISA check finds MMX
// among the CPUID features) and prints an int, a string and doubles as on Linux.
func TestGlibcHello(t *testing.T) {
	require.NotZero(t, cpu.HWCAP()&(1<<23), "CPUID.01H:EDX.MMX, which glibc's x86-64 baseline check needs")
	r := sameAsNative(t, "glibc_hello", "")
	assert.Equal(t, 0, r.Code)
	assert.Contains(t, r.Stdout, "int 43, string \"vmemu\", double 3.141593")
}
