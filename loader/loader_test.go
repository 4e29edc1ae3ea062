package loader

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

func parseImage(t *testing.T, im *image) (*Plan, error) {
	t.Helper()
	b := im.bytes()
	plan, err := parse(bytes.NewReader(b), int64(len(b)))
	if err == nil {
		checkInvariants(t, plan, int64(len(b)))
	}
	return plan, err
}

// TestRefusals has one row per rule that makes a file unloadable. Each row breaks one thing
// in a valid image and names the error it expects: the field, and words of the message.
func TestRefusals(t *testing.T) {
	tests := []struct {
		rule   string
		base   func() *image
		breakf func(im *image)
		want   string // the whole error text must contain this
		off    int64  // FormatError.Offset
	}{
		// ELF header.
		{"file must hold the magic", staticExec, func(im *image) { im.truncate = 3 },
			`e_ident[EI_MAG] "\x7fEL" is not the ELF magic number`, 0},
		{"magic must be \\x7fELF", staticExec, func(im *image) { im.magic = "#!/b" },
			`elf: e_ident[EI_MAG] "#!/b" is not the ELF magic number "\x7fELF": not an ELF file (at offset 0x0)`, 0},
		{"file must hold the ELF header", staticExec, func(im *image) { im.truncate = 40 },
			"elf: file size 0x28 is too small to hold the 64-byte ELF header", -1},
		{"EI_CLASS must be ELFCLASS64", staticExec, func(im *image) { im.class = elf.ELFCLASS32 },
			"e_ident[EI_CLASS] ELFCLASS32 (0x1) is not ELFCLASS64", 4},
		{"EI_DATA must be little-endian", staticExec, func(im *image) { im.data = elf.ELFDATA2MSB },
			"e_ident[EI_DATA] ELFDATA2MSB (0x2) is not ELFDATA2LSB", 5},
		{"EI_VERSION must be EV_CURRENT", staticExec, func(im *image) { im.identVer = 2 },
			"e_ident[EI_VERSION] 0x2 is not EV_CURRENT", 6},
		{"e_type must not be ET_REL", staticExec, func(im *image) { im.typ = elf.ET_REL },
			"e_type ET_REL (0x1) is not an executable: want ET_EXEC or ET_DYN", 0x10},
		{"e_type must not be ET_CORE", staticExec, func(im *image) { im.typ = elf.ET_CORE },
			"e_type ET_CORE (0x4) is not an executable", 0x10},
		{"e_type must not be unknown", staticExec, func(im *image) { im.typ = 0x1234 },
			"e_type 0x1234 is not an executable", 0x10},
		{"e_machine must be EM_X86_64", staticExec, func(im *image) { im.machine = elf.EM_AARCH64 },
			"e_machine EM_AARCH64 (0xb7) is not EM_X86_64", 0x12},
		{"e_version must be EV_CURRENT", staticExec, func(im *image) { im.version = 0 },
			"e_version 0x0 is not EV_CURRENT", 0x14},
		{"e_phentsize must be 56", staticExec, func(im *image) { im.phentsize = 64 },
			"e_phentsize 0x40 is not 56", 0x36},
		{"e_phnum must not be 0", staticExec, func(im *image) { im.phnum = 0 },
			"e_phnum 0x0 is zero", 0x38},
		{"e_phnum must be at most 1170 (64 KiB table)", staticExec, func(im *image) { im.phnum = 1171 },
			"e_phnum 0x493 is more than 1170: Linux limits the program header table to 64 KiB", 0x38},
		{"e_phnum PN_XNUM is refused", staticExec, func(im *image) { im.phnum = 0xffff },
			"e_phnum 0xffff is more than 1170", 0x38},
		{"program header table must lie within the file", staticExec, func(im *image) { im.phnum = 8 },
			"e_phoff 0x40 puts the 8 program headers (0x1c0 bytes) past the end of the 0x1c0-byte file", 0x20},
		{"e_phoff must not point past the file", staticExec, func(im *image) { im.phoff = 1<<64 - 8 },
			"e_phoff 0xfffffffffffffff8 puts the 3 program headers", 0x20},

		// PT_LOAD on its own.
		{"at least one PT_LOAD", staticExec, func(im *image) {
			im.phdrs[0].typ, im.phdrs[1].typ = elf.PT_NOTE, elf.PT_NULL
		}, "elf: no PT_LOAD segment among the 3 program headers: nothing to load (at offset 0x40)", 0x40},
		{"PT_LOAD p_filesz <= p_memsz", staticExec, func(im *image) { im.phdrs[1].filesz = 0x1001 },
			"phdr[1].p_filesz 0x1001 is larger than p_memsz 0x1000", 0x40 + 56 + 0x20},
		{"PT_LOAD file bytes within the file", staticExec, func(im *image) { im.phdrs[1].filesz = 0x41 },
			"phdr[1].p_offset 0x180 + p_filesz 0x41 runs past the end of the 0x1c0-byte file", 0x40 + 56 + 8},
		{"PT_LOAD p_offset within the file", staticExec, func(im *image) { im.phdrs[1].off = 1<<64 - 0x1000 + 0x180 },
			"phdr[1].p_offset 0xfffffffffffff180 + p_filesz 0x40 runs past the end", 0x40 + 56 + 8},
		{"PT_LOAD p_align is a power of two", staticExec, func(im *image) { im.phdrs[1].align = 0x1001 },
			"elf: phdr[1].p_align 0x1001 is not a power of two (at offset 0xa8)", 0x40 + 56 + 0x30},
		{"PT_LOAD p_vaddr congruent to p_offset modulo p_align", staticExec, func(im *image) {
			im.phdrs[1].align = 0x200000 // 0x401180 and 0x180 differ by 0x401000
		}, "phdr[1].p_vaddr 0x401180 is not congruent to p_offset 0x180 modulo p_align 0x200000", 0x40 + 56 + 0x10},
		{"PT_LOAD p_vaddr congruent to p_offset modulo the page, whatever p_align", staticExec, func(im *image) {
			im.phdrs[1].align, im.phdrs[1].vaddr = 16, 0x401190
		}, "phdr[1].p_vaddr 0x401190 and p_offset 0x180 differ modulo the 4096-byte page", 0x40 + 56 + 0x10},
		{"PT_LOAD p_vaddr+p_memsz must not wrap", staticExec, func(im *image) {
			im.phdrs[1].vaddr, im.phdrs[1].memsz = 1<<64-0x1000+0x180, 0x1000
		}, "phdr[1].p_memsz 0x1000 at p_vaddr 0xfffffffffffff180 runs past the end of the 64-bit address space", 0x40 + 56 + 0x28},
		{"ET_EXEC PT_LOAD must end below the top of user space", staticExec, func(im *image) {
			im.phdrs[1].vaddr, im.phdrs[1].memsz = 0x7ffffffff180, 0x1000
		}, "phdr[1].p_vaddr 0x7ffffffff180 + p_memsz 0x1000 ends above the top of user space 0x7ffffffff000", 0x40 + 56 + 0x10},
		{"ET_EXEC PT_LOAD must start below the top of user space", staticExec, func(im *image) {
			im.phdrs[1].vaddr, im.phdrs[1].memsz, im.phdrs[1].filesz = 0x7ffffffff180, 0, 0
		}, "phdr[1].p_vaddr 0x7ffffffff180 + p_memsz 0x0 ends above the top of user space", 0x40 + 56 + 0x10},

		// PT_LOADs together.
		{"PT_LOAD in ascending p_vaddr order", staticExec, func(im *image) { im.phdrs[1].vaddr = 0x3ff180 },
			"phdr[1].p_vaddr 0x3ff180 is below phdr[0].p_vaddr 0x400000: PT_LOAD segments must be in ascending p_vaddr order", 0x40 + 56 + 0x10},
		{"PT_LOAD byte ranges must not overlap", staticExec, func(im *image) { im.phdrs[1].vaddr, im.phdrs[1].off = 0x400170, 0x170 },
			"phdr[1].p_vaddr 0x400170 overlaps phdr[0], which covers [0x400000, 0x400180)", 0x40 + 56 + 0x10},
		{"PT_LOAD must not overlap an earlier, longer one", staticExec, func(im *image) {
			im.phdrs[0].memsz = 0x10000
			empty := ph{elf.PT_LOAD, r, 0, 0x400800, 0, 0, 0}
			im.phdrs = []ph{im.phdrs[0], empty, im.phdrs[1], im.phdrs[2]}
		}, "phdr[2].p_vaddr 0x401180 overlaps phdr[0], which covers [0x400000, 0x410000)", 0x40 + 2*56 + 0x10},
		{"ET_DYN span must fit in user space", dynPIE, func(im *image) {
			im.phdrs[4].vaddr, im.phdrs[4].off = 0x800000000400, 0x400
		}, "elf: PT_LOAD segments span [0x0, 0x800000001000), 0x800000001000 bytes, more than the 0x7ffffffff000 bytes of user space", -1},

		// Entry point.
		{"e_entry inside a PT_LOAD", staticExec, func(im *image) { im.entry = 0x500000 },
			"e_entry 0x500000 is not inside any PT_LOAD segment", 0x18},
		{"e_entry inside an executable PT_LOAD", staticExec, func(im *image) { im.entry = 0x401180 },
			"e_entry 0x401180 lies in the rw- segment 0x401180-0x402180, which is not executable", 0x18},
		{"e_entry 0 is a library without an entry point", dynPIE, func(im *image) { im.entry = 0 },
			"lies in the r-- segment 0x0-0x300, which is not executable", 0x18},
		{"e_entry in a segment without PF_X", staticExec, func(im *image) {
			im.phdrs[0].flags = r // entry now in a non-executable segment
		}, "e_entry 0x400100 lies in the r-- segment", 0x18},
		{"e_entry 0 with no segment there says why", staticExec, func(im *image) { im.entry = 0 },
			"e_entry 0x0 is not inside any PT_LOAD segment (a shared library without an entry point cannot be run)", 0x18},

		// PT_INTERP.
		{"PT_INTERP at least 2 bytes", dynPIE, func(im *image) { im.phdrs[1].filesz = 1 },
			"phdr[1].p_filesz 0x1 is not a PT_INTERP size: the path and its NUL must take 2 to 4096 (PATH_MAX) bytes", 0x40 + 56 + 0x20},
		{"PT_INTERP at most PATH_MAX", dynPIE, func(im *image) { im.phdrs[1].filesz = 4097 },
			"phdr[1].p_filesz 0x1001 is not a PT_INTERP size", 0x40 + 56 + 0x20},
		{"PT_INTERP within the file", dynPIE, func(im *image) { im.phdrs[1].off = 0x400 },
			"phdr[1].p_offset 0x400 + p_filesz 0x1c runs past the end of the 0x410-byte file", 0x40 + 56 + 8},
		{"PT_INTERP NUL-terminated", dynPIE, func(im *image) { im.blobs[0x200] = []byte("/lib64/ld-linux-x86-64.so.2X") },
			`elf: phdr[1] PT_INTERP path "/lib64/ld-linux-x86-64.so.2X" is not NUL-terminated (at offset 0x200)`, 0x200},
		{"PT_INTERP long unterminated path is abbreviated", dynPIE, func(im *image) {
			im.blobs[0x200] = bytes.Repeat([]byte("a"), 0x100)
			im.phdrs[1].filesz = 0x100
		}, `PT_INTERP path "` + strings.Repeat("a", 64) + `..." is not NUL-terminated`, 0x200},
		{"PT_INTERP not empty", dynPIE, func(im *image) { im.blobs[0x200] = []byte("\x00/lib64/ld-linux-x86-64.so.") },
			"elf: phdr[1] PT_INTERP path is empty (at offset 0x200)", 0x200},
		{"only one PT_INTERP", dynPIE, func(im *image) { im.phdrs[0] = im.phdrs[1] },
			"phdr[1].p_type PT_INTERP (0x3) appears a second time (first at phdr[0]); a file may have only one", 0x40 + 56},

		// Other headers.
		{"only one PT_GNU_STACK", staticExec, func(im *image) { im.phdrs = append(im.phdrs, im.phdrs[2]) },
			"phdr[3].p_type PT_GNU_STACK (0x6474e551) appears a second time (first at phdr[2])", 0x40 + 3*56},
		{"only one PT_PHDR", dynPIE, func(im *image) { im.phdrs[6] = im.phdrs[0] },
			"phdr[6].p_type PT_PHDR (0x6) appears a second time", 0x40 + 6*56},
		{"only one PT_TLS", dynPIE, func(im *image) { im.phdrs[6] = im.phdrs[5] },
			"phdr[6].p_type PT_TLS (0x7) appears a second time", 0x40 + 6*56},
		{"PT_TLS p_filesz <= p_memsz", dynPIE, func(im *image) { im.phdrs[5].filesz = 0x11 },
			"phdr[5].p_filesz 0x11 is larger than p_memsz 0x10", 0x40 + 5*56 + 0x20},
		{"PT_TLS within the file", dynPIE, func(im *image) { im.phdrs[5].off = 0x40c },
			"phdr[5].p_offset 0x40c + p_filesz 0x8 runs past the end", 0x40 + 5*56 + 8},
		{"PT_TLS p_align is a power of two", dynPIE, func(im *image) { im.phdrs[5].align = 24 },
			"phdr[5].p_align 0x18 is not a power of two", 0x40 + 5*56 + 0x30},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			im := tt.base()
			tt.breakf(im)
			plan, err := parseImage(t, im)
			require.Error(t, err, "plan: %+v", plan)
			assert.Nil(t, plan)
			assert.Contains(t, err.Error(), tt.want)
			var fe *FormatError
			require.True(t, errors.As(err, &fe), "%T is not a *FormatError", err)
			assert.Equal(t, tt.off, fe.Offset, "offset")
			assert.True(t, strings.HasPrefix(err.Error(), "elf: "), err.Error())
		})
	}
}

