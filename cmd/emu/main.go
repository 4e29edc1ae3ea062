// Command emu is the user's door to the emulated machine: `emu run` runs an x86-64 Linux
// program on the emulated CPU, MMU and mini-kernel, with the guest's standard input and
// output connected to the host's and the guest's exit status as its own.
//
// It wires the parts together and formats what they report; it holds no policy of its own
// (no paging, scheduling or fault decisions: those belong to minikernel).
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `emu: an x86-64 paging emulator (CPU, four-level MMU and TLB, mini-kernel)

Usage:
  emu run [flags] PROG [ARGS...]   run an x86-64 Linux ELF program
  emu help [COMMAND]               show help (emu help run lists every flag)

Examples:
  emu run testprogs/bin/hello
  emu run --stats testprogs/bin/bss_sum
`

func main() {
	os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
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
		return 0
	}
	fmt.Fprintf(stderr, "emu: no help for %q\n", args[0])
	return 2
}
