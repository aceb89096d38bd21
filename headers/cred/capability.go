package cred

import (
	"errors"
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/rules"
)

// MaxCustodyChain is the longest chain of custody a Capability may allow.
const MaxCustodyChain = 7

// Custody is one link of a Capability's chain of custody: From handed the
// capability to To and signed it.
type Custody struct {
	To, From  identity.Address
	Signature Signature
}

// Capability is a controller-issued set of rules granted to a member and
// evaluated (in ID order) when the base rules do not decide. The controller
// issues it with MaxCustody 1 and one custody entry (controller → member);
// a holder may pass it on while the chain has room.
type Capability struct {
	NetworkID  uint64
	Timestamp  int64
	ID         uint32 // also the evaluation order
	Rules      []rules.Rule
	MaxCustody uint8 // 1..MaxCustodyChain
	Custody    []Custody
	// Extra holds the "additional fields" block (empty from every 1.14.1
	// writer). The signature does not cover it.
	Extra []byte
}

// ParseCapability reads a Capability from the start of b and returns it
// with the number of bytes it took.
func ParseCapability(b []byte) (Capability, int, error) {
	r := reader{b: b}
	c := Capability{
		NetworkID: r.u64("network id"),
		Timestamp: int64(r.u64("timestamp")),
		ID:        r.u32("capability id"),
	}
	rc := int(r.u16("rule count"))
	if r.err == nil && rc > rules.MaxCapabilityRules {
		r.fail("%d rules, at most %d", rc, rules.MaxCapabilityRules)
	}
	if r.err == nil {
		rs, n, err := rules.ParseN(b[r.p:], rc)
		if err != nil {
			r.err = fmt.Errorf("rules at offset %d: %w", r.p, err)
		}
		c.Rules = rs
		r.p += n
	}
	c.MaxCustody = r.u8("max custody chain length")
	if r.err == nil && (c.MaxCustody < 1 || c.MaxCustody > MaxCustodyChain) {
		r.fail("max custody chain length %d, want 1..%d", c.MaxCustody, MaxCustodyChain)
	}
	for r.err == nil {
		to := r.addr("custody to")
		if to == 0 || r.err != nil {
			break
		}
		if len(c.Custody) >= int(c.MaxCustody) {
			r.fail("chain of custody longer than %d", c.MaxCustody)
			break
		}
		e := Custody{To: to, From: r.addr("custody from")}
		e.Signature = r.signature("custody signature")
		c.Custody = append(c.Custody, e)
	}
	c.Extra = r.extra()
	if r.err != nil {
		return Capability{}, 0, fmt.Errorf("capability: %w", r.err)
	}
	return c, r.p, nil
}

func (c *Capability) appendBody(dst []byte) []byte {
	dst = be.AppendUint64(dst, c.NetworkID)
	dst = be.AppendUint64(dst, uint64(c.Timestamp))
	dst = be.AppendUint32(dst, c.ID)
	dst = be.AppendUint16(dst, uint16(len(c.Rules)))
	dst = rules.AppendList(dst, c.Rules)
	return append(dst, c.MaxCustody)
}

// AppendMarshal appends the Capability's wire form to dst: the body, each
// custody entry, a zero address ending the chain, the extra fields.
func (c *Capability) AppendMarshal(dst []byte) []byte {
	dst = c.appendBody(dst)
	for i := range c.Custody {
		e := &c.Custody[i]
		dst = e.To.AppendTo(dst)
		dst = e.From.AppendTo(dst)
		dst = e.Signature.appendTo(dst)
	}
	dst = append(dst, 0, 0, 0, 0, 0)
	return appendExtra(dst, c.Extra)
}

// SigningMessage returns the bytes every custody signature covers: the
// wrapper around network id, timestamp, id, rule count, rules and max
// custody length (the chain itself is not covered).
func (c *Capability) SigningMessage() []byte { return wrapSigned(c.appendBody(nil)) }