// TestAccepts has one row per thing a valid file may do, with what the plan must say.
func TestAccepts(t *testing.T) {
	tests := []struct {
		rule  string
		base  func() *image
		tweak func(im *image)
		check func(t *testing.T, p *Plan)
	}{
		{"static ET_EXEC", staticExec, nil, func(t *testing.T, p *Plan) {
			assert.Equal(t, KindExec, p.Kind)
			assert.Equal(t, uint64(0x400100), p.Entry)
			assert.Equal(t, []Segment{
				{Vaddr: 0x400000, Memsz: 0x180, Filesz: 0x180, Offset: 0, Align: 0x1000, Prot: ProtRead | ProtExec},
				{Vaddr: 0x401180, Memsz: 0x1000, Filesz: 0x40, Offset: 0x180, Align: 0x1000, Prot: ProtRead | ProtWrite},
			}, p.Segments)
			assert.Equal(t, uint64(0x400040), p.Phdr, "AT_PHDR computed from the PT_LOAD holding e_phoff")
			assert.Equal(t, uint64(56), p.Phent)
			assert.Equal(t, uint64(3), p.Phnum)
			assert.Equal(t, "", p.Interp)
			assert.False(t, p.StackExec)
			assert.Nil(t, p.TLS)
			assert.Equal(t, uint64(0x400000), p.MinVaddr)
			assert.Equal(t, uint64(0x403000), p.MaxVaddr)
		}},
		{"dynamic PIE", dynPIE, nil, func(t *testing.T, p *Plan) {
			assert.Equal(t, KindDyn, p.Kind)
			assert.Equal(t, uint64(0x1310), p.Entry)
			assert.Equal(t, "/lib64/ld-linux-x86-64.so.2", p.Interp)
			assert.Equal(t, uint64(0x40), p.Phdr, "AT_PHDR from PT_PHDR")
			assert.Equal(t, uint64(7), p.Phnum)
			require.NotNil(t, p.TLS)
			assert.Equal(t, Segment{Vaddr: 0x2400, Memsz: 0x10, Filesz: 8, Offset: 0x400, Align: 8, Prot: ProtRead}, *p.TLS)
			assert.Len(t, p.Segments, 3)
			assert.Equal(t, uint64(0), p.MinVaddr)
			assert.Equal(t, uint64(0x3000), p.MaxVaddr)
		}},
		{"static PIE is ET_DYN without PT_INTERP", dynPIE, func(im *image) { im.phdrs[1].typ = elf.PT_NOTE },
			func(t *testing.T, p *Plan) {
				assert.Equal(t, KindDyn, p.Kind)
				assert.Equal(t, "", p.Interp)
			}},
		{"PT_PHDR wins over the computed address", staticExec, func(im *image) {
			im.phdrs[2] = ph{elf.PT_PHDR, r, 0x40, 0x400040 + 0x1000, 3 * 56, 3 * 56, 8}
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(0x401040), p.Phdr) }},
		{"program headers outside every PT_LOAD give Phdr 0", staticExec, func(im *image) {
			im.phdrs[0].off, im.phdrs[0].vaddr, im.phdrs[0].filesz, im.phdrs[0].memsz = 0x100, 0x400100, 0x80, 0x80
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(0), p.Phdr) }},
		{"program headers straddling a PT_LOAD's end give Phdr 0", staticExec, func(im *image) {
			im.phdrs[0].filesz = 0x60 // covers e_phoff but not the whole table
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(0), p.Phdr) }},
		{"missing PT_GNU_STACK means a non-executable stack on x86-64", staticExec, func(im *image) {
			im.phdrs = im.phdrs[:2]
		}, func(t *testing.T, p *Plan) { assert.False(t, p.StackExec) }},
		{"PT_GNU_STACK with PF_X asks for an executable stack", staticExec, func(im *image) {
			im.phdrs[2].flags = elf.PF_R | elf.PF_W | elf.PF_X
		}, func(t *testing.T, p *Plan) { assert.True(t, p.StackExec) }},
		{"segments may share a page (-z noseparate-code)", staticExec, func(im *image) {
			im.phdrs[1].vaddr = 0x400180 // data starts right where text ends, same page
		}, func(t *testing.T, p *Plan) {
			assert.Equal(t, uint64(0x400180), p.Segments[1].Vaddr)
			assert.Equal(t, uint64(0x402000), p.MaxVaddr)
		}},
		{"p_align 0 and 1 mean no alignment", staticExec, func(im *image) {
			im.phdrs[0].align, im.phdrs[1].align = 0, 1
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(1), p.Segments[1].Align) }},
		{"p_align 2 MiB with congruent addresses", staticExec, func(im *image) {
			im.phdrs[1].vaddr, im.phdrs[1].align = 0x600180, 0x200000
			im.phdrs[0].align = 0x200000
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(0x602000), p.MaxVaddr) }},
		{"bss-only PT_LOAD needs no page congruence", staticExec, func(im *image) {
			im.phdrs = append(im.phdrs, ph{elf.PT_LOAD, rw, 0x123, 0x405000, 0, 0x2000, 0})
		}, func(t *testing.T, p *Plan) {
			require.Len(t, p.Segments, 3)
			assert.Equal(t, uint64(0x407000), p.MaxVaddr)
		}},
		{"empty PT_LOAD is kept and overlaps nothing", staticExec, func(im *image) {
			im.phdrs = append(im.phdrs, ph{elf.PT_LOAD, r, 0x180, 0x402180, 0, 0, 0x1000})
		}, func(t *testing.T, p *Plan) { assert.Len(t, p.Segments, 3) }},
		{"ET_EXEC may end exactly at the top of user space", staticExec, func(im *image) {
			im.phdrs[1].vaddr, im.phdrs[1].memsz = 0x7fffffffe180, 0xe80
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(UserTop), p.MaxVaddr) }},
		{"ET_DYN may have high relative addresses (prelinked)", dynPIE, func(im *image) {
			for i := range im.phdrs {
				if im.phdrs[i].typ != elf.PT_GNU_STACK {
					im.phdrs[i].vaddr += 0xfffffff000000000
				}
			}
			im.entry += 0xfffffff000000000
		}, func(t *testing.T, p *Plan) {
			assert.Equal(t, uint64(0xfffffff000000000), p.MinVaddr)
			assert.Equal(t, uint64(0xfffffff000003000), p.MaxVaddr)
		}},
		{"segment flags map to PROT_* and other bits are ignored", staticExec, func(im *image) {
			im.phdrs[1].flags = elf.PF_W | elf.PF_X | 0x0ff00000
		}, func(t *testing.T, p *Plan) { assert.Equal(t, ProtWrite|ProtExec, p.Segments[1].Prot) }},
		{"unknown program header types are ignored", staticExec, func(im *image) {
			im.phdrs = append(im.phdrs, ph{typ: 0x7fff1234, off: 1 << 60, filesz: 1 << 62})
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(4), p.Phnum) }},
		{"inner NUL ends the PT_INTERP path, as in Linux", dynPIE, func(im *image) {
			im.blobs[0x200] = []byte("/lib/ld.so\x00-ignored-\x00")
			im.phdrs[1].filesz = 21
		}, func(t *testing.T, p *Plan) { assert.Equal(t, "/lib/ld.so", p.Interp) }},
		{"PT_INTERP of exactly PATH_MAX bytes", dynPIE, func(im *image) {
			path := append(bytes.Repeat([]byte("/x"), 2047), 'y', 0)
			im.blobs[0x1000] = path
			im.phdrs[1].off, im.phdrs[1].filesz = 0x1000, uint64(len(path))
		}, func(t *testing.T, p *Plan) { assert.Len(t, p.Interp, 4095) }},
		{"e_entry in the zero-filled tail of an executable PT_LOAD counts", staticExec, func(im *image) {
			im.phdrs[0].memsz, im.entry = 0x800, 0x400700
			im.phdrs[1].vaddr = 0x401180
		}, func(t *testing.T, p *Plan) { assert.Equal(t, uint64(0x400700), p.Entry) }},
		{"1170 program headers", staticExec, func(im *image) {
			for len(im.phdrs) < 1170 {
				im.phdrs = append(im.phdrs, ph{typ: elf.PT_NOTE})
			}
			im.phdrs[0].filesz, im.phdrs[0].memsz = 0x11000, 0x11000 // the table ends at 0x10030
			im.phdrs[1].off, im.phdrs[1].vaddr = 0x11000, 0x411000
			im.size = 0x11040
		}, func(t *testing.T, p *Plan) {
			assert.Equal(t, uint64(1170), p.Phnum)
			assert.Equal(t, uint64(0x400040), p.Phdr)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.rule, func(t *testing.T) {
			im := tt.base()
			if tt.tweak != nil {
				tt.tweak(im)
			}
			p, err := parseImage(t, im)
			require.NoError(t, err)
			tt.check(t, p)
		})
	}
}

