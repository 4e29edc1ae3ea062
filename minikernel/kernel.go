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
	"github.com/vmemu/vmemu/reclaim"
	"io"
	"strings"
	"time"

	"github.com/vmemu/vmemu/cpu"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/ram"
)

// Config describes the machine and how the kernel runs programs on it.
type Config struct {
	RAM      uint64     // bytes of physical memory; 0 means ram.DefaultSize (4 GiB)
	MMU      mmu.Config // TLB geometry (each CPU's); the zero value means mmu.DefaultConfig()
	Stdin    io.Reader  // the guest's fd 0; nil reads nothing
	Stdout   io.Writer  // the guest's fd 1; nil discards
	Stderr   io.Writer  // the guest's fd 2; nil discards
	Log      io.Writer  // where the kernel's own messages go ("killed by SIGSEGV"); nil: Stderr
	Seed     uint64     // seeds AT_RANDOM and getrandom
	MaxInsns uint64     // stop after this many instructions, on all CPUs together (0: no limit)
	Quantum  uint64     // instructions per scheduling slice (0: 1,000,000)
	// MaxProcs limits the tasks (threads, and zombie processes) that exist at once (0:
	// 1024): fork and clone beyond it fail with EAGAIN, as RLIMIT_NPROC makes them on
	// Linux, so a fork or thread bomb cannot exhaust the host.
	MaxProcs int
	// NoPCID runs without CR4.PCIDE: every address space uses PCID 0, so every CR3 load
	// flushes every non-global TLB entry (SDM Vol. 3A 4.10.4.1).
	NoPCID bool
	// Root, when set, is a host directory that becomes the guest's "/": the guest cannot
	// reach any file outside it (chroot semantics, namei.go). Empty: the guest sees the
	// host's files as a host process does.
	Root string
	// OnJobStop, when set, is called when a job-control stop signal from the host
	// (PostHostSignal: SIGTSTP, SIGTTIN, SIGTTOU) meets a foreground process that takes its
	// default action: it should stop emu until the host continues it (hostsig.go).
	OnJobStop func(sig int)
	// HostSignals says the host's signals reach the guest (PostHostSignal): when every
	// process sleeps and one waits for a signal (pause, sigsuspend, sigtimedwait), the
	// machine waits for one from the host, as Linux would, instead of ending in
	// ErrDeadlock.
	HostSignals bool
	// CopyFilePages keeps the page cache's pages of host files in guest RAM as copies,
	// read in and written back, instead of backing their frames with the host file's pages
	// (hostpages.go); what hosts that cannot map file pages into RAM always do.
	CopyFilePages bool
	// CPUs is the number of emulated CPUs (0: 1; at most 64).
	CPUs int
	// Interleave is how many instructions a CPU runs before the next CPU takes its turn,
	// when there are several (0: 10,000): the CPUs advance in this fixed round-robin, so a
	// run is deterministic.
	Interleave uint64
	// NoShootdown makes the kernel skip the TLB shootdown's interrupts (a teaching switch):
	// other CPUs keep the translations a change made stale, as they would on silicon under
	// a kernel that forgot them. Freed frames are then never reused, so a stale store can
	// only land in memory its program already gave up, never in the kernel's tables.
	NoShootdown bool
	// MaxMapCount is vm.max_map_count, the most areas an address space may have (0:
	// Linux's default, 65530). mmap, mprotect and munmap fail with ENOMEM past it.
	MaxMapCount int
	// HostNetwork lets AF_INET and AF_INET6 sockets reach every host address; without it
	// they are limited to the loopback addresses (inetsock_linux.go).
	HostNetwork bool
	// Realtime is what CLOCK_REALTIME reads when the machine starts (clock.go); the zero
	// Time means the host's clock at New. Fix it for byte-identical runs.
	Realtime time.Time
	// Swap is the size in bytes of the machine's swap area (swap.go; 0: no swap), kept in
	// host memory, or in the host file SwapFile when that is set (with Swap 0, the file's
	// size). Anonymous pages go there when page reclaim takes their frames.
	Swap     uint64
	SwapFile string
	// Reclaim names the page-replacement policy (package reclaim: fifo, clock, lru,
	// random, or one registered there); "" is reclaim.Default. Policy, when set, is used
	// instead (a policy under test).
	Reclaim string
	Policy  reclaim.Policy
	// ReclaimNoFlush is a teaching switch: page reclaim clears accessed bits without
	// invalidating the TLB entries made from them, so a page in use looks unused to the
	// policy (the processor does not set A again while its TLB entry lives).
	ReclaimNoFlush bool
	// ResidentLimit, when not zero, is the most frames the pages reclaim may take can hold
	// at once (pages locked in memory aside): the "N frames" of a textbook exercise.
	ResidentLimit uint64
}

