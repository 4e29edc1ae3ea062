#include "textflag.h"

// func call(code uintptr, r *Regs, stack uintptr)
//
// PUSHFQ and POPFQ are written as bytes (0x9C, 0x9D) and the stack is managed with MOVQ,
// because the Go assembler refuses PUSH/POP it cannot balance on the goroutine stack; the
// snippet runs on its own stack.
TEXT ·call(SB), NOSPLIT, $0-24
	MOVQ code+0(FP), AX
	MOVQ r+8(FP), DI
	MOVQ stack+16(FP), SI
	MOVQ SP, 136(DI)
	MOVQ BP, 144(DI)
	MOVQ R14, 152(DI)
	MOVQ R15, 160(DI)
	// New stack: S-8 holds the Regs pointer, S-16 the code address, S-24 the flags.
	MOVQ SI, SP
	MOVQ DI, -8(SP)
	MOVQ AX, -16(SP)
	MOVQ 128(DI), AX
	MOVQ AX, -24(SP)
	LEAQ -24(SP), SP
	BYTE $0x9D // POPFQ: RSP is now S-16
	MOVQ 0(DI), AX
	MOVQ 8(DI), CX
	MOVQ 16(DI), DX
	MOVQ 24(DI), BX
	MOVQ 40(DI), BP
	MOVQ 48(DI), SI
	MOVQ 64(DI), R8
	MOVQ 72(DI), R9
	MOVQ 80(DI), R10
	MOVQ 88(DI), R11
	MOVQ 96(DI), R12
	MOVQ 104(DI), R13
	MOVQ 112(DI), R14
	MOVQ 120(DI), R15
	MOVQ 56(DI), DI
	CALL (SP)
	// Back with RSP = S-16. Keep RDI in the spent code-address slot, then the flags below.
	MOVQ DI, 0(SP)
	BYTE $0x9C // PUSHFQ: RSP is now S-24
	MOVQ 16(SP), DI
	MOVQ AX, 0(DI)
	MOVQ CX, 8(DI)
	MOVQ DX, 16(DI)
	MOVQ BX, 24(DI)
	MOVQ BP, 40(DI)
	MOVQ SI, 48(DI)
	MOVQ R8, 64(DI)
	MOVQ R9, 72(DI)
	MOVQ R10, 80(DI)
	MOVQ R11, 88(DI)
	MOVQ R12, 96(DI)
	MOVQ R13, 104(DI)
	MOVQ R14, 112(DI)
	MOVQ R15, 120(DI)
	MOVQ 8(SP), AX
	MOVQ AX, 56(DI)
	MOVQ 0(SP), AX
	MOVQ AX, 128(DI)
	LEAQ 8(SP), AX
	MOVQ AX, 32(DI)
	CLD
	MOVQ 136(DI), SP
	MOVQ 144(DI), BP
	MOVQ 152(DI), R14
	MOVQ 160(DI), R15
	RET
