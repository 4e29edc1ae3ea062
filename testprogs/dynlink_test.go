package testprogs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
)

// Dynamically linked programs (src/dyn_musl/, src/dyn_glibc/): execve maps the program and
// its interpreter, the interpreter maps libc with mmap, and every file page comes from the
// page cache, so that processes running the same library share its text frames.

// Dynamic musl and glibc programs print and exit the same as on Linux.
func TestDynamicProgramsMatchNative(t *testing.T) {
	for _, tc := range []struct {
		prog string
		args []string
	}{
		{"dynmusl_libc", nil},
		{"dynmusl_share", []string{"bin/dynmusl_share"}},
		{"dynglibc_libc", nil},
		{"dynglibc_share", []string{"bin/dynglibc_share"}},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			r := sameAsNative(t, tc.prog, "", tc.args...)
			assert.Equal(t, 0, r.Code)
			assert.NotZero(t, r.Stats.FaultCount(minikernel.FaultFileCached),
				"the second process finds the library's pages in the page cache")
		})
	}
}

// The interpreter is mapped where Linux maps it and the program starts in it: the auxiliary
// vector's AT_BASE is the interpreter's load address, the program (a PIE) sits at
// ELF_ET_DYN_BASE, and the first instruction executed is the interpreter's entry point.
func TestDynamicLoadLayout(t *testing.T) {
	var out strings.Builder
	k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, Stdout: &out})
	require.NoError(t, err)
	defer k.Close()
	p, err := k.Spawn(binPath(t, "dynmusl_libc"), []string{"dynmusl_libc"}, env)
	require.NoError(t, err)
	var prog, interp *minikernel.VMA
	for _, v := range p.MM().VMAs() {
		switch {
		case prog == nil && strings.HasSuffix(v.Name, "dynmusl_libc"):
			prog = v
		case interp == nil && v.Name == "/lib/ld-musl-x86_64.so.1":
			interp = v
		}
	}
	require.NotNil(t, prog)
	require.NotNil(t, interp, "the interpreter is mapped by execve")
	assert.Equal(t, uint64(0x555555554000), prog.Start, "ELF_ET_DYN_BASE, page-aligned")
	assert.Less(t, interp.End, p.MM().MmapBase()+1, "the interpreter goes below mmap_base, like an mmap")
	assert.Greater(t, interp.Start, uint64(0x7f0000000000))
	rip := k.CPU().RIP()
	assert.True(t, rip >= interp.Start && rip < p.MM().MmapBase(), "execution starts in the interpreter, at %#x", rip)
	_, err = k.Run()
	require.NoError(t, err)
	assert.Contains(t, out.String(), "handler ran for signal 10")
}

// Two processes running the same dynamic libc share its text: a child that forks and
// executes the program again gets its interpreter and libc mapped afresh (by execve and by
// its dynamic linker), yet every text page both processes have touched is one page-cache
// frame, referenced by the page cache and by each PTE that maps it. The statistics count
// those frames as mapped more than once.
func TestSharedLibraryTextIsOneSetOfFrames(t *testing.T) {
	for _, tc := range []struct{ prog, lib string }{
		{"dynmusl_share", "/lib/ld-musl-x86_64.so.1"}, // musl's libc is its own interpreter
		{"dynglibc_share", "libc.so.6"},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			var out, log strings.Builder
			k, err := minikernel.New(minikernel.Config{RAM: 256 << 20, Stdout: &out, Log: &log})
			require.NoError(t, err)
			defer k.Close()
			stats := k.CollectStats()
			marker := false
			k.Subscribe(func(e *minikernel.Event) {
				marker = marker || e.Kind == minikernel.EvSyscall && e.Name == "getppid"
			})
			_, err = k.Spawn(binPath(t, tc.prog), []string{tc.prog, "bin/" + tc.prog}, env)
			require.NoError(t, err)
			for !marker {
				require.True(t, k.Live(), "the child never called getppid; log: %s", log.String())
				require.NoError(t, k.Step(100_000))
			}

			parent, child := k.Process(2), k.Process(3)
			require.NotNil(t, child)
			libText := func(p *minikernel.Process) *minikernel.VMA {
				for _, v := range p.MM().VMAs() {
					if v.Prot == minikernel.ProtRead|minikernel.ProtExec && strings.HasSuffix(v.Name, tc.lib) {
						return v
					}
				}
				return nil
			}
			pv, cv := libText(parent), libText(child)
			require.NotNil(t, pv, "the parent maps %s's text", tc.lib)
			require.NotNil(t, cv, "the child maps %s's text", tc.lib)

			frames := k.FrameMap()
			both := 0
			for va := cv.Start; va < cv.End; va += 4096 {
				lv := k.TableWalk(child.MM(), va)
				leaf := lv[len(lv)-1]
				if leaf.Level != 1 || leaf.Entry&mmu.PTEPresent == 0 {
					continue
				}
				pfn := leaf.Entry.Frame()
				pids := map[int]bool{}
				var cached *minikernel.Inode
				for _, m := range frames[pfn] {
					if m.Cache != nil {
						cached = m.Cache
					} else {
						pids[m.PID] = true
					}
				}
				require.NotNil(t, cached, "the child's text page at %#x is a page-cache frame", va)
				assert.Equal(t, minikernel.FrameCache, k.Frames().Kind(pfn))
				assert.Equal(t, uint32(len(frames[pfn])), k.Frames().Ref(pfn),
					"frame %#x: one reference for the page cache and one per PTE", pfn)
				assert.Zero(t, leaf.Entry&mmu.PTEWrite, "shared text is mapped read-only")
				if pids[parent.PID] && pids[child.PID] {
					both++
				}
			}
			assert.GreaterOrEqual(t, both, 8, "text pages of %s mapped by both processes through one frame", tc.lib)
			assert.GreaterOrEqual(t, k.Frames().Stats().MultiMapped, uint64(both))

			_, err = k.Run()
			require.NoError(t, err)
			assert.Contains(t, out.String(), "parent: the child exited with 3")
			assert.GreaterOrEqual(t, stats.Snapshot().Frames.PeakMultiMapped, uint64(both))
		})
	}
}
