// Package web is emu's web view of the machine: an HTTP server (loopback by default) that
// serves one embedded page and a JSON description of the machine's state, and the
// self-contained HTML report of a run (emu run --report).
//
// The page shows, for a process the user picks, the address space (VMAs along the 47-bit
// user half, with the pages present, swapped or not yet touched), the four-level page-table
// tree with the last walk highlighted, physical frames coloured by kind with their
// reference counts and reverse mappings, every CPU's TLB by set and way, and a timeline of
// faults, system calls and other events along guest time. It updates live over server-sent
// events while a debugger session steps or runs the program, and its console and buttons
// drive that same session.
//
// What it models: nothing of the machine itself. It reads the kernel and the hardware
// through their side-effect-free accessors (minikernel's TableWalk, FrameMap, Processes;
// the TLBs' entries and counters) and turns them into JSON; it drives the program only
// through a Machine (a debugger session's commands). It must not know the debugger's
// internals, the kernel's policies, or anything of flags and terminals (cmd/emu wires it).
// The kernel knows nothing of HTTP or HTML.
package web