// Kernel is the operating system of one machine.
type Kernel struct {
	deadline deadlineState // a test's wall-clock limit on Run (deadline.go)
	cfg      Config
	ram      *ram.RAM
	frames   *Frames
	cache    *PageCache
	rc       *reclaimer // page reclaim (reclaim.go)
	swap     *swapArea  // the swap area (swap.go); nil: none

	// The CPUs, and the one the kernel is acting on (this), with its processor, its MMU
	// and its current thread (Linux's current), kept at hand.
	cpus []*PerCPU
	this *PerCPU
	cpu  *cpu.CPU
	mmu  *mmu.MMU
	cur  *Thread

	procs    map[int]*Process // every process not yet reaped, by PID
	tasks    map[int]*Thread  // every live thread, by TID
	live     []*Process       // processes that have not exited, in PID order
	runq     []*Thread        // live threads in TID order (the run queue)
	zombies  int              // processes exited and not yet reaped
	nextPID  int
	initProc *Process // pid 1, the emulated init: the parent of the first program, the reaper of orphans
	first    *Process // the program Spawn started: Run returns its exit code
	lastTID  int      // the thread the scheduler picked last
	roundEnd uint64   // several CPUs: the clock at which the current round of turns ends
	retired  uint64   // instructions retired by every CPU
	// retiredElsewhere is what the CPUs other than this one have retired (events' time).
	retiredElsewhere uint64
	futexes          futexTable
	pcids            pcidAllocator
	log              io.Writer
	stdin            io.Reader
	stdout           io.Writer
	stderr           io.Writer

	// hwWants is who wants which hardware events (hwevents.go: WantHardware).
	hwWants map[string][2]bool

	observers  []Observer
	tracer     SignalTracer // a debugger's signal-delivery stop (debugaccess.go), or nil
	emitBuf    Event        // the event observers see (events.go: emit)
	bootPML4   uint64       // the empty tables loaded when no process runs
	clockNS    uint64       // nanoseconds added to the virtual clock while every thread slept
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

	ns namespace   // the guest's view of the host's files (namei.go)
	hs hostSignals // signals the host sent emu, for the guest (hostsig.go)
	hp hostPages   // the page cache's frames backed by host file pages (hostpages.go)

	sigFrames []uint64           // frames charged for queued siginfos (kmem.go)
	pipes     map[*pipe]struct{} // pipes with an end open (their buffers' frames: FrameMap)
	// hostSleepHint says some thread may sleep on a host descriptor (hostio.go): Run
	// polls them at each step until a look finds none.
	hostSleepHint bool
	// idleInterrupted says a debugger asked for the machine back (Interrupt) while every
	// thread slept: the step in progress returns with nothing run.
	idleInterrupted bool

	realtimeBase uint64 // CLOCK_REALTIME at virtual time 0, in nanoseconds (clock.go)

	locks        map[any]*fileLocks                 // file locks by file (locks.go)
	lockWaits    map[any]*lockWait                  // POSIX lock owners blocked in F_SETLKW, for EDEADLK
	hostWaiters  []hostWaiter                       // wait queues woken by host descriptors (special.go)
	ktimers      []*ktimer                          // armed kernel timers (ktimer.go)
	sfdWaits     map[*Process]*waitQueue            // threads waiting on a signalfd (signalfd.go)
	anonIDs      uint64                             // ids of anonymous-inode objects (eventfd-id)
	epItems      map[*File][]*epItem                // epoll items by the file they watch (epoll.go)
	unixAbstract map[string]*unixSock               // bound abstract AF_UNIX names (unixsock.go)
	unixPaths    map[[2]uint64]*unixSock            // AF_UNIX sockets by their socket file (dev, ino)
	unixAuto     uint32                             // the last autobind name
	ptimers      map[*Process]map[int32]*posixTimer // POSIX timers (posixtimer.go)
	sysv         *sysvShm                           // System V shared memory (sysvshm.go)
}