// TestHostBinaries parses real programs and compares the plan with debug/elf's reading.
func TestHostBinaries(t *testing.T) {
	tests := []struct {
		path   string
		kind   Kind
		interp string // "-" for any
	}{
		{"/bin/true", KindDyn, "/lib64/ld-linux-x86-64.so.2"},
		{"/bin/ls", KindDyn, "-"},
		{"/lib64/ld-linux-x86-64.so.2", KindDyn, ""},
		{filepath.Join(runtime.GOROOT(), "bin", "gofmt"), KindExec, ""},             // Go: static, non-PIE
		{"/lib/x86_64-linux-gnu/libc.so.6", KindDyn, "/lib64/ld-linux-x86-64.so.2"}, // runnable, has PT_TLS
		{"../testprogs/bin/hello", KindExec, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if _, err := os.Stat(tt.path); err != nil {
				testcheck.Skip(t, "%s not present on this host", tt.path)
			}
			p, err := ParseFile(tt.path)
			require.NoError(t, err)
			fi, err := os.Stat(tt.path)
			require.NoError(t, err)
			checkInvariants(t, p, fi.Size())
			assert.Equal(t, tt.kind, p.Kind)
			if tt.interp != "-" {
				assert.Equal(t, tt.interp, p.Interp)
			}
			f, err := elf.Open(tt.path)
			require.NoError(t, err)
			defer f.Close()
			assert.Equal(t, f.Entry, p.Entry)
			assert.Equal(t, uint64(len(f.Progs)), p.Phnum)
			var loads []Segment
			stack := false
			for _, hp := range f.Progs {
				switch hp.Type {
				case elf.PT_LOAD:
					loads = append(loads, Segment{Vaddr: hp.Vaddr, Memsz: hp.Memsz, Filesz: hp.Filesz,
						Offset: hp.Off, Align: hp.Align, Prot: (&prog{flags: hp.Flags}).segment().Prot})
				case elf.PT_GNU_STACK:
					stack = hp.Flags&elf.PF_X != 0
				case elf.PT_PHDR:
					assert.Equal(t, hp.Vaddr, p.Phdr)
				case elf.PT_TLS:
					require.NotNil(t, p.TLS)
					assert.Equal(t, hp.Vaddr, p.TLS.Vaddr)
					assert.Equal(t, hp.Memsz, p.TLS.Memsz)
					assert.Equal(t, hp.Filesz, p.TLS.Filesz)
				}
			}
			assert.Equal(t, loads, p.Segments)
			assert.Equal(t, stack, p.StackExec)
			assert.NotZero(t, p.Phdr, "the program headers of a real program are mapped")
			t.Logf("%v entry=%#x interp=%q phdr=%#x tls=%v span=[%#x,%#x)", p.Kind, p.Entry, p.Interp, p.Phdr, p.TLS, p.MinVaddr, p.MaxVaddr)
			for _, s := range p.Segments {
				t.Logf("  %v", s)
			}
		})
	}
}

