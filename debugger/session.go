// Package debugger is emu's stepping debugger: one session over a running kernel that stops
// a program at a page fault before the kernel handles it (minikernel.RunToTrap), shows the
// fault decoded with its VMA and PTE, lets the kernel handle it (HandleTrap) and shows what it
// did; breakpoints on faults, system calls, exec and addresses; PTE watchpoints; and the views
// of the machine (walk, vmas, tlb, frames, x, ps, regs). Every view reads without side
// effects, so looking never changes what the program does.
//
// A session is driven by lines of commands from any input: the terminal or a script (Serve),
// gdb's monitor command, a web page's console (Exec, with the output of each command written
// where the caller asks). It knows the kernel and the hardware types; it knows nothing of
// flags, terminals, sockets or protocols.
package debugger

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
)

// CommandsHelp lists the commands a session runs (emu help debug prints it).
const CommandsHelp = `Commands (ADDR is a number such as 0x404000, a register such as rsp or $rip, or a symbol
such as main, optionally +/- a number):
  step [N]             run one instruction, or let the kernel handle the trap the program
                       stopped at, and show what happened; N times (s)
  continue             run until a breakpoint, a watchpoint, a CPU exception or the end (c)
  break fault [KIND]   stop at a page fault before the kernel handles it; KIND is an outcome
                       the kernel will choose: demand-zero, file-read, file-cached, file
                       (either), cow (cow-copy or cow-reuse), cow-copy, cow-reuse,
                       stack-growth, spurious, swap-in, swap-cached, swap (either),
                       major (file-read or swap-in: the page must be read), minor,
                       sigsegv, sigbus (any when omitted)
  break syscall [NAME] stop at a system call (by name or number) before the kernel runs it
  break exec           stop after an execve has loaded a new program
  break shootdown      stop after a TLB shootdown (a CPU interrupted others to invalidate)
  break addr ADDR      stop before the instruction at ADDR executes
  watch pte ADDR       stop when the page-table entry mapping ADDR (in this process) changes,
                       whether the kernel wrote it or the MMU set its A or D bit (the
                       program then runs one instruction at a time: slower)
  breaks               list breakpoints and watchpoints;  delete N|all  removes them
  regs                 the registers, with RFLAGS decoded
  where                the next instruction, disassembled
  walk ADDR            the four-level page walk: the index at each level, each entry with its
                       bits, and the frame reached or the level where the walk stopped and why
  vmas [PID]           the process's VMAs, with the pages resident in each
  tlb                  the valid entries of each TLB and its counters (every CPU's)
  cpu [N|auto]         what each CPU runs and which tables its CR3 holds; cpu N makes the
                       views (regs, where, walk, x) describe CPU N
  threads              every thread: its process, state, CPU and the call it sleeps in
  frames [shared|PFN]  frames in use: kind, reference count, page-reclaim state (lru:
                       the policy may take it; locked; swap-cache slot N), who maps each
  swap                 the swap area's slots in use: entries naming each, the frame of
                       its page in the swap cache, and the PTEs that name it
  x ADDR [N]           N bytes of memory at ADDR (default 64), hex and ASCII
  ps                   processes
  trace KINDS|off      print events of these kinds as they happen (see emu help trace)
  help                 this list;  quit  ends the session (q)
At a terminal, an empty line repeats the last step or continue.
Permission letters: r (present) w (writable) x (executable) u (user) g (global)
a (accessed) d (dirty); "-" for a clear bit.
`

// Session is one debugging session over a kernel: the program it follows, its breakpoints
// and watchpoints, the trap the program stopped at and the event kinds it traces. Commands
// run one at a time (Exec holds a lock), whichever input they come from.
type Session struct {
	mu        sync.Mutex
	k         *minikernel.Kernel
	log       io.Writer // where output goes between commands (traces while another driver runs)
	out       io.Writer // where the running command's output goes
	init      *minikernel.Process
	pending   *minikernel.PendingTrap // raised, not yet handled
	bps       []*breakpoint
	nextID    int
	trace     describe.KindSet
	recent    []recorded // events of the last kernel action
	maxInsns  uint64
	dead      error // the emulator failed: nothing more can run
	syms      symbols
	errors    int
	driver    string                       // "gdb" when another debugger runs the program: step and continue are its
	running   bool                         // a step or continue of the session runs: recent collects events
	tick      func(view func() *View) bool // SetTick
	greeted   bool                         // Serve has printed the banner
	viewedCPU int                          // the CPU the views describe (cpu N); -1: the one that ran last
	quit      bool                         // a command ended the session
}

