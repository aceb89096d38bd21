package cred

import (
	"bytes"
	"reflect"
	"testing"
)

// Fuzz targets: parsing never panics; whatever parses re-marshals to the
// exact bytes it was read from and parses again to the same value; and
// Verify on it returns (never panics).

// seeds returns captured and generated credential bytes.
func seeds(f *testing.F) (payloads [][]byte, c Credentials) {
	payloads = credentialPayloads(f)
	c = sampleCredentials(f)
	payloads = append(payloads, c.AppendMarshal(nil))
	for _, d := range configDicts(f) {
		for _, k := range []string{"C", "COO"} {
			if v, ok := dictValue(d, k); ok {
				payloads = append(payloads, v)
			}
		}
	}
	return payloads, c
}

func roundTrip[T any](t *testing.T, b []byte, parse func([]byte) (T, int, error), marshal func(*T, []byte) []byte) (*T, bool) {
	v, n, err := parse(b)
	if err != nil {
		return nil, false
	}
	if n <= 0 || n > len(b) {
		t.Fatalf("n = %d for %d bytes", n, len(b))
	}
	out := marshal(&v, nil)
	if !bytes.Equal(out, b[:n]) {
		t.Fatalf("re-marshal differs\n got %x\nwant %x", out, b[:n])
	}
	again, n2, err := parse(out)
	if err != nil || n2 != len(out) || !reflect.DeepEqual(again, v) {
		t.Fatalf("second parse differs: %v", err)
	}
	return &v, true
}

func FuzzCOM(f *testing.F) {
	ps, c := seeds(f)
	for _, p := range ps {
		f.Add(p)
	}
	f.Add(c.COMs[0].AppendMarshal(nil))
	ctrl := loadID(f, "id1.public")
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := roundTrip(t, b, ParseCOM, (*COM).AppendMarshal); ok {
			_ = v.Verify(ctrl)
			_ = v.CheckAgreement(v, ctrl)
		}
	})
}

func FuzzCapability(f *testing.F) {
	_, c := seeds(f)
	f.Add(c.Capabilities[0].AppendMarshal(nil))
	ctrl := loadID(f, "id1.public")
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := roundTrip(t, b, ParseCapability, (*Capability).AppendMarshal); ok {
			_ = v.Verify(Known(ctrl))
		}
	})
}

func FuzzTag(f *testing.F) {
	_, c := seeds(f)
	f.Add(c.Tags[0].AppendMarshal(nil))
	ctrl := loadID(f, "id1.public")
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := roundTrip(t, b, ParseTag, (*Tag).AppendMarshal); ok {
			_ = v.Verify(ctrl)
		}
	})
}

func FuzzRevocation(f *testing.F) {
	_, c := seeds(f)
	f.Add(c.Revocations[0].AppendMarshal(nil))
	ctrl := loadID(f, "id1.public")
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := roundTrip(t, b, ParseRevocation, (*Revocation).AppendMarshal); ok {
			_ = v.Verify(ctrl)
		}
	})
}

func FuzzCOO(f *testing.F) {
	ps, c := seeds(f)
	for _, p := range ps {
		f.Add(p)
	}
	f.Add(c.COOs[0].AppendMarshal(nil))
	ctrl := loadID(f, "id1.public")
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, ok := roundTrip(t, b, ParseCOO, (*COO).AppendMarshal); ok {
			_ = v.Verify(ctrl)
		}
	})
}

func FuzzCredentials(f *testing.F) {
	ps, _ := seeds(f)
	for _, p := range ps {
		f.Add(p)
	}
	ctrl := loadID(f, "id1.public")
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := ParseCredentials(b)
		if err != nil {
			return
		}
		_ = verifyAll(&c, ctrl)
		out := c.AppendMarshal(nil)
		// Exact, except that a payload of COMs alone gains its terminator.
		if !bytes.Equal(out, b[:n]) && !(n == len(b) && c.Sections == 0 && bytes.Equal(out, append(bytes.Clone(b), 0))) {
			t.Fatalf("re-marshal differs\n got %x\nwant %x", out, b[:n])
		}
		again, n2, err := ParseCredentials(out)
		if err != nil || n2 != len(out) || !reflect.DeepEqual(again, c) {
			t.Fatalf("second parse differs: %v", err)
		}
	})
}
