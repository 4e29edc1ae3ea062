package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Issue 11, item 2: every RAM size up to the machine's maximum either runs or is refused
// with a message that names the limit; none kills the Go runtime (the frame table is made
// as frames are used, so 64 TiB costs a small directory).
func TestHugeRAMRunsOrNamesTheLimit(t *testing.T) {
	for _, size := range []string{"16T", "32T", "48T", "64T"} {
		t.Run(size, func(t *testing.T) {
			out, stderr, code := emulated("run", "--ram", size, progs+"hello")
			if code == 0 {
				assert.Equal(t, "hello, world\n", out)
				assert.Empty(t, stderr)
				return
			}
			// A host with less address space (RLIMIT_AS, strict overcommit) says how much it has.
			assert.Equal(t, 1, code)
			assert.Regexp(t, `^emu: ram: this host cannot reserve \d+ MiB of address space for RAM \(.*\); the most it can reserve now is \d+ MiB\n$`, stderr)
		})
	}
}

// Item 16: sizes over the maximum name the maximum; an empty --root is an error, not an
// unconfined run.
func TestBadMachineFlagsNameTheProblem(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--ram", "65T"}, "emu run: --ram: 65T is more than the maximum, 64T"},
		{[]string{"--ram", "100000G"}, "is more than the maximum, 64T"},
		{[]string{"--ram", "18446744073709551615"}, "is more than the maximum, 64T"},
		{[]string{"--root", ""}, "emu run: --root: empty directory name"},
		{[]string{"--root="}, "emu run: --root: empty directory name"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, stderr, code := emulated(append(append([]string{"run"}, tc.args...), progs+"hello")...)
			assert.Equal(t, 2, code)
			assert.Empty(t, out, "the program must not run")
			assert.Contains(t, stderr, tc.want)
			assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		})
	}
}

// Item 16: RAM below what a program needs to start gives one message with the size needed
// and one exit status, whatever the size; at the size named the program starts.
func TestRAMTooSmallOneMessage(t *testing.T) {
	re := regexp.MustCompile(`^emu: RAM too small: (\d+) KiB needed to start \S+hello \(RAM is (\d+) KiB\)\n$`)
	need := ""
	for kib := 4; kib <= 44; kib += 4 {
		out, stderr, code := emulated("run", "--ram", fmt.Sprintf("%dK", kib), progs+"hello")
		m := re.FindStringSubmatch(stderr)
		require.NotNil(t, m, "--ram %dK: %q", kib, stderr)
		assert.Equal(t, 1, code)
		assert.Empty(t, out)
		if need == "" {
			need = m[1]
		}
		assert.Equal(t, need, m[1])
		assert.Equal(t, fmt.Sprint(kib), m[2])
	}
	_, stderr, code := emulated("run", "--ram", need+"K", progs+"hello")
	assert.NotContains(t, stderr, "RAM too small", "at %s KiB the program starts", need)
	assert.NotEqual(t, 1, code)
}

// Item 2: a host that cannot reserve the RAM asked for (here an address-space limit of
// 4 GiB) says so and names the most it can reserve.
func TestRAMBeyondTheHostNamesTheLimit(t *testing.T) {
	cmd := emuCommand(t, []string{"EMU_TEST_RLIMIT_AS=4294967296"}, "run", "--ram", "8G", progs+"hello")
	out, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, 1, cmd.ProcessState.ExitCode())
	m := regexp.MustCompile(`^emu: ram: this host cannot reserve 8192 MiB of address space for RAM \(cannot allocate memory\); the most it can reserve now is (\d+) MiB\n$`).FindSubmatch(out)
	require.NotNil(t, m, "%s", out)
	max, err := strconv.Atoi(string(m[1]))
	require.NoError(t, err)
	assert.Less(t, max, 4096, "the limit found is below the 4 GiB allowed")
	assert.Greater(t, max, 1024, "and near it (the test binary itself uses some)")
}
