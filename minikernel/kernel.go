// Package minikernel is the operating system of the emulated machine, written in Go: the
// physical frame allocator, page tables built in RAM, address spaces made of VMAs, the
// page-fault handler (demand-zero, file read, copy-on-write, stack growth, SIGSEGV), the
// page cache and a small file layer, processes (fork, execve of static and dynamically
// linked programs, exit, wait) with a round-robin scheduler on a virtual clock, signals
// delivered to handlers on Linux's x86-64 signal frame, and the system-call table.
//
// It programs the hardware only the way a real kernel can: it writes page-table entries
// into RAM, loads CR3, and invalidates TLB entries (INVLPG, INVPCID). It never reaches into
// the TLB or the CPU's caches to keep them coherent by magic: if it forgets an invalidation,
// the program keeps using the stale translation, as on silicon.
//
// It knows nothing about the command line, output formats or the debugger's user interface:
// those subscribe to its event stream (Subscribe) and read its state through accessors.
package minikernel

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
)

// Config describes the machine and how the kernel runs programs on it.
type Config struct {
	RAM      uint64     // bytes of physical memory; 0 means ram.DefaultSize (4 GiB)
	MMU      mmu.Config // TLB geometry; the zero value means mmu.DefaultConfig()
	Stdin    io.Reader  // the guest's fd 0; nil reads nothing
	Stdout   io.Writer  // the guest's fd 1; nil discards
	Stderr   io.Writer  // the guest's fd 2; nil discards
	Log      io.Writer  // where the kernel's own messages go ("killed by SIGSEGV"); nil: Stderr
	Seed     uint64     // seeds AT_RANDOM and getrandom
	MaxInsns uint64     // stop after this many instructions (0: no limit)
	Quantum  uint64     // instructions per scheduling slice (0: 1,000,000)
	// MaxProcs limits the processes that exist at once, zombies included (0: 1024): fork
	// beyond it fails with EAGAIN, as RLIMIT_NPROC makes it on Linux, so a fork bomb cannot
	// exhaust the host.
	MaxProcs int
	// NoPCID runs without CR4.PCIDE: every address space uses PCID 0, so every CR3 load
	// flushes every non-global TLB entry (SDM Vol. 3A 4.10.4.1).
	NoPCID bool
	// Root, when set, is a host directory that becomes the guest's "/": the guest cannot
	// reach any file outside it (chroot semantics, namei.go). Empty: the guest sees the
	// host's files as a host process does.
	Root string
}

// Kernel is the operating system of one machine.
type Kernel struct {
	cfg    Config
	ram    *ram.RAM
	mmu    *mmu.MMU
	cpu    *cpu.CPU
	frames *Frames
	cache  *PageCache

	procs      map[int]*Process // every process not yet reaped, by PID
	live       []*Process       // processes that have not exited, in PID order (the run queue)
	nextPID    int
	cur        *Process // the process whose state is in the CPU
	init       *Process // the first process: Run returns its exit code
	lastPID    int      // the process the scheduler picked last
	slice      uint64   // instructions the current process has run in its slice
	pcids      pcidAllocator
	log        io.Writer
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	observers  []Observer
	tracer     SignalTracer // a debugger's signal-delivery stop (debugaccess.go), or nil
	emitBuf    Event        // the event observers see (events.go: emit)
	bootPML4   uint64       // the empty tables loaded when no process runs
	clockNS    uint64       // nanoseconds added to the virtual clock while every process slept
	nextEvent  uint64       // virtual time of the next timer or sleeper's deadline (0: none; sleep.go)
	randCtr    uint64       // getrandom's position in its seeded stream
	writebacks uint64       // pages written back to files from shared mappings
	closed     bool
	hostFDs    int      // host descriptors the guest's open files hold (hostfd.go)
	fdBudget   int      // the most they may
	startOOM   bool     // the first process was OOM-killed before its first instruction
	tiny       bool     // RAM too small even for the boot page table: nothing can run
	spawnArgs  []string // the first program's path, argv and envp (ramTooSmall measures them)
	spawnArgc  int

	ns namespace // the guest's view of the host's files (namei.go)
}

