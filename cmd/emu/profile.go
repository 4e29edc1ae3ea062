package main

import (
	"os"
	"runtime/pprof"
)

// startCPUProfile starts profiling emu itself into the file name and returns the function
// that stops the profile and closes the file.
func startCPUProfile(name string) (stop func(), err error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
