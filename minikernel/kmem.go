package minikernel

// Kernel memory charged to the machine's RAM. The kernel keeps most of its objects in Go
// memory on the host; those a guest can make without bound must cost guest memory, as
// Linux charges kernel memory to the machine (and to the memory cgroup), or a guest could
// grow emu far past --ram. Pipe buffers live in frames of their own (pipe.go). Queued
// signals are charged: every siginfo waiting in a queue counts sigqueueBytes against the
// frames the kernel holds for them (FrameKernel, never touched, so they cost the host
// nothing while they cost the guest their RAM), and a signal that finds no frame to charge
// is not queued: sigqueue fails with EAGAIN, and a standard signal is left pending
// without its siginfo, as Linux's __sigqueue_alloc() failure leaves it.

// sigqueueBytes is what one queued siginfo is charged: Linux's struct sigqueue is about
// 80 bytes, from a slab of 128-byte objects.
const sigqueueBytes = 128

// sigqPerFrame is how many queued siginfos one charged frame covers.
const sigqPerFrame = 4096 / sigqueueBytes

// queuedOnMachine counts the siginfos queued in every process and thread.
func (k *Kernel) queuedOnMachine() int {
	n := 0
	for _, p := range k.live {
		n += k.queuedSignals(p)
	}
	return n
}

// chargeSignal reports whether one more siginfo may be queued on the machine: under the
// limit of queued signals (RLIMIT_SIGPENDING's default, for the one user every guest
// process runs as) and with a charged frame to cover it, taking one if need be.
func (k *Kernel) chargeSignal() bool {
	n := k.queuedOnMachine() + 1
	if n > maxQueued {
		return false
	}
	k.chargeSignalFrames(n)
	return len(k.sigFrames)*sigqPerFrame >= n
}

// rechargeSignals gives back the charged frames the queued siginfos no longer need (after
// they were delivered, or their processes ended).
func (k *Kernel) rechargeSignals() { k.chargeSignalFrames(k.queuedOnMachine()) }

// chargeSignalFrames makes the charged frames cover n siginfos, as far as frames allow.
func (k *Kernel) chargeSignalFrames(n int) {
	need := (n + sigqPerFrame - 1) / sigqPerFrame
	for len(k.sigFrames) < need {
		pfn, err := k.frames.AllocDirty(FrameKernel) // a charge: the frame is never written
		if err != nil {
			return
		}
		k.sigFrames = append(k.sigFrames, pfn)
	}
	for len(k.sigFrames) > need {
		last := len(k.sigFrames) - 1
		k.frames.Put(k.sigFrames[last])
		k.sigFrames = k.sigFrames[:last]
	}
}
