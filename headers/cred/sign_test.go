package cred

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/rules"
)

// signed is a credential that can be signed, verified and written.
type signed interface {
	Sign(*identity.Identity) error
	Verify(*identity.Identity) error
	AppendMarshal([]byte) []byte
}

// sampleCreds returns one of each single-signer credential on a network
// of ctrl, issued to member, unsigned.
func sampleCreds(ctrl *identity.Identity, member identity.Address) (n uint64, tag *Tag, rev *Revocation, coo *COO) {
	n = uint64(ctrl.Address)<<24 | 7
	tag = &Tag{NetworkID: n, Timestamp: 1_700_000_000_123, ID: 42, Value: 0x1234, IssuedTo: member}
	rev = &Revocation{ID: 0xdeadbeef, NetworkID: n, CredentialID: 42, Threshold: 1_700_000_000_999,
		Flags: RevocationFastPropagate, Target: member, CredentialType: CredentialTag}
	coo = &COO{NetworkID: n, Timestamp: 1_700_000_000_123, ID: 1, IssuedTo: member, Things: []Thing{
		ThingFromAddr(netip.MustParseAddr("10.78.0.11")),
		ThingFromAddr(netip.MustParseAddr("fd00:1234::1")),
		ThingFromMAC([6]byte{0x32, 1, 2, 3, 4, 5}),
	}}
	return
}

func TestSignVerifySingleSigner(t *testing.T) {
	ctrl := throwawayID(t)
	stranger := loadID(t, "id2.secret")
	_, tag, rev, coo := sampleCreds(ctrl, stranger.Address)
	parsers := map[string]func([]byte) (signed, int, error){
		"tag": func(b []byte) (signed, int, error) { v, n, err := ParseTag(b); return &v, n, err },
		"revocation": func(b []byte) (signed, int, error) {
			v, n, err := ParseRevocation(b)
			return &v, n, err
		},
		"COO": func(b []byte) (signed, int, error) { v, n, err := ParseCOO(b); return &v, n, err },
	}
	sizes := map[string]int{"tag": TagSize, "revocation": RevocationSize, "COO": 139 + 17*3 + 2}
	for name, c := range map[string]signed{"tag": tag, "revocation": rev, "COO": coo} {
		if err := c.Verify(ctrl); !errors.Is(err, ErrUnsigned) {
			t.Errorf("%s unsigned: %v", name, err)
		}
		if err := c.Sign(ctrl); err != nil {
			t.Fatal(err)
		}
		b := c.AppendMarshal(nil)
		if len(b) != sizes[name] {
			t.Errorf("%s: size %d, want %d", name, len(b), sizes[name])
		}
		back, n, err := parsers[name](b)
		if err != nil || n != len(b) {
			t.Fatalf("%s: parse n=%d err=%v", name, n, err)
		}
		if !reflect.DeepEqual(back, c) {
			t.Errorf("%s: round trip\n got %+v\nwant %+v", name, back, c)
		}
		if err := back.Verify(ctrl); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := back.Verify(stranger); !errors.Is(err, ErrSigner) {
			t.Errorf("%s with another identity: %v", name, err)
		}
		// Every single-byte change breaks parsing or the signature, except
		// inside the extra-fields length, which is not signed... and which
		// changes the length, so parsing fails there too.
		for i := range b {
			if name == "revocation" && (i < 4 || i >= 16 && i < 20) {
				continue // reserved fields: not signed (zeros are), see TestReservedAndExtraKeptButUnsigned
			}
			x := bytes.Clone(b)
			x[i] ^= 0x10
			v, n, err := parsers[name](x)
			if err == nil && n == len(x) && v.Verify(ctrl) == nil {
				t.Fatalf("%s: byte %d flipped still verifies", name, i)
			}
		}
		// Signed by a node that is not the controller.
		if err := c.Sign(stranger); err != nil {
			t.Fatal(err)
		}
		if err := c.Verify(stranger); !errors.Is(err, ErrIssuer) {
			t.Errorf("%s signed by a stranger: %v", name, err)
		}
		// No private key.
		if err := c.Sign(ctrl.PublicOnly()); err == nil {
			t.Errorf("%s: signed without a private key", name)
		}
	}
	if !coo.OwnsAddr(netip.MustParseAddr("::ffff:10.78.0.11")) || !coo.OwnsAddr(netip.MustParseAddr("fd00:1234::1")) ||
		!coo.OwnsMAC([6]byte{0x32, 1, 2, 3, 4, 5}) || coo.OwnsMAC([6]byte{0x32, 1, 2, 3, 4, 6}) ||
		coo.Owns(Thing{}) || coo.OwnsAddr(netip.MustParseAddr("10.78.0.12")) {
		t.Error("COO ownership")
	}
	if CredentialTag.String() != "tag" || CredentialType(9).String() != "type-9" {
		t.Error("credential type names")
	}
}