// recorded is an event kept past its delivery, with a copy of its VMA.
type recorded struct {
	ev  minikernel.Event
	vma minikernel.VMA
}

const continueQuantum = 1 << 20

// New starts a session over k and subscribes it to k's events. Output that belongs to no
// command (trace lines while the machine runs under another driver) goes to log. maxInsns,
// when not 0, is the instruction limit step and continue respect (emu's --max-insns).
func New(k *minikernel.Kernel, log io.Writer, maxInsns uint64) *Session {
	if log == nil {
		log = io.Discard
	}
	log = safetext.NewWriter(log) // names come from the guest and its ELF files
	d := &Session{k: k, log: log, out: log, nextID: 1, maxInsns: maxInsns, syms: symbols{}, viewedCPU: -1}
	k.Subscribe(d.observe)
	return d
}

// Follow names the program the session is about: the process the views default to once
// nothing runs, and whose exit ends continue.
func (d *Session) Follow(p *minikernel.Process) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init = p
}

// Errors counts the commands that failed so far.
func (d *Session) Errors() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.errors
}

func (d *Session) printf(format string, args ...any) { fmt.Fprintf(d.out, format, args...) }

func (d *Session) observe(e *minikernel.Event) {
	if d.trace.Has(e.Kind) {
		d.out.Write(append(describe.AppendEventText([]byte("trace "), e, len(d.k.CPUs()) > 1), '\n'))
	}
	if e.Kind == minikernel.EvTLB || e.Kind == minikernel.EvFrame || !d.running {
		return
	}
	r := recorded{ev: *e}
	if e.VMA != nil {
		r.vma = *e.VMA
		r.ev.VMA = &r.vma
	}
	d.recent = append(d.recent, r)
}

// Exec runs one command line (as typed: comments after # and surrounding blanks are
// ignored), writing what it shows to w, and reports whether the session should end (quit).
// A command that fails writes "error: ..." to w and returns the error as well.
func (d *Session) Exec(w io.Writer, line string) (quit bool, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.out = safetext.NewWriter(w)
	defer func() { d.out = d.log }()
	line = cleanLine(line)
	if line == "" {
		return false, nil
	}
	if d.init == nil {
		return false, fmt.Errorf("debugger: no program to debug (Follow names it)")
	}
	d.running = true
	defer func() { d.running = false }()
	return d.command(line)
}

// cleanLine drops a comment and the blanks around a command.
func cleanLine(line string) string {
	line = strings.TrimSpace(line)
	if i := strings.IndexByte(line, '#'); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	return line
}

// Serve reads commands from in and runs them until quit or the end of input, writing to the
// session's log; it returns emu's exit code: 0, or 1 when a command failed in a script. At
// a terminal (interactive) it prompts, and an empty line repeats the last step or continue;
// otherwise each command is echoed after the prompt, so the output reads as a transcript.
func (d *Session) Serve(in io.Reader, interactive bool) int {
	w := d.log
	d.mu.Lock()
	if !d.greeted {
		// The banner once per session: a script and then the terminal may both be served.
		d.greeted = true
		fmt.Fprintf(w, "emu debug: pid %d %s loaded; stopped before its first instruction\n", d.init.PID, d.init.Exe())
		fmt.Fprintf(w, "%s\n", d.where())
	}
	d.mu.Unlock()
	if interactive {
		fmt.Fprintf(w, "Type help for the commands.\n")
	}
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 4096), 1<<20)
	last := ""
	for {
		if interactive {
			fmt.Fprintf(w, "(emu) ")
		}
		if !sc.Scan() {
			if interactive {
				fmt.Fprintf(w, "\n")
			}
			break
		}
		line := cleanLine(sc.Text())
		if line == "" {
			// At a terminal, an empty line repeats a step or continue, as in gdb.
			if !interactive || last == "" {
				continue
			}
			line = last
		}
		last = ""
		if f := strings.Fields(line); f[0] == "step" || f[0] == "s" || f[0] == "continue" || f[0] == "c" {
			last = line
		}
		if !interactive {
			fmt.Fprintf(w, "(emu) %s\n", line)
		}
		if quit, _ := d.Exec(w, line); quit {
			break
		}
	}
	if d.Errors() > 0 && !interactive {
		return 1
	}
	return 0
}