// New builds a machine (RAM, MMU, CPU) and a kernel to run it, with paging on and no process.
func New(cfg Config) (*Kernel, error) {
	if cfg.RAM == 0 {
		cfg.RAM = ram.DefaultSize
	}
	if cfg.MMU.DTLB.Entries == 0 {
		cfg.MMU = mmu.DefaultConfig()
	}
	if cfg.Quantum == 0 {
		cfg.Quantum = 1_000_000
	}
	if cfg.MaxProcs <= 0 {
		cfg.MaxProcs = 1024
	}
	r, err := ram.New(cfg.RAM)
	if err != nil {
		return nil, err
	}
	m, err := mmu.New(r, cfg.MMU)
	if err != nil {
		r.Close()
		return nil, err
	}
	k := &Kernel{cfg: cfg, ram: r, mmu: m, cpu: cpu.New(m), frames: NewFrames(r), cache: newPageCache(),
		procs: map[int]*Process{}, nextPID: 1,
		stdin: cfg.Stdin, stdout: cfg.Stdout, stderr: cfg.Stderr, log: cfg.Log}
	if k.stdout == nil {
		k.stdout = io.Discard
	}
	if k.stderr == nil {
		k.stderr = io.Discard
	}
	if k.log == nil {
		k.log = k.stderr
	}
	k.initFDBudget()
	if err := k.initNamespace(cfg.Root); err != nil {
		r.Close()
		return nil, fmt.Errorf("minikernel: %w", err)
	}
	// Boot: an empty PML4 so paging can be turned on, then the real ones per process.
	boot, err := k.frames.Alloc(FrameTable)
	if err != nil {
		// One frame of RAM (frame 0, never used): no room for a page table. The machine
		// exists, but Spawn reports how much RAM the program would need.
		k.tiny = true
		return k, nil
	}
	k.bootPML4 = boot
	cr4 := uint64(mmu.CR4PGE | mmu.CR4PCIDE)
	if cfg.NoPCID {
		cr4 = mmu.CR4PGE
	}
	if err := m.EnableLongMode(boot<<12, cr4); err != nil {
		return nil, fmt.Errorf("minikernel: enabling paging: %w", err)
	}
	// CR0.AM, as Linux sets it (CR0_STATE): a program that sets RFLAGS.AC gets #AC, and
	// SIGBUS, for a misaligned access.
	if err := m.SetCR0(m.CR0() | mmu.CR0AM); err != nil {
		return nil, fmt.Errorf("minikernel: setting CR0.AM: %w", err)
	}
	return k, nil
}

// Sync writes every page that a shared mapping has dirtied back to its file, in every live
// process, as msync(MS_SYNC) over the whole address space would.
func (k *Kernel) Sync() {
	for _, p := range k.live {
		if p.mm == nil {
			continue
		}
		for _, v := range p.mm.vmas {
			k.syncRange(p.mm, v, v.Start, v.End)
		}
	}
}

// Close shuts the machine down: it writes shared mappings' dirty pages back to their files
// (Sync), closes every file, and releases the machine's host memory. The kernel must not be
// used afterwards.
func (k *Kernel) Close() error {
	if k.closed {
		return nil
	}
	for _, p := range append([]*Process(nil), k.live...) {
		p.fds.closeAll()
		k.releaseMM(p.mm)
		p.mm = nil
	}
	k.closed = true
	k.closeNamespace()
	return k.ram.Close()
}

// CPU returns the machine's processor.
func (k *Kernel) CPU() *cpu.CPU { return k.cpu }

// MMU returns the machine's MMU.
func (k *Kernel) MMU() *mmu.MMU { return k.mmu }

// RAM returns the machine's physical memory.
func (k *Kernel) RAM() *ram.RAM { return k.ram }

// Frames returns the frame allocator.
func (k *Kernel) Frames() *Frames { return k.frames }

// PageCache returns the page cache.
func (k *Kernel) PageCache() *PageCache { return k.cache }

// Process returns the process with the given PID (running, blocked or a zombie), or nil.
func (k *Kernel) Process(pid int) *Process { return k.procs[pid] }

// Current returns the running process (nil before Spawn and after every process exited).
func (k *Kernel) Current() *Process { return k.cur }

// Spawn creates the first process running path with argv and envp, as if a shell had
// forked and called execve. Host-side problems (missing file, malformed ELF) come back as
// errors.
func (k *Kernel) Spawn(path string, argv, envp []string) (*Process, error) {
	if k.init != nil {
		return nil, errors.New("minikernel: Spawn makes the first process only; guests fork the rest")
	}
	if k.tiny {
		return nil, k.ramTooSmall(path, argv, envp)
	}
	p := k.newProcess(nil)
	p.fs = k.initialFS()
	p.fds = &fdTable{}
	p.fds.installAt(0, k.newStream("<stdin>", k.stdin, nil, oRdonly), false)
	p.fds.installAt(1, k.newStream("<stdout>", nil, k.stdout, oWronly), false)
	p.fds.installAt(2, k.newStream("<stderr>", nil, k.stderr, oWronly), false)
	mm, err := k.newMM()
	if err != nil {
		delete(k.procs, p.PID)
		k.live = nil
		return nil, k.ramTooSmall(path, argv, envp)
	}
	p.mm = mm
	k.init = p
	k.switchTo(p)
	if e := k.execve(p, path, argv, envp); e != nil {
		err = e
		if e.Errno == ENOMEM {
			err = k.ramTooSmall(path, argv, envp)
		}
	} else if k.startOOM {
		err = k.ramTooSmall(path, argv, envp)
	}
	if err != nil {
		k.releaseMM(p.mm)
		p.fds.closeAll()
		delete(k.procs, p.PID)
		k.live = nil
		k.cur, k.init = nil, nil
		k.startOOM = false
		return nil, err
	}
	k.spawnArgs = append(append([]string{path}, argv...), envp...)
	k.spawnArgc = len(argv)
	p.started = true
	return p, nil
}

