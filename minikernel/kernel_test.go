package minikernel

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/mmu"
)

const progs = "../testprogs/bin/"

type run struct {
	k      *Kernel
	out    bytes.Buffer
	log    bytes.Buffer
	events []Event
	code   int
	err    error
}

// runProg runs a test program on a fresh 64 MiB machine and records every event.
func runProg(t *testing.T, prog string, args ...string) *run {
	t.Helper()
	r := &run{}
	k, err := New(Config{RAM: 64 << 20, Stdout: &r.out, Stderr: &r.log})
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	r.k = k
	k.Subscribe(func(e *Event) {
		c := *e
		c.VMA = nil
		r.events = append(r.events, c)
	})
	_, err = k.Spawn(progs+prog, append([]string{prog}, args...), []string{"HOME=/"})
	require.NoError(t, err)
	r.code, r.err = k.Run()
	return r
}

func (r *run) faults(o FaultOutcome) int {
	n := 0
	for _, e := range r.events {
		if e.Kind == EvPageFault && e.Outcome == o {
			n++
		}
	}
	return n
}

// Every frame and page-table page a process used is free again when it exits: only the
// boot page table remains.
func TestExitReleasesEveryFrame(t *testing.T) {
	for _, prog := range []string{"hello", "bss_sum", "touch_unowned"} {
		t.Run(prog, func(t *testing.T) {
			r := runProg(t, prog)
			require.NoError(t, r.err)
			st := r.k.Frames().Stats()
			assert.Equal(t, uint64(1), st.InUse, "frames in use after exit")
			assert.Equal(t, uint64(1), st.Tables, "page-table pages after exit")
			assert.Greater(t, st.Peak, uint64(4))
		})
	}
}

// bss_sum's 1 MiB .bss array is 256 pages, each a demand-zero fault the first time it is
// read; its code and data come from the file.
func TestBssPagesAreDemandZero(t *testing.T) {
	r := runProg(t, "bss_sum")
	require.NoError(t, r.err)
	assert.Contains(t, r.out.String(), "zero words: 131072\n")
	dz := 0
	for _, e := range r.events {
		if e.Kind == EvPageFault && e.Outcome == FaultDemandZero && e.Addr >= 0x400000 && e.Addr < 0x7f0000000000 {
			dz++
			assert.Zero(t, e.Code&mmu.ErrPresent, "a demand-zero fault is a not-present fault")
			assert.NotZero(t, e.Code&mmu.ErrUser)
		}
	}
	assert.GreaterOrEqual(t, dz, 256)
	assert.LessOrEqual(t, dz, 258) // the array, plus at most the partial pages around it
	assert.GreaterOrEqual(t, r.faults(FaultFileRead), 1)
}

// A write to an address no VMA covers is SIGSEGV: exit code 139, one line naming the
// address, and a fault event with no VMA.
func TestUnmappedWriteIsSIGSEGV(t *testing.T) {
	r := runProg(t, "touch_unowned")
	require.NoError(t, r.err)
	assert.Equal(t, 139, r.code)
	assert.Contains(t, r.log.String(), "0xdead0000")
	var seg *Event
	for i := range r.events {
		if r.events[i].Kind == EvPageFault && r.events[i].Outcome == FaultSIGSEGV {
			seg = &r.events[i]
		}
	}
	require.NotNil(t, seg)
	assert.Equal(t, uint64(0xdead0000), seg.Addr)
	assert.Equal(t, mmu.ErrWrite|mmu.ErrUser, seg.Code, "not present, user write")
	last := r.events[len(r.events)-1]
	assert.Equal(t, EvExit, last.Kind)
	assert.Equal(t, SIGSEGV, last.Status&0x7f)
}

