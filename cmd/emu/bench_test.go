package main

import (
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkRun measures emu run on bss_sum (1.8 million instructions, 260 page faults)
// plainly, with statistics, and with tracing, and reports guest MIPS: what watching costs.
func BenchmarkRun(b *testing.B) {
	dir := b.TempDir()
	for _, bc := range []struct {
		name  string
		flags []string
	}{
		{"plain", nil},
		{"stats", []string{"--stats-json=" + filepath.Join(dir, "s.json")}},
		{"trace-faults", []string{"--trace=faults"}},
		{"trace-all-json", []string{"--trace=all", "--trace-format=json"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			args := append(append([]string{"run", "--ram=64M"}, bc.flags...), progs+"bss_sum")
			for i := 0; i < b.N; i++ {
				if code := Main(args, strings.NewReader(""), io.Discard, io.Discard); code != 16 {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(1816883*float64(b.N)/b.Elapsed().Seconds()/1e6, "MIPS")
		})
	}
}

// BenchmarkDebugSingleStep measures the debugger running bss_sum to its end one instruction
// at a time, as it does while a PTE watchpoint is set.
func BenchmarkDebugSingleStep(b *testing.B) {
	for i := 0; i < b.N; i++ {
		code := Main([]string{"debug", "--ram=64M", progs + "bss_sum"},
			strings.NewReader("watch pte 0x7f0000000000\ncontinue\n"), io.Discard, io.Discard)
		if code != 0 {
			b.Fatalf("exit %d", code)
		}
	}
	b.ReportMetric(1816883*float64(b.N)/b.Elapsed().Seconds()/1e6, "MIPS")
}
