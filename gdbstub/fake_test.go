package gdbstub

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// fakeTarget is a machine in memory for the protocol tests: one process (pid 7) or two, a
// page of memory at 0x1000, registers, and a script of stops for Resume.
type fakeTarget struct {
	regs    map[ThreadID]Registers
	mem     map[uint64]byte
	threads []Thread
	bps     []Breakpoint
	stops   []Stop // what successive Resumes return
	resumed [][]Action
	killed  []int
	detach  []int
	monitor []string
	// spin makes Resume wait for an interrupt and return SIGINT.
	spin bool
	auxv []byte
	file string // what OpenFile opens
}

func newFake() *fakeTarget {
	f := &fakeTarget{regs: map[ThreadID]Registers{}, mem: map[uint64]byte{}}
	t := ThreadID{7, 7}
	f.threads = []Thread{{ID: t, Name: "prog"}}
	r := Registers{}
	r.RIP = 0x401000
	r.GPR[0] = 0x1122334455667788 // rax
	r.RFLAGS = 0x246
	r.OrigRAX = -1
	f.regs[t] = r
	for a := uint64(0x1000); a < 0x2000; a++ {
		f.mem[a] = byte(a)
	}
	return f
}

func (f *fakeTarget) Threads() []Thread { return f.threads }

func (f *fakeTarget) alive(pid int) bool {
	for _, t := range f.threads {
		if t.ID.PID == pid {
			return true
		}
	}
	return false
}

func (f *fakeTarget) Registers(t ThreadID) (Registers, error) {
	r, ok := f.regs[t]
	if !ok {
		return r, errors.New("no such thread")
	}
	return r, nil
}

func (f *fakeTarget) SetRegisters(t ThreadID, r Registers) error {
	if _, ok := f.regs[t]; !ok {
		return errors.New("no such thread")
	}
	f.regs[t] = r
	return nil
}

func (f *fakeTarget) ReadMemory(pid int, addr uint64, buf []byte) (int, error) {
	for i := range buf {
		b, ok := f.mem[addr+uint64(i)]
		if !ok {
			return i, errors.New("unmapped")
		}
		buf[i] = b
	}
	return len(buf), nil
}

func (f *fakeTarget) WriteMemory(pid int, addr uint64, data []byte) (int, error) {
	for i, b := range data {
		if _, ok := f.mem[addr+uint64(i)]; !ok {
			return i, errors.New("unmapped")
		}
		f.mem[addr+uint64(i)] = b
	}
	return len(data), nil
}

func (f *fakeTarget) InsertBreakpoint(pid int, bp Breakpoint) error {
	if !f.alive(pid) {
		return errors.New("no process")
	}
	f.bps = append(f.bps, bp)
	return nil
}

func (f *fakeTarget) RemoveBreakpoint(pid int, bp Breakpoint) error {
	for i, b := range f.bps {
		if b == bp {
			f.bps = append(f.bps[:i], f.bps[i+1:]...)
			return nil
		}
	}
	return nil
}

func (f *fakeTarget) Resume(acts []Action, interrupted func() bool) Stop {
	f.resumed = append(f.resumed, acts)
	if f.spin {
		for !interrupted() {
		}
		return Stop{Kind: StopSignal, Thread: f.threads[0].ID, Signal: SIGINT}
	}
	if len(f.stops) == 0 {
		return Stop{Kind: StopExited, Thread: f.threads[0].ID}
	}
	st := f.stops[0]
	f.stops = f.stops[1:]
	return st
}

func (f *fakeTarget) Kill(pid int) error {
	f.killed = append(f.killed, pid)
	return f.drop(pid)
}

func (f *fakeTarget) Detach(pid int) error {
	f.detach = append(f.detach, pid)
	return f.drop(pid)
}

func (f *fakeTarget) drop(pid int) error {
	for i, t := range f.threads {
		if t.ID.PID == pid {
			f.threads = append(f.threads[:i], f.threads[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no process %d", pid)
}

func (f *fakeTarget) Auxv(pid int) ([]byte, error) { return f.auxv, nil }

func (f *fakeTarget) ExecFile(pid int) (string, error) { return "/bin/prog", nil }

func (f *fakeTarget) Monitor(cmd string) (string, error) {
	f.monitor = append(f.monitor, cmd)
	if strings.HasPrefix(cmd, "bad") {
		return "", errors.New("no such command")
	}
	return "you said: " + cmd + "\n", nil
}

func (f *fakeTarget) OpenFile(pid int, path string) (File, error) {
	if path != "/bin/prog" || f.file == "" {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrNotExist}
	}
	return os.Open(f.file)
}

func (f *fakeTarget) ReportEvents(fork, vfork, exec bool) {}

func (f *fakeTarget) Readlink(pid int, path string) (string, error) {
	if path == "/proc/7/exe" {
		return "/bin/prog", nil
	}
	return "", &os.PathError{Op: "readlink", Path: path, Err: os.ErrNotExist}
}
