package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the parser: it must never panic, every refusal must be a
// *FormatError with readable text, and every plan it returns must keep its invariants.
func FuzzParse(f *testing.F) {
	for _, im := range []*image{staticExec(), dynPIE()} {
		f.Add(im.bytes())
	}
	broken := []func(im *image){
		func(im *image) { im.phdrs[1].vaddr = 0x400100 },       // overlap
		func(im *image) { im.phdrs[1].align = 0x1001 },         // bad alignment
		func(im *image) { im.entry = 0x401200 },                // entry in data
		func(im *image) { im.phnum = 0xffff },                  // PN_XNUM
		func(im *image) { im.phdrs[0].typ = elf.PT_INTERP },    // interp without NUL
		func(im *image) { im.phdrs[2].typ = elf.PT_TLS },       // TLS
		func(im *image) { im.phdrs[2].flags = elf.PF_X | rw },  // executable stack
		func(im *image) { im.phdrs[1].memsz = 1<<64 - 0x1000 }, // wrap
	}
	for _, b := range broken {
		im := staticExec()
		b(im)
		f.Add(im.bytes())
	}
	f.Add([]byte{})
	f.Add([]byte("\x7fELF"))
	if b, err := os.ReadFile("/bin/true"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %q is a %T, not a *FormatError", err, err)
			}
			if fe.Msg == "" || len(err.Error()) < 10 {
				t.Fatalf("error without a message: %+v", fe)
			}
			if plan != nil {
				t.Fatalf("plan returned with error %v", err)
			}
			return
		}
		checkInvariants(t, plan, int64(len(data)))
	})
}

// invariantViolation returns what a plan gets wrong about its own promises, or "".
func invariantViolation(p *Plan, size int64) string {
	if len(p.Segments) == 0 {
		return "no segments"
	}
	if p.Kind != KindExec && p.Kind != KindDyn {
		return fmt.Sprintf("kind %v", p.Kind)
	}
	if p.Phent != 56 || p.Phnum == 0 || p.Phnum > 1170 {
		return fmt.Sprintf("phent %d phnum %d", p.Phent, p.Phnum)
	}
	if p.MinVaddr%PageSize != 0 || p.MaxVaddr%PageSize != 0 || p.MinVaddr > p.MaxVaddr {
		return fmt.Sprintf("span [%#x, %#x) not page-aligned", p.MinVaddr, p.MaxVaddr)
	}
	if p.Kind == KindExec && p.MaxVaddr > UserTop {
		return fmt.Sprintf("ET_EXEC span ends at %#x, above user space", p.MaxVaddr)
	}
	if p.MaxVaddr-p.MinVaddr > UserTop {
		return fmt.Sprintf("span [%#x, %#x) larger than user space", p.MinVaddr, p.MaxVaddr)
	}
	entryOK := false
	var end uint64
	for i, s := range p.Segments {
		if s.Filesz > s.Memsz {
			return fmt.Sprintf("segment %d: filesz %#x > memsz %#x", i, s.Filesz, s.Memsz)
		}
		if s.Offset > uint64(size) || s.Filesz > uint64(size)-s.Offset {
			return fmt.Sprintf("segment %d: file bytes [%#x+%#x] past the %#x-byte file", i, s.Offset, s.Filesz, size)
		}
		if s.End() < s.Vaddr {
			return fmt.Sprintf("segment %d wraps", i)
		}
		if s.Vaddr < p.MinVaddr || s.End() > p.MaxVaddr {
			return fmt.Sprintf("segment %d %v outside the span [%#x, %#x)", i, s, p.MinVaddr, p.MaxVaddr)
		}
		if s.Align&(s.Align-1) != 0 {
			return fmt.Sprintf("segment %d: align %#x", i, s.Align)
		}
		if s.Filesz > 0 && (s.Vaddr-s.Offset)%PageSize != 0 {
			return fmt.Sprintf("segment %d: vaddr and offset not page-congruent", i)
		}
		if i > 0 && s.Vaddr < p.Segments[i-1].Vaddr {
			return fmt.Sprintf("segment %d not sorted", i)
		}
		if s.Memsz > 0 && s.Vaddr < end {
			return fmt.Sprintf("segment %d %v overlaps an earlier one ending at %#x", i, s, end)
		}
		end = max(end, s.End())
		if s.Prot&ProtExec != 0 && p.Entry >= s.Vaddr && p.Entry < s.End() {
			entryOK = true
		}
	}
	if !entryOK {
		return fmt.Sprintf("entry %#x not in an executable segment", p.Entry)
	}
	if len(p.Interp) >= 4096 || bytes.IndexByte([]byte(p.Interp), 0) >= 0 {
		return fmt.Sprintf("interp %q", p.Interp)
	}
	if t := p.TLS; t != nil && (t.Filesz > t.Memsz || t.Offset > uint64(size) || t.Filesz > uint64(size)-t.Offset) {
		return fmt.Sprintf("TLS %v", *t)
	}
	return ""
}
