package siv

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"math/rand/v2"
	"testing"
)

func TestSubByte(t *testing.T) {
	for _, c := range []struct{ in, out byte }{{0x00, 0x63}, {0x01, 0x7c}, {0x53, 0xed}, {0xff, 0x16}} {
		if got := subByte(c.in); got != c.out {
			t.Errorf("subByte(%#x) = %#x, want %#x", c.in, got, c.out)
		}
	}
}

func TestKeyScheduleMatchesStdlib(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly on this platform")
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		var key [32]byte
		var in, enc, dec [16]byte
		fill(r, key[:])
		fill(r, in[:])
		rk := expandKey256(&key)
		dk := decryptionKeys(&rk)
		b, _ := aes.NewCipher(key[:])
		var want [16]byte
		b.Encrypt(want[:], in[:])
		encryptBlock(&rk, &enc, &in)
		if enc != want {
			t.Fatalf("encryptBlock = %x, want %x", enc, want)
		}
		decryptBlock(&dk, &dec, &enc)
		if dec != in {
			t.Fatalf("decryptBlock = %x, want %x", dec, in)
		}
	}
}

func TestCTRMatchesStdlib(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly on this platform")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n <= 700; n++ {
		var k0, k1 [32]byte
		var iv [16]byte
		fill(r, k1[:])
		fill(r, iv[:])
		iv[12] &= 0x7f
		buf := make([]byte, n)
		fill(r, buf)
		want := bytes.Clone(buf)
		b, _ := aes.NewCipher(k1[:])
		cipher.NewCTR(b, iv[:]).XORKeyStream(want, want)
		for _, avx512 := range []bool{false, useAVX512} {
			f := newFastKeys(&k0, &k1, avx512)
			got := bytes.Clone(buf)
			// Extra capacity must stay untouched by masked stores.
			guard := append(got, 0xee, 0xee, 0xee, 0xee)[:n]
			f.ctr(&iv, guard)
			if !bytes.Equal(guard, want) {
				t.Fatalf("avx512=%v n=%d: CTR mismatch", avx512, n)
			}
			if g := guard[n : n+4]; !bytes.Equal(g, []byte{0xee, 0xee, 0xee, 0xee}) {
				t.Fatalf("avx512=%v n=%d: wrote past the end: %x", avx512, n, g)
			}
		}
	}
}

func TestGHASHMatchesReference(t *testing.T) {
	if !useAsm {
		t.Skip("no assembly on this platform")
	}
	r := rand.New(rand.NewPCG(5, 6))
	for nb := 0; nb <= 40; nb++ {
		var h, y [16]byte
		fill(r, h[:])
		fill(r, y[:])
		gk := newGHASHKey(&h)
		data := make([]byte, 16*nb)
		fill(r, data)
		want := y
		ghashReference(&gk, &want, data)
		got := y
		if nb > 0 {
			ghashBlocks(&gk, &got, &data[0], nb)
		}
		if got != want {
			t.Fatalf("%d blocks: got %x, want %x", nb, got, want)
		}
	}
}

// TestGMACMatchesGCM checks both GMAC implementations against AES-GCM with
// an empty plaintext and the AAD laid out by hand.
func TestGMACMatchesGCM(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for n := HeaderSize; n < HeaderSize+1100; n++ {
		var shared [48]byte
		fill(r, shared[:])
		k0, _ := DeriveKeys(&shared)
		pkt := make([]byte, n)
		fill(r, pkt)
		var iv [8]byte
		fill(r, iv[:])

		aad := make([]byte, 0, n)
		aad = append(aad, pkt[8:19]...)
		aad[10] &^= hopsMask
		aad = append(aad, 0, 0, 0, 0, 0)
		aad = append(aad, pkt[27:]...)
		b, _ := aes.NewCipher(k0[:])
		g, _ := cipher.NewGCM(b)
		want := g.Seal(nil, append(iv[:], 0, 0, 0, 0), nil, aad)

		orig := bytes.Clone(pkt)
		for name, c := range implementations(t, &shared) {
			var tag [16]byte
			c.gmac(&tag, pkt, &iv)
			if !bytes.Equal(tag[:], want) {
				t.Fatalf("%s n=%d: tag %x, want %x", name, n, tag, want)
			}
			if !bytes.Equal(pkt, orig) {
				t.Fatalf("%s n=%d: gmac modified the packet", name, n)
			}
		}
	}
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}
