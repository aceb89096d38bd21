//go:build !purego

#include "textflag.h"

// AVX-512 versions (VAES, VPCLMULQDQ on 512-bit registers, four blocks per
// register) of the CTR stream and of the whole GMAC. Both take byte counts and
// handle a partial last block with masked loads and stores.

DATA zBswap<>+0x00(SB)/8, $0x08090a0b0c0d0e0f
DATA zBswap<>+0x08(SB)/8, $0x0001020304050607
GLOBL zBswap<>(SB), (NOPTR+RODATA), $16

// Counter offsets 0, 1, 2, 3 in the low 32-bit word of each 128-bit lane.
DATA zCtrInit<>+0x00(SB)/8, $0
DATA zCtrInit<>+0x08(SB)/8, $0
DATA zCtrInit<>+0x10(SB)/8, $1
DATA zCtrInit<>+0x18(SB)/8, $0
DATA zCtrInit<>+0x20(SB)/8, $2
DATA zCtrInit<>+0x28(SB)/8, $0
DATA zCtrInit<>+0x30(SB)/8, $3
DATA zCtrInit<>+0x38(SB)/8, $0
GLOBL zCtrInit<>(SB), (NOPTR+RODATA), $64

DATA zCtrFour<>+0x00(SB)/8, $4
DATA zCtrFour<>+0x08(SB)/8, $0
GLOBL zCtrFour<>(SB), (NOPTR+RODATA), $16

DATA zPoly<>+0x00(SB)/8, $1
DATA zPoly<>+0x08(SB)/8, $0xc200000000000000
GLOBL zPoly<>(SB), (NOPTR+RODATA), $16

// ZROUND4 runs one AES round with key k on Z0..Z3.
#define ZROUND4(k) \
	VAESENC k, Z0, Z0; \
	VAESENC k, Z1, Z1; \
	VAESENC k, Z2, Z2; \
	VAESENC k, Z3, Z3

// ZAES4 runs the 14 AES-256 rounds (keys broadcast in Z16..Z30) on Z0..Z3,
// ZAES1 on Z0 only.
#define ZAES4 \
	VPXORQ Z16, Z0, Z0; \
	VPXORQ Z16, Z1, Z1; \
	VPXORQ Z16, Z2, Z2; \
	VPXORQ Z16, Z3, Z3; \
	ZROUND4(Z17); \
	ZROUND4(Z18); \
	ZROUND4(Z19); \
	ZROUND4(Z20); \
	ZROUND4(Z21); \
	ZROUND4(Z22); \
	ZROUND4(Z23); \
	ZROUND4(Z24); \
	ZROUND4(Z25); \
	ZROUND4(Z26); \
	ZROUND4(Z27); \
	ZROUND4(Z28); \
	ZROUND4(Z29); \
	VAESENCLAST Z30, Z0, Z0; \
	VAESENCLAST Z30, Z1, Z1; \
	VAESENCLAST Z30, Z2, Z2; \
	VAESENCLAST Z30, Z3, Z3

#define ZAES1 \
	VPXORQ Z16, Z0, Z0; \
	VAESENC Z17, Z0, Z0; \
	VAESENC Z18, Z0, Z0; \
	VAESENC Z19, Z0, Z0; \
	VAESENC Z20, Z0, Z0; \
	VAESENC Z21, Z0, Z0; \
	VAESENC Z22, Z0, Z0; \
	VAESENC Z23, Z0, Z0; \
	VAESENC Z24, Z0, Z0; \
	VAESENC Z25, Z0, Z0; \
	VAESENC Z26, Z0, Z0; \
	VAESENC Z27, Z0, Z0; \
	VAESENC Z28, Z0, Z0; \
	VAESENC Z29, Z0, Z0; \
	VAESENCLAST Z30, Z0, Z0

