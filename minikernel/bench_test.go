package minikernel

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
)

// Benchmarks of the mm paths. Run with: go test -bench . -run XXX ./minikernel/

// BenchmarkForkCOW256MiB measures fork of a process with 256 MiB of touched anonymous
// memory: it copies the page tables and bumps reference counts, and copies no frame (the
// copies/op metric says so). The child's teardown is not timed.
func BenchmarkForkCOW256MiB(b *testing.B) {
	k, err := New(Config{RAM: 1 << 30})
	require.NoError(b, err)
	defer k.Close()
	p, err := k.Spawn(progs+"hello", []string{"hello"}, nil)
	require.NoError(b, err)
	const size = 256 << 20
	a := [6]uint64{0, size, uint64(ProtRead | ProtWrite), mapPrivate | mapAnonymous, ^uint64(0), 0}
	addr := uint64(sysMmap(k, p, &a))
	require.True(b, k.populate(p, addr, addr+size, true))
	copied := k.frames.Stats().Copied
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ct, e := k.clone(k.cur, &cloneArgs{exitSignal: SIGCHLD})
		if e != 0 {
			b.Fatalf("fork: errno %d", e)
		}
		b.StopTimer()
		c := ct.proc
		if i == 0 {
			n := 0
			k.visitPTEs(c.mm, addr, addr+size, func(va, ea uint64, e mmu.PTE) { n++ })
			require.Equal(b, size>>12, n, "the child maps every page")
		}
		k.exit(c, 0)
		k.reap(c)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(k.frames.Stats().Copied-copied)/float64(b.N), "copies/op")
	b.ReportMetric(float64(size>>12), "pages")
}

// BenchmarkDemandZeroFault measures the page-fault handler alone on a demand-zero fault:
// find the VMA, walk (and fill) the page table, allocate and zero a frame, write the PTE.
// Every 64 Ki faults the pages are given back (not timed) so RAM never runs out.
func BenchmarkDemandZeroFault(b *testing.B) {
	k, err := New(Config{RAM: 1 << 30})
	require.NoError(b, err)
	defer k.Close()
	p, err := k.Spawn(progs+"hello", []string{"hello"}, nil)
	require.NoError(b, err)
	const pages = 64 << 10
	a := [6]uint64{0, pages * 4096, uint64(ProtRead | ProtWrite), mapPrivate | mapAnonymous, ^uint64(0), 0}
	addr := uint64(sysMmap(k, p, &a))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := uint64(i % pages)
		if n == 0 && i > 0 {
			b.StopTimer()
			k.dontNeed(p.mm, addr, addr+pages*4096)
			b.StartTimer()
		}
		if c, _ := k.resolveFault(p, addr+n*4096, mmu.User|mmu.Write); c.out != FaultDemandZero {
			b.Fatalf("fault %d: %v", i, c.out)
		}
	}
}

// BenchmarkDemandZeroFaultGuest measures a demand-zero fault end to end: a guest program
// (vm_touch) writes one byte to each of 16384 fresh pages, 8 times over (unmapping them in
// between), so each write misses the TLB, walks, raises #PF, traps into the kernel, is
// resolved, and is retried. The ns/fault metric includes the program's start and exit and
// the munmaps, spread over its faults; building the machine is not timed.
func BenchmarkDemandZeroFaultGuest(b *testing.B) {
	const pages, rounds = 16384, 8
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		k, err := New(Config{RAM: 256 << 20})
		require.NoError(b, err)
		b.StartTimer()
		_, err = k.Spawn(progs+"vm_touch", []string{"vm_touch", "16384", "8"}, nil)
		require.NoError(b, err)
		code, err := k.Run()
		require.NoError(b, err)
		require.Equal(b, 0, code)
		b.StopTimer()
		k.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*pages*rounds), "ns/fault")
}

// BenchmarkPipeRoundTrip64K measures a 64 KiB write into a pipe and the read that drains
// it, as the system calls run them (copies from and to user memory through the MMU).
func BenchmarkPipeRoundTrip64K(b *testing.B) {
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(b, err)
	defer k.Close()
	p, err := k.Spawn(progs+"hello", []string{"hello"}, nil)
	require.NoError(b, err)
	a := [6]uint64{0, 1 << 20, uint64(ProtRead | ProtWrite), mapPrivate | mapAnonymous, ^uint64(0), 0}
	buf := uint64(sysMmap(k, p, &a))
	require.True(b, k.populate(p, buf, buf+1<<20, true))
	pa := [6]uint64{buf, 0}
	require.Equal(b, int64(0), sysPipe2(k, p, &pa))
	var fds [8]byte
	k.copyIn(p, buf, fds[:])
	rfd, wfd := uint64(fds[0]), uint64(fds[4])
	b.SetBytes(64 << 10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := [6]uint64{wfd, buf, 64 << 10}
		if n := sysWriteFn(k, p, &w); n != 64<<10 {
			b.Fatalf("write: %d", n)
		}
		r := [6]uint64{rfd, buf + 512<<10, 64 << 10}
		if n := sysReadFn(k, p, &r); n != 64<<10 {
			b.Fatalf("read: %d", n)
		}
	}
}
