#include "textflag.h"

// func Call(addr, arg uintptr) uint64
// The generated code may change every general register but RSP and RBP (ABI0: the caller's
// wrapper restores R14 and X15). The 64-byte frame leaves the code room to push.
TEXT ·Call(SB), NOSPLIT, $64-24
	MOVQ addr+0(FP), AX
	MOVQ arg+8(FP), BX
	MOVQ BP, 56(SP)
	CALL AX
	MOVQ 56(SP), BP
	MOVQ AX, ret+16(FP)
	RET