// New builds a machine (RAM, and CPUs each with an MMU) and a kernel to run it, with paging
// on and no process but the emulated init.
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
	if cfg.CPUs <= 0 {
		cfg.CPUs = 1
	}
	if cfg.CPUs > maxCPUs {
		return nil, fmt.Errorf("minikernel: %d CPUs: at most %d", cfg.CPUs, maxCPUs)
	}
	if cfg.Interleave == 0 {
		cfg.Interleave = 10_000
	}
	r, err := ram.New(cfg.RAM)
	if err != nil {
		return nil, err
	}
	mmus := make([]*mmu.MMU, cfg.CPUs)
	for i := range mmus {
		if mmus[i], err = mmu.New(r, cfg.MMU); err != nil {
			r.Close()
			return nil, err
		}
	}
	cpus, err := cpu.NewSMP(mmus)
	if err != nil {
		r.Close()
		return nil, err
	}
	k := &Kernel{cfg: cfg, ram: r, frames: NewFrames(r), cache: newPageCache(),
		procs: map[int]*Process{}, tasks: map[int]*Thread{}, nextPID: 1,
		stdin: cfg.Stdin, stdout: cfg.Stdout, stderr: cfg.Stderr, log: cfg.Log}
	if k.rc, err = newReclaimer(k, &cfg); err != nil {
		r.Close()
		return nil, fmt.Errorf("minikernel: %w", err)
	}
	k.frames.lru = k.rc
	if cfg.Swap > 0 || cfg.SwapFile != "" {
		if k.swap, err = newSwapArea(cfg.Swap, cfg.SwapFile); err != nil {
			r.Close()
			return nil, fmt.Errorf("minikernel: %w", err)
		}
	}
	for i := range cpus {
		c := &PerCPU{id: i, cpu: cpus[i], mmu: mmus[i]}
		c.cpu.SetInterruptHandler(func(v uint8) { k.interrupt(c, v) })
		k.cpus = append(k.cpus, c)
	}
	k.enter(k.cpus[0])
	k.roundEnd = cfg.Interleave
	k.frames.noReuse = cfg.NoShootdown && cfg.CPUs > 1
	if k.stdout == nil {
		k.stdout = io.Discard
	}
	if k.stderr == nil {
		k.stderr = io.Discard
	}
	if k.log == nil {
		k.log = k.stderr
	}
	k.realtimeBase = realtimeStart(cfg.Realtime)
	k.initFDBudget()
	k.initHostSignals()
	k.initHostPages()
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
	for _, m := range mmus {
		if err := m.EnableLongMode(boot<<12, cr4); err != nil {
			return nil, fmt.Errorf("minikernel: enabling paging: %w", err)
		}
		// CR0.AM, as Linux sets it (CR0_STATE): a program that sets RFLAGS.AC gets #AC,
		// and SIGBUS, for a misaligned access.
		if err := m.SetCR0(m.CR0() | mmu.CR0AM); err != nil {
			return nil, fmt.Errorf("minikernel: setting CR0.AM: %w", err)
		}
	}
	k.initProc = k.newInit()
	return k, nil
}

