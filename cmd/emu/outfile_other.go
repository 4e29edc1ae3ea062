//go:build !unix

package main

import "os"

// createOutput is os.Create for the files emu writes (the trace, statistics, the report).
func createOutput(name string) (*os.File, error) { return os.Create(name) }
