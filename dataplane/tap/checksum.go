package tap

import (
	"encoding/binary"
	"math/bits"
)

// sum adds the bytes of b, as big-endian 16-bit words (a last odd byte is
// the high byte of a word), to the one's complement accumulator acc and
// returns the new, unfolded accumulator (RFC 1071). Words are added 64 bits
// at a time with end-around carry, which folds to the same 16-bit sum.
func sum(b []byte, acc uint64) uint64 {
	var c uint64
	for len(b) >= 32 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[8:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[16:]), c)
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b[24:]), c)
		b = b[32:]
	}
	for len(b) >= 8 {
		acc, c = bits.Add64(acc, binary.BigEndian.Uint64(b), c)
		b = b[8:]
	}
	if len(b) >= 4 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint32(b)), c)
		b = b[4:]
	}
	if len(b) >= 2 {
		acc, c = bits.Add64(acc, uint64(binary.BigEndian.Uint16(b)), c)
		b = b[2:]
	}
	if len(b) == 1 {
		acc, c = bits.Add64(acc, uint64(b[0])<<8, c)
	}
	acc, c = bits.Add64(acc, c, 0)
	return acc + c
}

// fold folds a one's complement accumulator to 16 bits.
func fold(acc uint64) uint16 {
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>32 + acc&0xffffffff
	acc = acc>>16 + acc&0xffff
	acc = acc>>16 + acc&0xffff
	return uint16(acc)
}

// pseudoSum is the unfolded sum of the TCP/UDP pseudo-header: source and
// destination addresses (both 4 or both 16 bytes), protocol and length.
func pseudoSum(proto uint8, src, dst []byte, length int) uint64 {
	acc := sum(src, 0)
	acc = sum(dst, acc)
	return acc + uint64(proto) + uint64(length)
}
