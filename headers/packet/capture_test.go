package packet

import (
	"bytes"
	"errors"
	"testing"

	"github.com/ztx/ztx/internal/testvec"
)

// captureKeys builds a Key for every node pair of the session.
func captureKeys(t testing.TB, s *testvec.Session) map[*testvec.KeyPair]*Key {
	t.Helper()
	keys := map[*testvec.KeyPair]*Key{}
	for i := range s.Keys {
		k, err := NewKey(&s.Keys[i].Shared)
		if err != nil {
			t.Fatal(err)
		}
		keys[&s.Keys[i]] = k
	}
	return keys
}

func keyFor(t testing.TB, s *testvec.Session, keys map[*testvec.KeyPair]*Key, e *testvec.Entry) *Key {
	t.Helper()
	kp, ok := s.KeyFor(e)
	if !ok {
		t.Fatalf("#%d: no key for %v-%v", e.Index, e.SrcZT, e.DstZT)
	}
	return keys[kp]
}

// TestCapture dearmors every ZeroTier packet of the live session with its
// pair's shared key and checks the header fields, verb and plaintext
// against what the reference printed.
func TestCapture(t *testing.T) {
	s := testvec.MustSession(t)
	keys := captureKeys(t, s)
	n := 0
	for _, e := range s.ZeroTier() {
		k := keyFor(t, s, keys, e)
		if got := Classify(e.Wire); got != KindPacket {
			t.Errorf("#%d: classified as %v", e.Index, got)
			continue
		}
		p, err := Parse(bytes.Clone(e.Wire))
		if err != nil {
			t.Errorf("#%d: %v", e.Index, err)
			continue
		}
		if p.ID() != e.PacketID || p.Dest() != e.DstZT || p.Source() != e.SrcZT ||
			int(p.Cipher()) != e.Cipher || p.Hops() != e.Hops || p.Fragmented() {
			t.Errorf("#%d: header %v, file says pid=%016x %v->%v cipher=%d hops=%d", e.Index, p, e.PacketID, e.SrcZT, e.DstZT, e.Cipher, e.Hops)
		}
		if (p.Flags()&FlagEncrypted != 0) != (p.Cipher() == SuitePoly1305Salsa2012) {
			t.Errorf("#%d: legacy encrypted flag %#02x with suite %v", e.Index, p.Flags(), p.Cipher())
		}
		if err := k.Dearmor(p); err != nil {
			t.Errorf("#%d (%v): %v", e.Index, p.Cipher(), err)
			continue
		}
		if p.Compressed() != e.Compressed {
			t.Errorf("#%d: compressed flag %v, file says %v", e.Index, p.Compressed(), e.Compressed)
		}
		if p.Verb() != Verb(e.Verb) || p.Verb().String() != e.VerbName {
			t.Errorf("#%d: verb %v, file says %#02x(%s)", e.Index, p.Verb(), e.Verb, e.VerbName)
		}
		d, err := Decompress(p)
		if err != nil {
			t.Errorf("#%d: %v", e.Index, err)
			continue
		}
		if !bytes.Equal(d.Payload(), e.Plaintext) {
			t.Errorf("#%d: plaintext differs:\n got %x\nwant %x", e.Index, d.Payload(), e.Plaintext)
		}
		if d.Compressed() || d.Verb() != p.Verb() {
			t.Errorf("#%d: decompressed verb byte %#02x", e.Index, d[IndexVerb])
		}
		n++
	}
	if n != 136 {
		t.Errorf("%d of 136 packets dearmored", n)
	}
}

// TestCaptureNonZeroTier: the 4-byte NAT-punch datagram is too short.
func TestCaptureNonZeroTier(t *testing.T) {
	for _, e := range testvec.MustSession(t).Entries {
		if !e.ZeroTier {
			if k := Classify(e.Wire); k != KindTooShort {
				t.Errorf("#%d: %d bytes classified as %v", e.Index, len(e.Wire), k)
			}
			if _, err := Parse(e.Wire); !errors.Is(err, ErrTooShort) {
				t.Errorf("#%d: Parse: %v", e.Index, err)
			}
		}
	}
}

