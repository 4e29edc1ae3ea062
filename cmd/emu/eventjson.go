package main

import (
	"strconv"

	"github.com/vmemu/vmemu/describe"
	"github.com/vmemu/vmemu/internal/safetext"
	"github.com/vmemu/vmemu/minikernel"
	"github.com/vmemu/vmemu/mmu"
	"github.com/vmemu/vmemu/tlb"
)

// The JSON trace: one object per line, fields in a fixed order, names stable (documented in
// `emu help trace` and the README; traceJSONHelp below is that documentation). Addresses and
// other 64-bit values are hex strings ("0x401000"), so no JSON reader rounds them; counts are
// numbers.

const traceJSONHelp = `JSON trace (--trace-format json): one object per line. Every object has
  insns   number  instructions retired so far (guest time; for tlb events, at the start
                  of the basic block being executed)
  kind    string  fault, syscall, signal, exec, exit, fork, switch, frame, tlb or reclaim
  pid     number  the process
Strings are valid JSON whatever a file name holds: control characters escaped, bytes that
are not UTF-8 written as U+FFFD. And, by kind (addresses and 64-bit values are hex strings
such as "0x401000"):
  fault    rip, addr, access ("user write", "supervisor read", ...), code (number),
           code_bits ("P W U RSVD I", "-" for a clear bit), kernel (true when the kernel
           faulted copying for a system call), vma (null or {start, end, prot, name}),
           outcome (demand-zero, file-read, file-cached, cow-copy, cow-reuse, stack-growth,
           spurious, SIGSEGV, SIGBUS, out-of-memory, EFAULT, swap-in, swap-cached, userfault), frame (the
           frame mapped, or null)
  syscall  rip, nr (number), name, args (six hex strings), ret (number), errno (name or null)
  signal   rip, signal (name), signo (number), reason
  exec     path, entry
  exit     status (wait status, number), exit_code (number, 128+N for signal N)
  fork     child (number)
  switch   prev (number: the process that ran before, 0 for none; pid is the one now)
  frame    op (alloc, get, put, free), frame, frame_kind (user, page-table, page-cache, kernel),
           ref (reference count after the change)
  tlb      tlb (ITLB, DTLB or TLB), op (fill, evict, invalidate, flush); except for a
           flush: va, pa, size (4K, 2M, 1G), pcid (number), perm (letters r w x u g a d)
  reclaim  op (scan, evict, write-back, swap-out, swap-in, cull, done); for scan and done:
           pages (wanted, or reclaimed); else frame, slot (number or null), addr (the first
           mapping's page, pid its process; null when unmapped), mapped (PTEs that mapped
           it), file and index (a file page) or file null; and reason (who ran the pass, or
           the policy's reason)
`

type jsonObj struct{ b []byte }

func (o *jsonObj) key(k string) {
	if len(o.b) > 0 && o.b[len(o.b)-1] != '{' {
		o.b = append(o.b, ',')
	}
	o.b = safetext.AppendJSON(o.b, k)
	o.b = append(o.b, ':')
}

func (o *jsonObj) str(k, v string) { o.key(k); o.b = safetext.AppendJSON(o.b, v) }
func (o *jsonObj) hex(k string, v uint64) {
	o.key(k)
	o.b = append(o.b, `"0x`...)
	o.b = strconv.AppendUint(o.b, v, 16)
	o.b = append(o.b, '"')
}
func (o *jsonObj) num(k string, v int64)    { o.key(k); o.b = strconv.AppendInt(o.b, v, 10) }
func (o *jsonObj) unum(k string, v uint64)  { o.key(k); o.b = strconv.AppendUint(o.b, v, 10) }
func (o *jsonObj) boolean(k string, v bool) { o.key(k); o.b = strconv.AppendBool(o.b, v) }
func (o *jsonObj) null(k string)            { o.key(k); o.b = append(o.b, "null"...) }
func (o *jsonObj) open(k string) {
	o.key(k)
	o.b = append(o.b, '{')
}
func (o *jsonObj) close() { o.b = append(o.b, '}') }

// cpuList lists the CPU numbers of a cpumask.
func cpuList(m uint64) []int {
	var out []int
	for i := 0; m != 0; i, m = i+1, m>>1 {
		if m&1 != 0 {
			out = append(out, i)
		}
	}
	return out
}

