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
				fmt.Fprintf(f, "block at %#x: %d instructions, %d bytes, code at %#x\n", c.bva, len(b.insts), len(code), addr)
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
		if ne++; ne%200000 != 0 {
			return
		}
		type kv struct {
			k uint64
			v int
		}
		var l []kv
		for k, v := range ends {
			l = append(l, kv{k, v})
		}
		sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
		for i := 0; i < len(l) && i < 10; i++ {
			why := "no block"
			if u := &c.uitlb[l[i].k>>12&(uitlbSize-1)]; u.tag == l[i].k>>12 {
				pa := u.base | l[i].k&0xfff
				if b := c.code.table[tableIndex(pa)]; b != nil && b.pa == pa {
					why = fmt.Sprintf("block jit=%d heat=%d len=%d pa2=%d flags=%v", min(b.jit, 2), b.heat, len(b.insts), b.pa2, b.jitFlags)
				}
			}
			fmt.Fprintf(os.Stderr, "end %d at %#x: %s\n", l[i].v, l[i].k, why)
		}
		fmt.Fprintln(os.Stderr, "--")
	}
	counts := map[string]int{}
	n := 0
	jitSideHook = func(c *CPU, b *block, k int) {
		in := &b.insts[k]
		counts[fmt.Sprintf("op %d size %d form %#x sub %d at %#x", in.op, in.size, in.form, in.sub, c.bva+uint64(in.off))]++
		if n++; n%200000 != 0 {
			return
		}
		type kv struct {
			k string
			v int
		}
		var l []kv
		for k, v := range counts {
			l = append(l, kv{k, v})
		}
		sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v })
		for i := 0; i < len(l) && i < 15; i++ {
			fmt.Fprintln(os.Stderr, l[i].v, l[i].k)
		}
		fmt.Fprintln(os.Stderr, "--")
	}
}