func TestReservedAndExtraKeptButUnsigned(t *testing.T) {
	ctrl := throwawayID(t)
	_, tag, rev, _ := sampleCreds(ctrl, 0x0102030405)
	if err := rev.Sign(ctrl); err != nil {
		t.Fatal(err)
	}
	rev.Reserved0, rev.Reserved1, rev.Extra = 7, 9, []byte{1, 2, 3}
	b := rev.AppendMarshal(nil)
	back, n, err := ParseRevocation(b)
	if err != nil || n != len(b) || !reflect.DeepEqual(back, *rev) {
		t.Fatalf("round trip: %v", err)
	}
	if err := back.Verify(ctrl); err != nil {
		t.Errorf("reserved fields and extra are not signed: %v", err)
	}
	// A signature of another type is skipped by readers and never verifies.
	if err := tag.Sign(ctrl); err != nil {
		t.Fatal(err)
	}
	tag.Signature = Signature{Type: 2, Data: []byte{1, 2, 3, 4}}
	tb, n2, err := ParseTag(tag.AppendMarshal(nil))
	if err != nil || n2 != TagSize-96+4 {
		t.Fatalf("type-2 signature: %v", err)
	}
	if err := tb.Verify(ctrl); !errors.Is(err, ErrSignature) {
		t.Errorf("type-2 signature verified: %v", err)
	}
}

func TestCapabilityChain(t *testing.T) {
	ctrl := throwawayID(t)
	a, b := loadID(t, "id2.secret"), loadID(t, "id3.secret")
	n := uint64(ctrl.Address)<<24 | 1
	rs := []rules.Rule{
		{Type: rules.MatchEtherType, EtherType: 0x0806},
		{Type: rules.MatchIPDestPortRange, Start: 22, End: 22, Not: true},
		{Type: rules.ActionAccept},
	}
	c := Capability{NetworkID: n, Timestamp: 1_700_000_000_000, ID: 1000, Rules: rs, MaxCustody: 2}
	if err := c.Verify(Known(ctrl)); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	if err := c.Sign(ctrl, a.Address); err != nil {
		t.Fatal(err)
	}
	if err := c.Verify(Known(ctrl)); err != nil {
		t.Fatal(err)
	}
	if c.IssuedTo() != a.Address {
		t.Errorf("issued to %s", c.IssuedTo())
	}
	if err := c.Sign(a, b.Address); err != nil {
		t.Fatal(err)
	}
	if err := c.Sign(b, ctrl.Address); !errors.Is(err, ErrChain) {
		t.Errorf("chain over max: %v", err)
	}
	w := c.AppendMarshal(nil)
	back, k, err := ParseCapability(w)
	if err != nil || k != len(w) || !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip: k=%d/%d %v", k, len(w), err)
	}
	if err := back.Verify(Known(ctrl, a)); err != nil {
		t.Fatal(err)
	}
	if back.IssuedTo() != b.Address {
		t.Errorf("issued to %s", back.IssuedTo())
	}
	if addr, ok := IsUnknownSigner(back.Verify(Known(ctrl))); !ok || addr != a.Address {
		t.Errorf("unknown signer not reported: %v", back.Verify(Known(ctrl)))
	}
	// A resolver that lies about the address.
	liar := func(identity.Address) *identity.Identity { return b }
	if err := back.Verify(liar); !errors.Is(err, ErrSigner) {
		t.Errorf("lying resolver: %v", err)
	}
	// Entry 1 not from entry 0's holder.
	bad := back
	bad.Custody = append([]Custody(nil), back.Custody...)
	bad.Custody[1].From = b.Address
	if err := bad.Verify(Known(ctrl, a, b)); !errors.Is(err, ErrChain) {
		t.Errorf("broken chain: %v", err)
	}
	// First entry not from the controller.
	c2 := Capability{NetworkID: n, ID: 1, MaxCustody: 1}
	if err := c2.Sign(a, b.Address); err != nil {
		t.Fatal(err)
	}
	if err := c2.Verify(Known(ctrl, a)); !errors.Is(err, ErrIssuer) {
		t.Errorf("non-controller issuer: %v", err)
	}
	// Flip every byte: parse error or verification failure, except in the
	// last entry's recipient: no signature covers the chain's addresses
	// (the reference signs the same message for every entry), so only the
	// chain rules protect them, and the last "to" has no successor.
	lastTo := len(w) - 2 - 5 - (5 + 5 + 3 + 96)
	for i := range w {
		x := bytes.Clone(w)
		x[i] ^= 0x20
		v, k, err := ParseCapability(x)
		ok := err == nil && k == len(x) && v.Verify(Known(ctrl, a, b)) == nil
		if inLast := i >= lastTo && i < lastTo+5; ok != inLast {
			t.Fatalf("byte %d flipped: verifies=%v", i, ok)
		}
	}
	if err := (&Capability{MaxCustody: 0}).Sign(ctrl, a.Address); !errors.Is(err, ErrInvalid) {
		t.Errorf("max custody 0: %v", err)
	}
	if err := (&Capability{MaxCustody: 1}).Sign(ctrl, 0); !errors.Is(err, ErrChain) {
		t.Errorf("to zero: %v", err)
	}
}

