//go:build !linux

package main

import "syscall"

// dieOf: on other hosts emu exits with 128 + the signal instead.
func dieOf(syscall.Signal) {}
