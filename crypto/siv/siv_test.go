package siv

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"sync"
	"testing"
)

// Appendix A of PROTOCOL.md: shared key K[i] = (7i+1) mod 256.
func appendixKey() *[SharedKeySize]byte {
	var k [SharedKeySize]byte
	for i := range k {
		k[i] = byte(7*i + 1)
	}
	return &k
}

// appendixPacket is the 65-byte plain packet of Appendix A: ID a0..a7, dest
// 1122334455, source 66778899aa, flags 00, MAC zero, verb 0x08, payload 00..24.
func appendixPacket() []byte {
	p := []byte{0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0x00}
	p = append(p, make([]byte, 8)...)
	p = append(p, 0x08)
	for i := range 0x25 {
		p = append(p, byte(i))
	}
	return p
}

const appendixSuite3 = "0c09616b8b066e17112233445566778899aa185e45ac18675e31dc3a9f15fcd1ce0e074933aaa1bea0a470da03f64ac5839348b5fbcdf0b29dc34dd5f0c603b3b5"

func TestDeriveKeysAppendixA(t *testing.T) {
	k0, _ := DeriveKeys(appendixKey())
	if got, want := hex.EncodeToString(k0[:]), "a3b1bfa6658fa0e468a31084226257220eafeea463cb0080e50eb7521cc94869"; got != want {
		t.Fatalf("K0 = %s, want %s", got, want)
	}
}

func TestArmorAppendixA(t *testing.T) {
	want := unhex(t, appendixSuite3)
	for name, c := range implementations(t, appendixKey()) {
		pkt := appendixPacket()
		if len(pkt) != 65 {
			t.Fatalf("packet length %d", len(pkt))
		}
		c.Armor(pkt)
		if !bytes.Equal(pkt, want) {
			t.Fatalf("%s: Armor =\n%x\nwant\n%x", name, pkt, want)
		}
		if !c.Dearmor(pkt) {
			t.Fatalf("%s: Dearmor of the vector failed", name)
		}
		plain := appendixPacket()
		if !bytes.Equal(pkt[PayloadOffset:], plain[PayloadOffset:]) {
			t.Fatalf("%s: Dearmor payload = %x", name, pkt[PayloadOffset:])
		}
		if !bytes.Equal(pkt[:PayloadOffset], want[:PayloadOffset]) {
			t.Fatalf("%s: Dearmor changed the header", name)
		}
	}
}

func TestArmorSetsCipherBits(t *testing.T) {
	for name, c := range implementations(t, appendixKey()) {
		pkt := appendixPacket()
		pkt[FlagsOffset] = 0x80 | 0x40 | 1<<3 // encrypted flag, fragmented, suite 1
		c.Armor(pkt)
		if got := pkt[FlagsOffset]; got != 0x40|Suite<<3 {
			t.Errorf("%s: flags %#02x, want %#02x", name, got, 0x40|Suite<<3)
		}
		if !c.Dearmor(pkt) {
			t.Errorf("%s: Dearmor failed", name)
		}
	}
}

func TestTamperFails(t *testing.T) {
	for name, c := range implementations(t, appendixKey()) {
		armored := appendixPacket()
		c.Armor(armored)
		for i := range armored {
			if i == FlagsOffset {
				continue // hops are tested separately
			}
			for _, bit := range []byte{0x01, 0x80} {
				pkt := bytes.Clone(armored)
				pkt[i] ^= bit
				if c.Dearmor(pkt) {
					t.Errorf("%s: flipping bit %#02x of byte %d verified", name, bit, i)
				}
			}
		}
		for _, bit := range []byte{0x08, 0x10, 0x20, 0x40, 0x80} {
			pkt := bytes.Clone(armored)
			pkt[FlagsOffset] ^= bit
			if c.Dearmor(pkt) {
				t.Errorf("%s: flipping flag bit %#02x verified", name, bit)
			}
		}
		pkt := bytes.Clone(armored)
		if c.Dearmor(pkt[:len(pkt)-1]) {
			t.Errorf("%s: truncated packet verified", name)
		}
		pkt = append(bytes.Clone(armored), 0)
		if c.Dearmor(pkt) {
			t.Errorf("%s: extended packet verified", name)
		}
		var other [SharedKeySize]byte
		other[0] = 1
		wrong, _ := New(&other)
		if wrong.Dearmor(bytes.Clone(armored)) {
			t.Errorf("%s: wrong key verified", name)
		}
	}
}

