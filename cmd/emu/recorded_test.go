package main

// Native results recorded on the reference host (x86-64 Linux), for hosts that cannot run
// the x86-64 test programs natively (a real arm64 or macOS machine): each test that
// compares with a native run keeps what the live run gave under VMEMU_NATIVE=update, in a
// JSON file of testdata/ by key, and reads it back where no live run is possible or
// VMEMU_NATIVE=recorded asks for the recordings.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/vmemu/vmemu/internal/testcheck"
)

// liveNative reports whether tests compare with live native runs of the x86-64 test
// programs: where this host can run them (found by trying: under qemu-user on an x86-64 host
// an arm64 test binary can), unless VMEMU_NATIVE=recorded says to use the recordings.
func liveNative() bool {
	return os.Getenv("VMEMU_NATIVE") != "recorded" && testcheck.CanExec(progs+"hello")
}

var recordings = struct {
	sync.Mutex
	files map[string]map[string]json.RawMessage // file -> key -> value
}{files: map[string]map[string]json.RawMessage{}}

func recordingFile(t *testing.T, file string) map[string]json.RawMessage {
	t.Helper()
	m, ok := recordings.files[file]
	if !ok {
		m = map[string]json.RawMessage{}
		if b, err := os.ReadFile(file); err == nil {
			require.NoError(t, json.Unmarshal(b, &m), file)
		}
		recordings.files[file] = m
	}
	return m
}

// loadNative sets v to the native result recorded in file under key, or ends the test
// saying that there is none (a failure under CI=true).
func loadNative(t *testing.T, file, key string, v any) {
	t.Helper()
	recordings.Lock()
	raw, ok := recordingFile(t, file)[key]
	recordings.Unlock()
	if !ok {
		testcheck.Skip(t, "this host does not run the x86-64 test programs natively, and %s records no native run of %q", file, key)
	}
	require.NoError(t, json.Unmarshal(raw, v), "%s: %s", file, key)
}

// saveNative records v, a live native result, in file under key, under VMEMU_NATIVE=update.
func saveNative(t *testing.T, file, key string, v any) {
	t.Helper()
	if os.Getenv("VMEMU_NATIVE") != "update" {
		return
	}
	recordings.Lock()
	defer recordings.Unlock()
	m := recordingFile(t, file)
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	m[key] = raw
	b, err := json.MarshalIndent(m, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
	require.NoError(t, os.WriteFile(file, append(b, '\n'), 0o644))
}
