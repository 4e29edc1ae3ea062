// Package loader is the ELF reader: it checks that a file is an ELF64 x86-64 program that
// Linux would agree to execute, and describes how to load it as a Plan.
//
// It models the first half of Linux's execve for ELF files, the part of
// fs/binfmt_elf.c:load_elf_binary() (and load_elf_phdrs()) that reads the ELF header and
// the program header table and refuses what cannot be run, before anything is mapped. The
// Plan it returns carries what the second half needs: the PT_LOAD segments with their
// protections, the entry point, the interpreter path, whether the stack is executable, the
// PT_TLS template, and the values for the auxiliary vector (AT_PHDR, AT_PHENT, AT_PHNUM).
//
// The package is pure. It reads the file through an io.ReaderAt and nothing else: it never
// touches guest memory and knows nothing about page tables, frames, VMAs, processes, file
// descriptors or the kernel. It does not pick the load bias of a position-independent
// program (addresses of a KindDyn plan stay as in the file, relative to a bias the kernel
// chooses), does not open the interpreter (the kernel parses it with a second call to
// Parse), does not relocate, and never reads section headers, which a loader does not need.
//
// Where this package is stricter than Linux, it says so at the check; every refusal is a
// *FormatError that names the field, the bad value and the file offset.
package loader
