package salsa

import (
	"crypto/subtle"
	"encoding/binary"
	"unsafe"
)

// The four "expand 32-byte k" constant words, little-endian.
const (
	sigma0 = 0x61707865 // "expa"
	sigma1 = 0x3320646e // "nd 3"
	sigma2 = 0x79622d32 // "2-by"
	sigma3 = 0x6b206574 // "te k"
)

// blockSize is the size in bytes of one Salsa20 keystream block.
const blockSize = 64

// bufSize is the size of the keystream buffer: one group of the widest
// parallel implementation (8 blocks).
const bufSize = 8 * blockSize

// Cipher is a Salsa20 stream cipher instance with a continuing keystream.
//
// A Cipher contains no pointers, so it may live on the stack or be embedded
// in other values and reused with Init. The zero value is not usable until
// Init is called. A Cipher must not be used concurrently.
type Cipher struct {
	// state is the Salsa20 input matrix; words 8 and 9 hold the 64-bit
	// block counter of the next block to be generated.
	state  [16]uint32
	rounds int
	// buf[off:end] is keystream that was generated but not yet used.
	off, end int
	buf      [bufSize]byte
}

// New returns a Cipher for the 32-byte key, the 8-byte iv (nonce) and the
// given number of rounds (12 or 20), positioned at keystream byte 0.
// It panics if len(iv) != 8 or rounds is not 12 or 20.
func New(key *[32]byte, iv []byte, rounds int) *Cipher {
	c := new(Cipher)
	c.Init(key, iv, rounds)
	return c
}

// Init (re)initializes c for the 32-byte key, the 8-byte iv (nonce) and the
// given number of rounds (12 or 20), positioned at keystream byte 0.
// It panics if len(iv) != 8 or rounds is not 12 or 20.
func (c *Cipher) Init(key *[32]byte, iv []byte, rounds int) {
	if len(iv) != 8 {
		panic("salsa: iv must be 8 bytes")
	}
	if rounds != 12 && rounds != 20 {
		panic("salsa: rounds must be 12 or 20")
	}
	le := binary.LittleEndian
	c.state = [16]uint32{
		sigma0,
		le.Uint32(key[0:]), le.Uint32(key[4:]), le.Uint32(key[8:]), le.Uint32(key[12:]),
		sigma1,
		le.Uint32(iv[0:]), le.Uint32(iv[4:]),
		0, 0, // block counter, low word first
		sigma2,
		le.Uint32(key[16:]), le.Uint32(key[20:]), le.Uint32(key[24:]), le.Uint32(key[28:]),
		sigma3,
	}
	c.rounds = rounds
	c.off, c.end = 0, 0
}

// XORKeyStream XORs src with the keystream into dst. dst must be at least
// as long as src; dst and src may overlap only exactly (dst == src for
// in-place use). The keystream continues across calls, including across
// partial blocks. It panics if c was never initialized.
func (c *Cipher) XORKeyStream(dst, src []byte) {
	c.xorKeyStream(impl, dst, src)
}

// xorKeyStream is XORKeyStream with the bulk implementation im.
func (c *Cipher) xorKeyStream(im int, dst, src []byte) {
	if len(dst) < len(src) {
		panic("salsa: output smaller than input")
	}
	if len(src) == 0 {
		return
	}
	dst = dst[:len(src)]
	if inexactOverlap(dst, src) {
		panic("salsa: invalid buffer overlap")
	}
	if c.rounds == 0 {
		panic("salsa: Cipher used before Init")
	}
	if c.off < c.end {
		n := subtle.XORBytes(dst, src, c.buf[c.off:c.end])
		c.off += n
		if n == len(src) {
			return
		}
		dst, src = dst[n:], src[n:]
	}
	xorKeyStreamImpl(im, c, dst, src)
}

// inexactOverlap reports whether x and y share memory at any position
// other than the same index.
func inexactOverlap(x, y []byte) bool {
	if len(x) == 0 || len(y) == 0 || &x[0] == &y[0] {
		return false
	}
	xs, ys := uintptr(unsafe.Pointer(&x[0])), uintptr(unsafe.Pointer(&y[0]))
	return xs < ys+uintptr(len(y)) && ys < xs+uintptr(len(x))
}

// incCounter advances the 64-bit block counter in st by n blocks.
func incCounter(st *[16]uint32, n uint64) {
	ctr := uint64(st[8]) | uint64(st[9])<<32
	ctr += n
	st[8], st[9] = uint32(ctr), uint32(ctr>>32)
}
