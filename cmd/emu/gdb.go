package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/debugger"
	"github.com/vmemu/vmemu/gdbstub"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
)

// --gdb ADDR: the machine as the gdb stub sees it (gdbstub.Target). The kernel runs in one
// goroutine of its own (the machine); the stub's goroutine asks it to resume and waits for
// the stop, and reads registers and memory only while the machine waits. A stop can come
// from inside the kernel, when a signal is about to be delivered to a debugged process
// (the kernel's SignalTracer, as Linux's ptrace_signal()): the machine then waits right
// there for gdb's decision, and goes on with it.

const gdbHelp = `Debugging with gdb (emu run --gdb ADDR PROG, or emu debug --gdb ADDR PROG):
emu loads PROG and waits for gdb before its first instruction. ADDR is HOST:PORT, :PORT (on
the loopback address only) or a path (a Unix socket). Then, in another terminal:

  gdb -ex 'target remote :1234' PROG

Breakpoints, stepping, watchpoints (hardware, exact: checked in the MMU), signals (the
program stops before one is delivered), fork and exec events, shared libraries and Ctrl-C
work as with any remote target. No breakpoint is written into the program's memory, and
gdb's reads of memory change nothing (no accessed bit, no TLB fill, no page made present).

monitor CMD runs emu debug's views in gdb: walk ADDR, vmas, tlb, frames, x ADDR [N], ps,
regs, where, trace KINDS, breaks, delete; monitor break fault [KIND] and monitor break
syscall [NAME] stop the program before the kernel handles a page fault or a system call
(gdb reports a SIGTRAP after the emulator's explanation; continue lets the kernel go on).

emu debug --gdb runs the --script commands first, then lets gdb drive. When gdb detaches or
goes away, the program runs on to its end; kill ends it.
`

// gdbTarget implements gdbstub.Target over a kernel.
type gdbTarget struct {
	k    *minikernel.Kernel
	d    *debugger.Session // monitor commands, and its break fault / break syscall
	init *minikernel.Process
	log  io.Writer

	attached map[int]bool                 // the processes gdb debugs
	bps      map[int][]gdbstub.Breakpoint // their breakpoints and watchpoints
	bpsDirty bool                         // the CPU's and MMU's copies are stale
	pending  *minikernel.PendingTrap      // a trap stopped at before the kernel handled it
	passOnce map[int]int                  // a signal gdb resumed with: delivered without a stop
	vforked  map[int]bool                 // vfork parents that owe gdb a vforkdone stop
	events   []minikernel.Event           // fork, exec and exit events of the last kernel action
	forkEv   bool                         // gdb wants fork events
	vforkEv  bool                         // ... vfork events
	execEv   bool                         // ... exec events
	maxInsns uint64

	// The machine goroutine and the stub's: actions go one way, stops the other.
	resume  chan []gdbstub.Action
	stops   chan gdbstub.Stop
	done    chan struct{}
	started bool
	acts    []gdbstub.Action // the actions of the current resume (machine goroutine)
	gen     int              // stops reported so far: a step that outlived one is over
	free    bool             // gdb has gone: run to the end, debugging nothing
	intr    func() bool
	dead    error // the emulator failed: nothing can run
	code    int   // the run's exit code, once free
	runErr  error
}

func newGDBTarget(k *minikernel.Kernel, init *minikernel.Process, d *debugger.Session, log io.Writer, maxInsns uint64) *gdbTarget {
	g := &gdbTarget{k: k, d: d, init: init, log: log, maxInsns: maxInsns,
		attached: map[int]bool{init.PID: true}, bps: map[int][]gdbstub.Breakpoint{},
		passOnce: map[int]int{}, vforked: map[int]bool{},
		resume: make(chan []gdbstub.Action), stops: make(chan gdbstub.Stop), done: make(chan struct{}),
		intr: func() bool { return false }}
	init.SetTraced(true)
	k.SetTracer(g.signalStop)
	k.Subscribe(g.observe)
	d.SetDriver("gdb")
	return g
}

