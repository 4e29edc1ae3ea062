//go:build jitdebug

package cpu

import (
	"fmt"
	"os"
	"sort"
)

// A build with -tags jitdebug prints, to standard error every 200,000 side exits, the
// instructions generated code most often returned to the interpreter at: what to
// translate next.
func init() {
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
