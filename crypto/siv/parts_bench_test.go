package siv

import (
	"fmt"
	"testing"
)

// Benchmarks of the assembly building blocks, for tuning.

var partSizes = []int{0, 256, 1373, 4096}

func benchFast(b *testing.B, avx512 bool) *fastKeys {
	if !useAsm || avx512 && !useAVX512 {
		b.Skip("not available on this machine")
	}
	var k0, k1 [32]byte
	return newFastKeys(&k0, &k1, avx512)
}

func BenchmarkPartGMAC(b *testing.B) {
	for _, avx512 := range []bool{false, true} {
		for _, n := range partSizes {
			b.Run(fmt.Sprintf("avx512=%v/%d", avx512, n), func(b *testing.B) {
				f := benchFast(b, avx512)
				pkt := make([]byte, PayloadOffset+n)
				var iv [8]byte
				var tag [16]byte
				b.SetBytes(int64(n))
				for b.Loop() {
					f.gmac(&tag, pkt, &iv)
				}
			})
		}
	}
}

func BenchmarkPartCTR(b *testing.B) {
	for _, avx512 := range []bool{false, true} {
		for _, n := range partSizes {
			b.Run(fmt.Sprintf("avx512=%v/%d", avx512, n), func(b *testing.B) {
				f := benchFast(b, avx512)
				buf := make([]byte, n)
				var iv [16]byte
				b.SetBytes(int64(n))
				for b.Loop() {
					f.ctr(&iv, buf)
				}
			})
		}
	}
}

func BenchmarkPartBlock(b *testing.B) {
	f := benchFast(b, false)
	var blk [16]byte
	for b.Loop() {
		encryptBlock(&f.k1, &blk, &blk)
	}
}
