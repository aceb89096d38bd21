//go:build !purego

#include "textflag.h"

// GHASH with PCLMULQDQ, 8 blocks aggregated per reduction (Karatsuba).
// Values are kept byte-reversed ("reflected", see ghash.go); ghashKey holds
// pow[16] (H^16..H^1, each divided by alpha) at offset 0 and the Karatsuba
// terms kar[16] at offset 256.

DATA ghBswap<>+0x00(SB)/8, $0x08090a0b0c0d0e0f
DATA ghBswap<>+0x08(SB)/8, $0x0001020304050607
GLOBL ghBswap<>(SB), (NOPTR+RODATA), $16

// Reduction constant: high lane 0xc2 << 56 (low lane unused).
DATA ghPoly<>+0x00(SB)/8, $1
DATA ghPoly<>+0x08(SB)/8, $0xc200000000000000
GLOBL ghPoly<>(SB), (NOPTR+RODATA), $16

// MULACC multiplies X1 by the power at poff (Karatsuba term at koff) and
// adds the three partial products into X8 (low), X9 (high), X10 (middle).
#define MULACC(poff, koff) \
	PSHUFD $78, X1, X2; \
	PXOR X1, X2; \
	MOVOU poff(AX), X3; \
	MOVOU X1, X4; \
	PCLMULQDQ $0x00, X3, X4; \
	PCLMULQDQ $0x11, X3, X1; \
	MOVOU koff(AX), X3; \
	PCLMULQDQ $0x00, X3, X2; \
	PXOR X4, X8; \
	PXOR X1, X9; \
	PXOR X2, X10

#define BLOCK(off, poff, koff) \
	MOVOU off(SI), X1; \
	PSHUFB X15, X1; \
	MULACC(poff, koff)

// REDUCE combines X8/X9/X10 into the 256-bit product and reduces it into X0:
// the low half is multiplied by alpha^64 twice (swap halves, add the low
// lane times 0xc2 << 56), then the high half is added.
#define REDUCE \
	PXOR X8, X10; \
	PXOR X9, X10; \
	MOVOU X10, X11; \
	PSLLO $8, X11; \
	PSRLO $8, X10; \
	PXOR X11, X8; \
	PXOR X10, X9; \
	MOVOU X14, X11; \
	PCLMULQDQ $0x01, X8, X11; \
	PSHUFD $78, X8, X8; \
	PXOR X11, X8; \
	MOVOU X14, X11; \
	PCLMULQDQ $0x01, X8, X11; \
	PSHUFD $78, X8, X8; \
	PXOR X11, X8; \
	PXOR X9, X8; \
	MOVOU X8, X0

// func ghashBlocks(gk *ghashKey, y *[16]byte, p *byte, n int)
TEXT ·ghashBlocks(SB), NOSPLIT, $0-32
	MOVQ  gk+0(FP), AX
	MOVQ  y+8(FP), BX
	MOVQ  p+16(FP), SI
	MOVQ  n+24(FP), CX
	MOVOU ghBswap<>(SB), X15
	MOVOU ghPoly<>(SB), X14
	MOVOU (BX), X0
	PSHUFB X15, X0
	CMPQ  CX, $8
	JB    ghSingle

ghOcta:
	PXOR  X8, X8
	PXOR  X9, X9
	PXOR  X10, X10
	BLOCK(16, 144, 400)
	BLOCK(32, 160, 416)
	BLOCK(48, 176, 432)
	BLOCK(64, 192, 448)
	BLOCK(80, 208, 464)
	BLOCK(96, 224, 480)
	BLOCK(112, 240, 496)
	// The block that depends on the previous result goes last, so that
	// the other products can start before that result is ready.
	MOVOU 0(SI), X1
	PSHUFB X15, X1
	PXOR  X0, X1
	MULACC(128, 384)
	REDUCE
	ADDQ  $128, SI
	SUBQ  $8, CX
	CMPQ  CX, $8
	JAE   ghOcta

ghSingle:
	TESTQ CX, CX
	JZ    ghDone
	PXOR  X8, X8
	PXOR  X9, X9
	PXOR  X10, X10
	MOVOU 0(SI), X1
	PSHUFB X15, X1
	PXOR  X0, X1
	MULACC(240, 496)
	REDUCE
	ADDQ  $16, SI
	DECQ  CX
	JMP   ghSingle

ghDone:
	PSHUFB X15, X0
	MOVOU X0, (BX)
	RET
