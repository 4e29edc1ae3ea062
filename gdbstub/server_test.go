package gdbstub

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A protocol-level client: it speaks to Serve as gdb would, byte by byte, so the tests can
// send what gdb never sends (bad checksums, oversized and malformed packets, stray
// interrupts) and check every reply's framing.

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type client struct {
	t       *testing.T
	c       net.Conn
	r       *bufio.Reader
	noAck   bool
	console []string // O packets received
	ending  chan Ending
	log     *lockedBuffer
}

// startServer runs Serve on one end of a pipe with target f and returns a client on the
// other. The first stop is SIGTRAP in thread p7.7.
func startServer(t *testing.T, f Target) *client {
	t.Helper()
	a, b := net.Pipe()
	cl := &client{t: t, c: b, r: bufio.NewReader(b), ending: make(chan Ending, 1), log: &lockedBuffer{}}
	first := Stop{Kind: StopSignal, Thread: ThreadID{7, 7}, Signal: SIGTRAP}
	go func() {
		cl.ending <- Serve(a, f, first, Options{Log: cl.log})
		a.Close()
	}()
	t.Cleanup(func() { b.Close() })
	return cl
}

func (cl *client) deadline() { cl.c.SetDeadline(time.Now().Add(10 * time.Second)) }

// raw writes bytes as they are.
func (cl *client) raw(s string) {
	cl.t.Helper()
	cl.deadline()
	_, err := cl.c.Write([]byte(s))
	require.NoError(cl.t, err)
}

// readByte reads one byte of the stub's output.
func (cl *client) readByte() byte {
	cl.t.Helper()
	cl.deadline()
	b, err := cl.r.ReadByte()
	require.NoError(cl.t, err)
	return b
}

// send frames a packet (escaping what must be) and, in ack mode, expects '+'.
func (cl *client) send(payload string) {
	cl.t.Helper()
	cl.raw(string(appendPacket(nil, []byte(payload))))
	if !cl.noAck {
		require.Equal(cl.t, byte('+'), cl.readByte(), "ack for %q", payload)
	}
}

// recv reads one packet, checks its checksum, acknowledges it in ack mode and returns its
// payload unescaped. Console output packets (O...) are collected and skipped.
func (cl *client) recv() string {
	cl.t.Helper()
	for {
		for b := cl.readByte(); b != '$'; b = cl.readByte() {
			require.Contains(cl.t, "+", string(b), "stray byte %q before a packet", b)
		}
		var raw []byte
		var sum byte
		for {
			b := cl.readByte()
			if b == '#' {
				break
			}
			raw = append(raw, b)
			sum += b
		}
		cs := string([]byte{cl.readByte(), cl.readByte()})
		require.Equal(cl.t, fmt.Sprintf("%02x", sum), cs, "checksum of %q", raw)
		if !cl.noAck {
			cl.raw("+")
		}
		var out []byte
		for i := 0; i < len(raw); i++ {
			if raw[i] == '}' && i+1 < len(raw) {
				i++
				out = append(out, raw[i]^0x20)
				continue
			}
			require.NotEqual(cl.t, byte('*'), raw[i], "run-length encoding is never sent")
			out = append(out, raw[i])
		}
		if len(out) > 1 && out[0] == 'O' && out[1] != 'K' {
			text, err := hex.DecodeString(string(out[1:]))
			require.NoError(cl.t, err)
			cl.console = append(cl.console, string(text))
			continue
		}
		return string(out)
	}
}

// call sends a packet and returns the reply.
func (cl *client) call(payload string) string {
	cl.t.Helper()
	cl.send(payload)
	return cl.recv()
}

// noAckMode agrees on no-ack mode.
func (cl *client) noAckMode() {
	cl.t.Helper()
	require.Equal(cl.t, "OK", cl.call("QStartNoAckMode"))
	cl.noAck = true
}

