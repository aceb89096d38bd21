package wiredecode

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestSplitGSO(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	piece := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		copy(b[8:13], []byte{0xaa, 0xbb, 0xcc, 0xdd, 0xee})
		return b
	}
	// Ten 1427-byte pieces and a shorter last one, as ztx sends them.
	var pieces [][]byte
	var joined []byte
	for i := range 11 {
		n := 1427
		if i == 10 {
			n = 700
		}
		pieces = append(pieces, piece(n))
		joined = append(joined, pieces[i]...)
	}
	got := SplitGSO(joined)
	if len(got) != len(pieces) {
		t.Fatalf("%d pieces, want %d", len(got), len(pieces))
	}
	for i := range got {
		if !bytes.Equal(got[i], pieces[i]) {
			t.Fatalf("piece %d differs", i)
		}
	}
	// A single datagram, and a long one that is not a super-packet.
	one := piece(1400)
	if got := SplitGSO(one); len(got) != 1 {
		t.Fatalf("a 1400-byte datagram split in %d", len(got))
	}
	long := make([]byte, 9000)
	for i := range long {
		long[i] = byte(r.Uint32())
	}
	if got := SplitGSO(long); len(got) != 1 {
		t.Fatalf("random 9000 bytes split in %d", len(got))
	}
}