// maxArgs is how many arguments each command takes at most: more is an error, not
// something silently ignored.
var maxArgs = map[string]int{
	"step": 1, "s": 1, "stepi": 1, "si": 1,
	"continue": 0, "c": 0, "cont": 0, "run": 0, "r": 0,
	"break": 2, "b": 2, "watch": 2, "breaks": 0, "info": 1, "delete": 1, "d": 1,
	"regs": 0, "registers": 0, "where": 0, "w": 0, "walk": 1, "vmas": 1, "maps": 1, "tlb": 0,
	"frames": 1, "swap": 0, "x": 2, "ps": 0, "trace": 1, "help": 0, "h": 0, "?": 0, "quit": 0, "q": 0, "exit": 0,
}

// command runs one command line; it reports whether the session should end.
func (d *Session) command(line string) (bool, error) {
	f := strings.Fields(line)
	cmd, args := strings.ToLower(f[0]), f[1:]
	if err := d.allowed(cmd, args); err != nil {
		d.errors++
		d.printf("error: %v\n", err)
		return false, err
	}
	var err error
	if max, ok := maxArgs[cmd]; ok && len(args) > max {
		err = fmt.Errorf("%s takes at most %d argument%s; %q is one too many (type help)", cmd, max,
			map[bool]string{true: "", false: "s"}[max == 1], args[max])
		if max == 0 {
			err = fmt.Errorf("%s takes no arguments; %q is one too many (type help)", cmd, args[0])
		}
		d.errors++
		d.printf("error: %v\n", err)
		return false, err
	}
	switch cmd {
	case "step", "s", "stepi", "si":
		err = d.cmdStep(args)
	case "continue", "c", "cont", "run", "r":
		err = d.cmdContinue(args)
	case "break", "b":
		err = d.cmdBreak(args)
	case "watch":
		err = d.cmdWatch(args)
	case "breaks", "info":
		d.cmdBreaks()
	case "delete", "d":
		err = d.cmdDelete(args)
	case "regs", "registers":
		err = d.cmdRegs()
	case "where", "w":
		d.printf("%s\n", d.where())
	case "walk":
		err = d.cmdWalk(args)
	case "vmas", "maps":
		err = d.cmdVMAs(args)
	case "tlb":
		d.cmdTLB()
	case "swap":
		err = d.cmdSwap(args)
	case "frames":
		err = d.cmdFrames(args)
	case "x":
		err = d.cmdExamine(args)
	case "cpu", "cpus":
		err = d.cmdCPU(args)
	case "threads", "thread":
		d.cmdThreads()
	case "ps":
		d.cmdPS()
	case "trace":
		err = d.cmdTrace(args)
	case "help", "h", "?":
		d.printf("%s", CommandsHelp)
	case "quit", "q", "exit":
		d.quit = true
		return true, nil
	default:
		err = fmt.Errorf("unknown command %q (type help for the list)", cmd)
	}
	if err != nil {
		d.errors++
		d.printf("error: %v\n", err)
	}
	return false, err
}

// --- running ---

// runnable says why nothing can run, or returns nil.
func (d *Session) runnable() error {
	switch {
	case d.dead != nil:
		return fmt.Errorf("the emulator stopped: %v", d.dead)
	case !d.k.Live():
		return fmt.Errorf("the program has exited (%s)", describe.ExitText(d.init.WaitStatus()))
	case d.maxInsns > 0 && d.k.Instructions() >= d.maxInsns:
		return fmt.Errorf("the instruction limit (%d) is reached", d.maxInsns)
	}
	return nil
}

