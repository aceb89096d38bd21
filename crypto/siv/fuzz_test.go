package siv

import (
	"bytes"
	"os"
	"testing"
)

// fuzzCorpus holds the keys the fuzz targets choose from (by index, so that
// the per-key setup is done once) and the seed packets with their key index:
// the Appendix A packet and every suite-3 packet of the session capture.
type fuzzCorpus struct {
	impls []map[string]*Cipher
	pkts  [][]byte
	keyOf []uint8
}

func newFuzzCorpus(f *testing.F) *fuzzCorpus {
	c := &fuzzCorpus{}
	addKey := func(k *[SharedKeySize]byte) uint8 {
		c.impls = append(c.impls, implementations(f, k))
		return uint8(len(c.impls) - 1)
	}
	c.pkts = append(c.pkts, unhex(f, appendixSuite3))
	c.keyOf = append(c.keyOf, addKey(appendixKey()))
	addKey(new([SharedKeySize]byte))
	if _, err := os.Stat(sessionFile); err != nil {
		return c
	}
	s := readSession(f)
	index := map[string]uint8{}
	for _, k := range s.keys {
		index[k.pair] = addKey(&k.shared)
	}
	for _, p := range s.packets {
		if p.cipher == Suite {
			if k := s.keyFor(p); k != nil {
				c.pkts = append(c.pkts, p.wire)
				c.keyOf = append(c.keyOf, index[k.pair])
			}
		}
	}
	return c
}

func (c *fuzzCorpus) ciphers(key uint8) map[string]*Cipher {
	return c.impls[int(key)%len(c.impls)]
}

// FuzzDearmor feeds arbitrary packets to Dearmor: it
// must never panic, must reject everything shorter than the header, and the
// implementations must agree.
func FuzzDearmor(f *testing.F) {
	corpus := newFuzzCorpus(f)
	for i, p := range corpus.pkts {
		f.Add(p, corpus.keyOf[i])
	}
	f.Add([]byte{}, uint8(0))
	f.Add(make([]byte, HeaderSize-1), uint8(1))
	f.Fuzz(func(t *testing.T, pkt []byte, key uint8) {
		var results []bool
		var outputs [][]byte
		for _, c := range corpus.ciphers(key) {
			p := bytes.Clone(pkt)
			ok := c.Dearmor(p)
			if ok && len(p) < HeaderSize {
				t.Fatalf("short packet verified")
			}
			if !bytes.Equal(p[:min(len(p), HeaderSize)], pkt[:min(len(pkt), HeaderSize)]) {
				t.Fatalf("Dearmor changed the header")
			}
			results = append(results, ok)
			outputs = append(outputs, p)
		}
		for i := 1; i < len(results); i++ {
			if results[i] != results[0] || (results[0] && !bytes.Equal(outputs[i], outputs[0])) {
				t.Fatalf("implementations disagree")
			}
		}
	})
}

// FuzzRoundTrip armors arbitrary packets and checks that
// Dearmor restores them, that the implementations produce the same bytes, and
// that flipping one bit makes Dearmor fail.
func FuzzRoundTrip(f *testing.F) {
	corpus := newFuzzCorpus(f)
	f.Add(appendixPacket(), uint8(0), 0)
	for i, p := range corpus.pkts {
		f.Add(p, corpus.keyOf[i], len(p)*8-1)
	}
	f.Fuzz(func(t *testing.T, plain []byte, key uint8, flip int) {
		if len(plain) < HeaderSize {
			return
		}
		var ref []byte
		for name, c := range corpus.ciphers(key) {
			pkt := bytes.Clone(plain)
			c.Armor(pkt)
			if ref == nil {
				ref = bytes.Clone(pkt)
			} else if !bytes.Equal(pkt, ref) {
				t.Fatalf("implementations disagree")
			}
			armored := bytes.Clone(pkt)
			if !c.Dearmor(pkt) {
				t.Fatalf("%s: Dearmor failed", name)
			}
			if !bytes.Equal(pkt[PayloadOffset:], plain[PayloadOffset:]) ||
				!bytes.Equal(pkt[DestOffset:FlagsOffset], plain[DestOffset:FlagsOffset]) {
				t.Fatalf("%s: round trip changed the packet", name)
			}
			bit := uint(flip) % uint(len(armored)*8)
			if armored[bit/8] ^= 1 << (bit % 8); bit/8 == FlagsOffset && bit%8 < 3 {
				continue // hops bits are not authenticated
			}
			if c.Dearmor(armored) {
				t.Fatalf("%s: flipped bit %d verified", name, bit)
			}
		}
	})
}
