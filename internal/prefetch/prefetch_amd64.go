package prefetch

// Line hints that the cache line holding *p will soon be written (PREFETCHW).
//
//go:noescape
func Line(p *byte)
