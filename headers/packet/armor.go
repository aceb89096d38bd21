package packet

import (
	"crypto/subtle"
	"encoding/binary"
	"fmt"

	//lint:ignore SA1019 ZeroTier's packet MAC is raw one-time Poly1305 keyed from the Salsa20/12 stream; no AEAD fits the wire format.
	"golang.org/x/crypto/poly1305"

	"github.com/ztx/ztx/crypto/salsa"
	"github.com/ztx/ztx/crypto/siv"
)

// SharedKeySize is the size of the key two peers agree on (§1.6).
const SharedKeySize = 48

// macSize is the size of the truncated Poly1305 tag in the MAC field.
const macSize = 8

// Key is the per-peer armoring state, built once from the 48-byte shared
// key: the key itself for suites 0 and 1 and the HELLO cryptField, and the
// derived AES-GMAC-SIV keys for suite 3. A Key is immutable and safe for
// concurrent use (on different packets).
type Key struct {
	shared [SharedKeySize]byte
	siv    *siv.Cipher
}

// NewKey builds a Key from a peer's shared key.
func NewKey(shared *[SharedKeySize]byte) (*Key, error) {
	s, err := siv.New(shared)
	if err != nil {
		return nil, fmt.Errorf("packet: key: %w", err)
	}
	return &Key{shared: *shared, siv: s}, nil
}

// Armor authenticates, and for suites 1 and 3 encrypts, a whole packet in
// place with the given suite (§4.1, §4.2, §4.4). It sets the suite bits of
// byte 18 (and the legacy encrypted flag for suite 1 only) and keeps the
// fragmented flag and the hops. Compress and set FlagFragmented first. For
// suite 3 the ID must be fresh random bytes (New makes one); armoring
// replaces it with the first tag half, which is the packet's ID from then on.
//
// Suite 2 carries no crypto; use ArmorTrustedPath. Armor does not allocate.
func (k *Key) Armor(pkt Packet, suite Suite) error {
	switch {
	case len(pkt) < MinPacketLength:
		return ErrTooShort
	case len(pkt) > MaxPacketLength:
		return ErrTooLong
	}
	switch suite {
	case SuitePoly1305None, SuitePoly1305Salsa2012:
		setSuite(pkt, suite)
		var c salsa.Cipher
		var polyKey [32]byte
		k.initSalsa(&c, pkt, &polyKey)
		if suite == SuitePoly1305Salsa2012 {
			c.XORKeyStream(pkt[IndexVerb:], pkt[IndexVerb:])
		}
		var tag [poly1305.TagSize]byte
		poly1305.Sum(&tag, pkt[IndexVerb:], &polyKey)
		copy(pkt[IndexMAC:IndexMAC+macSize], tag[:macSize])
		return nil
	case SuiteAESGMACSIV:
		k.siv.Armor(pkt) // sets the suite bits and clears 0x80 itself
		return nil
	case SuiteTrustedPath:
		return ErrTrustedPath
	}
	return ErrUnknownSuite
}

// ArmorTrustedPath marks a packet for a trusted path (suite 2, §4.3): no
// encryption and no MAC, the trusted path ID in the MAC field.
func ArmorTrustedPath(pkt Packet, trustedPathID uint64) error {
	if len(pkt) < MinPacketLength {
		return ErrTooShort
	}
	setSuite(pkt, SuiteTrustedPath)
	binary.BigEndian.PutUint64(pkt[IndexMAC:], trustedPathID)
	return nil
}

