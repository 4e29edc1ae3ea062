package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// The speed command builds emu and the benchmark programs and prints a row per program,
// with emu's output the same as the native one (a tiny workload: this checks the command,
// not the speed).
func TestSpeedCommandPrintsTheTable(t *testing.T) {
	var out strings.Builder
	// The emu it builds is for this test's architecture: run it the way the test runs.
	require.NoError(t, run(1, 0.01, "loop,sieve,hello", "", testcheck.Runner(), t.TempDir(), &out))
	s := out.String()
	for _, row := range []string{"program", "loop", "sieve", "hello"} {
		assert.Contains(t, s, row)
	}
	assert.NotContains(t, s, "FAILED")
	assert.NotContains(t, s, "DIFFERS")
	assert.NotContains(t, s, "qsort", "-only leaves the other rows out")
}

func TestSpeedCommandRefusesNoRuns(t *testing.T) {
	assert.Error(t, run(0, 1, "", "", nil, t.TempDir(), &strings.Builder{}))
}
