package minikernel

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// Tests that look inside the kernel: VMAs, placement, page tables and reference counts
// after fork, TLB invalidation, the fault handler's decisions, scheduling.

// idle returns a kernel with one process that has executed nothing yet (hello, loaded).
func idle(t *testing.T, ram uint64) (*Kernel, *Process) {
	t.Helper()
	return idleWith(t, Config{RAM: ram})
}

// idleWith is idle with a whole configuration.
func idleWith(t *testing.T, cfg Config) (*Kernel, *Process) {
	t.Helper()
	k, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	p, err := k.Spawn(progs+"hello", []string{"hello"}, nil)
	require.NoError(t, err)
	return k, p
}

// mmapAnon maps length bytes of anonymous memory in p as mmap(2) would.
func mmapAnon(t *testing.T, k *Kernel, p *Process, addr, length uint64, prot Prot, flags uint64) uint64 {
	t.Helper()
	a := [6]uint64{addr, length, uint64(prot), flags | mapAnonymous, ^uint64(0), 0}
	r := sysMmap(k, p, &a)
	require.GreaterOrEqual(t, r, int64(0), "mmap: errno %d", -r)
	return uint64(r)
}

func TestMmapBaseIsLinuxsWithoutRandomization(t *testing.T) {
	for _, tc := range []struct {
		rlimit, base uint64
	}{
		{8 << 20, 0x7ffff7fff000},      // 8 MiB + guard gap < 128 MiB: the minimum gap
		{1 << 30, 0x7fffbfeff000},      // 1 GiB + 1 MiB guard gap
		{rlimInfinity, 0x155555556000}, // clamped to 5/6 of the address space, page-aligned up
	} {
		assert.Equal(t, tc.base, mmapBaseFor(tc.rlimit), "rlimit %#x", tc.rlimit)
	}
}

// Placement reproduces what Linux 6.18 did on the host for the same sequence of mmap calls
// (setarch -R; the host's vDSO and vvar pages, 8 pages right below mmap_base, are placed
// here by hand because this kernel has no vDSO). Anonymous private mappings whose length is
// a multiple of 2 MiB are 2 MiB-aligned (THP); shared ones are not.
func TestPlacementMatchesLinux(t *testing.T) {
	k, p := idle(t, 64<<20)
	mm := p.mm
	mm.insert(&VMA{Start: 0x7ffff7ff7000, End: 0x7ffff7fff000, Prot: ProtRead, Name: "[vvar+vdso]"})
	const rw, priv, shared, noreserve, stack = ProtRead | ProtWrite, mapPrivate, mapShared, mapNoreserve, mapStack
	for i, tc := range []struct {
		length uint64
		prot   Prot
		flags  uint64
		want   uint64
	}{
		{4096, rw, priv, 0x7ffff7ff6000},
		{2 << 20, rw, priv | stack, 0x7ffff7c00000},
		{4096, rw, priv, 0x7ffff7ff5000},
		{2 << 20, rw, priv, 0x7ffff7a00000},
		{4096, rw, priv, 0x7ffff7ff4000},
		{2 << 20, rw, priv | noreserve, 0x7ffff7800000},
		{4 << 20, ProtRead, priv, 0x7ffff7400000},
		{3 << 20, rw, priv, 0x7ffff7100000},
		{2 << 20, rw, shared, 0x7ffff6f00000},
	} {
		got := mmapAnon(t, k, p, 0, tc.length, tc.prot, tc.flags)
		assert.Equal(t, tc.want, got, "mapping %d (%#x bytes)", i, tc.length)
	}
}

