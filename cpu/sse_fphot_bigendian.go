//go:build armbe || arm64be || m68k || mips || mips64 || mips64p32 || ppc || ppc64 || s390 || s390x || shbe || sparc || sparc64

package cpu

// xmmPS reads the XMM registers as float32 lanes in place, which takes a little-endian
// host (lane 0 is the low half of the first quadword). This emulator runs on amd64 and
// arm64; on a big-endian host this file stops the build rather than compute wrong lanes.
var _ = "cpu: xmmPS needs a little-endian host" + 1
