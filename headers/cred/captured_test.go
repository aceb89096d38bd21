package cred

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

// verifyAll verifies every credential in c with the controller identity.
func verifyAll(c *Credentials, ctrl *identity.Identity) error {
	for i := range c.COMs {
		if err := c.COMs[i].Verify(ctrl); err != nil {
			return err
		}
	}
	for i := range c.Capabilities {
		if err := c.Capabilities[i].Verify(Known(ctrl)); err != nil {
			return err
		}
	}
	for i := range c.Tags {
		if err := c.Tags[i].Verify(ctrl); err != nil {
			return err
		}
	}
	for i := range c.Revocations {
		if err := c.Revocations[i].Verify(ctrl); err != nil {
			return err
		}
	}
	for i := range c.COOs {
		if err := c.COOs[i].Verify(ctrl); err != nil {
			return err
		}
	}
	return nil
}

func TestCapturedNetworkCredentials(t *testing.T) {
	ctrl := loadID(t, "id1.public")
	members := map[identity.Address]*identity.Identity{}
	for _, n := range []string{"id2.public", "id3.public"} {
		id := loadID(t, n)
		members[id.Address] = id
	}
	wantIP := map[identity.Address]string{0xafee230b1a: "10.78.0.11", 0x2e57b20512: "10.78.0.12"}
	for i, p := range credentialPayloads(t) {
		c, n, err := ParseCredentials(p)
		if err != nil || n != len(p) {
			t.Fatalf("payload %d: n=%d/%d err=%v", i, n, len(p), err)
		}
		if len(c.COMs) != 1 || len(c.COOs) != 1 || c.Sections != 4 ||
			len(c.Capabilities)+len(c.Tags)+len(c.Revocations) != 0 {
			t.Fatalf("payload %d: content %d COMs, %d COOs, %d sections", i, len(c.COMs), len(c.COOs), c.Sections)
		}
		if out := c.AppendMarshal(nil); !bytes.Equal(out, p) {
			t.Fatalf("payload %d: re-marshal differs\n got %x\nwant %x", i, out, p)
		}
		if err := verifyAll(&c, ctrl); err != nil {
			t.Fatalf("payload %d: %v", i, err)
		}
		com, coo := &c.COMs[0], &c.COOs[0]
		member := members[com.IssuedTo()]
		if member == nil {
			t.Fatalf("payload %d: COM issued to unknown %s", i, com.IssuedTo())
		}
		if com.NetworkID() != nwid || len(com.Qualifiers) != COMQualifierCount || com.SignedBy != ctrl.Address {
			t.Errorf("payload %d: COM %+v", i, com)
		}
		if q, _ := com.Qualifier(QualifierTimestamp); q.MaxDelta != 1800000 {
			t.Errorf("payload %d: COM max delta %d", i, q.MaxDelta)
		}
		h := IdentityHash(member)
		for k := range 4 {
			if q, _ := com.Qualifier(uint64(QualifierIdentityHash + k)); q.Value != h[k] {
				t.Errorf("payload %d: identity hash word %d %x, want %x", i, k, q.Value, h[k])
			}
		}
		// The COM the controller would issue now is the captured one.
		again := NewCOM(com.Timestamp(), 1800000, nwid, member)
		again.SignedBy, again.Signature = com.SignedBy, com.Signature
		if !bytes.Equal(again.AppendMarshal(nil), com.AppendMarshal(nil)) {
			t.Errorf("payload %d: NewCOM differs from the captured COM", i)
		}
		if coo.IssuedTo != member.Address || coo.ID != 1 || coo.Timestamp != com.Timestamp() || len(coo.Things) != 1 {
			t.Errorf("payload %d: COO %+v", i, coo)
		}
		ip := netip.MustParseAddr(wantIP[member.Address])
		if !coo.OwnsAddr(ip) || coo.OwnsAddr(ip.Next()) || coo.Things[0].String() != ip.String() {
			t.Errorf("payload %d: COO things %v", i, coo.Things)
		}
	}
}