// A hint is taken when the range is free, and ignored (top-down placement) when it is not;
// MAP_FIXED replaces what was there; MAP_FIXED_NOREPLACE refuses; the stack's guard gap is
// never used.
func TestPlacementRules(t *testing.T) {
	k, p := idle(t, 64<<20)
	mm := p.mm
	a := mmapAnon(t, k, p, 0x200000000, 8192, ProtRead, mapPrivate)
	assert.Equal(t, uint64(0x200000000), a, "a free hint is honoured")
	b := mmapAnon(t, k, p, 0x200001000, 4096, ProtRead, mapPrivate)
	assert.NotEqual(t, uint64(0x200001000), b, "a taken hint is not")
	c := mmapAnon(t, k, p, 0x200001000, 4096, ProtRead|ProtWrite, mapPrivate|mapFixed)
	assert.Equal(t, uint64(0x200001000), c)
	require.Len(t, vmasIn(mm, 0x200000000, 0x200002000), 2, "MAP_FIXED split the old area")
	args := [6]uint64{0x200000000, 4096, 1, mapPrivate | mapAnonymous | mapFixedNoreplace, ^uint64(0), 0}
	assert.Equal(t, -int64(EEXIST), sysMmap(k, p, &args))
	args = [6]uint64{0, 4096, 1, mapPrivate | mapAnonymous | mapFixed, ^uint64(0), 0}
	assert.Equal(t, -int64(EPERM), sysMmap(k, p, &args), "below vm.mmap_min_addr (the guest has no CAP_SYS_RAWIO)")

	// Fill the space below mmap_base down to just above the stack's guard gap... from the
	// other side: a hint right under the stack VMA must keep the guard gap free.
	st := mm.vmas[len(mm.vmas)-1]
	require.Equal(t, "[stack]", st.Name)
	d := mmapAnon(t, k, p, st.Start-4096, 4096, ProtRead, mapPrivate)
	assert.NotEqual(t, st.Start-4096, d, "the stack guard gap is not available to a hint")
	assert.True(t, d+4096 <= st.Start-stackGuardGap || d >= st.End)
}

func vmasIn(mm *MM, start, end uint64) []*VMA {
	var out []*VMA
	for _, v := range mm.vmas {
		if v.End > start && v.Start < end {
			out = append(out, v)
		}
	}
	return out
}

// munmap and mprotect in the middle of an area split it; compatible neighbours merge again.
func TestVMASplitAndMerge(t *testing.T) {
	k, p := idle(t, 64<<20)
	mm := p.mm
	base := mmapAnon(t, k, p, 0x300000000, 16*4096, ProtRead|ProtWrite, mapPrivate)
	n0 := len(mm.vmas)
	type row struct {
		name   string
		do     func()
		pieces []string
	}
	pg := func(i uint64) uint64 { return base + i*4096 }
	for _, tc := range []row{
		{"mprotect the middle: three areas", func() { require.Zero(t, k.mprotect(mm, pg(4), pg(8), ProtRead)) },
			[]string{"rw-", "r--", "rw-"}},
		{"mprotect it back: one area again", func() { require.Zero(t, k.mprotect(mm, pg(4), pg(8), ProtRead|ProtWrite)) },
			[]string{"rw-"}},
		{"munmap the middle: two areas", func() { k.unmapRange(mm, pg(6), pg(10)) },
			[]string{"rw-", "rw-"}},
		{"map the hole again: one area", func() { mmapAnon(t, k, p, pg(6), 4*4096, ProtRead|ProtWrite, mapPrivate|mapFixed) },
			[]string{"rw-"}},
		{"mprotect the first page: two areas", func() { require.Zero(t, k.mprotect(mm, pg(0), pg(1), ProtNone)) },
			[]string{"---", "rw-"}},
	} {
		tc.do()
		got := vmasIn(mm, base, base+16*4096)
		var prots []string
		for _, v := range got {
			prots = append(prots, v.Prot.String())
		}
		assert.Equal(t, tc.pieces, prots, tc.name)
		assert.Equal(t, got[0].Start, base, tc.name)
		assert.Equal(t, got[len(got)-1].End, base+16*4096, tc.name)
	}
	assert.Equal(t, n0+1, len(mm.vmas))
}

// ProtNone is PROT_NONE.
const ProtNone Prot = 0

