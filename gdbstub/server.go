package gdbstub

import (
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"strconv"
	"strings"
)

// Ending says how a session with gdb ended.
type Ending uint8

// The ways a session ends.
const (
	Detached     Ending = iota // gdb detached: the program runs on without it
	Killed                     // gdb killed the program
	Disconnected               // the connection dropped: the program runs on, as after a detach
)

func (e Ending) String() string {
	switch e {
	case Detached:
		return "detached"
	case Killed:
		return "killed"
	}
	return "disconnected"
}

// Options configures a session.
type Options struct {
	// Log receives one line for each thing gdb asked that the stub could not do (an unknown
	// or malformed packet), for the curious; nil discards them.
	Log io.Writer
	// OnInterrupt, when set, is called as soon as gdb sends an interrupt (Ctrl-C), or goes
	// away, from the goroutine that reads the connection, so that a target blocked in a wait
	// can wake up and notice; Resume's interrupted callback reports it all the same.
	OnInterrupt func()
}

// session is one connection with gdb.
type session struct {
	c    *conn
	t    Target
	log  io.Writer
	last Stop // the last stop reported, for '?' and siginfo
	// The threads Hg and Hc selected: the one g, m, Z... act on, and the one c and s resume.
	gThread, cThread ThreadID
	// Features gdb announced in qSupported.
	multiprocess, forkEvents, vforkEvents, execEvents, swbreak, hwbreak, noResumed bool
	pass                                                                           [65]bool // QPassSignals, by Linux number
	ending                                                                         Ending
	ended                                                                          bool         // ending is set: gdb killed or detached everything
	files                                                                          map[int]File // vFile descriptors
	done                                                                           bool
}

// Serve runs one session with gdb over rw, which it reads and writes until gdb detaches,
// kills the program or goes away; then it closes rw (when rw can be closed) and returns once
// its reader has stopped, so nothing of the session (an OnInterrupt call) outlives it. first is the stop the program is in when gdb connects (a
// SIGTRAP before its first instruction). It never panics on anything gdb sends: a malformed
// packet gets an error reply, an unknown one the empty reply, as the protocol says.
func Serve(rw io.ReadWriter, t Target, first Stop, opts Options) Ending {
	s := &session{c: newConn(rw, opts.OnInterrupt), t: t, log: opts.Log, last: first, gThread: first.Thread, cThread: first.Thread,
		files: map[int]File{}}
	if s.log == nil {
		s.log = io.Discard
	}
	defer func() {
		for _, f := range s.files {
			f.Close()
		}
		if cl, ok := rw.(io.Closer); ok {
			cl.Close()
			<-s.c.done
		}
	}()
	for !s.done {
		f, err := s.c.recv()
		if err != nil {
			if s.ended {
				return s.ending
			}
			return Disconnected
		}
		var reply string
		switch f.kind {
		case frameTooLong:
			reply = "E.packet too long"
			fmt.Fprintf(s.log, "gdb: a packet longer than %d bytes was dropped\n", MaxPacket)
		case frameBad:
			continue // no-ack mode: gdb does not resend; there is nothing to answer
		default:
			var send bool
			reply, send = s.handle(string(f.data))
			if !send {
				continue
			}
		}
		if err := s.c.sendString(reply); err != nil {
			return Disconnected
		}
		if reply == "OK" && string(f.data) == "QStartNoAckMode" {
			s.c.sendNoAck = true
		}
	}
	return s.ending
}

func (s *session) logf(format string, args ...any) { fmt.Fprintf(s.log, "gdb: "+format+"\n", args...) }

