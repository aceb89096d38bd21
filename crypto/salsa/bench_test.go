package salsa

import (
	"fmt"
	"testing"
)

var benchSizes = []int{64, 1400, 8192}

// BenchmarkXORKeyStream measures repeated calls of one size on a
// continuing stream with the implementation chosen for this machine.
// The 64-byte case is the identity proof-of-work pattern.
func BenchmarkXORKeyStream(b *testing.B) {
	for _, rounds := range []int{12, 20} {
		for _, size := range benchSizes {
			b.Run(fmt.Sprintf("R%d/%d", rounds, size), func(b *testing.B) {
				benchXOR(b, impl, rounds, size)
			})
		}
	}
}

// BenchmarkImpl measures each available bulk implementation.
func BenchmarkImpl(b *testing.B) {
	for _, im := range append([]int{implGeneric}, vectorImpls()...) {
		for _, rounds := range []int{12, 20} {
			for _, size := range benchSizes {
				b.Run(fmt.Sprintf("%s/R%d/%d", implNames[im], rounds, size), func(b *testing.B) {
					benchXOR(b, im, rounds, size)
				})
			}
		}
	}
}

func benchXOR(b *testing.B, im, rounds, size int) {
	var key [32]byte
	iv := make([]byte, 8)
	buf := make([]byte, size)
	c := New(&key, iv, rounds)
	b.SetBytes(int64(size))
	for b.Loop() {
		c.xorKeyStream(im, buf, buf)
	}
}

// BenchmarkPacket measures the Salsa20/12 part of armoring one packet:
// Init, one block for the MAC key, then the payload.
func BenchmarkPacket(b *testing.B) {
	for _, size := range []int{100, 1400} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			var key [32]byte
			iv := make([]byte, 8)
			var mac [64]byte
			buf := make([]byte, size)
			b.SetBytes(int64(size))
			for b.Loop() {
				var c Cipher
				c.Init(&key, iv, 12)
				c.XORKeyStream(mac[:], mac[:])
				c.XORKeyStream(buf, buf)
			}
		})
	}
}