// func ctrAVX512(rk *roundKeys, ctr *[16]byte, buf []byte)
TEXT ·ctrAVX512(SB), NOSPLIT, $0-40
	MOVQ rk+0(FP), AX
	MOVQ ctr+8(FP), BX
	MOVQ buf_base+16(FP), SI
	MOVQ buf_len+24(FP), CX
	VBROADCASTI32X4 0(AX), Z16
	VBROADCASTI32X4 16(AX), Z17
	VBROADCASTI32X4 32(AX), Z18
	VBROADCASTI32X4 48(AX), Z19
	VBROADCASTI32X4 64(AX), Z20
	VBROADCASTI32X4 80(AX), Z21
	VBROADCASTI32X4 96(AX), Z22
	VBROADCASTI32X4 112(AX), Z23
	VBROADCASTI32X4 128(AX), Z24
	VBROADCASTI32X4 144(AX), Z25
	VBROADCASTI32X4 160(AX), Z26
	VBROADCASTI32X4 176(AX), Z27
	VBROADCASTI32X4 192(AX), Z28
	VBROADCASTI32X4 208(AX), Z29
	VBROADCASTI32X4 224(AX), Z30
	VBROADCASTI32X4 zBswap<>(SB), Z15
	VBROADCASTI32X4 (BX), Z14
	VPSHUFB Z15, Z14, Z14          // byte-reversed: counter in the low word of each lane
	VPADDD zCtrInit<>(SB), Z14, Z14 // lanes hold counter+0..3
	VBROADCASTI32X4 zCtrFour<>(SB), Z13
	VPADDD Z13, Z13, Z12           // +8
	VPADDD Z13, Z12, Z11           // +12
	VPADDD Z12, Z12, Z10           // +16
	CMPQ CX, $256
	JB   ctr4

ctr16:
	VPADDD Z13, Z14, Z1
	VPADDD Z12, Z14, Z2
	VPADDD Z11, Z14, Z3
	VPSHUFB Z15, Z14, Z0
	VPSHUFB Z15, Z1, Z1
	VPSHUFB Z15, Z2, Z2
	VPSHUFB Z15, Z3, Z3
	VPADDD Z10, Z14, Z14
	ZAES4
	VPXORQ 0(SI), Z0, Z0
	VPXORQ 64(SI), Z1, Z1
	VPXORQ 128(SI), Z2, Z2
	VPXORQ 192(SI), Z3, Z3
	VMOVDQU64 Z0, 0(SI)
	VMOVDQU64 Z1, 64(SI)
	VMOVDQU64 Z2, 128(SI)
	VMOVDQU64 Z3, 192(SI)
	ADDQ $256, SI
	SUBQ $256, CX
	CMPQ CX, $256
	JAE  ctr16

ctr4:
	CMPQ CX, $64
	JB   ctrTail
	VPSHUFB Z15, Z14, Z0
	VPADDD Z13, Z14, Z14
	ZAES1
	VPXORQ 0(SI), Z0, Z0
	VMOVDQU64 Z0, 0(SI)
	ADDQ $64, SI
	SUBQ $64, CX
	JMP  ctr4

ctrTail:
	TESTQ CX, CX
	JZ    ctrDone
	MOVQ  $1, DX
	SHLQ  CX, DX
	DECQ  DX
	KMOVQ DX, K1
	VMOVDQU8.Z (SI), K1, Z1
	VPSHUFB Z15, Z14, Z0
	ZAES1
	VPXORQ Z1, Z0, Z0
	VMOVDQU8 Z0, K1, (SI)

ctrDone:
	VZEROUPPER
	RET

// GHASH macros. Values are byte-reversed (see ghash.go); X14 holds the
// reduction constant, Z15 the byte-reversal mask.

// ZMUL_FIRST starts the sums Z8 (low), Z9 (high), Z10 (middle) with the
// lane-wise Karatsuba products of data d, powers p and power terms k.
#define ZMUL_FIRST(p, k, d) \
	VPSHUFD $78, d, Z12; \
	VPXORQ d, Z12, Z12; \
	VPCLMULQDQ $0x00, p, d, Z8; \
	VPCLMULQDQ $0x11, p, d, Z9; \
	VPCLMULQDQ $0x00, k, Z12, Z10

// ZMUL adds the lane-wise Karatsuba products of d, p and k to the sums.
#define ZMUL(p, k, d) \
	VPSHUFD $78, d, Z12; \
	VPXORQ d, Z12, Z12; \
	VPCLMULQDQ $0x00, p, d, Z11; \
	VPXORQ Z11, Z8, Z8; \
	VPCLMULQDQ $0x11, p, d, Z11; \
	VPXORQ Z11, Z9, Z9; \
	VPCLMULQDQ $0x00, k, Z12, Z11; \
	VPXORQ Z11, Z10, Z10

