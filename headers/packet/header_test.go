package packet

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

func TestHeaderAccessors(t *testing.T) {
	p := Packet(AppendHeader([]byte{0xee, 0xee}, 0x0102030405060708, 0x1122334455, 0x66778899aa, VerbWhois)[2:])
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4}
	if !bytes.Equal(p, want) {
		t.Fatalf("AppendHeader = %x", []byte(p))
	}
	if p.ID() != 0x0102030405060708 || p.Dest() != 0x1122334455 || p.Source() != 0x66778899aa ||
		p.Verb() != VerbWhois || p.Cipher() != SuitePoly1305None || p.Hops() != 0 || p.Fragmented() ||
		p.Compressed() || len(p.Payload()) != 0 || p.MAC() != 0 || p.Flags() != 0 {
		t.Errorf("accessors: %v", p)
	}
	p = p.AppendPayload(0xaa, 0xbb)
	if !bytes.Equal(p.Payload(), []byte{0xaa, 0xbb}) {
		t.Errorf("payload %x", p.Payload())
	}
	p.SetID(42)
	p.SetDest(0x0a0b0c0d0e)
	p.SetSource(0x0102030405)
	p.SetFragmented(true)
	p.SetVerb(VerbPathNegotiationRequest)
	if p.ID() != 42 || p.Dest() != 0x0a0b0c0d0e || p.Source() != 0x0102030405 || !p.Fragmented() ||
		p.Verb() != VerbPathNegotiationRequest || p.Flags() != FlagFragmented {
		t.Errorf("setters: %v", p)
	}
	p.SetFragmented(false)
	if p.Fragmented() {
		t.Error("SetFragmented(false)")
	}
	p[IndexVerb] |= VerbFlagCompressed
	if !p.Compressed() || p.Verb() != VerbPathNegotiationRequest {
		t.Error("compressed flag")
	}
	if err := ArmorTrustedPath(p, 0x1122334455667788); err != nil {
		t.Fatal(err)
	}
	if p.Cipher() != SuiteTrustedPath || p.TrustedPathID() != 0x1122334455667788 || p.Flags()&FlagEncrypted != 0 {
		t.Errorf("trusted path: %v %x", p, p.TrustedPathID())
	}
	if !strings.Contains(p.String(), "0102030405->0a0b0c0d0e NO_CRYPTO_TRUSTED_PATH") {
		t.Errorf("String() = %q", p.String())
	}
	if !strings.Contains(Packet{1}.String(), "too short") {
		t.Error("String of a short packet")
	}
}

func TestIncrementHops(t *testing.T) {
	p := Packet(AppendHeader(nil, 1, 2, 3, VerbNop))
	p[IndexFlags] = 0xf8 // every flag and suite bit set
	for i := 1; i <= 9; i++ {
		p.IncrementHops()
		if p.Hops() != i%8 || p.Flags()&^HopsMask != 0xf8 {
			t.Fatalf("after %d increments: flags %#02x", i, p.Flags())
		}
	}
	f := Frag(AppendFragment(nil, 1, 2, 3, 1, []byte{9}))
	f[FragIndexHops] = 6
	f.IncrementHops()
	if f.Hops() != 7 {
		t.Errorf("fragment hops %d", f.Hops())
	}
	f.IncrementHops()
	if f.Hops() != 0 || f[FragIndexHops] != 0 {
		t.Errorf("fragment hops byte %#02x", f[FragIndexHops])
	}
}

func TestNew(t *testing.T) {
	a := New(0x1122334455, 0x66778899aa, VerbEcho)
	b := New(0x1122334455, 0x66778899aa, VerbEcho)
	if len(a) != MinPacketLength || cap(a) < DefaultPhysMTU || a.Verb() != VerbEcho {
		t.Errorf("New: len %d cap %d", len(a), cap(a))
	}
	if a.ID() == b.ID() {
		t.Error("two random IDs are equal")
	}
}

func TestParse(t *testing.T) {
	ok := make([]byte, MinPacketLength)
	if _, err := Parse(ok); err != nil {
		t.Error(err)
	}
	if _, err := Parse(ok[:27]); !errors.Is(err, ErrTooShort) {
		t.Errorf("27 bytes: %v", err)
	}
	if _, err := Parse(make([]byte, MaxPacketLength+1)); !errors.Is(err, ErrTooLong) {
		t.Errorf("too long: %v", err)
	}
	frag := bytes.Clone(ok)
	frag[IndexSource] = 0xff
	if _, err := Parse(frag); !errors.Is(err, ErrIsFragment) {
		t.Errorf("fragment: %v", err)
	}
}

