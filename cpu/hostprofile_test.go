package cpu

import (
	"encoding/binary"
	"fmt"
	"runtime"
)

// cpuProfile is what the vendor masks need to know about a host CPU: its vendor, family and
// model, and the CPUID words whose bits say how it stores what the SDM leaves open. It is
// recorded in every recording, so masks follow the host the results came from.
type cpuProfile struct {
	Vendor   string // CPUID 0: "GenuineIntel", "AuthenticAMD"
	Family   uint32 // display family (base + extended)
	Model    uint32 // display model
	Stepping uint32
	Brand    string // CPUID 80000002H-80000004H
	L1ECX    uint32 // CPUID 1
	L1EDX    uint32
	L7EBX    uint32 // CPUID 7, sub-leaf 0
	L7ECX    uint32
	E1ECX    uint32 // CPUID 80000001H
	E1EDX    uint32
	E8EBX    uint32 // CPUID 80000008H
	Recorded string `json:",omitempty"` // how the recording was made
}

// cpuidFlags names feature bits as Linux's /proc/cpuinfo does: word and bit.
var cpuidFlags = map[string]struct {
	word func(p *cpuProfile) uint32
	bit  uint
}{
	"pni":             {func(p *cpuProfile) uint32 { return p.L1ECX }, 0},
	"ssse3":           {func(p *cpuProfile) uint32 { return p.L1ECX }, 9},
	"cx16":            {func(p *cpuProfile) uint32 { return p.L1ECX }, 13},
	"sse4_1":          {func(p *cpuProfile) uint32 { return p.L1ECX }, 19},
	"sse4_2":          {func(p *cpuProfile) uint32 { return p.L1ECX }, 20},
	"movbe":           {func(p *cpuProfile) uint32 { return p.L1ECX }, 22},
	"popcnt":          {func(p *cpuProfile) uint32 { return p.L1ECX }, 23},
	"bmi1":            {func(p *cpuProfile) uint32 { return p.L7EBX }, 3},
	"fdp_excptn_only": {func(p *cpuProfile) uint32 { return p.L7EBX }, 6},
	"bmi2":            {func(p *cpuProfile) uint32 { return p.L7EBX }, 8},
	"zero_fcs_fds":    {func(p *cpuProfile) uint32 { return p.L7EBX }, 13},
	"abm":             {func(p *cpuProfile) uint32 { return p.E1ECX }, 5},
	"misalignsse":     {func(p *cpuProfile) uint32 { return p.E1ECX }, 7},
	"xsaveerptr":      {func(p *cpuProfile) uint32 { return p.E8EBX }, 2},
}

// Has reports whether the profile's CPU has the /proc/cpuinfo flag ("" is always true).
func (p cpuProfile) Has(flag string) bool {
	if flag == "" {
		return true
	}
	f, ok := cpuidFlags[flag]
	if !ok {
		panic("cpuProfile: unknown flag " + flag)
	}
	return f.word(&p)>>f.bit&1 != 0
}

// short names the CPU in one line.
func (p cpuProfile) short() string {
	return fmt.Sprintf("%s family %#x model %#x (%s)", p.Vendor, p.Family, p.Model, p.Brand)
}

// profileFromCPUID builds a profile from a CPUID function.
func profileFromCPUID(cpuid func(leaf, sub uint32) (a, b, c, d uint32)) cpuProfile {
	var p cpuProfile
	max, b, c, d := cpuid(0, 0)
	v := make([]byte, 12)
	binary.LittleEndian.PutUint32(v[0:], b)
	binary.LittleEndian.PutUint32(v[4:], d)
	binary.LittleEndian.PutUint32(v[8:], c)
	p.Vendor = string(v)
	a, _, c, d := cpuid(1, 0)
	p.L1ECX, p.L1EDX = c, d
	p.Family, p.Model, p.Stepping = a>>8&0xf, a>>4&0xf, a&0xf
	if p.Family == 0xf {
		p.Family += a >> 20 & 0xff
	}
	if p.Family >= 0x6 {
		p.Model |= (a >> 16 & 0xf) << 4
	}
	if max >= 7 {
		_, p.L7EBX, p.L7ECX, _ = cpuid(7, 0)
	}
	emax, _, _, _ := cpuid(0x80000000, 0)
	if emax >= 0x80000001 {
		_, _, p.E1ECX, p.E1EDX = cpuid(0x80000001, 0)
	}
	if emax >= 0x80000004 {
		var brand []byte
		for l := uint32(0x80000002); l <= 0x80000004; l++ {
			a, b, c, d := cpuid(l, 0)
			for _, w := range []uint32{a, b, c, d} {
				brand = binary.LittleEndian.AppendUint32(brand, w)
			}
		}
		p.Brand = string(trimBrand(brand))
	}
	if emax >= 0x80000008 {
		_, p.E8EBX, _, _ = cpuid(0x80000008, 0)
	}
	return p
}

// trimBrand drops the NULs and the padding spaces of a CPUID brand string.
func trimBrand(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && b[0] == ' ' {
		b = b[1:]
	}
	return b
}

// hostPlatform names the platform the tests run on.
var hostPlatform = runtime.GOOS + "/" + runtime.GOARCH