// REDUCE_X reduces the 256-bit value X9:X8 into X0 (the low half is
// multiplied by alpha^64 twice, then the high half is added).
#define REDUCE_X \
	VPCLMULQDQ $0x01, X8, X14, X11; \
	VPSHUFD $78, X8, X8; \
	VPXOR X11, X8, X8; \
	VPCLMULQDQ $0x01, X8, X14, X11; \
	VPSHUFD $78, X8, X8; \
	VPXOR X11, X8, X8; \
	VPXOR X9, X8, X0

// ZFOLD completes the Karatsuba middle sum, adds it into the low and high
// sums and adds up the four lanes into X8 (low) and X9 (high).
#define ZFOLD \
	VPTERNLOGQ $0x96, Z8, Z9, Z10; \
	VPSLLDQ $8, Z10, Z11; \
	VPSRLDQ $8, Z10, Z10; \
	VPXORQ Z11, Z8, Z8; \
	VPXORQ Z10, Z9, Z9; \
	VEXTRACTI64X4 $1, Z8, Y11; \
	VEXTRACTI64X4 $1, Z9, Y12; \
	VPXOR Y11, Y8, Y8; \
	VPXOR Y12, Y9, Y9; \
	VEXTRACTI128 $1, Y8, X11; \
	VEXTRACTI128 $1, Y9, X12; \
	VPXOR X11, X8, X8; \
	VPXOR X12, X9, X9

// YMUL adds the running hash X0 times the power p into X9:X8. Keeping Y out
// of the lane products shortens the dependency chain from one group of
// blocks to the next to this multiplication and the reduction.
#define YMUL(p) \
	VPCLMULQDQ $0x00, p, X0, X11; \
	VPCLMULQDQ $0x11, p, X0, X12; \
	VPXOR X11, X8, X8; \
	VPXOR X12, X9, X9; \
	VPCLMULQDQ $0x01, p, X0, X11; \
	VPCLMULQDQ $0x10, p, X0, X12; \
	VPXOR X12, X11, X11; \
	VPSLLDQ $8, X11, X12; \
	VPSRLDQ $8, X11, X11; \
	VPXOR X12, X8, X8; \
	VPXOR X11, X9, X9

// XMUL1 sets X0 to X1 times the power in X3 (one block).
#define XMUL1 \
	VPCLMULQDQ $0x00, X3, X1, X8; \
	VPCLMULQDQ $0x11, X3, X1, X9; \
	VPCLMULQDQ $0x01, X3, X1, X10; \
	VPCLMULQDQ $0x10, X3, X1, X11; \
	VPXOR X11, X10, X10; \
	VPSLLDQ $8, X10, X11; \
	VPSRLDQ $8, X10, X10; \
	VPXOR X11, X8, X8; \
	VPXOR X10, X9, X9; \
	REDUCE_X

