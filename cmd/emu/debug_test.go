package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reply is the output of one debugger command in a scripted session.
type reply struct {
	cmd, out string
}

// debugSession runs emu debug with the script on standard input and returns the replies
// (index 0 is the banner before the first command), the exit code and the stderr text.
func debugSession(t *testing.T, script string, args ...string) ([]reply, int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"debug"}, args...), strings.NewReader(script), &out, &errb)
	require.NotContains(t, out.String()+errb.String(), "goroutine", "a Go panic reached the user")
	var replies []reply
	cur := reply{}
	for _, line := range strings.SplitAfter(out.String(), "\n") {
		if cmd, ok := strings.CutPrefix(line, "(emu) "); ok {
			replies = append(replies, cur)
			cur = reply{cmd: strings.TrimSpace(cmd)}
			continue
		}
		cur.out += line
	}
	replies = append(replies, cur)
	return replies, code, errb.String()
}

var hexNum = `0x[0-9a-f]+`

// hex writes an address as the debugger does: 0x404000.
func hex(v uint64) string { return fmt.Sprintf("%#x", v) }

// hexField finds the first match of the regexp re (with one group holding a hex number).
func hexField(t *testing.T, s, re string) uint64 {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	require.NotNil(t, m, "no %q in:\n%s", re, s)
	v, err := strconv.ParseUint(strings.TrimPrefix(m[1], "0x"), 16, 64)
	require.NoError(t, err)
	return v
}

// A walk of an unmapped address names the level where P was 0: before the program has run,
// nothing below the stack's PML4 entry exists; once the code is mapped, the low PML4E is
// present and 0xdead0000's PDPTE is not.
func TestDebugWalkNamesTheLevelWhereTheWalkStops(t *testing.T) {
	r, code, _ := debugSession(t, "walk 0x404000\nstep\nstep\nwalk 0xdead0000\nwalk 0x401100\nwalk 0x800000000000\n", progs+"bss_sum")
	require.Equal(t, 0, code)
	require.Len(t, r, 7)
	assert.Contains(t, r[1].out, "PML4E  0")
	assert.Contains(t, r[1].out, "the PML4E (level 4) has P=0")
	assert.Contains(t, r[1].out, "index    PML4 0 | PDPT 0 | PD 2 | PT 4 | offset 0x000")

	// step: the first instruction fetch faults; it is now pending.
	assert.Contains(t, r[2].out, "page fault in pid 2, before the kernel handles it")
	assert.Contains(t, r[3].out, "=> file-read")

	w := r[4].out
	assert.Contains(t, w, "index    PML4 0 | PDPT 3 | PD 245 | PT 208")
	assert.Contains(t, w, "the PDPTE (level 3) has P=0")
	// Not accessed yet: the faulting fetch has not been retried.
	assert.Regexp(t, `PML4E\s+0\s+0x[0-9a-f]+\s+0x[0-9a-f]{16}\s+rwxu---\s+P RW US frame=`, w)
	assert.Contains(t, w, "error code 0x4 [- - U - -]")
	assert.Contains(t, w, "VMA      none")

	// The code page: present, read-only, executable; a write would fault with P=1.
	code0 := r[5].out
	assert.Regexp(t, `PTE\s+1\s+0x[0-9a-f]+\s+0x[0-9a-f]{16}\s+r-xu---`, code0)
	assert.Contains(t, code0, "user read ok, user write faults [P W U - -], user fetch ok")

	assert.Contains(t, r[6].out, "not canonical")
}

