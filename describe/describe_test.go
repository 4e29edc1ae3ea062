package describe

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The words for bits, one row per rule.
func TestLetters(t *testing.T) {
	for _, tc := range []struct {
		pte  mmu.PTE
		want string
	}{
		{0, "-------"},
		{mmu.PTEPresent | mmu.PTENoExec, "r------"},
		{mmu.PTEPresent | mmu.PTEWrite | mmu.PTEUser | mmu.PTEAccessed | mmu.PTEDirty | mmu.PTENoExec, "rw-u-ad"},
		{mmu.PTEPresent | mmu.PTEUser | mmu.PTEGlobal, "r-xug--"},
		{mmu.PTEWrite | mmu.PTEUser, "-------"}, // not present: nothing else counts
	} {
		assert.Equal(t, tc.want, PTELetters(tc.pte), "%v", tc.pte)
	}
	assert.Equal(t, "r-xu-a-", TLBLetters(tlb.PermUser))
	assert.Equal(t, "rw-uga-", TLBLetters(tlb.PermWrite|tlb.PermUser|tlb.PermGlobal|tlb.PermNoExec))
}

// A #PF error code spelled bit by bit (SDM Vol. 3A 4.7).
func TestErrorCodeBits(t *testing.T) {
	assert.Equal(t, "P=0 page not present, W=0 read, U=0 supervisor mode", ErrorCodeBits(0))
	assert.Equal(t, "P=1 protection violation, W=1 write, U=1 user mode", ErrorCodeBits(mmu.ErrPresent|mmu.ErrWrite|mmu.ErrUser))
	assert.Equal(t, "P=0 page not present, W=0 read, U=1 user mode, I=1 instruction fetch", ErrorCodeBits(mmu.ErrUser|mmu.ErrFetch))
	assert.Equal(t, "user write", FaultAccess(mmu.ErrWrite|mmu.ErrUser|mmu.ErrPresent))
}

// Exit statuses and errnos as a shell and strace say them.
func TestExitAndErrno(t *testing.T) {
	assert.Equal(t, "exit code 3", ExitText(3<<8))
	assert.Equal(t, "killed by SIGSEGV", ExitText(11))
	assert.Equal(t, "EFAULT", ErrnoName(-14))
	assert.Equal(t, "", ErrnoName(5))
	assert.Equal(t, "errno4000", ErrnoName(-4000))
	e := minikernel.Event{Name: "write", Args: [6]uint64{1, 0x402000, 13}, Ret: -14}
	assert.Equal(t, "write(0x1, 0x402000, 0xd) = -14 EFAULT", SyscallText(&e))
}

// Trace kinds: groups, aliases, all, off, and a clear error naming the choices.
func TestParseKinds(t *testing.T) {
	s, err := ParseKinds("faults, syscall")
	require.NoError(t, err)
	assert.True(t, s.Has(minikernel.EvPageFault))
	assert.True(t, s.Has(minikernel.EvSyscall))
	assert.False(t, s.Has(minikernel.EvTLB))
	s, err = ParseKinds("all")
	require.NoError(t, err)
	for _, g := range TraceGroups {
		assert.Equal(t, g, s&g)
	}
	s, err = ParseKinds("off")
	require.NoError(t, err)
	assert.Zero(t, s)
	_, err = ParseKinds("faults,nonsense")
	assert.ErrorContains(t, err, `unknown trace kind "nonsense"`)
	assert.ErrorContains(t, err, TraceGroupNames())
}

// A VMA named as /proc/PID/maps names it.
func TestVMAWords(t *testing.T) {
	v := &minikernel.VMA{Start: 0x405000, End: 0x426000, Prot: minikernel.ProtRead | minikernel.ProtWrite, Name: "[heap]"}
	assert.Equal(t, "[heap] 0x405000-0x426000 rw-p", VMADesc(v))
	assert.Equal(t, "[anon]", VMAName(&minikernel.VMA{}))
	assert.Equal(t, "none", VMADesc(nil))
}
