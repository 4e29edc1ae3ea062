package minikernel

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"vmemu/cpu"
	"vmemu/loader"
)

// execve: replace a process's address space with a fresh one built from an ELF file.
// Linux's fs/binfmt_elf.c (load_elf_binary, create_elf_tables) and fs/exec.c.

const (
	stackTop    = userTop        // the stack ends at 0x7ffffffff000, as with ASLR off
	stackInit   = 128 << 10      // the stack VMA starts this big (Linux's stack_expand)
	dynLoadBase = 0x555555554000 // ET_DYN load bias with ASLR off (ELF_ET_DYN_BASE)
	maxArgBytes = 2 << 20        // argv + envp strings, as Linux's MAX_ARG_STRLEN budget
)

// Auxiliary-vector tags (include/uapi/linux/auxvec.h).
const (
	atNull     = 0
	atPhdr     = 3
	atPhent    = 4
	atPhnum    = 5
	atPagesz   = 6
	atBase     = 7
	atFlags    = 8
	atEntry    = 9
	atUID      = 11
	atEUID     = 12
	atGID      = 13
	atEGID     = 14
	atPlatform = 15
	atHwcap    = 16
	atClktck   = 17
	atSecure   = 23
	atRandom   = 25
	atHwcap2   = 26
	atExecfn   = 31
)

// fileObject is an executable's bytes, read whole at execve.
type fileObject struct {
	name string
	data []byte
}

func (f *fileObject) Name() string { return f.name }

func (f *fileObject) ReadAt(p []byte, off int64) (int, error) {
	return bytes.NewReader(f.data).ReadAt(p, off)
}

// ExecError is a host-side problem with the program to run.
type ExecError struct {
	Path string
	Err  error
}

func (e *ExecError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }
func (e *ExecError) Unwrap() error { return e.Err }

// execve replaces p's image with the program at path. On error p is unchanged.
func (k *Kernel) execve(p *Process, path string, argv, envp []string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ExecError{Path: path, Err: err}
	}
	plan, err := loader.Parse(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return &ExecError{Path: path, Err: err}
	}
	if plan.Interp != "" {
		return &ExecError{Path: path, Err: fmt.Errorf("dynamically linked (interpreter %s): not supported yet", plan.Interp)}
	}
	size := 0
	for _, s := range append(append([]string{path}, argv...), envp...) {
		size += len(s) + 1
	}
	if size > maxArgBytes {
		return &ExecError{Path: path, Err: fmt.Errorf("argument list too long")}
	}

	// Build the new address space beside the old one, then switch.
	mm, err := k.newMM()
	if err != nil {
		return &ExecError{Path: path, Err: err}
	}
	obj := &fileObject{name: path, data: data}
	var bias uint64
	if plan.Kind == loader.KindDyn {
		bias = dynLoadBase
	}
	var end uint64
	for _, s := range plan.Segments {
		k.mapSegment(mm, obj, s, bias)
		end = max(end, pageRoundUp(bias+s.Vaddr+s.Memsz))
	}
	mm.brkStart, mm.brk = end, end
	mm.stackTop = stackTop
	mm.insert(&VMA{Start: stackTop - stackInit, End: stackTop, Prot: ProtRead | ProtWrite,
		Flags: VMGrowsDown, Name: "[stack]"})

	old := p.mm
	p.mm = mm
	p.exe = path
	k.cur = nil // force a CR3 load of the new tables
	k.switchTo(p)
	k.releaseMM(old)

	var st cpu.State
	st.RFLAGS = cpu.InitialRFLAGS
	st.RIP = bias + plan.Entry
	st.Ext = cpu.InitialExtState()
	rsp, ok := k.buildStack(p, plan, bias, path, argv, envp)
	if !ok {
		return &ExecError{Path: path, Err: fmt.Errorf("could not build the initial stack")}
	}
	st.GPR[cpu.RSP] = rsp
	k.cpu.Load(&st)
	k.emit(&Event{Kind: EvExec, PID: p.PID, RIP: st.RIP, Path: path})
	return nil
}