// The handshake: ack mode until QStartNoAckMode's OK has been acknowledged, then neither
// side acknowledges anything; qSupported offers what gdb asked for and the fixed features.
func TestHandshakeAndNoAckMode(t *testing.T) {
	cl := startServer(t, newFake())
	feats := cl.call("qSupported:multiprocess+;swbreak+;hwbreak+;fork-events+;vfork-events+;exec-events+;xmlRegisters=i386")
	for _, want := range []string{"PacketSize=4000", "QStartNoAckMode+", "qXfer:features:read+", "qXfer:auxv:read+",
		"qXfer:exec-file:read+", "qXfer:libraries-svr4:read+", "qXfer:threads:read+", "qXfer:siginfo:read+",
		"multiprocess+", "swbreak+", "hwbreak+", "fork-events+", "vfork-events+", "exec-events+", "vContSupported+"} {
		assert.Contains(t, strings.Split(feats, ";"), want)
	}
	cl.noAckMode()
	// No '+' comes before the reply now, and none is expected after it.
	assert.Equal(t, "T05thread:p7.7;core:0;", cl.call("?"))
	assert.Equal(t, "vCont;c;C;s;S", cl.call("vCont?"))
	assert.Equal(t, "", cl.call("vMustReplyEmpty"))
}

// Without multiprocess, thread ids are bare hex TIDs and exits carry no process.
func TestWithoutMultiprocess(t *testing.T) {
	f := newFake()
	cl := startServer(t, f)
	feats := cl.call("qSupported:swbreak+")
	assert.NotContains(t, feats, "multiprocess+")
	assert.NotContains(t, feats, "fork-events+")
	assert.Equal(t, "T05thread:7;core:0;", cl.call("?"))
	assert.Equal(t, "m7", cl.call("qfThreadInfo"))
	assert.Equal(t, "OK", cl.call("Hg7"))
	assert.Equal(t, "W00", cl.call("c"))
}

// A packet whose checksum is wrong is answered '-' and not acted on; sent again right, it is.
func TestBadChecksumIsRefused(t *testing.T) {
	cl := startServer(t, newFake())
	cl.raw("$g#00")
	assert.Equal(t, byte('-'), cl.readByte())
	cl.raw("$m1000,2#zz") // not even hex
	assert.Equal(t, byte('-'), cl.readByte())
	assert.Equal(t, "0001", cl.call("m1000,2"))
}

// A packet longer than PacketSize is dropped with an error reply; the session goes on.
func TestOversizedPacket(t *testing.T) {
	cl := startServer(t, newFake())
	assert.Equal(t, "E.packet too long", cl.call("M1000,4000:"+strings.Repeat("00", MaxPacket)))
	assert.Contains(t, cl.log.String(), "dropped")
	assert.Equal(t, "0001", cl.call("m1000,2"))
}

// Unknown packets get the empty reply, malformed ones an error; none ends the session.
func TestUnknownAndMalformedPackets(t *testing.T) {
	cl := startServer(t, newFake())
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	for _, p := range []string{"qFooBar", "vFoo", "!", "b", "bc", "Z9,1000,1", "jThreadsInfo", "qHostInfo",
		"QNonStop:1", "vFile:unlink:2f", "qXfer:memory-map:read::0,100", "qXfer:siginfo:write::0,4:abcd"} {
		assert.Equal(t, "", cl.call(p), "packet %q", p)
	}
	for p, want := range map[string]string{
		"mzz,4": "E16", "m1000": "E16", "m,": "E16", "M1000,2:zz": "E16", "M1000,3:abcd": "E16", "M1000": "E16",
		"X1000,5:ab": "E16", "Z0,zz,1": "E16", "z0,1000": "E16", "Z2,1000,zz": "E16",
		"qXfer:features:read:target.xml:zz": "E16", "qXfer:features:read:other.xml:0,10": "E00",
		"qXfer:features:read": "E16", "vKill;zz": "E16", "D;zz": "E16", "C": "E16", "Szz": "E16",
		"c1000": "E.resuming at another address is not supported: use jump",
		"vCont": "E.vCont without actions", "vCont;x": `E.vCont action "x" is not supported`,
		"vCont;C": `E.bad vCont action "C"`, "vCont;c:pzz.1": `E.bad thread id "pzz.1"`,
		"Hgpzz": `E.bad thread id "pzz"`, "Hx7": "E.bad H packet", "H": "E.bad H packet", "Tp9.9": "E.no such thread",
		"pzz": "E.bad p packet", "p999": "E.no such register", "P0=12": "E.bad P packet", "P999=00": "E.no such register",
		"Gzz": "E.bad G packet", "qRcmd,zz": "E16", "qThreadExtraInfo,pzz": "E16", "qThreadExtraInfo,p9.9": "E.no such thread",
	} {
		assert.Equal(t, want, cl.call(p), "packet %q", p)
	}
	assert.Equal(t, "0001", cl.call("m1000,2"), "still answering")
}

