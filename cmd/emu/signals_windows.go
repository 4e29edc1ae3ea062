package main

import (
	"os"
	"syscall"
)

// forwarded: Windows delivers only Ctrl-C and Ctrl-Break (as SIGINT) and a console close
// (as SIGTERM); there is no job control.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM}

// stopSelf: a Windows console has no job control; emu runs on.
func stopSelf(int) {}
