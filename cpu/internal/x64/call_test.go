//go:build linux && amd64

package x64

import (
	"unsafe"

	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCall runs generated code: it reads through RBX, loops and returns a value in RAX.
func TestCall(t *testing.T) {
	ar, err := NewArena(1 << 16)
	require.NoError(t, err)
	defer ar.Free()
	var a Asm
	// rax = sum of the n quadwords at [rbx+8], n = [rbx]
	a.MovImm(RAX, 0)
	a.Load(8, RCX, M(RBX, 0))
	loop, done := NewLabel(), NewLabel()
	a.Bind(loop)
	a.TestRR(8, RCX, RCX)
	a.Jcc(CondE, done)
	a.AluRM(8, Add, RAX, MI(RBX, RCX, 3, 0))
	a.Dec(8, RCX)
	a.Jmp(loop)
	a.Bind(done)
	a.Ret()
	addr, err := ar.Put(a.B)
	require.NoError(t, err)
	data := []uint64{4, 10, 20, 30, 40}
	for i := 0; i < 3; i++ {
		assert.Equal(t, uint64(100), Call(addr, uintptr(unsafe.Pointer(&data[0]))))
	}
	_, err = ar.Put(make([]byte, 1<<16))
	assert.ErrorIs(t, err, ErrFull)
}
