// Package c25519 implements the key pair bundle that ZeroTier calls "C25519":
// an X25519 key for agreement and an Ed25519 key for signatures, kept side
// by side in 64-byte public and private keys.
//
//	public key  (64): X25519 public (0..32)  | Ed25519 public (32..64)
//	private key (64): X25519 scalar (0..32)  | Ed25519 seed   (32..64)
//	signature   (96): Ed25519 R||S (0..64)   | SHA-512(msg)[0..32] (64..96)
//
// A signature signs the first 32 bytes of the SHA-512 of the message with
// standard (RFC 8032) Ed25519, and carries that digest half so a verifier
// can reject a wrong message before the curve arithmetic. Agreement hashes
// the raw X25519 secret with SHA-512; ZeroTier keys use its first 48 bytes.
//
// Everything here is built on the standard library's crypto/ecdh and
// crypto/ed25519.
package c25519

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
)

// Sizes of the bundle's keys and signatures, in bytes.
const (
	PublicKeySize  = 64
	PrivateKeySize = 64
	SignatureSize  = 96
	// AgreementSize is the size of the hashed agreement Agree returns.
	AgreementSize = 64
)

// ErrLowOrderPoint is returned by Agree when the peer's X25519 key yields an
// all-zero shared secret.
var ErrLowOrderPoint = errors.New("c25519: peer key is a low-order point")

// Generate makes a new key pair from rand.
func Generate(rand io.Reader) (pub, priv [64]byte, err error) {
	if _, err = io.ReadFull(rand, priv[:]); err != nil {
		return pub, priv, fmt.Errorf("c25519: reading random bytes: %w", err)
	}
	return PublicFromPrivate(&priv), priv, nil
}

// PublicFromPrivate derives both public halves from a private key.
func PublicFromPrivate(priv *[64]byte) (pub [64]byte) {
	x := x25519Public(priv[:32])
	copy(pub[:32], x)
	ed := ed25519.NewKeyFromSeed(priv[32:64])
	copy(pub[32:], ed[32:])
	return pub
}

// x25519Public is the base-point multiplication of a 32-byte scalar.
func x25519Public(scalar []byte) []byte {
	k, err := ecdh.X25519().NewPrivateKey(scalar)
	if err != nil { // only for a wrong length, which callers rule out
		panic(err)
	}
	return k.PublicKey().Bytes()
}

// Agree computes SHA-512 of the X25519 secret shared between priv and the
// peer's public key. ZeroTier's symmetric key is the first 48 bytes.
func Agree(priv *[64]byte, theirPub *[64]byte) ([64]byte, error) {
	var out [64]byte
	curve := ecdh.X25519()
	k, err := curve.NewPrivateKey(priv[:32])
	if err != nil {
		return out, fmt.Errorf("c25519: private key: %w", err)
	}
	p, err := curve.NewPublicKey(theirPub[:32])
	if err != nil {
		return out, fmt.Errorf("c25519: peer key: %w", err)
	}
	raw, err := k.ECDH(p)
	if err != nil {
		return out, ErrLowOrderPoint
	}
	return sha512.Sum512(raw), nil
}

// Signer signs with one private key, keeping the expanded Ed25519 key so
// repeated signatures skip the seed expansion.
type Signer struct {
	key ed25519.PrivateKey
}

// NewSigner expands the Ed25519 half of priv.
func NewSigner(priv *[64]byte) *Signer {
	return &Signer{key: ed25519.NewKeyFromSeed(priv[32:64])}
}

// Sign returns the 96-byte signature of msg.
func (s *Signer) Sign(msg []byte) (sig [96]byte) {
	h := sha512.Sum512(msg)
	copy(sig[:64], ed25519.Sign(s.key, h[:32]))
	copy(sig[64:], h[:32])
	return sig
}

// Sign returns the 96-byte signature of msg by priv.
func Sign(priv *[64]byte, msg []byte) [96]byte {
	return NewSigner(priv).Sign(msg)
}

// Verify reports whether sig is a valid signature of msg by pub. Any
// signature length other than 96 fails.
func Verify(pub *[64]byte, msg, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	h := sha512.Sum512(msg)
	if subtle.ConstantTimeCompare(h[:32], sig[64:96]) != 1 {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(pub[32:64]), h[:32], sig[:64])
}
