package salsa

import (
	"crypto/subtle"
	"encoding/binary"
	"math/bits"
)

// coreGeneric computes the Salsa20 block function of in with the given
// (even) number of rounds and returns the 16 keystream words.
func coreGeneric(in *[16]uint32, rounds int) [16]uint32 {
	x0, x1, x2, x3 := in[0], in[1], in[2], in[3]
	x4, x5, x6, x7 := in[4], in[5], in[6], in[7]
	x8, x9, x10, x11 := in[8], in[9], in[10], in[11]
	x12, x13, x14, x15 := in[12], in[13], in[14], in[15]

	for i := 0; i < rounds; i += 2 {
		// Column round: the four columns are independent.
		x4 ^= bits.RotateLeft32(x0+x12, 7)
		x9 ^= bits.RotateLeft32(x5+x1, 7)
		x14 ^= bits.RotateLeft32(x10+x6, 7)
		x3 ^= bits.RotateLeft32(x15+x11, 7)

		x8 ^= bits.RotateLeft32(x4+x0, 9)
		x13 ^= bits.RotateLeft32(x9+x5, 9)
		x2 ^= bits.RotateLeft32(x14+x10, 9)
		x7 ^= bits.RotateLeft32(x3+x15, 9)

		x12 ^= bits.RotateLeft32(x8+x4, 13)
		x1 ^= bits.RotateLeft32(x13+x9, 13)
		x6 ^= bits.RotateLeft32(x2+x14, 13)
		x11 ^= bits.RotateLeft32(x7+x3, 13)

		x0 ^= bits.RotateLeft32(x12+x8, 18)
		x5 ^= bits.RotateLeft32(x1+x13, 18)
		x10 ^= bits.RotateLeft32(x6+x2, 18)
		x15 ^= bits.RotateLeft32(x11+x7, 18)

		// Row round: the four rows are independent.
		x1 ^= bits.RotateLeft32(x0+x3, 7)
		x6 ^= bits.RotateLeft32(x5+x4, 7)
		x11 ^= bits.RotateLeft32(x10+x9, 7)
		x12 ^= bits.RotateLeft32(x15+x14, 7)

		x2 ^= bits.RotateLeft32(x1+x0, 9)
		x7 ^= bits.RotateLeft32(x6+x5, 9)
		x8 ^= bits.RotateLeft32(x11+x10, 9)
		x13 ^= bits.RotateLeft32(x12+x15, 9)

		x3 ^= bits.RotateLeft32(x2+x1, 13)
		x4 ^= bits.RotateLeft32(x7+x6, 13)
		x9 ^= bits.RotateLeft32(x8+x11, 13)
		x14 ^= bits.RotateLeft32(x13+x12, 13)

		x0 ^= bits.RotateLeft32(x3+x2, 18)
		x5 ^= bits.RotateLeft32(x4+x7, 18)
		x10 ^= bits.RotateLeft32(x9+x8, 18)
		x15 ^= bits.RotateLeft32(x14+x13, 18)
	}

	return [16]uint32{
		x0 + in[0], x1 + in[1], x2 + in[2], x3 + in[3],
		x4 + in[4], x5 + in[5], x6 + in[6], x7 + in[7],
		x8 + in[8], x9 + in[9], x10 + in[10], x11 + in[11],
		x12 + in[12], x13 + in[13], x14 + in[14], x15 + in[15],
	}
}

// xorKeyStreamGeneric is the portable bulk path. It requires
// len(dst) == len(src) > 0 and no buffered keystream in c: whole blocks are
// XORed directly and a final partial block goes through c.buf.
func xorKeyStreamGeneric(c *Cipher, dst, src []byte) {
	le := binary.LittleEndian
	for len(src) >= blockSize {
		ks := coreGeneric(&c.state, c.rounds)
		incCounter(&c.state, 1)
		d, s := dst[:blockSize], src[:blockSize]
		for i, w := range ks {
			le.PutUint32(d[4*i:], le.Uint32(s[4*i:])^w)
		}
		dst, src = dst[blockSize:], src[blockSize:]
	}
	if len(src) > 0 {
		ks := coreGeneric(&c.state, c.rounds)
		incCounter(&c.state, 1)
		for i, w := range ks {
			le.PutUint32(c.buf[4*i:], w)
		}
		c.off = subtle.XORBytes(dst, src, c.buf[:blockSize])
		c.end = blockSize
	}
}
