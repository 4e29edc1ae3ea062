package minikernel

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu"
)

// withInterp writes a copy of the dynamic program dynmusl_libc whose PT_INTERP names
// interp instead of musl's dynamic linker, and returns its path.
func withInterp(t *testing.T, interp string) string {
	t.Helper()
	b, err := os.ReadFile(progs + "dynmusl_libc")
	require.NoError(t, err)
	old := []byte("/lib/ld-musl-x86_64.so.1\x00")
	require.LessOrEqual(t, len(interp)+1, len(old))
	i := bytes.Index(b, old)
	require.GreaterOrEqual(t, i, 0)
	copy(b[i:i+len(old)], make([]byte, len(old)))
	copy(b[i:], interp)
	path := filepath.Join(t.TempDir(), "prog")
	require.NoError(t, os.WriteFile(path, b, 0o755))
	return path
}

// execve of a dynamic program checks its interpreter before the point of no return, as
// load_elf_binary() does: a missing one is ENOENT, one that is not executable EACCES, one
// that is not an ELF x86-64 program ELIBBAD; the error names the interpreter.
func TestExecInterpreterErrors(t *testing.T) {
	notELF, err := os.CreateTemp("/tmp", "ve")
	require.NoError(t, err)
	defer os.Remove(notELF.Name())
	notELF.WriteString("#!/bin/sh\necho not an ELF file\n")
	notELF.Close()
	require.NoError(t, os.Chmod(notELF.Name(), 0o755))
	noExec, err := os.CreateTemp("/tmp", "ve")
	require.NoError(t, err)
	defer os.Remove(noExec.Name())
	noExec.Close()

	for _, tc := range []struct {
		interp string
		want   Errno
	}{
		{"/nonexistent/ld.so", ENOENT},
		{noExec.Name(), EACCES},
		{notELF.Name(), ELIBBAD},
	} {
		k, err := New(Config{RAM: 64 << 20})
		require.NoError(t, err)
		_, err = k.Spawn(withInterp(t, tc.interp), []string{"prog"}, nil)
		var ee *ExecError
		require.True(t, errors.As(err, &ee), "%v", err)
		assert.Equal(t, tc.want, ee.Errno, "interpreter %s", tc.interp)
		assert.Contains(t, err.Error(), "interpreter "+tc.interp)
		k.Close()
	}
}

// The program runs with a correct interpreter, placed as Linux places it: the auxiliary
// vector gives AT_BASE (the interpreter's load address), AT_PHDR and AT_ENTRY (the
// program's, at ELF_ET_DYN_BASE) and the first instruction is the interpreter's entry.
func TestExecDynamicAuxv(t *testing.T) {
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(t, err)
	defer k.Close()
	p, err := k.Spawn(progs+"dynmusl_libc", []string{"dynmusl_libc"}, nil)
	require.NoError(t, err)
	// The stack: argc, argv[0], NULL, NULL (no environment), then the auxiliary vector.
	sp := k.cpu.Reg(cpu.RSP)
	aux := map[uint64]uint64{}
	for va := sp + 4*8; ; va += 16 {
		var b [16]byte
		require.Equal(t, 16, k.PeekUser(p, va, b[:]))
		tag, val := le.Uint64(b[:]), le.Uint64(b[8:])
		if tag == atNull {
			break
		}
		aux[tag] = val
	}
	var interp *VMA
	for _, v := range p.mm.vmas {
		if v.Name == "/lib/ld-musl-x86_64.so.1" && interp == nil {
			interp = v
		}
	}
	require.NotNil(t, interp)
	assert.Equal(t, interp.Start, aux[atBase], "AT_BASE: the interpreter's load address")
	assert.Equal(t, uint64(0x555555554000+64), aux[atPhdr], "AT_PHDR: the program's headers (e_phoff 64)")
	assert.Greater(t, aux[atEntry], uint64(0x555555554000), "AT_ENTRY: the program's entry")
	assert.Less(t, aux[atEntry], uint64(0x555555554000+0x10000))
	assert.GreaterOrEqual(t, k.cpu.RIP(), interp.Start, "the first instruction is the interpreter's")
	assert.Less(t, k.cpu.RIP(), p.mm.MmapBase())
}
