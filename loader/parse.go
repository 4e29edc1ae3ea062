package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
)

// UserTop is the first address above x86-64 user space with four-level paging: Linux's
// TASK_SIZE_MAX, (1<<47) - 4096. The last page below the canonical boundary is left unmapped
// so that a syscall instruction at its end cannot return to a non-canonical address.
const UserTop = 0x7ffffffff000

// PageSize is the granule in which segments are mapped.
const PageSize = 4096

const (
	ehdrSize     = 64                            // sizeof(Elf64_Ehdr)
	phdrSize     = 56                            // sizeof(Elf64_Phdr)
	maxPhdrTable = 65536                         // fs/binfmt_elf.c:load_elf_phdrs() refuses a bigger table
	maxPhnum     = maxPhdrTable / phdrSize       // 1170 entries
	pathMax      = 4096                          // PATH_MAX, the longest PT_INTERP (NUL included)
	addrLimit    = math.MaxUint64 - PageSize + 1 // no segment may end above this (page round-up would wrap)
)

// File offsets of the Elf64_Ehdr fields we read.
const (
	offIdentClass   = 4 // e_ident[EI_CLASS]
	offIdentData    = 5 // e_ident[EI_DATA]
	offIdentVersion = 6 // e_ident[EI_VERSION]
	offType         = 0x10
	offMachine      = 0x12
	offVersion      = 0x14
	offEntry        = 0x18
	offPhoff        = 0x20
	offPhentsize    = 0x36
	offPhnum        = 0x38
)

// Offsets of the Elf64_Phdr fields within one program header.
const (
	offPType   = 0x00
	offPFlags  = 0x04
	offPOffset = 0x08
	offPVaddr  = 0x10
	offPFilesz = 0x20
	offPMemsz  = 0x28
	offPAlign  = 0x30
)

// header is the part of the ELF header a loader uses.
type header struct {
	kind  Kind
	entry uint64
	phoff uint64
	phnum int
}

// prog is one program header, with where it sits in the file so errors can point at it.
type prog struct {
	index  int
	at     int64 // file offset of this program header
	typ    elf.ProgType
	flags  elf.ProgFlag
	offset uint64
	vaddr  uint64
	filesz uint64
	memsz  uint64
	align  uint64
}

func (p *prog) field(name string) string { return fmt.Sprintf("phdr[%d].%s", p.index, name) }
func (p *prog) fieldAt(off int) int64    { return p.at + int64(off) }
func (p *prog) err(name string, off int, v any, msg string, args ...any) *FormatError {
	return fieldError(p.fieldAt(off), p.field(name), v, msg, args...)
}

// segment converts a program header into the plan's form.
func (p *prog) segment() Segment {
	var prot Prot
	if p.flags&elf.PF_R != 0 {
		prot |= ProtRead
	}
	if p.flags&elf.PF_W != 0 {
		prot |= ProtWrite
	}
	if p.flags&elf.PF_X != 0 {
		prot |= ProtExec
	}
	return Segment{Vaddr: p.vaddr, Memsz: p.memsz, Filesz: p.filesz, Offset: p.offset, Align: p.align, Prot: prot}
}

