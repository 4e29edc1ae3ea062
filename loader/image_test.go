package loader

import (
	"debug/elf"
	"encoding/binary"
)

// ph is a program header to write into a test image.
type ph struct {
	typ    elf.ProgType
	flags  elf.ProgFlag
	off    uint64
	vaddr  uint64
	filesz uint64
	memsz  uint64
	align  uint64
}

// image describes an ELF file to build in memory. Fields hold raw values so that a test can
// break any of them.
type image struct {
	magic     string
	class     elf.Class
	data      elf.Data
	identVer  elf.Version
	typ       elf.Type
	machine   elf.Machine
	version   uint32
	entry     uint64
	phoff     uint64
	phentsize uint16
	phnum     int // -1: len(phdrs)
	phdrs     []ph
	size      int               // file size; grown to hold the header, phdrs and blobs
	truncate  int               // if > 0, cut the file to this many bytes at the end
	blobs     map[uint64][]byte // bytes placed at file offsets (e.g. the PT_INTERP string)
}

const (
	r  = elf.PF_R
	rw = elf.PF_R | elf.PF_W
	rx = elf.PF_R | elf.PF_X
)

// staticExec is a small valid ET_EXEC, like a static non-PIE program:
//
//	phdr[0] LOAD r-x off 0     vaddr 0x400000 filesz 0x180 memsz 0x180   (holds the headers)
//	phdr[1] LOAD rw- off 0x180 vaddr 0x401180 filesz 0x40  memsz 0x1000
//	phdr[2] GNU_STACK rw-
//
// entry 0x400100, file size 0x1c0.
func staticExec() *image {
	return &image{
		magic: elf.ELFMAG, class: elf.ELFCLASS64, data: elf.ELFDATA2LSB, identVer: elf.EV_CURRENT,
		typ: elf.ET_EXEC, machine: elf.EM_X86_64, version: 1,
		entry: 0x400100, phoff: 64, phentsize: 56, phnum: -1,
		phdrs: []ph{
			{elf.PT_LOAD, rx, 0, 0x400000, 0x180, 0x180, 0x1000},
			{elf.PT_LOAD, rw, 0x180, 0x401180, 0x40, 0x1000, 0x1000},
			{elf.PT_GNU_STACK, rw, 0, 0, 0, 0, 0x10},
		},
		size: 0x1c0,
	}
}

// dynPIE is a small valid ET_DYN with an interpreter, laid out like /bin/true:
//
//	phdr[0] PHDR      r--  off 0x40  vaddr 0x40
//	phdr[1] INTERP    r--  off 0x200 "/lib64/ld-linux-x86-64.so.2"
//	phdr[2] LOAD      r--  off 0     vaddr 0      filesz 0x300 memsz 0x300
//	phdr[3] LOAD      r-x  off 0x300 vaddr 0x1300 filesz 0x100 memsz 0x100
//	phdr[4] LOAD      rw-  off 0x400 vaddr 0x2400 filesz 0x10  memsz 0x200
//	phdr[5] TLS       r--  off 0x400 vaddr 0x2400 filesz 0x8   memsz 0x10
//	phdr[6] GNU_STACK rw-
//
// entry 0x1310, file size 0x410.
func dynPIE() *image {
	interp := []byte("/lib64/ld-linux-x86-64.so.2\x00")
	im := staticExec()
	im.typ = elf.ET_DYN
	im.entry = 0x1310
	im.phdrs = []ph{
		{elf.PT_PHDR, r, 0x40, 0x40, 7 * 56, 7 * 56, 8},
		{elf.PT_INTERP, r, 0x200, 0x200, uint64(len(interp)), uint64(len(interp)), 1},
		{elf.PT_LOAD, r, 0, 0, 0x300, 0x300, 0x1000},
		{elf.PT_LOAD, rx, 0x300, 0x1300, 0x100, 0x100, 0x1000},
		{elf.PT_LOAD, rw, 0x400, 0x2400, 0x10, 0x200, 0x1000},
		{elf.PT_TLS, r, 0x400, 0x2400, 0x8, 0x10, 8},
		{elf.PT_GNU_STACK, rw, 0, 0, 0, 0, 0x10},
	}
	im.blobs = map[uint64][]byte{0x200: interp}
	im.size = 0x410
	return im
}

// bytes lays the image out as a file.
func (im *image) bytes() []byte {
	size := max(im.size, 64)
	if end := int(im.phoff) + 56*len(im.phdrs); im.phoff < 1<<20 && end > size {
		size = end
	}
	for off, b := range im.blobs {
		size = max(size, int(off)+len(b))
	}
	out := make([]byte, size)
	copy(out, im.magic)
	out[4], out[5], out[6] = byte(im.class), byte(im.data), byte(im.identVer)
	le := binary.LittleEndian
	le.PutUint16(out[0x10:], uint16(im.typ))
	le.PutUint16(out[0x12:], uint16(im.machine))
	le.PutUint32(out[0x14:], im.version)
	le.PutUint64(out[0x18:], im.entry)
	le.PutUint64(out[0x20:], im.phoff)
	le.PutUint16(out[0x34:], 64)
	le.PutUint16(out[0x36:], im.phentsize)
	phnum := im.phnum
	if phnum < 0 {
		phnum = len(im.phdrs)
	}
	le.PutUint16(out[0x38:], uint16(phnum))
	le.PutUint16(out[0x3a:], 64)
	if im.phoff < 1<<20 {
		for i, p := range im.phdrs {
			b := out[int(im.phoff)+56*i:]
			le.PutUint32(b[0x00:], uint32(p.typ))
			le.PutUint32(b[0x04:], uint32(p.flags))
			le.PutUint64(b[0x08:], p.off)
			le.PutUint64(b[0x10:], p.vaddr)
			le.PutUint64(b[0x18:], p.vaddr)
			le.PutUint64(b[0x20:], p.filesz)
			le.PutUint64(b[0x28:], p.memsz)
			le.PutUint64(b[0x30:], p.align)
		}
	}
	for off, b := range im.blobs {
		copy(out[off:], b)
	}
	if im.truncate > 0 {
		out = out[:im.truncate]
	}
	return out
}
