package minikernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/loader"
	"github.com/vmemu/vmemu/minikernel/internal/hostfs"
)

// execve: replace a process's address space with a fresh one built from an ELF file.
// Linux's fs/binfmt_elf.c (load_elf_binary, create_elf_tables) and fs/exec.c.

const (
	stackTop     = userTop           // the stack ends at 0x7ffffffff000, as with ASLR off
	stackExpand  = 128 << 10         // the stack VMA's room below the strings (setup_arg_pages)
	elfETDynBase = userTop / 3 * 2   // ELF_ET_DYN_BASE: PIEs with an interpreter go here
	maxArgStrlen = 32 * 4096         // MAX_ARG_STRLEN: the longest argument or variable
	maxArgBytes  = 3 * (8 << 20) / 4 // _STK_LIM / 4 * 3: the cap on argv + envp whatever the rlimit
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

// ExecError is a problem with the program execve was asked to run: the errno the guest
// gets, and a description for the user.
type ExecError struct {
	Path  string
	Err   error
	Errno Errno
}

func (e *ExecError) Error() string {
	return safetext.Escape(fmt.Sprintf("%s: %v", e.Path, e.Err)) // names from the guest and the ELF file
}
func (e *ExecError) Unwrap() error { return e.Err }

// execErr builds an ExecError.
func execErr(path string, en Errno, err error) *ExecError {
	if err == nil {
		err = hostfs.Errno(en) // the host's text, and errors.Is(err, fs.ErrNotExist) works
	}
	return &ExecError{Path: path, Err: err, Errno: en}
}

// execELF replaces p's image with the ELF program at path, as Linux's do_execveat_common() and
// load_elf_binary() do: every PT_LOAD segment becomes a private mapping of the executable
// (its pages come from the page cache), .bss and the heap are demand-zero, and a fresh stack
// holds argc, argv, envp and the auxiliary vector. A dynamically linked program's
// interpreter is mapped too and runs first (dynlink.go). The new address space is built
// beside the old one, so on error p is unchanged.
//
// execfn is the path the caller named (AT_EXECFN, and the process's name), which differs from
// path when that was a script (script.go); f is path, opened by openExec.
func (k *Kernel) execELF(p *Process, f *File, path, execfn string, argv, envp []string) *ExecError {
	plan, err := loader.Parse(f, int64(f.ino.size))
	if errors.Is(err, ErrNoMemory) {
		return execErr(path, ENOMEM, err) // no frame to read the headers into
	}
	if err != nil {
		return execErr(path, ENOEXEC, err)
	}
	var interp *interpImage
	if plan.Interp != "" {
		var e *ExecError
		if interp, e = k.openInterp(path, plan.Interp); e != nil {
			return e
		}
		defer interp.f.put()
	}
	size := 8 * (len(argv) + len(envp) + 2)
	for _, s := range append(append([]string{execfn}, argv...), envp...) {
		if len(s)+1 > maxArgStrlen {
			return execErr(path, E2BIG, fmt.Errorf("argument list too long"))
		}
		size += len(s) + 1
	}
	if uint64(size) > min(p.rlimStack()/4, maxArgBytes) {
		return execErr(path, E2BIG, fmt.Errorf("argument list too long"))
	}

	mm, err := k.newMM()
	if err != nil {
		return execErr(path, ENOMEM, err)
	}
	mm.mmapBase = mmapBaseFor(p.rlimStack())
	mm.inheritMMFlags(p.mm)
	bias, en := k.loadBias(mm, plan)
	if en != 0 {
		k.releaseMM(mm)
		return execErr(path, en, fmt.Errorf("no room for a %#x-byte image", plan.MaxVaddr-plan.MinVaddr))
	}
	var end uint64
	for _, s := range plan.Segments {
		k.mapSegment(mm, f, s, bias)
		end = max(end, pageRoundUp(bias+s.Vaddr+s.Memsz))
	}
	mm.brkStart, mm.brk = end, end
	mm.stackTop = stackTop
	k.denyWrite(mm, f)
	strBytes := uint64(len(execfn) + 1)
	for _, s := range append(append([]string(nil), argv...), envp...) {
		strBytes += uint64(len(s) + 1)
	}
	// setup_arg_pages(): the stack VMA covers the pages of the strings plus 128 KiB.
	mm.insert(&VMA{Start: pageRoundDown(stackTop-8-strBytes) - stackExpand, End: stackTop,
		Prot: stackProt(plan), Flags: VMGrowsDown, Name: "[stack]"})
	entry, interpBase := bias+plan.Entry, uint64(0)
	if interp != nil {
		if interpBase, en = k.mapInterp(mm, interp); en != 0 {
			k.releaseMM(mm)
			return execErr(path, en, fmt.Errorf("no room for the interpreter %s", plan.Interp))
		}
		entry = interpBase + interp.plan.Entry
		k.denyWrite(mm, interp.f)
	}

	// The point of no return: the other threads end, the old image goes.
	t := k.cur
	k.deThread(t)
	k.mmRelease(t) // clear_child_tid and the robust list; a vfork parent may go on
	old := p.mm
	p.mm = mm
	p.exe = path
	p.fs.exe, _ = k.guestPathOf(f.hfd)
	t.comm = [16]byte{}
	copy(t.comm[:15], filepath.Base(execfn))
	k.loadMM(mm)
	k.noteMaxRSS(p, old) // the peak resident set outlives the image (rusage.go)
	k.dropTimers(p)      // POSIX timers do not survive execve (posixtimer.go)
	k.mmput(old)
	if p.fds.users > 1 {
		// unshare_files(): a table shared with another process (CLONE_FILES) is copied.
		p.fds.users--
		p.fds = p.fds.clone()
	}
	p.fds.closeOnExec()
	k.execResetSignals(t)

	var st cpu.State
	st.RFLAGS = cpu.InitialRFLAGS
	st.RIP = entry
	st.Ext = cpu.InitialExtState()
	rsp, ok := k.buildStack(p, plan, bias, interpBase, execfn, argv, envp)
	if !ok {
		if !p.exited {
			k.killSignal(p, SIGSEGV, SEGV_MAPERR, st.RIP, "execve could not build the initial stack")
		}
		return nil
	}
	st.GPR[cpu.RSP] = rsp
	k.cpu.Load(&st)
	k.emit(&Event{Kind: EvExec, PID: p.PID, RIP: st.RIP, Path: path})
	return nil
}

// stackProt is the protection of the initial stack: executable only when PT_GNU_STACK asks
// for it.
func stackProt(plan *loader.Plan) Prot {
	if plan.StackExec {
		return ProtRead | ProtWrite | ProtExec
	}
	return ProtRead | ProtWrite
}

// loadBias chooses where a program goes. ET_EXEC is loaded where its addresses say (bias 0).
// An ET_DYN program without an interpreter (a static PIE) is placed like an mmap of the
// whole image, top-down below mmap_base, aligned to its largest p_align; one with an
// interpreter goes at ELF_ET_DYN_BASE (dynBase). Linux's load_elf_binary() with
// randomization off.
func (k *Kernel) loadBias(mm *MM, plan *loader.Plan) (uint64, Errno) {
	if plan.Kind != loader.KindDyn {
		return 0, 0
	}
	if plan.Interp != "" {
		return dynBase(plan), 0
	}
	total := plan.MaxVaddr - plan.MinVaddr
	align := uint64(4096)
	for _, s := range plan.Segments {
		if s.Align > align && s.Align&(s.Align-1) == 0 {
			align = s.Align
		}
	}
	at, e := mm.getUnmappedArea(0, total, placement{})
	if e != 0 {
		return 0, e
	}
	return (at - plan.MinVaddr) &^ (align - 1), 0
}

// mapSegment creates the VMAs of one PT_LOAD segment, as Linux's elf_load() does: the pages
// holding file bytes as a private mapping of the file, and the rest of p_memsz (.bss) as
// anonymous read-write memory. When a writable segment has a .bss, the part of its last file
// page past p_filesz reads as zero (padzero()). A later segment sharing a page with an
// earlier one replaces that page, as Linux's MAP_FIXED mapping of it does.
func (k *Kernel) mapSegment(mm *MM, f *File, s loader.Segment, bias uint64) {
	prot := s.Prot
	start := pageRoundDown(bias + s.Vaddr)
	fileEnd := bias + s.Vaddr + s.Filesz
	end := pageRoundUp(bias + s.Vaddr + s.Memsz)
	fileEndPage := pageRoundUp(fileEnd)
	if s.Filesz > 0 {
		k.unmapRange(mm, start, fileEndPage)
		v := &VMA{Start: start, End: fileEndPage, Prot: prot, Obj: f,
			Off: s.Offset - (bias + s.Vaddr - start), Name: f.name}
		if s.Memsz > s.Filesz && prot&ProtWrite != 0 && fileEnd&0xfff != 0 {
			v.FileEnd = fileEnd
		}
		f.get()
		mm.insert(v)
	} else {
		fileEndPage = start
	}
	if end > fileEndPage {
		k.unmapRange(mm, fileEndPage, end)
		mm.insert(&VMA{Start: fileEndPage, End: end, Prot: ProtRead | ProtWrite | prot&ProtExec})
	}
}

// buildStack lays out the initial stack as Linux's create_elf_tables does: the strings at
// the top (execfn, envp, argv), the platform string and 16 random bytes, then, 16-byte
// aligned, argc, argv[], NULL, envp[], NULL and the auxiliary vector. It returns RSP.
func (k *Kernel) buildStack(p *Process, plan *loader.Plan, bias, interpBase uint64, path string, argv, envp []string) (uint64, bool) {
	sp := uint64(stackTop) - 8
	ok := true
	// pushString copies s and its NUL below sp. After a failed copy (the process was killed
	// for want of a frame) nothing more is copied.
	pushString := func(s string) uint64 {
		sp -= uint64(len(s) + 1)
		if ok {
			_, ok = k.copyOut(p, sp, append([]byte(s), 0))
		}
		return sp
	}
	execfn := pushString(path)
	envPtrs := make([]uint64, len(envp))
	envEnd := sp
	for i := len(envp) - 1; i >= 0; i-- {
		envPtrs[i] = pushString(envp[i])
	}
	if p.mm != nil {
		p.mm.envStart, p.mm.envEnd = sp, envEnd // /proc/PID/environ (mm->env_start, env_end)
	}
	argPtrs := make([]uint64, len(argv))
	argEnd := sp
	for i := len(argv) - 1; i >= 0; i-- {
		argPtrs[i] = pushString(argv[i])
	}
	if p.mm != nil { // nil when a fault writing the strings killed p (out of memory)
		p.mm.argStart, p.mm.argEnd = sp, argEnd // /proc/PID/cmdline (mm->arg_start, arg_end)
	}
	platform := pushString("x86_64")
	if !ok {
		return 0, false
	}
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
		atBase, interpBase,
		atFlags, 0,
		atEntry, bias + plan.Entry,
		atUID, uint64(p.cred.ruid), atEUID, uint64(p.cred.euid),
		atGID, uint64(p.cred.rgid), atEGID, uint64(p.cred.egid),
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
	p.mm.auxv = make([]byte, 8*len(auxv))
	for i, w := range auxv {
		binary.LittleEndian.PutUint64(p.mm.auxv[8*i:], w)
	}
	sp -= uint64(len(words) * 8)
	sp &^= 15
	buf := make([]byte, len(words)*8)
	for i, w := range words {
		binary.LittleEndian.PutUint64(buf[i*8:], w)
	}
	if _, ok := k.copyOut(p, sp, buf); !ok {
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

// denyWrite records that mm executes f (its program or interpreter): while it does, f
// cannot be opened for writing or truncated (ETXTBSY). Linux's deny_write_access() at
// execve, undone by allow_write_access() when the address space goes.
func (k *Kernel) denyWrite(mm *MM, f *File) {
	f.get()
	f.ino.execs++
	mm.exec = append(mm.exec, f)
}

// textBusy reports whether ino is a file some process executes, which Linux will not let
// anyone write: open for writing, truncate and ftruncate fail with ETXTBSY.
func textBusy(ino *Inode) bool { return ino != nil && ino.execs > 0 }
