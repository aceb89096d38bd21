package packet

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

func TestFragmentView(t *testing.T) {
	b := AppendFragment([]byte{0xee}, 0x0102030405060708, 0x1122334455, 5, 3, []byte{0xaa, 0xbb})[1:]
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 0x11, 0x22, 0x33, 0x44, 0x55, 0xff, 0x53, 0, 0xaa, 0xbb}
	if !bytes.Equal(b, want) {
		t.Fatalf("AppendFragment = %x", b)
	}
	f, err := ParseFragment(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.PacketID() != 0x0102030405060708 || f.Dest() != 0x1122334455 || f.Total() != 5 || f.Number() != 3 ||
		f.Hops() != 0 || !bytes.Equal(f.Chunk(), []byte{0xaa, 0xbb}) {
		t.Errorf("accessors: %x", []byte(f))
	}
	if Classify(b) != KindFragment {
		t.Error("not classified as a fragment")
	}
}

func TestParseFragmentErrors(t *testing.T) {
	frag := func(total, n int) []byte { return AppendFragment(nil, 1, 2, total, n, []byte{0}) }
	bad := map[string]struct {
		b   []byte
		err error
	}{
		"16 bytes":       {frag(3, 1)[:16], ErrTooShort},
		"no indicator":   {append([]byte{}, make([]byte, 20)...), ErrNotFragment},
		"total 1":        {frag(1, 1), ErrBadFragment},
		"total 8":        {frag(8, 1), ErrBadFragment},
		"total 0":        {frag(0, 0), ErrBadFragment},
		"number 0":       {frag(3, 0), ErrBadFragment},
		"number 7":       {frag(7, 7), ErrBadFragment},
		"number=total":   {frag(3, 3), ErrBadFragment},
		"number>total":   {frag(2, 5), ErrBadFragment},
		"total 15":       {frag(15, 2), ErrBadFragment},
		"number 15 of 7": {frag(7, 15), ErrBadFragment},
	}
	for name, c := range bad {
		if _, err := ParseFragment(c.b); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", name, err, c.err)
		}
	}
	for total := 2; total <= MaxPacketFragments; total++ {
		for n := 1; n < total; n++ {
			if _, err := ParseFragment(frag(total, n)); err != nil {
				t.Errorf("%d of %d: %v", n, total, err)
			}
		}
	}
}

func TestPieces(t *testing.T) {
	cases := []struct{ size, mtu, want int }{
		{28, 1432, 1}, {1432, 1432, 1}, {1433, 1432, 2}, {1432 + 1416, 1432, 2}, {1432 + 1417, 1432, 3},
		{MaxPacketLength, DefaultPhysMTU, 8}, {MaxPacketLength, MinPhysMTU, 8}, {MaxPacketLength, 1700, 6}, {1432 + 6*1416, 1432, 7}, {1433 + 6*1416, 1432, 8},
		{100, 16, 0}, {100, 27, 0}, {100, 28, 7},
	}
	for _, c := range cases {
		if got := Pieces(c.size, c.mtu); got != c.want {
			t.Errorf("Pieces(%d, %d) = %d, want %d", c.size, c.mtu, got, c.want)
		}
	}
}

func TestFragmentSplit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, mtu := range []int{MinPacketLength, 100, 577, MinPhysMTU, DefaultPhysMTU, 2800, MaxPhysMTU} {
		for _, size := range []int{MinPacketLength, 29, 99, 100, 101, 1000, 1432, 1433, 5000, MaxPacketLength} {
			p := randomPacket(r, size-MinPacketLength)
			n := Pieces(size, mtu)
			p.SetFragmented(n > 1)
			pieces, err := Fragment(p, mtu)
			if n > MaxPacketFragments {
				if !errors.Is(err, ErrTooManyPieces) {
					t.Errorf("size %d mtu %d: %v", size, mtu, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("size %d mtu %d: %v", size, mtu, err)
			}
			if len(pieces) != n {
				t.Fatalf("size %d mtu %d: %d pieces, want %d", size, mtu, len(pieces), n)
			}
			var joined []byte
			for i, b := range pieces {
				if len(b) > mtu {
					t.Fatalf("size %d mtu %d: piece %d is %d bytes", size, mtu, i, len(b))
				}
				if i == 0 {
					if &b[0] != &p[0] {
						t.Error("head is a copy")
					}
					joined = append(joined, b...)
					continue
				}
				if Classify(b) != KindFragment {
					t.Fatalf("piece %d classified as %v", i, Classify(b))
				}
				f, err := ParseFragment(b)
				if err != nil {
					t.Fatal(err)
				}
				if f.PacketID() != p.ID() || f.Dest() != p.Dest() || f.Total() != n || f.Number() != i || f.Hops() != 0 {
					t.Fatalf("piece %d header %x", i, b[:16])
				}
				if i < n-1 && len(b) != mtu {
					t.Fatalf("middle piece %d is %d bytes, MTU %d", i, len(b), mtu)
				}
				joined = append(joined, f.Chunk()...)
			}
			if !bytes.Equal(joined, p) {
				t.Fatalf("size %d mtu %d: pieces do not rebuild the packet", size, mtu)
			}
		}
	}
}

// TestFragmentEven: the same pieces as Fragment but of equal sizes (the
// last at most n-1 bytes shorter), rebuilding the packet.
func TestFragmentEven(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, mtu := range []int{100, 577, MinPhysMTU, DefaultPhysMTU, 2800} {
		for _, size := range []int{MinPacketLength, 101, 1000, 1432, 1433, 2838, 5000, 9000} {
			p := randomPacket(r, size-MinPacketLength)
			n := Pieces(size, mtu)
			if n > MaxPacketFragments {
				continue
			}
			p.SetFragmented(n > 1)
			pieces, err := FragmentEven(p, mtu, nil, nil)
			if err != nil {
				t.Fatalf("size %d mtu %d: %v", size, mtu, err)
			}
			if len(pieces) != n {
				t.Fatalf("size %d mtu %d: %d pieces, want %d", size, mtu, len(pieces), n)
			}
			joined := append([]byte(nil), pieces[0]...)
			for i, b := range pieces {
				if len(b) > mtu || len(b) > len(pieces[0]) || len(pieces[0])-len(b) >= n {
					t.Fatalf("size %d mtu %d: piece %d is %d bytes, head %d", size, mtu, i, len(b), len(pieces[0]))
				}
				if i > 0 {
					f, err := ParseFragment(b)
					if err != nil || f.Number() != i || f.Total() != n {
						t.Fatalf("piece %d: %v", i, err)
					}
					joined = append(joined, f.Chunk()...)
				}
			}
			if !bytes.Equal(joined, p) {
				t.Fatalf("size %d mtu %d: pieces do not rebuild the packet", size, mtu)
			}
		}
	}
}

func TestFragmentErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	p := randomPacket(r, 3000)
	if _, err := Fragment(p, 1432); !errors.Is(err, ErrFlagMismatch) {
		t.Errorf("unflagged: %v", err)
	}
	small := randomPacket(r, 10)
	small.SetFragmented(true)
	if _, err := Fragment(small, 1432); !errors.Is(err, ErrFlagMismatch) {
		t.Errorf("flagged but fits: %v", err)
	}
	if _, err := Fragment(p, 16); !errors.Is(err, ErrBadMTU) {
		t.Errorf("mtu 16: %v", err)
	}
	if _, err := Fragment(p[:10], 1432); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
}
