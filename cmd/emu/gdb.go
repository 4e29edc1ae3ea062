package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

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
	vforked  map[int]bool                 // vfork parents (by TID) that owe gdb a vforkdone stop
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

// tidOf names a thread as gdb does: pPID.TID.
func tidOf(t *minikernel.Thread) gdbstub.ThreadID {
	return gdbstub.ThreadID{PID: t.Process().PID, TID: t.TID}
}

// mainTID names a process's first live thread.
func mainTID(p *minikernel.Process) gdbstub.ThreadID {
	for _, t := range p.Threads() {
		if !t.Exited() {
			return tidOf(t)
		}
	}
	return gdbstub.ThreadID{PID: p.PID, TID: p.PID}
}

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

// thread returns a live thread of a debugged process.
func (g *gdbTarget) thread(id gdbstub.ThreadID) (*minikernel.Thread, error) {
	t := g.k.Thread(id.TID)
	if t == nil || t.Exited() || t.Process().PID != id.PID || !g.attached[id.PID] {
		return nil, fmt.Errorf("no thread %d.%d", id.PID, id.TID)
	}
	return t, nil
}

// --- gdbstub.Target: state ---

func (g *gdbTarget) Threads() []gdbstub.Thread {
	var ts []gdbstub.Thread
	for _, p := range g.k.Processes() {
		if !g.attached[p.PID] || p.Exited() {
			continue
		}
		for _, t := range p.Threads() {
			if !t.Exited() {
				ts = append(ts, gdbstub.Thread{ID: tidOf(t), Name: t.Name(), Core: max(t.LastCPU(), 0)})
			}
		}
	}
	return ts
}

func (g *gdbTarget) Registers(id gdbstub.ThreadID) (gdbstub.Registers, error) {
	t, err := g.thread(id)
	if err != nil {
		return gdbstub.Registers{}, err
	}
	r := gdbstub.Registers{State: g.k.ThreadRegs(t), OrigRAX: t.OrigRAX()}
	if pt := g.pending; pt != nil && pt.TID == t.TID && pt.Kind == cpu.TrapSyscall {
		r.OrigRAX = int64(r.GPR[cpu.RAX]) // at a system call's entry, before the kernel runs it
	}
	return r, nil
}

