package minikernel

import (
	"math/bits"

	"github.com/vmemu/vmemu/cpu"
)

// membarrier(cmd, flags, cpu_id): a memory barrier on every CPU running the caller's threads
// (the expedited commands) or every process (MEMBARRIER_CMD_GLOBAL). Linux's
// kernel/sched/membarrier.c. The expedited commands interrupt the other CPUs, as Linux's
// smp_call_function_many() does: each target takes a CALL_FUNCTION interrupt at its next
// instruction boundary and runs the barrier in its handler, and the caller waits for them
// (the trace shows an "ipi" event). The machine's memory is sequentially consistent and its
// decoded-code caches coherent, so the barrier itself, and SYNC_CORE's serialization, have
// nothing more to do; what a program sees is Linux's answers, registrations and errors.
// There is no rseq here (the rseq call is ENOSYS), so the RSEQ commands are EINVAL, as on a
// kernel built without CONFIG_RSEQ.

// membarrier commands (include/uapi/linux/membarrier.h).
const (
	mbQuery                     = 0
	mbGlobal                    = 1 << 0
	mbGlobalExpedited           = 1 << 1
	mbRegisterGlobalExpedited   = 1 << 2
	mbPrivateExpedited          = 1 << 3
	mbRegisterPrivateExpedited  = 1 << 4
	mbPrivateExpeditedSyncCore  = 1 << 5
	mbRegisterPrivateSyncCore   = 1 << 6
	mbPrivateExpeditedRseq      = 1 << 7
	mbRegisterPrivateExpedRseq  = 1 << 8
	mbGetRegistrations          = 1 << 9
	mbFlagCPU                   = 1
	mbSupported                 = mbGlobal | mbGlobalExpedited | mbRegisterGlobalExpedited | mbPrivateExpedited | mbRegisterPrivateExpedited | mbPrivateExpeditedSyncCore | mbRegisterPrivateSyncCore | mbGetRegistrations
	mbStateGlobalExpedited      = 1 << 0 // MM.membarrier: the registrations
	mbStatePrivateExpedited     = 1 << 1
	mbStatePrivateExpeditedSync = 1 << 2
)

func sysMembarrier(k *Kernel, p *Process, a *[6]uint64) int64 {
	cmd, flags := int32(a[0]), uint32(a[1])
	if cmd == mbPrivateExpeditedRseq {
		if flags != 0 && flags != mbFlagCPU {
			return -int64(EINVAL)
		}
	} else if flags != 0 {
		return -int64(EINVAL)
	}
	mm := p.mm
	switch cmd {
	case mbQuery:
		return mbSupported
	case mbGlobal:
		return 0 // synchronize_rcu(): every CPU passes a barrier between two instructions
	case mbGlobalExpedited:
		var targets uint64
		for _, c := range k.cpus {
			if c != k.this && c.cur != nil && c.cur.proc.mm != nil && c.cur.proc.mm.membarrier&mbStateGlobalExpedited != 0 {
				targets |= 1 << c.id
			}
		}
		k.callOtherCPUs(targets, "membarrier global expedited", nil)
		return 0
	case mbRegisterGlobalExpedited:
		mm.membarrier |= mbStateGlobalExpedited
		return 0
	case mbPrivateExpedited, mbPrivateExpeditedSyncCore:
		want, why := uint8(mbStatePrivateExpedited), "membarrier private expedited"
		if cmd == mbPrivateExpeditedSyncCore {
			want, why = mbStatePrivateExpeditedSync, "membarrier private expedited sync-core"
		}
		if mm.membarrier&want == 0 {
			return -int64(EPERM)
		}
		if cmd == mbPrivateExpedited && (mm.users == 1 || len(k.cpus) == 1) {
			return 0 // no other thread to interrupt
		}
		var targets uint64
		for _, c := range k.cpus {
			if c != k.this && c.cur != nil && c.cur.proc.mm == mm {
				targets |= 1 << c.id
			}
		}
		k.callOtherCPUs(targets, why, nil)
		return 0
	case mbRegisterPrivateExpedited:
		mm.membarrier |= mbStatePrivateExpedited
		return 0
	case mbRegisterPrivateSyncCore:
		mm.membarrier |= mbStatePrivateExpeditedSync
		return 0
	case mbGetRegistrations:
		var r int64
		if mm.membarrier&mbStateGlobalExpedited != 0 {
			r |= mbRegisterGlobalExpedited
		}
		if mm.membarrier&mbStatePrivateExpedited != 0 {
			r |= mbRegisterPrivateExpedited
		}
		if mm.membarrier&mbStatePrivateExpeditedSync != 0 {
			r |= mbRegisterPrivateSyncCore
		}
		return r
	}
	return -int64(EINVAL) // the RSEQ commands among them (no CONFIG_RSEQ)
}

// callOtherCPUs runs fn (nil: nothing but the interrupt) on every CPU in targets, each in
// its CALL_FUNCTION interrupt handler, and waits until all have: Linux's
// smp_call_function_many() with wait. The "ipi" event reports it.
func (k *Kernel) callOtherCPUs(targets uint64, why string, fn func(*PerCPU)) {
	if targets == 0 {
		return
	}
	if len(k.observers) != 0 {
		e := Event{Kind: EvIPI, Targets: targets, Text: why}
		if t := k.cur; t != nil {
			e.PID, e.TID = t.proc.PID, t.TID
		}
		k.emit(&e)
	}
	k.this.stats.CallsSent++
	for m := targets; m != 0; m &= m - 1 {
		c := k.cpus[bits.TrailingZeros64(m)]
		c.calls = append(c.calls, fn)
		c.cpu.RaiseInterrupt(cpu.VecCallFunction)
	}
	for m := targets; m != 0; m &= m - 1 {
		k.cpus[bits.TrailingZeros64(m)].cpu.ServiceInterrupts()
	}
}