func (d *Session) cmdStep(args []string) error {
	n := uint64(1)
	if len(args) > 0 {
		v, err := strconv.ParseUint(args[0], 0, 64)
		if err != nil || v == 0 {
			return fmt.Errorf("step: %q is not a positive count", args[0])
		}
		n = v
	}
	for i := uint64(0); i < n; i++ {
		if err := d.runnable(); err != nil {
			return err
		}
		if i > 0 && d.ticked() {
			return nil
		}
		last := i == n-1
		if d.pending != nil {
			if stop := d.handlePending(true); stop {
				return nil
			}
			if last {
				d.printf("%s\n", d.where())
			}
			continue
		}
		d.recent = d.recent[:0]
		pt, err := d.k.RunToTrap(1)
		if err != nil {
			return err
		}
		d.showScheduling()
		if pt.Kind == cpu.TrapBudget {
			if err := d.k.HandleTrap(pt); err != nil {
				return err
			}
			if d.checkWatches() {
				d.printf("%s\n", d.where())
				return nil
			}
			if last {
				d.printf("%s\n", d.where())
			}
			continue
		}
		d.checkWatches()
		d.stopAtTrap(&pt, nil)
		if pt.Kind == cpu.TrapInternal {
			return nil
		}
	}
	return nil
}

func (d *Session) cmdContinue(args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("continue takes no arguments")
	}
	first := true
	for {
		if err := d.runnable(); err != nil {
			if d.maxInsns > 0 && d.k.Instructions() >= d.maxInsns && d.dead == nil && d.k.Live() {
				d.printf("stopped: %v\n%s\n", err, d.where())
				return nil
			}
			return err
		}
		if d.pending != nil {
			// A fault leaves RIP at the faulting instruction: a breakpoint there is the one
			// the program stopped at, not a new one, so first stays as it was.
			if stop := d.handlePending(false); stop {
				return nil
			}
			continue
		}
		if !first {
			if bp := d.addrBreak(d.k.CPU().RIP()); bp != nil {
				bp.hits++
				d.printf("breakpoint %d: address %s\n%s\n", bp.id, d.symbolic(bp.addr), d.where())
				return nil
			}
		}
		if !first && d.ticked() {
			return nil
		}
		first = false
		budget := uint64(continueQuantum)
		single := d.needsSingleStep()
		if single {
			budget = 1
		}
		if d.maxInsns > 0 {
			budget = min(budget, d.maxInsns-d.k.Instructions())
		}
		pt, err := d.k.RunToTrap(budget)
		if err != nil {
			return err
		}
		if single && d.checkWatches() {
			if pt.Kind != cpu.TrapBudget {
				d.pending = &pt
				d.printf("(the instruction then trapped: %v; step to let the kernel handle it)\n", pt.Trap)
			} else if err := d.k.HandleTrap(pt); err != nil {
				return err
			}
			d.printf("%s\n", d.where())
			return nil
		}
		switch pt.Kind {
		case cpu.TrapBudget:
			if err := d.k.HandleTrap(pt); err != nil {
				return err
			}
		case cpu.TrapException:
			if pt.Vector != cpu.VecPF {
				d.stopAtTrap(&pt, nil)
				return nil
			}
			if bp := d.faultBreak(&pt); bp != nil {
				d.stopAtTrap(&pt, bp)
				return nil
			}
			d.pending = &pt
		case cpu.TrapSyscall:
			if bp := d.syscallBreak(&pt); bp != nil {
				d.stopAtTrap(&pt, bp)
				return nil
			}
			d.pending = &pt
		default:
			d.stopAtTrap(&pt, nil)
			return nil
		}
	}
}

// stopAtTrap records pt as pending and shows it, decoded, before the kernel handles it.
func (d *Session) stopAtTrap(pt *minikernel.PendingTrap, bp *breakpoint) {
	if pt.Kind == cpu.TrapInternal {
		d.dead = pt.Err
		d.printf("the emulator failed at rip %#x: %v\n", pt.RIP, pt.Err)
		return
	}
	d.pending = pt
	d.showStop(pt, bp)
}

