package main

import (
	"os"
	"runtime/pprof"
	"time"

	"github.com/vmemu/vmemu/internal/phase"
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

// phaseSampler reads the emulator's phase (internal/phase) every millisecond while the guest
// runs, so --stats can say where the host's time went: a statistical profile, as pprof's,
// whose shares vary a little from run to run.
type phaseSampler struct {
	stop   chan struct{}
	done   chan struct{}
	counts [phase.NumPhases]uint64
}

func startPhaseSampler() *phaseSampler {
	s := &phaseSampler{stop: make(chan struct{}), done: make(chan struct{})}
	phase.StartSampling()
	go func() {
		defer close(s.done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				s.counts[phase.Current()]++
			}
		}
	}()
	return s
}

// finish stops sampling and returns the share of samples in each phase (all zero when
// there were none).
func (s *phaseSampler) finish() (shares [phase.NumPhases]float64) {
	close(s.stop)
	<-s.done
	phase.StopSampling()
	var n uint64
	for _, c := range s.counts {
		n += c
	}
	for i, c := range s.counts {
		if n > 0 {
			shares[i] = float64(c) / float64(n)
		}
	}
	return shares
}