// handle answers one packet; send is false for packets that get no reply.
func (s *session) handle(p string) (reply string, send bool) {
	defer func() {
		// A bug in a handler must not take the emulator down with gdb's session: it
		// becomes an error reply, and a line in the log.
		if r := recover(); r != nil {
			s.logf("internal error on packet %.40q: %v", p, r)
			reply, send = "E.internal error", true
		}
	}()
	if p == "" {
		return "", true
	}
	switch p[0] {
	case '?':
		return s.stopReply(&s.last), true
	case 'g':
		return s.readRegisters()
	case 'G':
		return s.writeRegisters(p[1:]), true
	case 'p':
		return s.readRegister(p[1:]), true
	case 'P':
		return s.writeRegister(p[1:]), true
	case 'm':
		return s.readMemory(p[1:]), true
	case 'M':
		return s.writeMemoryHex(p[1:]), true
	case 'X':
		return s.writeMemoryBinary(p[1:]), true
	case 'Z', 'z':
		return s.breakpoint(p[0] == 'Z', p[1:]), true
	case 'H':
		return s.setThread(p[1:]), true
	case 'T':
		return s.threadAlive(p[1:]), true
	case 'c', 's', 'C', 'S':
		return s.oldResume(p)
	case 'v':
		return s.vPacket(p)
	case 'q', 'Q':
		return s.query(p), true
	case 'D':
		return s.detach(p[1:]), true
	case 'k':
		for _, pid := range s.pids() {
			s.t.Kill(pid)
		}
		s.ending, s.ended, s.done = Killed, true, true
		return "", false
	}
	return "", true
}

// --- thread ids ---

// parseThread reads a thread id: pPID.TID or pPID (multiprocess), or TID; -1 means all, 0
// any. The numbers are hex.
func (s *session) parseThread(t string) (ThreadID, error) {
	num := func(x string) (int, error) {
		if x == "-1" {
			return -1, nil
		}
		v, err := strconv.ParseUint(x, 16, 31)
		return int(v), err
	}
	if rest, ok := strings.CutPrefix(t, "p"); ok {
		ps, ts, hasT := strings.Cut(rest, ".")
		pid, err := num(ps)
		if err != nil {
			return ThreadID{}, fmt.Errorf("bad thread id %q", t)
		}
		tid := -1
		if hasT {
			if tid, err = num(ts); err != nil {
				return ThreadID{}, fmt.Errorf("bad thread id %q", t)
			}
		}
		return ThreadID{PID: pid, TID: tid}, nil
	}
	tid, err := num(t)
	if err != nil {
		return ThreadID{}, fmt.Errorf("bad thread id %q", t)
	}
	if tid <= 0 {
		return ThreadID{PID: tid, TID: tid}, nil
	}
	// Without the process, find it among the threads.
	for _, th := range s.t.Threads() {
		if th.ID.TID == tid {
			return th.ID, nil
		}
	}
	return ThreadID{PID: tid, TID: tid}, nil
}

func (s *session) formatThread(t ThreadID) string {
	if s.multiprocess {
		return fmt.Sprintf("p%x.%x", t.PID, t.TID)
	}
	return fmt.Sprintf("%x", t.TID)
}

// resolve turns "any" (0) and "all" (-1) into a real thread: the last stop's, else the first.
func (s *session) resolve(t ThreadID) (ThreadID, bool) {
	threads := s.t.Threads()
	if t.TID > 0 && t.PID > 0 {
		for _, th := range threads {
			if th.ID == t {
				return t, true
			}
		}
		return t, false
	}
	for _, th := range threads {
		if th.ID == s.last.Thread && (t.PID <= 0 || t.PID == th.ID.PID) {
			return th.ID, true
		}
	}
	for _, th := range threads {
		if t.PID <= 0 || t.PID == th.ID.PID {
			return th.ID, true
		}
	}
	return t, false
}

func (s *session) current() (ThreadID, bool) { return s.resolve(s.gThread) }

func (s *session) pids() []int {
	var pids []int
	seen := map[int]bool{}
	for _, th := range s.t.Threads() {
		if !seen[th.ID.PID] {
			seen[th.ID.PID] = true
			pids = append(pids, th.ID.PID)
		}
	}
	return pids
}

