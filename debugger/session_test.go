package debugger

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
)

const progs = "../testprogs/bin/"

// newSession loads prog into a fresh kernel and starts a session on it, stopped before the
// first instruction. The guest's and the session's own output go to log.
func newSession(t *testing.T, prog string, log *bytes.Buffer) *Session {
	t.Helper()
	k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, Stdout: log, Stderr: log, Log: log})
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	d := New(k, log, 0)
	p, err := k.Spawn(progs+prog, []string{prog}, nil)
	require.NoError(t, err)
	d.Follow(p)
	return d
}

// Each command's output goes to the writer its caller gives, and only there: two drivers of
// one session (a terminal and gdb's monitor, say) each get their own replies.
func TestExecWritesEachCommandWhereItsCallerAsks(t *testing.T) {
	var log bytes.Buffer
	d := newSession(t, "bss_sum", &log)

	var a, b bytes.Buffer
	quit, err := d.Exec(&a, "walk 0x404000  # the bss page")
	require.NoError(t, err)
	assert.False(t, quit)
	assert.Contains(t, a.String(), "index    PML4 0 | PDPT 0 | PD 2 | PT 4 | offset 0x000")

	_, err = d.Exec(&b, "step")
	require.NoError(t, err)
	assert.Contains(t, b.String(), "page fault in pid 2, before the kernel handles it")
	assert.NotContains(t, a.String(), "page fault", "a later command wrote to an earlier command's writer")
	assert.Empty(t, log.String(), "a command's output leaked to the log")
}

// A failing command says why in its output, returns the error and is counted; a blank or
// comment-only line does nothing; quit ends the session.
func TestExecErrorsAndQuit(t *testing.T) {
	var log bytes.Buffer
	d := newSession(t, "bss_sum", &log)

	var w bytes.Buffer
	_, err := d.Exec(&w, "walk nosuchsymbol")
	require.Error(t, err)
	assert.Contains(t, w.String(), "error: ")
	assert.Contains(t, err.Error(), "nosuchsymbol")
	assert.Equal(t, 1, d.Errors())

	w.Reset()
	quit, err := d.Exec(&w, "   # nothing")
	assert.False(t, quit)
	assert.NoError(t, err)
	assert.Empty(t, w.String())

	quit, err = d.Exec(&w, "quit")
	assert.True(t, quit)
	assert.NoError(t, err)
}

// Serve runs a script as a transcript: the banner, then each command echoed after the
// prompt with its output; the exit code is 1 when a command failed.
func TestServeScript(t *testing.T) {
	var log bytes.Buffer
	d := newSession(t, "hello", &log)
	code := d.Serve(strings.NewReader("regs\nbogus\ncontinue\n"), false)
	assert.Equal(t, 1, code)
	out := log.String()
	assert.Contains(t, out, "emu debug: pid 2 ")
	assert.Contains(t, out, "(emu) regs\nrax  0x0000000000000000")
	assert.Contains(t, out, "(emu) bogus\nerror: unknown command \"bogus\"")
	assert.Contains(t, out, "program exited: pid 2 exit code 0")
}
