//go:build !windows

package minikernel

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slowReader reads the host pipe r in small bites with pauses, once start is closed, and
// returns what it read.
func slowReader(r io.Reader, start <-chan struct{}) <-chan []byte {
	done := make(chan []byte, 1)
	go func() {
		<-start
		var got bytes.Buffer
		buf := make([]byte, 16<<10)
		for {
			n, err := r.Read(buf)
			got.Write(buf[:n])
			if err != nil {
				done <- got.Bytes()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	return done
}

// gateWriter collects what is written to it and closes seen once it holds text.
type gateWriter struct {
	bytes.Buffer
	text string
	seen chan struct{}
}

func (g *gateWriter) Write(b []byte) (int, error) {
	n, err := g.Buffer.Write(b)
	if g.seen != nil && bytes.Contains(g.Bytes(), []byte(g.text)) {
		close(g.seen)
		g.seen = nil
	}
	return n, err
}

// A program that polls a full host pipe for room together with a pipe of its own (as
// xz -T2 polls its output and its self-pipe) wakes when the host reader makes room: host
// descriptors wake a poller also when it sleeps on the machine's own queues. It used to
// sleep on its own pipe alone and end the run as a deadlock. (Natively the program writes
// the same and says the same: what is asserted here is what it prints on Linux.)
func TestPollWakesOnAHostPipeBesideAGuestPipe(t *testing.T) {
	want := make([]byte, 1<<20)
	for i := range want {
		want[i] = byte('a' + i%26)
	}
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	full := make(chan struct{})
	errb := &gateWriter{text: "waiting for room", seen: full}
	got := slowReader(r, full) // only once the program found the pipe full
	k, err := New(Config{RAM: 64 << 20, Stdout: w, Stderr: errb})
	require.NoError(t, err)
	defer k.Close()
	_, err = k.Spawn(progs+"musl_poll_hostpipe", []string{"poll_hostpipe"}, nil)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err, "stderr: %s", errb.String())
	k.Close()
	w.Close()
	assert.Equal(t, 0, code)
	assert.Equal(t, "standard output full: waiting for room\nwrote 1048576 bytes\n", errb.String())
	assert.True(t, bytes.Equal(want, <-got), "what the reader got")

}
