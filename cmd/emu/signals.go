package main

import (
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vmemu/vmemu/minikernel"
)

// Host signals during emu run. What the terminal or another host process sends emu goes to
// the guest's foreground process group (minikernel/hostsig.go): Ctrl-C is the guest's
// SIGINT, and emu ends when the guest does. A second terminating signal (SIGINT, SIGTERM,
// SIGHUP or SIGQUIT) while the guest still runs stops the machine: emu writes back what the
// guest stored, flushes the trace and statistics, and exits with 128 + that signal. Ctrl-Z
// (SIGTSTP) stops emu itself when the guest takes its default action, and SIGCONT resumes it.

// mergeWindow: a signal that comes again while the one posted before it still waits to be
// delivered is merged with it, as Linux keeps at most one instance of a standard signal
// pending; timeout(1), for one, sends its signal to the command and then to its whole
// process group, so emu gets it twice at once. Only a guest that has had the first one
// for longer than this and still not taken it (a kernel that no longer steps) sees the
// second end the run.
const mergeWindow = time.Second

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
		f := forwarder{k: k}
		for {
			select {
			case s := <-ch:
				f.forward(s.(syscall.Signal), time.Now())
			case <-done:
				return
			}
		}
	}()
	return func() {
		if !exitsAfterMain {
			signal.Stop(ch)
		}
		close(done)
	}
}

// exitsAfterMain is set by the emu command, whose process ends as soon as Main returns:
// forwardSignals' stop then leaves Go's handlers in place (a signal in the last moments is
// dropped, not acted on), since handing each of the forwarded signals back one by one costs
// about half a millisecond of the run. exitLikeGuest puts back the default action itself
// before it dies of a signal. Main called in-process (the tests) stops forwarding as usual.
var exitsAfterMain bool

// forwarder decides what becomes of each host signal emu receives.
type forwarder struct {
	k      *minikernel.Kernel
	posted [65]time.Time // when each signal was last posted to the guest
}

// forward posts sig, received at now, to the guest; or merges it with the same signal
// still waiting to be delivered (mergeWindow); or, for a terminating signal that follows
// one the guest did not take, asks the run to stop.
func (f *forwarder) forward(sig syscall.Signal, now time.Time) {
	if sig <= 0 || sig > 64 {
		return
	}
	if f.k.HostSignalPosted(int(sig)) && now.Sub(f.posted[sig]) < mergeWindow {
		return // one more of a signal still pending is that one, as on Linux
	}
	switch sig {
	case syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT:
		if f.k.HostSignalUnheeded() {
			f.k.RequestStop(int(sig))
			return
		}
	}
	sentToGuest.Or(1 << (sig - 1))
	f.posted[sig] = now
	f.k.PostHostSignal(int(sig))
}

// exitLikeGuest ends emu with code, or, when the guest died of the host signal it was
// sent, by that signal itself.
func exitLikeGuest(code int) {
	if sig := code - 128; sig > 0 && sig < 64 && sentToGuest.Load()&(1<<(sig-1)) != 0 {
		dieOf(syscall.Signal(sig))
	}
	os.Exit(code)
}