// showStop prints a trap the kernel has not handled yet, decoded, and the breakpoint (if
// any) that stopped the program there.
func (d *Session) showStop(pt *minikernel.PendingTrap, bp *breakpoint) {
	who := "stopped"
	if bp != nil {
		bp.hits++
		who = fmt.Sprintf("breakpoint %d", bp.id)
	}
	switch {
	case pt.Kind == cpu.TrapSyscall:
		d.printf("%s: system call in pid %d, before the kernel runs it\n", who, pt.PID)
		d.showSyscall()
	case pt.Vector == cpu.VecPF:
		d.printf("%s: page fault in pid %d, before the kernel handles it\n", who, pt.PID)
		d.showFault(pt)
	default:
		d.printf("%s: pid %d raised %s at rip %s; step to let the kernel handle it\n", who, pt.PID,
			cpu.VectorName(pt.Vector), d.symbolic(pt.RIP))
		d.printf("  %v\n", pt.Trap)
		return
	}
	if d.driver != "" {
		d.printf("  (resuming in %s lets the kernel handle it)\n", d.driver)
		return
	}
	d.printf("  (step to let the kernel handle it)\n")
}

// handlePending lets the kernel handle the pending trap. With verbose it shows what the
// kernel did. It reports whether a breakpoint or watchpoint stopped the program, or it exited.
func (d *Session) handlePending(verbose bool) bool {
	pt := *d.pending
	d.pending = nil
	d.recent = d.recent[:0]
	if err := d.k.HandleTrap(pt); err != nil {
		d.dead = err
		d.printf("the emulator failed: %v\n", err)
		return true
	}
	if verbose {
		d.showKernelAction(&pt)
	}
	stop := false
	for i := range d.recent {
		e := &d.recent[i].ev
		switch e.Kind {
		case minikernel.EvExec:
			for _, bp := range d.bps {
				if bp.kind == bpExec {
					bp.hits++
					d.printf("breakpoint %d: pid %d executed %s, entry %#x\n", bp.id, e.PID, e.Path, e.RIP)
					stop = true
				}
			}
		case minikernel.EvShootdown:
			for _, bp := range d.bps {
				if bp.kind == bpShootdown {
					bp.hits++
					d.printf("breakpoint %d: TLB shootdown by %s: %s\n", bp.id, describe.TaskName(e.PID, e.TID),
						describe.EventText(e))
					stop = true
				}
			}
		case minikernel.EvPageFault:
			if !e.Kernel {
				continue
			}
			for _, bp := range d.bps {
				if bp.kind == bpFault && bp.matchesOutcome(e.Outcome) {
					bp.hits++
					d.printf("breakpoint %d: the kernel took a page fault copying for a system call (already handled)\n  %s\n",
						bp.id, describe.EventText(e))
					stop = true
				}
			}
		}
	}
	if d.checkWatches() {
		stop = true
	}
	for i := range d.recent {
		if e := &d.recent[i].ev; e.Kind == minikernel.EvExit && e.PID == d.init.PID {
			d.printf("program exited: pid %d %s\n", d.init.PID, describe.ExitText(d.init.WaitStatus()))
			if d.k.Live() {
				d.printf("  (other processes still run: continue runs them)\n")
			}
			return true
		}
	}
	if !d.k.Live() {
		d.printf("every process has exited\n")
		return true
	}
	if stop {
		d.printf("%s\n", d.where())
	}
	return stop
}

// showKernelAction prints what the kernel did for pt: the events of its handling and, for a
// page fault, the PTE now.
func (d *Session) showKernelAction(pt *minikernel.PendingTrap) {
	for i := range d.recent {
		e := &d.recent[i].ev
		if d.trace.Has(e.Kind) {
			continue // already printed by the trace
		}
		d.printf("kernel: %-7s %s\n", e.Kind, describe.EventText(e))
		if e.Kind == minikernel.EvPageFault && !e.Kernel {
			d.explainOutcome(e)
		}
	}
	if len(d.recent) == 0 && pt.Kind == cpu.TrapBudget {
		d.printf("kernel: nothing to do\n")
	}
	if pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF {
		if p := d.k.Process(pt.PID); p != nil && !p.Exited() {
			d.printf("  PTE now  %s\n", d.pteSummary(p, pt.Addr))
		}
	}
}

// showScheduling prints what the scheduler did before the last instruction ran: a switch
// to another process, a system call finished for a process it woke.
func (d *Session) showScheduling() {
	for i := range d.recent {
		e := &d.recent[i].ev
		if !d.trace.Has(e.Kind) {
			d.printf("kernel: %-7s %s\n", e.Kind, describe.EventText(e))
		}
	}
	d.recent = d.recent[:0]
}

