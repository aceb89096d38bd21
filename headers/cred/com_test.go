package cred

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

// memberCOMs returns the captured COMs of afee230b1a and 2e57b20512.
func memberCOMs(t *testing.T) (a, b COM) {
	t.Helper()
	got := map[identity.Address]COM{}
	for _, p := range credentialPayloads(t) {
		c, _, err := ParseCredentials(p)
		if err != nil {
			t.Fatal(err)
		}
		got[c.COMs[0].IssuedTo()] = c.COMs[0]
	}
	a, ok1 := got[0xafee230b1a]
	b, ok2 := got[0x2e57b20512]
	if !ok1 || !ok2 {
		t.Fatalf("member COMs not found: %v", got)
	}
	return a, b
}

func cloneCOM(c COM) COM {
	c.Qualifiers = slices.Clone(c.Qualifiers)
	return c
}

func TestCOMAgreement(t *testing.T) {
	comA, comB := memberCOMs(t)
	idA, idB := loadID(t, "id2.public"), loadID(t, "id3.public")
	if err := comA.CheckAgreement(&comB, idB); err != nil {
		t.Errorf("A agrees with B: %v", err)
	}
	if err := comB.CheckAgreement(&comA, idA); err != nil {
		t.Errorf("B agrees with A: %v", err)
	}
	if !comA.AgreesWith(&comB, idB) {
		t.Error("AgreesWith")
	}
	// Wrong identity for their COM: identity hash mismatch.
	if comA.AgreesWith(&comB, idA) || comB.AgreesWith(&comA, idB) {
		t.Error("agreement with the wrong identity")
	}
	if comA.AgreesWith(&comB, nil) {
		t.Error("agreement with no identity")
	}

	// Timestamps: my maxDelta (30 min) decides.
	far := cloneCOM(comB)
	far.Qualifiers[0].Value = comA.Qualifiers[0].Value + comA.Qualifiers[0].MaxDelta + 1
	if err := comA.CheckAgreement(&far, idB); err == nil {
		t.Error("agreement with a timestamp too far ahead")
	}
	far.Qualifiers[0].Value = comA.Qualifiers[0].Value - comA.Qualifiers[0].MaxDelta - 1
	if comA.AgreesWith(&far, idB) {
		t.Error("agreement with a timestamp too far behind")
	}
	far.Qualifiers[0].Value = comA.Qualifiers[0].Value + comA.Qualifiers[0].MaxDelta
	if !comA.AgreesWith(&far, idB) {
		t.Error("no agreement at exactly maxDelta")
	}
	// Their delta does not matter from my side; mine does.
	strict := cloneCOM(comA)
	strict.Qualifiers[0].MaxDelta = 0
	if strict.AgreesWith(&comB, idB) || !comB.AgreesWith(&strict, idA) {
		t.Error("maxDelta applied from the wrong side")
	}

	// Another network.
	other := cloneCOM(comB)
	other.Qualifiers[1].Value++
	if comA.AgreesWith(&other, idB) {
		t.Error("agreement across networks")
	}
	// A missing qualifier.
	short := cloneCOM(comB)
	short.Qualifiers = short.Qualifiers[:6]
	if comA.AgreesWith(&short, idB) {
		t.Error("agreement with qualifier 6 missing")
	}
	// Empty certificates never agree.
	if comA.AgreesWith(&COM{}, idB) || (&COM{}).AgreesWith(&comA, idA) {
		t.Error("agreement with an empty COM")
	}
	// Without identity qualifiers on my side, no identity check.
	legacy := cloneCOM(comA)
	legacy.Qualifiers = legacy.Qualifiers[:3]
	if !legacy.AgreesWith(&comB, idA) {
		t.Error("legacy COM should not check the identity")
	}
}

func TestCOMSignVerify(t *testing.T) {
	ctrl := throwawayID(t)
	member := loadID(t, "id2.public")
	n := uint64(ctrl.Address)<<24 | 0x000042
	com := NewCOM(1_700_000_000_000, 1800000, n, member)
	if err := com.Verify(ctrl); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned: %v", err)
	}
	if got := len(com.AppendMarshal(nil)); got != 3+7*24+5 {
		t.Errorf("unsigned size %d", got)
	}
	if err := com.Sign(ctrl); err != nil {
		t.Fatal(err)
	}
	b := com.AppendMarshal(nil)
	if len(b) != 3+7*24+5+96 {
		t.Errorf("signed size %d", len(b))
	}
	back, k, err := ParseCOM(b)
	if err != nil || k != len(b) {
		t.Fatal(err)
	}
	if err := back.Verify(ctrl); err != nil {
		t.Fatal(err)
	}
	if back.IssuedTo() != member.Address || back.NetworkID() != n || back.Timestamp() != 1_700_000_000_000 {
		t.Errorf("fields %+v", back)
	}
	// Signed by someone who is not the controller of the COM's network.
	notCtrl := loadID(t, "id1.secret")
	if err := com.Sign(notCtrl); err != nil {
		t.Fatal(err)
	}
	if err := com.Verify(notCtrl); !errors.Is(err, ErrIssuer) {
		t.Errorf("non-controller: %v", err)
	}
	// No private key.
	if err := com.Sign(member); err == nil {
		t.Error("signed without a private key")
	}
	// Flip each byte of the signed form.
	for i := range b {
		x := bytes.Clone(b)
		x[i] ^= 0x04
		c, k, err := ParseCOM(x)
		if err == nil && k == len(x) && c.Verify(ctrl) == nil {
			t.Fatalf("byte %d flipped still verifies", i)
		}
	}
}

func TestCOMParseErrors(t *testing.T) {
	ctrl := throwawayID(t)
	com := NewCOM(1, 2, uint64(ctrl.Address)<<24, ctrl)
	if err := com.Sign(ctrl); err != nil {
		t.Fatal(err)
	}
	good := com.AppendMarshal(nil)
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":         {nil, ErrTruncated},
		"marker":        {append([]byte{2}, good[1:]...), ErrInvalid},
		"9 qualifiers":  {append([]byte{1, 0, 9}, good[3:]...), ErrInvalid},
		"short":         {good[:len(good)-1], ErrTruncated},
		"no signed-by":  {good[:3+7*24+2], ErrTruncated},
		"out of order":  {append(append([]byte{1, 0, 2}, good[3+24:3+48]...), good[3:3+24]...), ErrInvalid},
		"qualifier cut": {good[:20], ErrTruncated},
	} {
		if _, _, err := ParseCOM(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Unsigned COM: signed-by 0 and no signature.
	u := NewCOM(1, 2, 3, ctrl)
	b := u.AppendMarshal(nil)
	back, n, err := ParseCOM(append(b, 0xee))
	if err != nil || n != len(b) || back.SignedBy != 0 {
		t.Errorf("unsigned parse: %v n=%d", err, n)
	}
	// Equal ids are allowed (non-decreasing).
	dup := COM{Qualifiers: []Qualifier{{1, 1, 0}, {1, 2, 0}}}
	if _, _, err := ParseCOM(dup.AppendMarshal(nil)); err != nil {
		t.Errorf("duplicate ids: %v", err)
	}
}
