package cpu

// CPUID returns what the CPUID instruction would leave in EAX, EBX, ECX and EDX for leaf
// eax, sub-leaf ecx, on this processor: for an operating system's description of its CPUs
// (/proc/cpuinfo), which a program may compare with what CPUID itself says.
func (c *CPU) CPUID(eax, ecx uint32) (a, b, cc, d uint32) { return c.cpuidLeaf(eax, ecx) }
