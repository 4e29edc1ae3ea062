package gdbstub

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// FuzzPackets feeds arbitrary bytes to the packet parser and every packet it finds to the
// stub's dispatcher, over a target in memory: nothing may panic (the dispatcher's guard
// against panics logs "internal error", which fails the run), hang, or yield a packet longer
// than MaxPacket. go test ./gdbstub -fuzz FuzzPackets searches; the seeds run always.
func FuzzPackets(f *testing.F) {
	for _, seed := range []string{
		"$qSupported:multiprocess+;swbreak+#00", "$g#67", "$m1000,10#00", "$M1000,2:abcd#00",
		"$X1000,4:}\x03}\x04ab#00", "$Z0,401000,1#00", "$z2,1000,4#00", "$vCont;s:p7.7;c#00",
		"$qXfer:features:read:target.xml:0,fff#00", "$qRcmd,7761#00", "$Hgp7.7#00", "$P10=0011#00",
		"$vFile:open:2f62696e2f70726f67,0,0#00", "$qXfer:libraries-svr4:read::0,100#00", "\x03",
		"+-$?#3f", "$$$##", "$}#00", "$QPassSignals:e;14#00", "$D;7#00", "$k#6b", "$C0b;1000#00",
		"$vKill;7#00", "$qThreadExtraInfo,p7.7#00", "$p39#00", "$G" + strings.Repeat("0", 600) + "#00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var log bytes.Buffer
		fake := newFake()
		s := &session{c: quietConn(), t: fake, log: &log, last: Stop{Thread: ThreadID{7, 7}, Signal: SIGTRAP},
			gThread: ThreadID{7, 7}, cThread: ThreadID{7, 7}, files: map[int]File{}}
		fr := newFrameReader(bytes.NewReader(data))
		for i := 0; i < 1000 && !s.done; i++ {
			fm, err := fr.next()
			if err != nil {
				break
			}
			if len(fm.data) > MaxPacket {
				t.Fatalf("a packet of %d bytes", len(fm.data))
			}
			if fm.kind != framePacket {
				continue
			}
			s.handle(string(fm.data))
			if strings.Contains(log.String(), "internal error") {
				t.Fatalf("packet %q: %s", fm.data, log.String())
			}
		}
		for _, f := range s.files {
			f.Close()
		}
	})
}

// quietConn is a connection whose writes go nowhere and whose reader never runs: for
// driving the dispatcher directly.
func quietConn() *conn {
	c := &conn{w: io.Discard, packets: make(chan frame), acks: make(chan bool), done: make(chan struct{}),
		sendNoAck: true}
	c.intr.Store(-1)
	return c
}