// explainOutcome says in words what a fault's outcome means.
func (d *Session) explainOutcome(e *minikernel.Event) {
	var s string
	switch e.Outcome {
	case minikernel.FaultDemandZero:
		s = fmt.Sprintf("a zeroed frame %#x is mapped at %#x", e.Frame, e.Addr&^0xfff)
	case minikernel.FaultFileRead:
		s = fmt.Sprintf("frame %#x, filled from %s, is mapped at %#x", e.Frame, describe.VMAName(e.VMA), e.Addr&^0xfff)
	case minikernel.FaultFileCached:
		s = fmt.Sprintf("frame %#x, already in the page cache, is mapped at %#x", e.Frame, e.Addr&^0xfff)
	case minikernel.FaultCOWCopy:
		s = fmt.Sprintf("the shared frame was copied to new frame %#x, mapped writable", e.Frame)
	case minikernel.FaultCOWReuse:
		s = fmt.Sprintf("frame %#x had no other user: made writable in place, no copy", e.Frame)
	case minikernel.FaultStackGrowth:
		s = fmt.Sprintf("the stack VMA grew down to %#x; zeroed frame %#x mapped", e.Addr&^0xfff, e.Frame)
	case minikernel.FaultSpurious:
		s = "the page tables already allowed it (a stale TLB entry, dropped by the fault): retry"
	case minikernel.FaultSwapIn:
		s = fmt.Sprintf("the page was read back from swap into frame %#x, mapped at %#x (a major fault)", e.Frame, e.Addr&^0xfff)
	case minikernel.FaultSwapCached:
		s = fmt.Sprintf("the page was still in the swap cache, frame %#x: mapped at %#x without reading swap", e.Frame, e.Addr&^0xfff)
	case minikernel.FaultUserfault:
		s = fmt.Sprintf("the kernel forwarded the fault to the process's userfaultfd: thread %d sleeps until another thread resolves %#x (UFFDIO_COPY, ZEROPAGE, CONTINUE or WRITEPROTECT)", e.TID, e.Addr&^0xfff)
	default:
		return
	}
	d.printf("  %s\n", s)
}

// --- breakpoints ---

type bpKind uint8

const (
	bpFault bpKind = iota
	bpSyscall
	bpExec
	bpAddr
	bpWatch
	bpShootdown
)

type breakpoint struct {
	id       int
	kind     bpKind
	outcomes []minikernel.FaultOutcome // bpFault: nil means any
	what     string                    // as the user gave it
	sysno    int64                     // bpSyscall: -1 means any
	addr     uint64                    // bpAddr, bpWatch
	pid      int                       // bpWatch
	last     []mmu.Level               // bpWatch: the walk when last looked at
	lastPTE  mmu.PTE                   // bpWatch: the PTE then (0 while no page table holds one)
	hits     int
}

func (bp *breakpoint) matchesOutcome(o minikernel.FaultOutcome) bool {
	if bp.outcomes == nil {
		return true
	}
	for _, x := range bp.outcomes {
		if x == o {
			return true
		}
	}
	return false
}

// faultKinds are the names break fault accepts.
var faultKinds = map[string][]minikernel.FaultOutcome{
	"demand-zero":  {minikernel.FaultDemandZero},
	"zero":         {minikernel.FaultDemandZero},
	"file-read":    {minikernel.FaultFileRead},
	"file":         {minikernel.FaultFileRead, minikernel.FaultFileCached},
	"file-cached":  {minikernel.FaultFileCached},
	"cow":          {minikernel.FaultCOWCopy, minikernel.FaultCOWReuse},
	"cow-copy":     {minikernel.FaultCOWCopy},
	"cow-reuse":    {minikernel.FaultCOWReuse},
	"stack-growth": {minikernel.FaultStackGrowth},
	"stack":        {minikernel.FaultStackGrowth},
	"spurious":     {minikernel.FaultSpurious},
	"sigsegv":      {minikernel.FaultSIGSEGV},
	"segv":         {minikernel.FaultSIGSEGV},
	"sigbus":       {minikernel.FaultSIGBUS},
	"efault":       {minikernel.FaultEFAULT},
	"swap-in":      {minikernel.FaultSwapIn},
	"swap-cached":  {minikernel.FaultSwapCached},
	"swap":         {minikernel.FaultSwapIn, minikernel.FaultSwapCached},
	"userfault":    {minikernel.FaultUserfault},
	"uffd":         {minikernel.FaultUserfault},
	"major":        {minikernel.FaultFileRead, minikernel.FaultSwapIn},
	"minor": {minikernel.FaultDemandZero, minikernel.FaultFileCached, minikernel.FaultCOWCopy, minikernel.FaultCOWReuse,
		minikernel.FaultStackGrowth, minikernel.FaultSpurious, minikernel.FaultSwapCached},
}

