//go:build !sysrec_cgo

#include "textflag.h"

// func int80(nr, bx, cx, dx, si, di, bp uintptr) int32
TEXT ·int80(SB), NOSPLIT, $0-60
	MOVQ nr+0(FP), AX
	MOVQ bx+8(FP), BX
	MOVQ cx+16(FP), CX
	MOVQ dx+24(FP), DX
	MOVQ si+32(FP), SI
	MOVQ di+40(FP), DI
	MOVQ BP, R12 // the frame pointer: restored after the call
	MOVQ bp+48(FP), BP
	INT  $0x80
	MOVQ R12, BP
	MOVL AX, ret+56(FP)
	RET
