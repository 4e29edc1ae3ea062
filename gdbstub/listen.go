package gdbstub

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// Listener waits for gdb on a TCP port or a Unix socket.
type Listener struct {
	l    net.Listener
	unix string // the socket's path, removed on Close
}

// Listen listens where addr says: HOST:PORT for TCP (":1234" listens on the loopback
// address only, 127.0.0.1:1234, so nobody else on the network can attach; name a host, or
// 0.0.0.0, to listen elsewhere), or a path (anything without a colon) for a Unix socket. A
// stale socket file nobody listens on is replaced; any other existing file is an error.
func Listen(addr string) (*Listener, error) {
	if addr == "" {
		return nil, errors.New("no address (want HOST:PORT, :PORT or a socket path)")
	}
	if !strings.Contains(addr, ":") {
		return listenUnix(addr)
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("%q: %v (want HOST:PORT, :PORT or a socket path)", addr, err)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, err
	}
	return &Listener{l: l}, nil
}

func listenUnix(path string) (*Listener, error) {
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("%s exists and is not a socket", path)
		}
		if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
			c.Close()
			return nil, fmt.Errorf("%s: another program listens on it", path)
		}
		os.Remove(path) // a socket left by a process that has gone
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	return &Listener{l: l, unix: path}, nil
}

// Addr is where the listener listens, in the form gdb's `target remote` takes.
func (l *Listener) Addr() string {
	if l.unix != "" {
		return l.unix
	}
	return l.l.Addr().String()
}

// Accept waits for gdb. Once a connection is accepted, any further connection is refused
// (accepted and closed at once, with a line on log) until Close: one gdb at a time.
func (l *Listener) Accept(log io.Writer) (net.Conn, error) {
	c, err := l.l.Accept()
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			extra, err := l.l.Accept()
			if err != nil {
				return
			}
			if log != nil {
				fmt.Fprintf(log, "emu: gdb: refused a second connection from %s: one debugger at a time\n", extra.RemoteAddr())
			}
			extra.Close()
		}
	}()
	return c, nil
}

// Close stops listening (and removes a Unix socket's file).
func (l *Listener) Close() error { return l.l.Close() }