// Memory: hex reads (partial where memory ends, an error where none is), hex and binary
// writes (escaped bytes included); registers whole (g, G) and one by one (p, P), in the
// amd64 order with rip at 16 and eflags 32 bits wide.
func TestMemoryAndRegisters(t *testing.T) {
	f := newFake()
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	assert.Equal(t, "000102030405060708090a0b0c0d0e0f", cl.call("m1000,10"))
	assert.Equal(t, "f8f9fafbfcfdfeff", cl.call("m1ff8,10"), "a read that runs off the memory is partial")
	assert.Equal(t, "E0e", cl.call("m5000,4"))
	assert.Equal(t, "", cl.call("m1000,0"))
	assert.Equal(t, "OK", cl.call("M1000,2:abcd"))
	assert.Equal(t, "abcd", cl.call("m1000,2"))
	assert.Equal(t, "E0e", cl.call("M1ffe,4:00000000"))
	assert.Equal(t, "OK", cl.call("X1004,0:"), "gdb probes X with an empty write")
	bin := "#$}*\x00\x03"
	assert.Equal(t, "OK", cl.call("X1004,6:"+bin))
	assert.Equal(t, "23247d2a0003", cl.call("m1004,6"))

	g := cl.call("g")
	require.Len(t, g, 2*gPacketSize)
	assert.Equal(t, "8877665544332211", g[:16], "rax, little-endian")
	assert.Equal(t, "8877665544332211", cl.call("p0"))
	assert.Equal(t, "0010400000000000", cl.call("p10"), "rip is register 16")
	assert.Equal(t, "46020000", cl.call("p11"), "eflags is 32 bits")
	assert.Equal(t, "33000000", cl.call("p12"), "cs is Linux's user selector")
	assert.Equal(t, "ffffffffffffffff", cl.call("p39"), "orig_rax is -1 out of a system call")
	assert.Equal(t, "OK", cl.call("P10=0020400000000000"))
	assert.Equal(t, uint64(0x402000), f.regs[ThreadID{7, 7}].RIP)
	// G with only the first register changes only rax.
	assert.Equal(t, "OK", cl.call("G0100000000000000"))
	assert.Equal(t, uint64(1), f.regs[ThreadID{7, 7}].GPR[0])
	assert.Equal(t, uint64(0x402000), f.regs[ThreadID{7, 7}].RIP)
	// A G of every register round-trips.
	assert.Equal(t, "OK", cl.call("G"+g))
	assert.Equal(t, g, cl.call("g"))
}