func (s *session) setThread(p string) string {
	if len(p) < 2 {
		return "E.bad H packet"
	}
	t, err := s.parseThread(p[1:])
	if err != nil {
		return "E." + err.Error()
	}
	if t.TID > 0 {
		if _, ok := s.resolve(t); !ok {
			return "E.no such thread"
		}
	}
	switch p[0] {
	case 'g':
		s.gThread = t
	case 'c':
		s.cThread = t
	default:
		return "E.bad H packet"
	}
	return "OK"
}

func (s *session) threadAlive(p string) string {
	t, err := s.parseThread(p)
	if err != nil {
		return "E." + err.Error()
	}
	if _, ok := s.resolve(t); !ok {
		return "E.no such thread"
	}
	return "OK"
}

// --- registers ---

func (s *session) regs() (Registers, ThreadID, error) {
	t, ok := s.current()
	if !ok {
		return Registers{}, t, errors.New("no thread")
	}
	r, err := s.t.Registers(t)
	return r, t, err
}

func (s *session) readRegisters() (string, bool) {
	r, _, err := s.regs()
	if err != nil {
		return "E.cannot read registers: " + err.Error(), true
	}
	b := make([]byte, 0, 2*gPacketSize)
	for n := range gdbRegs {
		b = hex.AppendEncode(b, regBytes(&r, n))
	}
	return string(b), true
}

func (s *session) writeRegisters(p string) string {
	r, t, err := s.regs()
	if err != nil {
		return "E.cannot read registers: " + err.Error()
	}
	data, err := hex.DecodeString(p)
	if err != nil {
		return "E.bad G packet"
	}
	// gdb may send fewer registers than there are: the rest keep their values.
	for n := range gdbRegs {
		size := gdbRegs[n].size
		if len(data) < size {
			break
		}
		setRegBytes(&r, n, data[:size])
		data = data[size:]
	}
	if err := s.t.SetRegisters(t, r); err != nil {
		return "E." + err.Error()
	}
	return "OK"
}

func (s *session) readRegister(p string) string {
	n, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return "E.bad p packet"
	}
	if n >= numRegs {
		return "E.no such register"
	}
	r, _, err := s.regs()
	if err != nil {
		return "E." + err.Error()
	}
	return hex.EncodeToString(regBytes(&r, int(n)))
}

func (s *session) writeRegister(p string) string {
	num, val, ok := strings.Cut(p, "=")
	n, err := strconv.ParseUint(num, 16, 16)
	if !ok || err != nil {
		return "E.bad P packet"
	}
	if n >= numRegs {
		return "E.no such register"
	}
	data, err := hex.DecodeString(val)
	if err != nil || len(data) != gdbRegs[n].size {
		return "E.bad P packet"
	}
	r, t, err := s.regs()
	if err != nil {
		return "E." + err.Error()
	}
	setRegBytes(&r, int(n), data)
	if err := s.t.SetRegisters(t, r); err != nil {
		return "E." + err.Error()
	}
	return "OK"
}

// --- memory ---

// addrLen reads "ADDR,LENGTH" (hex).
func addrLen(p string) (uint64, uint64, error) {
	a, l, ok := strings.Cut(p, ",")
	addr, err1 := strconv.ParseUint(a, 16, 64)
	n, err2 := strconv.ParseUint(l, 16, 64)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, errors.New("bad address or length")
	}
	return addr, n, nil
}

func (s *session) memPID() (int, bool) {
	t, ok := s.current()
	return t.PID, ok
}

func (s *session) readMemory(p string) string {
	addr, n, err := addrLen(p)
	if err != nil {
		return "E16"
	}
	pid, ok := s.memPID()
	if !ok {
		return "E03"
	}
	n = min(n, MaxPacket/2)
	buf := make([]byte, n)
	got, err := s.t.ReadMemory(pid, addr, buf)
	if got == 0 && n > 0 {
		return "E0e" // EFAULT: nothing readable there
	}
	_ = err
	return hex.EncodeToString(buf[:got])
}

