//go:build jitdebug

package cpu

import (
	"fmt"
	"os"
	"sort"

	"golang.org/x/arch/x86/x86asm"
)

// A build with -tags jitdebug prints, to standard error every 200,000 side exits, the
// instructions generated code most often returned to the interpreter at: what to
// translate next. With VMEMU_JITDUMP=FILE it also writes the code made for each block to
// FILE, disassembled.
func init() {
	if name := os.Getenv("VMEMU_JITDUMP"); name != "" {
		f, err := os.Create(name)
		if err == nil {
			jitCodeHook = func(c *CPU, b *block, code []byte, addr uintptr) {
				if b == nil {
					fmt.Fprintf(f, "shared code: %d bytes at %#x\n", len(code), addr)
				} else {
					fmt.Fprintf(f, "block at %#x: %d instructions, %d bytes, code at %#x\n", c.bva, len(b.insts), len(code), addr)
				}
				for off := 0; off < len(code); {
					in, err := x86asm.Decode(code[off:], 64)
					if err != nil {
						fmt.Fprintf(f, "  %4d: (%v)\n", off, err)
						break
					}
					fmt.Fprintf(f, "  %4d %#x: %s\n", off, addr+uintptr(off), x86asm.IntelSyntax(in, 0, nil))
					off += in.Len
				}
			}
		}
	}
	ends := map[uint64]int{}
	ne := 0
	jitEndHook = func(c *CPU) {
		ends[c.rip]++
		if ne++; ne%200000 == 0 {
			printTop(ends, 10, func(rip uint64, v int) string {
				return fmt.Sprintf("end %d at %#x: %s", v, rip, c.jitWhyNot(rip))
			})
		}
	}
	counts := map[string]int{}
	n := 0
	jitSideHook = func(c *CPU, b *block, k int) {
		in := &b.insts[k]
		counts[fmt.Sprintf("op %d size %d form %#x sub %d at %#x", in.op, in.size, in.form, in.sub, c.bva+uint64(in.off))]++
		if n++; n%200000 == 0 {
			printTop(counts, 15, func(key string, v int) string { return fmt.Sprint(v, " ", key) })
		}
	}
}

// printTop prints the n keys counted most, one line each, then "--".
func printTop[K comparable](counts map[K]int, n int, line func(K, int) string) {
	keys := make([]K, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	for _, k := range keys[:min(n, len(keys))] {
		fmt.Fprintln(os.Stderr, line(k, counts[k]))
	}
	fmt.Fprintln(os.Stderr, "--")
}

// jitWhyNot says what the block table holds for rip: why the chain did not go on there.
func (c *CPU) jitWhyNot(rip uint64) string {
	if u := &c.uitlb[rip>>12&(uitlbSize-1)]; u.tag == rip>>12 {
		pa := u.base | rip&0xfff
		if b := c.code.table[tableIndex(pa)]; b != nil && b.pa == pa {
			return fmt.Sprintf("block jit=%d heat=%d len=%d pa2=%d flags=%v", min(b.jit, 2), b.heat, len(b.insts), b.pa2, b.jitFlags)
		}
	}
	return "no block"
}
