package siv

import "encoding/binary"

// fastKeys is the per-key state of the assembly path.
type fastKeys struct {
	k0    roundKeys // AES-256 K0 (GMAC tag mask)
	k1    roundKeys // AES-256 K1 (tag block, CTR)
	k1dec roundKeys // K1 decryption schedule
	gh    ghashKey  // powers of H = AES_K0(0)

	avx512 bool // use the AVX-512 (VAES, VPCLMULQDQ) routines
}

func newFastKeys(k0, k1 *[KeySize]byte, avx512 bool) *fastKeys {
	f := &fastKeys{k0: expandKey256(k0), k1: expandKey256(k1), avx512: avx512}
	f.k1dec = decryptionKeys(&f.k1)
	var h [16]byte
	encryptBlock(&f.k0, &h, &h)
	f.gh = newGHASHKey(&h)
	clear(h[:])
	return f
}

// gmac computes the GCM tag (K0, nonce iv||00000000, empty plaintext) over
// A = pkt[8:19] with hops masked || 5 zero bytes || pkt[27:].
func (f *fastKeys) gmac(t *[16]byte, pkt []byte, iv *[8]byte) {
	var hdr [16]byte
	copy(hdr[:11], pkt[DestOffset:FlagsOffset+1])
	hdr[10] &^= hopsMask
	if f.avx512 {
		*t = [16]byte{}
		copy(t[:8], iv[:])
		t[15] = 1
		gmacAVX512(&f.gh, &f.k0, t, &hdr, pkt[PayloadOffset:])
		return
	}

	var y [16]byte
	ghashBlocks(&f.gh, &y, &hdr[0], 1)

	payload := pkt[PayloadOffset:]
	n := len(payload) / 16
	if n > 0 {
		ghashBlocks(&f.gh, &y, &payload[0], n)
	}
	// Zero-padded last partial block, then the length block
	// BE64(bits of A) || BE64(0).
	var last [32]byte
	k := 0
	if rem := payload[n*16:]; len(rem) > 0 {
		copy(last[:], rem)
		k = 16
	}
	binary.BigEndian.PutUint64(last[k:], uint64(16+len(payload))*8)
	ghashBlocks(&f.gh, &y, &last[0], k/16+1)

	var j0 [16]byte
	copy(j0[:8], iv[:])
	j0[15] = 1
	encryptBlock(&f.k0, &j0, &j0)
	for i := range 16 {
		t[i] = y[i] ^ j0[i]
	}
}

// ctr XORs buf in place with the K1 CTR keystream starting at counter block
// iv (32-bit big-endian counter in bytes 12..15).
func (f *fastKeys) ctr(iv *[16]byte, buf []byte) {
	if f.avx512 {
		ctrAVX512(&f.k1, iv, buf)
		return
	}
	n := len(buf) / 16
	if n > 0 {
		ctrBlocks(&f.k1, iv, &buf[0], n)
	}
	if rem := buf[n*16:]; len(rem) > 0 {
		var b [16]byte
		copy(b[:], rem)
		c := *iv
		binary.BigEndian.PutUint32(c[12:], binary.BigEndian.Uint32(c[12:])+uint32(n))
		ctrBlocks(&f.k1, &c, &b[0], 1)
		copy(rem, b[:])
	}
}
