// Package hostcpu runs a snippet of x86-64 machine code on the host processor and reports
// the registers and flags it leaves, so tests can compare the emulated CPU with real
// silicon. It is for tests only: the snippet runs inside the test process, so it must not
// fault, make system calls, change FS or set RFLAGS.TF or AC.
//
// Run and CPUID exist only where a snippet can run: linux/amd64 (run_linux_amd64.go). On
// every other platform the package holds just the register layout and the fixed addresses,
// so tests can build there and compare with results recorded on an x86-64 host.
//
// Snippets run at fixed addresses (CodeAddr, DataAddr, a private stack below StackTop), so
// an emulator can place the same bytes at the same linear addresses and see identical
// register values.
package hostcpu

// Fixed addresses of the snippet's code, data and stack.
const (
	CodeAddr  = 0x1000_0000
	CodeSize  = 1 << 20
	DataAddr  = 0x1100_0000
	DataSize  = 1 << 20
	StackAddr = 0x1200_0000
	StackSize = 1 << 16
	StackTop  = StackAddr + StackSize
	// EntryRSP is RSP when the snippet's first instruction runs: the trampoline pushes two
	// words and a return address below StackTop.
	EntryRSP = StackTop - 24
)

// Regs is the register state given to and returned from a snippet. RSP is ignored on input
// (the snippet starts with EntryRSP) and on output is RSP after the snippet's RET.
type Regs struct {
	GPR    [16]uint64
	RFLAGS uint64
	host   [4]uint64 // the trampoline's saved SP, BP, R14, R15
}
