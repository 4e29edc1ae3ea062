// Package hoststat answers questions about the host that emu asks before it starts: how much
// room a file system has left. It knows nothing of the emulated machine.
package hoststat
