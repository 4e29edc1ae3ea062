package testprogs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/vmemu/vmemu/minikernel"
)

// The signal programs (src/musl/sig_*.c, and the same sources built against glibc in
// src/glibc/): each prints what its handlers saw (siginfo, the frame's registers, masks,
// the order of delivery, system-call results); the emulator must print the same as Linux.

// Every signal program prints and exits the same on the emulator as on Linux.
func TestSignalProgramsMatchNative(t *testing.T) {
	for _, tc := range []struct {
		prog string
		args []string
		// killed lists the kernel log lines the run must contain (a child that dies by a
		// signal's default action names its cause).
		killed []string
	}{
		{"musl_sig_fault", nil, nil},
		{"musl_sig_deliver", nil, []string{"killed by SIGSEGV (SI_KERNEL): the handler of SIGUSR2 has no SA_RESTORER"}},
		{"musl_sig_altstack", nil, []string{"killed by SIGSEGV (SI_KERNEL): user write at address",
			"then cannot write the signal frame for SIGSEGV"}},
		{"musl_sig_chld", nil, nil},
		{"musl_sig_eintr", nil, nil},
		{"musl_sig_fpu", nil, nil},
		{"musl_sig_exec", []string{"bin/musl_sig_exec"}, nil},
		{"glibc_sig_fault", nil, nil},
		{"glibc_sig_deliver", nil, nil},
		{"glibc_sig_altstack", nil, nil},
		{"glibc_sig_chld", nil, nil},
		{"glibc_sig_eintr", nil, nil},
		{"glibc_sig_fpu", nil, nil},
		{"glibc_sig_exec", []string{"bin/glibc_sig_exec"}, nil},
		{"musl_sig_pipe", nil, nil},
		{"glibc_sig_pipe", nil, nil},
		{"dynmusl_sig_fault", nil, nil},
		{"dynglibc_sig_fault", nil, nil},
	} {
		t.Run(tc.prog, func(t *testing.T) {
			r := sameAsNative(t, tc.prog, "", tc.args...)
			assert.Equal(t, 0, r.Code)
			for _, l := range tc.killed {
				assert.Contains(t, r.Log, l)
			}
			if !strings.HasSuffix(tc.prog, "sig_exec") {
				assert.NotZero(t, r.Stats.Signals, "signals delivered are counted")
			}
		})
	}
}

// Delivering to a handler is an event a trace shows, with the handler and the frame.
func TestSignalDeliveryEvents(t *testing.T) {
	var texts []string
	r := runWatched(t, "musl_sig_fault", nil, func(e *minikernel.Event) {
		if e.Kind == minikernel.EvSignal {
			texts = append(texts, minikernel.SignalName(e.Signal)+" "+e.Text)
		}
	})
	assert.Equal(t, 0, r.Code)
	assert.Len(t, texts, 12, "one delivery per fault the program provokes")
	for _, s := range texts {
		assert.Regexp(t, `^SIG[A-Z]+ handler 0x[0-9a-f]+, frame at 0x[0-9a-f]+$`, s)
	}
}

// Signals, sleeps and timers run on the virtual clock: the same program gives the same
// output and the same instruction count every time, whatever the host's timing.
func TestSignalRunsAreDeterministic(t *testing.T) {
	for _, prog := range []string{"musl_sig_eintr", "musl_sig_chld"} {
		a, b := runEmu(t, prog, "", nil), runEmu(t, prog, "", nil)
		assert.Equal(t, a.Stdout, b.Stdout, prog)
		assert.Equal(t, a.Stats.Instructions, b.Stats.Instructions, prog)
		assert.Equal(t, a.Stats.Switches, b.Stats.Switches, prog)
	}
}
