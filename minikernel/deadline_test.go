package minikernel

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

func TestMain(m *testing.M) {
	SetRunDeadline(testcheck.RunDeadline())
	SetRunBudget(testcheck.RunBudget)
	os.Exit(m.Run())
}

// A run that passes its deadline stops and says so.
func TestRunDeadline(t *testing.T) {
	defer SetRunDeadline(testcheck.RunDeadline())
	SetRunDeadline(50 * time.Millisecond)
	k, err := New(Config{RAM: 64 << 20})
	require.NoError(t, err)
	t.Cleanup(func() { k.Close() })
	_, err = k.Spawn(progs+"bench_int", []string{"bench_int", "1000"}, nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = k.Run()
	var de *DeadlineError
	require.ErrorAs(t, err, &de)
	require.Less(t, time.Since(start), 10*time.Second)
}
