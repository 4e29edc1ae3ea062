//go:build !windows

package minikernel

import (
	"bytes"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// hostFIONREAD is the host's FIONREAD ioctl (the bytes waiting in a pipe): Linux's, or BSD's.
var hostFIONREAD = map[bool]uint{true: 0x541b, false: 0x4004667f}[runtime.GOOS == "linux"]

// slowReader reads r in small bites with pauses, so that the writer at the other end of a
// host pipe finds it full again and again; it returns what it read. It starts only once
// the pipe has been full for half a second (or after 30 s), so that the writer found it
// full however slowly the host runs it: under qemu-user a reader that started at once
// kept ahead of the emulated writer.
func slowReader(r *os.File) <-chan []byte {
	done := make(chan []byte, 1)
	go func() {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if n, err := unix.IoctlGetInt(int(r.Fd()), hostFIONREAD); err != nil || n >= 64<<10 {
				time.Sleep(500 * time.Millisecond)
				break
			}
		}
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
	got := slowReader(r)
	var errb bytes.Buffer
	k, err := New(Config{RAM: 64 << 20, Stdout: w, Stderr: &errb})
	require.NoError(t, err)
	defer k.Close()
	_, err = k.Spawn(progs+"musl_poll_hostpipe", []string{"poll_hostpipe"}, nil)
	require.NoError(t, err)
	code, err := k.Run()
	require.NoError(t, err, "stderr: %s", errb.String())
	k.Close()
	w.Close()
	assert.Equal(t, 0, code)
	assert.Equal(t, "wrote 1048576 bytes, waiting for room\n", errb.String(), "it had to wait for the reader")
	assert.True(t, bytes.Equal(want, <-got), "what the reader got")

}
