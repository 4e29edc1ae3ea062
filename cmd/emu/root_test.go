package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// emu run --root DIR confines the guest to DIR: PROG is found inside it, a directory that
// does not exist is a flag error, and a program missing inside the root says where it was
// looked for.
func TestRunRoot(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, "bin"), 0o755))
	hello, err := os.ReadFile(progs + "hello")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "hello"), hello, 0o755))

	out, stderr, code := emulated("run", "--root", root, "/bin/hello")
	assert.Equal(t, "hello, world\n", out, stderr)
	assert.Equal(t, 0, code)

	out, _, code = emulated("run", "--root", root, "bin/hello")
	assert.Equal(t, "hello, world\n", out, "a relative PROG starts at the root")
	assert.Equal(t, 0, code)

	_, stderr, code = emulated("run", "--root", root, progs+"hello")
	assert.Equal(t, 127, code, "the host path of a program outside the root does not exist inside it")
	assert.Contains(t, stderr, "is looked up inside "+root)

	_, stderr, code = emulated("run", "--root", filepath.Join(root, "nope"), "/bin/hello")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "--root")
}