func tidOf(p *minikernel.Process) gdbstub.ThreadID { return gdbstub.ThreadID{PID: p.PID, TID: p.PID} }

func (g *gdbTarget) observe(e *minikernel.Event) {
	switch e.Kind {
	case minikernel.EvFork, minikernel.EvExec, minikernel.EvExit:
		g.events = append(g.events, *e)
	}
}

// process returns a debugged process that has not exited.
func (g *gdbTarget) process(pid int) (*minikernel.Process, error) {
	p := g.k.Process(pid)
	if p == nil || !g.attached[pid] || p.Exited() {
		return nil, fmt.Errorf("no process %d", pid)
	}
	return p, nil
}

// --- gdbstub.Target: state ---

func (g *gdbTarget) Threads() []gdbstub.Thread {
	var ts []gdbstub.Thread
	for _, p := range g.k.Processes() {
		if g.attached[p.PID] && !p.Exited() {
			ts = append(ts, gdbstub.Thread{ID: tidOf(p), Name: p.Name()})
		}
	}
	return ts
}

func (g *gdbTarget) Registers(t gdbstub.ThreadID) (gdbstub.Registers, error) {
	p, err := g.process(t.PID)
	if err != nil {
		return gdbstub.Registers{}, err
	}
	r := gdbstub.Registers{State: g.k.Regs(p), OrigRAX: p.OrigRAX()}
	if pt := g.pending; pt != nil && pt.PID == p.PID && pt.Kind == cpu.TrapSyscall {
		r.OrigRAX = int64(r.GPR[cpu.RAX]) // at a system call's entry, before the kernel runs it
	}
	return r, nil
}

func (g *gdbTarget) SetRegisters(t gdbstub.ThreadID, r gdbstub.Registers) error {
	p, err := g.process(t.PID)
	if err != nil {
		return err
	}
	if pt := g.pending; pt != nil && pt.PID == p.PID && pt.RIP != r.RIP && pt.Kind != cpu.TrapSyscall {
		g.pending = nil // the faulting instruction will not run again: its fault is moot
	}
	g.k.SetRegs(p, r.State)
	if !(g.pending != nil && g.pending.PID == p.PID && g.pending.Kind == cpu.TrapSyscall) {
		p.SetOrigRAX(r.OrigRAX)
	}
	return nil
}

func (g *gdbTarget) ReadMemory(pid int, addr uint64, buf []byte) (int, error) {
	p, err := g.process(pid)
	if err != nil {
		return 0, err
	}
	return g.k.ReadMemory(p, addr, buf)
}

func (g *gdbTarget) WriteMemory(pid int, addr uint64, data []byte) (int, error) {
	p, err := g.process(pid)
	if err != nil {
		return 0, err
	}
	return g.k.WriteMemory(p, addr, data)
}

func (g *gdbTarget) Auxv(pid int) ([]byte, error) {
	p, err := g.process(pid)
	if err != nil {
		return nil, err
	}
	return p.Auxv(), nil
}

func (g *gdbTarget) ExecFile(pid int) (string, error) {
	p, err := g.process(pid)
	if err != nil {
		return "", err
	}
	return p.Exe(), nil
}

func (g *gdbTarget) Monitor(cmd string) (string, error) {
	var b bytes.Buffer
	_, err := g.d.Exec(&b, cmd)
	return b.String(), err
}

func (g *gdbTarget) ReportEvents(fork, vfork, exec bool) {
	g.forkEv, g.vforkEv, g.execEv = fork, vfork, exec
}

// --- breakpoints and watchpoints ---

func (g *gdbTarget) InsertBreakpoint(pid int, bp gdbstub.Breakpoint) error {
	if _, err := g.process(pid); err != nil {
		return err
	}
	if bp.Kind >= gdbstub.WriteWatch && (bp.Len == 0 || bp.Len > 1<<20 || bp.Addr+bp.Len < bp.Addr) {
		return fmt.Errorf("a watchpoint of %d bytes at %#x", bp.Len, bp.Addr)
	}
	if !slices.Contains(g.bps[pid], bp) {
		g.bps[pid] = append(g.bps[pid], bp)
	}
	g.bpsDirty = true
	return nil
}

