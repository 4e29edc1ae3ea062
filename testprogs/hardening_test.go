package testprogs

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/ram"
)

// Issue 11 (hardening): the guest's edge cases behave as on Linux. See also
// minikernel/hardening_test.go and cmd/emu/hardening_test.go.

// Item 17: read and write with counts and buffers at the edges of the user address space:
// access_ok() fails a range that wraps or leaves user space (EFAULT, nothing written), a
// valid one is copied up to the first unmapped page.
func TestReadWriteCountsAtTheEdges(t *testing.T) {
	sameInDirs(t, "musl_hard_rwcount", "")
}

// sameInDirsWith is sameInDirs with more arguments after the directory.
func sameInDirsWith(t *testing.T, prog, stdin string, args ...string) result {
	t.Helper()
	return sameInDirsCfg(t, prog, stdin, nil, args...)
}

// sameInDirsCfg is sameInDirsWith on a machine the configs adjust.
func sameInDirsCfg(t *testing.T, prog, stdin string, cfgs []emuConfig, args ...string) result {
	t.Helper()
	nd, ed := t.TempDir(), t.TempDir()
	want := runNative(t, prog, stdin, append([]string{nd}, args...)...)
	got := runEmu(t, prog, stdin, append([]string{ed}, args...), cfgs...)
	assert.Equal(t, want.Stdout, got.Stdout, "%s: standard output differs", prog)
	assert.Equal(t, want.Stderr, got.Stderr, "%s: standard error differs", prog)
	assert.Equal(t, want.Code, got.Code, "%s: exit code differs; emulator log: %s", prog, got.Log)
	assert.Equal(t, tree(t, nd), tree(t, ed), "%s: files left in the directory differ", prog)
	return got
}

// Item 7: a file a guest process executes cannot be opened for writing, opened with O_TRUNC
// (which leaves it whole) or truncated: ETXTBSY; a file open for writing cannot be executed.
func TestRunningExecutableIsTextBusy(t *testing.T) {
	r := sameInDirsWith(t, "musl_hard_etxtbsy", "", binPath(t, "musl_hard_etxtbsy"))
	assert.Contains(t, r.Stdout, "open(O_WRONLY)                     -1 Text file busy")
}

// Item 11: a near CALL, JMP or RET to a non-canonical address raises #GP on the branch,
// which has no effect (SIGSEGV with si_code SI_KERNEL, RIP at the branch, nothing pushed);
// a canonical unmapped target is a page fault at the target.
func TestBranchToNonCanonicalMatchesNative(t *testing.T) {
	r := sameAsNative(t, "musl_hard_noncanon", "")
	assert.Contains(t, r.Stdout, "call  0x0000800000000000: rip at the branch, rsp +0, si_code 128")
}

// Item 12: the hint NOPs 0F 18 - 0F 1F, register and memory forms, run as NOPs, as on the
// host; none touches memory.
func TestHintNOPsMatchNative(t *testing.T) {
	r := sameAsNative(t, "musl_hard_hintnop", "")
	assert.NotContains(t, r.Stdout, "U")
}

// assertSharedPagesReachTheFile checks how a run's shared file pages reached the file: as
// the host file's own pages (nothing to write back) where the host can map them into RAM,
// else as copies written back.
func assertSharedPagesReachTheFile(t *testing.T, r result) {
	t.Helper()
	if ram.FileFramesSupported() {
		assert.Greater(t, r.Stats.HostFilePages, uint64(0), "file pages backed by the host file")
		assert.Zero(t, r.Stats.Writebacks, "no page needs writing back")
		return
	}
	assert.Greater(t, r.Stats.Writebacks, uint64(0), "pages written back from shared mappings")
}

// Items 4 to 6, the fallback: with file pages kept as copies in guest RAM (what a host
// that cannot map file pages into RAM does), the file programs still match Linux, their
// shared pages written back.
func TestFileProgramsWithCopiedPagesMatchNative(t *testing.T) {
	copyPages := func(c *minikernel.Config) { c.CopyFilePages = true }
	for _, prog := range []string{"musl_fs_map", "vm_file"} {
		t.Run(prog, func(t *testing.T) {
			r := sameInDirsCfg(t, prog, "", []emuConfig{copyPages})
			assert.Greater(t, r.Stats.Writebacks, uint64(0), "pages written back from shared mappings")
			assert.Zero(t, r.Stats.HostFilePages)
		})
	}
}

// A FIFO between two guest processes (found by FuzzSyscalls: an open of a FIFO used to wait
// in the host, holding the whole machine): the writer's open waits for the reader, its write
// of more than the FIFO holds waits for room, the reader reads to the end; non-blocking
// opens and reads answer as Linux does.
func TestFIFOBetweenProcessesMatchesNative(t *testing.T) {
	r := sameInDirs(t, "musl_hard_fifo", "")
	assert.Contains(t, r.Stdout, "parent read 200000, then end of file")
}
