//go:build !amd64

package prefetch

// Line hints that the cache line holding *p will soon be written (here: nothing).
func Line(p *byte) {}
