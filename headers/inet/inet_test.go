package inet

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	for _, s := range []string{"10.77.0.1/9993", "2001:db8::1/9993", "0.0.0.0/0", "255.255.255.255/65535"} {
		ap, err := ParseText(s)
		if err != nil {
			t.Fatal(err)
		}
		if Format(ap) != s {
			t.Errorf("Format(ParseText(%q)) = %q", s, Format(ap))
		}
		b := Append(nil, ap)
		if len(b) != Len(ap) {
			t.Errorf("%s: Len %d, wrote %d", s, Len(ap), len(b))
		}
		got, n, err := Parse(append(b, 0xee))
		if err != nil || n != len(b) || got != ap {
			t.Errorf("%s: round trip %v n=%d %v", s, got, n, err)
		}
	}
}

func TestWireForms(t *testing.T) {
	// From the captured OK(HELLO): the root saw node A at 10.77.0.2/9993.
	b, _ := hex.DecodeString("040a4d0002270900")
	ap, n, err := Parse(b)
	if err != nil || n != 7 || Format(ap) != "10.77.0.2/9993" {
		t.Fatalf("got %v n=%d err=%v", ap, n, err)
	}
	if !bytes.Equal(Append(nil, netip.AddrPort{}), []byte{0}) {
		t.Error("zero address not written as 0x00")
	}
	mapped := netip.AddrPortFrom(netip.MustParseAddr("::ffff:1.2.3.4"), 5)
	if got := Append(nil, mapped); got[0] != TypeIPv6 || len(got) != 19 {
		t.Errorf("mapped address written as %x", got)
	}
	if got := Format(mapped); got != "::ffff:1.2.3.4/5" {
		t.Errorf("Format(mapped) = %q", got)
	}
	for _, c := range []struct {
		in string
		n  int
	}{{"00", 1}, {"01aabbccddeeff", 7}, {"02aabbccddeeff", 7}, {"030002aabb", 5}} {
		b, _ := hex.DecodeString(c.in)
		ap, n, err := Parse(b)
		if err != nil || n != c.n || ap.IsValid() {
			t.Errorf("%s: %v n=%d err=%v", c.in, ap, n, err)
		}
	}
	for _, in := range []string{"", "05", "04010203", "06" + "00", "0300", "030005aa", "01aa"} {
		b, _ := hex.DecodeString(in)
		if _, _, err := Parse(b); err == nil {
			t.Errorf("Parse(%s) succeeded", in)
		}
	}
	for _, s := range []string{"10.0.0.1", "10.0.0.1/", "10.0.0.1/70000", "x/1", "/1"} {
		if _, err := ParseText(s); err == nil {
			t.Errorf("ParseText(%q) succeeded", s)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"040a4d00022709", "06200100000000000000000000000000012709", "00", "030001aa"} {
		b, _ := hex.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ap, n, err := Parse(b)
		if err != nil {
			return
		}
		if n > len(b) || n < 1 {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		out := Append(nil, ap)
		if len(out) != Len(ap) {
			t.Fatalf("Len %d, Append wrote %d", Len(ap), len(out))
		}
		if ap.IsValid() && !bytes.Equal(out, b[:n]) {
			t.Fatalf("re-marshal %x, input %x", out, b[:n])
		}
		again, _, err := Parse(out)
		if err != nil || again != ap {
			t.Fatalf("round trip: %v %v", again, err)
		}
		if ap.IsValid() {
			txt, err := ParseText(Format(ap))
			if err != nil || txt != ap {
				t.Fatalf("text round trip %q: %v %v", Format(ap), txt, err)
			}
		}
	})
}