func (s *session) writeMemory(addr uint64, data []byte) string {
	pid, ok := s.memPID()
	if !ok {
		return "E03"
	}
	if len(data) == 0 {
		return "OK"
	}
	n, err := s.t.WriteMemory(pid, addr, data)
	if err != nil || n < len(data) {
		return "E0e"
	}
	return "OK"
}

func (s *session) writeMemoryHex(p string) string {
	head, body, ok := strings.Cut(p, ":")
	addr, n, err := addrLen(head)
	if !ok || err != nil {
		return "E16"
	}
	data, err := hex.DecodeString(body)
	if err != nil || uint64(len(data)) != n {
		return "E16"
	}
	return s.writeMemory(addr, data)
}

func (s *session) writeMemoryBinary(p string) string {
	head, body, ok := strings.Cut(p, ":")
	addr, n, err := addrLen(head)
	if !ok || err != nil || uint64(len(body)) != n {
		return "E16"
	}
	return s.writeMemory(addr, []byte(body))
}

// --- breakpoints ---

func (s *session) breakpoint(insert bool, p string) string {
	p, _, _ = strings.Cut(p, ";") // conditions and commands: not offered
	f := strings.Split(p, ",")
	if len(f) != 3 {
		return "E16"
	}
	kind, err1 := strconv.ParseUint(f[0], 16, 8)
	addr, err2 := strconv.ParseUint(f[1], 16, 64)
	n, err3 := strconv.ParseUint(f[2], 16, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return "E16"
	}
	if kind > uint64(AccessWatch) {
		return "" // not a kind we know: unsupported
	}
	pid, ok := s.memPID()
	if !ok {
		return "E03"
	}
	bp := Breakpoint{Kind: BreakKind(kind), Addr: addr, Len: n}
	if insert {
		err1 = s.t.InsertBreakpoint(pid, bp)
	} else {
		err1 = s.t.RemoveBreakpoint(pid, bp)
	}
	if err1 != nil {
		s.logf("%s at %#x: %v", bp.Kind, addr, err1)
		return "E16"
	}
	return "OK"
}

// --- running ---

// oldResume handles c, s, C and S: resume the Hc thread (stepping it for s and S) and
// every other thread.
func (s *session) oldResume(p string) (string, bool) {
	step := p[0] == 's' || p[0] == 'S'
	sig := 0
	rest := p[1:]
	if p[0] == 'C' || p[0] == 'S' {
		sigHex, after, _ := strings.Cut(rest, ";")
		g, err := strconv.ParseUint(sigHex, 16, 8)
		if err != nil {
			return "E16", true
		}
		sig, rest = fromGDBSignal(int(g)), after
	}
	if rest != "" {
		return "E.resuming at another address is not supported: use jump", true
	}
	t, _ := s.resolve(s.cThread)
	acts := []Action{{Thread: t, Step: step, Signal: sig}}
	if !step || s.cThread.TID == -1 {
		acts = append(acts, Action{Thread: ThreadID{-1, -1}})
	}
	return s.resume(acts), true
}

func (s *session) vPacket(p string) (string, bool) {
	name, args, _ := strings.Cut(p, ";")
	switch {
	case p == "vCont?":
		return "vCont;c;C;s;S", true
	case name == "vCont":
		acts, err := s.parseVCont(args)
		if err != nil {
			return "E." + err.Error(), true
		}
		return s.resume(acts), true
	case name == "vKill":
		pid, err := strconv.ParseUint(args, 16, 31)
		if err != nil {
			return "E16", true
		}
		if err := s.t.Kill(int(pid)); err != nil {
			return "E." + err.Error(), true
		}
		if len(s.pids()) == 0 {
			s.ending, s.ended = Killed, true
		}
		return "OK", true
	case p == "vMustReplyEmpty":
		return "", true
	case strings.HasPrefix(p, "vFile:"):
		op, args, _ := strings.Cut(p[len("vFile:"):], ":")
		return s.hostIO(op, args), true
	}
	return "", true
}

