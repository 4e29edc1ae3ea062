package gdbstub

import (
	"encoding/binary"
	"fmt"
	"html"
	"strings"
)

// The shared libraries of a dynamically linked process, found as gdbserver finds them: the
// program headers (AT_PHDR in the auxiliary vector) give the load bias and PT_DYNAMIC; the
// dynamic section's DT_DEBUG entry, which the dynamic linker fills in, points to its r_debug
// (glibc's link.h, <link.h> of musl too), whose r_map heads the list of link_map entries,
// one per loaded object, the program first. gdb reads the list as qXfer:libraries-svr4
// (GDB manual, "Library List Format for SVR4 Targets") and loads each library's symbols.

const (
	atPHDR  = 3
	atPHENT = 4
	atPHNUM = 5

	ptDynamic = 2
	ptPHDR    = 6

	dtNull  = 0
	dtDebug = 21
)

// auxvLookup returns the value of an auxiliary vector entry.
func auxvLookup(auxv []byte, key uint64) (uint64, bool) {
	for i := 0; i+16 <= len(auxv); i += 16 {
		k := binary.LittleEndian.Uint64(auxv[i:])
		if k == 0 {
			break
		}
		if k == key {
			return binary.LittleEndian.Uint64(auxv[i+8:]), true
		}
	}
	return 0, false
}

// memReader reads a process's memory in little-endian words.
type memReader struct {
	t   Target
	pid int
}

func (m memReader) word(addr uint64) (uint64, bool) {
	var b [8]byte
	n, err := m.t.ReadMemory(m.pid, addr, b[:])
	if err != nil || n < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b[:]), true
}

func (m memReader) cstring(addr uint64, max int) string {
	var out []byte
	buf := make([]byte, 64)
	for len(out) < max {
		n, _ := m.t.ReadMemory(m.pid, addr+uint64(len(out)), buf)
		if n == 0 {
			break
		}
		if i := strings.IndexByte(string(buf[:n]), 0); i >= 0 {
			return string(append(out, buf[:i]...))
		}
		out = append(out, buf[:n]...)
	}
	return string(out)
}

// rDebug finds the address of the dynamic linker's r_debug in the process, or 0 when it has
// none (a static program, or one whose dynamic linker has not yet filled in DT_DEBUG).
func rDebug(t Target, pid int) uint64 {
	auxv, err := t.Auxv(pid)
	if err != nil {
		return 0
	}
	phdr, ok1 := auxvLookup(auxv, atPHDR)
	phnum, ok2 := auxvLookup(auxv, atPHNUM)
	phent, ok3 := auxvLookup(auxv, atPHENT)
	if !ok1 || !ok2 || !ok3 || phent < 56 || phnum > 1024 {
		return 0
	}
	m := memReader{t, pid}
	var bias, dyn uint64
	haveDyn, havePhdr := false, false
	for i := uint64(0); i < phnum; i++ {
		h := phdr + i*phent
		typ, ok := m.word(h)
		vaddr, ok2 := m.word(h + 16)
		if !ok || !ok2 {
			return 0
		}
		switch uint32(typ) {
		case ptPHDR:
			bias, havePhdr = phdr-vaddr, true
		case ptDynamic:
			dyn, haveDyn = vaddr, true
		}
	}
	if !haveDyn || !havePhdr {
		return 0
	}
	for a := dyn + bias; a < dyn+bias+16*4096; a += 16 {
		tag, ok := m.word(a)
		val, ok2 := m.word(a + 8)
		if !ok || !ok2 || tag == dtNull {
			return 0
		}
		if tag == dtDebug {
			return val
		}
	}
	return 0
}

// librariesSVR4 is the qXfer:libraries-svr4 document for a process.
func librariesSVR4(t Target, pid int) string {
	r := rDebug(t, pid)
	m := memReader{t, pid}
	var lm uint64
	if r != 0 {
		lm, _ = m.word(r + 8) // r_map
	}
	if lm == 0 {
		return `<library-list-svr4 version="1.0"/>`
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<library-list-svr4 version="1.0" main-lm="%#x">`, lm)
	seen := map[uint64]bool{}
	for first := true; lm != 0 && !seen[lm] && len(seen) < 4096; first = false {
		seen[lm] = true
		lAddr, ok1 := m.word(lm)
		lName, ok2 := m.word(lm + 8)
		lLd, ok3 := m.word(lm + 16)
		next, ok4 := m.word(lm + 24)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			break
		}
		if !first { // the first entry is the program itself: main-lm names it
			name := m.cstring(lName, 4096)
			fmt.Fprintf(&b, `<library name="%s" lm="%#x" l_addr="%#x" l_ld="%#x" lmid="0x0"/>`,
				html.EscapeString(name), lm, lAddr, lLd)
		}
		lm = next
	}
	b.WriteString("</library-list-svr4>")
	return b.String()
}
