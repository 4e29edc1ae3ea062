package cpu

// CPUID reports exactly what the CPU implements. The feature words below grow with the
// instruction set; a program (or a libc choosing its string routines) that asks sees only
// what will work.

// cpuidLeaf1EDX is CPUID.01H:EDX, the feature word Linux passes to programs as AT_HWCAP.
var cpuidLeaf1EDX uint32

// HWCAP returns the value of the AT_HWCAP auxiliary-vector entry: CPUID.01H:EDX.
func HWCAP() uint64 { return uint64(cpuidLeaf1EDX) }