// ParseFile opens the file at path and parses it with Parse. Errors name the path; a
// *FormatError inside stays reachable with errors.As.
func ParseFile(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError already names the path
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		// Linux's do_open_execat() refuses the same way (EACCES).
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	plan, err := Parse(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return plan, nil
}

// Parse reads the ELF file of the given size from r, checks that it is an ELF64 x86-64
// executable (ET_EXEC) or position-independent program or shared object (ET_DYN) that can be
// loaded, and returns its load plan. A file that cannot be loaded gives a *FormatError; a
// failing reader gives its error, wrapped.
//
// Parse reads only the ELF header, the program header table and the PT_INTERP string, so
// its memory use is bounded (the table is at most 64 KiB) whatever the file claims. It never
// panics: a panic in here would be a bug, and is reported as a *FormatError as well.
func Parse(r io.ReaderAt, size int64) (plan *Plan, err error) {
	defer func() {
		if p := recover(); p != nil {
			plan = nil
			err = &FormatError{Offset: -1, Msg: fmt.Sprintf("internal error in the ELF reader (a bug, please report it): %v", p)}
		}
	}()
	return parse(r, size)
}

// parse is Parse without the recover, so that tests and the fuzzer see any panic.
func parse(r io.ReaderAt, size int64) (*Plan, error) {
	if size < 0 {
		return nil, fmt.Errorf("elf: negative file size %d", size)
	}
	h, err := readHeader(r, size)
	if err != nil {
		return nil, err
	}
	progs, err := readProgs(r, h)
	if err != nil {
		return nil, err
	}
	plan := &Plan{Kind: h.kind, Entry: h.entry, Phent: phdrSize, Phnum: uint64(h.phnum)}
	var loads []*prog
	seen := map[elf.ProgType]int{} // first index of the header types a file may have once
	hasPhdr := false
	for i := range progs {
		p := &progs[i]
		switch p.typ {
		case elf.PT_INTERP, elf.PT_GNU_STACK, elf.PT_TLS, elf.PT_PHDR:
			// Stricter than Linux, which takes the first PT_INTERP and the last
			// PT_GNU_STACK and never looks at the others: two of these contradict
			// each other, and no linker writes that.
			if first, dup := seen[p.typ]; dup {
				return nil, p.err("p_type", offPType, p.typ, "appears a second time (first at phdr[%d]); a file may have only one", first)
			}
			seen[p.typ] = i
		}
		switch p.typ {
		case elf.PT_LOAD:
			if err := checkLoad(p, size, h.kind); err != nil {
				return nil, err
			}
			loads = append(loads, p)
			plan.Segments = append(plan.Segments, p.segment())
		case elf.PT_INTERP:
			if plan.Interp, err = readInterp(r, size, p); err != nil {
				return nil, err
			}
		case elf.PT_GNU_STACK:
			plan.StackExec = p.flags&elf.PF_X != 0
		case elf.PT_TLS:
			if err := checkTLS(p, size); err != nil {
				return nil, err
			}
			tls := p.segment()
			plan.TLS = &tls
		case elf.PT_PHDR:
			plan.Phdr, hasPhdr = p.vaddr, true
		}
	}
	if len(loads) == 0 {
		return nil, fieldError(int64(h.phoff), "", nil, "no PT_LOAD segment among the %d program headers: nothing to load", h.phnum)
	}
	if plan.MinVaddr, plan.MaxVaddr, err = checkLayout(loads, h.kind); err != nil {
		return nil, err
	}
	if err := checkEntry(h.entry, plan.Segments); err != nil {
		return nil, err
	}
	if !hasPhdr {
		plan.Phdr = phdrAddr(h, plan.Segments)
	}
	return plan, nil
}

// readAt fills buf from off, or says what could not be read.
func readAt(r io.ReaderAt, buf []byte, off int64, what string) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil // io.ReaderAt may report io.EOF along with a full read
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF // the file is shorter than its stated size
	}
	return fmt.Errorf("elf: reading %s at offset %#x: %w", what, off, err)
}

