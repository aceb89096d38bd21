package cred

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
)

// COO limits (PROTOCOL.md part 2 §5.5).
const (
	COOMaxThings      = 16 // readers refuse more
	COOThingValueSize = 16
	COOThingSize      = 1 + COOThingValueSize
)

// ThingType is the kind of thing a COO certifies ownership of.
type ThingType uint8

// Thing types.
const (
	ThingNull ThingType = 0
	ThingMAC  ThingType = 1 // value bytes 0..5
	ThingIPv4 ThingType = 2 // value bytes 0..3
	ThingIPv6 ThingType = 3 // value bytes 0..15
)

// Thing is one owned item: a type and a zero-padded 16-byte value.
type Thing struct {
	Type  ThingType
	Value [COOThingValueSize]byte
}

// ThingFromAddr returns the IPv4 or IPv6 thing for a (IPv4-mapped IPv6
// addresses become IPv4).
func ThingFromAddr(a netip.Addr) Thing {
	var t Thing
	a = a.Unmap()
	switch {
	case a.Is4():
		t.Type = ThingIPv4
		v := a.As4()
		copy(t.Value[:], v[:])
	case a.Is6():
		t.Type = ThingIPv6
		t.Value = a.As16()
	}
	return t
}

// ThingFromMAC returns the MAC thing for mac.
func ThingFromMAC(mac [6]byte) Thing {
	t := Thing{Type: ThingMAC}
	copy(t.Value[:], mac[:])
	return t
}

// significant is the number of value bytes ownership compares for t.
func (t ThingType) significant() int {
	switch t {
	case ThingMAC:
		return 6
	case ThingIPv4:
		return 4
	case ThingIPv6:
		return 16
	}
	return 0
}

// Addr returns the IP address of an IPv4 or IPv6 thing.
func (t Thing) Addr() (netip.Addr, bool) {
	switch t.Type {
	case ThingIPv4:
		return netip.AddrFrom4([4]byte(t.Value[:4])), true
	case ThingIPv6:
		return netip.AddrFrom16(t.Value), true
	}
	return netip.Addr{}, false
}

// MAC returns the address of a MAC thing.
func (t Thing) MAC() ([6]byte, bool) {
	return [6]byte(t.Value[:6]), t.Type == ThingMAC
}

func (t Thing) String() string {
	if a, ok := t.Addr(); ok {
		return a.String()
	}
	if m, ok := t.MAC(); ok {
		return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	return fmt.Sprintf("thing-%d:%x", t.Type, t.Value)
}

// COO is a certificate of ownership: the controller's statement that a
// member owns some IP and MAC addresses.
type COO struct {
	NetworkID uint64
	Timestamp int64
	Flags     uint64
	ID        uint32
	Things    []Thing
	IssuedTo  identity.Address
	SignedBy  identity.Address
	Signature Signature
	// Extra holds the "additional fields" block (empty from every 1.14.1
	// writer). The signature does not cover it.
	Extra []byte
}

// ParseCOO reads a COO from the start of b and returns it with the number
// of bytes it took.
func ParseCOO(b []byte) (COO, int, error) {
	r := reader{b: b}
	c := COO{
		NetworkID: r.u64("network id"),
		Timestamp: int64(r.u64("timestamp")),
		Flags:     r.u64("flags"),
		ID:        r.u32("COO id"),
	}
	n := int(r.u16("thing count"))
	if r.err == nil && n > COOMaxThings {
		// The reference stores 16 and misreads the rest; refuse instead.
		r.fail("%d things, at most %d", n, COOMaxThings)
	}
	if r.err == nil && n > 0 {
		c.Things = make([]Thing, n)
		for i := range c.Things {
			c.Things[i].Type = ThingType(r.u8("thing type"))
			copy(c.Things[i].Value[:], r.take(COOThingValueSize, "thing value"))
		}
	}
	c.IssuedTo = r.addr("issued-to")
	c.SignedBy = r.addr("signed-by")
	c.Signature = r.signature("signature")
	c.Extra = r.extra()
	if r.err != nil {
		return COO{}, 0, fmt.Errorf("COO: %w", r.err)
	}
	return c, r.p, nil
}

func (c *COO) appendBody(dst []byte) []byte {
	dst = be.AppendUint64(dst, c.NetworkID)
	dst = be.AppendUint64(dst, uint64(c.Timestamp))
	dst = be.AppendUint64(dst, c.Flags)
	dst = be.AppendUint32(dst, c.ID)
	dst = be.AppendUint16(dst, uint16(len(c.Things)))
	for _, t := range c.Things {
		dst = append(dst, byte(t.Type))
		dst = append(dst, t.Value[:]...)
	}
	dst = c.IssuedTo.AppendTo(dst)
	return c.SignedBy.AppendTo(dst)
}

// AppendMarshal appends the COO's wire form to dst. It writes every
// thing; more than COOMaxThings makes a COO that readers refuse.
func (c *COO) AppendMarshal(dst []byte) []byte {
	dst = c.appendBody(dst)
	dst = c.Signature.appendTo(dst)
	return appendExtra(dst, c.Extra)
}

// SigningMessage returns the signed bytes: the wrapper around network id
// through signed-by.
func (c *COO) SigningMessage() []byte { return wrapSigned(c.appendBody(nil)) }

// Sign sets SignedBy to signer's address and signs the COO.
func (c *COO) Sign(signer *identity.Identity) error {
	if len(c.Things) > COOMaxThings {
		return fmt.Errorf("COO: %w: %d things, at most %d", ErrInvalid, len(c.Things), COOMaxThings)
	}
	c.SignedBy = signer.Address
	s, err := signer.Sign(c.SigningMessage())
	if err != nil {
		return fmt.Errorf("COO: %w", err)
	}
	c.Signature = c25519Sig(s)
	return nil
}

// Verify checks that the COO is signed by its network's controller, that
// signer is that controller, and the signature.
func (c *COO) Verify(signer *identity.Identity) error {
	if err := checkSigner("COO", c.NetworkID, c.SignedBy, signer); err != nil {
		return err
	}
	return verifySig("COO", signer, c.SigningMessage(), &c.Signature)
}

// Owns reports whether the COO lists t: same type and the same
// significant value bytes (6 for a MAC, 4 for IPv4, 16 for IPv6).
func (c *COO) Owns(t Thing) bool {
	n := t.Type.significant()
	if n == 0 {
		return false
	}
	for _, x := range c.Things {
		if x.Type == t.Type && bytes.Equal(x.Value[:n], t.Value[:n]) {
			return true
		}
	}
	return false
}

// OwnsAddr reports whether the COO lists IP address a.
func (c *COO) OwnsAddr(a netip.Addr) bool { return c.Owns(ThingFromAddr(a)) }

// OwnsMAC reports whether the COO lists mac.
func (c *COO) OwnsMAC(mac [6]byte) bool { return c.Owns(ThingFromMAC(mac)) }
