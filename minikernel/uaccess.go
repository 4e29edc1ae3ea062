package minikernel

import (
	"github.com/vmemu/vmemu/mmu"
)

// Access to user memory for system calls: Linux's copy_from_user and copy_to_user. The
// kernel goes through the page tables, as a real kernel does: it translates with the MMU as
// a supervisor access (CR0.WP is on, so a write to a read-only page faults, which breaks
// copy-on-write), takes the page fault into the fault handler, and retries. A pointer that
// no VMA backs gives EFAULT, never a crash.

// copyIn fills buf from user memory at va. It returns how many bytes it copied before a
// bad address (len(buf) on success) and whether it copied everything.
func (k *Kernel) copyIn(p *Process, va uint64, buf []byte) (int, bool) {
	return k.userCopy(p, va, buf, mmu.Read)
}

// copyOut stores buf into user memory at va.
func (k *Kernel) copyOut(p *Process, va uint64, buf []byte) (int, bool) {
	return k.userCopy(p, va, buf, mmu.Write)
}

func (k *Kernel) userCopy(p *Process, va uint64, buf []byte, acc mmu.Access) (int, bool) {
	if p.mm == nil {
		return 0, false // the process is gone (an OOM kill in an earlier copy): no memory to reach
	}
	done := 0
	mem := k.ram.Bytes()
	for done < len(buf) {
		addr := va + uint64(done)
		if addr < va || addr >= userTop {
			return done, false
		}
		pa, f := k.mmu.Translate(addr, acc)
		if f != nil {
			if !k.userFault(p, addr, acc) || p.mm == nil {
				return done, false
			}
			continue
		}
		chunk := min(len(buf)-done, int(4096-addr&0xfff))
		dst, src := mem[pa:pa+uint64(chunk)], buf[done:done+chunk]
		if acc != mmu.Write {
			dst, src = src, dst
		}
		if a, faulted := copyCatching(dst, src); faulted {
			// The host file behind the page shrank: the kernel learns it and drops the
			// page, and the retry faults as Linux would (EFAULT past the end of the file).
			if !k.hostFault(a) && (a != 0 || !k.hostFaultSomewhere()) {
				return done, false
			}
			continue
		}
		if acc == mmu.Write {
			k.ram.NoteWrite(pa >> 12)
		}
		done += chunk
	}
	return done, true
}

// copyInString reads a NUL-terminated string of at most max bytes at va.
func (k *Kernel) copyInString(p *Process, va uint64, max int) (string, Errno) {
	var out []byte
	var page [256]byte
	for len(out) < max {
		n := min(len(page), max-len(out))
		// Do not read past the end of the page unless the string continues there.
		n = min(n, int(4096-(va&0xfff)))
		got, ok := k.copyIn(p, va, page[:n])
		for i := 0; i < got; i++ {
			if page[i] == 0 {
				return string(append(out, page[:i]...)), 0
			}
		}
		if !ok {
			return "", EFAULT
		}
		out = append(out, page[:got]...)
		va += uint64(got)
	}
	return "", ENAMETOOLONG
}
