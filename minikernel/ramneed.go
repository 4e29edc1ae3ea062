package minikernel

import (
	"errors"
	"fmt"

	"github.com/vmemu/vmemu/internal/safetext"
)

// A machine whose RAM cannot even start the first program. Linux would OOM-kill init; an
// emulator user who typed --ram 32K wants to hear the number that would have worked, once,
// in one message, not a kill line from inside a program that never ran.

// RAMTooSmallError reports that the first program could not start (its image, stack and
// page tables, and the frames its first instruction touches, did not fit in RAM).
type RAMTooSmallError struct {
	Prog string
	Need uint64 // bytes of RAM with which the program retires its first instruction
	RAM  uint64 // bytes of RAM the machine has
}

func (e *RAMTooSmallError) Error() string {
	return fmt.Sprintf("RAM too small: %d KiB needed to start %s (RAM is %d KiB)",
		e.Need>>10, safetext.Escape(e.Prog), e.RAM>>10)
}

// sizeText spells a RAM size for messages: KiB below a MiB, else MiB.
func sizeText(b uint64) string {
	if b < 1<<20 {
		return fmt.Sprintf("%d KiB", b>>10)
	}
	return fmt.Sprintf("%d MiB", b>>20)
}

// startedOOM reports whether p is the first process and was killed for want of a frame
// before it retired an instruction: the machine is too small to start it.
func (k *Kernel) startedOOM(p *Process) bool {
	return p == k.first && p.insns == 0 && k.nextPID == 3 // nothing but init and p yet
}

// ramTooSmall measures what the first program needs to start, on a scratch machine with the
// same configuration and ample RAM (reserved, not committed, so it costs little): the most
// frames in use at once until the program retires its first instruction, plus frame 0.
func (k *Kernel) ramTooSmall(path string, argv, envp []string) error {
	cfg := k.cfg
	cfg.RAM = max(k.cfg.RAM, 256<<20)
	cfg.Stdin, cfg.Stdout, cfg.Stderr, cfg.Log = nil, nil, nil, nil
	cfg.MaxInsns = 0
	cfg.Swap, cfg.SwapFile, cfg.Policy = 0, "", nil // never touch the user's swap file
	e := &RAMTooSmallError{Prog: path, RAM: k.cfg.RAM}
	s, err := New(cfg)
	if err != nil {
		return e
	}
	defer s.Close()
	p, err := s.Spawn(path, argv, envp)
	if err != nil {
		return e
	}
	for i := 0; i < 64 && p.insns == 0 && !p.exited; i++ {
		if err := s.Step(1); err != nil {
			break
		}
	}
	if p.insns > 0 {
		e.Need = (s.frames.Stats().Peak + 1) << 12
	}
	if e.Need <= e.RAM {
		// Not a question of size after all (it cannot happen with the same configuration);
		// say what is known rather than a wrong number.
		return errors.New("out of memory before the first instruction")
	}
	return e
}
