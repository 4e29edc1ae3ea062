package cpu

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// ExtState.FXSave64 writes exactly the bytes the FXSAVE64 instruction stores for the same
// state, and leaves the reserved and software-available bytes 416-511 alone (SDM Vol. 2A,
// FXSAVE: "bytes 464:511 are available to software use. The processor does not write to
// bytes 464:511"); FXRstor64 of that image gives the state back.
func TestFXSave64MatchesInstruction(t *testing.T) {
	tm := newTestMachine(t)
	r := rand.New(rand.NewPCG(41, 42))
	for i := 0; i < 50; i++ {
		var img [FXSaveSize]byte
		for j := range img {
			img[j] = byte(r.Uint32())
		}
		binary.LittleEndian.PutUint32(img[24:], randMXCSR(r))
		var st ExtState
		require.True(t, st.FXRstor64(&img), "a valid MXCSR loads")

		var got [FXSaveSize]byte
		for j := range got {
			got[j] = 0xa5
		}
		st.FXSave64(&got)
		assert.Equal(t, bytes.Repeat([]byte{0xa5}, FXSaveSize-FXSaveUsed), got[FXSaveUsed:], "bytes 416-511 untouched")

		// The instruction: FXSAVE64 [DataAddr] with the same state loaded.
		code := append([]byte{0x48, 0x0f, 0xae}, absMem(0, hostcpu.DataAddr)...)
		code = append(code, 0xc3)
		mem := bytes.Repeat([]byte{0xa5}, FXSaveSize)
		tm.writeVirt(hostcpu.CodeAddr, code)
		tm.writeVirt(hostcpu.DataAddr, mem)
		var s State
		s.GPR[RSP] = hostcpu.EntryRSP
		s.RIP, s.RFLAGS, s.Ext = hostcpu.CodeAddr, InitialRFLAGS, st
		tm.cpu.Load(&s)
		tr := tm.cpu.Run(1)
		require.Equal(t, TrapBudget, tr.Kind, "FXSAVE64 ran: %v", tr)
		tm.readVirt(hostcpu.DataAddr, mem)
		assert.Equal(t, mem, got[:], "image %d: FXSave64 and FXSAVE64 agree", i)

		var back ExtState
		require.True(t, back.FXRstor64(&got))
		assert.Equal(t, st, back, "image %d: FXRstor64 undoes FXSave64", i)
	}
}

// FXRstor64 refuses, as FXRSTOR raises #GP(0), an image whose MXCSR sets a reserved bit,
// and loads nothing.
func TestFXRstor64ReservedMXCSR(t *testing.T) {
	st := InitialExtState()
	var img [FXSaveSize]byte
	binary.LittleEndian.PutUint32(img[24:], 0x10000|0x1f80)
	img[0] = 0x7f
	assert.False(t, st.FXRstor64(&img))
	assert.Equal(t, InitialExtState(), st)
}
