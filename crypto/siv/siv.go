package siv

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
)

// Packet offsets (see the package documentation).
const (
	IVOffset      = 0
	DestOffset    = 8
	SourceOffset  = 13
	FlagsOffset   = 18
	TagOffset     = 19
	PayloadOffset = 27

	// HeaderSize is the smallest packet Armor and Dearmor accept.
	HeaderSize = PayloadOffset

	// SharedKeySize is the size of a peer's shared key.
	SharedKeySize = 48
	// KeySize is the size of K0 and K1.
	KeySize = 32

	// Suite is the cipher suite number of AES-GMAC-SIV in the flags byte.
	Suite = 3
)

const (
	flagEncrypted = 0x80 // legacy "encrypted" flag, only set for suite 1
	cipherMask    = 0x38
	hopsMask      = 0x07
)

// Cipher holds the per-peer AES-GMAC-SIV state for both directions. It is
// immutable after New and safe for concurrent use by many goroutines, each
// working on its own packet buffer (Armor and Dearmor may temporarily rewrite
// header bytes of the packet they are given and restore them before
// returning).
type Cipher struct {
	fast *fastKeys // assembly path; nil when unavailable

	// Standard-library path, used when fast is nil.
	gcm cipher.AEAD  // AES-256-GCM keyed with K0, used as a GMAC
	k1  cipher.Block // AES-256 keyed with K1
}

// New derives K0 and K1 from a peer's 48-byte shared key and precomputes
// the per-key state.
func New(shared *[SharedKeySize]byte) (*Cipher, error) {
	k0, k1 := DeriveKeys(shared)
	defer clear(k0[:])
	defer clear(k1[:])
	return newFromKeys(&k0, &k1)
}

// newFromKeys builds a Cipher from already derived K0 and K1.
func newFromKeys(k0, k1 *[KeySize]byte) (*Cipher, error) {
	if useAsm {
		return &Cipher{fast: newFastKeys(k0, k1, useAVX512)}, nil
	}
	return newGeneric(k0, k1)
}

func newGeneric(k0, k1 *[KeySize]byte) (*Cipher, error) {
	b0, err := aes.NewCipher(k0[:])
	if err != nil {
		return nil, fmt.Errorf("siv: K0: %w", err)
	}
	b1, err := aes.NewCipher(k1[:])
	if err != nil {
		return nil, fmt.Errorf("siv: K1: %w", err)
	}
	g, err := cipher.NewGCM(b0)
	if err != nil {
		return nil, fmt.Errorf("siv: GCM: %w", err)
	}
	return &Cipher{gcm: g, k1: b1}, nil
}

// Armor encrypts and authenticates a whole packet in place. The caller has
// written a fresh random IV to pkt[0:8] and the addresses and flags to
// pkt[8:19]; Armor sets the cipher bits to 3 and clears the legacy encrypted
// flag (0x80) in byte 18, keeps the fragmented flag and the hops (which are
// not authenticated), encrypts pkt[27:] and writes the tag halves to pkt[0:8]
// and pkt[19:27].
//
// Armor panics if len(pkt) < HeaderSize.
func (c *Cipher) Armor(pkt []byte) {
	if len(pkt) < HeaderSize {
		panic("siv: Armor: packet shorter than header")
	}
	pkt[FlagsOffset] = pkt[FlagsOffset]&^(flagEncrypted|cipherMask) | Suite<<3

	var t [16]byte
	c.gmac(&t, pkt, (*[8]byte)(pkt[IVOffset:]))

	var s [16]byte
	copy(s[:8], pkt[IVOffset:IVOffset+8])
	for i := range 8 {
		s[8+i] = t[i] ^ t[8+i]
	}
	c.encryptK1(&s)
	c.ctr(&s, pkt[PayloadOffset:])
	copy(pkt[IVOffset:IVOffset+8], s[:8])
	copy(pkt[TagOffset:TagOffset+8], s[8:])
}

// Dearmor decrypts pkt[27:] in place and reports whether the tag verified.
// The hops bits of byte 18 are ignored. Header bytes are left as received.
// Packets shorter than HeaderSize return false. On failure the content of
// pkt[27:] is unspecified (it must not be used).
func (c *Cipher) Dearmor(pkt []byte) bool {
	if len(pkt) < HeaderSize {
		return false
	}
	var s [16]byte
	copy(s[:8], pkt[IVOffset:IVOffset+8])
	copy(s[8:], pkt[TagOffset:TagOffset+8])
	c.ctr(&s, pkt[PayloadOffset:])

	p := s
	c.decryptK1(&p)
	var t [16]byte
	c.gmac(&t, pkt, (*[8]byte)(p[:8]))
	var want [8]byte
	for i := range 8 {
		want[i] = t[i] ^ t[8+i]
	}
	return subtle.ConstantTimeCompare(want[:], p[8:]) == 1
}

// gmac computes the 16-byte GMAC tag (keyed with K0, nonce iv||00000000)
// over A = pkt[8:19] with hops masked || 5 zero bytes || pkt[27:].
func (c *Cipher) gmac(t *[16]byte, pkt []byte, iv *[8]byte) {
	if c.fast != nil {
		c.fast.gmac(t, pkt, iv)
		return
	}
	c.gmacGeneric(t, pkt, iv)
}

// encryptK1 encrypts one block in place with K1.
func (c *Cipher) encryptK1(b *[16]byte) {
	if c.fast != nil {
		encryptBlock(&c.fast.k1, b, b)
		return
	}
	c.blockGeneric(b, false)
}

// decryptK1 decrypts one block in place with K1.
func (c *Cipher) decryptK1(b *[16]byte) {
	if c.fast != nil {
		decryptBlock(&c.fast.k1dec, b, b)
		return
	}
	c.blockGeneric(b, true)
}

// ctr XORs buf with the AES-256-CTR keystream of K1, counter block s with
// bit 7 of byte 12 cleared.
func (c *Cipher) ctr(s *[16]byte, buf []byte) {
	iv := *s
	iv[12] &= 0x7f
	if c.fast != nil {
		c.fast.ctr(&iv, buf)
		return
	}
	c.ctrGeneric(&iv, buf)
}
