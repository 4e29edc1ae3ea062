package testprogs

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
)

// What real programs call (the realprogs issue): the rp_ programs of src/musl/rp_*.c, each
// built against musl and glibc, static and dynamic, run natively and on the emulator with
// the same output, exit status and files left behind.

// rpBuilds are the four builds of an rp_ program.
func rpBuilds(name string) []string {
	return []string{"musl_" + name, "glibc_" + name, "dynmusl_" + name, "dynglibc_" + name}
}

// sameRP runs every build of rp_ program name in fresh directories, natively and emulated.
func sameRP(t *testing.T, name string) {
	for _, prog := range rpBuilds(name) {
		t.Run(prog, func(t *testing.T) {
			r := sameInDirs(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// Scripts as execve runs them: the interpreter and its one argument, the script's path in
// argv, nesting to Linux's limit and ELOOP past it, ENOENT, EACCES and ENOEXEC where Linux
// gives them, and an empty argv (argc 1, argv[0] "").
func TestScriptsMatchNative(t *testing.T) { sameRP(t, "rp_script") }

// Identities and ownership: get*id, set*id by Linux's rules, capabilities, chown and
// friends on host files, and (as root) a child that drops to nobody.
func TestIdentitiesMatchNative(t *testing.T) { sameRP(t, "rp_ids") }

// The wall clock starts at the host's time, and files the guest writes, truncates, creates
// or touches carry the guest's time: never in the future, never before the start.
func TestClockFilesMatchNative(t *testing.T) { sameRP(t, "rp_clock") }

// CLOCK_REALTIME, gettimeofday and time start at the host's time by default, and at
// Config.Realtime (emu run --clock-start) when it is set.
func TestRealtimeStartsAtTheHostsTime(t *testing.T) {
	before := time.Now().Unix()
	r := runEmu(t, "musl_rp_clock", "", nil)
	after := time.Now().Unix()
	require.Equal(t, 0, r.Code, r.Log)
	lines := strings.Fields(r.Stdout)
	require.Len(t, lines, 3)
	for _, l := range lines {
		v, err := strconv.ParseInt(l, 10, 64)
		require.NoError(t, err)
		assert.True(t, v >= before && v <= after, "guest time %d outside the host's [%d, %d]", v, before, after)
	}
	fixed := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	r = runEmu(t, "musl_rp_clock", "", nil, func(c *minikernel.Config) { c.Realtime = fixed })
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, "1704067200\n1704067200\n1704067200\n", r.Stdout)
	again := runEmu(t, "musl_rp_clock", "", nil, func(c *minikernel.Config) { c.Realtime = fixed })
	assert.Equal(t, r.Stats.Instructions, again.Stats.Instructions, "a fixed start makes runs identical")
}

// prctl: names, the parent-death signal, dumpable, keepcaps, no_new_privs, the bounding
// set, timer slack, THP, the TID address, the auxiliary vector, and memory-deny-write-
// execute with its fork and no-inherit rules.
func TestPrctlMatchesNative(t *testing.T) {
	for _, prog := range rpBuilds("rp_prctl") {
		t.Run(prog, func(t *testing.T) {
			r := sameAsNative(t, prog, "")
			assert.Equal(t, 0, r.Code)
		})
	}
}

// PR_SET_VMA names anonymous memory as Linux does when built with CONFIG_ANON_VMA_NAME,
// which not every host kernel is (this is checked against Linux 6.18's answers, not the
// host's).
func TestPrctlSetVMA(t *testing.T) {
	r := runEmu(t, "musl_rp_prctl", "", []string{"vma"})
	require.Equal(t, 0, r.Code, r.Log)
	assert.Equal(t, strings.Join([]string{
		"PR_SET_VMA(anon name)                        0",
		"PR_SET_VMA(bad char)                         -1 EINVAL",
		"PR_SET_VMA(unaligned)                        -1 EINVAL",
		"PR_SET_VMA(clear)                            0",
		"PR_SET_VMA(bad option)                       -1 EINVAL",
		"PR_SET_VMA(unmapped)                         -1 ENOMEM", ""}, "\n"), r.Stdout)
}

// memfd_create and its seals, /dev/zero mappings, fallocate, copy_file_range and fadvise64,
// shared between processes and seen through mappings.
func TestMemfdMatchesNative(t *testing.T) { sameRP(t, "rp_memfd") }

// Extended attributes pass through to the host file; the kernel's own objects keep none.
func TestXattrMatchesNative(t *testing.T) { sameRP(t, "rp_xattr") }
