package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// --cpuprofile writes a pprof profile (gzip-compressed protobuf) of emu itself.
func TestCPUProfileIsWritten(t *testing.T) {
	f := filepath.Join(t.TempDir(), "cpu.pprof")
	_, stderr, code := emulated("run", "--cpuprofile", f, progs+"bss_sum")
	require.Contains(t, []int{0, 16}, code, stderr) // bss_sum's own exit status
	b, err := os.ReadFile(f)
	require.NoError(t, err)
	require.Greater(t, len(b), 2)
	assert.Equal(t, []byte{0x1f, 0x8b}, b[:2], "gzip magic: a pprof profile")

	_, stderr, code = emulated("run", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir"), progs+"bss_sum")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--cpuprofile")
}

// --stats and --stats-json report the shares of host time and the paging-structure caches:
// the shares add up to one, and bss_sum's page walks mostly begin below a cached PDE.
func TestStatsReportTimeSharesAndPagingStructureCaches(t *testing.T) {
	js := filepath.Join(t.TempDir(), "s.json")
	_, stderr, code := emulated("run", "--stats", "--stats-json", js, progs+"bss_sum")
	require.Contains(t, []int{0, 16}, code, stderr) // bss_sum's own exit status
	for _, want := range []string{"host time in the CPU", "host time in the MMU", "host time in the kernel",
		"paging-structure caches: walks begun below a cached PDE"} {
		assert.Contains(t, stderr, want)
	}
	b, err := os.ReadFile(js)
	require.NoError(t, err)
	var s struct {
		PSC *struct {
			PDEHits uint64 `json:"pde_hits"`
			Misses  uint64 `json:"misses"`
		} `json:"psc"`
		Shares map[string]float64 `json:"time_shares"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	require.NotNil(t, s.PSC)
	assert.Greater(t, s.PSC.PDEHits, uint64(0))
	sum := s.Shares["cpu"] + s.Shares["mmu"] + s.Shares["kernel"]
	assert.True(t, sum == 0 || sum > 0.99 && sum < 1.01, "shares %v", s.Shares)

	_, stderr, code = emulated("run", "--stats", "--tlb", "psc=off", progs+"bss_sum")
	require.Contains(t, []int{0, 16}, code, stderr) // bss_sum's own exit status
	assert.False(t, strings.Contains(stderr, "paging-structure caches:"), "no caches, no line")
}