func (g *gdbTarget) RemoveBreakpoint(pid int, bp gdbstub.Breakpoint) error {
	if i := slices.Index(g.bps[pid], bp); i >= 0 {
		g.bps[pid] = slices.Delete(g.bps[pid], i, i+1)
		g.bpsDirty = true
	}
	return nil
}

// syncBreakpoints gives the CPU and the MMU the breakpoints and watchpoints of the debugged
// processes, each in its address space as it is now.
func (g *gdbTarget) syncBreakpoints() {
	if !g.bpsDirty {
		return
	}
	g.bpsDirty = false
	var ibs []cpu.Breakpoint
	var ws []mmu.Watchpoint
	for pid, list := range g.bps {
		p := g.k.Process(pid)
		if p == nil || p.MM() == nil || !g.attached[pid] {
			continue
		}
		space := p.MM().PML4() << 12
		for _, bp := range list {
			switch bp.Kind {
			case gdbstub.SoftwareBreak, gdbstub.HardwareBreak:
				ibs = append(ibs, cpu.Breakpoint{Space: space, Addr: bp.Addr})
			default:
				ws = append(ws, mmu.Watchpoint{Space: space, Addr: bp.Addr, Len: bp.Len,
					Read: bp.Kind != gdbstub.WriteWatch, Write: bp.Kind != gdbstub.ReadWatch})
			}
		}
	}
	g.k.CPU().SetBreakpoints(ibs)
	g.k.MMU().SetWatchpoints(ws)
}

// breakStop describes the #DB trap of one of gdb's breakpoints or watchpoints in p.
func (g *gdbTarget) breakStop(p *minikernel.Process, pt *minikernel.PendingTrap) gdbstub.Stop {
	st := gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(p), Signal: gdbstub.SIGTRAP, Code: 4, Addr: pt.RIP}
	if pt.Code&cpu.DR6Watch != 0 {
		hit, _ := g.k.MMU().LastWatchHit()
		st.WatchAddr = hit.Addr
		st.Reason = "awatch"
		for _, bp := range g.bps[p.PID] {
			if bp.Addr == hit.Addr && bp.Len == hit.Len && bp.Kind >= gdbstub.WriteWatch {
				st.Reason = map[gdbstub.BreakKind]string{gdbstub.WriteWatch: "watch", gdbstub.ReadWatch: "rwatch",
					gdbstub.AccessWatch: "awatch"}[bp.Kind]
				if (bp.Kind == gdbstub.WriteWatch) == (hit.Access&mmu.Write != 0) {
					break // the watchpoint of the kind the access was
				}
			}
		}
		return st
	}
	st.Reason = "hwbreak"
	if slices.Contains(g.bps[p.PID], gdbstub.Breakpoint{Kind: gdbstub.SoftwareBreak, Addr: pt.RIP, Len: 1}) {
		st.Reason = "swbreak"
	}
	return st
}

// --- running ---

// Resume hands the actions to the machine goroutine and waits for its stop.
func (g *gdbTarget) Resume(acts []gdbstub.Action, interrupted func() bool) gdbstub.Stop {
	g.intr = interrupted
	if !g.started {
		g.started = true
		go g.machine()
	}
	g.resume <- acts
	return <-g.stops
}

// machine is the goroutine that runs the kernel: resume, stop, report, wait, again.
func (g *gdbTarget) machine() {
	defer close(g.done)
	g.acts = <-g.resume
	for {
		st, ok := g.run()
		if !ok {
			return
		}
		g.acts = g.report(st)
	}
}

// report hands a stop to the stub and waits for the next resume (nil: gdb has gone).
func (g *gdbTarget) report(st gdbstub.Stop) []gdbstub.Action {
	g.gen++
	g.stops <- st
	acts := <-g.resume
	if acts == nil {
		g.free = true
	}
	return acts
}

// action is what the current resume asks of a process's thread (nil: nothing, it stays).
func (g *gdbTarget) action(pid int) *gdbstub.Action {
	for i := range g.acts {
		a := &g.acts[i]
		if (a.Thread.PID <= 0 || a.Thread.PID == pid) && (a.Thread.TID <= 0 || a.Thread.TID == pid) {
			return a
		}
	}
	return nil
}

