package loader

import "fmt"

// Prot is a set of memory protections, with the values of Linux's PROT_* constants so that it
// can be handed to an mmap-like kernel routine unchanged.
type Prot uint8

// Protection bits.
const (
	ProtRead  Prot = 1 // PROT_READ
	ProtWrite Prot = 2 // PROT_WRITE
	ProtExec  Prot = 4 // PROT_EXEC
)

// String returns the protections as ls and /proc/PID/maps print them: "r-x", "rw-", "---".
func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Kind says how a program must be placed in memory.
type Kind uint8

// Kinds of loadable ELF file.
const (
	// KindExec is ET_EXEC: addresses in the plan are absolute and the program must be
	// loaded exactly there.
	KindExec Kind = iota
	// KindDyn is ET_DYN: a position-independent executable (static-PIE or dynamic PIE), or a
	// shared object such as the dynamic loader. Addresses in the plan are relative to a load
	// bias the kernel chooses.
	KindDyn
)

// String returns the ELF name of the kind: "ET_EXEC" or "ET_DYN".
func (k Kind) String() string {
	switch k {
	case KindExec:
		return "ET_EXEC"
	case KindDyn:
		return "ET_DYN"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Segment is one PT_LOAD (or the PT_TLS template) as the file describes it: Filesz bytes at
// file offset Offset appear at Vaddr, and the rest of Memsz up to Vaddr+Memsz is zero (bss).
type Segment struct {
	Vaddr  uint64 // p_vaddr (for KindDyn: relative to the load bias, i.e. as in the file)
	Memsz  uint64 // p_memsz: bytes the segment occupies in memory
	Filesz uint64 // p_filesz: bytes that come from the file; never more than Memsz
	Offset uint64 // p_offset: where those bytes start in the file
	Align  uint64 // p_align: 0 or a power of two
	Prot   Prot   // from p_flags: PF_R -> ProtRead, PF_W -> ProtWrite, PF_X -> ProtExec
}

// End returns the first address past the segment, Vaddr+Memsz.
func (s Segment) End() uint64 { return s.Vaddr + s.Memsz }

// String prints the segment in the spirit of readelf -l, for traces and test failures:
// "0x400000-0x401000 r-x off=0x0 filesz=0x1000 align=0x1000".
func (s Segment) String() string {
	return fmt.Sprintf("%#x-%#x %v off=%#x filesz=%#x align=%#x",
		s.Vaddr, s.End(), s.Prot, s.Offset, s.Filesz, s.Align)
}

// Plan is everything the kernel's execve needs to know about an ELF file to load it.
//
// Invariants of every Plan that Parse returns:
//   - Segments is non-empty, in file order, sorted by Vaddr, and no two segments' byte
//     ranges [Vaddr, Vaddr+Memsz) overlap (two segments may share a page: one can end and
//     the next begin inside the same 4 KiB page; the kernel must then give that page the
//     union of their protections, as Linux's mmap of the second segment does, or better).
//   - For every segment Filesz <= Memsz and Offset+Filesz lies within the file.
//   - Entry lies inside a segment whose Prot includes ProtExec.
//   - MinVaddr and MaxVaddr are page-aligned and MinVaddr <= Vaddr, End() <= MaxVaddr for
//     every segment; for KindExec MaxVaddr is at most the top of user space
//     (0x7ffffffff000), for KindDyn MaxVaddr-MinVaddr is.
type Plan struct {
	Kind  Kind
	Entry uint64 // e_entry (for KindDyn, relative to the load bias)

	Segments []Segment // PT_LOAD headers in file order (which is ascending Vaddr)

	// Phdr is the address of the program header table in the loaded image, for AT_PHDR:
	// PT_PHDR's p_vaddr if the file has one, else computed from the PT_LOAD whose file
	// bytes contain the whole table; 0 if no segment maps the table. Relative to the load
	// bias for KindDyn.
	Phdr  uint64
	Phent uint64 // e_phentsize, for AT_PHENT (always 56)
	Phnum uint64 // e_phnum, for AT_PHNUM

	Interp string // PT_INTERP path (without its NUL), "" if the file has none

	// StackExec says whether the initial stack must be executable: true only when a
	// PT_GNU_STACK header carries PF_X. A missing PT_GNU_STACK means a non-executable stack
	// on x86-64: the kernel then leaves executable_stack at EXSTACK_DEFAULT, and since
	// Linux 5.8 arch/x86/include/asm/elf.h defines elf_read_implies_exec() as
	// "mmap_is_ia32() && executable_stack == EXSTACK_DEFAULT", so a 64-bit program gets
	// neither READ_IMPLIES_EXEC nor VM_EXEC on its stack (the "exec-none" cell of the table
	// in that header; commit "x86/elf: Disable automatic READ_IMPLIES_EXEC on 64-bit").
	// Before 5.8 the same file would have run with every readable mapping executable.
	StackExec bool

	TLS *Segment // PT_TLS (the initial thread-local storage image), nil if none

	// MinVaddr and MaxVaddr bound all PT_LOAD segments, rounded out to 4 KiB pages
	// (MaxVaddr is exclusive). For KindDyn they are relative to the load bias.
	MinVaddr, MaxVaddr uint64
}