// IssuedTo is the holder: the last custody entry's To (0 if none).
func (c *Capability) IssuedTo() identity.Address {
	if len(c.Custody) == 0 {
		return 0
	}
	return c.Custody[len(c.Custody)-1].To
}

// Sign appends a custody entry handing the capability from from to to.
// The controller signs the first entry; each later one must come from the
// previous holder, and the chain may not exceed MaxCustody.
func (c *Capability) Sign(from *identity.Identity, to identity.Address) error {
	if c.MaxCustody < 1 || c.MaxCustody > MaxCustodyChain {
		return fmt.Errorf("capability: %w: max custody chain length %d", ErrInvalid, c.MaxCustody)
	}
	if len(c.Custody) >= int(c.MaxCustody) {
		return fmt.Errorf("capability: %w: chain of custody is full (%d)", ErrChain, c.MaxCustody)
	}
	if to == 0 {
		return fmt.Errorf("capability: %w: recipient is zero", ErrChain)
	}
	if len(c.Rules) > rules.MaxCapabilityRules {
		return fmt.Errorf("capability: %w: %d rules", ErrInvalid, len(c.Rules))
	}
	s, err := from.Sign(c.SigningMessage())
	if err != nil {
		return fmt.Errorf("capability: %w", err)
	}
	c.Custody = append(c.Custody, Custody{To: to, From: from.Address, Signature: c25519Sig(s)})
	return nil
}

// Resolver returns the identity with the given address, or nil if it is
// not known.
type Resolver func(identity.Address) *identity.Identity

// Known returns a Resolver over a fixed set of identities.
func Known(ids ...*identity.Identity) Resolver {
	return func(a identity.Address) *identity.Identity {
		for _, id := range ids {
			if id != nil && id.Address == a {
				return id
			}
		}
		return nil
	}
}

// Verify checks the chain of custody: entry 0 must be from the network's
// controller to a non-zero address, each later entry from the previous
// entry's recipient, and every signature valid under its From identity,
// which resolve supplies. An identity resolve does not know gives an
// *UnknownSignerError.
//
// As in the reference, the signatures do not cover the chain's addresses:
// an entry's From is bound by the previous entry's To, but the last To
// (the holder) is protected by nothing but the transport. Callers that
// accept a capability from a peer should check IssuedTo against that peer.
func (c *Capability) Verify(resolve Resolver) error {
	if c.MaxCustody < 1 || c.MaxCustody > MaxCustodyChain || len(c.Custody) > int(c.MaxCustody) {
		return fmt.Errorf("capability: %w: %d entries, max custody chain length %d", ErrChain, len(c.Custody), c.MaxCustody)
	}
	if len(c.Custody) == 0 {
		return fmt.Errorf("capability: %w", ErrUnsigned)
	}
	msg := c.SigningMessage()
	for i, e := range c.Custody {
		switch {
		case e.To == 0 || e.From == 0:
			return fmt.Errorf("capability: %w: entry %d has a zero address", ErrChain, i)
		case i == 0 && e.From != Controller(c.NetworkID):
			return fmt.Errorf("capability: %w: signed by %s, controller of %016x is %s", ErrIssuer, e.From, c.NetworkID, Controller(c.NetworkID))
		case i > 0 && e.From != c.Custody[i-1].To:
			return fmt.Errorf("capability: %w: entry %d is from %s, previous holder is %s", ErrChain, i, e.From, c.Custody[i-1].To)
		}
		id := resolve(e.From)
		if id == nil {
			return &UnknownSignerError{Address: e.From}
		}
		if id.Address != e.From {
			return fmt.Errorf("capability: %w: resolver gave %s for %s", ErrSigner, id.Address, e.From)
		}
		if err := verifySig(fmt.Sprintf("capability custody entry %d", i), id, msg, &e.Signature); err != nil {
			return err
		}
	}
	return nil
}

// IsUnknownSigner reports whether err says a signer's identity is missing.
func IsUnknownSigner(err error) (identity.Address, bool) {
	var u *UnknownSignerError
	if errors.As(err, &u) {
		return u.Address, true
	}
	return 0, false
}
