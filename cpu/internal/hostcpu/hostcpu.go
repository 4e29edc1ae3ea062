// Package hostcpu runs a snippet of x86-64 machine code on the host processor and reports
// the registers and flags it leaves, so tests can compare the emulated CPU with real
// silicon. It is for tests only: the snippet runs inside the test process, so it must not
// fault, make system calls, change FS or set RFLAGS.TF or AC.
//
// Snippets run at fixed addresses (CodeAddr, DataAddr, a private stack below StackTop), so
// an emulator can place the same bytes at the same linear addresses and see identical
// register values.
package hostcpu

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

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

var (
	once      sync.Once
	mapErr    error
	code      []byte
	data      []byte
	runMu     sync.Mutex
	mmapFixed = 0x100000 // MAP_FIXED_NOREPLACE
)

func setup() {
	m := func(addr, size uintptr, prot uintptr) []byte {
		if mapErr != nil {
			return nil
		}
		p, _, e := syscall.Syscall6(syscall.SYS_MMAP, addr, size, prot,
			syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|uintptr(mmapFixed), ^uintptr(0), 0)
		if e != 0 || p != addr {
			mapErr = fmt.Errorf("hostcpu: mmap %#x: %v", addr, e)
			return nil
		}
		return unsafe.Slice((*byte)(unsafe.Add(nil, p)), size) // memory outside the Go heap
	}
	code = m(CodeAddr, CodeSize, syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC)
	data = m(DataAddr, DataSize, syscall.PROT_READ|syscall.PROT_WRITE)
	m(StackAddr, StackSize, syscall.PROT_READ|syscall.PROT_WRITE)
}

// Run copies snippet to CodeAddr and mem to DataAddr, runs the snippet on the host CPU with
// the registers in r (the snippet must end with RET), and stores the resulting registers in
// r and the data area back into mem.
func Run(snippet []byte, r *Regs, mem []byte) error {
	once.Do(setup)
	if mapErr != nil {
		return mapErr
	}
	if len(snippet) > CodeSize || len(mem) > DataSize {
		return fmt.Errorf("hostcpu: snippet or data too large")
	}
	runMu.Lock()
	defer runMu.Unlock()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	copy(code, snippet)
	copy(data, mem)
	call(CodeAddr, r, StackTop)
	copy(mem, data)
	return nil
}

// call loads r into the registers, switches to the private stack and calls code.
func call(code uintptr, r *Regs, stack uintptr)

func init() {
	// The assembly addresses fields by offset.
	if unsafe.Offsetof(Regs{}.RFLAGS) != 128 || unsafe.Offsetof(Regs{}.host) != 136 {
		panic("hostcpu: Regs layout changed")
	}
}