// readHeader reads and checks the ELF header, as load_elf_binary() and load_elf_phdrs() do.
func readHeader(r io.ReaderAt, size int64) (*header, error) {
	buf := make([]byte, min(size, ehdrSize))
	if err := readAt(r, buf, 0, "the ELF header"); err != nil {
		return nil, err
	}
	if len(buf) < len(elf.ELFMAG) || string(buf[:len(elf.ELFMAG)]) != elf.ELFMAG {
		return nil, fieldError(0, "e_ident[EI_MAG]", buf[:min(len(buf), len(elf.ELFMAG))], "is not the ELF magic number %q: not an ELF file", elf.ELFMAG)
	}
	if size < ehdrSize {
		return nil, fieldError(-1, "file size", size, "is too small to hold the %d-byte ELF header", ehdrSize)
	}
	if c := elf.Class(buf[offIdentClass]); c != elf.ELFCLASS64 {
		return nil, fieldError(offIdentClass, "e_ident[EI_CLASS]", c, "is not ELFCLASS64: only 64-bit programs run here")
	}
	if d := elf.Data(buf[offIdentData]); d != elf.ELFDATA2LSB {
		return nil, fieldError(offIdentData, "e_ident[EI_DATA]", d, "is not ELFDATA2LSB: x86-64 is little-endian")
	}
	if v := elf.Version(buf[offIdentVersion]); v != elf.EV_CURRENT {
		return nil, fieldError(offIdentVersion, "e_ident[EI_VERSION]", v, "is not EV_CURRENT")
	}
	le := binary.LittleEndian
	h := &header{entry: le.Uint64(buf[offEntry:]), phoff: le.Uint64(buf[offPhoff:])}
	switch t := elf.Type(le.Uint16(buf[offType:])); t {
	case elf.ET_EXEC:
		h.kind = KindExec
	case elf.ET_DYN:
		h.kind = KindDyn
	default:
		return nil, fieldError(offType, "e_type", t, "is not an executable: want ET_EXEC or ET_DYN")
	}
	if m := elf.Machine(le.Uint16(buf[offMachine:])); m != elf.EM_X86_64 {
		return nil, fieldError(offMachine, "e_machine", m, "is not EM_X86_64: the program is for another processor")
	}
	if v := le.Uint32(buf[offVersion:]); v != uint32(elf.EV_CURRENT) {
		return nil, fieldError(offVersion, "e_version", v, "is not EV_CURRENT (1)")
	}
	if n := le.Uint16(buf[offPhentsize:]); n != phdrSize {
		return nil, fieldError(offPhentsize, "e_phentsize", n, "is not %d, the size of an Elf64_Phdr", phdrSize)
	}
	h.phnum = int(le.Uint16(buf[offPhnum:]))
	if h.phnum == 0 {
		return nil, fieldError(offPhnum, "e_phnum", h.phnum, "is zero: the file has no program headers, so nothing can be loaded")
	}
	if h.phnum > maxPhnum {
		// 0xffff (PN_XNUM, the count kept in section 0) lands here too; Linux does not
		// support it for executables either.
		return nil, fieldError(offPhnum, "e_phnum", h.phnum, "is more than %d: Linux limits the program header table to 64 KiB", maxPhnum)
	}
	tableSize := uint64(h.phnum) * phdrSize
	if h.phoff > uint64(size) || tableSize > uint64(size)-h.phoff {
		return nil, fieldError(offPhoff, "e_phoff", h.phoff, "puts the %d program headers (%#x bytes) past the end of the %#x-byte file", h.phnum, tableSize, size)
	}
	return h, nil
}

// readProgs reads the program header table, whose place readHeader has checked.
func readProgs(r io.ReaderAt, h *header) ([]prog, error) {
	buf := make([]byte, h.phnum*phdrSize)
	if err := readAt(r, buf, int64(h.phoff), "the program headers"); err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	progs := make([]prog, h.phnum)
	for i := range progs {
		b := buf[i*phdrSize : (i+1)*phdrSize]
		progs[i] = prog{
			index:  i,
			at:     int64(h.phoff) + int64(i*phdrSize),
			typ:    elf.ProgType(le.Uint32(b[offPType:])),
			flags:  elf.ProgFlag(le.Uint32(b[offPFlags:])),
			offset: le.Uint64(b[offPOffset:]),
			vaddr:  le.Uint64(b[offPVaddr:]),
			filesz: le.Uint64(b[offPFilesz:]),
			memsz:  le.Uint64(b[offPMemsz:]),
			align:  le.Uint64(b[offPAlign:]),
		}
	}
	return progs, nil
}

