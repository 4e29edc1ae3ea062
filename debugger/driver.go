package debugger

import (
	"fmt"
	"io"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
)

// A session under another driver: when gdb runs the program (through the gdb stub), the
// session keeps its views and its breakpoints on page faults and system calls, which the
// driver asks about before it lets the kernel handle a trap (TrapBreak); running, address
// breakpoints and watchpoints are the driver's own.

// SetDriver names the debugger that runs the program ("gdb"), or "" for the session itself.
func (d *Session) SetDriver(name string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.driver = name
}

// allowed refuses, under another driver, the commands that are that driver's to do.
func (d *Session) allowed(cmd string, args []string) error {
	if d.driver == "" {
		return nil
	}
	switch cmd {
	case "step", "s", "stepi", "si", "continue", "c", "cont", "run", "r":
		return fmt.Errorf("%s runs the program here: use its own commands (stepi, continue)", d.driver)
	case "quit", "q", "exit":
		return fmt.Errorf("%s ends the session: detach or kill there", d.driver)
	case "watch":
		return fmt.Errorf("under %s, use its watch command (a hardware watchpoint)", d.driver)
	case "break", "b":
		if len(args) == 0 {
			return nil
		}
		switch strings.ToLower(args[0]) {
		case "fault", "faults", "pf", "syscall", "syscalls", "sys":
			return nil
		case "exec", "execve":
			return fmt.Errorf("under %s, use catch exec", d.driver)
		}
		return fmt.Errorf("under %s, use its break command", d.driver)
	}
	return nil
}

// TrapBreak reports whether one of the session's breakpoints (break fault, break syscall)
// stops the program at pt, a trap the kernel has not handled yet, and then writes to w what
// emu debug shows at such a stop: the fault decoded, with its VMA, its PTE and the
// kernel's coming decision, or the system call and its arguments.
func (d *Session) TrapBreak(w io.Writer, pt *minikernel.PendingTrap) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	var bp *breakpoint
	switch {
	case pt.Kind == cpu.TrapSyscall:
		bp = d.syscallBreak(pt)
	case pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF:
		bp = d.faultBreak(pt)
	}
	if bp == nil {
		return false
	}
	d.out = safetext.NewWriter(w)
	defer func() { d.out = d.log }()
	d.showStop(pt, bp)
	return true
}