// At a demand-zero fault the debugger shows the fault decoded and the PTE not present before
// the kernel handles it; the step shows the frame the kernel gave and the PTE now mapping it.
func TestDebugDemandZeroFaultBeforeAndAfter(t *testing.T) {
	r, code, _ := debugSession(t, "break fault demand-zero\ncontinue\nstep\nframes\n", progs+"bss_sum")
	require.Equal(t, 0, code)
	before, after := r[2].out, r[3].out
	for _, want := range []string{"breakpoint 1: page fault in pid 2, before the kernel handles it",
		"access      user read", "error code  0x4 [- - U - -]: P=0 page not present, W=0 read, U=1 user mode",
		"VMA         [anon] 0x403000-0x504000 rw-p", "PTE         not present",
		"will resolve it as demand-zero"} {
		assert.Contains(t, before, want)
	}
	addr := hexField(t, before, `address\s+(`+hexNum+`) \(CR2\)`)
	frame := hexField(t, after, `=> demand-zero, frame (`+hexNum+`)`)
	assert.Contains(t, after, "kernel: fault   user read at "+hex(addr))
	assert.Equal(t, frame, hexField(t, after, `PTE now\s+0x[0-9a-f]{16} rw-u--- frame (`+hexNum+`) \(user, ref 1\)`))
	// frames: the new frame is mapped by pid 2 at the faulting page, and the replacement
	// policy holds it (reclaim "lru").
	assert.Regexp(t, regexp.MustCompile(`(?m)^\s+`+hex(frame)+`\s+user\s+1\s+lru\s+pid 2 `+hex(addr&^0xfff)+` \[anon\] rw-u---$`), r[4].out)
}

// break syscall stops before the kernel runs the call, with its arguments decoded; the step
// runs it and shows the result.
func TestDebugBreakSyscall(t *testing.T) {
	r, code, _ := debugSession(t, "break syscall write\ncontinue\nregs\nstep\ncontinue\nstep\n", progs+"hello")
	require.Equal(t, 1, code, "the last step is an error")
	assert.Contains(t, r[1].out, "breakpoint 1: system call write (nr 1)")
	assert.Contains(t, r[2].out, "breakpoint 1: system call in pid 2, before the kernel runs it")
	assert.Contains(t, r[2].out, "call     write(0x1, 0x402000, 0xd)   [nr 1 in rax]")
	assert.NotContains(t, r[2].out, "hello, world", "the write has not happened yet")
	assert.Regexp(t, `rax\s+0x0000000000000001`, r[3].out)
	assert.Contains(t, r[4].out, "hello, world\n")
	assert.Contains(t, r[4].out, "kernel: syscall write(0x1, 0x402000, 0xd) = 13")
	assert.Contains(t, r[5].out, "program exited: pid 2 exit code 0")
	assert.Contains(t, r[6].out, "error: the program has exited (exit code 0)")
}

// break addr stops before the instruction at a symbol executes; step then moves one
// instruction.
func TestDebugBreakAddress(t *testing.T) {
	r, code, _ := debugSession(t, "break addr main\ncontinue\nstep\nbreak 0xdead\nbreaks\n", progs+"hello")
	require.Equal(t, 0, code)
	main := hexField(t, r[1].out, `address (`+hexNum+`) <main>`)
	assert.Contains(t, r[2].out, "breakpoint 1: address "+hex(main)+" <main>")
	assert.Regexp(t, `rip `+hex(main)+` <main>  \S`, r[2].out)
	assert.Regexp(t, `insn \d+  rip 0x[0-9a-f]+ <main\+0x[0-9a-f]+>`, r[3].out)
	assert.Contains(t, r[5].out, "hit 1 times")
}

// A PTE watchpoint stops when the kernel maps the page and again when the MMU sets the
// accessed bit, showing the entry before and after.
func TestDebugWatchPTE(t *testing.T) {
	r, code, _ := debugSession(t, "watch pte 0x405000\ncontinue\ncontinue\n", progs+"bss_sum")
	require.Equal(t, 0, code)
	assert.Contains(t, r[1].out, "watchpoint 1: the PTE mapping 0x405000 in pid 2")
	mapped := r[2].out
	assert.Contains(t, mapped, "watchpoint 1: the PTE mapping 0x405000 in pid 2 changed")
	assert.Regexp(t, `before\s+not present`, mapped)
	assert.Regexp(t, `after\s+0x[0-9a-f]{16} rw-u--- frame 0x[0-9a-f]+ \(user, ref 1\)`, mapped)
	accessed := r[3].out
	assert.Regexp(t, `before\s+0x[0-9a-f]{16} rw-u--- `, accessed)
	assert.Regexp(t, `after\s+0x[0-9a-f]{16} rw-u-a- `, accessed, "the MMU set A on the retried read")
}

