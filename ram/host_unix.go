//go:build unix

package ram

import "golang.org/x/sys/unix"

// reserve maps size bytes of anonymous, zero-filled host memory that the host backs only
// where it is touched.
func reserve(size uint64) ([]byte, error) {
	if uint64(int(size)) != size || int(size) < 0 {
		return nil, errTooBig
	}
	mem, err := unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE,
		unix.MAP_PRIVATE|unix.MAP_ANON|mapNoReserve)
	if err != nil {
		return nil, err
	}
	hugePages(mem)
	return mem, nil
}

// release returns memory from reserve to the host.
func release(mem []byte) error { return unix.Munmap(mem) }
