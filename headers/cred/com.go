package cred

import (
	"crypto/sha512"
	"fmt"

	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
)

// COM layout (PROTOCOL.md part 2 §5.1).
const (
	COMMarker        = 0x01 // format byte
	COMMaxQualifiers = 8    // readers refuse more
	COMQualifierSize = 24   // id, value, maxDelta: 8 bytes each
)

// Qualifier ids issued by the 1.14.1 controller.
const (
	QualifierTimestamp    = 0 // value: ms timestamp; maxDelta: credential time window
	QualifierNetworkID    = 1 // value: network id; maxDelta: 0
	QualifierIssuedTo     = 2 // value: member address; maxDelta: all ones
	QualifierIdentityHash = 3 // 3..6: words 0..3 of the member's identity hash
)

// COMQualifierCount is the number of qualifiers the controller issues.
const COMQualifierCount = 7

// Qualifier is one (id, value, maxDelta) tuple of a COM. Two COMs agree on
// a qualifier if their values differ by at most the checking side's maxDelta.
type Qualifier struct {
	ID, Value, MaxDelta uint64
}

// COM is a certificate of membership.
type COM struct {
	Qualifiers []Qualifier
	SignedBy   identity.Address // 0: unsigned, and no signature on the wire
	Signature  [c25519.SignatureSize]byte
}

// NewCOM returns the unsigned COM a controller issues to member on
// network nwid: timestamp, network id, issued-to and the four identity hash
// words.
func NewCOM(timestamp int64, maxDelta uint64, nwid uint64, member *identity.Identity) COM {
	h := IdentityHash(member)
	return COM{Qualifiers: []Qualifier{
		{QualifierTimestamp, uint64(timestamp), maxDelta},
		{QualifierNetworkID, nwid, 0},
		{QualifierIssuedTo, uint64(member.Address), ^uint64(0)},
		{QualifierIdentityHash, h[0], ^uint64(0)},
		{QualifierIdentityHash + 1, h[1], ^uint64(0)},
		{QualifierIdentityHash + 2, h[2], ^uint64(0)},
		{QualifierIdentityHash + 3, h[3], ^uint64(0)},
	}}
}

// IdentityHash returns the first four big-endian words of
// SHA-384(address (5) | public key (64)), the values of qualifiers 3..6.
func IdentityHash(id *identity.Identity) [4]uint64 {
	var in [identity.AddressLength + c25519.PublicKeySize]byte
	id.Address.Put(in[:])
	copy(in[identity.AddressLength:], id.Public[:])
	d := sha512.Sum384(in[:])
	return [4]uint64{be.Uint64(d[0:]), be.Uint64(d[8:]), be.Uint64(d[16:]), be.Uint64(d[24:])}
}

// ParseCOM reads a COM from the start of b and returns it with the number
// of bytes it took.
func ParseCOM(b []byte) (COM, int, error) {
	var c COM
	r := reader{b: b}
	if m := r.u8("COM format"); r.err == nil && m != COMMarker {
		return c, 0, fmt.Errorf("COM: %w: format byte %#02x, want 0x01", ErrInvalid, m)
	}
	q := int(r.u16("COM qualifier count"))
	if r.err == nil && q > COMMaxQualifiers {
		return c, 0, fmt.Errorf("COM: %w: %d qualifiers, at most %d", ErrInvalid, q, COMMaxQualifiers)
	}
	if q > 0 {
		c.Qualifiers = make([]Qualifier, 0, q)
	}
	var last uint64
	for i := 0; i < q && r.err == nil; i++ {
		v := Qualifier{r.u64("qualifier id"), r.u64("qualifier value"), r.u64("qualifier max delta")}
		if r.err == nil && v.ID < last {
			r.fail("qualifier %d id %d after id %d", i, v.ID, last)
		}
		last = v.ID
		c.Qualifiers = append(c.Qualifiers, v)
	}
	c.SignedBy = r.addr("COM signed-by")
	if c.SignedBy != 0 {
		copy(c.Signature[:], r.take(c25519.SignatureSize, "COM signature"))
	}
	if r.err != nil {
		return COM{}, 0, fmt.Errorf("COM: %w", r.err)
	}
	return c, r.p, nil
}

// AppendMarshal appends the COM's wire form to dst.
func (c *COM) AppendMarshal(dst []byte) []byte {
	dst = append(dst, COMMarker)
	dst = be.AppendUint16(dst, uint16(len(c.Qualifiers)))
	dst = c.appendQualifiers(dst)
	dst = c.SignedBy.AppendTo(dst)
	if c.SignedBy != 0 {
		dst = append(dst, c.Signature[:]...)
	}
	return dst
}

