package siv

import (
	"crypto/hmac"
	"crypto/sha512"
)

// kdfMessage returns the 13-byte KBKDF message: iteration counter BE32 0,
// 'Z', 'T', label, 0x00 separator, context 0x00, output length 384 bits BE32.
func kdfMessage(label byte) [13]byte {
	return [13]byte{0, 0, 0, 0, 'Z', 'T', label, 0, 0, 0, 0, 0x01, 0x80}
}

// DeriveKeys derives the AES-256 keys K0 (GMAC) and K1 (tag block and CTR)
// from a peer's 48-byte shared key: the first 32 bytes of
// HMAC-SHA-384(shared, M('0')) and HMAC-SHA-384(shared, M('1')).
func DeriveKeys(shared *[SharedKeySize]byte) (k0, k1 [KeySize]byte) {
	m := hmac.New(sha512.New384, shared[:])
	var sum [sha512.Size384]byte
	for i, k := range []*[KeySize]byte{&k0, &k1} {
		msg := kdfMessage('0' + byte(i))
		m.Reset()
		m.Write(msg[:])
		m.Sum(sum[:0])
		copy(k[:], sum[:KeySize])
	}
	clear(sum[:])
	return k0, k1
}