// ErrInsnLimit is returned by Run when Config.MaxInsns instructions have retired.
var ErrInsnLimit = errors.New("instruction limit reached")

// ErrDeadlock is returned by Run when processes remain but every one of them is blocked
// with nothing left that could wake it.
var ErrDeadlock = errors.New("deadlock: every live process is blocked")

// Run runs the machine until every process has exited, and returns the first process's
// exit code as a shell reports it: the status passed to exit, or 128 + the signal that
// killed it. Orphans keep running after the first process exits (they are reparented to the
// kernel).
func (k *Kernel) Run() (int, error) {
	if k.init == nil {
		return 0, errors.New("minikernel: no process to run")
	}
	for len(k.live) > 0 {
		budget := k.cfg.Quantum
		if k.cfg.MaxInsns > 0 {
			done := k.cpu.Instructions()
			if done >= k.cfg.MaxInsns {
				return 0, fmt.Errorf("%w (%d)", ErrInsnLimit, k.cfg.MaxInsns)
			}
			budget = min(budget, k.cfg.MaxInsns-done)
		}
		if err := k.Step(budget); err != nil {
			return 0, err
		}
	}
	if k.startOOM {
		a := k.spawnArgs
		return 0, k.ramTooSmall(a[0], a[1:1+k.spawnArgc], a[1+k.spawnArgc:])
	}
	return ExitCode(k.init.status), nil
}

// Step runs the current process for at most budget instructions (and never past the end
// of its time slice) or until the next trap, and handles that trap. When the current
// process has exited, blocked or used up its slice, the scheduler picks the next one first.
// For debuggers; Run is made of Steps.
func (k *Kernel) Step(budget uint64) error {
	p, t, err := k.runUntilTrap(budget)
	if err != nil {
		return err
	}
	return k.handleTrap(p, t)
}

// runUntilTrap is the first half of Step: it schedules if need be, then runs the current
// process until its next trap, its budget or the end of its slice, and returns the trap
// unhandled (RunToTrap gives it to a debugger).
func (k *Kernel) runUntilTrap(budget uint64) (*Process, cpu.Trap, error) {
	// A process woken in a system call (p.sleep) finishes it in schedule's resume first.
	if k.cur == nil || k.cur.state != procRunnable || k.cur.sleep != nil || k.slice >= k.cfg.Quantum {
		if err := k.schedule(); err != nil {
			return nil, cpu.Trap{}, err
		}
	}
	p := k.cur
	if p == nil {
		return nil, cpu.Trap{}, errors.New("minikernel: no runnable process")
	}
	before := k.cpu.Instructions()
	t := k.cpu.Run(k.timerBudget(p, min(budget, k.cfg.Quantum-k.slice)))
	ran := k.cpu.Instructions() - before
	k.slice += ran
	p.insns += ran
	return p, t, nil
}

// handleTrap does what the kernel does for a trap p's code raised: a system call, an
// exception, or nothing when the budget ran out; then the timers that are due, and, if p
// goes back to user mode, what every return to user mode does (signals, restarts).
func (k *Kernel) handleTrap(p *Process, t cpu.Trap) error {
	switch t.Kind {
	case cpu.TrapBudget:
	case cpu.TrapSyscall:
		k.syscall(p)
	case cpu.TrapException:
		k.exception(p, t)
	case cpu.TrapInternal:
		return fmt.Errorf("emulator failure in pid %d at rip %#x: %v", p.PID, t.RIP, t.Err)
	}
	if !p.exited {
		k.cpuTimers(p)
	}
	if k.eventDue() {
		k.wakeTimers()
	}
	if k.cur == p && !p.exited && p.state == procRunnable && p.sleep == nil {
		k.exitToUser(p)
	}
	return nil
}

