package packet

import (
	"bytes"
	"encoding/hex"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

// appendixKey is the shared key of PROTOCOL.md part 1 Appendix A:
// K[i] = (7i + 1) mod 256.
func appendixKey() *[SharedKeySize]byte {
	var k [SharedKeySize]byte
	for i := range k {
		k[i] = byte(7*i + 1)
	}
	return &k
}

// appendixPacket is the 65-byte plain packet of Appendix A.
func appendixPacket(verb Verb) Packet {
	p := Packet(AppendHeader(nil, 0xa0a1a2a3a4a5a6a7, 0x1122334455, 0x66778899aa, verb))
	for i := range 37 {
		p = append(p, byte(i))
	}
	return p
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendixA(t *testing.T) {
	k, err := NewKey(appendixKey())
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		suite Suite
		verb  Verb
		crypt bool // apply the HELLO cryptField over offsets 40..64 first
		want  string
	}{
		{"suite3", SuiteAESGMACSIV, VerbEcho, false,
			"0c09616b8b066e17112233445566778899aa185e45ac18675e31dc3a9f15fcd1ce0e074933aaa1bea0a470da03f64ac5839348b5fbcdf0b29dc34dd5f0c603b3b5"},
		{"suite1", SuitePoly1305Salsa2012, VerbEcho, false,
			"a0a1a2a3a4a5a6a7112233445566778899aa883b36089926aa803bdb4458231d0b1fb7cd305fcc62d7716dbcac7145cc34c0d22d4ab513a9f0962438e4a4f2ba4e"},
		{"suite0-hello", SuitePoly1305None, VerbHello, true,
			"a0a1a2a3a4a5a6a7112233445566778899aa00798ef9ed7c4ae81101000102030405060708090a0b65be386ac0e37c27df020bf55df054fa92afb10aeb9ac0a5a6"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain := appendixPacket(c.verb)
			if len(plain) != 65 {
				t.Fatalf("plain packet is %d bytes", len(plain))
			}
			p := Packet(bytes.Clone(plain))
			if c.crypt {
				if err := k.CryptField(p, 40, 65); err != nil {
					t.Fatal(err)
				}
			}
			if err := k.Armor(p, c.suite); err != nil {
				t.Fatal(err)
			}
			want := mustHex(t, c.want)
			if !bytes.Equal(p, want) {
				t.Fatalf("armored:\n got %x\nwant %x", p, want)
			}
			if p.Cipher() != c.suite {
				t.Errorf("cipher field %v", p.Cipher())
			}
			if err := k.Dearmor(p); err != nil {
				t.Fatal(err)
			}
			if c.crypt {
				if err := CryptField(appendixKey(), p, 40, 65); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(p[IndexVerb:], plain[IndexVerb:]) {
				t.Errorf("dearmored payload %x", p[IndexVerb:])
			}
			if p.Dest() != identity.Address(0x1122334455) || p.Source() != identity.Address(0x66778899aa) {
				t.Errorf("addresses changed: %v", p)
			}
		})
	}
}
