// Package minikernel is the operating system of the emulated machine, written in Go: the
// physical frame allocator, page tables built in RAM, address spaces made of VMAs, the
// page-fault handler (demand-zero, file read, copy-on-write, stack growth, SIGSEGV),
// processes, execve of ELF programs, and the system-call table.
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

	"vmemu/cpu"
	"vmemu/mmu"
	"vmemu/ram"
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
}

// Kernel is the operating system of one machine.
type Kernel struct {
	cfg    Config
	ram    *ram.RAM
	mmu    *mmu.MMU
	cpu    *cpu.CPU
	frames *Frames

	procs     map[int]*Process
	nextPID   int
	cur       *Process // the process whose state is in the CPU
	init      *Process
	pcids     pcidAllocator
	log       io.Writer
	stdin     io.Reader
	stdout    io.Writer
	stderr    io.Writer
	observers []Observer
	bootPML4  uint64 // the empty tables loaded when no process runs
}

// Process is one process.
type Process struct {
	PID    int
	PPID   int
	mm     *MM
	regs   cpu.State
	exe    string // path of the running executable
	exited bool
	status int // wait status as Linux encodes it
}

// MM returns the process's address space.
func (p *Process) MM() *MM { return p.mm }

// Exe returns the path of the executable the process runs.
func (p *Process) Exe() string { return p.exe }

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
	r, err := ram.New(cfg.RAM)
	if err != nil {
		return nil, err
	}
	m, err := mmu.New(r, cfg.MMU)
	if err != nil {
		r.Close()
		return nil, err
	}
	k := &Kernel{cfg: cfg, ram: r, mmu: m, cpu: cpu.New(m), frames: NewFrames(r),
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
	// Boot: an empty PML4 so paging can be turned on, then the real ones per process.
	boot, err := k.frames.Alloc(FrameTable)
	if err != nil {
		return nil, err
	}
	k.bootPML4 = boot
	if err := m.EnableLongMode(boot<<12, mmu.CR4PGE|mmu.CR4PCIDE); err != nil {
		return nil, fmt.Errorf("minikernel: enabling paging: %w", err)
	}
	// CR0.AM, as Linux sets it: a program that sets RFLAGS.AC gets #AC (SIGBUS) for a
	// misaligned access.
	if err := m.SetCR0(m.CR0() | mmu.CR0AM); err != nil {
		return nil, fmt.Errorf("minikernel: setting CR0.AM: %w", err)
	}
	return k, nil
}

// Close releases the machine's host memory.
func (k *Kernel) Close() error { return k.ram.Close() }

// CPU returns the machine's processor.
func (k *Kernel) CPU() *cpu.CPU { return k.cpu }

// MMU returns the machine's MMU.
func (k *Kernel) MMU() *mmu.MMU { return k.mmu }

// RAM returns the machine's physical memory.
func (k *Kernel) RAM() *ram.RAM { return k.ram }

// Frames returns the frame allocator.
func (k *Kernel) Frames() *Frames { return k.frames }

// Process returns the process with the given PID, or nil.
func (k *Kernel) Process(pid int) *Process { return k.procs[pid] }

// Current returns the running process (nil before Spawn).
func (k *Kernel) Current() *Process { return k.cur }

// Spawn creates the first process running path with argv and envp, as if a shell had
// forked and called execve. Host-side problems (missing file, malformed ELF) come back as
// errors.
func (k *Kernel) Spawn(path string, argv, envp []string) (*Process, error) {
	p := &Process{PID: k.nextPID}
	k.nextPID++
	mm, err := k.newMM()
	if err != nil {
		return nil, err
	}
	p.mm = mm
	k.procs[p.PID] = p
	k.init = p
	k.switchTo(p)
	if err := k.execve(p, path, argv, envp); err != nil {
		k.releaseMM(p.mm)
		delete(k.procs, p.PID)
		k.cur, k.init = nil, nil
		return nil, err
	}
	return p, nil
}

// ErrInsnLimit is returned by Run when Config.MaxInsns instructions have retired.
var ErrInsnLimit = errors.New("instruction limit reached")

// Run runs the machine until the first process exits, and returns its exit code as a shell
// reports it: the status passed to exit, or 128 + the signal that killed it.
func (k *Kernel) Run() (int, error) {
	if k.init == nil {
		return 0, errors.New("minikernel: no process to run")
	}
	for !k.init.exited {
		budget := k.cfg.Quantum
		if k.cfg.MaxInsns > 0 {
			done := k.cpu.Instructions()
			if done >= k.cfg.MaxInsns {
				return 0, fmt.Errorf("%w (%d)", ErrInsnLimit, k.cfg.MaxInsns)
			}
			budget = min(budget, k.cfg.MaxInsns-done)
		}
		if err := k.step(budget); err != nil {
			return 0, err
		}
	}
	return ExitCode(k.init.status), nil
}

