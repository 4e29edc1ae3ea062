package testprogs

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/vmemu/vmemu/minikernel"

	"github.com/vmemu/vmemu/internal/cputime"
)

// The benchmark programs run natively and emulated with the same output.
func TestBenchProgramsMatchNative(t *testing.T) {
	sameAsNative(t, "bench_int", "", "2")
	sameAsNative(t, "bench_mem", "", "1")
	sameAsNative(t, "musl_bench_loop", "", "1")
	sameAsNative(t, "musl_bench_sieve", "", "2")
	sameAsNative(t, "musl_bench_qsort", "", "50")
	sameAsNative(t, "musl_bench_nbody", "", "5")
	sameAsNative(t, "musl_bench_hello", "")
}

// cpuTime returns the process's CPU time: guest instructions per CPU second (the
// "cpu-MIPS" metric) vary much less than per wall second on a shared machine.
func cpuTime() time.Duration { return cputime.Process() }

// BenchmarkPrograms runs the benchmark programs through the mini-kernel and reports guest
// instructions per second of wall time (MIPS) and of process CPU time (cpu-MIPS, steadier
// on a shared machine); for musl_bench_hello, ns/op is the cost of a run from boot to exit.
// `go test -run XXX -bench . ./testprogs/` times them.
func BenchmarkPrograms(b *testing.B) {
	for _, p := range []struct {
		prog string
		args []string
		want string // in the output of a good run
	}{
		{"bench_int", []string{"20"}, "checksum"},
		{"bench_mem", []string{"1"}, "checksum"},
		// The programs of go run ./testprogs/speed (issue 13), smaller.
		{"musl_bench_loop", []string{"10"}, "checksum"},
		{"musl_bench_sieve", []string{"8"}, "primes"},
		{"musl_bench_qsort", []string{"200"}, "checksum"},
		{"musl_bench_nbody", []string{"50"}, "-0.169"},
		{"musl_bench_hello", nil, "hello"},
	} {
		b.Run(p.prog, func(b *testing.B) {
			var insns uint64
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				var out strings.Builder
				k, err := minikernel.New(minikernel.Config{RAM: 256 << 20, Stdin: strings.NewReader(""),
					Stdout: &out, Stderr: io.Discard, Log: io.Discard})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := k.Spawn("bin/"+p.prog, append([]string{p.prog}, p.args...), env); err != nil {
					b.Fatal(err)
				}
				if code, err := k.Run(); err != nil || code != 0 {
					b.Fatalf("%s: exit %d, %v", p.prog, code, err)
				}
				if !strings.Contains(out.String(), p.want) {
					b.Fatalf("%s printed %q", p.prog, out.String())
				}
				insns += k.CPU().Instructions()
				k.Close()
			}
			b.ReportMetric(float64(insns)/b.Elapsed().Seconds()/1e6, "MIPS")
			b.ReportMetric(float64(insns)/(cpuTime()-cpu0).Seconds()/1e6, "cpu-MIPS")
			b.ReportMetric(float64(insns)/float64(b.N), "insns/op")
		})
	}
}
