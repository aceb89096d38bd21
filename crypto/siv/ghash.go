package siv

import "encoding/binary"

// GHASH key precomputation for the assembly path.
//
// A 16-byte GHASH block b is handled as the 128-bit integer with the bytes
// reversed ("reflected": hi = BE64(b[0:8]), lo = BE64(b[8:16])). In this form
// the carry-less product of two values represents alpha*a*b, so the stored
// powers of H are pre-divided by alpha: key[k] = H^k * alpha^-1. The product
// of two stored powers is then again a stored power, and the product of a
// data block with a stored power is the field product with H^k. Reduction
// folds the low 128 bits twice with the constant 0xc2 << 56 (see reduce).

type u128 struct{ lo, hi uint64 }

// ghashKey holds the powers of H for the assembly GHASH, highest first:
// pow[j] = H^(16-j) * alpha^-1, stored little-endian (lo then hi); kar[j]
// holds pow[j].lo ^ pow[j].hi in both halves (Karatsuba middle term).
type ghashKey struct {
	pow [16][16]byte
	kar [16][16]byte
}

const ghashPolyHi = 0xc2 << 56

// clmul64 is a constant-time carry-less 64x64 -> 128-bit multiplication.
func clmul64(a, b uint64) (lo, hi uint64) {
	for i := range 64 {
		m := -(b >> i & 1)
		lo ^= a << i & m
		hi ^= a >> (64 - i) & m
	}
	return lo, hi
}

// mulReflected returns the reduced carry-less product of a and b, the same
// operation the assembly performs.
func mulReflected(a, b u128) u128 {
	l0, l1 := clmul64(a.lo, b.lo)
	h0, h1 := clmul64(a.hi, b.hi)
	m0, m1 := clmul64(a.lo, b.hi)
	n0, n1 := clmul64(a.hi, b.lo)
	m0 ^= n0
	m1 ^= n1
	z0, z1, z2, z3 := l0, l1^m0, h0^m1, h1
	// Each round multiplies the low half by alpha^64 modulo the GCM polynomial.
	for range 2 {
		t0, t1 := clmul64(z0, ghashPolyHi)
		z0, z1 = z1^t0, z0^t1
	}
	return u128{lo: z0 ^ z2, hi: z1 ^ z3}
}

func toReflected(b *[16]byte) u128 {
	return u128{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:])}
}

func (x u128) put(b []byte) {
	binary.LittleEndian.PutUint64(b[:8], x.lo)
	binary.LittleEndian.PutUint64(b[8:16], x.hi)
}

// newGHASHKey precomputes the powers of the hash subkey h = AES_K0(0^128).
func newGHASHKey(h *[16]byte) ghashKey {
	x := toReflected(h)
	// Divide by alpha: shift left one bit; the bit shifted out stands for
	// alpha^-1 = alpha^127 + alpha^6 + alpha + 1 (reflected 0xc2...01).
	carry := -(x.hi >> 63)
	k1 := u128{lo: x.lo<<1 ^ 1&carry, hi: (x.hi<<1 | x.lo>>63) ^ ghashPolyHi&carry}
	var gk ghashKey
	p := k1
	for k := 1; k <= 16; k++ {
		j := 16 - k
		p.put(gk.pow[j][:])
		m := p.lo ^ p.hi
		binary.LittleEndian.PutUint64(gk.kar[j][:8], m)
		binary.LittleEndian.PutUint64(gk.kar[j][8:], m)
		p = mulReflected(p, k1)
	}
	return gk
}