// TestCapturedResign re-signs captured credentials with the controller's
// secret key: Ed25519 is deterministic, so the signatures must come out
// byte for byte as captured, proving the signed messages are right.
func TestCapturedResign(t *testing.T) {
	ctrl := loadID(t, "id1.secret")
	for i, p := range credentialPayloads(t) {
		c, _, err := ParseCredentials(p)
		if err != nil {
			t.Fatal(err)
		}
		com := c.COMs[0]
		com.Signature = [96]byte{}
		if err := com.Sign(ctrl); err != nil {
			t.Fatal(err)
		}
		if com.Signature != c.COMs[0].Signature {
			t.Errorf("payload %d: COM signature differs", i)
		}
		coo := c.COOs[0]
		coo.Signature = Signature{}
		if err := coo.Sign(ctrl); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(coo.Signature.Data, c.COOs[0].Signature.Data) {
			t.Errorf("payload %d: COO signature differs", i)
		}
	}
}

func TestCapturedConfigBlobs(t *testing.T) {
	ctrl := loadID(t, "id1.public")
	for name, d := range configDicts(t) {
		blob, ok := dictValue(d, "C")
		if !ok {
			t.Fatalf("%s: no C", name)
		}
		com, n, err := ParseCOM(blob)
		if err != nil || n != len(blob) {
			t.Fatalf("%s: COM n=%d/%d err=%v", name, n, len(blob), err)
		}
		if err := com.Verify(ctrl); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !bytes.Equal(com.AppendMarshal(nil), blob) {
			t.Errorf("%s: COM re-marshal differs", name)
		}
		blob, ok = dictValue(d, "COO")
		if !ok {
			t.Fatalf("%s: no COO", name)
		}
		coos, err := ParseCOOs(blob)
		if err != nil || len(coos) != 1 {
			t.Fatalf("%s: %d COOs, %v", name, len(coos), err)
		}
		if err := coos[0].Verify(ctrl); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !bytes.Equal(AppendCOOs(nil, coos), blob) {
			t.Errorf("%s: COO re-marshal differs", name)
		}
		for _, k := range []string{"CAP", "TAG"} {
			if _, ok := dictValue(d, k); ok {
				t.Errorf("%s: unexpected %s", name, k)
			}
		}
	}
}

// TestCapturedTamper flips every byte of every captured payload in turn:
// each change must make parsing fail or some credential fail to verify.
func TestCapturedTamper(t *testing.T) {
	ctrl := loadID(t, "id1.public")
	for i, p := range credentialPayloads(t) {
		for k := range p {
			for _, x := range []byte{0x01, 0x80, 0xff} {
				b := bytes.Clone(p)
				b[k] ^= x
				c, n, err := ParseCredentials(b)
				if err != nil {
					continue
				}
				if err := verifyAll(&c, ctrl); err != nil {
					continue
				}
				if n != len(b) {
					continue // trailing bytes are ignored, but the COO is gone
				}
				t.Fatalf("payload %d: byte %d ^ %#02x still parses and verifies", i, k, x)
			}
		}
	}
}

func TestCapturedWrongSigner(t *testing.T) {
	p := credentialPayloads(t)[0]
	c, _, err := ParseCredentials(p)
	if err != nil {
		t.Fatal(err)
	}
	member := loadID(t, "id2.public")
	other := throwawayID(t)
	// A look-alike controller with the right address but another key.
	fake := &identity.Identity{Address: 0xf737c19395, Public: other.Public}
	for _, c := range []struct {
		id   *identity.Identity
		want error
	}{
		{member, ErrSigner},
		{nil, ErrSigner},
		{fake, ErrSignature},
	} {
		if err := comOf(p).Verify(c.id); !errors.Is(err, c.want) {
			t.Errorf("COM with %v: %v, want %v", c.id, err, c.want)
		}
	}
	if err := c.COOs[0].Verify(fake); !errors.Is(err, ErrSignature) {
		t.Errorf("COO with fake: %v", err)
	}
	if err := c.COOs[0].Verify(member); !errors.Is(err, ErrSigner) {
		t.Errorf("COO with member: %v", err)
	}
}

func comOf(p []byte) *COM {
	c, _, err := ParseCOM(p)
	if err != nil {
		panic(err)
	}
	return &c
}
