package debugger

import (
	"bytes"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vmemu/vmemu/minikernel"
)

// FuzzCommands runs command lines through a session on a real program (issue 11: the
// debugger-command fuzzer). Whatever the lines (unknown commands, missing, extra or absurd
// arguments, addresses anywhere, control bytes), the session must neither panic nor hang,
// and what it writes must be safe for a terminal. go test runs the seeds; go test
// ./debugger -fuzz FuzzCommands searches further.
func FuzzCommands(f *testing.F) {
	for _, s := range []string{
		"step\nstep 5\nregs\nwhere\nvmas\ntlb\nframes\nps\n",
		"break fault demand-zero\ncontinue\nwalk 0x404000\nx $rsp 64\nframes shared\n",
		"break syscall write\nbreak exec\nbreak addr _start\nbreaks\ndelete 1\ndelete all\ncontinue\n",
		"watch pte 0x404000\ncontinue\nstep 100\ntrace all\nstep 3\ntrace off\n",
		"x 0xffffffffffffffff 65536\nwalk 0x800000000000\nx 0 1\nframes 0xffffffff\nvmas 99\n",
		"step 18446744073709551615\nx rsp+rax-rip 7\nbreak 0x401000+8-3\n",
		"help\n?\ninfo b\nquit\n",
		"\x1b]0;title\x07\nwalk \xff\xfe\nx \x00\n# comment only\n   \n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script string) {
		lines := strings.Split(script, "\n")
		if len(lines) > 32 {
			lines = lines[:32]
		}
		var log bytes.Buffer
		k, err := minikernel.New(minikernel.Config{RAM: 16 << 20, Stdout: &log, Stderr: &log, Log: &log,
			MaxInsns: 2_000_000})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		d := New(k, &log, 2_000_000)
		p, err := k.Spawn(progs+"bss_sum", []string{"bss_sum"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		d.Follow(p)
		var out bytes.Buffer
		for _, l := range lines {
			if len(l) > 256 {
				l = l[:256]
			}
			if quit, _ := d.Exec(&out, l); quit {
				break
			}
		}
		if !utf8.Valid(out.Bytes()) {
			t.Fatalf("invalid UTF-8 in the session's output: %q", out.String())
		}
		for i, r := range out.String() {
			if (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("raw control character %q at %d in the session's output: %q", r, i, out.String())
			}
		}
	})
}
