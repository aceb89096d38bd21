package packet

import (
	"math/rand/v2"
	"testing"
)

// benchSize is the packet size of the armor benchmarks: a typical full
// datagram.
const benchSize = 1400

func benchPacket(b *testing.B) (*Key, Packet) {
	r := rand.New(rand.NewPCG(1, 2))
	return randomKey(b, r), randomPacket(r, benchSize-MinPacketLength)
}

func benchmarkArmor(b *testing.B, suite Suite) {
	k, p := benchPacket(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Armor(p, suite); err != nil {
			b.Fatal(err)
		}
	}
}

// benchmarkDearmor copies an armored packet into the work buffer each time
// (Dearmor decrypts in place); the copy is a small part of the cost.
func benchmarkDearmor(b *testing.B, suite Suite) {
	k, armored := benchPacket(b)
	if err := k.Armor(armored, suite); err != nil {
		b.Fatal(err)
	}
	p := make(Packet, len(armored))
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		copy(p, armored)
		if err := k.Dearmor(p); err != nil {
			b.Fatal(err)
		}
	}
}

func benchmarkRoundTrip(b *testing.B, suite Suite) {
	k, p := benchPacket(b)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if err := k.Armor(p, suite); err != nil {
			b.Fatal(err)
		}
		if err := k.Dearmor(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArmorSuite0(b *testing.B)     { benchmarkArmor(b, SuitePoly1305None) }
func BenchmarkArmorSuite1(b *testing.B)     { benchmarkArmor(b, SuitePoly1305Salsa2012) }
func BenchmarkArmorSuite3(b *testing.B)     { benchmarkArmor(b, SuiteAESGMACSIV) }
func BenchmarkDearmorSuite1(b *testing.B)   { benchmarkDearmor(b, SuitePoly1305Salsa2012) }
func BenchmarkDearmorSuite3(b *testing.B)   { benchmarkDearmor(b, SuiteAESGMACSIV) }
func BenchmarkRoundTripSuite1(b *testing.B) { benchmarkRoundTrip(b, SuitePoly1305Salsa2012) }
func BenchmarkRoundTripSuite3(b *testing.B) { benchmarkRoundTrip(b, SuiteAESGMACSIV) }

func BenchmarkCompress(b *testing.B) {
	var c Compressor
	src := textPacket(benchSize - MinPacketLength)
	buf := make(Packet, 0, MaxPacketLength)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		c.Compress(append(buf[:0], src...))
	}
}

func BenchmarkDecompress(b *testing.B) {
	p := Compress(textPacket(benchSize - MinPacketLength))
	out := make([]byte, 0, MaxPacketLength)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendDecompressed(out, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReassembly: one 9000-byte packet in 7 pieces per iteration.
func BenchmarkReassembly(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 4))
	_, pieces := armoredPieces(b, r, randomKey(b, r), 9000, DefaultPhysMTU)
	var q Queue
	out := make([]byte, 0, MaxPacketLength)
	b.SetBytes(9000)
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range pieces {
			q.Add(out, p, 0)
		}
	}
}
