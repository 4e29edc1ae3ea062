package testprogs

import (
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// The integer instruction-case programs (src/icase_int_*.c) execute every integer
// instruction at every operand size with edge-value operands and both flag images, and print
// results and the flags the SDM defines. Run natively and on the emulator, their output must
// be identical line for line.

// icaseIntPrograms lists each program with the /proc/cpuinfo flags the host needs to run it
// natively (an instruction the host lacks would fault there, or run as something else).
var icaseIntPrograms = []struct {
	prog     string
	features []string
}{
	{"icase_int_alu", nil},
	{"icase_int_shift", nil},
	{"icase_int_muldiv", nil},
	{"icase_int_bits", nil},
	{"icase_int_ext", []string{"popcnt", "abm", "bmi1", "movbe", "sse4_2"}},
	{"icase_int_bmi", []string{"bmi1", "bmi2"}},
	{"icase_int_move", []string{"cx16"}},
	{"icase_int_string", nil},
}

// hostFlags returns the host CPU's /proc/cpuinfo flags.
var hostFlags = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return m
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "flags" {
			for _, f := range strings.Fields(v) {
				m[f] = true
			}
			break
		}
	}
	return m
})

// TestInstructionCasesInteger runs every integer instruction-case program natively and on
// the emulator and requires identical output; it also counts the cases.
func TestInstructionCasesInteger(t *testing.T) {
	total, ran := 0, 0
	for _, p := range icaseIntPrograms {
		t.Run(p.prog, func(t *testing.T) {
			for _, f := range p.features {
				if !useRecording(p.prog) && !hostFlags()[f] {
					testcheck.Skip(t, "the host CPU lacks %s, so %s cannot run natively", f, p.prog)
				}
			}
			n, _ := sameCases(t, p.prog)
			total += n
			ran++
			t.Logf("%s: %d cases", p.prog, n)
		})
	}
	t.Logf("integer instruction cases: %d", total)
	assert.Equal(t, len(icaseIntPrograms), ran, "every integer program ran")
	assert.GreaterOrEqual(t, total, 2500, "the integer programs cover at least 2,500 cases")
}
