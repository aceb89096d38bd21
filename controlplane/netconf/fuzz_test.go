package netconf

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

// FuzzParseDictionary checks that Parse never panics and that what it accepts writes out
// to a dictionary that reads back to the same config.
func FuzzParseDictionary(f *testing.F) {
	f.Add(stateFile(f, "a"))
	f.Add(stateFile(f, "b"))
	chunks, _ := capturedChunks(f)
	for _, k := range chunks {
		f.Add([]byte(k.Data))
	}
	full, err := fullConfig(f).AppendMarshal(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(full)
	f.Add([]byte("v=7\nnwid=1\nid=1\nssov=0\nssoe=1\naurl=x\naexpt=-5"))
	f.Add([]byte("v=7\nnwid=1\nid=1\nI=\x00\x01abcdef\nRT=\x00\x00\x00\x00\x00\x00\nS=12345678123"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data)
		if err != nil {
			return
		}
		b1, err := c.AppendMarshal(nil)
		if err != nil {
			return // the written form may outgrow the capacity (DNS is always written)
		}
		c2, err := Parse(b1)
		if err != nil {
			t.Fatalf("written config does not parse: %v\n%q", err, b1)
		}
		b2, err := c2.AppendMarshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		// SSO versions other than 0 and 1 write no SSO keys, which then read as version 0.
		if c.SSOVersion <= 1 && !bytes.Equal(b1, b2) {
			t.Fatalf("round trip differs:\n%q\n%q", b1, b2)
		}
		c3, err := Parse(b2)
		if err != nil {
			t.Fatal(err)
		}
		if b3, _ := c3.AppendMarshal(nil); !bytes.Equal(b2, b3) {
			t.Fatalf("second round trip differs:\n%q\n%q", b2, b3)
		}
	})
}

// FuzzAssembler feeds an Assembler a sequence of chunks: arbitrary chunk payloads and chunks
// picked from a pool of validly signed ones (three updates, plus signed chunks with a wrong
// total, overlapping, or beyond the end). It checks that nothing panics and that a completed
// update is its total length and, if only genuine chunks were used, the original config.
func FuzzAssembler(f *testing.F) {
	id1 := testvec.Identity(f, "id1.secret")
	conf, err := fullConfig(f).AppendMarshal(nil)
	if err != nil {
		f.Fatal(err)
	}
	var pool []verbs.ConfigChunk
	for u := range 3 {
		ks, err := Split(id1, benchNWID, uint64(10+u), conf, 400*(u+1))
		if err != nil {
			f.Fatal(err)
		}
		pool = append(pool, ks...)
	}
	genuine := len(pool)
	for _, k := range pool[:3] {
		for _, mut := range []func(*verbs.ConfigChunk){
			func(k *verbs.ConfigChunk) { k.TotalLength-- },
			func(k *verbs.ConfigChunk) { k.ChunkIndex += 3 },
			func(k *verbs.ConfigChunk) { k.ChunkIndex = k.TotalLength - 1 },
		} {
			m := k
			mut(&m)
			sig, err := id1.Sign(m.AppendSignedMessage(nil))
			if err != nil {
				f.Fatal(err)
			}
			m.Signature = sig[:]
			pool = append(pool, m)
		}
	}
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0})
	f.Add([]byte{0xff, 0, 0x0c, 1, 2})
	chunks, _ := capturedChunks(f)
	f.Add(append([]byte{0xff, byte(len(chunks[0].AppendMarshal(nil)) >> 8), byte(len(chunks[0].AppendMarshal(nil)))}, chunks[0].AppendMarshal(nil)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := NewAssembler(benchNWID, id1, 0)
		if err != nil {
			t.Fatal(err)
		}
		forged := false
		for len(data) > 0 {
			var k verbs.ConfigChunk
			if data[0] == 0xff { // a raw chunk payload: 0xff, length (2), payload
				if len(data) < 3 {
					return
				}
				n := int(binary.BigEndian.Uint16(data[1:]))
				data = data[3:]
				if n > len(data) {
					n = len(data)
				}
				k, err = verbs.ParseConfigChunk(data[:n])
				data = data[n:]
				if err != nil {
					continue
				}
			} else {
				i := int(data[0]) % len(pool)
				data = data[1:]
				k = pool[i]
				if i >= genuine {
					forged = true
				}
			}
			out, err := a.Add(k)
			if err != nil || out == nil {
				continue
			}
			if len(out) != int(k.TotalLength) {
				t.Fatalf("assembled %d bytes, total %d", len(out), k.TotalLength)
			}
			if !forged && k.TotalLength == uint32(len(conf)) && !bytes.Equal(out, conf) {
				t.Fatal("assembled config differs from the original")
			}
		}
	})
}

// FuzzParseRequest checks that request metadata never panics the reader and that what it
// reads writes back to the same metadata.
func FuzzParseRequest(f *testing.F) {
	for _, e := range testvec.MustSession(f).ZeroTier() {
		if e.Verb == 0x0b {
			if req, err := verbs.ParseNetworkConfigRequest(e.Plaintext); err == nil {
				f.Add([]byte(req.Metadata))
			}
		}
	}
	f.Add([]byte("v=7\no=x\\0y\na=tok\\en"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseRequest(data)
		if err != nil {
			return
		}
		b, err := m.AppendMarshal(nil)
		if err != nil {
			return // every key is written, which may not fit
		}
		m2, err := ParseRequest(b)
		if err != nil || m2 != m {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, m, m2)
		}
	})
}