// parseVCont reads vCont's actions: ACTION[:THREAD] separated by ';', the first matching
// action applying to each thread.
func (s *session) parseVCont(args string) ([]Action, error) {
	if args == "" {
		return nil, errors.New("vCont without actions")
	}
	var acts []Action
	for _, a := range strings.Split(args, ";") {
		act, th, hasThread := strings.Cut(a, ":")
		var x Action
		x.Thread = ThreadID{-1, -1}
		if hasThread {
			t, err := s.parseThread(th)
			if err != nil {
				return nil, err
			}
			x.Thread = t
		}
		if act == "" {
			return nil, errors.New("empty vCont action")
		}
		switch act[0] {
		case 'c', 's':
			if len(act) != 1 {
				return nil, fmt.Errorf("bad vCont action %q", act)
			}
			x.Step = act[0] == 's'
		case 'C', 'S':
			g, err := strconv.ParseUint(act[1:], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad vCont action %q", act)
			}
			x.Step, x.Signal = act[0] == 'S', fromGDBSignal(int(g))
		default:
			return nil, fmt.Errorf("vCont action %q is not supported", act)
		}
		acts = append(acts, x)
	}
	return acts, nil
}

// resume runs the target and returns the stop reply. Signals gdb said to pass (QPassSignals)
// are delivered without stopping gdb, as gdbserver does.
func (s *session) resume(acts []Action) string {
	for {
		// gdb going away stops the target too: the session then ends, and the program runs
		// on without it.
		st := s.t.Resume(acts, func() bool { return s.c.interrupted() || s.c.closed() })
		if st.Kind == StopSignal && st.Signal > 0 && st.Signal < len(s.pass) && s.pass[st.Signal] &&
			st.Reason == "" && st.Signal != SIGTRAP && st.Note == "" {
			// Deliver it and go on: the same actions, the signal for its thread.
			acts = append([]Action{{Thread: st.Thread, Signal: st.Signal, Step: stepsThread(acts, st.Thread)}}, acts...)
			continue
		}
		if st.Note != "" {
			s.console(st.Note)
		}
		s.last = st
		if st.Kind == StopSignal || st.Kind == StopFork || st.Kind == StopVFork || st.Kind == StopExec || st.Kind == StopVForkDone {
			s.gThread, s.cThread = st.Thread, st.Thread
		}
		return s.stopReply(&s.last)
	}
}

// stepsThread reports whether the actions single-step thread t.
func stepsThread(acts []Action, t ThreadID) bool {
	for _, a := range acts {
		if matches(a.Thread, t) {
			return a.Step
		}
	}
	return false
}

// matches reports whether the action's thread pattern selects thread t.
func matches(pat, t ThreadID) bool {
	return (pat.PID <= 0 || pat.PID == t.PID) && (pat.TID <= 0 || pat.TID == t.TID)
}

// console prints text on gdb's console (O packets), in pieces that fit a packet.
func (s *session) console(text string) {
	for len(text) > 0 {
		n := min(len(text), MaxPacket/2-1)
		s.c.sendString("O" + hex.EncodeToString([]byte(text[:n])))
		text = text[n:]
	}
}

