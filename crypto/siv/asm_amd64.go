//go:build !purego

package siv

import "golang.org/x/sys/cpu"

var useAsm = cpu.X86.HasAES && cpu.X86.HasPCLMULQDQ && cpu.X86.HasSSSE3

// encryptBlock encrypts one block with an AES-256 schedule; dst may equal src.
//
//go:noescape
func encryptBlock(rk *roundKeys, dst, src *[16]byte)

// decryptBlock decrypts one block with a decryption schedule; dst may equal src.
//
//go:noescape
func decryptBlock(rk *roundKeys, dst, src *[16]byte)

// ctrBlocks XORs n whole blocks at p in place with the CTR keystream of rk
// starting at counter block ctr; the counter is the big-endian 32-bit word in
// bytes 12..15 and does not carry into byte 11.
//
//go:noescape
func ctrBlocks(rk *roundKeys, ctr *[16]byte, p *byte, n int)

// ghashBlocks updates the GHASH state y (a GHASH value in its usual byte
// order) with n whole blocks at p.
//
//go:noescape
func ghashBlocks(gk *ghashKey, y *[16]byte, p *byte, n int)

var useAVX512 = useAsm && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL &&
	cpu.X86.HasAVX512VAES && cpu.X86.HasAVX512VPCLMULQDQ && cpu.X86.HasAVX2

// ctrAVX512 XORs buf in place with the CTR keystream (as ctrBlocks), including
// a partial last block.
//
//go:noescape
func ctrAVX512(rk *roundKeys, ctr *[16]byte, buf []byte)

// gmacAVX512 computes the GCM tag over AAD hdr || payload with an empty
// plaintext; tag holds J0 on entry.
//
//go:noescape
func gmacAVX512(gk *ghashKey, rk0 *roundKeys, tag *[16]byte, hdr *[16]byte, payload []byte)