// Step runs the current process for at most budget instructions or until the next trap,
// and handles that trap. For debuggers; Run is made of Steps.
func (k *Kernel) Step(budget uint64) error {
	if k.cur == nil || k.cur.exited {
		return errors.New("minikernel: no runnable process")
	}
	return k.step(budget)
}

func (k *Kernel) step(budget uint64) error {
	p := k.cur
	t := k.cpu.Run(budget)
	switch t.Kind {
	case cpu.TrapBudget:
	case cpu.TrapSyscall:
		k.syscall(p)
	case cpu.TrapException:
		k.exception(p, t)
	case cpu.TrapInternal:
		return fmt.Errorf("emulator failure in pid %d at rip %#x: %v", p.PID, t.RIP, t.Err)
	}
	return nil
}

// exception handles a CPU exception raised by the current process.
func (k *Kernel) exception(p *Process, t cpu.Trap) {
	switch t.Vector {
	case cpu.VecPF:
		k.pageFault(p, t.Addr, t.Code, t.RIP)
	case cpu.VecGP:
		k.killSignal(p, SIGSEGV, t.RIP, fmt.Sprintf("general protection fault at rip %#x", t.RIP))
	case cpu.VecUD:
		what := fmt.Sprintf("invalid or unimplemented instruction at rip %#x: bytes % x", t.RIP, t.Insn)
		if t.Mnemonic != "" {
			what += " (" + t.Mnemonic + ")"
		}
		k.killSignal(p, SIGILL, t.RIP, what)
	case cpu.VecDE:
		k.killSignal(p, SIGFPE, t.RIP, fmt.Sprintf("divide error at rip %#x", t.RIP))
	case cpu.VecBP, cpu.VecDB:
		k.killSignal(p, SIGTRAP, t.RIP, fmt.Sprintf("breakpoint trap at rip %#x", t.RIP))
	case cpu.VecMF, cpu.VecXM:
		k.killSignal(p, SIGFPE, t.RIP, fmt.Sprintf("floating-point exception at rip %#x", t.RIP))
	default:
		k.killSignal(p, SIGBUS, t.RIP, fmt.Sprintf("%s at rip %#x", cpu.VectorName(t.Vector), t.RIP))
	}
}

// Signal numbers (x86-64 Linux).
const (
	SIGILL  = 4
	SIGTRAP = 5
	SIGBUS  = 7
	SIGFPE  = 8
	SIGKILL = 9
	SIGSEGV = 11
	SIGTERM = 15
)

var signalNames = map[int]string{SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGBUS: "SIGBUS",
	SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGTERM: "SIGTERM"}

// SignalName returns "SIGSEGV" for 11.
func SignalName(sig int) string {
	if s, ok := signalNames[sig]; ok {
		return s
	}
	return fmt.Sprintf("signal %d", sig)
}

// killSignal ends p with sig's default action (terminate), writing one line that names the
// cause.
func (k *Kernel) killSignal(p *Process, sig int, rip uint64, why string) {
	fmt.Fprintf(k.log, "emu: pid %d killed by %s: %s\n", p.PID, SignalName(sig), why)
	k.emit(&Event{Kind: EvSignal, PID: p.PID, RIP: rip, Signal: sig, Text: why})
	k.exit(p, sig&0x7f) // wait status: terminated by signal
}

// exitProcess ends p with exit code code (exit, exit_group).
func (k *Kernel) exitProcess(p *Process, code int) {
	k.exit(p, (code&0xff)<<8)
}

// exit ends p with wait status status, releasing its address space.
func (k *Kernel) exit(p *Process, status int) {
	if p.exited {
		return
	}
	p.exited = true
	p.status = status
	k.emit(&Event{Kind: EvExit, PID: p.PID, Status: status})
	k.releaseMM(p.mm)
	p.mm = nil
	if k.cur == p {
		k.cur = nil
	}
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
	return &MM{pml4: pml4, pcid: k.pcids.get(), needFlush: true}, nil
}

// releaseMM frees every frame and page-table page of mm and its PCID's TLB entries.
func (k *Kernel) releaseMM(mm *MM) {
	if mm == nil {
		return
	}
	if k.cur != nil && k.cur.mm == mm {
		// Leave the address space before tearing it down, as a kernel must: switch to the
		// empty boot tables so no stale translation can be used.
		_ = k.mmu.SetCR3(k.bootPML4 << 12)
	}
	k.freeTables(mm.pml4)
	_ = k.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
	k.pcids.put(mm.pcid)
	mm.vmas = nil
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
