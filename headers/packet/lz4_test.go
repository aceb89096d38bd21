package packet

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// textPacket is a packet whose payload is n bytes of compressible text.
func textPacket(n int) Packet {
	p := Packet(AppendHeader(nil, 1, 2, 3, VerbNetworkConfig))
	const text = "v=0000000000000007\nnwid=f737c19395000001\nts=000001a21115f522\n"
	for len(p) < MinPacketLength+n {
		p = append(p, text[len(p)%len(text)])
	}
	return p
}

func TestCompressRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 64, 65, 100, 1000, 1404, 5000, MaxDecompressedPayload} {
		for _, random := range []bool{false, true} {
			p := textPacket(n)
			if random {
				p = randomPacket(r, n)
				p[IndexVerb] = byte(VerbFrame)
			}
			p[IndexVerb] |= VerbFlagCompressed // stale flag: Compress must clear it if it does not compress
			plain := bytes.Clone(p)
			plain[IndexVerb] &^= VerbFlagCompressed
			c := Compress(p)
			wantCompressed := n > MinCompressPayload && !random
			if c.Compressed() != wantCompressed {
				t.Fatalf("%d bytes (random %v): compressed = %v", n, random, c.Compressed())
			}
			if c.Compressed() && len(c) >= len(plain) {
				t.Fatalf("%d bytes: compressed packet is not smaller", n)
			}
			if !c.Compressed() && !bytes.Equal(c, plain) {
				t.Fatalf("%d bytes: uncompressed packet changed", n)
			}
			if c.Verb() != VerbNetworkConfig && c.Verb() != VerbFrame {
				t.Fatalf("verb changed to %v", c.Verb())
			}
			d, err := Decompress(c)
			if err != nil {
				t.Fatalf("%d bytes: %v", n, err)
			}
			if !bytes.Equal(d, plain) {
				t.Fatalf("%d bytes: round trip differs", n)
			}
			out, err := AppendDecompressed([]byte{7}, c)
			if err != nil || out[0] != 7 || !bytes.Equal(out[1:], plain) {
				t.Fatalf("%d bytes: AppendDecompressed: %v", n, err)
			}
		}
	}
}

func TestDecompressErrors(t *testing.T) {
	hdr := func(payload []byte) Packet {
		p := Packet(AppendHeader(nil, 1, 2, 3, VerbFrame))
		p[IndexVerb] |= VerbFlagCompressed
		return append(p, payload...)
	}
	// A valid block that expands to one byte more than allowed.
	big := make([]byte, MaxDecompressedPayload+1)
	blk := make([]byte, lz4.CompressBlockBound(len(big)))
	n, err := lz4.CompressBlock(big, blk, nil)
	if err != nil || n == 0 {
		t.Fatal(err)
	}
	fits := make([]byte, MaxDecompressedPayload)
	blkFits := make([]byte, lz4.CompressBlockBound(len(fits)))
	m, _ := lz4.CompressBlock(fits, blkFits, nil)

	bad := map[string]Packet{
		"empty":           hdr(nil),
		"too big":         hdr(blk[:n]),
		"truncated":       hdr(blk[:n/2]),
		"garbage":         hdr([]byte{0xff, 0xff, 0xff, 0xff, 0xff}),
		"bad offset":      hdr([]byte{0x14, 'a', 0xff, 0xff}),
		"zero offset":     hdr([]byte{0x14, 'a', 0x00, 0x00, 0x50, 'b', 'c', 'd', 'e', 'f'}),
		"literal overrun": hdr([]byte{0xf0, 0xff, 'x'}),
	}
	for name, p := range bad {
		if _, err := Decompress(p); !errors.Is(err, ErrDecompress) {
			t.Errorf("%s: %v", name, err)
		}
		out, err := AppendDecompressed([]byte{1, 2}, p)
		if !errors.Is(err, ErrDecompress) || !bytes.Equal(out, []byte{1, 2}) {
			t.Errorf("%s: AppendDecompressed = %x, %v", name, out, err)
		}
	}
	d, err := Decompress(hdr(blkFits[:m]))
	if err != nil || len(d.Payload()) != MaxDecompressedPayload {
		t.Errorf("largest payload: %v", err)
	}
	if c := Compress(Packet{1, 2}); len(c) != 2 {
		t.Errorf("Compress of a short packet: %x", []byte(c))
	}
	if _, err := Decompress(Packet{1, 2}); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
	if _, err := AppendDecompressed(nil, Packet{1, 2}); !errors.Is(err, ErrTooShort) {
		t.Errorf("short: %v", err)
	}
}

func TestCompressorAllocs(t *testing.T) {
	var c Compressor
	p := textPacket(1400)
	buf := make([]byte, 0, MaxPacketLength)
	out := make([]byte, 0, MaxPacketLength)
	if a := testing.AllocsPerRun(50, func() {
		q := c.Compress(append(buf[:0], p...))
		if _, err := AppendDecompressed(out, q); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("%v allocations", a)
	}
}
