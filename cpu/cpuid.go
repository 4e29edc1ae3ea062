package cpu

import (
	"encoding/binary"

	"golang.org/x/arch/x86/x86asm"
)

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

// Identification. The vendor is Intel's because this CPU follows the Intel SDM; the family,
// model and stepping (family 6, model 0x0f, stepping 0) are those of no processor that C
// libraries tune for, so they take their generic paths.
const (
	cpuidVendor    = "GenuineIntel"
	cpuidBrand     = "vmemu emulated x86-64 processor"
	cpuidSignature = 0x0000_06f0 // EAX of leaf 1: stepping 0, model 0xf, family 6
	cpuidMaxBasic  = 7
	cpuidMaxExt    = 0x8000_0008
)

var opCpuid = registerCold(execCpuid)

func init() {
	coldDecoders[x86asm.CPUID] = func(in *inst, _ *x86asm.Inst) bool { in.op = opCpuid; return true }
	// The core: CMOV, SYSCALL, long mode. The paging features are the MMU's: 4-level paging
	// with PAE entries, 2 MiB and 1 GiB pages, global pages, NX, PCID, SMEP, SMAP.
	cpuidLeaf1EDX |= 1<<3 | 1<<6 | 1<<13 | 1<<15 // PSE, PAE, PGE, CMOV
	cpuidLeaf1ECX |= 1 << 17                     // PCID
	cpuidLeaf7EBX |= 1<<7 | 1<<20                // SMEP, SMAP
	cpuidExt1EDX |= 1<<11 | 1<<20 | 1<<26 | 1<<29
	cpuidExt1ECX |= 1 << 8 // PREFETCHW (0F 0D runs as a hint)
}

// cpuidLeaf returns EAX, EBX, ECX, EDX of CPUID leaf eax, sub-leaf ecx (SDM Vol. 2A, CPUID).
// A leaf above the highest one reports the highest basic leaf, as Intel processors do;
// leaves that describe what this CPU lacks (caches, topology, power) are all zero.
func (c *CPU) cpuidLeaf(eax, ecx uint32) (a, b, cc, d uint32) {
	if eax > cpuidMaxExt || (eax > cpuidMaxBasic && eax < 0x8000_0000) {
		eax = cpuidMaxBasic
	}
	switch eax {
	case 0:
		v := []byte(cpuidVendor)
		return cpuidMaxBasic, binary.LittleEndian.Uint32(v[0:]), binary.LittleEndian.Uint32(v[8:]),
			binary.LittleEndian.Uint32(v[4:])
	case 1:
		// EBX: CLFLUSH line size 8*8 bytes, one logical processor, the initial APIC ID.
		return cpuidSignature, 8<<8 | 1<<16 | c.id<<24, cpuidLeaf1ECX, cpuidLeaf1EDX
	case 2:
		return 1, 0, 0, 0 // one round of descriptors, none of them describing a cache
	case 7:
		if ecx != 0 {
			return 0, 0, 0, 0
		}
		return 0, cpuidLeaf7EBX, cpuidLeaf7ECX, cpuidLeaf7EDX
	case 0x8000_0000:
		return cpuidMaxExt, 0, 0, 0
	case 0x8000_0001:
		return 0, 0, cpuidExt1ECX, cpuidExt1EDX
	case 0x8000_0002, 0x8000_0003, 0x8000_0004:
		var s [48]byte
		copy(s[:], cpuidBrand)
		o := (eax - 0x8000_0002) * 16
		return binary.LittleEndian.Uint32(s[o:]), binary.LittleEndian.Uint32(s[o+4:]),
			binary.LittleEndian.Uint32(s[o+8:]), binary.LittleEndian.Uint32(s[o+12:])
	case 0x8000_0008:
		phys := cpuidMaxPhysAddr
		if phys == 0 {
			phys = uint32(c.mmu.MaxPhysAddr())
		}
		return phys | cpuidMaxLinearAdr<<8, 0, 0, 0
	}
	return 0, 0, 0, 0
}

// execCpuid is CPUID: EAX and ECX select the leaf; the results zero-extend into RAX, RBX,
// RCX and RDX.
func execCpuid(c *CPU, _ *inst) {
	a, b, cc, d := c.cpuidLeaf(uint32(c.r[RAX]), uint32(c.r[RCX]))
	c.r[RAX], c.r[RBX], c.r[RCX], c.r[RDX] = uint64(a), uint64(b), uint64(cc), uint64(d)
}