// signalStop is the kernel's SignalTracer: a debugged process is about to get a signal.
func (g *gdbTarget) signalStop(p *minikernel.Process, info []byte) int {
	le := binary.LittleEndian
	sig := int(int32(le.Uint32(info[0:])))
	if g.free || !g.attached[p.PID] {
		return sig
	}
	if g.passOnce[p.PID] == sig {
		delete(g.passOnce, p.PID) // the signal gdb itself resumed with: no stop again
		return sig
	}
	st := gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(p), Signal: sig,
		Code: int(int32(le.Uint32(info[8:])))}
	if sigWithAddr(sig) && st.Code > 0 {
		st.Addr = le.Uint64(info[16:])
	} else {
		st.Addr = uint64(le.Uint32(info[16:]))
	}
	g.acts = g.report(st)
	if g.free {
		return sig
	}
	a := g.action(p.PID)
	if a == nil {
		return sig
	}
	s := a.Signal
	a.Signal = 0 // consumed here: not to be sent again
	return s
}

func sigWithAddr(sig int) bool {
	switch sig {
	case 4, 5, 7, 8, 11: // SIGILL SIGTRAP SIGBUS SIGFPE SIGSEGV
		return true
	}
	return false
}

// stopThread is the thread a stop that concerns no thread in particular (an interrupt) is
// reported for: the running debugged process, else the first one.
func (g *gdbTarget) stopThread() gdbstub.ThreadID {
	if p := g.k.Current(); p != nil && g.attached[p.PID] && !p.Exited() {
		return tidOf(p)
	}
	for _, t := range g.Threads() {
		return t.ID
	}
	return tidOf(g.init)
}

const gdbQuantum = 1 << 20

// run runs the machine as g.acts say until a stop gdb must hear of. It returns false once
// gdb has gone and the program has run to its end.
func (g *gdbTarget) run() (gdbstub.Stop, bool) {
	g.startResume()
	gen := g.gen
	for {
		if g.free {
			g.freeRun()
			return gdbstub.Stop{}, false
		}
		if gen != g.gen { // a signal stop inside the kernel: the actions are new
			g.startResume()
			gen = g.gen
		}
		if g.dead != nil {
			return gdbstub.Stop{Kind: gdbstub.StopNoResumed, Thread: g.stopThread(),
				Note: fmt.Sprintf("emu: the emulator stopped: %v\n", g.dead)}, true
		}
		for pid := range g.vforked {
			if a := g.action(pid); a != nil && g.attached[pid] {
				delete(g.vforked, pid)
				return gdbstub.Stop{Kind: gdbstub.StopVForkDone, Thread: gdbstub.ThreadID{PID: pid, TID: pid}}, true
			}
		}
		if g.intr() {
			return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: g.stopThread(), Signal: gdbstub.SIGINT}, true
		}
		if g.pending != nil {
			pt := *g.pending
			g.pending = nil
			if st, stop := g.handle(pt, 0); stop {
				return st, true
			}
			continue
		}
		if !g.k.Live() {
			return gdbstub.Stop{Kind: gdbstub.StopNoResumed, Thread: tidOf(g.init)}, true
		}
		stepping := g.steppingPID()
		budget := uint64(gdbQuantum)
		if stepping != 0 {
			budget = 1
		}
		if g.maxInsns > 0 {
			done := g.k.CPU().Instructions()
			if done >= g.maxInsns {
				return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: g.stopThread(), Signal: gdbstub.SIGKILL,
					Note: fmt.Sprintf("emu: the instruction limit (--max-insns %d) is reached: nothing more runs\n", g.maxInsns)}, true
			}
			budget = min(budget, g.maxInsns-done)
		}
		pt, err := g.k.RunToTrap(budget)
		if err != nil {
			g.dead = err
			continue
		}
		p := g.k.Process(pt.PID)
		debugged := p != nil && g.attached[pt.PID]
		switch {
		case pt.Kind == cpu.TrapInternal:
			g.dead = pt.Err
			continue
		case debugged && pt.Kind == cpu.TrapException && pt.Vector == cpu.VecDB && pt.Code&(cpu.DR6Breakpoint|cpu.DR6Watch) != 0:
			return g.breakStop(p, &pt), true
		case debugged && (pt.Kind == cpu.TrapSyscall || pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF):
			var note bytes.Buffer
			if g.d.TrapBreak(&note, &pt) {
				g.pending = &pt
				return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(p), Signal: gdbstub.SIGTRAP,
					Note: "emu: " + note.String()}, true
			}
		}
		retired := pt.Kind == cpu.TrapBudget || pt.Kind == cpu.TrapSyscall
		if st, stop := g.handle(pt, gen); stop {
			return st, true
		}
		if debugged && stepping == pt.PID && retired && gen == g.gen && !p.Exited() {
			return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(p), Signal: gdbstub.SIGTRAP, Code: 2}, true
		}
	}
}