func (c *COM) appendQualifiers(dst []byte) []byte {
	for _, q := range c.Qualifiers {
		dst = be.AppendUint64(dst, q.ID)
		dst = be.AppendUint64(dst, q.Value)
		dst = be.AppendUint64(dst, q.MaxDelta)
	}
	return dst
}

// SigningMessage returns the bytes a COM's signature covers: the
// qualifiers exactly as serialized, with no wrapper.
func (c *COM) SigningMessage() []byte {
	return c.appendQualifiers(make([]byte, 0, len(c.Qualifiers)*COMQualifierSize))
}

// Qualifier returns the first qualifier with the given id.
func (c *COM) Qualifier(id uint64) (Qualifier, bool) {
	for _, q := range c.Qualifiers {
		if q.ID == id {
			return q, true
		}
	}
	return Qualifier{}, false
}

// Timestamp is the value of qualifier 0 (0 if absent).
func (c *COM) Timestamp() int64 {
	q, _ := c.Qualifier(QualifierTimestamp)
	return int64(q.Value)
}

// NetworkID is the value of qualifier 1 (0 if absent).
func (c *COM) NetworkID() uint64 {
	q, _ := c.Qualifier(QualifierNetworkID)
	return q.Value
}

// IssuedTo is the value of qualifier 2 (0 if absent).
func (c *COM) IssuedTo() identity.Address {
	q, _ := c.Qualifier(QualifierIssuedTo)
	return identity.Address(q.Value & identity.AddressMask)
}

// Sign signs the COM with signer (the network's controller) and sets
// SignedBy.
func (c *COM) Sign(signer *identity.Identity) error {
	if len(c.Qualifiers) > COMMaxQualifiers {
		return fmt.Errorf("COM: %w: %d qualifiers", ErrInvalid, len(c.Qualifiers))
	}
	s, err := signer.Sign(c.SigningMessage())
	if err != nil {
		return fmt.Errorf("COM: %w", err)
	}
	c.Signature, c.SignedBy = s, signer.Address
	return nil
}

// Verify checks that the COM is signed by the controller of its network
// (qualifier 1), that signer is that controller, and the signature.
func (c *COM) Verify(signer *identity.Identity) error {
	if len(c.Qualifiers) > COMMaxQualifiers {
		return fmt.Errorf("COM: %w: %d qualifiers", ErrInvalid, len(c.Qualifiers))
	}
	if err := checkSigner("COM", c.NetworkID(), c.SignedBy, signer); err != nil {
		return err
	}
	if !signer.Verify(c.SigningMessage(), c.Signature[:]) {
		return fmt.Errorf("COM: %w", ErrSignature)
	}
	return nil
}

// CheckAgreement applies the membership agreement rule from c's side
// (mine.agreesWith(theirs, theirIdentity)): every qualifier of c must be in
// theirs with a value within c's maxDelta, and if c has any of the
// identity-hash qualifiers 3..6, theirs must carry exactly the hash of
// theirID. It returns nil if the certificates agree.
func (c *COM) CheckAgreement(theirs *COM, theirID *identity.Identity) error {
	if len(c.Qualifiers) == 0 || len(theirs.Qualifiers) == 0 {
		return fmt.Errorf("COM: no agreement: a certificate has no qualifiers")
	}
	// As in the reference, the last of duplicate ids in theirs wins.
	other := make(map[uint64]uint64, len(theirs.Qualifiers))
	for _, q := range theirs.Qualifiers {
		other[q.ID] = q.Value
	}
	full := false
	for _, q := range c.Qualifiers {
		if q.ID >= QualifierIdentityHash && q.ID < QualifierIdentityHash+4 {
			full = true
		}
		v, ok := other[q.ID]
		if !ok {
			return fmt.Errorf("COM: no agreement: qualifier %d missing", q.ID)
		}
		d := q.Value - v
		if v > q.Value {
			d = v - q.Value
		}
		if d > q.MaxDelta {
			return fmt.Errorf("COM: no agreement: qualifier %d differs by %d, max %d", q.ID, d, q.MaxDelta)
		}
	}
	if full {
		if theirID == nil {
			return fmt.Errorf("COM: no agreement: no identity to check the identity hash against")
		}
		h := IdentityHash(theirID)
		for i, w := range h {
			id := uint64(QualifierIdentityHash + i)
			if v, ok := other[id]; !ok || v != w {
				return fmt.Errorf("COM: no agreement: identity hash qualifier %d does not match %s", id, theirID.Address)
			}
		}
	}
	return nil
}

// AgreesWith reports whether CheckAgreement succeeds.
func (c *COM) AgreesWith(theirs *COM, theirID *identity.Identity) bool {
	return c.CheckAgreement(theirs, theirID) == nil
}
