package minikernel

// File descriptors: each process's table of open files (Linux's struct files_struct and
// fdtable). fork copies the table, sharing the open file descriptions; execve closes the
// descriptors marked close-on-exec.

// maxFDs is RLIMIT_NOFILE's usual soft limit: descriptors are numbered below it.
const maxFDs = 1024

// fdEntry is one descriptor: the open file and its close-on-exec flag.
type fdEntry struct {
	f       *File
	cloexec bool
}

// fdTable is a process's descriptor table.
type fdTable struct {
	fds []fdEntry
	// max is how many descriptors the table has room for, as Linux grows its fdtable:
	// 64 at first (NR_OPEN_DEFAULT), then powers of two times 128 that cover the highest
	// descriptor ever used (alloc_fdtable()). select() ignores descriptors beyond it.
	max int
	// users counts the processes that share the table (CLONE_FILES); the descriptors
	// close when the last one exits.
	users int
}

// grow makes room for descriptor fd, as Linux's expand_fdtable() does.
func (t *fdTable) grow(fd int) {
	if t.max == 0 {
		t.max = 64
	}
	if fd < t.max {
		return
	}
	n := 1
	for n < fd/128+1 {
		n <<= 1
	}
	t.max = n * 128
}

// capacity returns how many descriptors the table has room for (fdt->max_fds).
func (t *fdTable) capacity() int { return max(t.max, 64) }

// get returns the open file for fd, or nil when fd is not open.
func (t *fdTable) get(fd uint64) *File {
	if fd >= uint64(len(t.fds)) {
		return nil
	}
	return t.fds[fd].f
}

// install puts f at the lowest free descriptor not below min and returns it; the table
// takes over the caller's reference. EMFILE when the table is full.
func (t *fdTable) install(f *File, cloexec bool, min int) (int, Errno) {
	for fd := min; fd < maxFDs; fd++ {
		if fd >= len(t.fds) {
			t.fds = append(t.fds, make([]fdEntry, fd+1-len(t.fds))...)
		}
		if t.fds[fd].f == nil {
			t.fds[fd] = fdEntry{f: f, cloexec: cloexec}
			t.grow(fd)
			return fd, 0
		}
	}
	return -1, EMFILE
}

// installAt puts f at fd, closing what was there (dup2).
func (t *fdTable) installAt(fd int, f *File, cloexec bool) {
	if fd >= len(t.fds) {
		t.fds = append(t.fds, make([]fdEntry, fd+1-len(t.fds))...)
	}
	old := t.fds[fd].f
	t.fds[fd] = fdEntry{f: f, cloexec: cloexec}
	t.grow(fd)
	if old != nil {
		old.k.closeLocks(t, old) // locks.go
	}
	old.put()
}

// close closes fd. EBADF when it is not open.
func (t *fdTable) close(fd uint64) Errno {
	f := t.get(fd)
	if f == nil {
		return EBADF
	}
	t.fds[fd] = fdEntry{}
	f.k.closeLocks(t, f) // this table's POSIX locks on the file go (locks.go)
	f.put()
	return 0
}

// clone returns a copy of the table for a child process: the same open files, each with
// one more reference. Linux's dup_fd().
func (t *fdTable) clone() *fdTable {
	c := &fdTable{fds: append([]fdEntry(nil), t.fds...), max: t.max, users: 1}
	for _, e := range c.fds {
		e.f.get()
	}
	return c
}

// closeAll closes every descriptor (exit).
func (t *fdTable) closeAll() {
	for fd := range t.fds {
		_ = t.close(uint64(fd))
	}
	t.fds = nil
}

// closeOnExec closes the descriptors marked close-on-exec (execve).
func (t *fdTable) closeOnExec() {
	for fd, e := range t.fds {
		if e.f != nil && e.cloexec {
			_ = t.close(uint64(fd))
		}
	}
}

// closeRange closes the descriptors from first to last, or marks them close-on-exec.
func (t *fdTable) closeRange(first, last uint64, cloexec bool) {
	for fd := first; fd <= last && fd < uint64(len(t.fds)); fd++ {
		switch {
		case t.fds[fd].f == nil:
		case cloexec:
			t.fds[fd].cloexec = true
		default:
			_ = t.close(fd)
		}
	}
}
