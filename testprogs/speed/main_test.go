package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The speed command builds emu and the benchmark programs and prints a row per program,
// with emu's output the same as the native one (a tiny workload: this checks the command,
// not the speed).
func TestSpeedCommandPrintsTheTable(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run(1, 0.01, "loop,sieve,hello", "", t.TempDir(), &out))
	s := out.String()
	for _, row := range []string{"program", "loop", "sieve", "hello"} {
		assert.Contains(t, s, row)
	}
	assert.NotContains(t, s, "FAILED")
	assert.NotContains(t, s, "DIFFERS")
	assert.NotContains(t, s, "qsort", "-only leaves the other rows out")
}

func TestSpeedCommandRefusesNoRuns(t *testing.T) {
	assert.Error(t, run(0, 1, "", "", t.TempDir(), &strings.Builder{}))
}
