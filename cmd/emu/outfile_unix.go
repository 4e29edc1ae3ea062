//go:build unix

package main

import (
	"os"
	"syscall"
)

// createOutput is os.Create for the files emu writes (the trace, statistics, the report),
// opened with plain system calls and blocking: package os would register the descriptor
// with Go's network poller, whose start (an epoll instance and an eventfd, then polling)
// costs a short run more than the writes themselves.
func createOutput(name string) (*os.File, error) {
	for {
		fd, err := syscall.Open(name, syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o666)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
		return os.NewFile(uintptr(fd), name), nil
	}
}