// checkFileBytes checks that the segment's p_filesz bytes at p_offset lie within the file.
// (Linux would map them anyway and the program would die of SIGBUS on touching them.)
func checkFileBytes(p *prog, size int64) error {
	if p.offset > uint64(size) || p.filesz > uint64(size)-p.offset {
		return p.err("p_offset", offPOffset, p.offset, "+ p_filesz %#x runs past the end of the %#x-byte file", p.filesz, size)
	}
	return nil
}

// checkSizes checks what PT_LOAD and PT_TLS have in common: file bytes within memory and
// within the file, a power-of-two alignment, and an end address that does not wrap.
func checkSizes(p *prog, size int64) error {
	if p.filesz > p.memsz {
		return p.err("p_filesz", offPFilesz, p.filesz, "is larger than p_memsz %#x: a segment cannot hold more file bytes than memory", p.memsz)
	}
	if err := checkFileBytes(p, size); err != nil {
		return err
	}
	if p.align&(p.align-1) != 0 {
		// Stricter than Linux, whose maximum_alignment() just ignores such a value.
		return p.err("p_align", offPAlign, p.align, "is not a power of two")
	}
	if p.vaddr > addrLimit || p.memsz > addrLimit-p.vaddr {
		return p.err("p_memsz", offPMemsz, p.memsz, "at p_vaddr %#x runs past the end of the 64-bit address space", p.vaddr)
	}
	return nil
}

// checkLoad checks one PT_LOAD on its own; checkLayout checks the segments together.
func checkLoad(p *prog, size int64, kind Kind) error {
	if err := checkSizes(p, size); err != nil {
		return err
	}
	// The ELF specification: "loadable process segments must have congruent values for
	// p_vaddr and p_offset, modulo the page size" and modulo p_align. glibc's ld.so refuses
	// the same ("ELF load command address/offset not properly aligned").
	if p.align > 1 && (p.vaddr-p.offset)%p.align != 0 {
		return p.err("p_vaddr", offPVaddr, p.vaddr, "is not congruent to p_offset %#x modulo p_align %#x", p.offset, p.align)
	}
	// Whatever p_align says, file bytes are mapped page by page, so they must sit at the
	// same offset within a page in the file as in memory (for Linux, mmap would fail).
	if p.filesz > 0 && (p.vaddr-p.offset)%PageSize != 0 {
		return p.err("p_vaddr", offPVaddr, p.vaddr, "and p_offset %#x differ modulo the %d-byte page: the file bytes cannot be mapped there", p.offset, PageSize)
	}
	// load_elf_binary(): BAD_ADDR(k) || p_memsz > TASK_SIZE || TASK_SIZE - p_memsz < k
	// gives -EINVAL. For ET_DYN the same test runs after the bias is added; here only the
	// span can be checked (checkLayout).
	if kind == KindExec && (p.vaddr >= UserTop || p.memsz > UserTop-p.vaddr) {
		return p.err("p_vaddr", offPVaddr, p.vaddr, "+ p_memsz %#x ends above the top of user space %#x", p.memsz, uint64(UserTop))
	}
	return nil
}