// TestCaptureHelloCryptField: the reference's HELLOs announce no moons, so
// the cryptField-encrypted moon count (the last two bytes) decrypts to 0.
func TestCaptureHelloCryptField(t *testing.T) {
	s := testvec.MustSession(t)
	keys := captureKeys(t, s)
	hellos := 0
	for _, e := range s.ZeroTier() {
		if Verb(e.Verb) != VerbHello {
			continue
		}
		hellos++
		k := keyFor(t, s, keys, e)
		p := Packet(bytes.Clone(e.Wire))
		if p.Cipher() != SuitePoly1305None {
			t.Errorf("#%d: HELLO with suite %v", e.Index, p.Cipher())
		}
		if err := k.Dearmor(p); err != nil {
			t.Fatalf("#%d: %v", e.Index, err)
		}
		if err := k.CryptField(p, len(p)-2, len(p)); err != nil {
			t.Fatal(err)
		}
		if p[len(p)-2] != 0 || p[len(p)-1] != 0 {
			t.Errorf("#%d: moon count decrypts to %x", e.Index, p[len(p)-2:])
		}
	}
	if hellos != 11 {
		t.Errorf("%d HELLOs, want 11", hellos)
	}
}

// TestCaptureTamper: any flipped bit outside the hops fails the MAC (the
// flags byte without hops is in the suite 0/1 key and the suite 3 AAD),
// while changing the hops does not.
func TestCaptureTamper(t *testing.T) {
	s := testvec.MustSession(t)
	keys := captureKeys(t, s)
	for _, e := range s.ZeroTier() {
		k := keyFor(t, s, keys, e)
		for _, i := range []int{0, 7, IndexDest, IndexSource + 4, IndexFlags, IndexMAC, IndexMAC + 7, IndexVerb, len(e.Wire) - 1} {
			for _, bit := range []byte{0x01, 0x80, 0x40} {
				if i == IndexFlags && bit == 0x01 {
					continue // hops: tested below
				}
				p := Packet(bytes.Clone(e.Wire))
				p[i] ^= bit
				err := k.Dearmor(p)
				if err == nil {
					t.Errorf("#%d: flipping bit %#02x of byte %d still authenticates", e.Index, bit, i)
				}
			}
		}
		// Cipher field changed to another suite or an undefined one.
		for s := Suite(0); s < 8; s++ {
			if int(s) == e.Cipher {
				continue
			}
			p := Packet(bytes.Clone(e.Wire))
			p[IndexFlags] = p[IndexFlags]&^CipherMask | byte(s)<<CipherShift
			if err := k.Dearmor(p); err == nil {
				t.Errorf("#%d: suite %v accepted", e.Index, s)
			}
		}
		// Hops are not authenticated.
		for h := 0; h <= MaxHops; h++ {
			p := Packet(bytes.Clone(e.Wire))
			p[IndexFlags] = p[IndexFlags]&^HopsMask | byte(h)
			if err := k.Dearmor(p); err != nil {
				t.Errorf("#%d with hops=%d: %v", e.Index, h, err)
			}
		}
		// A wrong key fails.
		for kp, other := range keys {
			if kp.Has(e.SrcZT, e.DstZT) {
				continue
			}
			if err := other.Dearmor(Packet(bytes.Clone(e.Wire))); !errors.Is(err, ErrBadMAC) {
				t.Errorf("#%d: wrong key: %v", e.Index, err)
			}
		}
		// Truncation fails.
		if err := k.Dearmor(Packet(bytes.Clone(e.Wire[:len(e.Wire)-1]))); err == nil {
			t.Errorf("#%d: truncated packet authenticates", e.Index)
		}
	}
}

// TestCaptureCompressMatchesReference: recompressing the plaintext of the
// capture's compressed packets gives the reference's LZ4 bytes exactly.
func TestCaptureCompressMatchesReference(t *testing.T) {
	s := testvec.MustSession(t)
	keys := captureKeys(t, s)
	n := 0
	for _, e := range s.ZeroTier() {
		if !e.Compressed {
			continue
		}
		p := Packet(bytes.Clone(e.Wire))
		if err := keyFor(t, s, keys, e).Dearmor(p); err != nil {
			t.Fatal(err)
		}
		plain := Packet(append(bytes.Clone(p[:IndexPayload]), e.Plaintext...))
		plain[IndexVerb] &^= VerbFlagCompressed
		c := Compress(plain)
		if !c.Compressed() {
			t.Errorf("#%d: not compressed", e.Index)
			continue
		}
		if !bytes.Equal(c.Payload(), p.Payload()) {
			t.Errorf("#%d: LZ4 block differs from the reference's (%d vs %d bytes)", e.Index, len(c.Payload()), len(p.Payload()))
		}
		n++
	}
	if n != 17 {
		t.Errorf("%d compressed packets, want 17", n)
	}
}
