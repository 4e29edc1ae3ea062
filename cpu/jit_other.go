//go:build !(linux && amd64)

package cpu

// jitCompile: this host runs no generated code, so every block interprets.
func (c *CPU) jitCompile(b *block) { b.jit = jitNo }
