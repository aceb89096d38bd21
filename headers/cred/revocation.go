package cred

import (
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
)

// RevocationSize is a Revocation's wire size with a C25519 signature and
// no extra fields.
const RevocationSize = 152

// CredentialType names a kind of credential in a Revocation.
type CredentialType uint8

// Credential types.
const (
	CredentialNull       CredentialType = 0
	CredentialCOM        CredentialType = 1
	CredentialCapability CredentialType = 2
	CredentialTag        CredentialType = 3
	CredentialCOO        CredentialType = 4
	CredentialRevocation CredentialType = 6
)

func (t CredentialType) String() string {
	switch t {
	case CredentialNull:
		return "null"
	case CredentialCOM:
		return "COM"
	case CredentialCapability:
		return "capability"
	case CredentialTag:
		return "tag"
	case CredentialCOO:
		return "COO"
	case CredentialRevocation:
		return "revocation"
	}
	return fmt.Sprintf("type-%d", uint8(t))
}

// RevocationFastPropagate asks receivers to forward the revocation to
// every member they know.
const RevocationFastPropagate = 0x01

// Revocation revokes a member's credentials of one type and id with a
// timestamp at or below Threshold.
type Revocation struct {
	// Reserved0 and Reserved1 are the two 4-byte fields written as zero;
	// readers ignore them (they are kept to re-marshal input exactly; the
	// signature covers zeros in their place).
	Reserved0      uint32
	ID             uint32 // random revocation id
	NetworkID      uint64
	Reserved1      uint32
	CredentialID   uint32 // id of the revoked credential (0 for a COM)
	Threshold      int64  // credentials with timestamp <= Threshold are revoked
	Flags          uint64 // RevocationFastPropagate
	Target         identity.Address
	SignedBy       identity.Address
	CredentialType CredentialType
	Signature      Signature
	// Extra holds the "additional fields" block (empty from every 1.14.1
	// writer). The signature does not cover it.
	Extra []byte
}

// ParseRevocation reads a Revocation from the start of b and returns it
// with the number of bytes it took.
func ParseRevocation(b []byte) (Revocation, int, error) {
	r := reader{b: b}
	v := Revocation{
		Reserved0:      r.u32("reserved"),
		ID:             r.u32("revocation id"),
		NetworkID:      r.u64("network id"),
		Reserved1:      r.u32("reserved"),
		CredentialID:   r.u32("credential id"),
		Threshold:      int64(r.u64("threshold")),
		Flags:          r.u64("flags"),
		Target:         r.addr("target"),
		SignedBy:       r.addr("signed-by"),
		CredentialType: CredentialType(r.u8("credential type")),
		Signature:      r.signature("signature"),
		Extra:          r.extra(),
	}
	if r.err != nil {
		return Revocation{}, 0, fmt.Errorf("revocation: %w", r.err)
	}
	return v, r.p, nil
}

func (v *Revocation) appendBody(dst []byte, reserved0, reserved1 uint32) []byte {
	dst = be.AppendUint32(dst, reserved0)
	dst = be.AppendUint32(dst, v.ID)
	dst = be.AppendUint64(dst, v.NetworkID)
	dst = be.AppendUint32(dst, reserved1)
	dst = be.AppendUint32(dst, v.CredentialID)
	dst = be.AppendUint64(dst, uint64(v.Threshold))
	dst = be.AppendUint64(dst, v.Flags)
	dst = v.Target.AppendTo(dst)
	dst = v.SignedBy.AppendTo(dst)
	return append(dst, byte(v.CredentialType))
}

// AppendMarshal appends the Revocation's wire form to dst.
func (v *Revocation) AppendMarshal(dst []byte) []byte {
	dst = v.appendBody(dst, v.Reserved0, v.Reserved1)
	dst = v.Signature.appendTo(dst)
	return appendExtra(dst, v.Extra)
}

// SigningMessage returns the signed bytes: the wrapper around bytes 0..50
// with the reserved fields as zero.
func (v *Revocation) SigningMessage() []byte { return wrapSigned(v.appendBody(nil, 0, 0)) }

// Sign sets SignedBy to signer's address and signs the Revocation.
func (v *Revocation) Sign(signer *identity.Identity) error {
	v.SignedBy = signer.Address
	s, err := signer.Sign(v.SigningMessage())
	if err != nil {
		return fmt.Errorf("revocation: %w", err)
	}
	v.Signature = c25519Sig(s)
	return nil
}

// Verify checks that the Revocation is signed by its network's controller,
// that signer is that controller, and the signature.
func (v *Revocation) Verify(signer *identity.Identity) error {
	if err := checkSigner("revocation", v.NetworkID, v.SignedBy, signer); err != nil {
		return err
	}
	return verifySig("revocation", signer, v.SigningMessage(), &v.Signature)
}