func TestParseFileErrorsNameThePath(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "script")
	require.NoError(t, os.WriteFile(bad, []byte("#!/bin/sh\necho hi\n"), 0o755))
	_, err := ParseFile(bad)
	require.Error(t, err)
	assert.Equal(t, bad+`: elf: e_ident[EI_MAG] "#!/b" is not the ELF magic number "\x7fELF": not an ELF file (at offset 0x0)`, err.Error())
	var fe *FormatError
	assert.True(t, errors.As(err, &fe))

	_, err = ParseFile(filepath.Join(dir, "missing"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "missing"))
	assert.True(t, errors.Is(err, os.ErrNotExist))

	_, err = ParseFile(dir)
	require.Error(t, err)
	assert.Equal(t, dir+": not a regular file", err.Error())

	good := filepath.Join(dir, "good")
	require.NoError(t, os.WriteFile(good, staticExec().bytes(), 0o755))
	p, err := ParseFile(good)
	require.NoError(t, err)
	assert.Equal(t, uint64(0x400100), p.Entry)

	empty := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(empty, nil, 0o755))
	_, err = ParseFile(empty)
	assert.EqualError(t, err, empty+`: elf: e_ident[EI_MAG] "" is not the ELF magic number "\x7fELF": not an ELF file (at offset 0x0)`)
}