// schedule picks the next process to run, round-robin in PID order after the one picked
// last, switches to it and finishes a system call it was blocked in. Every choice depends
// only on the instruction count, so runs are deterministic.
func (k *Kernel) schedule() error {
	for {
		if k.eventDue() {
			k.wakeTimers()
		}
		next := k.pickNext()
		if next == nil {
			if len(k.live) == 0 {
				k.cur = nil
				return nil
			}
			if k.advanceToTimer() {
				continue // the clock jumped to the next timer or deadline
			}
			var pids []string
			for _, p := range k.live {
				what := "?"
				if p.sleep != nil {
					what = p.sleep.name
				}
				pids = append(pids, fmt.Sprintf("%d in %s", p.PID, what))
			}
			return fmt.Errorf("%w (pids %s sleep, and no child, signal or timer is left to wake them)", ErrDeadlock, strings.Join(pids, ", "))
		}
		prev := k.cur
		k.switchTo(next)
		k.lastPID, k.slice = next.PID, 0
		if prev != next {
			e := Event{Kind: EvSwitch, PID: next.PID, RIP: k.cpu.RIP()}
			if prev != nil {
				e.Prev = prev.PID
			}
			k.emit(&e)
		}
		k.resume(next)
		if next.state == procRunnable && !next.exited {
			k.exitToUser(next)
		}
		if next.state == procRunnable && !next.exited && k.cur == next {
			return nil
		}
	}
}

// pickNext returns the first runnable process after the one picked last, wrapping around.
func (k *Kernel) pickNext() *Process {
	var first *Process
	for _, p := range k.live {
		if p.state != procRunnable {
			continue
		}
		if p.PID > k.lastPID {
			return p
		}
		if first == nil {
			first = p
		}
	}
	return first
}

// ExitCode turns a wait status into the exit code a shell shows: the exit status, or
// 128 + the terminating signal.
func ExitCode(status int) int {
	if sig := status & 0x7f; sig != 0 {
		return 128 + sig
	}
	return status >> 8 & 0xff
}

// newMM allocates an empty address space with a PML4 and a PCID.
func (k *Kernel) newMM() (*MM, error) {
	pml4, err := k.frames.Alloc(FrameTable)
	if err != nil {
		return nil, err
	}
	var pcid uint16
	if !k.cfg.NoPCID {
		pcid = k.pcids.get()
	}
	return &MM{pml4: pml4, pcid: pcid, needFlush: true, mmapBase: mmapBaseFor(stackLimit)}, nil
}

// releaseMM tears an address space down, as Linux's exit_mmap() does: shared mappings'
// dirty pages go back to their files, then every frame and page-table page is released,
// the PCID's TLB entries are flushed and the VMAs drop their files.
func (k *Kernel) releaseMM(mm *MM) {
	if mm == nil {
		return
	}
	for _, v := range mm.vmas {
		k.syncRange(mm, v, v.Start, v.End)
	}
	if k.cur != nil && k.cur.mm == mm {
		// Leave the address space before tearing it down, as a kernel must: switch to the
		// empty boot tables so no stale translation can be used.
		_ = k.mmu.SetCR3(k.bootPML4 << 12)
	}
	k.freeTables(mm.pml4)
	_ = k.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
	k.pcids.put(mm.pcid)
	for _, v := range mm.vmas {
		v.file().put()
	}
	mm.vmas = nil
	for _, f := range mm.exec {
		f.ino.execs--
		f.put()
	}
	mm.exec = nil
}

// switchTo makes p the running process: saves the old one's registers, loads CR3 with p's
// PML4 and PCID (keeping that PCID's TLB entries unless its tables changed meanwhile), and
// loads p's registers.
func (k *Kernel) switchTo(p *Process) {
	if k.cur == p {
		return
	}
	if k.cur != nil && !k.cur.exited {
		k.cpu.Save(&k.cur.regs)
	}
	cr3 := p.mm.pml4<<12 | uint64(p.mm.pcid)
	if !p.mm.needFlush && p.mm.pcid != 0 {
		cr3 |= mmu.CR3NoFlush
	}
	p.mm.needFlush = false
	if err := k.mmu.SetCR3(cr3); err != nil {
		panic(err) // the kernel built this value
	}
	k.cpu.Load(&p.regs)
	k.cur = p
}

// pcidAllocator hands out PCIDs 1..4095 (0 is the boot tables').
type pcidAllocator struct {
	next uint16
	free []uint16
}

func (a *pcidAllocator) get() uint16 {
	if n := len(a.free); n > 0 {
		id := a.free[n-1]
		a.free = a.free[:n-1]
		return id
	}
	if a.next < 4095 {
		a.next++
		return a.next
	}
	return 0 // shared fallback: needFlush on every switch keeps it correct
}

func (a *pcidAllocator) put(id uint16) {
	if id != 0 {
		a.free = append(a.free, id)
	}
}