// stopReply is the stop packet for st (GDB manual, "Stop Reply Packets").
func (s *session) stopReply(st *Stop) string {
	th := s.formatThread(st.Thread)
	switch st.Kind {
	case StopExited:
		if s.multiprocess {
			return fmt.Sprintf("W%02x;process:%x", st.Status&0xff, st.Thread.PID)
		}
		return fmt.Sprintf("W%02x", st.Status&0xff)
	case StopKilled:
		if s.multiprocess {
			return fmt.Sprintf("X%02x;process:%x", toGDBSignal(st.Signal), st.Thread.PID)
		}
		return fmt.Sprintf("X%02x", toGDBSignal(st.Signal))
	case StopNoResumed:
		if s.noResumed {
			return "N"
		}
		return "X09"
	case StopFork:
		return fmt.Sprintf("T05fork:%s;thread:%s;", s.formatThread(st.Child), th)
	case StopVFork:
		return fmt.Sprintf("T05vfork:%s;thread:%s;", s.formatThread(st.Child), th)
	case StopVForkDone:
		return fmt.Sprintf("T05vforkdone:;thread:%s;", th)
	case StopExec:
		return fmt.Sprintf("T05exec:%s;thread:%s;", hex.EncodeToString([]byte(st.Path)), th)
	}
	r := fmt.Sprintf("T%02xthread:%s;", toGDBSignal(st.Signal), th)
	switch st.Reason {
	case "swbreak":
		if s.swbreak {
			r += "swbreak:;"
		}
	case "hwbreak":
		if s.hwbreak {
			r += "hwbreak:;"
		}
	case "watch", "rwatch", "awatch":
		r += fmt.Sprintf("%s:%x;", st.Reason, st.WatchAddr)
	}
	for _, t := range s.t.Threads() {
		if t.ID == st.Thread {
			r += fmt.Sprintf("core:%x;", t.Core)
		}
	}
	return r
}

// detach handles D and D;PID.
func (s *session) detach(p string) string {
	pids := s.pids()
	if p != "" {
		pidHex, ok := strings.CutPrefix(p, ";")
		pid, err := strconv.ParseUint(pidHex, 16, 31)
		if !ok || err != nil {
			return "E16"
		}
		pids = []int{int(pid)}
	}
	for _, pid := range pids {
		if err := s.t.Detach(pid); err != nil {
			return "E." + err.Error()
		}
	}
	if len(s.pids()) == 0 {
		s.ending, s.ended, s.done = Detached, true, true
	}
	return "OK"
}

// --- queries ---

func (s *session) query(p string) string {
	name, args, _ := strings.Cut(p, ":")
	switch name {
	case "qSupported":
		return s.supported(args)
	case "QStartNoAckMode":
		return "OK"
	case "qC":
		if t, ok := s.resolve(s.last.Thread); ok {
			return "QC" + s.formatThread(t)
		}
		return ""
	case "qAttached":
		return "0" // the emulator started the program: quitting gdb kills it
	case "qfThreadInfo":
		var ids []string
		for _, t := range s.t.Threads() {
			ids = append(ids, s.formatThread(t.ID))
		}
		if len(ids) == 0 {
			return "l"
		}
		return "m" + strings.Join(ids, ",")
	case "qsThreadInfo":
		return "l"
	case "qSymbol":
		return "OK"
	case "qXfer":
		return s.xfer(args)
	case "QPassSignals":
		s.pass = [65]bool{}
		for _, g := range strings.Split(args, ";") {
			if v, err := strconv.ParseUint(g, 16, 8); err == nil {
				if sig := fromGDBSignal(int(v)); sig > 0 && sig < len(s.pass) {
					s.pass[sig] = true
				}
			}
		}
		return "OK"
	case "QProgramSignals":
		return "OK" // every signal stops: gdb decides what to do with it
	}
	if after, ok := strings.CutPrefix(p, "qThreadExtraInfo,"); ok {
		t, err := s.parseThread(after)
		if err != nil {
			return "E16"
		}
		for _, th := range s.t.Threads() {
			if th.ID == t {
				return hex.EncodeToString([]byte(fmt.Sprintf("%s, emulated CPU %d", th.Name, th.Core)))
			}
		}
		return "E.no such thread"
	}
	if after, ok := strings.CutPrefix(p, "qRcmd,"); ok {
		cmd, err := hex.DecodeString(after)
		if err != nil {
			return "E16"
		}
		out, err := s.t.Monitor(string(cmd))
		if err != nil && !strings.Contains(out, err.Error()) {
			out += "error: " + err.Error() + "\n"
		}
		s.console(out)
		return "OK"
	}
	return ""
}

