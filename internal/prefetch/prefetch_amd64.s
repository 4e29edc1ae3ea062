#include "textflag.h"

// func Line(p *byte)
TEXT ·Line(SB), NOSPLIT|NOFRAME, $0-8
	MOVQ p+0(FP), AX
	// PREFETCHW (AX), which the assembler does not know: 0F 0D /1. (A processor without
	// it, before Broadwell, takes 0F 0D as a no-operation.)
	BYTE $0x0f; BYTE $0x0d; BYTE $0x08
	RET