func TestHostLibraryWithoutEntryIsRefused(t *testing.T) {
	const path = "/lib/x86_64-linux-gnu/libm.so.6"
	if _, err := os.Stat(path); err != nil {
		testcheck.Skip(t, "%s not present on this host", path)
	}
	_, err := ParseFile(path)
	require.Error(t, err)
	assert.Contains(t, err.Error(), path+": elf: e_entry 0x0 ")
	assert.Contains(t, err.Error(), "which is not executable")
}

// failingReader fails every read after the first n bytes.
type failingReader struct {
	data []byte
	n    int64
}

var errDisk = errors.New("disk on fire")

func (f *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > f.n {
		return 0, errDisk
	}
	return copy(p, f.data[off:]), nil
}

type panickingReader struct{}

func (panickingReader) ReadAt([]byte, int64) (int, error) { panic("boom") }

func TestReaderProblems(t *testing.T) {
	b := dynPIE().bytes()
	size := int64(len(b))

	_, err := Parse(bytes.NewReader(b), -1)
	assert.EqualError(t, err, "elf: negative file size -1")

	// The stated size is larger than what the reader holds.
	_, err = Parse(bytes.NewReader(b[:100]), size)
	assert.EqualError(t, err, "elf: reading the program headers at offset 0x40: unexpected EOF")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)

	for _, tt := range []struct {
		n    int64
		what string
	}{
		{0, "the ELF header at offset 0x0"},
		{64, "the program headers at offset 0x40"},
		{0x200, "the PT_INTERP path at offset 0x200"},
	} {
		_, err = Parse(&failingReader{b, tt.n}, size)
		assert.EqualError(t, err, "elf: reading "+tt.what+": disk on fire")
		assert.ErrorIs(t, err, errDisk)
	}

	// A panic (here from the reader) becomes an error, never a crash.
	_, err = Parse(panickingReader{}, size)
	var fe *FormatError
	require.True(t, errors.As(err, &fe))
	assert.Equal(t, "elf: internal error in the ELF reader (a bug, please report it): boom", err.Error())
}