// supported answers qSupported: what the stub offers, given what gdb announced.
func (s *session) supported(args string) string {
	for _, f := range strings.Split(args, ";") {
		switch f {
		case "multiprocess+":
			s.multiprocess = true
		case "fork-events+":
			s.forkEvents = true
		case "vfork-events+":
			s.vforkEvents = true
		case "exec-events+":
			s.execEvents = true
		case "swbreak+":
			s.swbreak = true
		case "hwbreak+":
			s.hwbreak = true
		case "no-resumed+":
			s.noResumed = true
		}
	}
	s.t.ReportEvents(s.forkEvents, s.vforkEvents, s.execEvents)
	r := []string{fmt.Sprintf("PacketSize=%x", MaxPacket), "QStartNoAckMode+", "qXfer:features:read+",
		"qXfer:auxv:read+", "qXfer:exec-file:read+", "qXfer:libraries-svr4:read+", "qXfer:threads:read+",
		"qXfer:siginfo:read+", "QPassSignals+", "QProgramSignals+", "vContSupported+"}
	for _, f := range []struct {
		on   bool
		name string
	}{{s.multiprocess, "multiprocess+"}, {s.forkEvents, "fork-events+"}, {s.vforkEvents, "vfork-events+"},
		{s.execEvents, "exec-events+"}, {s.swbreak, "swbreak+"}, {s.hwbreak, "hwbreak+"}, {s.noResumed, "no-resumed+"}} {
		if f.on {
			r = append(r, f.name)
		}
	}
	return strings.Join(r, ";")
}

// xfer answers qXfer:OBJECT:read:ANNEX:OFFSET,LENGTH.
func (s *session) xfer(args string) string {
	f := strings.SplitN(args, ":", 4)
	if len(f) != 4 {
		return "E16"
	}
	object, op, annex := f[0], f[1], f[2]
	if op != "read" {
		return "" // writes (siginfo) are not offered
	}
	off, n, err := addrLen(f[3])
	if err != nil {
		return "E16"
	}
	t, ok := s.current()
	var data []byte
	switch object {
	case "features":
		if annex != "target.xml" {
			return "E00"
		}
		data = []byte(targetXML)
	case "auxv":
		if !ok {
			return "E03"
		}
		if data, err = s.t.Auxv(t.PID); err != nil {
			return "E." + err.Error()
		}
	case "exec-file":
		pid := t.PID
		if annex != "" {
			v, err := strconv.ParseUint(annex, 16, 31)
			if err != nil {
				return "E16"
			}
			pid = int(v)
		}
		path, err := s.t.ExecFile(pid)
		if err != nil {
			return "E." + err.Error()
		}
		data = []byte(path)
	case "libraries-svr4":
		if !ok {
			return "E03"
		}
		data = []byte(librariesSVR4(s.t, t.PID))
	case "threads":
		var b strings.Builder
		b.WriteString("<threads>\n")
		for _, th := range s.t.Threads() {
			fmt.Fprintf(&b, "<thread id=\"%s\" core=\"%d\" name=\"%s\"/>\n", s.formatThread(th.ID), th.Core,
				html.EscapeString(th.Name))
		}
		b.WriteString("</threads>\n")
		data = []byte(b.String())
	case "siginfo":
		if s.last.Kind != StopSignal || s.last.Signal == 0 {
			return "E.no signal"
		}
		data = sigInfoBytes(&s.last)
	default:
		return ""
	}
	if off >= uint64(len(data)) {
		return "l"
	}
	chunk := data[off:]
	n = min(n, MaxPacket/2)
	if uint64(len(chunk)) > n {
		return "m" + string(chunk[:n])
	}
	return "l" + string(chunk)
}
