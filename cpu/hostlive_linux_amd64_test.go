//go:build linux && amd64

package cpu

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// liveAvailable: snippets can run on this host (hostcpu.Run).
const liveAvailable = true

var (
	liveOnce sync.Once
	liveProf cpuProfile
	liveErr  error
)

// liveProfile reads this host's profile with CPUID.
func liveProfile() (cpuProfile, error) {
	liveOnce.Do(func() {
		liveProf = profileFromCPUID(func(leaf, sub uint32) (a, b, c, d uint32) {
			var err error
			a, b, c, d, err = hostcpu.CPUID(leaf, sub)
			if err != nil && liveErr == nil {
				liveErr = err
			}
			return
		})
		liveProf.Recorded = "VMEMU_HOSTCPU=update go test ./cpu on " + hostPlatform
	})
	return liveProf, liveErr
}

// liveRun runs code on this host's CPU. The host kernel may interrupt a snippet, and its
// FPU save and restore does not keep every x87 pointer, so a run is repeated until two
// runs agree (at most five runs).
func liveRun(code []byte, r *hostcpu.Regs, mem []byte) error {
	in := *r
	var prev hostcpu.Regs
	var prevMem []byte
	for try := 0; try < 5; try++ {
		out, m := in, append([]byte(nil), mem...)
		if err := hostcpu.Run(code, &out, m); err != nil {
			return err
		}
		if try > 0 && out.GPR == prev.GPR && out.RFLAGS == prev.RFLAGS && bytes.Equal(m, prevMem) {
			*r = out
			copy(mem, m)
			return nil
		}
		prev, prevMem = out, m
	}
	return fmt.Errorf("hostcpu: five host runs of % x gave no two equal results", code)
}