// appendEventJSON appends e as one JSON object (no newline).
func appendEventJSON(b []byte, e *minikernel.Event) []byte {
	o := jsonObj{b: append(b, '{')}
	o.unum("insns", e.Insns)
	o.str("kind", e.Kind.String())
	o.num("pid", int64(e.PID))
	o.num("tid", int64(e.TID))
	o.num("cpu", int64(e.CPU))
	switch e.Kind {
	case minikernel.EvPageFault:
		o.hex("rip", e.RIP)
		o.hex("addr", e.Addr)
		o.str("access", describe.FaultAccess(e.Code))
		o.unum("code", uint64(e.Code))
		o.str("code_bits", mmu.DecodeErrorCode(e.Code))
		o.boolean("kernel", e.Kernel)
		if e.VMA == nil {
			o.null("vma")
		} else {
			o.open("vma")
			o.hex("start", e.VMA.Start)
			o.hex("end", e.VMA.End)
			o.str("prot", describe.VMAProt(e.VMA))
			o.str("name", describe.VMAName(e.VMA))
			o.close()
		}
		o.str("outcome", e.Outcome.String())
		if e.Frame != 0 && describe.FaultMaps(e.Outcome) {
			o.hex("frame", e.Frame)
		} else {
			o.null("frame")
		}
	case minikernel.EvSyscall:
		o.hex("rip", e.RIP)
		o.unum("nr", e.Sysno)
		o.str("name", e.Name)
		o.key("args")
		o.b = append(o.b, '[')
		for i, a := range e.Args {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = append(o.b, `"0x`...)
			o.b = strconv.AppendUint(o.b, a, 16)
			o.b = append(o.b, '"')
		}
		o.b = append(o.b, ']')
		o.num("ret", e.Ret)
		if en := describe.ErrnoName(e.Ret); en != "" {
			o.str("errno", en)
		} else {
			o.null("errno")
		}
	case minikernel.EvSignal:
		o.hex("rip", e.RIP)
		o.str("signal", minikernel.SignalName(e.Signal))
		o.num("signo", int64(e.Signal))
		o.str("reason", e.Text)
	case minikernel.EvExec:
		o.str("path", e.Path)
		o.hex("entry", e.RIP)
	case minikernel.EvExit:
		o.num("status", int64(e.Status))
		o.num("exit_code", int64(minikernel.ExitCode(e.Status)))
	case minikernel.EvFork:
		o.num("child", int64(e.Child))
	case minikernel.EvSwitch:
		o.num("prev", int64(e.Prev))
		o.num("prev_tid", int64(e.PrevTID))
	case minikernel.EvClone:
		o.num("child", int64(e.Child))
	case minikernel.EvThreadExit:
		o.num("status", int64(e.Status))
		o.num("exit_code", int64(minikernel.ExitCode(e.Status)))
	case minikernel.EvShootdown:
		o.key("targets")
		o.b = append(o.b, '[')
		first := true
		for _, c := range cpuList(e.Targets) {
			if !first {
				o.b = append(o.b, ',')
			}
			first = false
			o.b = strconv.AppendInt(o.b, int64(c), 10)
		}
		o.b = append(o.b, ']')
		if e.Pages < 0 {
			o.str("flush", "all")
			o.null("addr")
			o.null("pages")
		} else {
			o.str("flush", "pages")
			o.hex("addr", e.Addr)
			o.num("pages", int64(e.Pages))
		}
		o.str("reason", e.Text)
	case minikernel.EvIPI:
		o.key("targets")
		o.b = append(o.b, '[')
		for i, c := range cpuList(e.Targets) {
			if i > 0 {
				o.b = append(o.b, ',')
			}
			o.b = strconv.AppendInt(o.b, int64(c), 10)
		}
		o.b = append(o.b, ']')
		o.str("reason", e.Text)
	case minikernel.EvFrame:
		o.str("op", e.FrameOp.String())
		o.hex("frame", e.Frame)
		o.str("frame_kind", e.FrameKind.String())
		o.unum("ref", uint64(e.Ref))
	case minikernel.EvReclaim:
		o.str("op", e.Reclaim.String())
		switch e.Reclaim {
		case minikernel.ReclaimScan, minikernel.ReclaimDone:
			o.num("pages", int64(e.Pages))
		default:
			o.hex("frame", e.Frame)
			if e.Slot != 0 {
				o.unum("slot", e.Slot)
			} else {
				o.null("slot")
			}
			if e.PID != 0 {
				o.hex("addr", e.Addr)
			} else {
				o.null("addr")
			}
			o.num("mapped", int64(e.Mapped))
			if e.Path != "" {
				o.str("file", e.Path)
				o.unum("index", e.Index)
			} else {
				o.null("file")
			}
		}
		o.str("reason", e.Text)
	case minikernel.EvTLB:
		o.str("tlb", e.TLB)
		o.str("op", e.TLBOp.String())
		if e.TLBOp != tlb.EvFlush {
			te := &e.TLBEntry
			o.hex("va", te.VPN<<12)
			o.hex("pa", te.PFN<<12)
			o.str("size", te.Size.String())
			o.unum("pcid", uint64(te.PCID))
			o.str("perm", describe.TLBLetters(te.Perm))
		}
	}
	o.close()
	return o.b
}