// The same program twice gives the same instruction count and the same events, with
// several processes scheduled too.
func TestRunsAreDeterministic(t *testing.T) {
	for _, args := range [][]string{{"bss_sum", "x"}, {"vm_procs"}, {"vm_cow", "64"}} {
		a := runProg(t, args[0], args[1:]...)
		b := runProg(t, args[0], args[1:]...)
		require.NoError(t, a.err)
		require.NoError(t, b.err)
		assert.Equal(t, a.k.CPU().Instructions(), b.k.CPU().Instructions(), args[0])
		assert.Equal(t, fmt.Sprint(a.events), fmt.Sprint(b.events), args[0])
	}
}

// The initial stack is what Linux builds: argc, argv, envp, and an auxv whose AT_ENTRY is
// the ELF entry point; RSP is 16-byte aligned.
func TestInitialStack(t *testing.T) {
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(t, err)
	defer k.Close()
	p, err := k.Spawn(progs+"hello", []string{"hello", "one", "two"}, []string{"A=1"})
	require.NoError(t, err)
	rsp := k.CPU().Reg(4)
	assert.Zero(t, rsp%16)
	word := func(va uint64) uint64 {
		var b [8]byte
		_, ok := k.copyIn(p, va, b[:])
		require.True(t, ok)
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
	}
	str := func(va uint64) string {
		s, e := k.copyInString(p, va, 4096)
		require.Zero(t, e)
		return s
	}
	assert.Equal(t, uint64(3), word(rsp))
	assert.Equal(t, "hello", str(word(rsp+8)))
	assert.Equal(t, "two", str(word(rsp+24)))
	assert.Zero(t, word(rsp+32))
	assert.Equal(t, "A=1", str(word(rsp+40)))
	assert.Zero(t, word(rsp+48))
	aux := map[uint64]uint64{}
	for va := rsp + 56; ; va += 16 {
		tag := word(va)
		if tag == atNull {
			break
		}
		aux[tag] = word(va + 8)
	}
	assert.Equal(t, k.CPU().RIP(), aux[atEntry])
	assert.Equal(t, uint64(4096), aux[atPagesz])
	assert.Contains(t, []uint64{2, 3, 4}, aux[atPhnum])
	assert.Equal(t, "x86_64", str(aux[atPlatform]))
	assert.True(t, strings.HasSuffix(str(aux[atExecfn]), "hello"))
	assert.NotZero(t, aux[atRandom])
}

// The first program is found as a shell finds a command: a bare name is looked up in PATH
// (the first directory that has it wins, an empty entry is the working directory), a name
// with a slash is a path, and a name PATH does not have is a file in the working directory
// or an error that says it does not exist.
func TestSpawnSearchesPATH(t *testing.T) {
	spawn := func(name string, envp ...string) (string, error) {
		var out bytes.Buffer
		k, err := New(Config{RAM: 64 << 20, Stdout: &out})
		require.NoError(t, err)
		defer k.Close()
		if _, err := k.Spawn(name, []string{name}, envp); err != nil {
			return "", err
		}
		_, err = k.Run()
		return out.String(), err
	}
	abs, err := filepath.Abs(progs)
	require.NoError(t, err)
	empty := t.TempDir()

	out, err := spawn("hello", "PATH="+empty+":"+abs)
	require.NoError(t, err)
	assert.Equal(t, "hello, world\n", out, "found in the second PATH directory")

	_, err = spawn("hello", "PATH="+empty)
	require.Error(t, err, "not in PATH, not in the working directory")
	assert.ErrorIs(t, err, os.ErrNotExist)

	_, err = spawn("hello", "PATH="+empty, "PATH="+abs)
	require.Error(t, err, "the first PATH is the one getenv returns")

	out, err = spawn(progs+"hello", "PATH="+empty)
	require.NoError(t, err, "a name with a slash is a path")
	assert.Equal(t, "hello, world\n", out)

	t.Chdir(abs)
	out, err = spawn("hello", "PATH="+empty)
	require.NoError(t, err, "not in PATH: the file in the working directory")
	assert.Equal(t, "hello, world\n", out)
	out, err = spawn("hello", "PATH="+empty+"::")
	require.NoError(t, err, "an empty PATH entry is the working directory")
	assert.Equal(t, "hello, world\n", out)
}
