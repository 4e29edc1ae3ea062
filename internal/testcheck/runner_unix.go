//go:build unix

package testcheck

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// foundRunner tries once to exec this test binary directly (asking it to run no test) and,
// if the host refuses it as not executable, returns the qemu-user program for its
// architecture where one is on PATH.
var foundRunner = sync.OnceValue(func() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	cmd := exec.Command(exe, "-test.run=^$", "-test.count=1")
	cmd.Env = []string{} // not in any role a test gives it
	err = cmd.Start()
	if err == nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil
	}
	if !errors.Is(err, syscall.ENOEXEC) {
		return nil
	}
	arch := map[string]string{"arm64": "aarch64", "amd64": "x86_64", "386": "i386", "arm": "arm",
		"riscv64": "riscv64", "ppc64le": "ppc64le", "s390x": "s390x", "loong64": "loongarch64"}[runtime.GOARCH]
	if p, err := exec.LookPath("qemu-" + arch); arch != "" && err == nil {
		return []string{p}
	}
	return nil
})
