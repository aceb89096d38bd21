package cred

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/ztx/ztx/headers/rules"
)

// sampleCredentials returns a payload holding every kind of credential,
// signed by a throwaway controller.
func sampleCredentials(t testing.TB) Credentials {
	ctrl := throwawayID(t)
	member := loadID(t, "id2.public")
	n, tag, rev, coo := sampleCreds(ctrl, member.Address)
	com := NewCOM(1_700_000_000_000, 1800000, n, member)
	capa := Capability{NetworkID: n, Timestamp: 1_700_000_000_000, ID: 5, MaxCustody: 1,
		Rules: []rules.Rule{{Type: rules.ActionDrop}}}
	for _, err := range []error{com.Sign(ctrl), capa.Sign(ctrl, member.Address), tag.Sign(ctrl), rev.Sign(ctrl), coo.Sign(ctrl)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return Credentials{COMs: []COM{com, com}, Capabilities: []Capability{capa}, Tags: []Tag{*tag, *tag},
		Revocations: []Revocation{*rev}, COOs: []COO{*coo}, Sections: 4}
}

func TestCredentialsRoundTrip(t *testing.T) {
	c := sampleCredentials(t)
	b := c.AppendMarshal(nil)
	back, n, err := ParseCredentials(b)
	if err != nil || n != len(b) {
		t.Fatalf("n=%d/%d %v", n, len(b), err)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs")
	}
	if err := verifyAll(&back, throwawayID(t)); err != nil {
		t.Fatal(err)
	}
	// Trailing bytes after the COO section are not read.
	if _, n, err := ParseCredentials(append(bytes.Clone(b), 1, 2, 3)); err != nil || n != len(b) {
		t.Errorf("trailing bytes: n=%d %v", n, err)
	}
}

func TestCredentialsSections(t *testing.T) {
	full := sampleCredentials(t)
	com := full.COMs[0].AppendMarshal(nil)
	for name, tc := range map[string]struct {
		c        Credentials
		want     []byte
		sections int
	}{
		"empty":            {Credentials{}, []byte{0}, 0},
		"COM only":         {Credentials{COMs: full.COMs[:1]}, append(bytes.Clone(com), 0), 0},
		"all four, empty":  {Credentials{Sections: 4}, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0}, 4},
		"tags need two":    {Credentials{Tags: full.Tags[:1]}, append([]byte{0, 0, 0, 0, 1}, full.Tags[0].AppendMarshal(nil)...), 2},
		"sections clamped": {Credentials{Sections: 9}, []byte{0, 0, 0, 0, 0, 0, 0, 0, 0}, 4},
	} {
		b := tc.c.AppendMarshal(nil)
		if !bytes.Equal(b, tc.want) {
			t.Errorf("%s: %x, want %x", name, b, tc.want)
			continue
		}
		back, n, err := ParseCredentials(b)
		if err != nil || n != len(b) || back.Sections != tc.sections {
			t.Errorf("%s: parse n=%d sections=%d %v", name, n, back.Sections, err)
		}
	}
	// A payload from an old sender: COMs and no terminator.
	back, n, err := ParseCredentials(com)
	if err != nil || n != len(com) || len(back.COMs) != 1 || back.Sections != 0 {
		t.Errorf("no terminator: %v", err)
	}
	for name, tc := range map[string]struct {
		b    []byte
		want error
	}{
		"bad COM":        {[]byte{2, 0, 0}, ErrInvalid},
		"half count":     {[]byte{0, 0}, ErrTruncated},
		"missing cap":    {[]byte{0, 0, 1}, ErrTruncated},
		"missing tag":    {[]byte{0, 0, 0, 0, 1, 1}, ErrTruncated},
		"missing rev":    {[]byte{0, 0, 0, 0, 0, 0, 1}, ErrTruncated},
		"missing COO":    {[]byte{0, 0, 0, 0, 0, 0, 0, 0, 1}, ErrTruncated},
		"COM after junk": {append(bytes.Clone(com[:40]), 0), ErrTruncated},
	} {
		if _, _, err := ParseCredentials(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestConfigBlobs(t *testing.T) {
	c := sampleCredentials(t)
	caps, err := ParseCapabilities(AppendCapabilities(nil, c.Capabilities))
	if err != nil || !reflect.DeepEqual(caps, c.Capabilities) {
		t.Errorf("CAP: %v", err)
	}
	tb := AppendTags(nil, c.Tags)
	tags, err := ParseTags(tb)
	if err != nil || !reflect.DeepEqual(tags, c.Tags) {
		t.Errorf("TAG: %v", err)
	}
	// A bad second tag: the first is returned with the error.
	tags, err = ParseTags(tb[:len(tb)-1])
	if !errors.Is(err, ErrTruncated) || len(tags) != 1 {
		t.Errorf("TAG cut: %d %v", len(tags), err)
	}
	coos, err := ParseCOOs(AppendCOOs(nil, c.COOs))
	if err != nil || !reflect.DeepEqual(coos, c.COOs) {
		t.Errorf("COO: %v", err)
	}
	if v, err := ParseCOOs(nil); v != nil || err != nil {
		t.Error("empty blob")
	}
}