func (d *Session) add(bp *breakpoint) {
	bp.id = d.nextID
	d.nextID++
	d.bps = append(d.bps, bp)
}

func (d *Session) cmdBreak(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("break what? fault [KIND], syscall [NAME], exec or addr ADDR")
	}
	bp := &breakpoint{what: strings.Join(args, " ")}
	switch strings.ToLower(args[0]) {
	case "fault", "faults", "pf":
		bp.kind = bpFault
		if len(args) > 1 {
			o, ok := faultKinds[strings.ToLower(args[1])]
			if !ok {
				return fmt.Errorf("break fault: unknown kind %q (want demand-zero, file-read, file-cached, file, cow, cow-copy, cow-reuse, stack-growth, spurious, swap-in, swap-cached, swap, major, minor, sigsegv, sigbus)", args[1])
			}
			bp.outcomes = o
		}
	case "syscall", "syscalls", "sys":
		bp.kind, bp.sysno = bpSyscall, -1
		if len(args) > 1 {
			nr, ok := syscallNumber(args[1])
			if !ok {
				return fmt.Errorf("break syscall: the kernel has no system call %q", args[1])
			}
			bp.sysno = int64(nr)
		}
	case "exec", "execve":
		if len(args) > 1 {
			return fmt.Errorf("break exec takes no more arguments; %q is one too many", args[1])
		}
		bp.kind = bpExec
	case "shootdown", "shootdowns":
		bp.kind = bpShootdown
	case "addr", "address", "at":
		if len(args) < 2 {
			return fmt.Errorf("break addr: which address?")
		}
		va, err := d.parseAddr(args[1])
		if err != nil {
			return err
		}
		bp.kind, bp.addr = bpAddr, va
	default:
		// "break 0x401000" and "break main" as gdb users type them.
		if len(args) > 1 {
			return fmt.Errorf("break ADDR takes one address; %q is one too many", args[1])
		}
		va, err := d.parseAddr(args[0])
		if err != nil {
			return fmt.Errorf("break: want fault, syscall, exec or addr (%v)", err)
		}
		bp.kind, bp.addr = bpAddr, va
	}
	d.add(bp)
	d.printf("breakpoint %d: %s\n", bp.id, d.describe(bp))
	return nil
}

// syscallNumber finds a system call by name or number among those the kernel implements.
func syscallNumber(s string) (uint64, bool) {
	if n, err := strconv.ParseUint(s, 0, 64); err == nil {
		return n, true
	}
	for nr := uint64(0); nr < 512; nr++ {
		if minikernel.SyscallName(nr) == s {
			return nr, true
		}
	}
	return 0, false
}

func (d *Session) cmdWatch(args []string) error {
	if len(args) != 2 || strings.ToLower(args[0]) != "pte" {
		return fmt.Errorf("usage: watch pte ADDR")
	}
	p := d.k.Current()
	if p == nil {
		return fmt.Errorf("watch: no process is running")
	}
	va, err := d.canonicalAddr(args[1])
	if err != nil {
		return err
	}
	lv := d.k.TableWalk(p.MM(), va)
	bp := &breakpoint{kind: bpWatch, addr: va, pid: p.PID, what: "pte " + args[1], last: lv, lastPTE: leafPTE(lv)}
	d.add(bp)
	d.printf("watchpoint %d: %s\n", bp.id, d.describe(bp))
	d.printf("  now      %s\n", d.pteSummary(p, va))
	return nil
}

