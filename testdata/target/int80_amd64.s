#include "textflag.h"

// func int80(nr, bx, cx, di, si uintptr) int32
TEXT ·int80(SB), NOSPLIT, $0-44
	MOVQ nr+0(FP), AX
	MOVQ bx+8(FP), BX
	MOVQ cx+16(FP), CX
	MOVQ di+24(FP), DI
	MOVQ si+32(FP), SI
	XORQ DX, DX
	INT  $0x80
	MOVL AX, ret+40(FP)
	RET
