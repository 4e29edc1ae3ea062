//go:build linux && amd64

package hostcpu

import "testing"

// An ADD on the host sets RAX and the flags the SDM says.
func TestRunAdd(t *testing.T) {
	// add rax, rbx ; ret
	r := Regs{RFLAGS: 0x202}
	r.GPR[0], r.GPR[3] = 0xffffffffffffffff, 1
	if err := Run([]byte{0x48, 0x01, 0xd8, 0xc3}, &r, nil); err != nil {
		t.Fatal(err)
	}
	if r.GPR[0] != 0 || r.RFLAGS&0x41 != 0x41 { // ZF and CF
		t.Fatalf("rax=%#x rflags=%#x", r.GPR[0], r.RFLAGS)
	}
	if r.GPR[4] != StackTop-16 {
		t.Fatalf("rsp after ret = %#x, want %#x", r.GPR[4], StackTop-16)
	}
}

// Memory at DataAddr is visible to the snippet and copied back.
func TestRunMemory(t *testing.T) {
	// mov qword [rdi], rsi ; ret
	var r Regs
	r.RFLAGS = 0x202
	r.GPR[7], r.GPR[6] = DataAddr, 0x1122334455667788
	mem := make([]byte, 16)
	if err := Run([]byte{0x48, 0x89, 0x37, 0xc3}, &r, mem); err != nil {
		t.Fatal(err)
	}
	if mem[0] != 0x88 || mem[7] != 0x11 {
		t.Fatalf("mem = % x", mem)
	}
}