// The fault handler's decisions, one row per rule: where the fault is and what kind of
// access, and what the handler decides.
func TestFaultClassification(t *testing.T) {
	k, p := idle(t, 64<<20)
	mm := p.mm
	dir := t.TempDir()
	path := filepath.Join(dir, "two-pages")
	require.NoError(t, os.WriteFile(path, make([]byte, 6000), 0o644))
	f, e := k.openHost(path, oRdonly, 0)
	require.Zero(t, e)
	fd, _ := p.fds.install(f, false, 3)

	anon := mmapAnon(t, k, p, 0x400000000, 4*4096, ProtRead|ProtWrite, mapPrivate)
	none := mmapAnon(t, k, p, 0x410000000, 4096, ProtNone, mapPrivate)
	ro := mmapAnon(t, k, p, 0x420000000, 4096, ProtRead, mapPrivate)
	args := [6]uint64{0x430000000, 3 * 4096, uint64(ProtRead | ProtWrite), mapPrivate, uint64(fd), 0}
	file := uint64(sysMmap(k, p, &args))
	require.Equal(t, uint64(0x430000000), file)
	st := mm.vmas[len(mm.vmas)-1]
	require.Equal(t, "[stack]", st.Name)
	// Page 1 of the file is cached once someone reads it.
	_, _, err := k.cachePage(f, 1)
	require.NoError(t, err)

	R, W, X := mmu.User, mmu.User|mmu.Write, mmu.User|mmu.Fetch
	for _, tc := range []struct {
		rule   string
		addr   uint64
		acc    mmu.Access
		out    FaultOutcome
		siCode int
	}{
		{"no VMA: SIGSEGV, SEGV_MAPERR", 0x500000000, R, FaultSIGSEGV, SEGV_MAPERR},
		{"NULL: SIGSEGV, SEGV_MAPERR", 0, R, FaultSIGSEGV, SEGV_MAPERR},
		{"PROT_NONE read: SEGV_ACCERR", none, R, FaultSIGSEGV, SEGV_ACCERR},
		{"write to read-only: SEGV_ACCERR", ro, W, FaultSIGSEGV, SEGV_ACCERR},
		{"fetch from non-executable: SEGV_ACCERR", anon, X, FaultSIGSEGV, SEGV_ACCERR},
		{"anonymous read: demand-zero", anon + 8, R, FaultDemandZero, 0},
		{"anonymous write: demand-zero", anon + 4096, W, FaultDemandZero, 0},
		{"just below the stack: stack growth", st.Start - 8, W, FaultStackGrowth, 0},
		{"below the stack beyond RLIMIT_STACK: SEGV_MAPERR", st.End - stackLimit - 4096, W, FaultSIGSEGV, SEGV_MAPERR},
		{"private file page not cached, read: file-read", file, R, FaultFileRead, 0},
		{"private file page cached, read: file-cached", file + 4096, R, FaultFileCached, 0},
		{"private file page, write: a private copy", file + 4096, W, FaultCOWCopy, 0},
		{"file page past the end of the file: SIGBUS", file + 2*4096, R, FaultSIGBUS, BUS_ADRERR},
	} {
		c := k.classifyFault(p, tc.addr, tc.acc)
		assert.Equal(t, tc.out, c.out, tc.rule)
		assert.Equal(t, tc.siCode, c.siCode, tc.rule)
	}
}

