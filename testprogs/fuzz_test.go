package testprogs

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmemu/vmemu/minikernel"
)

// FuzzSyscalls runs hard_sysfuzz, which makes the system calls its input describes (random
// calls with random and boundary arguments, forks included), confined with --root to a
// fresh directory. Whatever the calls, the kernel must neither panic nor fail: the run
// ends with the program, at its instruction limit, or in a deadlock it reports. go test
// runs the seeds; go test ./testprogs -fuzz FuzzSyscalls searches further.
func FuzzSyscalls(f *testing.F) {
	for seed := uint64(1); seed <= 8; seed++ {
		r := rand.New(rand.NewPCG(seed, 11))
		b := make([]byte, 1500+r.IntN(1500))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{6}, 200)) // fork after fork
	prog, err := os.ReadFile(filepath.Join("bin", "hard_sysfuzz"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		root := t.TempDir()
		if err := os.WriteFile(filepath.Join(root, "hard_sysfuzz"), prog, 0o755); err != nil {
			t.Fatal(err)
		}
		var out, log bytes.Buffer
		k, err := minikernel.New(minikernel.Config{RAM: 64 << 20, Root: root, MaxInsns: 5_000_000,
			Stdin: bytes.NewReader(script), Stdout: &out, Stderr: &out, Log: &log, MaxProcs: 64})
		if err != nil {
			t.Fatal(err)
		}
		defer k.Close()
		if _, err := k.Spawn("/hard_sysfuzz", []string{"hard_sysfuzz"}, nil); err != nil {
			t.Fatal(err)
		}
		// A guest may wait for the host as long as it likes (a FIFO nobody writes, as on
		// Linux); after a while the run is stopped as Ctrl-C would stop it.
		watchdog := time.AfterFunc(10*time.Second, func() { k.RequestStop(minikernel.SIGKILL) })
		defer watchdog.Stop()
		_, err = k.Run()
		var stopped *minikernel.HostStopError
		if err != nil && !errors.Is(err, minikernel.ErrInsnLimit) && !errors.Is(err, minikernel.ErrDeadlock) &&
			!errors.As(err, &stopped) {
			t.Fatalf("the run failed: %v\nkernel log:\n%s", err, log.String())
		}
		if strings.Contains(log.String(), "emulator failure") {
			t.Fatalf("emulator failure:\n%s", log.String())
		}
	})
}
