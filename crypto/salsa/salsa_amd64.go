//go:build amd64 && !purego

package salsa

import (
	"crypto/subtle"

	"golang.org/x/sys/cpu"
)

//go:generate go run asm_gen.go -out salsa_amd64.s

// xorBlocksAVX512 and xorBlocksAVX2 XOR groups*512 bytes of src with
// keystream blocks ctr, ctr+1, ... into dst, where ctr is the counter in
// state. They do not update state, and require that the low counter word
// does not wrap: uint64(state[8]) + 8*groups <= 1<<32. rounds must be even.
//
//go:noescape
func xorBlocksAVX512(state *[16]uint32, rounds int, dst, src *byte, groups int)

//go:noescape
func xorBlocksAVX2(state *[16]uint32, rounds int, dst, src *byte, groups int)

// Bulk implementations, in order of preference.
const (
	implGeneric = iota
	implAVX2
	implAVX512
)

// impl is the bulk implementation used by XORKeyStream.
var impl = bestImpl()

func bestImpl() int {
	switch {
	case cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL:
		return implAVX512
	case cpu.X86.HasAVX2:
		return implAVX2
	}
	return implGeneric
}

// zeros is the source used to produce raw keystream into Cipher.buf.
var zeros [bufSize]byte

// xorKeyStreamImpl is the bulk path of XORKeyStream using implementation
// im. It requires len(dst) == len(src) > 0 and no buffered keystream in c.
// Whole groups of eight blocks are XORed directly; the remainder is XORed
// from eight fresh keystream blocks in c.buf, whose unused part is kept for
// the next call.
func xorKeyStreamImpl(im int, c *Cipher, dst, src []byte) {
	groups := len(src) / bufSize
	tail := len(src) % bufSize
	need := uint64(groups) * 8
	if tail > 0 {
		need += 8
	}
	// The vector cores add lane numbers to the low counter word only;
	// the rare call whose blocks cross a 2^32 boundary goes the slow way.
	if im == implGeneric || uint64(c.state[8])+need > 1<<32 {
		xorKeyStreamGeneric(c, dst, src)
		return
	}
	if groups > 0 {
		blocks(im, &c.state, c.rounds, &dst[0], &src[0], groups)
		incCounter(&c.state, uint64(groups)*8)
	}
	if tail > 0 {
		blocks(im, &c.state, c.rounds, &c.buf[0], &zeros[0], 1)
		incCounter(&c.state, 8)
		done := groups * bufSize
		c.off = subtle.XORBytes(dst[done:], src[done:], c.buf[:])
		c.end = bufSize
	}
}

func blocks(im int, state *[16]uint32, rounds int, dst, src *byte, groups int) {
	if im == implAVX512 {
		xorBlocksAVX512(state, rounds, dst, src, groups)
	} else {
		xorBlocksAVX2(state, rounds, dst, src, groups)
	}
}