// mapSegment creates the VMAs of one PT_LOAD segment: the pages holding file bytes as a
// private mapping of the file (bytes past p_filesz read as zero), and the rest of p_memsz
// (.bss) as anonymous memory. A later segment sharing a page with an earlier one replaces
// that page, as Linux's MAP_FIXED mapping of it does.
func (k *Kernel) mapSegment(mm *MM, obj *fileObject, s loader.Segment, bias uint64) {
	prot := Prot(s.Prot)
	start := pageRoundDown(bias + s.Vaddr)
	fileEnd := bias + s.Vaddr + s.Filesz
	end := pageRoundUp(bias + s.Vaddr + s.Memsz)
	fileEndPage := pageRoundUp(fileEnd)
	if s.Filesz > 0 {
		mm.removeRange(start, fileEndPage)
		mm.insert(&VMA{Start: start, End: fileEndPage, Prot: prot, Obj: obj,
			Off: s.Offset - (bias + s.Vaddr - start), FileEnd: fileEnd, Name: obj.name})
	} else {
		fileEndPage = start
	}
	if end > fileEndPage {
		mm.removeRange(fileEndPage, end)
		mm.insert(&VMA{Start: fileEndPage, End: end, Prot: prot})
	}
}

// buildStack lays out the initial stack as Linux's create_elf_tables does: the strings at
// the top (execfn, envp, argv), the platform string and 16 random bytes, then, 16-byte
// aligned, argc, argv[], NULL, envp[], NULL and the auxiliary vector. It returns RSP.
func (k *Kernel) buildStack(p *Process, plan *loader.Plan, bias uint64, path string, argv, envp []string) (uint64, bool) {
	sp := uint64(stackTop) - 8
	var ok bool
	pushString := func(s string) uint64 {
		sp -= uint64(len(s) + 1)
		_, ok = k.copyOut(p, sp, append([]byte(s), 0))
		return sp
	}
	execfn := pushString(path)
	envPtrs := make([]uint64, len(envp))
	for i := len(envp) - 1; i >= 0; i-- {
		envPtrs[i] = pushString(envp[i])
	}
	argPtrs := make([]uint64, len(argv))
	for i := len(argv) - 1; i >= 0; i-- {
		argPtrs[i] = pushString(argv[i])
	}
	platform := pushString("x86_64")
	sp &^= 15
	sp -= 16
	random := sp
	var rnd [16]byte
	seedBytes(k.cfg.Seed, rnd[:])
	if _, ok := k.copyOut(p, random, rnd[:]); !ok {
		return 0, false
	}
	phdr := plan.Phdr
	if phdr != 0 {
		phdr += bias
	}
	auxv := []uint64{
		atHwcap, cpu.HWCAP(),
		atPagesz, 4096,
		atClktck, 100,
		atPhdr, phdr,
		atPhent, plan.Phent,
		atPhnum, plan.Phnum,
		atBase, 0,
		atFlags, 0,
		atEntry, bias + plan.Entry,
		atUID, uint64(os.Getuid()), atEUID, uint64(os.Geteuid()),
		atGID, uint64(os.Getgid()), atEGID, uint64(os.Getegid()),
		atSecure, 0,
		atRandom, random,
		atHwcap2, 0,
		atExecfn, execfn,
		atPlatform, platform,
		atNull, 0,
	}
	var words []uint64
	words = append(words, uint64(len(argv)))
	words = append(words, argPtrs...)
	words = append(words, 0)
	words = append(words, envPtrs...)
	words = append(words, 0)
	words = append(words, auxv...)
	sp -= uint64(len(words) * 8)
	sp &^= 15
	buf := make([]byte, len(words)*8)
	for i, w := range words {
		binary.LittleEndian.PutUint64(buf[i*8:], w)
	}
	if _, ok2 := k.copyOut(p, sp, buf); !ok2 || !ok {
		return 0, false
	}
	return sp, true
}

// seedBytes fills b deterministically from seed (splitmix64).
func seedBytes(seed uint64, b []byte) {
	x := seed
	for i := 0; i < len(b); i += 8 {
		x += 0x9e3779b97f4a7c15
		z := x
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], z)
		copy(b[i:], w[:])
	}
}