// newInit creates pid 1, the emulated init: a process with no thread and no address space
// of its own, which every orphan is given to and which reaps its children as they exit
// (its SIGCHLD is ignored), as a real init's wait loop does. It never exits.
func (k *Kernel) newInit() *Process {
	p := k.newProcess(nil, 1)
	p.kernelInit = true
	p.exe = "[init]"
	p.fs = &fsState{}
	p.sig.sigHand = &sigHand{}
	p.sig.act[SIGCHLD].handler = sigIGN
	return p
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
		k.putFiles(p)
		if mm := p.mm; mm != nil && mm.users > 0 {
			mm.users = 0
			k.releaseMM(mm)
		}
		p.mm = nil
	}
	k.closed = true
	k.closeNamespace()
	k.closeHostSignals()
	if k.swap != nil {
		k.swap.Close()
	}
	return k.ram.Close()
}

// CPU returns the processor the kernel acts on (see ThisCPU; CPUs lists them all).
func (k *Kernel) CPU() *cpu.CPU { return k.cpu }

// MMU returns the MMU of the processor the kernel acts on.
func (k *Kernel) MMU() *mmu.MMU { return k.mmu }

// RAM returns the machine's physical memory.
func (k *Kernel) RAM() *ram.RAM { return k.ram }

// Frames returns the frame allocator.
func (k *Kernel) Frames() *Frames { return k.frames }

// PageCache returns the page cache.
func (k *Kernel) PageCache() *PageCache { return k.cache }

// Process returns the process with the given PID (running, blocked or a zombie), or nil.
func (k *Kernel) Process(pid int) *Process { return k.procs[pid] }

// Current returns the process of the thread running on the CPU the kernel acts on (nil
// before Spawn, while that CPU is idle, and after every process exited).
func (k *Kernel) Current() *Process {
	if k.cur == nil {
		return nil
	}
	return k.cur.proc
}

// Instructions returns the instructions retired by all CPUs together.
func (k *Kernel) Instructions() uint64 { return k.retired }

// Spawn creates the first program's process running path with argv and envp, as if a
// shell had forked and called execve; its parent is the emulated init (pid 1), so it is
// pid 2. Like a shell, it looks a path without a slash up in envp's PATH, in the guest's
// file system (inside the root when there is one), and otherwise takes it as a name in
// the working directory. Host-side problems (missing file, malformed ELF) come back as
// errors.
func (k *Kernel) Spawn(path string, argv, envp []string) (*Process, error) {
	if k.first != nil {
		return nil, errors.New("minikernel: Spawn makes the first process only; guests fork the rest")
	}
	path = k.searchPath(path, envp)
	if k.tiny {
		return nil, k.ramTooSmall(path, argv, envp)
	}
	p := k.newProcess(k.initProc, 0)
	fs := k.initialFS()
	p.fs = &fs
	p.fds = &fdTable{users: 1}
	p.fds.installAt(0, k.newStream("<stdin>", k.stdin, nil, oRdonly), false)
	p.fds.installAt(1, k.newStream("<stdout>", nil, k.stdout, oWronly), false)
	p.fds.installAt(2, k.newStream("<stderr>", nil, k.stderr, oWronly), false)
	p.sig.sigHand = &sigHand{}
	mm, err := k.newMM()
	if err != nil {
		k.putFiles(p)
		delete(k.procs, p.PID)
		k.initProc.children = nil
		k.live = k.live[:1]
		return nil, k.ramTooSmall(path, argv, envp)
	}
	p.mm = mm
	t := k.newThread(p, p.PID)
	k.first = p
	k.switchTo(t)
	if e := k.execve(p, path, argv, envp); e != nil {
		err = e
		if e.Errno == ENOMEM {
			err = k.ramTooSmall(path, argv, envp)
		}
	} else if k.startOOM {
		err = k.ramTooSmall(path, argv, envp)
	}
	if err != nil {
		k.putFiles(p)
		k.setCurrent(nil)
		t.on = nil
		k.loadMM(nil)
		k.mmput(p.mm)
		delete(k.procs, p.PID)
		delete(k.tasks, t.TID)
		k.initProc.children = nil
		k.live = k.live[:1]
		k.runq = nil
		k.first = nil
		k.startOOM = false
		return nil, err
	}
	k.spawnArgs = append(append([]string{path}, argv...), envp...)
	k.spawnArgc = len(argv)
	t.started = true
	return p, nil
}