func TestHopsIgnored(t *testing.T) {
	for name, c := range implementations(t, appendixKey()) {
		armored := appendixPacket()
		c.Armor(armored)
		for h := range byte(8) {
			pkt := bytes.Clone(armored)
			pkt[FlagsOffset] |= h
			if !c.Dearmor(pkt) {
				t.Errorf("%s: hops=%d failed", name, h)
			}
		}
		// Armor with hops already set produces the same tag as with hops 0.
		pkt := appendixPacket()
		pkt[FlagsOffset] |= 5
		c.Armor(pkt)
		if pkt[FlagsOffset]&hopsMask != 5 {
			t.Errorf("%s: Armor changed hops", name)
		}
		pkt[FlagsOffset] &^= hopsMask
		if !bytes.Equal(pkt, armored) {
			t.Errorf("%s: hops changed the armored packet", name)
		}
	}
}

func TestShortPackets(t *testing.T) {
	for name, c := range implementations(t, appendixKey()) {
		for n := range HeaderSize {
			if c.Dearmor(make([]byte, n)) {
				t.Errorf("%s: %d-byte packet verified", name, n)
			}
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Armor of a short packet did not panic", name)
				}
			}()
			c.Armor(make([]byte, HeaderSize-1))
		}()
	}
}

func TestRoundTripSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	var shared [SharedKeySize]byte
	fill(r, shared[:])
	impls := implementations(t, &shared)
	for n := 0; n <= 3000; n++ {
		plain := make([]byte, HeaderSize+n)
		fill(r, plain)
		plain[FlagsOffset] = Suite << 3
		var ref []byte
		for name, c := range impls {
			pkt := bytes.Clone(plain)
			c.Armor(pkt)
			if ref == nil {
				ref = bytes.Clone(pkt)
			} else if !bytes.Equal(pkt, ref) {
				t.Fatalf("n=%d: implementations disagree", n)
			}
			if n >= 16 && bytes.Equal(pkt[PayloadOffset:], plain[PayloadOffset:]) {
				t.Fatalf("%s n=%d: payload not encrypted", name, n)
			}
			if !c.Dearmor(pkt) {
				t.Fatalf("%s n=%d: Dearmor failed", name, n)
			}
			if !bytes.Equal(pkt[PayloadOffset:], plain[PayloadOffset:]) {
				t.Fatalf("%s n=%d: round trip changed the payload", name, n)
			}
			if !bytes.Equal(pkt[DestOffset:TagOffset], plain[DestOffset:TagOffset]) {
				t.Fatalf("%s n=%d: round trip changed the header", name, n)
			}
		}
	}
}

func TestConcurrent(t *testing.T) {
	c, err := New(appendixKey())
	if err != nil {
		t.Fatal(err)
	}
	want := unhex(t, appendixSuite3)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 11))
			for range 500 {
				pkt := appendixPacket()
				c.Armor(pkt)
				if !bytes.Equal(pkt, want) {
					t.Error("concurrent Armor mismatch")
					return
				}
				big := make([]byte, HeaderSize+r.IntN(2000))
				fill(r, big)
				c.Armor(big)
				if !c.Dearmor(big) {
					t.Error("concurrent round trip failed")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestAllocations(t *testing.T) {
	if !useAsm {
		t.Skip("the standard-library path allocates inside cipher.NewCTR")
	}
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("allocation counts are not meaningful under -cover or -race")
	}
	for name, c := range implementations(t, appendixKey()) {
		if c.fast == nil {
			continue
		}
		pkt := make([]byte, 1400)
		for _, n := range []int{HeaderSize, 65, 1400} {
			p := pkt[:n]
			if a := testing.AllocsPerRun(100, func() { c.Armor(p) }); a != 0 {
				t.Errorf("%s: Armor(%d bytes): %v allocations", name, n, a)
			}
			c.Armor(p)
			if a := testing.AllocsPerRun(100, func() { c.Dearmor(p) }); a != 0 {
				t.Errorf("%s: Dearmor(%d bytes): %v allocations", name, n, a)
			}
		}
	}
}