// The x87 registers are in stack order: st0 is the register TOP names.
func TestX87StackOrder(t *testing.T) {
	f := newFake()
	r := f.regs[ThreadID{7, 7}]
	r.Ext.X87.FSW = 6 << 11                                             // TOP = 6
	r.Ext.X87.R[6].Mant, r.Ext.X87.R[6].SE = 0x8000000000000000, 0x3fff // 1.0
	r.Ext.X87.R[7].Mant, r.Ext.X87.R[7].SE = 0xc000000000000000, 0x4000 // 3.0
	r.Ext.X87.FIP = 0x1122334455667788
	f.regs[ThreadID{7, 7}] = r
	cl := startServer(t, f)
	assert.Equal(t, "0000000000000080ff3f", cl.call("p18"), "st0 = R6")
	assert.Equal(t, "00000000000000c00040", cl.call("p19"), "st1 = R7")
	assert.Equal(t, "44332211", cl.call("p23"), "fiseg: FIP's high half")
	assert.Equal(t, "88776655", cl.call("p24"), "fioff: FIP's low half")
}

// qXfer objects come in the pieces gdb asks for: 'm' while more follows, 'l' for the last.
func TestXferChunks(t *testing.T) {
	f := newFake()
	f.auxv = []byte{6, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	var doc strings.Builder
	for off := 0; ; off += 100 {
		r := cl.call(fmt.Sprintf("qXfer:features:read:target.xml:%x,64", off))
		require.NotEmpty(t, r)
		doc.WriteString(r[1:])
		if r[0] == 'l' {
			break
		}
		require.Equal(t, byte('m'), r[0])
	}
	assert.Equal(t, targetXML, doc.String())
	for _, feat := range []string{"org.gnu.gdb.i386.core", "org.gnu.gdb.i386.sse", "org.gnu.gdb.i386.linux",
		"org.gnu.gdb.i386.segments", `name="orig_rax"`, `name="fs_base"`, `name="gs_base"`, "i386:x86-64", "GNU/Linux"} {
		assert.Contains(t, targetXML, feat)
	}
	assert.Equal(t, "l", cl.call("qXfer:features:read:target.xml:ffff,10"), "past the end")
	assert.Equal(t, "l"+string(f.auxv), cl.call("qXfer:auxv:read::0,1000"))
	assert.Equal(t, "l/bin/prog", cl.call("qXfer:exec-file:read:7:0,1000"))
	assert.Equal(t, "l/bin/prog", cl.call("qXfer:exec-file:read::0,1000"))
	assert.Equal(t, `l<threads>`+"\n"+`<thread id="p7.7" core="0" name="prog"/>`+"\n</threads>\n",
		cl.call("qXfer:threads:read::0,1000"))
	assert.Equal(t, `l<library-list-svr4 version="1.0"/>`, cl.call("qXfer:libraries-svr4:read::0,1000"),
		"no dynamic section: no libraries")
	si := cl.call("qXfer:siginfo:read::0,80")
	require.Len(t, si, 129)
	assert.Equal(t, uint32(SIGTRAP), binary.LittleEndian.Uint32([]byte(si[1:5])), "si_signo of the first stop")
}

// Threads, queries and thread selection.
func TestThreadQueries(t *testing.T) {
	f := newFake()
	f.threads = append(f.threads, Thread{ID: ThreadID{8, 8}, Name: "child", Core: 1})
	f.regs[ThreadID{8, 8}] = Registers{}
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	assert.Equal(t, "mp7.7,p8.8", cl.call("qfThreadInfo"))
	assert.Equal(t, "l", cl.call("qsThreadInfo"))
	assert.Equal(t, "QCp7.7", cl.call("qC"))
	assert.Equal(t, "OK", cl.call("Tp8.8"))
	assert.Equal(t, "0", cl.call("qAttached:7"))
	assert.Equal(t, hex.EncodeToString([]byte("child, emulated CPU 1")), cl.call("qThreadExtraInfo,p8.8"))
	assert.Equal(t, "OK", cl.call("Hgp8.8"))
	assert.Equal(t, "0000000000000000", cl.call("p0"), "registers of the selected thread")
	assert.Equal(t, "OK", cl.call("Hgp0.0"), "any thread")
	assert.Equal(t, "8877665544332211", cl.call("p0"), "any: the stopped one")
	assert.Equal(t, "E.no such thread", cl.call("Hgp9.9"))
	assert.Equal(t, "OK", cl.call("Hc-1"))
	assert.Equal(t, "OK", cl.call("qSymbol::"))
	assert.Equal(t, "OK", cl.call("QProgramSignals:2;5"))
}

// Resuming: actions parsed from vCont and the old c/s/C/S packets, signals converted between
// gdb's numbers and Linux's, and each kind of stop written as gdb expects it.
func TestResumeAndStopReplies(t *testing.T) {
	f := newFake()
	t7 := ThreadID{7, 7}
	f.stops = []Stop{
		{Kind: StopSignal, Thread: t7, Signal: SIGTRAP, Reason: "swbreak"},
		{Kind: StopSignal, Thread: t7, Signal: SIGTRAP, Reason: "watch", WatchAddr: 0x1008},
		{Kind: StopSignal, Thread: t7, Signal: 10},                             // SIGUSR1
		{Kind: StopFork, Thread: t7, Child: ThreadID{8, 8}},                    //
		{Kind: StopVFork, Thread: t7, Child: ThreadID{9, 9}},                   //
		{Kind: StopVForkDone, Thread: t7},                                      //
		{Kind: StopExec, Thread: t7, Path: "/bin/ls"},                          //
		{Kind: StopSignal, Thread: t7, Signal: SIGTRAP, Note: "emu: a note\n"}, //
		{Kind: StopSignal, Thread: t7, Signal: 34},                             // SIGRTMIN+2
		{Kind: StopKilled, Thread: t7, Signal: 7},                              // SIGBUS
		{Kind: StopExited, Thread: t7, Status: 3},
	}
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+;swbreak+;fork-events+;vfork-events+;exec-events+")
	cl.noAckMode()
	assert.Equal(t, "T05thread:p7.7;swbreak:;core:0;", cl.call("vCont;c"))
	assert.Equal(t, "T05thread:p7.7;watch:1008;core:0;", cl.call("vCont;s:p7.7;c"))
	assert.Equal(t, "T1ethread:p7.7;core:0;", cl.call("vCont;C1e:p7.7"), "Linux SIGUSR1 (10) is gdb's 30")
	assert.Equal(t, "T05fork:p8.8;thread:p7.7;", cl.call("vCont;S0b:p7.7"))
	assert.Equal(t, "T05vfork:p9.9;thread:p7.7;", cl.call("c"))
	assert.Equal(t, "T05vforkdone:;thread:p7.7;", cl.call("s"))
	assert.Equal(t, "T05exec:"+hex.EncodeToString([]byte("/bin/ls"))+";thread:p7.7;", cl.call("C0a"))
	assert.Equal(t, "T05thread:p7.7;core:0;", cl.call("S0a"))
	assert.Contains(t, cl.console, "emu: a note\n", "the stop's note is shown on gdb's console")
	assert.Equal(t, "T2ethread:p7.7;core:0;", cl.call("c"), "SIG34 is gdb's REALTIME_34 (46)")
	assert.Equal(t, "X0a;process:7", cl.call("c"), "SIGBUS (7) is gdb's 10")
	assert.Equal(t, "W03;process:7", cl.call("c"))

	all := ThreadID{-1, -1}
	assert.Equal(t, [][]Action{
		{{Thread: all}},
		{{Thread: t7, Step: true}, {Thread: all}},
		{{Thread: t7, Signal: 10}},
		{{Thread: t7, Step: true, Signal: 11}},
		{{Thread: t7}, {Thread: all}},
		{{Thread: t7, Step: true}},
		{{Thread: t7, Signal: 7}, {Thread: all}},
		{{Thread: t7, Step: true, Signal: 7}},
		{{Thread: t7}, {Thread: all}},
		{{Thread: t7}, {Thread: all}},
		{{Thread: t7}, {Thread: all}},
	}, f.resumed)
}

// A signal gdb said to pass (QPassSignals) does not stop gdb: the stub resumes with it.
func TestPassSignals(t *testing.T) {
	f := newFake()
	t7 := ThreadID{7, 7}
	f.stops = []Stop{{Kind: StopSignal, Thread: t7, Signal: 14}, {Kind: StopSignal, Thread: t7, Signal: 11}}
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	assert.Equal(t, "OK", cl.call("QPassSignals:e;14"), "SIGALRM (gdb 14) and SIGCHLD (gdb 20)")
	assert.Equal(t, "T0bthread:p7.7;core:0;", cl.call("vCont;c"))
	require.Len(t, f.resumed, 2)
	assert.Equal(t, Action{Thread: t7, Signal: 14}, f.resumed[1][0], "SIGALRM delivered on the way")
	// siginfo of the stop that was reported.
	si := cl.call("qXfer:siginfo:read::0,80")
	require.Len(t, si, 129)
	assert.Equal(t, uint32(11), binary.LittleEndian.Uint32([]byte(si[1:5])))
}

// Breakpoints and watchpoints of every kind reach the target; an unknown kind is unsupported.
func TestBreakpointPackets(t *testing.T) {
	f := newFake()
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	for _, p := range []string{"Z0,401000,1", "Z1,401010,1", "Z2,1000,4", "Z3,1008,8", "Z4,1010,2;X2,0a0b"} {
		assert.Equal(t, "OK", cl.call(p), p)
	}
	assert.Equal(t, []Breakpoint{{SoftwareBreak, 0x401000, 1}, {HardwareBreak, 0x401010, 1}, {WriteWatch, 0x1000, 4},
		{ReadWatch, 0x1008, 8}, {AccessWatch, 0x1010, 2}}, f.bps)
	assert.Equal(t, "OK", cl.call("z2,1000,4"))
	assert.Len(t, f.bps, 4)
	assert.Equal(t, "", cl.call("Z5,1000,1"))
	assert.Equal(t, "OK", cl.call("Hgp7.7"))
	f.threads = nil // the process is gone
	assert.Equal(t, "E03", cl.call("Z0,401000,1"))
}

// Ctrl-C (0x03) stops a running target with SIGINT; one sent while it is stopped does not
// stop the next resume.
func TestInterrupt(t *testing.T) {
	f := newFake()
	cl := startServer(t, f)
	cl.call("qSupported:multiprocess+")
	cl.noAckMode()
	cl.raw("\x03") // stopped already: nothing to interrupt
	f.stops = []Stop{{Kind: StopSignal, Thread: ThreadID{7, 7}, Signal: SIGTRAP}}
	assert.Equal(t, "T05thread:p7.7;core:0;", cl.call("vCont;c"))
	f.spin = true
	cl.send("vCont;c")
	cl.raw("\x03")
	assert.Equal(t, "T02thread:p7.7;core:0;", cl.recv())
}

// monitor: the command is run and its output shown on gdb's console, errors included.
func TestMonitor(t *testing.T) {
	f := newFake()
	cl := startServer(t, f)
	assert.Equal(t, "OK", cl.call("qRcmd,"+hex.EncodeToString([]byte("walk $rsp"))))
	assert.Equal(t, []string{"walk $rsp"}, f.monitor)
	assert.Equal(t, []string{"you said: walk $rsp\n"}, cl.console)
	assert.Equal(t, "OK", cl.call("qRcmd,"+hex.EncodeToString([]byte("bad"))))
	assert.Equal(t, "error: no such command\n", cl.console[1])
}

// Host I/O: the program's file read through the target.
func TestHostIO(t *testing.T) {
	f := newFake()
	f.file = filepath.Join(t.TempDir(), "prog")
	content := bytes.Repeat([]byte("0123456789#$}*"), 100)
	require.NoError(t, os.WriteFile(f.file, content, 0o644))
	cl := startServer(t, f)
	cl.noAckMode()
	name := hex.EncodeToString([]byte("/bin/prog"))
	assert.Equal(t, "F0", cl.call("vFile:setfs:0"))
	assert.Equal(t, "F0", cl.call("vFile:open:"+name+",0,0"))
	assert.Equal(t, "F1", cl.call("vFile:open:"+name+",0,0"))
	assert.Equal(t, "F0", cl.call("vFile:close:1"))
	assert.Equal(t, "Fa;456789#$}*", cl.call("vFile:pread:0,a,4"))
	assert.Equal(t, "F4;#$}*", cl.call("vFile:pread:0,4,a"), "binary data, escaped on the wire")
	assert.Equal(t, "F0;", cl.call("vFile:pread:0,10,10000"), "past the end")
	st := cl.call("vFile:fstat:0")
	require.True(t, strings.HasPrefix(st, "F40;"), st)
	assert.Equal(t, uint64(len(content)), binary.BigEndian.Uint64([]byte(st[4+28:])))
	assert.Equal(t, uint32(0o100644), binary.BigEndian.Uint32([]byte(st[4+8:])))
	assert.Equal(t, "F0", cl.call("vFile:close:0"))
	assert.Equal(t, "F-1,9", cl.call("vFile:pread:0,4,0"), "closed")
	assert.Equal(t, "F-1,2", cl.call("vFile:open:"+hex.EncodeToString([]byte("/nope"))+",0,0"))
	assert.Equal(t, "F-1,1e", cl.call("vFile:open:"+name+",1,0"), "read-only")
	assert.Equal(t, "F-1,16", cl.call("vFile:open:zz,0,0"))
	assert.Equal(t, "F9;/bin/prog", cl.call("vFile:readlink:"+hex.EncodeToString([]byte("/proc/7/exe"))))
	assert.Equal(t, "F-1,2", cl.call("vFile:readlink:"+hex.EncodeToString([]byte("/etc"))))
}

// How sessions end: detach, kill (k, vKill), or the connection dropping.
func TestEndings(t *testing.T) {
	cl := startServer(t, newFake())
	cl.noAckMode()
	assert.Equal(t, "OK", cl.call("D;7"))
	assert.Equal(t, Detached, <-cl.ending)

	cl = startServer(t, newFake())
	cl.noAckMode()
	assert.Equal(t, "OK", cl.call("vKill;7"))
	cl.c.Close()
	assert.Equal(t, Killed, <-cl.ending)

	cl = startServer(t, newFake())
	cl.noAckMode()
	cl.send("k")
	assert.Equal(t, Killed, <-cl.ending)

	cl = startServer(t, newFake())
	cl.call("?")
	cl.c.Close()
	assert.Equal(t, Disconnected, <-cl.ending)

	// A connection that drops in the middle of a packet.
	cl = startServer(t, newFake())
	cl.raw("$m1000,")
	cl.c.Close()
	assert.Equal(t, Disconnected, <-cl.ending)
}

// Listen: loopback by default, Unix sockets (a stale one replaced, a live one or a plain
// file refused), one client at a time.
func TestListen(t *testing.T) {
	l, err := Listen(":0")
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(l.Addr(), "127.0.0.1:"), l.Addr())
	l.Close()

	_, err = Listen("nonsense:port:x")
	assert.Error(t, err)
	_, err = Listen("")
	assert.Error(t, err)

	dir := t.TempDir()
	plain := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(plain, nil, 0o644))
	_, err = Listen(plain)
	assert.ErrorContains(t, err, "not a socket")

	sock := filepath.Join(dir, "sock")
	l, err = Listen(sock)
	require.NoError(t, err)
	_, err = Listen(sock)
	assert.ErrorContains(t, err, "another program listens")

	var log lockedBuffer
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept(&log)
		if err == nil {
			accepted <- c
		}
	}()
	first, err := net.Dial("unix", sock)
	require.NoError(t, err)
	defer first.Close()
	c := <-accepted
	defer c.Close()
	second, err := net.Dial("unix", sock)
	require.NoError(t, err)
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = second.Read(make([]byte, 1))
	assert.Error(t, err, "the second client is closed at once")
	second.Close()
	l.Close()

	// A socket file left behind by a process that has gone is replaced.
	stale, err := net.Listen("unix", filepath.Join(dir, "stale"))
	require.NoError(t, err)
	stale.(*net.UnixListener).SetUnlinkOnClose(false)
	stale.Close()
	l, err = Listen(filepath.Join(dir, "stale"))
	require.NoError(t, err)
	l.Close()
}

