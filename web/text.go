package web

import (
	"fmt"
	"strings"

	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// TEMPORARY: until the describe package (moved out of cmd/emu by the debugger work) is on
// main; then these become calls to it.

func vmaName(v *minikernel.VMA) string {
	switch {
	case v == nil:
		return "-"
	case v.Name != "":
		return v.Name
	case v.Obj != nil:
		return v.Obj.Name()
	}
	return "[anon]"
}

func pteLetters(e mmu.PTE) string {
	if e&mmu.PTEPresent == 0 {
		return "-------"
	}
	b := []byte("r------")
	set := func(i int, on bool, c byte) {
		if on {
			b[i] = c
		}
	}
	set(1, e&mmu.PTEWrite != 0, 'w')
	set(2, e&mmu.PTENoExec == 0, 'x')
	set(3, e&mmu.PTEUser != 0, 'u')
	set(4, e&mmu.PTEGlobal != 0, 'g')
	set(5, e&mmu.PTEAccessed != 0, 'a')
	set(6, e&mmu.PTEDirty != 0, 'd')
	return string(b)
}

func tlbLetters(p tlb.Perm) string {
	b := []byte("r----a-")
	if p&tlb.PermWrite != 0 {
		b[1] = 'w'
	}
	if p&tlb.PermNoExec == 0 {
		b[2] = 'x'
	}
	if p&tlb.PermUser != 0 {
		b[3] = 'u'
	}
	if p&tlb.PermGlobal != 0 {
		b[4] = 'g'
	}
	if p&tlb.PermDirty != 0 {
		b[6] = 'd'
	}
	return string(b)
}

func explainErrorCode(code uint32) string {
	parts := []string{"P=0 page not present", "W=0 read", "U=0 supervisor mode", "", ""}
	if code&mmu.ErrPresent != 0 {
		parts[0] = "P=1 protection violation"
	}
	if code&mmu.ErrWrite != 0 {
		parts[1] = "W=1 write"
	}
	if code&mmu.ErrUser != 0 {
		parts[2] = "U=1 user mode"
	}
	if code&mmu.ErrReserved != 0 {
		parts[3] = "RSVD=1 reserved bit set"
	}
	if code&mmu.ErrFetch != 0 {
		parts[4] = "I=1 instruction fetch"
	}
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, ", ")
}

func eventText(e *minikernel.Event) string {
	switch e.Kind {
	case minikernel.EvPageFault:
		return fmt.Sprintf("%s at %#x => %s", faultAccess(e.Code), e.Addr, e.Outcome)
	case minikernel.EvSyscall:
		return fmt.Sprintf("%s() = %d", e.Name, e.Ret)
	case minikernel.EvExec:
		return e.Path
	case minikernel.EvFork:
		return fmt.Sprintf("child pid %d", e.Child)
	}
	return e.Text
}

func faultAccess(code uint32) string {
	return mmu.Access(code & (mmu.ErrWrite | mmu.ErrUser | mmu.ErrFetch)).String()
}