// defaultPath is the search path glibc's execvp uses when PATH is unset (posix/execvpe.c).
const defaultPath = "/bin:/usr/bin"

// searchPath is the search a shell (and execvp) makes for a command name: a name with a
// slash is a path and stays as it is; a bare name is tried in each directory of envp's PATH
// in turn (an empty entry meaning the working directory), and the first that names an
// executable regular file wins. A name found nowhere is returned as it is, so that it names
// a file in the working directory, as emu has always taken it, or gives the error that says
// it does not exist.
func (k *Kernel) searchPath(name string, envp []string) string {
	if name == "" || strings.Contains(name, "/") {
		return name
	}
	dirs := defaultPath
	for _, kv := range envp {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			dirs = v // the first, as getenv finds it
			break
		}
	}
	for _, dir := range strings.Split(dirs, ":") {
		if dir == "" {
			dir = "."
		}
		cand := dir + "/" + name
		if f, e := k.openExec(cand); e == nil {
			f.put()
			return cand
		}
	}
	return name
}

// ErrInsnLimit is returned by Run when Config.MaxInsns instructions have retired.
var ErrInsnLimit = errors.New("instruction limit reached")

// ErrDeadlock is returned by Run when threads remain but every one of them is blocked
// with nothing left that could wake it.
var ErrDeadlock = errors.New("deadlock: every live thread is blocked")

// Run runs the machine until every thread has exited, and returns the first program's
// exit code as a shell reports it: the status passed to exit, or 128 + the signal that
// killed it. Orphans keep running after the first program exits (init adopts them).
func (k *Kernel) Run() (int, error) {
	if k.first == nil {
		return 0, errors.New("minikernel: no process to run")
	}
	defer k.armDeadline()()
	for len(k.runq) > 0 {
		if k.hostSleepHint {
			k.pollHostIO()
		}
		if k.hostSignalsPosted() {
			if err := k.deadlineErr(); err != nil {
				return 0, err
			}
			if err := k.stopRequested(); err != nil {
				return 0, err
			}
			k.deliverHostSignals()
			continue
		}
		budget := k.cfg.Quantum
		if k.cfg.MaxInsns > 0 {
			if k.retired >= k.cfg.MaxInsns {
				return 0, fmt.Errorf("%w (%d)", ErrInsnLimit, k.cfg.MaxInsns)
			}
			budget = min(budget, k.cfg.MaxInsns-k.retired)
		}
		if err := k.Step(budget); err != nil {
			return 0, err
		}
	}
	if k.startOOM {
		a := k.spawnArgs
		return 0, k.ramTooSmall(a[0], a[1:1+k.spawnArgc], a[1+k.spawnArgc:])
	}
	return ExitCode(k.first.status), nil
}

// Step runs the current thread of the CPU whose turn it is for at most budget instructions
// (never past the end of its time slice, nor past the CPU's turn when there are several)
// or until the next trap, and handles that trap. When the thread has exited, blocked or
// used up its slice, the scheduler picks the next one first. For debuggers; Run is made
// of Steps.
func (k *Kernel) Step(budget uint64) error {
	t, tr, err := k.runUntilTrap(budget)
	if err != nil || t == nil {
		return err
	}
	return k.handleTrap(t, tr)
}

