package packet

import (
	"bytes"
	"testing"

	"github.com/ztx/ztx/internal/testvec"
)

// seedCapture adds every datagram of the live session to f's corpus.
func seedCapture(f *testing.F) {
	for _, e := range testvec.MustSession(f).Entries {
		f.Add(e.Wire)
	}
}

// FuzzParse: classification and the header and fragment views never panic,
// and what parses re-encodes to the same bytes.
func FuzzParse(f *testing.F) {
	seedCapture(f)
	f.Add(AppendFragment(nil, 0x0102030405060708, 0x1122334455, 3, 2, []byte("chunk")))
	f.Add(make([]byte, BeaconLength))
	f.Fuzz(func(t *testing.T, b []byte) {
		switch Classify(b) {
		case KindBeacon:
			if _, ok := BeaconAddress(b); !ok {
				t.Fatal("beacon without address")
			}
		case KindPacket:
			p, err := Parse(b)
			if err != nil {
				if len(b) <= MaxPacketLength {
					t.Fatalf("packet-sized datagram refused: %v", err)
				}
				return
			}
			h := Packet(AppendHeader(nil, p.ID(), p.Dest(), p.Source(), p.Verb()))
			h[IndexFlags] = p.Flags()
			copy(h[IndexMAC:], p[IndexMAC:IndexVerb])
			h[IndexVerb] = p[IndexVerb]
			if !bytes.Equal(h, p[:MinPacketLength]) {
				t.Fatalf("header re-encodes as %x, was %x", []byte(h), b[:MinPacketLength])
			}
			_ = p.String()
			_, _ = p.Cipher().String(), p.Verb().String()
			if p.Hops() > MaxHops || len(p.Payload()) != len(b)-MinPacketLength {
				t.Fatal("accessor out of range")
			}
		case KindFragment:
			fr, err := ParseFragment(b)
			if err != nil {
				return
			}
			g := AppendFragment(nil, fr.PacketID(), fr.Dest(), fr.Total(), fr.Number(), fr.Chunk())
			g[FragIndexHops] = b[FragIndexHops]
			if !bytes.Equal(g, b) {
				t.Fatalf("fragment re-encodes as %x, was %x", g, b)
			}
		case KindTooShort:
			if _, err := Parse(b); err == nil {
				t.Fatal("too-short datagram parsed as a packet")
			}
		}
	})
}

// FuzzDearmor: random bytes never panic Dearmor with a fixed key, and any
// input armors and dearmors back to itself with every suite.
func FuzzDearmor(f *testing.F) {
	seedCapture(f)
	k, err := NewKey(appendixKey())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = k.Dearmor(Packet(bytes.Clone(b)))
		if len(b) < MinPacketLength || len(b) > MaxPacketLength {
			return
		}
		for _, s := range cryptoSuites {
			p := Packet(bytes.Clone(b))
			if err := k.Armor(p, s); err != nil {
				t.Fatal(err)
			}
			if err := k.Dearmor(p); err != nil {
				t.Fatalf("%v: %v", s, err)
			}
			if !bytes.Equal(p[IndexVerb:], b[IndexVerb:]) {
				t.Fatalf("%v: round trip changed the payload", s)
			}
		}
	})
}

// FuzzDecompress: any payload with the compressed flag either fails with
// ErrDecompress or yields 1 to 9996 bytes that compress and decompress back.
func FuzzDecompress(f *testing.F) {
	s := testvec.MustSession(f)
	keys := map[*testvec.KeyPair]*Key{}
	for _, e := range s.ZeroTier() {
		kp, _ := s.KeyFor(e)
		if keys[kp] == nil {
			keys[kp], _ = NewKey(&kp.Shared)
		}
		p := Packet(bytes.Clone(e.Wire))
		if keys[kp].Dearmor(p) == nil {
			f.Add(p.Payload()) // LZ4 blocks for the compressed ones
		}
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		p := Packet(AppendHeader(nil, 1, 2, 3, VerbFrame))
		p[IndexVerb] |= VerbFlagCompressed
		p = append(p, payload...)
		d, err := Decompress(p)
		if err != nil {
			return
		}
		if n := len(d.Payload()); n == 0 || n > MaxDecompressedPayload || d.Compressed() {
			t.Fatalf("decompressed to %d bytes", n)
		}
		plain := bytes.Clone(d)
		d2, err := Decompress(Compress(d))
		if err != nil || !bytes.Equal(d2, plain) {
			t.Fatalf("recompression round trip: %v", err)
		}
	})
}