// func gmacAVX512(gk *ghashKey, rk0 *roundKeys, tag *[16]byte, hdr *[16]byte, payload []byte)
//
// On entry tag holds the GCM counter block J0; on return it holds the GCM tag
// over AAD = hdr || payload (empty plaintext): GHASH(AAD, zero padding, length
// block) XOR AES_K0(J0).
TEXT ·gmacAVX512(SB), NOSPLIT, $0-56
	MOVQ gk+0(FP), AX
	MOVQ rk0+8(FP), DX
	MOVQ tag+16(FP), BX
	MOVQ hdr+24(FP), DI
	MOVQ payload_base+32(FP), SI
	MOVQ payload_len+40(FP), CX
	MOVQ CX, R8

	// Tag mask AES_K0(J0) into X7; independent of the hashing below.
	VMOVDQU (BX), X7
	VPXOR 0(DX), X7, X7
	VAESENC 16(DX), X7, X7
	VAESENC 32(DX), X7, X7
	VAESENC 48(DX), X7, X7
	VAESENC 64(DX), X7, X7
	VAESENC 80(DX), X7, X7
	VAESENC 96(DX), X7, X7
	VAESENC 112(DX), X7, X7
	VAESENC 128(DX), X7, X7
	VAESENC 144(DX), X7, X7
	VAESENC 160(DX), X7, X7
	VAESENC 176(DX), X7, X7
	VAESENC 192(DX), X7, X7
	VAESENC 208(DX), X7, X7
	VAESENCLAST 224(DX), X7, X7

	VBROADCASTI32X4 zBswap<>(SB), Z15
	VMOVDQU zPoly<>(SB), X14
	VMOVDQU64 0(AX), Z16   // H^16..H^13
	VMOVDQU64 64(AX), Z17  // H^12..H^9
	VMOVDQU64 128(AX), Z18 // H^8..H^5
	VMOVDQU64 192(AX), Z19 // H^4..H^1
	VMOVDQU64 256(AX), Z20 // Karatsuba terms of the same powers
	VMOVDQU64 320(AX), Z21
	VMOVDQU64 384(AX), Z22
	VMOVDQU64 448(AX), Z23

	// Y = hdr * H
	VMOVDQU (DI), X1
	VPSHUFB X15, X1, X1
	VMOVDQU 240(AX), X3
	XMUL1

	CMPQ CX, $256
	JB   gm4

gm16:
	VMOVDQU64 0(SI), Z1
	VMOVDQU64 64(SI), Z2
	VMOVDQU64 128(SI), Z3
	VMOVDQU64 192(SI), Z4
	VPSHUFB Z15, Z1, Z1
	VPSHUFB Z15, Z2, Z2
	VPSHUFB Z15, Z3, Z3
	VPSHUFB Z15, Z4, Z4
	ZMUL_FIRST(Z16, Z20, Z1)
	ZMUL(Z17, Z21, Z2)
	ZMUL(Z18, Z22, Z3)
	ZMUL(Z19, Z23, Z4)
	ZFOLD
	YMUL(X16)
	REDUCE_X
	ADDQ $256, SI
	SUBQ $256, CX
	CMPQ CX, $256
	JAE  gm16

gm4:
	CMPQ CX, $64
	JB   gmTail
	VMOVDQU64 0(SI), Z1
	VPSHUFB Z15, Z1, Z1
	ZMUL_FIRST(Z19, Z23, Z1)
	ZFOLD
	YMUL(X19)
	REDUCE_X
	ADDQ $64, SI
	SUBQ $64, CX
	JMP  gm4

gmTail:
	// 1..63 bytes left: m = ceil(CX/16) zero-padded blocks in lanes 0..m-1,
	// multiplied by H^m..H^1 (pow[16-m:16], loaded with the lanes past
	// pow[15] masked off).
	TESTQ CX, CX
	JZ    gmLen
	MOVQ  $1, R9
	SHLQ  CX, R9
	DECQ  R9
	KMOVQ R9, K1
	VMOVDQU8.Z (SI), K1, Z1
	VPSHUFB Z15, Z1, Z1
	MOVQ  CX, R9
	ADDQ  $15, R9
	SHRQ  $4, R9            // m
	LEAQ  (R9)(R9*1), CX    // 2m quadwords (CX is free now)
	MOVQ  $1, R10
	SHLQ  CX, R10
	DECQ  R10
	KMOVQ R10, K2
	SHLQ  $4, R9            // 16m
	MOVQ  $256, R10
	SUBQ  R9, R10           // 16(16-m)
	VMOVDQU64.Z (AX)(R10*1), K2, Z5
	VMOVDQU64.Z 256(AX)(R10*1), K2, Z6
	ZMUL_FIRST(Z5, Z6, Z1)
	ZFOLD
	YMUL(X5)
	REDUCE_X

gmLen:
	// Length block: bit length of hdr || payload in the high half.
	ADDQ $16, R8
	SHLQ $3, R8
	VMOVQ R8, X1
	VPSLLDQ $8, X1, X1
	VPXOR X0, X1, X1
	VMOVDQU 240(AX), X3
	XMUL1

	VPSHUFB X15, X0, X0
	VPXOR X7, X0, X0
	VMOVDQU X0, (BX)
	VZEROUPPER
	RET
