package testprogs

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Each processor exception a program can raise at CPL 3 ends it with the signal Linux
// sends for it, natively and emulated alike (exit status 128 + signal).
func TestIntegerTrapsAsSignals(t *testing.T) {
	for _, tc := range []struct {
		what string
		code int
	}{
		{"ac", 128 + 7},          // #AC: SIGBUS (CR0.AM is set, as Linux sets it)
		{"tf", 128 + 5},          // #DB from single-stepping: SIGTRAP
		{"int3", 128 + 5},        // #BP: SIGTRAP
		{"ud2", 128 + 4},         // #UD: SIGILL
		{"hlt", 128 + 11},        // #GP: SIGSEGV
		{"cli", 128 + 11},        // #GP
		{"in", 128 + 11},         // #GP: no I/O at CPL 3
		{"lock", 128 + 4},        // LOCK on a register operand: #UD
		{"div", 128 + 8},         // #DE: SIGFPE
		{"cmpxchg16b", 128 + 11}, // misaligned CMPXCHG16B: #GP
		{"none", 0},
	} {
		t.Run(tc.what, func(t *testing.T) {
			r := sameAsNative(t, "int_traps", "", tc.what)
			assert.Equal(t, tc.code, r.Code)
		})
	}
}
