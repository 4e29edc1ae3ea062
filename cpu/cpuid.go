package cpu

// CPUID reports exactly what is implemented. Each instruction family ORs its feature bits
// into these words from an init() in its own file, so a program (or a libc choosing its
// string routines) that asks sees only what will work. The CPUID instruction itself reads
// them.

// Feature words, named after the CPUID leaf and register that report them.
var (
	cpuidLeaf1EDX     uint32 // CPUID.01H:EDX (FPU, TSC, CX8, CMOV, MMX?, FXSR, SSE, SSE2, ...)
	cpuidLeaf1ECX     uint32 // CPUID.01H:ECX (SSE3, SSSE3, CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, ...)
	cpuidLeaf7EBX     uint32 // CPUID.(EAX=07H,ECX=0):EBX (BMI1, BMI2, ...)
	cpuidLeaf7ECX     uint32 // CPUID.(EAX=07H,ECX=0):ECX
	cpuidLeaf7EDX     uint32 // CPUID.(EAX=07H,ECX=0):EDX
	cpuidExt1ECX      uint32 // CPUID.80000001H:ECX (LAHF-SAHF, LZCNT, PREFETCHW, ...)
	cpuidExt1EDX      uint32 // CPUID.80000001H:EDX (SYSCALL, NX, 1 GiB pages, RDTSCP, LM)
	cpuidMaxPhysAddr  uint32 // CPUID.80000008H:EAX[7:0], set from the MMU
	cpuidMaxLinearAdr uint32 = 48
)

// HWCAP returns the value of the AT_HWCAP auxiliary-vector entry: CPUID.01H:EDX, as Linux
// gives it to programs on x86-64.
func HWCAP() uint64 { return uint64(cpuidLeaf1EDX) }