func (g *gdbTarget) SetRegisters(id gdbstub.ThreadID, r gdbstub.Registers) error {
	t, err := g.thread(id)
	if err != nil {
		return err
	}
	atSyscall := g.pending != nil && g.pending.TID == t.TID && g.pending.Kind == cpu.TrapSyscall
	if pt := g.pending; pt != nil && pt.TID == t.TID && pt.RIP != r.RIP && !atSyscall {
		g.pending = nil // the faulting instruction will not run again: its fault is moot
	}
	g.k.SetThreadRegs(t, r.State)
	if !atSyscall {
		t.SetOrigRAX(r.OrigRAX)
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

func (g *gdbTarget) OpenFile(pid int, path string) (gdbstub.File, error) {
	p := g.k.Process(pid)
	if p == nil {
		p = g.init
	}
	// What gdb reads of a debugged process in /proc (info proc) comes from the kernel's
	// records, as the guest's own /proc does.
	if proc, ok := strings.CutPrefix(filepath.Clean(path), "/proc/"); ok {
		q, file := g.procProcess(proc)
		switch {
		case q == nil || q.MM() == nil:
		case file == "maps":
			return newMemFile(path, g.k.ProcMaps(q)), nil
		case file == "cmdline":
			return newMemFile(path, g.k.Cmdline(q)), nil
		case file == "exe":
			return g.k.OpenFile(q, q.Exe())
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	f, err := g.k.OpenFile(p, path)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (g *gdbTarget) Readlink(pid int, path string) (string, error) {
	if proc, ok := strings.CutPrefix(filepath.Clean(path), "/proc/"); ok {
		q, file := g.procProcess(proc)
		switch {
		case q == nil:
		case file == "exe":
			return q.Exe(), nil
		case file == "cwd":
			return g.k.Cwd(q), nil
		}
	}
	return "", &os.PathError{Op: "readlink", Path: path, Err: os.ErrNotExist}
}

// procProcess reads "PID/FILE" of a /proc path: a debugged process, and the file.
func (g *gdbTarget) procProcess(rest string) (*minikernel.Process, string) {
	pidText, file, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidText)
	if err != nil || !g.attached[pid] {
		return nil, file
	}
	return g.k.Process(pid), file
}

// memFile is a file made up in memory (a /proc file), as gdb reads it through the stub.
type memFile struct {
	*bytes.Reader
	name string
	size int64
}

func newMemFile(name string, data []byte) *memFile {
	return &memFile{Reader: bytes.NewReader(data), name: name, size: int64(len(data))}
}

func (m *memFile) Close() error               { return nil }
func (m *memFile) Stat() (fs.FileInfo, error) { return memInfo{m}, nil }

type memInfo struct{ m *memFile }

func (i memInfo) Name() string       { return filepath.Base(i.m.name) }
func (i memInfo) Size() int64        { return i.m.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }

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

// syncBreakpoints gives every CPU and MMU the breakpoints and watchpoints of the debugged
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
	for _, c := range g.k.CPUs() {
		c.CPU().SetBreakpoints(ibs)
		c.MMU().SetWatchpoints(ws)
	}
}

// watchReasons are the stop reasons gdb expects for each kind of watchpoint.
var watchReasons = map[gdbstub.BreakKind]string{gdbstub.WriteWatch: "watch", gdbstub.ReadWatch: "rwatch",
	gdbstub.AccessWatch: "awatch"}

// breakStop describes the #DB trap of one of gdb's breakpoints or watchpoints in thread t.
func (g *gdbTarget) breakStop(t *minikernel.Thread, pt *minikernel.PendingTrap) gdbstub.Stop {
	pid := t.Process().PID
	st := gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(t), Signal: gdbstub.SIGTRAP, Code: 4, Addr: pt.RIP}
	if pt.Code&cpu.DR6Watch != 0 {
		hit, _ := g.k.CPUs()[pt.CPU].MMU().LastWatchHit()
		st.WatchAddr, st.Reason = hit.Addr, "awatch"
		for _, bp := range g.bps[pid] {
			if bp.Addr == hit.Addr && bp.Len == hit.Len && bp.Kind >= gdbstub.WriteWatch {
				st.Reason = watchReasons[bp.Kind]
				if (bp.Kind == gdbstub.WriteWatch) == (hit.Access&mmu.Write != 0) {
					break // the watchpoint of the kind the access was
				}
			}
		}
		return st
	}
	st.Reason = "hwbreak"
	if slices.Contains(g.bps[pid], gdbstub.Breakpoint{Kind: gdbstub.SoftwareBreak, Addr: pt.RIP, Len: 1}) {
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

// action is what the current resume asks of a thread (nil: nothing, it stays).
func (g *gdbTarget) action(id gdbstub.ThreadID) *gdbstub.Action {
	for i := range g.acts {
		a := &g.acts[i]
		if (a.Thread.PID <= 0 || a.Thread.PID == id.PID) && (a.Thread.TID <= 0 || a.Thread.TID == id.TID) {
			return a
		}
	}
	return nil
}

// signalStop is the kernel's SignalTracer: a thread of a debugged process is about to get
// a signal.
func (g *gdbTarget) signalStop(t *minikernel.Thread, info []byte) int {
	le := binary.LittleEndian
	sig := int(int32(le.Uint32(info[0:])))
	if g.free || !g.attached[t.Process().PID] {
		return sig
	}
	if g.passOnce[t.TID] == sig {
		delete(g.passOnce, t.TID) // the signal gdb itself resumed with: no stop again
		return sig
	}
	st := gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(t), Signal: sig,
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
	a := g.action(tidOf(t))
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
// reported for: the running debugged thread, else the first one.
func (g *gdbTarget) stopThread() gdbstub.ThreadID {
	if t := g.k.CurrentThread(); t != nil && g.attached[t.Process().PID] && !t.Exited() {
		return tidOf(t)
	}
	for _, t := range g.Threads() {
		return t.ID
	}
	return mainTID(g.init)
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
		if st, ok := g.vforkDone(); ok {
			return st, true
		}
		if g.intr() {
			return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: g.stopThread(), Signal: gdbstub.SIGINT}, true
		}
		if g.pending != nil {
			pt := *g.pending
			g.pending = nil
			if st, stop := g.handle(pt); stop {
				return st, true
			}
			continue
		}
		if !g.k.Live() {
			return gdbstub.Stop{Kind: gdbstub.StopNoResumed, Thread: mainTID(g.init)}, true
		}
		stepping := g.steppingThread()
		budget := uint64(gdbQuantum)
		if stepping != 0 {
			budget = 1
		}
		if g.maxInsns > 0 {
			done := g.k.Instructions()
			if done >= g.maxInsns {
				// The run ends here, as emu run's does: gdb hears the program is gone.
				clear(g.attached)
				return gdbstub.Stop{Kind: gdbstub.StopKilled, Thread: mainTID(g.init), Signal: gdbstub.SIGKILL,
					Note: fmt.Sprintf("emu: the instruction limit (--max-insns %d) is reached: the run ends\n", g.maxInsns)}, true
			}
			budget = min(budget, g.maxInsns-done)
		}
		pt, err := g.k.RunToTrap(budget)
		if err != nil {
			g.dead = err
			continue
		}
		t := g.k.Thread(pt.TID)
		debugged := t != nil && g.attached[pt.PID]
		switch {
		case pt.Kind == cpu.TrapInternal:
			g.dead = pt.Err
			continue
		case debugged && pt.Kind == cpu.TrapException && pt.Vector == cpu.VecDB && pt.Code&(cpu.DR6Breakpoint|cpu.DR6Watch) != 0:
			return g.breakStop(t, &pt), true
		case debugged && (pt.Kind == cpu.TrapSyscall || pt.Kind == cpu.TrapException && pt.Vector == cpu.VecPF):
			var note bytes.Buffer
			if g.d.TrapBreak(&note, &pt) {
				g.pending = &pt
				return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(t), Signal: gdbstub.SIGTRAP,
					Note: "emu: " + note.String()}, true
			}
		}
		retired := pt.Kind == cpu.TrapBudget || pt.Kind == cpu.TrapSyscall
		if st, stop := g.handle(pt); stop {
			return st, true
		}
		if debugged && stepping == pt.TID && retired && gen == g.gen && !t.Exited() {
			return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: tidOf(t), Signal: gdbstub.SIGTRAP, Code: 2}, true
		}
	}
}

// vforkDone reports a vfork parent that runs again (its child has execed or exited), as
// the vforkdone stop gdb waits for.
func (g *gdbTarget) vforkDone() (gdbstub.Stop, bool) {
	for tid := range g.vforked {
		t := g.k.Thread(tid)
		switch {
		case t == nil || t.Exited() || !g.attached[t.Process().PID]:
			delete(g.vforked, tid)
		case t.State() == "runnable":
			delete(g.vforked, tid)
			return gdbstub.Stop{Kind: gdbstub.StopVForkDone, Thread: tidOf(t)}, true
		}
	}
	return gdbstub.Stop{}, false
}

// startResume applies what a new resume asks before anything runs: the signals gdb
// resumes threads with (those not already given back to the kernel's signal stop), the
// breakpoints as they are now, and RF for the threads resuming at a breakpoint.
func (g *gdbTarget) startResume() {
	for i := range g.acts {
		a := &g.acts[i]
		if a.Signal == 0 || a.Thread.PID <= 0 {
			continue
		}
		if t, err := g.thread(a.Thread); err == nil {
			g.passOnce[t.TID] = a.Signal
			g.k.SendThreadSignal(t, a.Signal)
		} else if p, err := g.process(a.Thread.PID); err == nil {
			g.passOnce[mainTID(p).TID] = a.Signal
			g.k.SendSignal(p, a.Signal)
		}
		a.Signal = 0
	}
	g.syncBreakpoints()
	for _, c := range g.k.CPUs() {
		if t := c.Thread(); t != nil && g.attached[t.Process().PID] {
			c.CPU().ResumeAtBreakpoint()
		}
	}
}

// steppingThread is the TID of the debugged thread the actions single-step, or 0.
func (g *gdbTarget) steppingThread() int {
	for _, a := range g.acts {
		if !a.Step || a.Thread.PID <= 0 || !g.attached[a.Thread.PID] {
			continue
		}
		if a.Thread.TID > 0 {
			return a.Thread.TID
		}
		if p := g.k.Process(a.Thread.PID); p != nil {
			return mainTID(p).TID
		}
	}
	return 0
}

// handle lets the kernel handle pt and turns what it did to debugged processes (exit,
// fork, exec) into a stop, if gdb must hear of it.
func (g *gdbTarget) handle(pt minikernel.PendingTrap) (gdbstub.Stop, bool) {
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
		th := gdbstub.ThreadID{PID: e.PID, TID: e.TID}
		if th.TID == 0 {
			th.TID = e.PID
		}
		switch e.Kind {
		case minikernel.EvExit:
			delete(g.attached, e.PID)
			delete(g.bps, e.PID)
			g.bpsDirty = true
			if sig := e.Status & 0x7f; sig != 0 {
				return gdbstub.Stop{Kind: gdbstub.StopKilled, Thread: th, Signal: sig}, true
			}
			return gdbstub.Stop{Kind: gdbstub.StopExited, Thread: th, Status: e.Status >> 8 & 0xff}, true
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
				g.vforked[th.TID] = true
			}
			return gdbstub.Stop{Kind: kind, Thread: th, Child: mainTID(child)}, true
		case minikernel.EvExec:
			delete(g.bps, e.PID) // the old program's addresses mean nothing now
			g.bpsDirty = true
			p := g.k.Process(e.PID)
			if g.execEv {
				return gdbstub.Stop{Kind: gdbstub.StopExec, Thread: mainTID(p), Path: e.Path}, true
			}
			return gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: mainTID(p), Signal: gdbstub.SIGTRAP}, true
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
	first := gdbstub.Stop{Kind: gdbstub.StopSignal, Thread: mainTID(p), Signal: gdbstub.SIGTRAP}
	ending := gdbstub.Serve(conn, g, first, gdbstub.Options{Log: stderr, OnInterrupt: k.Interrupt})
	conn.Close()
	if ending == gdbstub.Disconnected && len(g.attached) > 0 {
		fmt.Fprintf(stderr, "emu: gdb went away: the program runs on\n")
	}
	code, err := g.finish()
	if err != nil {
		fmt.Fprintf(stderr, "emu: %v\n", err)
		return 1
	}
	return code
}
