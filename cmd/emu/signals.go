package main

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/vmemu/vmemu/minikernel"
)

// Host signals during emu run. What the terminal or another host process sends emu goes to
// the guest's foreground process group (minikernel/hostsig.go): Ctrl-C is the guest's
// SIGINT, and emu ends when the guest does. A second terminating signal (SIGINT, SIGTERM,
// SIGHUP or SIGQUIT) while the guest still runs stops the machine: emu writes back what the
// guest stored, flushes the trace and statistics, and exits with 128 + that signal. Ctrl-Z
// (SIGTSTP) stops emu itself when the guest takes its default action, and SIGCONT resumes it.

// forwarded (signals_unix.go, signals_windows.go) are the host signals the guest receives.

// sentToGuest has bit N-1 set for each host signal N forwarded to the guest: when the guest
// dies of one, emu dies of it too, so a shell sees what it would have seen without emu (a
// script stops at Ctrl-C only if its command died of SIGINT).
var sentToGuest atomic.Uint64

// forwardSignals delivers the host's signals to k's guest until the returned function is
// called.
func forwardSignals(k *minikernel.Kernel) (stop func()) {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, forwarded...)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				sig := s.(syscall.Signal)
				switch sig {
				case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT:
					if k.HostSignalUnheeded() {
						k.RequestStop(int(sig))
						continue
					}
				}
				sentToGuest.Or(1 << (sig - 1))
				k.PostHostSignal(int(sig))
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}

// exitLikeGuest ends emu with code, or, when the guest died of the host signal it was
// sent, by that signal itself.
func exitLikeGuest(code int) {
	if sig := code - 128; sig > 0 && sig < 64 && sentToGuest.Load()&(1<<(sig-1)) != 0 {
		dieOf(syscall.Signal(sig))
	}
	os.Exit(code)
}
