// Package cputime reads the CPU time the process has used, for benchmarks that report
// guest instructions per CPU second (steadier than per wall second on a shared machine).
// It knows nothing of the emulator.
package cputime