// startResume applies what a new resume asks before anything runs: the signals gdb
// resumes threads with (those not already given back to the kernel's signal stop), the
// breakpoints as they are now, and RF for the thread resuming at a breakpoint.
func (g *gdbTarget) startResume() {
	for i := range g.acts {
		a := &g.acts[i]
		if a.Signal == 0 || a.Thread.PID <= 0 {
			continue
		}
		if p, err := g.process(a.Thread.PID); err == nil {
			g.passOnce[p.PID] = a.Signal
			g.k.SendSignal(p, a.Signal)
		}
		a.Signal = 0
	}
	g.syncBreakpoints()
	if p := g.k.Current(); p != nil && g.attached[p.PID] {
		g.k.CPU().ResumeAtBreakpoint()
	}
}

// steppingPID is the debugged process the actions single-step, or 0.
func (g *gdbTarget) steppingPID() int {
	for _, a := range g.acts {
		if a.Step && a.Thread.PID > 0 && g.attached[a.Thread.PID] {
			return a.Thread.PID
		}
	}
	return 0
}

// handle lets the kernel handle pt and turns what it did to debugged processes (exit,
// fork, exec) into a stop, if gdb must hear of it.
func (g *gdbTarget) handle(pt minikernel.PendingTrap, gen int) (gdbstub.Stop, bool) {
	vfork := false
	if pt.Kind == cpu.TrapSyscall {
		c := g.k.CPU()
		nr := c.Reg(cpu.RAX)
		vfork = nr == 58 || nr == 56 && c.Reg(cpu.RDI)&0x4000 != 0 // vfork, clone(CLONE_VFORK)
	}
	g.events = g.events[:0]
	if err := g.k.HandleTrap(pt); err != nil {
		g.dead = err
		return gdbstub.Stop{}, false
	}
	for _, e := range g.events {
		if !g.attached[e.PID] {
			continue
		}
		p := g.k.Process(e.PID)
		switch e.Kind {
		case minikernel.EvExit:
			delete(g.attached, e.PID)
			delete(g.bps, e.PID)
			g.bpsDirty = true
			if sig := e.Status & 0x7f; sig != 0 {
				return gdbstub.Stop{Kind: gdbstub.StopKilled, Thread: gdbstub.ThreadID{PID: e.PID, TID: e.PID}, Signal: sig}, true
			}
			return gdbstub.Stop{Kind: gdbstub.StopExited, Thread: gdbstub.ThreadID{PID: e.PID, TID: e.PID},
				Status: e.Status >> 8 & 0xff}, true
		case minikernel.EvFork:
			child := g.k.Process(e.Child)
			if child == nil || !(vfork && g.vforkEv || !vfork && g.forkEv) {
				continue // gdb did not ask: the child runs undebugged
			}
			g.attached[child.PID] = true
			child.SetTraced(true)
			kind := gdbstub.StopFork
			if vfork {
				kind = gdbstub.StopVFork
				g.vforked[e.PID] = true
			}
			return gdbstub.Stop{Kind: kind, Thread: tidOf(p), Child: tidOf(child)}, true
		case minikernel.EvExec:
			delete(g.bps, e.PID) // the old program's addresses mean nothing now
			g.bpsDirty = true
			if g.execEv {
				return gdbstub.Stop{Kind: gdbstub.StopExec, Thread: tidOf(p), Path: e.Path}, true
			}
			return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(p), Signal: gdbstub.SIGTRAP}, true
		}
	}
	return gdbstub.Stop{}, false
}