// runUntilTrap is the first half of Step: it finds the CPU whose turn it is and a thread for
// it, runs the thread until its next trap, its budget, the end of its slice or of the
// CPU's turn, and returns the trap unhandled (RunToTrap gives it to a debugger).
func (k *Kernel) runUntilTrap(budget uint64) (*Thread, cpu.Trap, error) {
	for {
		if len(k.runq) == 0 || k.idleInterrupted {
			// The last threads ended while the scheduler waited (a signal from the host
			// killed them), or a debugger wants the machine while every thread sleeps:
			// nothing ran.
			k.idleInterrupted = false
			return nil, cpu.Trap{Kind: cpu.TrapBudget}, nil
		}
		c := k.this
		if k.multi() && k.clockOf(c) >= k.roundEnd {
			if err := k.nextTurn(); err != nil {
				return nil, cpu.Trap{}, err
			}
			continue
		}
		// A thread woken in a system call (t.sleep) finishes it in schedule's resume first.
		if t := k.cur; t == nil || t.state != procRunnable || t.sleep != nil || c.slice >= k.cfg.Quantum ||
			t.affinity&(1<<c.id) == 0 {
			ok, err := k.schedule()
			if err != nil {
				return nil, cpu.Trap{}, err
			}
			if !ok {
				continue // this CPU idles for the rest of its turn
			}
		}
		t := k.cur
		limit := min(budget, k.cfg.Quantum-c.slice)
		if k.multi() {
			limit = min(limit, k.roundEnd-k.clockOf(c))
		}
		limit = k.timerBudget(t.proc, limit)
		limit = k.kswapdBudget(limit)
		k.cpu.SetTSCOffset((c.idleNS + k.clockNS) * cpu.TSCPerInstruction)
		catchHostFaults() // a frame whose host file shrank is a trap, not a crash
		before := k.cpu.Instructions()
		tr := k.cpu.Run(limit)
		ran := k.cpu.Instructions() - before
		c.slice += ran
		t.insns += ran
		t.proc.insns += ran
		k.retired += ran
		if ran > 0 {
			c.ran = true
		}
		// kswapd runs now if its time has come, before the trap is handled or shown to a
		// debugger (whose forecast of the fault's outcome must hold).
		k.kswapd()
		return t, tr, nil
	}
}

// nextTurn ends this CPU's turn and gives the next CPU its turn; after the last CPU a new
// round begins. A round in which no CPU could run anything, with no thread ready, is a
// machine asleep: the clock jumps to the next timer or deadline, or, with none, every
// thread is blocked for ever (a deadlock).
func (k *Kernel) nextTurn() error {
	next := k.this.id + 1
	if next < len(k.cpus) {
		k.enter(k.cpus[next])
		return nil
	}
	k.enter(k.cpus[0])
	asleep := true
	for _, c := range k.cpus {
		asleep = asleep && !c.ran
		c.ran = false
	}
	if asleep && !k.anyRunnable() {
		// Every CPU idled for a whole round: nothing can happen before the next timer.
		if k.eventDue() {
			k.wakeTimers()
		}
		if !k.anyRunnable() {
			before := k.clockNS
			if !k.advanceToTimer() {
				return k.deadlock()
			}
			k.roundEnd += k.clockNS - before
		}
	}
	k.roundEnd += k.cfg.Interleave
	return nil
}

// anyRunnable reports whether some thread could run.
func (k *Kernel) anyRunnable() bool {
	for _, t := range k.runq {
		if t.state == procRunnable {
			return true
		}
	}
	return false
}

// handleTrap does what the kernel does for a trap t's code raised: a system call, an
// exception, or nothing when the budget ran out; then the timers that are due, and, if t
// goes back to user mode, what every return to user mode does (signals, restarts).
func (k *Kernel) handleTrap(t *Thread, tr cpu.Trap) error {
	defer k.recoverHostFault(t)
	p := t.proc
	switch tr.Kind {
	case cpu.TrapSyscall:
		k.syscall(p)
	case cpu.TrapException:
		k.exception(p, tr)
	case cpu.TrapInternal:
		if unaddressedFault(tr.Err) && k.hostFaultSomewhere() {
			break // a host fault the host gave no address for: retried (see hostFaultSomewhere)
		}
		return fmt.Errorf("emulator failure in pid %d at rip %#x: %v", p.PID, tr.RIP, tr.Err)
	case cpu.TrapHostFault:
		k.handleHostFaultTrap(t, tr)
	}
	if !p.exited {
		k.cpuTimers(p)
	}
	if k.eventDue() {
		k.wakeTimers()
	}
	if k.cur == t && !t.exited && t.state == procRunnable && t.sleep == nil {
		k.exitToUser(t)
	}
	return nil
}

