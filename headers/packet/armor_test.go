package packet

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func randomKey(t testing.TB, r *rand.Rand) *Key {
	t.Helper()
	var shared [SharedKeySize]byte
	for i := range shared {
		shared[i] = byte(r.Uint32())
	}
	k, err := NewKey(&shared)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func randomPacket(r *rand.Rand, payload int) Packet {
	p := Packet(AppendHeader(make([]byte, 0, MinPacketLength+payload), r.Uint64(), 0x1122334455, 0x66778899aa, Verb(r.IntN(32))))
	for range payload {
		p = append(p, byte(r.Uint32()))
	}
	return p
}

var cryptoSuites = []Suite{SuitePoly1305None, SuitePoly1305Salsa2012, SuiteAESGMACSIV}

// TestArmorRoundTrip armors and dearmors packets of every size class with
// each suite, with and without the fragmented flag, and checks the flags
// byte, that encrypting suites hide the payload, and that the hops survive.
func TestArmorRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	k := randomKey(t, r)
	sizes := []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 255, 256, 1000, 1404, DefaultPhysMTU, 4096, MaxPacketLength - MinPacketLength}
	for _, suite := range cryptoSuites {
		for _, n := range sizes {
			for _, frag := range []bool{false, true} {
				plain := randomPacket(r, n)
				plain.SetFragmented(frag)
				p := Packet(bytes.Clone(plain))
				if err := k.Armor(p, suite); err != nil {
					t.Fatalf("%v %d: %v", suite, n, err)
				}
				if p.Cipher() != suite || p.Fragmented() != frag || p.Hops() != 0 ||
					(p.Flags()&FlagEncrypted != 0) != (suite == SuitePoly1305Salsa2012) {
					t.Fatalf("%v %d: flags %#02x", suite, n, p.Flags())
				}
				if p.Dest() != plain.Dest() || p.Source() != plain.Source() {
					t.Fatalf("%v %d: addresses changed", suite, n)
				}
				same := bytes.Equal(p[IndexVerb:], plain[IndexVerb:])
				if (suite == SuitePoly1305None) != same && n > 8 {
					t.Fatalf("%v %d: payload in the clear = %v", suite, n, same)
				}
				p.IncrementHops()
				p.IncrementHops()
				if err := k.Dearmor(p); err != nil {
					t.Fatalf("%v %d: %v", suite, n, err)
				}
				if !bytes.Equal(p[IndexVerb:], plain[IndexVerb:]) {
					t.Fatalf("%v %d: payload changed", suite, n)
				}
				if suite != SuiteAESGMACSIV && p.ID() != plain.ID() {
					t.Fatalf("%v %d: ID changed", suite, n)
				}
			}
		}
	}
}

// TestArmorSuite3ID: under suite 3 the wire ID is the first tag half, so two
// packets that differ only in payload get different IDs.
func TestArmorSuite3ID(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	k := randomKey(t, r)
	a := randomPacket(r, 40)
	b := Packet(bytes.Clone(a))
	b[len(b)-1] ^= 1
	id := a.ID()
	if err := k.Armor(a, SuiteAESGMACSIV); err != nil {
		t.Fatal(err)
	}
	if err := k.Armor(b, SuiteAESGMACSIV); err != nil {
		t.Fatal(err)
	}
	if a.ID() == id || a.ID() == b.ID() {
		t.Errorf("IDs: plain %x, a %x, b %x", id, a.ID(), b.ID())
	}
}

func TestArmorErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	k := randomKey(t, r)
	p := randomPacket(r, 10)
	if err := k.Armor(p[:MinPacketLength-1], SuiteAESGMACSIV); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
	if err := k.Dearmor(p[:MinPacketLength-1]); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
	long := randomPacket(r, MaxPacketLength)
	if err := k.Armor(long, SuitePoly1305Salsa2012); !errors.Is(err, ErrTooLong) {
		t.Errorf("long: %v", err)
	}
	if err := k.Dearmor(long); !errors.Is(err, ErrTooLong) {
		t.Errorf("long: %v", err)
	}
	if err := k.Armor(p, SuiteTrustedPath); !errors.Is(err, ErrTrustedPath) {
		t.Errorf("Armor suite 2: %v", err)
	}
	for s := Suite(4); s < 8; s++ {
		if err := k.Armor(p, s); !errors.Is(err, ErrUnknownSuite) {
			t.Errorf("Armor suite %d: %v", s, err)
		}
		q := Packet(bytes.Clone(p))
		q[IndexFlags] = byte(s) << CipherShift
		if err := k.Dearmor(q); !errors.Is(err, ErrUnknownSuite) {
			t.Errorf("Dearmor suite %d: %v", s, err)
		}
	}
	if err := ArmorTrustedPath(p, 77); err != nil {
		t.Fatal(err)
	}
	if err := k.Dearmor(p); !errors.Is(err, ErrTrustedPath) || p.TrustedPathID() != 77 {
		t.Errorf("Dearmor suite 2: %v, id %d", err, p.TrustedPathID())
	}
	if err := ArmorTrustedPath(p[:5], 1); !errors.Is(err, ErrTooShort) {
		t.Errorf("ArmorTrustedPath short: %v", err)
	}
}

// TestDearmorForgedMAC: a random MAC never verifies, and a failed suite 0/1
// dearmor leaves the packet as it was.
func TestDearmorForgedMAC(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	k := randomKey(t, r)
	for _, suite := range cryptoSuites {
		for range 200 {
			p := randomPacket(r, r.IntN(300))
			if err := k.Armor(p, suite); err != nil {
				t.Fatal(err)
			}
			p[IndexMAC+r.IntN(8)] ^= byte(1 + r.IntN(255))
			before := bytes.Clone(p)
			if err := k.Dearmor(p); !errors.Is(err, ErrBadMAC) {
				t.Fatalf("%v: forged MAC: %v", suite, err)
			}
			if suite != SuiteAESGMACSIV && !bytes.Equal(p, before) {
				t.Fatalf("%v: failed dearmor modified the packet", suite)
			}
		}
	}
}

func TestCryptFieldBounds(t *testing.T) {
	k := randomKey(t, rand.New(rand.NewPCG(9, 10)))
	p := make([]byte, 40)
	for _, c := range [][2]int{{27, 30}, {30, 29}, {30, 41}, {-1, 3}} {
		if err := k.CryptField(p, c[0], c[1]); !errors.Is(err, ErrFieldRange) {
			t.Errorf("CryptField(%d, %d): %v", c[0], c[1], err)
		}
	}
	if err := k.CryptField(p[:20], 28, 28); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
	// An involution, and independent of the low 3 bits of byte 7.
	q := bytes.Clone(p)
	if err := k.CryptField(q, 28, 40); err != nil || bytes.Equal(q, p) {
		t.Fatal("CryptField did nothing", err)
	}
	q[7] |= 7
	if err := k.CryptField(q, 28, 40); err != nil {
		t.Fatal(err)
	}
	q[7] &^= 7
	if !bytes.Equal(q, p) {
		t.Error("CryptField twice is not the identity")
	}
}

func TestArmorDearmorAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	r := rand.New(rand.NewPCG(11, 12))
	k := randomKey(t, r)
	p := randomPacket(r, 1400-MinPacketLength)
	for _, suite := range cryptoSuites {
		allocs := testing.AllocsPerRun(100, func() {
			if err := k.Armor(p, suite); err != nil {
				t.Fatal(err)
			}
			if err := k.Dearmor(p); err != nil {
				t.Fatal(err)
			}
		})
		switch {
		case allocs == 0:
		case suite == SuiteAESGMACSIV && !sivAllocFree:
			t.Logf("%v: %v allocations per Armor+Dearmor in crypto/siv's portable path", suite, allocs)
		default:
			t.Errorf("%v: %v allocations per Armor+Dearmor", suite, allocs)
		}
	}
	if err := k.Armor(p, SuitePoly1305Salsa2012); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		_ = k.Dearmor(p[:50]) // bad MAC path
		_ = k.CryptField(p, 40, 60)
	})
	if allocs != 0 {
		t.Errorf("%v allocations on the failure path", allocs)
	}
}