// The views: vmas names the stack and the program; ps lists the process; tlb shows entries
// with their VMA; x dumps the argument strings; the frames view lists page-table pages by
// level.
func TestDebugViews(t *testing.T) {
	r, code, _ := debugSession(t, "break syscall\ncontinue\nvmas\nps\ntlb\nx 0x402000 16\nframes\nvmas 9\n", progs+"hello")
	require.Equal(t, 1, code, "vmas 9 is an error")
	assert.Regexp(t, `0x7ffffff[0-9a-f]+\s+0x7ffffffff000\s+\d+K\s+rw-p\s+0x0\s+\d+\s+\[stack\]`, r[3].out)
	assert.Regexp(t, `0x401000\s+0x402000\s+4K\s+r-xp\s+0x1000\s+1\s+`+regexp.QuoteMeta(progs+"hello"), r[3].out)
	assert.Regexp(t, `2\s+1\s+running\s+\d+\s+0x[0-9a-f]+\s+\d+\s+\d+\s+`+regexp.QuoteMeta(progs+"hello"), r[4].out)
	assert.Regexp(t, `0x401000\s+0x[0-9a-f]+\s+4K\s+\d+\s+r-xu-a-\s+pid 2 `+regexp.QuoteMeta(progs+"hello"), r[5].out)
	assert.Contains(t, r[6].out, "|hello, world..")
	assert.Contains(t, r[7].out, "pid 2 PML4")
	assert.Contains(t, r[7].out, "pid 2 PT for 0x400000")
	assert.Contains(t, r[7].out, "no process (kernel)", "the boot page table")
	assert.Contains(t, r[8].out, "error: no process 9")
}

// --script reads the commands from a file; --trace turns tracing on from the start; a bad
// command is an error line and a non-zero exit, never a crash.
func TestDebugScriptAndErrors(t *testing.T) {
	script := filepath.Join(t.TempDir(), "s.dbg")
	require.NoError(t, os.WriteFile(script, []byte("# a comment\ncontinue\n"), 0o644))
	var out, errb bytes.Buffer
	code := Main([]string{"debug", "--script", script, "--trace", "syscalls", progs + "hello"}, strings.NewReader(""), &out, &errb)
	assert.Equal(t, 0, code, errb.String())
	assert.Contains(t, out.String(), "trace         51  pid 2   syscall  write(0x1, 0x402000, 0xd) = 13")
	assert.Contains(t, out.String(), "program exited")

	bad := []string{"fly", "step 0", "step x", "break", "break fault bogus", "break syscall nosuchcall",
		"break addr", "break addr nosuchsymbol", "watch pte", "watch tlb 0x1", "walk", "walk rsp rsp",
		"x", "x 0x1 0", "x 0xffffffffffffffff 64", "frames 0xfffffffffff", "delete 7", "delete", "trace bogus",
		"continue now", "vmas x"}
	r, code, _ := debugSession(t, strings.Join(bad, "\n")+"\n", progs+"hello")
	assert.Equal(t, 1, code)
	for _, rep := range r[1:] {
		if rep.cmd == "x 0xffffffffffffffff 64" {
			assert.Contains(t, rep.out, "not present", rep.cmd)
			continue
		}
		assert.Contains(t, rep.out, "error: ", rep.cmd)
	}
}

