#include "textflag.h"

// func madvise(addr, n uintptr, advice int) int
TEXT ·madvise(SB),NOSPLIT,$0-32
	MOVQ	addr+0(FP), DI
	MOVQ	n+8(FP), SI
	MOVQ	advice+16(FP), DX
	MOVQ	$28, AX // SYS_madvise
	SYSCALL
	MOVQ	AX, ret+24(FP)
	RET

// func mincore(addr, n uintptr, vec *[512]byte) int
TEXT ·mincore(SB),NOSPLIT,$0-32
	MOVQ	addr+0(FP), DI
	MOVQ	n+8(FP), SI
	MOVQ	vec+16(FP), DX
	MOVQ	$27, AX // SYS_mincore
	SYSCALL
	MOVQ	AX, ret+24(FP)
	RET
