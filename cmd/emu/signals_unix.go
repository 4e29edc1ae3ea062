//go:build unix

package main

import (
	"os"
	"syscall"
)

// forwarded are the host signals the guest receives.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGTSTP, syscall.SIGTTIN,
	syscall.SIGTTOU, syscall.SIGCONT}

// stopSelf is Config.OnJobStop: emu stops, as the guest would have, until the host's
// SIGCONT (the shell's fg or bg) continues it.
func stopSelf(int) { _ = syscall.Kill(os.Getpid(), syscall.SIGSTOP) }
