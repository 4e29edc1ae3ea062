package testprogs

import (
	"testing"
)

// TestX87ArithmeticCases: the x87 arithmetic instruction cases print the same results,
// status words and tag words natively and emulated.
func TestX87ArithmeticCases(t *testing.T) {
	sameAsNative(t, "icase_x87_arith", "")
}