// Kill ends a debugged process with SIGKILL.
func (g *gdbTarget) Kill(pid int) error {
	p := g.k.Process(pid)
	if p == nil || !g.attached[pid] {
		return fmt.Errorf("no process %d", pid)
	}
	g.detach(p)
	if !p.Exited() {
		g.k.SendSignal(p, gdbstub.SIGKILL)
	}
	if g.pending != nil && g.pending.PID == pid {
		g.pending = nil
	}
	return nil
}

// Detach lets a process run on undebugged.
func (g *gdbTarget) Detach(pid int) error {
	p := g.k.Process(pid)
	if p == nil || !g.attached[pid] {
		return fmt.Errorf("no process %d", pid)
	}
	g.detach(p)
	return nil
}

func (g *gdbTarget) detach(p *minikernel.Process) {
	delete(g.attached, p.PID)
	delete(g.bps, p.PID)
	delete(g.vforked, p.PID)
	g.bpsDirty = true
	p.SetTraced(false)
}

// freeRun runs the machine to its end with nothing debugged (machine goroutine, or the
// caller's when gdb never resumed the program).
func (g *gdbTarget) freeRun() {
	for pid := range g.attached {
		if p := g.k.Process(pid); p != nil {
			g.detach(p)
		}
	}
	g.k.SetTracer(nil)
	g.syncBreakpoints()
	if g.dead != nil {
		g.runErr = g.dead
		return
	}
	if g.pending != nil {
		pt := *g.pending
		g.pending = nil
		if err := g.k.HandleTrap(pt); err != nil {
			g.runErr = err
			return
		}
	}
	if !g.k.Live() {
		g.code = minikernel.ExitCode(g.init.WaitStatus())
		return
	}
	g.code, g.runErr = g.k.Run()
}

// finish ends the debugging once the session with gdb has ended, and runs what is left of
// the program (nothing, when gdb killed it) to its end. It returns the run's exit code.
func (g *gdbTarget) finish() (int, error) {
	if g.started {
		g.resume <- nil
		<-g.done
	} else {
		g.free = true
		g.freeRun()
	}
	return g.code, g.runErr
}

// serveGDB waits for gdb on addr and lets it debug p, then runs the rest of the program.
// It returns emu's exit code.
func serveGDB(k *minikernel.Kernel, p *minikernel.Process, d *debugger.Session, addr string, maxInsns uint64, stderr io.Writer) int {
	l, err := gdbstub.Listen(addr)
	if err != nil {
		fmt.Fprintf(stderr, "emu: --gdb: %v\n", err)
		return 2
	}
	defer l.Close()
	target := l.Addr()
	if strings.HasPrefix(addr, ":") {
		target = addr
	}
	fmt.Fprintf(stderr, "emu: waiting for gdb on %s: gdb -ex 'target remote %s' %s\n", l.Addr(), target, p.Exe())
	conn, err := l.Accept(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "emu: --gdb: %v\n", err)
		return 1
	}
	g := newGDBTarget(k, p, d, stderr, maxInsns)
	first := gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(p), Signal: gdbstub.SIGTRAP}
	ending := gdbstub.Serve(conn, g, first, gdbstub.Options{Log: stderr})
	conn.Close()
	if ending == gdbstub.Disconnected && k.Live() {
		fmt.Fprintf(stderr, "emu: gdb went away: the program runs on\n")
	}
	code, err := g.finish()
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	return code
}

func (g *gdbTarget) OpenFile(pid int, path string) (*os.File, error) {
	p := g.k.Process(pid)
	if p == nil {
		p = g.init
	}
	return g.k.OpenFile(p, path)
}