func (d *Session) describe(bp *breakpoint) string {
	switch bp.kind {
	case bpFault:
		if bp.outcomes == nil {
			return "any page fault"
		}
		var names []string
		for _, o := range bp.outcomes {
			names = append(names, o.String())
		}
		return "page faults the kernel will resolve as " + strings.Join(names, " or ")
	case bpSyscall:
		if bp.sysno < 0 {
			return "any system call"
		}
		return fmt.Sprintf("system call %s (nr %d)", syscallDisplayName(uint64(bp.sysno)), bp.sysno)
	case bpExec:
		return "after execve"
	case bpShootdown:
		return "after a TLB shootdown"
	case bpAddr:
		return "address " + d.symbolic(bp.addr)
	case bpWatch:
		return fmt.Sprintf("the PTE mapping %#x in pid %d", bp.addr, bp.pid)
	}
	return bp.what
}

func syscallDisplayName(nr uint64) string {
	if n := minikernel.SyscallName(nr); n != "" {
		return n
	}
	return fmt.Sprintf("syscall_%d", nr)
}

func (d *Session) cmdBreaks() {
	if len(d.bps) == 0 {
		d.printf("no breakpoints or watchpoints\n")
		return
	}
	for _, bp := range d.bps {
		kind := "breakpoint"
		if bp.kind == bpWatch {
			kind = "watchpoint"
		}
		d.printf("%3d  %-10s  %-60s  hit %d times\n", bp.id, kind, d.describe(bp), bp.hits)
	}
}

func (d *Session) cmdDelete(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: delete N|all")
	}
	if args[0] == "all" {
		d.bps = nil
		return nil
	}
	id, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("delete: %q is not a breakpoint number", args[0])
	}
	for i, bp := range d.bps {
		if bp.id == id {
			d.bps = append(d.bps[:i], d.bps[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("delete: no breakpoint %d", id)
}

func (d *Session) needsSingleStep() bool {
	for _, bp := range d.bps {
		if bp.kind == bpAddr || bp.kind == bpWatch {
			return true
		}
	}
	return false
}

func (d *Session) addrBreak(rip uint64) *breakpoint {
	for _, bp := range d.bps {
		if bp.kind == bpAddr && bp.addr == rip {
			return bp
		}
	}
	return nil
}

func (d *Session) faultBreak(pt *minikernel.PendingTrap) *breakpoint {
	o, _ := d.k.PredictFault(*pt)
	for _, bp := range d.bps {
		if bp.kind == bpFault && bp.matchesOutcome(o) {
			return bp
		}
	}
	return nil
}

func (d *Session) syscallBreak(pt *minikernel.PendingTrap) *breakpoint {
	nr := int64(d.k.CPU().Reg(cpu.RAX))
	for _, bp := range d.bps {
		if bp.kind == bpSyscall && (bp.sysno < 0 || bp.sysno == nr) {
			return bp
		}
	}
	return nil
}

// checkWatches compares each watched page walk with the last one seen, shows the changes and
// reports whether there was any.
func (d *Session) checkWatches() bool {
	changed := false
	for _, bp := range d.bps {
		if bp.kind != bpWatch {
			continue
		}
		p := d.k.Process(bp.pid)
		if p == nil || p.Exited() {
			continue
		}
		now := d.k.TableWalk(p.MM(), bp.addr)
		pte := leafPTE(now)
		if pte == bp.lastPTE {
			bp.last = now
			continue
		}
		before := bp.last
		bp.last, bp.lastPTE = now, pte
		bp.hits++
		changed = true
		d.printf("watchpoint %d: the PTE mapping %#x in pid %d changed\n", bp.id, bp.addr, bp.pid)
		d.printf("  before   %s\n", d.levelSummary(before))
		d.printf("  after    %s\n", d.levelSummary(now))
	}
	return changed
}

// leafPTE is the entry a watchpoint watches: the one that maps the page (a PTE, or a PDE or
// PDPTE for a large page), or 0 while no page table holds it yet.
func leafPTE(lv []mmu.Level) mmu.PTE {
	if len(lv) == 0 {
		return 0
	}
	last := lv[len(lv)-1]
	if last.Entry&mmu.PTEPresent != 0 || last.Level == 1 {
		return last.Entry
	}
	return 0
}