// checkLayout checks the PT_LOADs together: ascending p_vaddr ("loadable segment entries in
// the program header table appear in ascending order, sorted on the p_vaddr member", ELF
// gABI) and no two byte ranges [p_vaddr, p_vaddr+p_memsz) overlapping. Sharing a page is
// fine: linkers without -z separate-code end the text and start the data in one page. It
// returns the page-rounded span.
func checkLayout(loads []*prog, kind Kind) (lo, hi uint64, err error) {
	var end uint64 // highest end so far
	var last *prog // the segment that reaches end
	for i, p := range loads {
		if i > 0 && p.vaddr < loads[i-1].vaddr {
			prev := loads[i-1]
			return 0, 0, p.err("p_vaddr", offPVaddr, p.vaddr, "is below phdr[%d].p_vaddr %#x: PT_LOAD segments must be in ascending p_vaddr order", prev.index, prev.vaddr)
		}
		if p.memsz > 0 && last != nil && p.vaddr < end {
			return 0, 0, p.err("p_vaddr", offPVaddr, p.vaddr, "overlaps phdr[%d], which covers [%#x, %#x)", last.index, last.vaddr, last.vaddr+last.memsz)
		}
		if last == nil || p.vaddr+p.memsz > end {
			end, last = p.vaddr+p.memsz, p
		}
	}
	lo = loads[0].vaddr &^ (PageSize - 1)
	hi = (end + PageSize - 1) &^ (PageSize - 1) // cannot wrap: checkSizes kept end <= addrLimit
	if kind == KindDyn && hi-lo > UserTop {
		return 0, 0, fieldError(-1, "", nil, "PT_LOAD segments span [%#x, %#x), %#x bytes, more than the %#x bytes of user space", lo, hi, hi-lo, uint64(UserTop))
	}
	return lo, hi, nil
}

// checkEntry checks that e_entry lies inside an executable PT_LOAD (Linux does not check;
// the program would just fault on its first instruction).
func checkEntry(entry uint64, segs []Segment) error {
	for _, s := range segs {
		if entry < s.Vaddr || entry >= s.End() {
			continue
		}
		if s.Prot&ProtExec != 0 {
			return nil
		}
		return fieldError(offEntry, "e_entry", entry, "lies in the %v segment %#x-%#x, which is not executable", s.Prot, s.Vaddr, s.End())
	}
	msg := "is not inside any PT_LOAD segment"
	if entry == 0 {
		msg += " (a shared library without an entry point cannot be run)"
	}
	return fieldError(offEntry, "e_entry", entry, "%s", msg)
}

// checkTLS checks the PT_TLS template: its initialised part must be in the file.
func checkTLS(p *prog, size int64) error { return checkSizes(p, size) }

// readInterp reads and checks the PT_INTERP path, as load_elf_binary() does.
func readInterp(r io.ReaderAt, size int64, p *prog) (string, error) {
	if p.filesz < 2 || p.filesz > pathMax {
		return "", p.err("p_filesz", offPFilesz, p.filesz, "is not a PT_INTERP size: the path and its NUL must take 2 to %d (PATH_MAX) bytes", pathMax)
	}
	if err := checkFileBytes(p, size); err != nil {
		return "", err
	}
	buf := make([]byte, p.filesz)
	if err := readAt(r, buf, int64(p.offset), "the PT_INTERP path"); err != nil {
		return "", err
	}
	field := fmt.Sprintf("phdr[%d] PT_INTERP path", p.index)
	if buf[len(buf)-1] != 0 {
		return "", fieldError(int64(p.offset), field, abbreviate(buf), "is not NUL-terminated")
	}
	// Linux hands the bytes to open_exec() as a C string, so an inner NUL ends the path.
	path := buf[:bytes.IndexByte(buf, 0)]
	if len(path) == 0 {
		return "", fieldError(int64(p.offset), field, nil, "is empty")
	}
	return string(path), nil
}

// abbreviate shortens a long byte string for an error message.
func abbreviate(b []byte) string {
	const limit = 64
	if len(b) <= limit {
		return string(b)
	}
	return string(b[:limit]) + "..."
}

// phdrAddr finds where the program header table appears in memory when there is no PT_PHDR:
// inside the PT_LOAD whose file bytes hold the whole table (Linux 5.18+ computes AT_PHDR the
// same way, from the PT_LOAD containing e_phoff). It returns 0 if no segment maps the table.
func phdrAddr(h *header, segs []Segment) uint64 {
	end := h.phoff + uint64(h.phnum)*phdrSize // within the file, so no overflow
	for _, s := range segs {
		if s.Offset <= h.phoff && end <= s.Offset+s.Filesz {
			return s.Vaddr + (h.phoff - s.Offset)
		}
	}
	return 0
}
