package testprogs

import (
	"testing"
)

// TestX87ArithmeticCases: the x87 arithmetic instruction cases print the same results,
// status words and tag words natively and emulated.
func TestX87ArithmeticCases(t *testing.T) {
	sameAsNative(t, "icase_x87_arith", "")
}

// TestX87MiscCases: loads, stores, integer and BCD conversions, comparisons (and the
// RFLAGS of FCOMI), FCMOVcc, stack manipulation, constants, control words and
// environment images behave identically natively and emulated.
func TestX87MiscCases(t *testing.T) {
	sameAsNative(t, "icase_x87_misc", "")
}
