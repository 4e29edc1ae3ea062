package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Generated code changes nothing a user can see but the time: the same output, exit status,
// trace and statistics (instructions, faults, TLB counts) with --interpret as without, on
// one CPU and on two running threads.
func TestInterpretGivesTheSameRun(t *testing.T) {
	for _, tc := range [][]string{
		{progs + "musl_bench_qsort", "30"},
		{progs + "musl_bench_sieve", "2"},
		{"--cpus", "2", progs + "dynglibc_thr_sync"},
	} {
		var outs [2]string
		var stats [2]map[string]any
		for i, extra := range [][]string{nil, {"--interpret"}} {
			dir := t.TempDir()
			sj := filepath.Join(dir, "s.json")
			args := append(append([]string{"run", "--stats-json=" + sj, "--trace=faults,syscalls,process"}, extra...), tc...)
			var out bytes.Buffer
			code := Main(args, strings.NewReader(""), &out, &out)
			outs[i] = fmt.Sprintf("exit %d\n%s", code, out.String())
			b, err := os.ReadFile(sj)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &stats[i]))
			for _, k := range []string{"wall_seconds", "mips", "time_shares"} {
				delete(stats[i], k)
			}
		}
		assert.Equal(t, outs[1], outs[0], "%v: output and trace", tc)
		assert.Equal(t, stats[1], stats[0], "%v: statistics", tc)
	}
}