// reassemblyRecords encodes pieces for FuzzReassembly: per piece a control
// byte (bits 0-1 packet, 2-4 piece number, 5-7 total), a length and the
// chunk.
func reassemblyRecords(pieces ...[]byte) []byte {
	var out []byte
	for _, p := range pieces {
		out = append(out, p[0], byte(len(p)-1))
		out = append(out, p[1:]...)
	}
	return out
}

// FuzzReassembly feeds a sequence of heads and fragments of four packets to
// a Queue and checks each completed packet against a model of the rules:
// any order, total from any fragment, first copy of a piece wins, and
// completion when the head and total-1 fragments are present.
func FuzzReassembly(f *testing.F) {
	for i, e := range testvec.MustSession(f).ZeroTier() {
		w := e.Wire
		ctl := func(n, total int) byte { return byte(i&3) | byte(n)<<2 | byte(total)<<5 }
		if len(w) > 60 {
			f.Add(reassemblyRecords(
				append([]byte{ctl(2, 3)}, w[40:60]...),
				append([]byte{ctl(0, 0)}, w[:20]...),
				append([]byte{ctl(1, 3)}, w[20:40]...)))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Arbitrary bytes as one datagram must not panic either.
		var raw Queue
		raw.Add(nil, data, 0)

		type model struct {
			total  int
			pieces map[int][]byte
		}
		var q Queue
		ids := [4]uint64{0x1111, 0x2222, 0x3333, 0x4444}
		live := map[uint64]*model{}
		for len(data) >= 2 {
			ctl, n := data[0], int(data[1])
			data = data[2:]
			n = min(n, len(data))
			chunk := data[:n]
			data = data[n:]
			id := ids[ctl&3]
			num, total := int(ctl>>2&7), int(ctl>>5)
			var b []byte
			if num == 0 {
				h := Packet(AppendHeader(nil, id, 0x0102030405, 0x0a0b0c0d0e, VerbFrame))
				h.SetFragmented(true)
				b = append(h, chunk...)
			} else {
				b = AppendFragment(nil, id, 0x0102030405, total, num, chunk)
			}
			out, done, err := q.Add(nil, b, 0)
			if q.Len() > ReceiveQueueSize {
				t.Fatal("ring overflow")
			}

			// The model.
			m := live[id]
			if num != 0 && (total < 2 || num >= total || len(chunk) == 0) {
				// Invalid numbering, or a bare 16-byte header (a
				// fragment is longer than 16 bytes).
				if err == nil {
					t.Fatalf("invalid fragment %d/%d (%d bytes) accepted", num, total, len(chunk))
				}
				continue
			}
			if m == nil {
				m = &model{pieces: map[int][]byte{}}
				live[id] = m
			}
			if num != 0 {
				if m.total != 0 && m.total != total {
					if err == nil {
						t.Fatal("clashing total accepted")
					}
					continue
				}
				m.total = total
			}
			if err != nil {
				t.Fatalf("piece %d/%d refused: %v", num, total, err)
			}
			if _, dup := m.pieces[num]; !dup {
				if num == 0 {
					m.pieces[0] = b
				} else {
					m.pieces[num] = b[FragIndexPayload:]
				}
			}
			complete := m.pieces[0] != nil && m.total != 0 && len(m.pieces) == m.total
			if complete != done {
				t.Fatalf("done=%v, model says %v", done, complete)
			}
			if done {
				var want []byte
				for i := 0; i < m.total; i++ {
					want = append(want, m.pieces[i]...)
				}
				if !bytes.Equal(out, want) {
					t.Fatal("assembled packet differs from the model")
				}
				delete(live, id)
			}
		}
	})
}