// After fork both processes' PTEs for a written page are read-only, carry the software COW
// bit and point at one frame with reference count 2; the parent's TLB no longer holds a
// writable translation. The first write (the parent's) copies; the child's write then
// reuses the old frame, whose count has dropped to 1.
func TestForkSharesFramesCopyOnWrite(t *testing.T) {
	f, err := elf.Open(progs + "vm_cow")
	require.NoError(t, err)
	syms, err := f.Symbols()
	f.Close()
	require.NoError(t, err)
	var buf uint64
	for _, s := range syms {
		if s.Name == "buf" {
			buf = s.Value
		}
	}
	require.NotZero(t, buf)

	k, err := New(Config{RAM: 64 << 20})
	require.NoError(t, err)
	defer k.Close()
	var parent, child *Process
	var shared uint64
	steps := 0
	k.Subscribe(func(e *Event) {
		switch {
		case e.Kind == EvFork:
			parent, child = k.Process(e.PID), k.Process(e.Child)
			pp, _ := k.lookupPTE(parent.mm, buf)
			cp, _ := k.lookupPTE(child.mm, buf)
			shared = pp.Frame()
			for _, pte := range []mmu.PTE{pp, cp} {
				assert.NotZero(t, pte&mmu.PTEPresent)
				assert.Zero(t, pte&mmu.PTEWrite, "read-only after fork: %v", pte)
				assert.Equal(t, softCOW, pte.Soft()&softCOW, "software COW bit: %v", pte)
			}
			assert.Equal(t, pp.Frame(), cp.Frame(), "one frame")
			assert.Equal(t, uint32(2), k.frames.Ref(shared))
			if te := k.mmu.DTLB.Probe(buf, parent.mm.pcid); te != nil {
				assert.Zero(t, te.Perm&tlb.PermWrite, "the parent's TLB was flushed")
			}
			steps++
		case e.Kind == EvPageFault && e.Addr>>12 == buf>>12 && e.Outcome == FaultCOWCopy:
			require.NotNil(t, parent)
			assert.Equal(t, parent.PID, e.PID, "the parent writes first")
			pp, _ := k.lookupPTE(parent.mm, buf)
			assert.NotZero(t, pp&mmu.PTEWrite)
			assert.NotEqual(t, shared, pp.Frame(), "the writer got a copy")
			assert.Equal(t, uint32(1), k.frames.Ref(shared), "the child alone holds the old frame")
			steps++
		case e.Kind == EvPageFault && e.Addr>>12 == buf>>12 && e.Outcome == FaultCOWReuse:
			assert.Equal(t, child.PID, e.PID)
			cp, _ := k.lookupPTE(child.mm, buf)
			assert.Equal(t, shared, cp.Frame(), "the child reuses the old frame")
			assert.NotZero(t, cp&mmu.PTEWrite)
			assert.Zero(t, cp.Soft()&softCOW)
			steps++
		}
	})
	_, err = k.Spawn(progs+"vm_cow", []string{"vm_cow", "4", "both"}, nil)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err)
	assert.Equal(t, 0, code)
	assert.Equal(t, 3, steps, "fork, copy, reuse")
	assert.Equal(t, uint64(1), k.frames.Stats().InUse)
}

// Every frame and page-table page comes back after programs that fork, exec and map files.
func TestEveryFrameReturns(t *testing.T) {
	for _, tc := range [][]string{
		{"vm_cow", "64"}, {"vm_procs"}, {"vm_shared"}, {"vm_mmap"}, {"vm_exec", progs + "vm_exec", "2"},
	} {
		t.Run(tc[0], func(t *testing.T) {
			r := runProg(t, tc[0], tc[1:]...)
			require.NoError(t, r.err)
			st := r.k.Frames().Stats()
			assert.Equal(t, uint64(1), st.InUse)
			assert.Equal(t, uint64(1), st.Tables)
			assert.Zero(t, r.k.cache.Pages())
			assert.Len(t, r.k.procs, 1, "every process reaped but init")
			assert.NotNil(t, r.k.procs[1], "init stays")
		})
	}
}

// A write after mprotect added PROT_WRITE hits the TLB's stale read-only entry: the fault is
// spurious and the retried write succeeds.
func TestPermissionUpgradeFaultsSpuriously(t *testing.T) {
	r := runProg(t, "vm_spurious")
	require.NoError(t, r.err)
	assert.Contains(t, r.out.String(), "value: 2\n")
	assert.Equal(t, 1, r.faults(FaultSpurious))
}

// Processes blocked with nothing to wake them are a deadlock, reported rather than hung.
func TestDeadlockIsReported(t *testing.T) {
	k, p := idle(t, 64<<20)
	w := &waitCall{pid: -1}
	p.sig.childWait.add(p.leader)
	k.block(p, &sleepCall{retry: func() int64 { return k.doWait(p, w) }, sysno: 61, name: "wait4"})
	_, err := k.Run()
	assert.True(t, errors.Is(err, ErrDeadlock), "%v", err)
}

