package world

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"testing"

	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

func readPlanet(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("../../testdata/session1/planet.bin")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSessionPlanet(t *testing.T) {
	b := readPlanet(t)
	w, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if w.Type != TypePlanet || w.ID != 0x7a7a0001 || len(w.Roots) != 1 {
		t.Fatalf("planet: type %s id %x roots %d", w.Type, w.ID, len(w.Roots))
	}
	r := w.Roots[0]
	if r.Identity.Address.String() != "f737c19395" || len(r.StableEndpoints) != 1 || inet.Format(r.StableEndpoints[0]) != "10.77.0.1/9993" {
		t.Fatalf("root %s endpoints %v", r.Identity.Address, r.StableEndpoints)
	}
	if !r.Identity.LocallyValidate() {
		t.Fatal("root identity does not validate")
	}
	if !bytes.Equal(w.AppendMarshal(nil), b) {
		t.Fatal("re-marshalled planet differs from the file")
	}
	if !w.Verify(&w.UpdatesMustBeSignedBy) {
		t.Fatal("planet signature does not verify with its own update key")
	}
}

func TestEarth(t *testing.T) {
	w := Earth()
	if w.Type != TypePlanet || w.ID != IDEarth || w.Timestamp != 1644592324813 || len(w.Roots) != 4 {
		t.Fatalf("earth: %s %d %d roots %d", w.Type, w.ID, w.Timestamp, len(w.Roots))
	}
	want := map[string]string{
		"cafe9efeb9": "104.194.8.134/9993",
		"778cde7190": "103.195.103.66/9993",
		"62f865ae71": "50.7.252.138/9993",
		"cafe04eba9": "84.17.53.155/9993",
	}
	for _, r := range w.Roots {
		if ep, ok := want[r.Identity.Address.String()]; !ok || inet.Format(r.StableEndpoints[0]) != ep || len(r.StableEndpoints) != 2 {
			t.Errorf("unexpected root %s %v", r.Identity.Address, r.StableEndpoints)
		}
	}
	if !w.Verify(&w.UpdatesMustBeSignedBy) {
		t.Fatal("the default planet's signature does not verify")
	}
	if !bytes.Equal(w.AppendMarshal(nil), EarthBytes()) || len(EarthBytes()) != 570 {
		t.Fatal("default planet does not round-trip")
	}
}

func TestForgedWorldFails(t *testing.T) {
	b := readPlanet(t)
	orig, _ := Parse(b)
	key := orig.UpdatesMustBeSignedBy
	for i := range b {
		if i >= 17 && i < 81 {
			continue // the update key itself: checked against the original key below
		}
		bad := bytes.Clone(b)
		bad[i] ^= 0x20
		w, err := Parse(bad)
		if err != nil {
			continue
		}
		if w.Verify(&key) {
			t.Fatalf("world with byte %d changed still verifies", i)
		}
	}
}

func newKey(t *testing.T) (pub, priv [64]byte) {
	t.Helper()
	pub, priv, err := c25519.Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub, priv
}

func TestUpdateRule(t *testing.T) {
	pub1, priv1 := newKey(t)
	pub2, priv2 := newKey(t)
	root, _ := identity.Parse(string(mustRead(t, "../../testdata/session1/id1.public")))
	roots := []Root{{Identity: root, StableEndpoints: []netip.AddrPort{netip.MustParseAddrPort("10.0.0.1:9993")}}}

	v1, err := Make(TypeMoon, 0xdeadbeef00, 100, &pub2, roots, &priv1)
	if err != nil {
		t.Fatal(err)
	}
	if !v1.Verify(&pub1) || v1.Verify(&pub2) {
		t.Fatal("v1 signature")
	}
	if !ShouldReplace(nil, v1) || !ShouldReplace(&World{}, v1) {
		t.Fatal("an empty world must accept anything")
	}
	// v2 must be signed by the key v1 names (pub2).
	v2, _ := Make(TypeMoon, 0xdeadbeef00, 200, &pub2, roots, &priv2)
	if !ShouldReplace(v1, v2) {
		t.Fatal("newer world signed by the named key rejected")
	}
	forged, _ := Make(TypeMoon, 0xdeadbeef00, 300, &pub1, roots, &priv1)
	if ShouldReplace(v1, forged) {
		t.Fatal("world signed by the wrong key accepted")
	}
	older, _ := Make(TypeMoon, 0xdeadbeef00, 50, &pub2, roots, &priv2)
	if ShouldReplace(v1, older) || ShouldReplace(v2, v2) {
		t.Fatal("older or equal timestamp accepted")
	}
	otherID, _ := Make(TypeMoon, 0xdeadbeef01, 400, &pub2, roots, &priv2)
	planet, _ := Make(TypePlanet, 0xdeadbeef00, 400, &pub2, roots, &priv2)
	if ShouldReplace(v1, otherID) || ShouldReplace(v1, planet) {
		t.Fatal("different ID or type accepted")
	}
	// Round trip of a moon, with and without an attached dictionary.
	b := v2.AppendMarshal(nil)
	back, err := Parse(b)
	if err != nil || !bytes.Equal(back.AppendMarshal(nil), b) || !back.Verify(&pub2) {
		t.Fatalf("moon round trip: %v", err)
	}
	back.Dictionary = []byte("a=b")
	if again, err := Parse(back.AppendMarshal(nil)); err != nil || string(again.Dictionary) != "a=b" || !again.Verify(&pub2) {
		t.Fatal("moon dictionary must round-trip and stay outside the signature")
	}
	if FileName(v2.ID) != "000000deadbeef00.moon" {
		t.Fatal(FileName(v2.ID))
	}
}

func TestMakeOrderAndLimits(t *testing.T) {
	pub, priv := newKey(t)
	var roots []Root
	for _, n := range []string{"id3", "id1", "id2"} {
		id, _ := identity.Parse(string(mustRead(t, "../../testdata/session1/"+n+".public")))
		roots = append(roots, Root{Identity: id, StableEndpoints: []netip.AddrPort{
			netip.MustParseAddrPort("[2001:db8::1]:9993"),
			netip.MustParseAddrPort("9.0.0.2:9993"),
			netip.MustParseAddrPort("10.0.0.1:9993"),
			netip.MustParseAddrPort("10.0.0.1:1"),
			netip.MustParseAddrPort("10.0.0.1:256"),
		}})
	}
	w, err := Make(TypePlanet, 1, 1, &pub, roots, &priv)
	if err != nil {
		t.Fatal(err)
	}
	if w.Roots[0].Identity.Address.String() != "2e57b20512" || w.Roots[2].Identity.Address.String() != "f737c19395" {
		t.Fatal("roots not sorted by address")
	}
	var got []string
	for _, ep := range w.Roots[0].StableEndpoints {
		got = append(got, inet.Format(ep))
	}
	// The reference compares ports and IPv4 addresses as little-endian
	// integers of their network-order bytes: port 256 (bytes 01 00) sorts
	// before port 1 (00 01), and 10.0.0.1 before 9.0.0.2.
	want := []string{"10.0.0.1/256", "10.0.0.1/1", "10.0.0.1/9993", "9.0.0.2/9993", "2001:db8::1/9993"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("endpoint order %v, want %v", got, want)
	}
	five := append(roots, roots[0], roots[1])
	if _, err := Make(TypePlanet, 1, 1, &pub, five, &priv); err == nil {
		t.Fatal("5 roots accepted")
	}
	if _, err := Make(TypePlanet, 0, 1, &pub, roots, &priv); err == nil {
		t.Fatal("world ID 0 accepted")
	}
	js, _ := json.Marshal(w)
	var m map[string]any
	if json.Unmarshal(js, &m) != nil || m["id"] != "0000000000000001" || m["worldType"] != "planet" {
		t.Fatalf("json %s", js)
	}
}

func TestParseErrors(t *testing.T) {
	b := readPlanet(t)
	for i := range len(b) {
		if _, err := Parse(b[:i]); err == nil {
			t.Fatalf("truncated to %d parsed", i)
		}
	}
	if _, err := Parse(append(bytes.Clone(b), 0)); err == nil {
		t.Fatal("trailing byte accepted by Parse")
	}
	if _, n, err := ParseN(append(bytes.Clone(b), 0)); err != nil || n != len(b) {
		t.Fatal("ParseN with trailing data")
	}
	bad := bytes.Clone(b)
	bad[0] = 2
	if _, err := Parse(bad); err == nil {
		t.Fatal("type 2 accepted")
	}
	bad = bytes.Clone(b)
	bad[177] = 5
	if _, err := Parse(bad); err == nil {
		t.Fatal("5 roots accepted")
	}
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func FuzzParse(f *testing.F) {
	f.Add(readPlanet(f))
	f.Add(EarthBytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		w, n, err := ParseN(b)
		if err != nil {
			return
		}
		out := w.AppendMarshal(nil)
		again, m, err := ParseN(out)
		if err != nil || m != len(out) {
			t.Fatalf("re-parse: %v", err)
		}
		if !bytes.Equal(again.AppendMarshal(nil), out) {
			t.Fatal("marshal not stable")
		}
		if n > len(b) {
			t.Fatalf("consumed %d of %d bytes", n, len(b))
		}
		w.SignedMessage()
	})
}
