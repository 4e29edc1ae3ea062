//go:build linux && amd64

package hostcpu

import (
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

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

// CPUID runs the CPUID instruction on the host with EAX = leaf and ECX = sub and returns
// EAX, EBX, ECX and EDX.
func CPUID(leaf, sub uint32) (eax, ebx, ecx, edx uint32, err error) {
	r := Regs{RFLAGS: 0x202}
	r.GPR[0], r.GPR[1] = uint64(leaf), uint64(sub)
	if err := Run([]byte{0x0f, 0xa2, 0xc3}, &r, nil); err != nil { // cpuid; ret
		return 0, 0, 0, 0, err
	}
	return uint32(r.GPR[0]), uint32(r.GPR[3]), uint32(r.GPR[1]), uint32(r.GPR[2]), nil
}
