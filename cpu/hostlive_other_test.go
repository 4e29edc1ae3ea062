//go:build !(linux && amd64)

package cpu

import (
	"errors"

	"github.com/vmemu/vmemu/cpu/internal/hostcpu"
)

// liveAvailable: no snippet can run here; the tests compare with recordings only.
const liveAvailable = false

var errNoHostCPU = errors.New("hostcpu: snippets run only on linux/amd64; this is " + hostPlatform)

func liveProfile() (cpuProfile, error) { return cpuProfile{}, errNoHostCPU }

func liveRun([]byte, *hostcpu.Regs, []byte) error { return errNoHostCPU }
