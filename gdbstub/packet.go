package gdbstub

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// The framing of the Remote Serial Protocol (GDB manual, "Overview" and "Packet
// Acknowledgment"): a packet is $DATA#CC, CC the modulo-256 sum of DATA's bytes in two hex
// digits. Inside DATA, '}' escapes the next byte, which is XORed with 0x20 ('$', '#', '}' and
// '*' are always sent escaped). Until no-ack mode is agreed each side answers a packet with
// '+' (received) or '-' (bad checksum: send it again). A lone 0x03 byte outside a packet is
// an interrupt (Ctrl-C in gdb).

// MaxPacket is the largest packet payload the stub accepts, as qSupported's PacketSize
// announces it; gdb never sends more. A longer packet is dropped and answered with an error.
const MaxPacket = 0x4000

// frameKind says what the reader found in the byte stream.
type frameKind uint8

const (
	framePacket    frameKind = iota // a packet with a good checksum
	frameBad                        // a packet with a bad checksum or malformed framing
	frameTooLong                    // a packet longer than MaxPacket
	frameInterrupt                  // 0x03
	frameAck                        // '+'
	frameNak                        // '-'
)

type frame struct {
	kind frameKind
	data []byte // the packet's payload, unescaped (framePacket only)
}

// frameReader splits the byte stream from gdb into frames. It never allocates more than
// MaxPacket bytes for one packet, whatever arrives.
type frameReader struct {
	r   *bufio.Reader
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{r: bufio.NewReaderSize(r, 4096), buf: make([]byte, 0, 256)}
}

// next returns the next frame, or the stream's error (io.EOF when gdb has gone). Bytes that
// are neither a packet nor an acknowledgment nor an interrupt are skipped, as gdb skips
// noise between packets.
func (fr *frameReader) next() (frame, error) {
	for {
		b, err := fr.r.ReadByte()
		if err != nil {
			return frame{}, err
		}
		switch b {
		case '$':
			return fr.packet()
		case 0x03:
			return frame{kind: frameInterrupt}, nil
		case '+':
			return frame{kind: frameAck}, nil
		case '-':
			return frame{kind: frameNak}, nil
		}
	}
}

// packet reads a packet's payload and checksum, after its '$'. A '$' inside a packet starts
// it again (gdb gave up on the first one).
func (fr *frameReader) packet() (frame, error) {
	fr.buf = fr.buf[:0]
	var sum byte
	escaped, tooLong := false, false
	for {
		b, err := fr.r.ReadByte()
		if err != nil {
			return frame{}, err
		}
		switch {
		case b == '$':
			fr.buf, sum, escaped, tooLong = fr.buf[:0], 0, false, false
			continue
		case b == '#':
			var cs [2]byte
			for i := range cs {
				if cs[i], err = fr.r.ReadByte(); err != nil {
					return frame{}, err
				}
			}
			want, ok := unhex2(cs[0], cs[1])
			switch {
			case tooLong:
				return frame{kind: frameTooLong}, nil
			case !ok || want != sum || escaped:
				return frame{kind: frameBad}, nil
			}
			return frame{kind: framePacket, data: fr.buf}, nil
		}
		sum += b
		if tooLong {
			continue
		}
		if escaped {
			b ^= 0x20
			escaped = false
		} else if b == '}' {
			escaped = true
			continue
		}
		if len(fr.buf) >= MaxPacket {
			tooLong = true
			continue
		}
		fr.buf = append(fr.buf, b)
	}
}

func unhexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func unhex2(hi, lo byte) (byte, bool) {
	h, ok1 := unhexDigit(hi)
	l, ok2 := unhexDigit(lo)
	return h<<4 | l, ok1 && ok2
}

// appendPacket frames payload as $...#CC, escaping the bytes that need it.
func appendPacket(out, payload []byte) []byte {
	out = append(out, '$')
	var sum byte
	for _, b := range payload {
		switch b {
		case '$', '#', '}', '*':
			out = append(out, '}', b^0x20)
			sum += '}' + (b ^ 0x20)
		default:
			out = append(out, b)
			sum += b
		}
	}
	return append(out, '#', hexDigits[sum>>4], hexDigits[sum&15])
}

const hexDigits = "0123456789abcdef"

// errClosed is returned once the connection is gone.
var errClosed = errors.New("gdb closed the connection")