// A program killed by a signal: the debugger stops at the fault, predicts SIGSEGV, and the
// step shows the kernel killing it.
func TestDebugSIGSEGV(t *testing.T) {
	r, code, _ := debugSession(t, "break fault sigsegv\ncontinue\nstep\n", progs+"touch_unowned")
	require.Equal(t, 0, code)
	assert.Contains(t, r[2].out, "about to write to 0xdead0000")
	assert.Contains(t, r[2].out, "will resolve it as SIGSEGV (no VMA covers the address)")
	assert.Contains(t, r[2].out, "error code  0x6 [- W U - -]")
	assert.Contains(t, r[3].out, "kernel: signal  SIGSEGV")
	assert.Contains(t, r[3].out, "program exited: pid 2 killed by SIGSEGV")
}

// Without PCIDs every address space runs under PCID 0.
func TestDebugNoPCID(t *testing.T) {
	r, _, stderr := debugSession(t, "ps\n", "--tlb", "nopcid", progs+"hello")
	assert.Regexp(t, `2\s+1\s+running\s+0\s+0x`, r[1].out, stderr)
}

// The first copy-on-write fault after fork: before the kernel handles it, the PTE is
// read-only and marked cow, and its frame has reference count 2 (parent and child map it);
// after the step, the PTE maps a new frame, writable, with count 1, and the old frame is
// no longer shared.
func TestDebugFirstCOWFaultAfterFork(t *testing.T) {
	r, code, _ := debugSession(t, "break fault cow\ncontinue\nframes shared\nstep\nframes shared\nps\n", progs+"dbg_cow")
	require.Equal(t, 0, code)
	before := r[2].out
	assert.Contains(t, before, "page fault in pid 2, before the kernel handles it")
	assert.Contains(t, before, "access      user write")
	assert.Contains(t, before, "error code  0x7 [P W U - -]: P=1 protection violation, W=1 write, U=1 user mode")
	assert.Contains(t, before, "will resolve it as cow-copy")
	old := hexField(t, before, `PTE\s+0x[0-9a-f]{16} r-[x-]u-[a-][d-] frame (`+hexNum+`) \(user, ref 2\) \[cow\]`)
	addr := hexField(t, before, `address\s+(`+hexNum+`) \(CR2\)`)
	page := hex(addr &^ 0xfff)

	// Both processes map the old frame, read-only and cow.
	shared := regexp.MustCompile(`(?m)^\s+` + hex(old) + `\s+user\s+2\s+(.*)$`).FindStringSubmatch(r[3].out)
	require.NotNil(t, shared, r[3].out)
	assert.Contains(t, shared[1], "pid 2 "+page)
	assert.Contains(t, shared[1], "pid 3 "+page)
	assert.Equal(t, 2, strings.Count(shared[1], "[cow]"), shared[1])

	after := r[4].out
	frame := hexField(t, after, `=> cow-copy, frame (`+hexNum+`)`)
	assert.NotEqual(t, old, frame)
	assert.Equal(t, frame, hexField(t, after, `PTE now\s+0x[0-9a-f]{16} rw[x-]u-[a-][d-] frame (`+hexNum+`) \(user, ref 1\)`))
	assert.NotContains(t, after, "[cow]", "the new PTE is no longer copy-on-write")
	assert.NotRegexp(t, `(?m)^\s+`+hex(old)+`\s`, r[5].out, "the old frame is not shared any more")
	assert.Regexp(t, `3\s+2\s+runnable\s+\d+`, r[6].out, "the child waits its turn")
}