func TestCapabilityParseErrors(t *testing.T) {
	ctrl := throwawayID(t)
	c := Capability{NetworkID: uint64(ctrl.Address) << 24, ID: 1, MaxCustody: 1,
		Rules: []rules.Rule{{Type: rules.ActionAccept}}}
	if err := c.Sign(ctrl, 0x0102030405); err != nil {
		t.Fatal(err)
	}
	good := c.AppendMarshal(nil)
	const mOff = 8 + 8 + 4 + 2 + 2 // offset of M with one 2-byte rule
	mod := func(off int, v ...byte) []byte {
		b := bytes.Clone(good)
		copy(b[off:], v)
		return b
	}
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"65 rules":       {mod(20, 0, 65), ErrInvalid},
		"rules cut":      {good[:25], ErrTruncated},
		"bad rule":       {mod(22, 0x25, 0x00), rules.ErrInvalid},
		"M 0":            {mod(mOff, 0), ErrInvalid},
		"M 8":            {mod(mOff, 8), ErrInvalid},
		"sig length 95":  {mod(mOff+1+10+1, 0, 95), ErrInvalid},
		"truncated":      {good[:len(good)-1], ErrTruncated},
		"no terminator":  {good[:len(good)-7], ErrTruncated},
		"chain too long": {chainTooLong(t, good, mOff), ErrInvalid},
	} {
		if _, _, err := ParseCapability(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

// chainTooLong duplicates the single custody entry of a capability with
// M = 1.
func chainTooLong(t *testing.T, good []byte, mOff int) []byte {
	entry := good[mOff+1 : mOff+1+5+5+3+96]
	var b []byte
	b = append(b, good[:mOff+1]...)
	b = append(b, entry...)
	b = append(b, entry...)
	return append(b, good[mOff+1+len(entry):]...)
}

func TestOtherParseErrors(t *testing.T) {
	ctrl := throwawayID(t)
	_, tag, rev, coo := sampleCreds(ctrl, 0x0102030405)
	for _, s := range []signed{tag, rev, coo} {
		if err := s.Sign(ctrl); err != nil {
			t.Fatal(err)
		}
	}
	tb, rb, cb := tag.AppendMarshal(nil), rev.AppendMarshal(nil), coo.AppendMarshal(nil)
	many := &COO{Things: make([]Thing, 17)}
	for name, tc := range map[string]struct {
		err  error
		want error
	}{
		"tag sig length": {parseErr(ParseTag(mod(tb, 35, 0, 97))), ErrInvalid},
		"tag cut":        {parseErr(ParseTag(tb[:100])), ErrTruncated},
		"tag extra cut":  {parseErr(ParseTag(mod(tb, 133, 0, 1))), ErrTruncated},
		"rev sig length": {parseErr(ParseRevocation(mod(rb, 52, 1, 0))), ErrInvalid},
		"rev cut":        {parseErr(ParseRevocation(rb[:151])), ErrTruncated},
		"coo 17 things":  {parseErr(ParseCOO(many.AppendMarshal(nil))), ErrInvalid},
		"coo cut":        {parseErr(ParseCOO(cb[:40])), ErrTruncated},
		"coo sign 17":    {many.Sign(ctrl), ErrInvalid},
		"empty":          {parseErr(ParseTag(nil)), ErrTruncated},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", name, tc.err, tc.want)
		}
	}
}

func mod(b []byte, off int, v ...byte) []byte {
	b = bytes.Clone(b)
	copy(b[off:], v)
	return b
}

func parseErr[T any](_ T, _ int, err error) error { return err }
