package cred

import (
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
)

// TagSize is a Tag's wire size with a C25519 signature and no extra fields.
const TagSize = 135

// Tag is a controller-issued (id, value) pair attached to a member; rules
// match on it. Tags are not transferable.
type Tag struct {
	NetworkID uint64
	Timestamp int64
	ID        uint32
	Value     uint32
	IssuedTo  identity.Address
	SignedBy  identity.Address
	Signature Signature
	// Extra holds the "additional fields" block (empty from every 1.14.1
	// writer). The signature does not cover it.
	Extra []byte
}

// ParseTag reads a Tag from the start of b and returns it with the number
// of bytes it took.
func ParseTag(b []byte) (Tag, int, error) {
	r := reader{b: b}
	t := Tag{
		NetworkID: r.u64("network id"),
		Timestamp: int64(r.u64("timestamp")),
		ID:        r.u32("tag id"),
		Value:     r.u32("tag value"),
		IssuedTo:  r.addr("issued-to"),
		SignedBy:  r.addr("signed-by"),
		Signature: r.signature("signature"),
		Extra:     r.extra(),
	}
	if r.err != nil {
		return Tag{}, 0, fmt.Errorf("tag: %w", r.err)
	}
	return t, r.p, nil
}

func (t *Tag) appendBody(dst []byte) []byte {
	dst = be.AppendUint64(dst, t.NetworkID)
	dst = be.AppendUint64(dst, uint64(t.Timestamp))
	dst = be.AppendUint32(dst, t.ID)
	dst = be.AppendUint32(dst, t.Value)
	dst = t.IssuedTo.AppendTo(dst)
	return t.SignedBy.AppendTo(dst)
}

// AppendMarshal appends the Tag's wire form to dst.
func (t *Tag) AppendMarshal(dst []byte) []byte {
	dst = t.appendBody(dst)
	dst = t.Signature.appendTo(dst)
	return appendExtra(dst, t.Extra)
}

// SigningMessage returns the signed bytes: the wrapper around network id
// through signed-by.
func (t *Tag) SigningMessage() []byte { return wrapSigned(t.appendBody(nil)) }

// Sign sets SignedBy to signer's address and signs the Tag.
func (t *Tag) Sign(signer *identity.Identity) error {
	t.SignedBy = signer.Address
	s, err := signer.Sign(t.SigningMessage())
	if err != nil {
		return fmt.Errorf("tag: %w", err)
	}
	t.Signature = c25519Sig(s)
	return nil
}

// Verify checks that the Tag is signed by its network's controller, that
// signer is that controller, and the signature.
func (t *Tag) Verify(signer *identity.Identity) error {
	if err := checkSigner("tag", t.NetworkID, t.SignedBy, signer); err != nil {
		return err
	}
	return verifySig("tag", signer, t.SigningMessage(), &t.Signature)
}