// The last writer of a COW page finds the frame its own: the kernel reuses it in place, and
// the child, parent and exit statuses are those of the native run.
func TestDebugCOWReuse(t *testing.T) {
	wantOut, _ := native(t, "dbg_cow")
	r, code, _ := debugSession(t, "break fault cow-reuse\ncontinue\nstep\ncontinue\ncontinue\n", progs+"dbg_cow")
	require.Equal(t, 0, code)
	before := r[2].out
	assert.Contains(t, before, "will resolve it as cow-reuse")
	f := hexField(t, before, `PTE\s+0x[0-9a-f]{16} r-[x-]u-[a-][d-] frame (`+hexNum+`) \(user, ref 1\) \[cow\]`)
	assert.Equal(t, f, hexField(t, r[3].out, `=> cow-reuse, frame (`+hexNum+`)`), "the same frame, no copy")
	assert.Regexp(t, `PTE now\s+0x[0-9a-f]{16} rw`, r[3].out)
	// The guest's output shares the terminal with the debugger's: its pieces are all there.
	var all string
	for _, x := range r {
		all += x.out
	}
	for _, piece := range []string{"child sees ", "7\n", "parent sees 42", ", then 43; child status 0\n"} {
		assert.Contains(t, all, piece)
	}
	assert.Contains(t, wantOut, "parent sees 42, then 43; child status 0\n", "the native run agrees")
	assert.Contains(t, r[len(r)-1].out, "program exited: pid 2 exit code 0")
}

// break exec stops once execve has loaded the new image: at its entry, nothing mapped yet.
func TestDebugBreakExec(t *testing.T) {
	r, code, _ := debugSession(t, "break exec\ncontinue\nwhere\nvmas\ncontinue\n", progs+"dbg_exec")
	require.Equal(t, 0, code)
	assert.Regexp(t, `breakpoint 1: pid 2 executed .*dbg_exec, entry 0x[0-9a-f]+`, r[2].out)
	assert.Contains(t, r[3].out, "<_start>  (not mapped yet: fetching it will fault)")
	assert.Regexp(t, `0x401000\s+0x402000\s+4K\s+r-xp\s+0x1000\s+0\s+`, r[4].out, "a fresh image: nothing resident")
	assert.Contains(t, r[5].out, "second image: again\n")
	assert.Contains(t, r[5].out, "program exited: pid 2 exit code 3")
}

// A spurious fault: the page tables already allow the write (mprotect made the page
// writable) but the TLB still held the read-only translation. The debugger shows a present,
// writable PTE with a protection-violation error code, and the kernel only lets it retry.
func TestDebugSpuriousFault(t *testing.T) {
	r, code, _ := debugSession(t, "break fault spurious\ncontinue\nstep\nstep\n", progs+"vm_spurious")
	require.Equal(t, 0, code)
	before := r[2].out
	assert.Contains(t, before, "error code  0x7 [P W U - -]: P=1 protection violation, W=1 write")
	assert.Regexp(t, `PTE\s+0x[0-9a-f]{16} rw-u-a. frame 0x[0-9a-f]+ \(user, ref 1\)`, before, "the tables allow the write")
	assert.Contains(t, before, "will resolve it as spurious (the page tables already allow it: a stale TLB entry)")
	assert.Contains(t, r[3].out, "=> spurious")
	assert.Contains(t, r[3].out, "the page tables already allowed it")
	// The retried write succeeds: the next step retires it.
	assert.Regexp(t, `insn \d+  rip 0x[0-9a-f]+ <main\+0x[0-9a-f]+>`, r[4].out)
	assert.NotContains(t, r[4].out, "page fault")
}

// A fault in a range registered with a userfaultfd: the debugger predicts that the kernel
// forwards it, and the step shows the faulting thread asleep until the handler thread
// resolves the page.
func TestDebugUserfault(t *testing.T) {
	r, code, _ := debugSession(t, "break fault userfault\ncontinue\nstep\n", progs+"musl_rp_uffd", t.TempDir())
	require.Equal(t, 0, code)
	require.Len(t, r, 4)
	assert.Contains(t, r[2].out, "will resolve it as userfault (the area is registered with a userfaultfd")
	assert.Contains(t, r[2].out, "PTE         not present")
	assert.Contains(t, r[3].out, "the kernel forwarded the fault to the process's userfaultfd: thread 2 sleeps")
}
