package debugger

import (
	"bytes"

	"github.com/vmemu/vmemu/minikernel"
)

// View is what a session shows a tool that draws the machine (the web view): the kernel to
// read, and the session's own state. It is valid only during the call that hands it out.
type View struct {
	Kernel  *minikernel.Kernel
	Pending *minikernel.PendingTrap // the trap the program stopped at, not yet handled; nil if none
	Program string                  // the program the session follows
	Where   string                  // the location line, as the where command shows it
	Breaks  string                  // the breakpoints and watchpoints, as the breaks command lists them
	Status  string                  // "stopped", "running" (during a Tick), "exited" or "failed"
}

// Inspect calls f with the session's view while no command runs (it holds the session's
// lock). f must only read the machine.
func (d *Session) Inspect(f func(v *View)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f(d.view("stopped"))
}

// SetTick sets a function the session calls between quanta of a long command (continue and
// step N), with the machine between two instructions, while it holds the session's lock:
// view describes the session then. When tick returns true the command stops there, as if
// interrupted. A nil tick (the default) costs nothing.
func (d *Session) SetTick(tick func(view func() *View) (stop bool)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tick = tick
}

// ticked calls the tick, if any, and reports whether it asked the running command to stop;
// then it tells the user so.
func (d *Session) ticked() bool {
	if d.tick == nil || !d.tick(func() *View { return d.view("running") }) {
		return false
	}
	d.printf("stopped: interrupted\n%s\n", d.where())
	return true
}

func (d *Session) view(status string) *View {
	v := &View{Kernel: d.k, Pending: d.pending, Where: d.where(), Status: status}
	if d.init != nil {
		v.Program = d.init.Exe()
	}
	switch {
	case d.dead != nil:
		v.Status = "failed"
	case !d.k.Live():
		v.Status = "exited"
	}
	var b bytes.Buffer
	out := d.out
	d.out = &b
	d.cmdBreaks()
	d.out = out
	v.Breaks = b.String()
	return v
}

// Ended reports whether a command (quit) has ended the session, whichever input it came from.
func (d *Session) Ended() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.quit
}
