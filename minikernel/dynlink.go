package minikernel

import (
	"errors"
	"fmt"

	"github.com/vmemu/vmemu/loader"

	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// Dynamically linked programs: execve of an executable with a PT_INTERP header maps the
// program interpreter (the dynamic linker: musl's /lib/ld-musl-x86_64.so.1, glibc's
// /lib64/ld-linux-x86-64.so.2) beside it and starts there; the interpreter maps the shared
// libraries itself with mmap, and reads the program's headers and entry point from the
// auxiliary vector (AT_PHDR, AT_ENTRY, AT_BASE). Linux's fs/binfmt_elf.c (load_elf_binary,
// load_elf_interp).
//
// Every file page comes from the page cache, so libc's text is one set of frames, mapped
// read-only by every process that runs it; only the pages a process writes (relocated data,
// the GOT) become private copies.

// ELIBBAD is the errno of execve when the interpreter is not a usable ELF file.
const ELIBBAD Errno = 80

// interpImage is an interpreter opened and checked for execve.
type interpImage struct {
	f    *File
	plan *loader.Plan
}

// openInterp opens and checks the interpreter path names, before execve's point of no
// return: ENOENT when it is missing, EACCES when it is not an executable regular file,
// ELIBBAD when it is not an ELF x86-64 program. The path is resolved as the host resolves
// it (Linux's open_exec() in the caller's root). The caller owns the returned file's
// reference.
func (k *Kernel) openInterp(prog, path string) (*interpImage, *ExecError) {
	fail := func(en Errno, err error) (*interpImage, *ExecError) {
		if err == nil {
			err = hostfs.Errno(en)
		}
		return nil, execErr(prog, en, fmt.Errorf("interpreter %s: %w", path, err))
	}
	f, en := k.openHost(path, oRdonly, 0)
	if en != 0 {
		return fail(en, nil)
	}
	if f.kind != fileRegular {
		f.put()
		return fail(EACCES, nil)
	}
	// Ask about the file opened (inside the guest's root), not the host path.
	if en := Errno(hostfs.AccessFd(f.hfd, 1 /* X_OK */, false)); en != 0 {
		f.put()
		return fail(en, nil)
	}
	if f.ino.writers > 0 {
		f.put()
		return fail(ETXTBSY, nil) // open_exec()'s deny_write_access
	}
	plan, err := loader.Parse(f, int64(f.ino.size))
	if err != nil {
		f.put()
		if errors.Is(err, ErrNoMemory) {
			return fail(ENOMEM, err)
		}
		return fail(ELIBBAD, err)
	}
	return &interpImage{f: f, plan: plan}, nil
}

// mapInterp maps the interpreter's segments into mm and returns its load address (its
// bias: AT_BASE). An ET_DYN interpreter goes where an mmap of its whole image would, top
// down below mmap_base; an ET_EXEC one where its addresses say. Linux's load_elf_interp():
// the first segment is mapped with the total size to find the room, the others fixed
// after it.
func (k *Kernel) mapInterp(mm *MM, in *interpImage) (uint64, Errno) {
	plan := in.plan
	var bias uint64
	if plan.Kind == loader.KindDyn {
		at, e := mm.getUnmappedArea(0, plan.MaxVaddr-plan.MinVaddr, placement{})
		if e != 0 {
			return 0, e
		}
		bias = at - plan.MinVaddr
	}
	for _, s := range plan.Segments {
		k.mapSegment(mm, in.f, s, bias)
	}
	return bias, 0
}

// dynBase is where a position-independent program with an interpreter is loaded:
// ELF_ET_DYN_BASE (two thirds of the user address space, 0x555555554aaa), aligned down to
// the largest power-of-two p_align of its PT_LOAD segments (at least a page), then less
// its first segment's address. Linux's load_elf_binary() with randomization off.
func dynBase(plan *loader.Plan) uint64 {
	align := uint64(4096)
	for _, s := range plan.Segments {
		if s.Align > align && s.Align&(s.Align-1) == 0 {
			align = s.Align
		}
	}
	return pageRoundDown(uint64(elfETDynBase)&^(align-1) - plan.Segments[0].Vaddr)
}
