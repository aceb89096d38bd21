package cred

import (
	"fmt"

	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
)

// SignatureC25519 is the only signature type: a 96-byte C25519 signature
// (Ed25519 signature of the first half of SHA-512(message), then that half;
// PROTOCOL.md part 1 §1.5).
const SignatureC25519 = 1

// Signature is a typed, length-prefixed signature field as Capability
// custody entries, Tag, Revocation and CertificateOfOwnership carry it:
//
//	type (1) | length (2) | signature (length)
//
// Readers require length 96 for type 1 and skip other types by their
// length; such signatures are kept here but never verify.
type Signature struct {
	Type uint8
	Data []byte
}

// c25519Sig wraps a signature just made.
func c25519Sig(s [c25519.SignatureSize]byte) Signature {
	return Signature{Type: SignatureC25519, Data: s[:]}
}

// signature reads a signature field.
func (r *reader) signature(field string) Signature {
	var s Signature
	s.Type = r.u8(field + " type")
	n := r.u16(field + " length")
	if r.err == nil && s.Type == SignatureC25519 && n != c25519.SignatureSize {
		r.fail("%s: type 1 signature is %d bytes, want 96", field, n)
	}
	s.Data = r.copyOf(int(n), field)
	return s
}

// appendTo writes the signature field (data clipped to 65535 bytes).
func (s *Signature) appendTo(dst []byte) []byte {
	d := s.Data[:min(len(s.Data), 0xffff)]
	dst = append(dst, s.Type)
	dst = be.AppendUint16(dst, uint16(len(d)))
	return append(dst, d...)
}

// Controller returns the address of the controller of network nwid: its
// most significant 40 bits.
func Controller(nwid uint64) identity.Address {
	return identity.Address(nwid >> 24)
}

// signMarker brackets the signed message of Capability, Tag, Revocation
// and CertificateOfOwnership.
var signMarker = [8]byte{0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f}

// wrapSigned returns 7f×8 | body | 0x0000 (extra-fields length) | 7f×8.
func wrapSigned(body []byte) []byte {
	m := make([]byte, 0, len(body)+18)
	m = append(m, signMarker[:]...)
	m = append(m, body...)
	m = append(m, 0, 0)
	return append(m, signMarker[:]...)
}

// checkSigner applies the rules every credential shares: signed at all,
// by the network's controller, and signer is that identity.
func checkSigner(kind string, nwid uint64, signedBy identity.Address, signer *identity.Identity) error {
	if signedBy == 0 {
		return fmt.Errorf("%s: %w", kind, ErrUnsigned)
	}
	if c := Controller(nwid); signedBy != c {
		return fmt.Errorf("%s: %w: signed by %s, controller of %016x is %s", kind, ErrIssuer, signedBy, nwid, c)
	}
	if signer == nil || signer.Address != signedBy {
		return fmt.Errorf("%s: %w: want %s", kind, ErrSigner, signedBy)
	}
	return nil
}

// verifySig checks a typed signature over msg.
func verifySig(kind string, signer *identity.Identity, msg []byte, s *Signature) error {
	if s.Type != SignatureC25519 {
		return fmt.Errorf("%s: %w: signature type %d", kind, ErrSignature, s.Type)
	}
	if !signer.Verify(msg, s.Data) {
		return fmt.Errorf("%s: %w", kind, ErrSignature)
	}
	return nil
}