// conn is one connection to gdb: a goroutine reads frames and queues packets and
// interrupts, so that Ctrl-C is seen while the guest runs; writes are framed, and
// acknowledged while ack mode lasts.
type conn struct {
	w       io.Writer
	wmu     sync.Mutex
	packets chan frame // packets, bad and oversized packets, in arrival order
	acks    chan bool  // true for '+', false for '-'
	// intr is the number of packets that had arrived when the last interrupt did (-1: no
	// interrupt pending), so an interrupt that came before a resume does not stop it.
	intr  atomic.Int64
	npkt  int64         // packets queued by the reader (reader goroutine only)
	taken int64         // packets recv has returned
	noAck atomic.Bool   // no-ack mode: the reader acknowledges nothing any more
	gone  atomic.Bool   // the reader has stopped: gdb has gone
	done  chan struct{} // closed when the reader stops
	err   error         // why the reader stopped (valid once done is closed)
	// ackWait is how long a reply waits for gdb's '+' in ack mode before it is given up.
	ackWait     time.Duration
	sendNoAck   bool   // the writer expects no '+' any more
	onInterrupt func() // Options.OnInterrupt
	wbuf        []byte
}

func newConn(rw io.ReadWriter, onInterrupt func()) *conn {
	c := &conn{w: rw, packets: make(chan frame, 64), acks: make(chan bool, 16), done: make(chan struct{}),
		ackWait: 10 * time.Second, onInterrupt: onInterrupt}
	c.intr.Store(-1)
	go c.readLoop(newFrameReader(rw))
	return c
}

func (c *conn) readLoop(fr *frameReader) {
	defer func() {
		c.gone.Store(true)
		if c.onInterrupt != nil {
			c.onInterrupt() // a target waiting for something must notice gdb has gone
		}
		close(c.done)
	}()
	for {
		f, err := fr.next()
		if err != nil {
			c.err = err
			return
		}
		switch f.kind {
		case frameAck, frameNak:
			select {
			case c.acks <- f.kind == frameAck:
			default: // nobody waits for it: gdb's own bookkeeping, or noise
			}
			continue
		case frameInterrupt:
			c.intr.Store(c.npkt)
			if c.onInterrupt != nil {
				c.onInterrupt()
			}
			continue
		case framePacket:
			f.data = append([]byte(nil), f.data...)
			if !c.noAck.Load() {
				c.raw([]byte{'+'})
				// QStartNoAckMode is the last packet acknowledged: gdb stops acknowledging
				// once it has our OK, and so do we from this packet on.
				if string(f.data) == "QStartNoAckMode" {
					c.noAck.Store(true)
				}
			}
		case frameBad:
			if !c.noAck.Load() {
				c.raw([]byte{'-'})
				continue // gdb sends it again
			}
		case frameTooLong:
			if !c.noAck.Load() {
				c.raw([]byte{'+'}) // received; the reply says what is wrong with it
			}
		}
		c.npkt++
		select {
		case c.packets <- f:
		case <-time.After(time.Minute):
			// Nobody reads packets for a minute (the guest runs and gdb sends more than
			// an interrupt): drop it rather than block Ctrl-C behind it.
		}
	}
}

// raw writes bytes as they are.
func (c *conn) raw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.w.Write(b)
	return err
}

// recv waits for the next packet (or bad packet). It returns errClosed once gdb has gone.
func (c *conn) recv() (frame, error) {
	select {
	case f := <-c.packets:
		c.taken++
		return f, nil
	case <-c.done:
		select {
		case f := <-c.packets:
			c.taken++
			return f, nil
		default:
		}
		return frame{}, errClosed
	}
}

// send writes one packet and, in ack mode, waits for gdb's '+', sending it again on '-'.
func (c *conn) send(payload []byte) error {
	c.wbuf = appendPacket(c.wbuf[:0], payload)
	for try := 0; ; try++ {
		if err := c.raw(c.wbuf); err != nil {
			return fmt.Errorf("gdb connection: %w", err)
		}
		if c.sendNoAck {
			return nil
		}
		select {
		case ok := <-c.acks:
			if ok {
				return nil
			}
			if try >= 5 {
				return errors.New("gdb connection: gdb rejected a reply five times")
			}
		case <-c.done:
			return errClosed
		case <-time.After(c.ackWait):
			return errors.New("gdb connection: no acknowledgment from gdb")
		}
	}
}

// sendString sends a packet whose payload is s.
func (c *conn) sendString(s string) error { return c.send([]byte(s)) }

// interrupted reports (and clears) an interrupt that arrived after the last packet recv
// returned (the resume it interrupts); an older one is dropped, since gdb interrupts only a
// running target.
func (c *conn) interrupted() bool {
	v := c.intr.Load()
	if v < 0 {
		return false
	}
	c.intr.CompareAndSwap(v, -1)
	return v >= c.taken
}

// closed reports whether gdb has gone.
func (c *conn) closed() bool { return c.gone.Load() }
