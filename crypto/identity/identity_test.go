package identity

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func readVectors(t testing.TB) (good, bad string) {
	t.Helper()
	b, err := os.ReadFile("../../testdata/crypto.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Good string `json:"known_good_identity"`
		Bad  string `json:"known_bad_identity"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v.Good, v.Bad
}

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/session1/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustParse(t testing.TB, s string) *Identity {
	t.Helper()
	id, err := Parse(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return id
}

func TestKnownIdentities(t *testing.T) {
	good, bad := readVectors(t)
	if !mustParse(t, good).LocallyValidate() {
		t.Error("known-good identity does not validate")
	}
	if mustParse(t, bad).LocallyValidate() {
		t.Error("known-bad identity validates")
	}
	for _, n := range []string{"id1", "id2", "id3"} {
		sec := readFile(t, n+".secret")
		pub := readFile(t, n+".public")
		s := mustParse(t, sec)
		if !s.HasPrivate() || !s.LocallyValidate() {
			t.Errorf("%s.secret does not validate", n)
		}
		if s.SecretString() != sec || s.String() != pub {
			t.Errorf("%s: string forms differ from the reference's files", n)
		}
		p := mustParse(t, pub)
		if p.HasPrivate() || !p.LocallyValidate() || !p.Equal(s) {
			t.Errorf("%s.public does not validate or differs from the secret", n)
		}
	}
}

func TestTamperedIdentitiesFail(t *testing.T) {
	sec := readFile(t, "id2.secret")
	f := strings.Split(sec, ":")
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == '0' {
			b[i] = '1'
		} else {
			b[i] = '0'
		}
		return string(b)
	}
	cases := map[string]string{
		"address":         strings.Join([]string{flip(f[0], 9), f[1], f[2], f[3]}, ":"),
		"x25519 public":   strings.Join([]string{f[0], f[1], flip(f[2], 3), f[3]}, ":"),
		"ed25519 public":  strings.Join([]string{f[0], f[1], flip(f[2], 100), f[3]}, ":"),
		"x25519 private":  strings.Join([]string{f[0], f[1], f[2], flip(f[3], 5)}, ":"),
		"ed25519 private": strings.Join([]string{f[0], f[1], f[2], flip(f[3], 120)}, ":"),
	}
	for name, s := range cases {
		id, err := Parse(s)
		if err != nil {
			continue // a tampered form that no longer parses is rejected too
		}
		if id.LocallyValidate() {
			t.Errorf("identity with tampered %s validates", name)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good, _ := readVectors(t)
	f := strings.Split(good, ":")
	for _, s := range []string{
		"",
		"8e4df28b72",
		"8e4df28b72:0",
		strings.Join([]string{f[0], "1", f[2]}, ":"),
		strings.Join([]string{"0000000000", f[1], f[2]}, ":"),
		strings.Join([]string{"ff4df28b72", f[1], f[2]}, ":"),
		strings.Join([]string{"zz4df28b72", f[1], f[2]}, ":"),
		strings.Join([]string{f[0], f[1], f[2][:126]}, ":"),
		strings.Join([]string{f[0], f[1], f[2] + "0g"}, ":"),
		strings.Join([]string{f[0], f[1], f[2], f[3] + strings.Repeat("0", 200)}, ":"),
		strings.Join([]string{f[0], f[1], f[2], f[3][:10]}, ":"),
		strings.Join([]string{f[0], f[1], f[2], f[3], "00"}, ":"),
		strings.Join([]string{f[0], f[1], "g" + f[2][1:]}, ":"),
	} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%.40q...) succeeded", s)
		}
	}
}

// The reference skips empty fields and ignores extra hex digits; identity
// files written by hand or by other tools rely on that.
func TestParseLenient(t *testing.T) {
	good, _ := readVectors(t)
	want := mustParse(t, good)
	f := strings.Split(good, ":")
	for _, s := range []string{
		good + ":",
		good + "\r\n",
		strings.Join([]string{f[0], f[1], f[2] + "00", f[3] + "abcd"}, ":"),
		strings.Join([]string{f[0], "", f[1], f[2], f[3]}, ":"),
	} {
		id, err := Parse(s)
		if err != nil || !id.Equal(want) || *id.Private != *want.Private {
			t.Errorf("Parse(%.30q...): %v", s, err)
		}
	}
	if id, err := Parse(strings.Join(f[:3], ":") + ":"); err != nil || id.HasPrivate() {
		t.Errorf("public form with a trailing colon: %v", err)
	}
}

func TestBinaryRoundTrip(t *testing.T) {
	s := mustParse(t, readFile(t, "id1.secret"))
	pubBin := s.AppendBinary(nil, false)
	if len(pubBin) != PublicBinaryLength {
		t.Fatalf("public binary length %d", len(pubBin))
	}
	p, n, err := ParseBinary(append(pubBin, 0xaa))
	if err != nil || n != PublicBinaryLength || !p.Equal(s) || p.HasPrivate() {
		t.Fatalf("public round trip: %v n=%d", err, n)
	}
	secBin := s.AppendBinary(nil, true)
	q, n, err := ParseBinary(secBin)
	if err != nil || n != PrivateBinaryLength || *q.Private != *s.Private {
		t.Fatalf("private round trip: %v n=%d", err, n)
	}
	bad := bytes.Clone(pubBin)
	bad[5] = 1
	if _, _, err := ParseBinary(bad); err == nil {
		t.Error("type 1 accepted")
	}
	bad = bytes.Clone(pubBin)
	bad[70] = 32
	if _, _, err := ParseBinary(bad); err == nil {
		t.Error("private length 32 accepted")
	}
	if _, _, err := ParseBinary(secBin[:100]); err == nil {
		t.Error("truncated private key accepted")
	}
	for i := range pubBin {
		if _, _, err := ParseBinary(pubBin[:i]); err == nil {
			t.Fatalf("truncated to %d accepted", i)
		}
	}
}

func TestGenerateSignAgree(t *testing.T) {
	a, err := Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !a.LocallyValidate() {
		t.Fatal("generated identity does not validate")
	}
	b := mustParse(t, readFile(t, "id3.secret"))
	k1, err := a.Agree(b)
	if err != nil {
		t.Fatal(err)
	}
	k2, err := b.Agree(a.PublicOnly())
	if err != nil || k1 != k2 {
		t.Fatal("agreement is not symmetric")
	}
	msg := []byte("hello")
	sig, err := a.Sign(msg)
	if err != nil || !a.PublicOnly().Verify(msg, sig[:]) || b.Verify(msg, sig[:]) {
		t.Fatal("sign/verify mismatch")
	}
	if _, err := a.PublicOnly().Sign(msg); err == nil {
		t.Fatal("signing without a private key succeeded")
	}
	again := mustParse(t, a.SecretString())
	if !again.Equal(a) || *again.Private != *a.Private {
		t.Fatal("string round trip lost data")
	}
}

func TestSessionSharedKeys(t *testing.T) {
	// The capture lists the 48-byte key of each pair; recompute them.
	want := map[string]string{}
	for _, line := range strings.Split(readFile(t, "zt-session-decrypted.txt"), "\n") {
		if strings.HasPrefix(line, "KEY ") {
			f := strings.Fields(line)
			want[f[1]] = strings.TrimPrefix(f[2], "shared48=")
		}
	}
	ids := map[string]*Identity{}
	for _, n := range []string{"id1", "id2", "id3"} {
		id := mustParse(t, readFile(t, n+".secret"))
		ids[id.Address.String()] = id
	}
	if len(want) < 3 {
		t.Fatalf("found %d key lines", len(want))
	}
	for pair, hexKey := range want {
		p := strings.Split(pair, "<->")
		k, err := ids[p[0]].Agree(ids[p[1]])
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimSpace(hexKey); got != bytesHex(k[:]) {
			t.Errorf("%s: shared key %x, capture says %s", pair, k, got)
		}
	}
}

func bytesHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestAddress(t *testing.T) {
	a, err := ParseAddress("f737c19395")
	if err != nil || a.String() != "f737c19395" {
		t.Fatal(err)
	}
	var b [5]byte
	a.Put(b[:])
	if AddressFromBytes(b[:]) != a || string(a.AppendTo(nil)) != string(b[:]) {
		t.Fatal("address byte round trip")
	}
	for _, s := range []string{"", "0", "ff00000001", "12345678901", "xyz"} {
		if _, err := ParseAddress(s); err == nil {
			t.Errorf("ParseAddress(%q) succeeded", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	good, bad := readVectors(f)
	f.Add(good)
	f.Add(bad)
	f.Add(readFile(f, "id1.public"))
	f.Fuzz(func(t *testing.T, s string) {
		id, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(id.SecretString())
		if err != nil || !again.Equal(id) {
			t.Fatalf("round trip failed: %v", err)
		}
	})
}

func FuzzParseBinary(f *testing.F) {
	s := mustParse(f, readFile(f, "id1.secret"))
	f.Add(s.AppendBinary(nil, false))
	f.Add(s.AppendBinary(nil, true))
	f.Fuzz(func(t *testing.T, b []byte) {
		id, n, err := ParseBinary(b)
		if err != nil {
			return
		}
		out := id.AppendBinary(nil, true)
		if !bytes.Equal(out, b[:n]) {
			t.Fatalf("re-marshal differs")
		}
	})
}

func BenchmarkLocallyValidate(b *testing.B) {
	good, _ := readVectors(b)
	id := mustParse(b, good)
	for b.Loop() {
		if !id.LocallyValidate() {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		if _, err := Generate(rand.Reader); err != nil {
			b.Fatal(err)
		}
	}
}
