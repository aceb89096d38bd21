package c25519

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

type vector struct {
	Pub1, Priv1, Pub2, Priv2 string
	Agreement                string
	SignedBy1                string `json:"agreement_signed_by_1"`
	SignedBy2                string `json:"agreement_signed_by_2"`
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	b, err := os.ReadFile("../../testdata/crypto.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		SHA512 struct {
			Input  string `json:"input_ascii"`
			Digest string
		}
		C25519 struct{ Vectors []vector }
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if got := sha512.Sum512([]byte(f.SHA512.Input)); hex.EncodeToString(got[:]) != f.SHA512.Digest {
		t.Fatalf("sha512 known answer mismatch")
	}
	if len(f.C25519.Vectors) != 32 {
		t.Fatalf("want 32 vectors, got %d", len(f.C25519.Vectors))
	}
	return f.C25519.Vectors
}

func key64(t *testing.T, s string) *[64]byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 64 {
		t.Fatalf("bad 64-byte hex %q", s)
	}
	return (*[64]byte)(b)
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownAnswers(t *testing.T) {
	for i, v := range loadVectors(t) {
		pub1, priv1 := key64(t, v.Pub1), key64(t, v.Priv1)
		pub2, priv2 := key64(t, v.Pub2), key64(t, v.Priv2)
		if got := PublicFromPrivate(priv1); got != *pub1 {
			t.Errorf("vector %d: public key 1 mismatch", i)
		}
		if got := PublicFromPrivate(priv2); got != *pub2 {
			t.Errorf("vector %d: public key 2 mismatch", i)
		}
		want := unhex(t, v.Agreement)
		a12, err := Agree(priv1, pub2)
		if err != nil || !bytes.Equal(a12[:], want) {
			t.Errorf("vector %d: agreement 1->2 mismatch (%v)", i, err)
		}
		a21, err := Agree(priv2, pub1)
		if err != nil || !bytes.Equal(a21[:], want) {
			t.Errorf("vector %d: agreement 2->1 mismatch (%v)", i, err)
		}
		for n, c := range []struct {
			priv, pub *[64]byte
			sig       string
		}{{priv1, pub1, v.SignedBy1}, {priv2, pub2, v.SignedBy2}} {
			wantSig := unhex(t, c.sig)
			sig := Sign(c.priv, want)
			if !bytes.Equal(sig[:], wantSig) {
				t.Errorf("vector %d: signature by %d differs from the reference's", i, n+1)
			}
			if !Verify(c.pub, want, wantSig) {
				t.Errorf("vector %d: reference signature by %d does not verify", i, n+1)
			}
		}
		// A signature by one key never verifies under the other.
		if Verify(pub2, want, unhex(t, v.SignedBy1)) {
			t.Errorf("vector %d: signature verified under the wrong key", i)
		}
	}
}

func TestVerifyRejectsTampering(t *testing.T) {
	pub, priv, err := Generate(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("certificate of membership")
	sig := Sign(&priv, msg)
	if !Verify(&pub, msg, sig[:]) {
		t.Fatal("fresh signature does not verify")
	}
	for i := range sig {
		bad := sig
		bad[i] ^= 0x01
		if Verify(&pub, msg, bad[:]) {
			t.Fatalf("signature with byte %d flipped verifies", i)
		}
	}
	if Verify(&pub, append(msg, 0), sig[:]) {
		t.Fatal("signature verifies for a different message")
	}
	if Verify(&pub, msg, sig[:95]) || Verify(&pub, msg, append(sig[:], 0)) {
		t.Fatal("signature of the wrong length verifies")
	}
	otherPub, _, _ := Generate(rand.Reader)
	if Verify(&otherPub, msg, sig[:]) {
		t.Fatal("signature verifies under another key")
	}
}

func TestAgreeLowOrder(t *testing.T) {
	_, priv, _ := Generate(rand.Reader)
	var zero [64]byte // the X25519 point 0 has order 4
	if _, err := Agree(&priv, &zero); err == nil {
		t.Fatal("agreement with a low-order point succeeded")
	}
}

func BenchmarkSign(b *testing.B) {
	_, priv, _ := Generate(rand.Reader)
	s := NewSigner(&priv)
	msg := make([]byte, 200)
	for b.Loop() {
		s.Sign(msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := Generate(rand.Reader)
	msg := make([]byte, 200)
	sig := Sign(&priv, msg)
	for b.Loop() {
		Verify(&pub, msg, sig[:])
	}
}

func BenchmarkAgree(b *testing.B) {
	pub, _, _ := Generate(rand.Reader)
	_, priv, _ := Generate(rand.Reader)
	for b.Loop() {
		Agree(&priv, &pub)
	}
}