func TestProtString(t *testing.T) {
	for p, want := range map[Prot]string{
		0: "---", ProtRead: "r--", ProtRead | ProtExec: "r-x", ProtRead | ProtWrite: "rw-",
		ProtRead | ProtWrite | ProtExec: "rwx", ProtWrite: "-w-", ProtExec: "--x",
	} {
		assert.Equal(t, want, p.String())
	}
	// Linux's PROT_* values.
	assert.Equal(t, Prot(1), ProtRead)
	assert.Equal(t, Prot(2), ProtWrite)
	assert.Equal(t, Prot(4), ProtExec)
}

func TestKindString(t *testing.T) {
	assert.Equal(t, "ET_EXEC", KindExec.String())
	assert.Equal(t, "ET_DYN", KindDyn.String())
	assert.Equal(t, "Kind(7)", Kind(7).String())
}

func TestSegmentString(t *testing.T) {
	s := Segment{Vaddr: 0x400000, Memsz: 0x1000, Filesz: 0x800, Offset: 0, Align: 0x1000, Prot: ProtRead | ProtExec}
	assert.Equal(t, "0x400000-0x401000 r-x off=0x0 filesz=0x800 align=0x1000", s.String())
	assert.Equal(t, uint64(0x401000), s.End())
}

func TestFormatErrorText(t *testing.T) {
	tests := []struct {
		err  FormatError
		want string
	}{
		{FormatError{Offset: 0xe0, Field: "phdr[2].p_align", Value: uint64(0x1001), Msg: "is not a power of two"},
			"elf: phdr[2].p_align 0x1001 is not a power of two (at offset 0xe0)"},
		{FormatError{Offset: -1, Msg: "something"}, "elf: something"},
		{FormatError{Offset: 0, Field: "e_machine", Value: elf.EM_386, Msg: "is wrong"}, "elf: e_machine EM_386 (0x3) is wrong (at offset 0x0)"},
		{FormatError{Offset: -1, Field: "e_machine", Value: elf.Machine(0x7777), Msg: "is wrong"}, "elf: e_machine 0x7777 is wrong"},
		{FormatError{Offset: -1, Field: "p_type", Value: elf.ProgType(0x60000001), Msg: "x"}, "elf: p_type 0x60000001 x"},
		{FormatError{Offset: -1, Field: "n", Value: -5, Msg: "x"}, "elf: n -0x5 x"},
		{FormatError{Offset: -1, Field: "s", Value: []byte("a\x00"), Msg: "x"}, `elf: s "a\x00" x`},
		{FormatError{Offset: -1, Field: "f", Value: 1.5, Msg: "x"}, "elf: f 1.5 x"},
		{FormatError{Offset: -1, Field: "k", Value: KindDyn, Msg: "x"}, "elf: k ET_DYN (0x1) x"},
		{FormatError{Offset: -1, Field: "e", Value: errorStringer{}, Msg: "x"}, "elf: e weird x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
}

type errorStringer struct{}

func (errorStringer) String() string { return "weird" }

// checkInvariants asserts what every returned plan promises (see Plan's doc comment).
func checkInvariants(t testing.TB, p *Plan, size int64) {
	t.Helper()
	if msg := invariantViolation(p, size); msg != "" {
		t.Fatalf("plan breaks its invariants: %s\nplan: %+v", msg, p)
	}
}
