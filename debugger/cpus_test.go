package debugger

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
)

// On two CPUs: break shootdown stops after the munmap's shootdown and says who sent it to
// whom; cpu lists what each CPU runs and holds; cpu 1 makes where and regs describe the
// worker on CPU 1; threads lists both threads; tlb shows each CPU's TLBs.
func TestShootdownBreakAndCPUViews(t *testing.T) {
	var log bytes.Buffer
	k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, Stdout: &log, Stderr: &log, Log: &log, CPUs: 2})
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	d := New(k, &log, 0)
	p, err := k.Spawn(progs+"musl_tlb_shootdown", []string{"tlb_shootdown"}, nil)
	require.NoError(t, err)
	d.Follow(p)

	run := func(line string) string {
		var w bytes.Buffer
		_, err := d.Exec(&w, line)
		require.NoError(t, err, "%s: %s", line, w.String())
		return w.String()
	}
	run("break shootdown")
	out := run("continue")
	assert.Contains(t, out, "breakpoint 1: TLB shootdown by pid 2: cpu0 -> cpu1: invlpg 0x")
	assert.Contains(t, out, "(munmap)")
	assert.Regexp(t, `cpu0  pid 2  insn \d+  rip 0x[0-9a-f]+ <__munmap`, out, "the initiator, back from its munmap")

	cpus := run("cpu")
	assert.Regexp(t, regexp.MustCompile(`(?m)^\* cpu0\s+pid 2\s+0x[0-9a-f]+\s+pid 2\s+\d+\s+0\s*$`), cpus)
	assert.Regexp(t, regexp.MustCompile(`(?m)^  cpu1\s+pid 2\.3\s+0x[0-9a-f]+\s+pid 2\s+\d+\s+1\s*$`), cpus,
		"CPU 1 runs the worker and took one shootdown interrupt")

	threads := run("threads")
	assert.Regexp(t, `(?m)^\s+2\s+2\s+\S+\s+running\s+cpu0`, threads)
	assert.Regexp(t, `(?m)^\s+3\s+2\s+\S+\s+running\s+cpu1`, threads)

	run("cpu 1")
	assert.Regexp(t, `cpu1  pid 2\.3  insn \d+  rip 0x[0-9a-f]+ <worker`, run("where"))
	assert.Regexp(t, `rip  0x[0-9a-f]+ <worker`, run("regs"))
	tlbs := run("tlb")
	assert.Contains(t, tlbs, "cpu0 (CR3 ")
	assert.Contains(t, tlbs, "cpu1 (CR3 ")
	run("cpu auto")
	assert.Regexp(t, `cpu0  pid 2  insn`, run("where"))

	var w bytes.Buffer
	_, err = d.Exec(&w, "cpu 7")
	require.Error(t, err)
	assert.Contains(t, w.String(), "cpu0 to cpu1")
}
