package debugger

import (
	"os"
	"testing"

	"github.com/vmemu/vmemu/internal/testcheck"
	"github.com/vmemu/vmemu/minikernel"
)

// Every run of the kernel a test here makes has a deadline and an instruction budget, so
// that a kernel or MMU bug that stops the guest progressing fails the test instead of
// hanging it.
func TestMain(m *testing.M) {
	minikernel.SetRunDeadline(testcheck.RunDeadline())
	minikernel.SetRunBudget(testcheck.RunBudget)
	os.Exit(m.Run())
}