// clone refuses the flag combinations Linux's copy_process() rejects (EINVAL) and new
// namespaces (EPERM), before anything is created.
func TestCloneFlagChecks(t *testing.T) {
	k, p := idle(t, 64<<20)
	for _, tc := range []struct {
		flags uint64
		want  Errno
	}{
		{cloneSighand, EINVAL},                                      // CLONE_SIGHAND needs CLONE_VM
		{cloneThread, EINVAL},                                       // CLONE_THREAD needs CLONE_SIGHAND
		{cloneVM | cloneThread, EINVAL},                             // ... even with CLONE_VM
		{cloneFS | cloneNewNS, EINVAL},                              // a new mount namespace cannot share fs
		{clonePidfd | cloneParentSettid, EINVAL},                    // both use parent_tid
		{cloneVM | cloneSighand | cloneThread | clonePidfd, EINVAL}, // no pidfd for a thread
		{0x10000000 | SIGCHLD, EPERM},                               // CLONE_NEWUSER
	} {
		a := [6]uint64{tc.flags}
		assert.Equal(t, -int64(tc.want), sysClone(k, p, &a), "flags %#x", tc.flags)
	}
	assert.Len(t, k.tasks, 1, "nothing was created")
}

// Where file pages are copies (CopyFilePages, or a host that cannot map file pages into
// RAM), shared mappings are written back by Sync and when the kernel shuts down (Close),
// even when the program never called msync or munmap. Sync clears the dirty flags it wrote
// back and invalidates them in the TLB, so a later store sets them again.
func TestCloseWritesSharedMappingsBack(t *testing.T) {
	k, p := idleWith(t, Config{RAM: 64 << 20, CopyFilePages: true})
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("xxxxxxxx"), 0o644))
	f, e := k.openHost(path, oRdwr, 0)
	require.Zero(t, e)
	fd, _ := p.fds.install(f, false, 3)
	a := [6]uint64{0, 4096, uint64(ProtRead | ProtWrite), mapShared, uint64(fd), 0}
	addr := sysMmap(k, p, &a)
	require.Greater(t, addr, int64(0))
	n, ok := k.copyOut(p, uint64(addr)+2, []byte("AB"))
	require.True(t, ok)
	require.Equal(t, 2, n)
	b, _ := os.ReadFile(path)
	assert.Equal(t, "xxxxxxxx", string(b), "not yet written back")
	k.Sync()
	b, _ = os.ReadFile(path)
	assert.Equal(t, "xxABxxxx", string(b), "after Sync")
	_, ok = k.copyOut(p, uint64(addr)+6, []byte("C"))
	require.True(t, ok)
	require.NoError(t, k.Close())
	b, _ = os.ReadFile(path)
	assert.Equal(t, "xxABxxCx", string(b), "after Close")
}

// RLIMIT_NPROC bounds the tasks of a user, threads included (Linux's is_rlimit_overlimit
// in copy_process): past it clone and fork fail with EAGAIN; root, or CAP_SYS_RESOURCE,
// is exempt.
func TestRlimitNprocCountsThreads(t *testing.T) {
	k, p := idle(t, 64<<20)
	p.cred.ruid, p.cred.euid, p.cred.capEff = 1000, 1000, 0
	p.rlimits[rlimitNproc] = rlimit{1, 1}
	thread := [6]uint64{cloneVM | cloneFS | cloneFiles | cloneSighand | cloneThread | cloneSysvsem}
	assert.Equal(t, -int64(EAGAIN), sysClone(k, p, &thread), "a second task of user 1000")
	fork := [6]uint64{SIGCHLD}
	assert.Equal(t, -int64(EAGAIN), sysClone(k, p, &fork))
	p.rlimits[rlimitNproc] = rlimit{2, 2}
	assert.Greater(t, sysClone(k, p, &thread), int64(0), "room for one more")
	assert.Equal(t, -int64(EAGAIN), sysClone(k, p, &fork), "the thread counts")
	p.cred.capEff = 1 << capSysRes
	assert.Greater(t, sysClone(k, p, &fork), int64(0), "CAP_SYS_RESOURCE is exempt")
}