// Dearmor checks, and for suites 1 and 3 decrypts in place, a whole
// (reassembled) packet by its cipher field. The hops bits are ignored. It
// returns nil when the packet is authentic, ErrBadMAC when it is not,
// ErrUnknownSuite for suites 4 to 7, ErrTooShort or ErrTooLong for a bad
// length, and ErrTrustedPath for suite 2: such a packet is valid only if
// pkt.TrustedPathID() is the ID configured for the physical path it came
// from, which the caller checks. After ErrBadMAC the payload of a suite 3
// packet is garbage; suites 0 and 1 leave it untouched. Dearmor does not
// allocate.
func (k *Key) Dearmor(pkt Packet) error {
	switch {
	case len(pkt) < MinPacketLength:
		return ErrTooShort
	case len(pkt) > MaxPacketLength:
		return ErrTooLong
	}
	switch suite := pkt.Cipher(); suite {
	case SuitePoly1305None, SuitePoly1305Salsa2012:
		var c salsa.Cipher
		var polyKey [32]byte
		k.initSalsa(&c, pkt, &polyKey)
		var tag [poly1305.TagSize]byte
		poly1305.Sum(&tag, pkt[IndexVerb:], &polyKey)
		if subtle.ConstantTimeCompare(tag[:macSize], pkt[IndexMAC:IndexMAC+macSize]) != 1 {
			return ErrBadMAC
		}
		if suite == SuitePoly1305Salsa2012 {
			c.XORKeyStream(pkt[IndexVerb:], pkt[IndexVerb:])
		}
		return nil
	case SuiteAESGMACSIV:
		if !k.siv.Dearmor(pkt) {
			return ErrBadMAC
		}
		return nil
	case SuiteTrustedPath:
		return ErrTrustedPath
	}
	return ErrUnknownSuite
}

// setSuite writes the suite bits and the legacy encrypted flag (set only
// for suite 1), keeping the fragmented flag and the hops.
func setSuite(pkt Packet, s Suite) {
	f := pkt[IndexFlags] &^ (FlagEncrypted | CipherMask)
	if s == SuitePoly1305Salsa2012 {
		f |= FlagEncrypted
	}
	pkt[IndexFlags] = f | byte(s)<<CipherShift
}

// initSalsa keys c with the per-packet key of §4.1 (the shared key's first
// 32 bytes mixed with the ID, addresses, flags without hops, and the packet
// size) and the packet ID as nonce, takes keystream block 0 for the Poly1305
// key, and leaves c at keystream byte 64 for the payload.
func (k *Key) initSalsa(c *salsa.Cipher, pkt Packet, polyKey *[32]byte) {
	var mk [32]byte
	copy(mk[:], k.shared[:32])
	for i := range IndexFlags {
		mk[i] ^= pkt[i]
	}
	mk[IndexFlags] ^= pkt[IndexFlags] &^ HopsMask
	mk[19] ^= byte(len(pkt))
	mk[20] ^= byte(len(pkt) >> 8)
	c.Init(&mk, pkt[IndexID:IndexID+8], 12)
	var block0 [64]byte
	c.XORKeyStream(block0[:], block0[:])
	copy(polyKey[:], block0[:32])
}

// CryptField applies the HELLO cryptField (§4.6) to pkt[start:end]: XOR with
// Salsa20/12 keyed by the shared key's first 32 bytes, nonce = the packet ID
// with the low 3 bits of byte 7 cleared, keystream from byte 0. The same call
// encrypts and decrypts. A HELLO sender applies it to the moon section
// before armoring; a receiver after dearmoring.
func (k *Key) CryptField(pkt []byte, start, end int) error {
	return CryptField(&k.shared, pkt, start, end)
}

// CryptField is Key.CryptField for a bare shared key.
func CryptField(shared *[SharedKeySize]byte, pkt []byte, start, end int) error {
	if len(pkt) < MinPacketLength {
		return ErrTooShort
	}
	if start < IndexPayload || start > end || end > len(pkt) {
		return ErrFieldRange
	}
	var iv [8]byte
	copy(iv[:], pkt[IndexID:IndexID+8])
	iv[7] &= 0xf8
	var c salsa.Cipher
	c.Init((*[32]byte)(shared[:32]), iv[:], 12)
	c.XORKeyStream(pkt[start:end], pkt[start:end])
	return nil
}
