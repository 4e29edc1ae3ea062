// Command emu is the user's door to the emulated machine: `emu run` runs an x86-64 Linux
// program on the emulated CPU, MMU and mini-kernel, with the guest's standard input and
// output connected to the host's and the guest's exit status as its own, optionally tracing
// what happens inside and printing statistics; `emu debug` steps through the same run
// interactively, stopping at faults before the kernel handles them.
//
// It wires the parts together and formats what they report; it holds no policy of its own
// (no paging, scheduling or fault decisions: those belong to minikernel). Everything it
// shows comes from the kernel's event stream and its side-effect-free accessors.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/vmemu/vmemu/debugger"
)

const usage = `emu: an x86-64 paging emulator (CPU, four-level MMU and TLB, mini-kernel)

Usage:
  emu run [flags] PROG [ARGS...]     run an x86-64 Linux ELF program
  emu debug [flags] PROG [ARGS...]   step through it: faults, page walks, TLB, frames
  emu help [TOPIC]                   show help; topics: run, debug, gdb, trace, stats, tlb

Examples:
  emu run testprogs/bin/hello
  emu run --stats testprogs/bin/bss_sum
  emu run --trace=faults,syscalls testprogs/bin/hello
  emu debug testprogs/bin/hello
  echo 'break fault
  continue
  walk 0x404000
  step' | emu debug testprogs/bin/bss_sum
`

func main() {
	exitsAfterMain = true
	growStack(0)
	exitLikeGuest(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Main runs the emu command with args (without the program name) and returns its exit code.
func Main(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "run":
		return runCmd(args[1:], stdin, stdout, stderr)
	case "debug":
		return debugCmd(args[1:], stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		return helpCmd(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "emu: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func helpCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return 0
	}
	switch args[0] {
	case "run":
		fs, _ := runFlags(io.Discard)
		fmt.Fprint(stdout, runUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
	case "debug":
		fs, _ := debugFlags(io.Discard)
		fmt.Fprint(stdout, debugUsage)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fmt.Fprint(stdout, "\n"+debugger.CommandsHelp)
	case "trace":
		fmt.Fprint(stdout, traceHelp+"\n"+traceJSONHelp)
	case "stats":
		fmt.Fprint(stdout, statsHelp+"\n"+statsJSONHelp)
	case "gdb":
		fmt.Fprint(stdout, gdbHelp)
	case "tlb":
		fmt.Fprint(stdout, tlbSpecHelp)
	default:
		fmt.Fprintf(stderr, "emu: no help for %q (topics: run, debug, gdb, trace, stats, tlb)\n", args[0])
		return 2
	}
	return 0
}

const traceHelp = `Tracing (emu run --trace=KINDS): one line per event, in the order they happen.
KINDS is a comma-separated list of
  faults    page faults: pid, rip, address, access, the error code decoded (P W U RSVD I),
            the VMA found, the outcome (demand-zero, file-read, file-cached, cow-copy,
            cow-reuse, stack-growth, spurious, SIGSEGV, ...) and the frame mapped
  syscalls  system calls with their arguments and result, as strace shows them
  tlb       every TLB fill, eviction, invalidation and flush (many lines)
  frames    every physical frame allocated, shared (get), released (put) or freed
  process   fork, exit and context switches
  exec      execve: the program and its entry point
  signals   signals delivered, with the reason
  all       everything above
The trace goes to stderr, or to --trace-file FILE; --trace-format json writes one JSON
object per line. A line starts with the guest time (instructions retired), the pid and the
kind. A trace holds no host time: the same program, input and flags give the same trace.

Example:
  $ emu run --trace=faults,syscalls testprogs/bin/hello
           0  pid 2   fault    supervisor write at 0x7fffffffefe4  rip 0x0  code 0x3 [P W - - -]  vma [stack] ...
           0  pid 2   fault    user fetch at 0x401030  rip 0x401030  code 0x14 [- - U - I]  vma testprogs/bin/hello 0x401000-0x402000 r-xp  => file-read, frame 0xa
           9  pid 2   fault    user read at 0x402001  rip 0x40100c  code 0x4 [- - U - -]  vma testprogs/bin/hello 0x402000-0x403000 r--p  => file-read, frame 0xb
  hello, world
          51  pid 2   syscall  write(0x1, 0x402000, 0xd) = 13
          56  pid 2   syscall  exit_group(0x0) = 0
`

const statsHelp = `Statistics (emu run --stats, or --stats-json FILE): at the end of the run, the
instructions retired, the host wall time and guest MIPS (so --stats times a program),
system calls by name, page faults by outcome, TLB hits, misses, hit rate, walks, fills,
evictions, invalidations and flushes per TLB, frames in use, at peak, shared (reference
count above one) and copied (copy-on-write), page-table pages and processes created.
`

// growStack grows the main goroutine's stack to the 16 KiB a run needs in one step, while
// only two frames are on it: grown later, 2 KiB at a time, each copy walks every frame of a
// deep stack through the runtime's tables (tens of page faults of a cold binary).
//
//go:noinline
func growStack(i int) byte {
	var buf [12 << 10]byte
	buf[i] = 1
	return buf[(i+1)%len(buf)]
}