// Every Linux signal converts to gdb's number and back.
func TestSignalNumbers(t *testing.T) {
	for sig := 1; sig <= 64; sig++ {
		if sig == 16 {
			assert.Equal(t, gdbSignalUnknown, toGDBSignal(sig), "SIGSTKFLT has no gdb name")
			continue
		}
		g := toGDBSignal(sig)
		assert.NotEqual(t, gdbSignalUnknown, g, "signal %d", sig)
		assert.Equal(t, sig, fromGDBSignal(g), "signal %d (gdb %d)", sig, g)
	}
	assert.Equal(t, 0, fromGDBSignal(gdbSignalUnknown))
}

// The SVR4 library list, read from a link map laid out in the target's memory as glibc
// lays it out.
func TestLibrariesSVR4(t *testing.T) {
	f := newFake()
	le := binary.LittleEndian
	put := func(addr, v uint64) {
		var b [8]byte
		le.PutUint64(b[:], v)
		for i := range b {
			f.mem[addr+uint64(i)] = b[i]
		}
	}
	str := func(addr uint64, s string) {
		for i := 0; i <= len(s); i++ {
			f.mem[addr+uint64(i)] = append([]byte(s), 0)[i]
		}
	}
	const bias = 0x555555554000
	// Program headers at 0x3000: PT_PHDR (vaddr 0x40), PT_DYNAMIC (vaddr 0x2000).
	put(0x3000, ptPHDR)
	put(0x3000+16, 0x40)
	put(0x3038, ptDynamic)
	put(0x3038+16, 0x2000)
	dyn := uint64(bias + 0x2000)
	put(dyn, 1) // DT_NEEDED
	put(dyn+8, 0)
	put(dyn+16, dtDebug)
	put(dyn+24, 0x5000) // r_debug
	put(dyn+32, dtNull)
	put(dyn+40, 0)
	put(0x5000+8, 0x6000) // r_map
	// The program's link_map, then libc's.
	for _, off := range []uint64{0, 8, 16} {
		put(0x6000+off, 0)
	}
	put(0x6000+24, 0x6100)
	put(0x6100, 0x7ffff7dd0000)
	put(0x6100+8, 0x6200)
	put(0x6100+16, 0x7ffff7fa0000)
	put(0x6100+24, 0)
	str(0x6200, "/lib/libc<&>.so.6")
	var auxv []byte
	for _, kv := range [][2]uint64{{atPHDR, bias + 0x40}, {atPHENT, 56}, {atPHNUM, 2}, {0, 0}} {
		auxv = le.AppendUint64(le.AppendUint64(auxv, kv[0]), kv[1])
	}
	// The phdrs are where AT_PHDR says (bias + 0x40): copy them there.
	for i := uint64(0); i < 112; i++ {
		f.mem[bias+0x40+i] = f.mem[0x3000+i]
	}
	f.auxv = auxv
	assert.Equal(t, `<library-list-svr4 version="1.0" main-lm="0x6000"><library name="/lib/libc&lt;&amp;&gt;.so.6" lm="0x6100" l_addr="0x7ffff7dd0000" l_ld="0x7ffff7fa0000" lmid="0x0"/></library-list-svr4>`,
		librariesSVR4(f, 7))
	put(dyn+24, 0) // DT_DEBUG not yet filled in
	assert.Equal(t, `<library-list-svr4 version="1.0"/>`, librariesSVR4(f, 7))
}
