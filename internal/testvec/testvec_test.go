package testvec

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/ztx/ztx/crypto/identity"
)

const (
	root  = identity.Address(0xf737c19395)
	nodeA = identity.Address(0xafee230b1a)
	nodeB = identity.Address(0x2e57b20512)
)

func TestSession(t *testing.T) {
	s, err := ParseSession("../../testdata/" + SessionFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Keys) != 3 {
		t.Fatalf("%d keys, want 3", len(s.Keys))
	}
	for _, pair := range [][2]identity.Address{{nodeA, root}, {root, nodeB}, {nodeA, nodeB}} {
		k, ok := s.Key(pair[0], pair[1])
		if !ok {
			t.Fatalf("no key for %v", pair)
		}
		if k.Shared == ([48]byte{}) || k.AESK0 == ([48]byte{}) || k.AESK1 == ([48]byte{}) {
			t.Errorf("key %v-%v incomplete", k.A, k.B)
		}
	}
	k, _ := s.Key(nodeA, root)
	if k.Shared[0] != 0x6a || k.Shared[47] != 0x77 || k.AESK0[0] != 0xa9 || k.AESK1[47] != 0xb9 {
		t.Errorf("first key bytes wrong: %x", k.Shared)
	}

	if len(s.Entries) != 137 {
		t.Fatalf("%d entries, want 137", len(s.Entries))
	}
	zt := s.ZeroTier()
	if len(zt) != 136 {
		t.Fatalf("%d ZeroTier entries, want 136", len(zt))
	}
	compressed := 0
	for i := range s.Entries {
		e := &s.Entries[i]
		if e.Index != i+1 {
			t.Errorf("entry %d has index %d", i, e.Index)
		}
		if !e.ZeroTier {
			continue
		}
		if !e.DearmorOK {
			t.Errorf("#%d: dearmor not OK", e.Index)
		}
		if _, ok := s.KeyFor(e); !ok {
			t.Errorf("#%d: no key for %v->%v", e.Index, e.SrcZT, e.DstZT)
		}
		// The printed header fields agree with the wire bytes.
		w := e.Wire
		if binary.BigEndian.Uint64(w) != e.PacketID || identity.AddressFromBytes(w[8:]) != e.DstZT ||
			identity.AddressFromBytes(w[13:]) != e.SrcZT || int(w[18]>>3&7) != e.Cipher || int(w[18]&7) != e.Hops {
			t.Errorf("#%d: header fields disagree with wire bytes", e.Index)
		}
		if e.Compressed {
			compressed++
		}
	}
	if compressed != 17 {
		t.Errorf("%d compressed packets, want 17", compressed)
	}

	first := s.Entries[0]
	if first.Time != 0 || first.Src != netip.MustParseAddrPort("10.77.0.2:9993") ||
		first.Dst != netip.MustParseAddrPort("10.77.0.1:9993") || first.SrcZT != nodeA || first.DstZT != root ||
		first.PacketID != 0xf9054323558de554 || first.Cipher != 0 || first.Hops != 0 || first.Len != 137 ||
		first.Verb != 1 || first.VerbName != "HELLO" || first.Compressed || len(first.Plaintext) != 109 {
		t.Errorf("first entry: %+v", first)
	}
	if !bytes.Equal(first.Plaintext, first.Wire[28:]) {
		t.Error("HELLO plaintext differs from its (suite 0) wire payload")
	}
	if e := s.Entries[1]; e.Time != 50900*time.Microsecond || e.Cipher != 1 || e.VerbName != "OK" {
		t.Errorf("second entry: %+v", e)
	}

	odd := s.Entries[82]
	if odd.ZeroTier || odd.Index != 83 || odd.Len != 4 || !bytes.Equal(odd.Wire, []byte{0x45, 0x64, 0xaf, 0x5e}) {
		t.Errorf("non-ZeroTier entry: %+v", odd)
	}
}

func TestReadSessionErrors(t *testing.T) {
	good := "#1 t=0.0 1.2.3.4:1 -> 1.2.3.5:1 zt 0102030405->0a0b0c0d0e pid=0000000000000001 cipher=1 hops=0 len=28\n" +
		"  wire=" + strings.Repeat("00", 28) + "\n" +
		"  dearmor=OK verb=0x00(NOP) plaintext_payload(0)=\n"
	if _, err := ReadSession(strings.NewReader(good)); err != nil {
		t.Fatalf("minimal session: %v", err)
	}
	bad := map[string]string{
		"empty":        "",
		"no wire":      "#1 t=0.0 1.2.3.4:1 -> 1.2.3.5:1 zt 0102030405->0a0b0c0d0e pid=01 cipher=1 hops=0 len=28\n",
		"bad len":      strings.Replace(good, "len=28", "len=29", 1),
		"bad hex":      strings.Replace(good, "wire=00", "wire=0g", 1),
		"bad plain":    strings.Replace(good, "plaintext_payload(0)", "plaintext_payload(1)", 1),
		"junk":         good + "junk\n",
		"stray aes":    "    aes_k0(first32 used)=00\n",
		"bad key":      "KEY 01<->02 shared48=00\n",
		"short header": "#1 t=0.0\n",
	}
	for name, in := range bad {
		if _, err := ReadSession(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCrypto(t *testing.T) {
	c, err := LoadCrypto("../../testdata/" + CryptoFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.C25519.Vectors) != 32 || len(c.Poly1305) != 2 || len(c.Salsa20_20.Keystream) != 64 ||
		len(c.Salsa20_12.IV) != 8 || c.SHA512.Input == "" || len(c.SHA512.Digest) != 64 {
		t.Errorf("crypto vectors incomplete: %+v", c)
	}
	v := c.C25519.Vectors[0]
	if len(v.Pub1) != 64 || len(v.Priv2) != 64 || len(v.Agreement) != 64 || len(v.SignedBy1) != 96 || len(v.SignedBy2) != 96 {
		t.Errorf("c25519 vector sizes wrong")
	}
	if !strings.HasPrefix(c.KnownGoodIdentity, "8e4df28b72:0:") || !strings.HasPrefix(c.KnownBadIdentity, "9e4df28b72:0:") {
		t.Errorf("identities: %q %q", c.KnownGoodIdentity, c.KnownBadIdentity)
	}
}

func TestPathAndMust(t *testing.T) {
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	p := MustPath(t, "session1", "zt-session.pcap")
	if !strings.HasPrefix(p, root) || !strings.HasSuffix(p, "testdata/session1/zt-session.pcap") {
		t.Errorf("Path = %q (root %q)", p, root)
	}
	if s := MustSession(t); len(s.Entries) != 137 || MustSession(t) != s {
		t.Error("MustSession")
	}
	if c := MustCrypto(t); c.KnownGoodIdentity == "" {
		t.Error("MustCrypto")
	}
}