func TestClassify(t *testing.T) {
	mk := func(n int, b13 byte) []byte {
		b := make([]byte, n)
		if n > 13 {
			b[13] = b13
		}
		return b
	}
	cases := []struct {
		b    []byte
		want Kind
	}{
		{nil, KindTooShort},
		{mk(4, 0), KindTooShort},
		{mk(12, 0), KindTooShort},
		{mk(13, 0), KindBeacon},
		{mk(14, 0xff), KindTooShort},
		{mk(16, 0xff), KindTooShort},
		{mk(17, 0xff), KindFragment},
		{mk(17, 0), KindTooShort},
		{mk(27, 0), KindTooShort},
		{mk(28, 0), KindPacket},
		{mk(28, 0xff), KindFragment},
		{mk(1432, 0x12), KindPacket},
	}
	for _, c := range cases {
		if got := Classify(c.b); got != c.want {
			t.Errorf("%d bytes %x: %v, want %v", len(c.b), c.b, got, c.want)
		}
	}
	names := map[Kind]string{KindTooShort: "too short", KindBeacon: "beacon", KindFragment: "fragment", KindPacket: "packet"}
	for k, n := range names {
		if k.String() != n {
			t.Errorf("%d.String() = %q", k, k.String())
		}
	}
	beacon := []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x22, 0x33, 0x44, 0x55}
	if a, ok := BeaconAddress(beacon); !ok || a != identity.Address(0x1122334455) {
		t.Errorf("BeaconAddress = %v %v", a, ok)
	}
	if _, ok := BeaconAddress(beacon[:12]); ok {
		t.Error("BeaconAddress of 12 bytes")
	}
}

func TestVerbs(t *testing.T) {
	want := map[string]Verb{
		"NOP": 0x00, "HELLO": 0x01, "ERROR": 0x02, "OK": 0x03, "WHOIS": 0x04, "RENDEZVOUS": 0x05,
		"FRAME": 0x06, "EXT_FRAME": 0x07, "ECHO": 0x08, "MULTICAST_LIKE": 0x09,
		"NETWORK_CREDENTIALS": 0x0a, "NETWORK_CONFIG_REQUEST": 0x0b, "NETWORK_CONFIG": 0x0c,
		"MULTICAST_GATHER": 0x0d, "MULTICAST_FRAME": 0x0e, "PUSH_DIRECT_PATHS": 0x10, "ACK": 0x12,
		"QOS_MEASUREMENT": 0x13, "USER_MESSAGE": 0x14, "REMOTE_TRACE": 0x15,
		"PATH_NEGOTIATION_REQUEST": 0x16,
	}
	known := 0
	for v := Verb(0); v <= VerbMask; v++ {
		if v.Known() {
			known++
			if want[v.String()] != v {
				t.Errorf("verb %#02x is %q", byte(v), v.String())
			}
			if p, ok := ParseVerb(v.String()); !ok || p != v {
				t.Errorf("ParseVerb(%q) = %v %v", v.String(), p, ok)
			}
		}
	}
	if known != len(want) {
		t.Errorf("%d known verbs, want %d", known, len(want))
	}
	if Verb(0x0f).String() != "VERB_0x0f" || Verb(0x11).Known() || Verb(0x40).Known() {
		t.Errorf("unknown verb: %q", Verb(0x0f).String())
	}
	if _, ok := ParseVerb("BOGUS"); ok {
		t.Error("ParseVerb(BOGUS)")
	}
	if _, ok := ParseVerb(""); ok {
		t.Error("ParseVerb(empty)")
	}
}

func TestSuites(t *testing.T) {
	want := []string{"C25519_POLY1305_NONE", "C25519_POLY1305_SALSA2012", "NO_CRYPTO_TRUSTED_PATH", "AES_GMAC_SIV", "SUITE_4", "SUITE_5", "SUITE_6", "SUITE_7"}
	for s, n := range want {
		if Suite(s).String() != n || Suite(s).Known() != (s < 4) {
			t.Errorf("suite %d: %q", s, Suite(s).String())
		}
	}
}

// TestConstants pins the values of §2.4 and §3.
func TestConstants(t *testing.T) {
	got := []int{DefaultPort, DefaultPhysMTU, MinPhysMTU, MaxPhysPayload, MaxPhysMTU, MaxPacketFragments,
		MaxPacketLength, MinPacketLength, MinFragmentLength, DefaultMTU, MinMTU, MaxMTU, MaxHops, RelayMaxHops,
		ReceiveQueueSize, ReceiveQueueTimeout, MaxDecompressedPayload}
	want := []int{9993, 1432, 1400, 10100, 10324, 7, 10024, 28, 16, 2800, 1280, 10000, 7, 3, 32, 5000, 9996}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("constant %d = %d, want %d", i, got[i], want[i])
		}
	}
}
