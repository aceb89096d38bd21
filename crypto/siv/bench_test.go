package siv

import (
	"crypto/rand"
	"testing"
)

const benchSize = 1400 // whole packet, header included

func benchCiphers(b *testing.B, f func(b *testing.B, c *Cipher)) {
	var shared [SharedKeySize]byte
	rand.Read(shared[:])
	for name, c := range implementations(b, &shared) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(benchSize)
			b.ReportAllocs()
			f(b, c)
		})
	}
}

func BenchmarkArmor(b *testing.B) {
	benchCiphers(b, func(b *testing.B, c *Cipher) {
		pkt := make([]byte, benchSize)
		rand.Read(pkt)
		for b.Loop() {
			c.Armor(pkt)
		}
	})
}

func BenchmarkDearmor(b *testing.B) {
	benchCiphers(b, func(b *testing.B, c *Cipher) {
		pkt := make([]byte, benchSize)
		rand.Read(pkt)
		c.Armor(pkt)
		for b.Loop() {
			// Dearmor decrypts in place; a failed tag still does the full work,
			// so the packet need not be re-armored between iterations.
			c.Dearmor(pkt)
		}
	})
}

func BenchmarkArmorDearmor(b *testing.B) {
	benchCiphers(b, func(b *testing.B, c *Cipher) {
		pkt := make([]byte, benchSize)
		rand.Read(pkt)
		for b.Loop() {
			c.Armor(pkt)
			if !c.Dearmor(pkt) {
				b.Fatal("Dearmor failed")
			}
		}
	})
}

func BenchmarkNew(b *testing.B) {
	var shared [SharedKeySize]byte
	rand.Read(shared[:])
	b.ReportAllocs()
	for b.Loop() {
		New(&shared)
	}
}
