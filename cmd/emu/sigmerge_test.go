//go:build !windows

package main

import (
	"bytes"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/minikernel"
)

// The same signal twice at once (timeout(1) and a kill of a process group send it to the
// command and again to its group) is one signal while the first still waits, as Linux keeps
// one instance of a standard signal pending: the guest takes it (here hello dies of it),
// where emu used to take the second for a user insisting and end the run. A second one
// that comes when the first has waited longer than mergeWindow still ends the run.
func TestSignalSentTwiceAtOnceIsOne(t *testing.T) {
	for _, c := range []struct {
		name  string
		after time.Duration
		stop  bool
	}{{"at once", time.Millisecond, false}, {"much later", 2 * mergeWindow, true}} {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, Stdout: &out, Stderr: &out})
			require.NoError(t, err)
			defer k.Close()
			_, err = k.Spawn(progs+"hello", []string{"hello"}, nil)
			require.NoError(t, err)
			f := forwarder{k: k}
			t0 := time.Now()
			f.forward(syscall.SIGTERM, t0) // the guest has not run: the signal still waits
			require.True(t, k.HostSignalPosted(int(syscall.SIGTERM)))
			f.forward(syscall.SIGTERM, t0.Add(c.after))
			code, err := k.Run()
			var stop *minikernel.HostStopError
			if c.stop {
				require.True(t, errors.As(err, &stop), "the run must stop: %v", err)
				assert.Equal(t, int(syscall.SIGTERM), stop.Signal)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, 128+int(syscall.SIGTERM), code, "hello dies of the one SIGTERM")
		})
	}
}