// schedule picks the next thread for this CPU, round-robin in TID order after the one
// picked last, among those it may run (not running elsewhere, allowed by their affinity,
// and, with several CPUs, ready by this CPU's clock), switches to it and finishes a system
// call it was blocked in. It reports whether a thread now runs; with several CPUs, a CPU
// with nothing to run idles until the end of its turn. Every choice depends only on
// instruction counts, so runs are deterministic.
func (k *Kernel) schedule() (bool, error) {
	c := k.this
	for {
		if k.eventDue() {
			k.wakeTimers()
		}
		if len(k.hostWaiters) > 0 {
			k.pollHostWaiters(0) // host sockets that became ready (special.go)
		}
		next := k.pickNext(c)
		if next == nil {
			if len(k.runq) == 0 {
				k.idle()
				return false, nil
			}
			if k.multi() {
				// Idle until a thread this CPU could run becomes ready within its turn (another
				// CPU woke it at that time), or else until the end of the turn.
				k.idle()
				now, until := k.clockOf(c), k.roundEnd
				for _, t := range k.runq {
					if t.state == procRunnable && t.on == nil && t.affinity&(1<<c.id) != 0 && t.readyAt > now {
						until = min(until, t.readyAt)
					}
				}
				if now < until {
					c.idleNS += until - now
				}
				if until < k.roundEnd {
					continue
				}
				return false, nil
			}
			if k.advanceToTimer() {
				continue // the clock jumped to the next timer or deadline
			}
			return false, k.deadlock()
		}
		prev := k.cur
		k.switchTo(next)
		k.lastTID, c.slice = next.TID, 0
		if prev != next {
			c.stats.ContextSwitches++
			e := Event{Kind: EvSwitch, PID: next.proc.PID, TID: next.TID, RIP: k.cpu.RIP()}
			if prev != nil {
				e.Prev, e.PrevTID = prev.proc.PID, prev.TID
			}
			k.emit(&e)
		}
		k.resume(next)
		if next.state == procRunnable && !next.exited && k.cur == next {
			k.exitToUser(next)
		}
		if next.state == procRunnable && !next.exited && k.cur == next {
			return true, nil
		}
	}
}

// deadlock is the error for a machine whose threads all sleep with nothing to wake them: it
// names each thread (pid 2, or tid 3 of pid 2) and the call it sleeps in.
func (k *Kernel) deadlock() error {
	if k.awaitHostSignal() {
		return k.stopRequested() // nil: a signal from the host came for a thread waiting for one
	}
	var ids []string
	for _, t := range k.runq {
		what := "?"
		if t.sleep != nil {
			what = t.sleep.name
		}
		if t.TID == t.proc.PID {
			ids = append(ids, fmt.Sprintf("pid %d in %s", t.TID, what))
		} else {
			ids = append(ids, fmt.Sprintf("tid %d of pid %d in %s", t.TID, t.proc.PID, what))
		}
	}
	return fmt.Errorf("%w (%s; no child, signal or timer is left to wake them)", ErrDeadlock, strings.Join(ids, ", "))
}

