// Package siv implements AES-GMAC-SIV, ZeroTier's cipher suite 3
// (AES_GMAC_SIV, protocol version 12 and later), on whole ZeroTier packets.
//
// A packet is armored and dearmored in place. Offsets used here:
//
//	 0                   8         13        18 19                  27 28
//	+-------------------+---------+---------+--+-------------------+--+----------
//	| IV / tag half 1   | dest    | source  |F | tag half 2        |V | payload...
//	+-------------------+---------+---------+--+-------------------+--+----------
//	  0..8  (8 bytes)     8..13     13..18   18  19..27 (8 bytes)   27  28..
//
//	IVOffset      = 0   random IV before Armor; S[0:8] (the wire packet ID) after
//	DestOffset    = 8   destination address, 5 bytes (authenticated)
//	SourceOffset  = 13  source address, 5 bytes (authenticated)
//	FlagsOffset   = 18  flags/cipher/hops FFCCCHHH; hops (0x07) are not authenticated
//	TagOffset     = 19  S[8:16] after Armor
//	PayloadOffset = 27  verb byte and payload: the encrypted region
//
// Keys: K0 and K1 are the first 32 bytes of HMAC-SHA-384(K, M(label)) where K is
// the 48-byte peer shared key and M is the 13-byte KBKDF message
// 00000000 'Z' 'T' label 00 00 00000180 with label '0' (K0) or '1' (K1).
//
// Armor:
//
//	A  = pkt[8:19] (byte 18 AND 0xf8) || 00 00 00 00 00 || pkt[27:]
//	T  = AES-256-GCM-K0 tag over nonce pkt[0:8]||00000000, AAD A, empty plaintext
//	S  = AES-256-K1(pkt[0:8] || T[0:8] XOR T[8:16])
//	pkt[27:] ^= AES-256-CTR-K1 keystream, counter block S with S[12] AND 0x7f
//	pkt[0:8] = S[0:8]; pkt[19:27] = S[8:16]
//
// Dearmor reverses this: S comes from pkt[0:8] and pkt[19:27], the payload is
// decrypted with the same CTR stream, AES-256-K1 decryption of S gives back the
// IV and the folded tag, and the GMAC is recomputed over the plaintext.
//
// Implementations: on amd64 with AES-NI and PCLMULQDQ the package uses its own
// assembly, so that Armor and Dearmor do not allocate (crypto/cipher's CTR
// allocates its state on every call and its GCM takes buffers through an
// interface): an 8-way AES-NI CTR and an 8-block aggregated GHASH, or, on CPUs
// with AVX-512 VAES and VPCLMULQDQ (Intel Ice Lake and later, AMD Zen 4 and
// later), 16-block loops on 512-bit registers with masked loads and stores
// for the partial last block. Elsewhere, or with the purego build tag, it uses
// crypto/aes and crypto/cipher (GCM with an empty plaintext for the GMAC, CTR
// for the stream), which costs one allocation per Armor or Dearmor inside
// cipher.NewCTR. Tests check the implementations against each other and
// against crypto/cipher.
package siv