// pickNext returns the thread this CPU runs next: the first, after the one picked last and
// wrapping around, that it may run; with several CPUs one that last ran on this CPU comes
// first (its TLB entries may still be here: Linux's wakeup prefers the previous CPU too).
func (k *Kernel) pickNext(c *PerCPU) *Thread {
	now := k.clockOf(c)
	ok := func(t *Thread) bool {
		if t.state != procRunnable || (t.on != nil && t.on != c) || t.affinity&(1<<c.id) == 0 {
			return false
		}
		return !k.multi() || t.readyAt <= now || t.on == c
	}
	if k.multi() {
		if t := k.roundRobin(func(t *Thread) bool { return ok(t) && (t.lastCPU == c.id || t.lastCPU < 0) }); t != nil {
			return t
		}
	}
	return k.roundRobin(ok)
}

// roundRobin returns the first thread that ok accepts after the one picked last, wrapping
// around.
func (k *Kernel) roundRobin(ok func(*Thread) bool) *Thread {
	var first *Thread
	for _, t := range k.runq {
		if !ok(t) {
			continue
		}
		if t.TID > k.lastTID {
			return t
		}
		if first == nil {
			first = t
		}
	}
	return first
}

// idle takes this CPU's thread off it: the CPU keeps its address space loaded, in lazy TLB
// mode, until it runs something else.
func (k *Kernel) idle() {
	c := k.this
	if t := c.cur; t != nil {
		if !t.exited {
			k.cpu.Save(&t.regs)
		}
		t.on = nil
	}
	k.setCurrent(nil)
	if c.loaded != nil {
		c.lazy = true
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

// newMM allocates an empty address space with a PML4 and a PCID, used by one task.
func (k *Kernel) newMM() (*MM, error) {
	pml4, err := k.frames.Alloc(FrameTable)
	if err != nil {
		return nil, err
	}
	var pcid uint16
	if !k.cfg.NoPCID {
		pcid = k.pcids.get()
	}
	return &MM{pml4: pml4, pcid: pcid, mmapBase: mmapBaseFor(stackLimit), users: 1,
		tlbGen: 1, cpuGen: make([]uint64, len(k.cpus))}, nil
}

// mmput drops a task's reference to mm and tears it down with the last one (Linux's
// mmput()).
func (k *Kernel) mmput(mm *MM) {
	if mm == nil {
		return
	}
	mm.users--
	if mm.users <= 0 {
		k.releaseMM(mm)
	}
}

// releaseMM tears an address space down, as Linux's exit_mmap() does: shared mappings'
// dirty pages go back to their files, then every frame and page-table page is released,
// every CPU that may still hold its translations flushes them (CPUs holding it lazily leave
// it, since its tables are freed), and the VMAs drop their files.
func (k *Kernel) releaseMM(mm *MM) {
	if mm == nil {
		return
	}
	for _, v := range mm.vmas {
		k.syncRange(mm, v, v.Start, v.End)
		if v.Flags&VMLocked != 0 {
			k.unlockRange(mm, v.Start, v.End)
		}
	}
	if k.this.loaded == mm {
		// Leave the address space before tearing it down, as a kernel must: switch to the
		// empty boot tables so no stale translation can be used.
		k.loadMM(nil)
	}
	k.freeTables(mm.pml4)
	_ = k.mmu.Invpcid(mmu.InvpcidSingle, mm.pcid, 0)
	k.flushTLB(&tlbGather{mm: mm, all: true, freedTables: true, why: "exit_mmap"})
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

// switchTo makes t the thread this CPU runs: saves the old one's registers, loads CR3 with
// t's address space (loadMM), and loads t's registers.
func (k *Kernel) switchTo(t *Thread) {
	c := k.this
	if c.cur == t {
		k.cur = t
		return
	}
	if prev := c.cur; prev != nil {
		if !prev.exited {
			k.cpu.Save(&prev.regs)
		}
		prev.on = nil
	}
	k.loadMM(t.proc.mm)
	k.cpu.Load(&t.regs)
	t.on, t.lastCPU = c, c.id
	k.setCurrent(t)
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
	return 0 // shared fallback: the TLB generations make every load flush it
}

func (a *pcidAllocator) put(id uint16) {
	if id != 0 {
		a.free = append(a.free, id)
	}
}
