package siv

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pierrec/lz4/v4"
)

// A small local reader for testdata/session1/zt-session-decrypted.txt, which
// lists per node pair the shared key and the derived AES keys, and per packet
// the wire bytes, the cipher suite and the decrypted verb and payload.

const sessionFile = "../../testdata/session1/zt-session-decrypted.txt"

type sessionKey struct {
	pair   string // "a<->b" as written
	shared [SharedKeySize]byte
	k0, k1 []byte // as listed (48 bytes; the first 32 are the AES keys)
}

type sessionPacket struct {
	index      int
	src, dst   string
	cipher     int
	wire       []byte
	dearmorOK  bool
	verb       byte // verb number, flags masked
	compressed bool
	payload    []byte // after the verb byte, decompressed
}

type session struct {
	keys    []*sessionKey
	packets []*sessionPacket
}

func readSession(t testing.TB) *session {
	t.Helper()
	f, err := os.Open(sessionFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := parseSession(f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func parseSession(f *os.File) (*session, error) {
	s := new(session)
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var key *sessionKey
	var pkt *sessionPacket
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		trim := strings.TrimSpace(text)
		fail := func(err error) error { return fmt.Errorf("line %d: %w", line, err) }
		switch {
		case strings.HasPrefix(text, "KEY "):
			fields := strings.Fields(text)
			if len(fields) != 3 || !strings.HasPrefix(fields[2], "shared48=") {
				return nil, fail(fmt.Errorf("bad KEY line"))
			}
			b, err := hex.DecodeString(strings.TrimPrefix(fields[2], "shared48="))
			if err != nil || len(b) != SharedKeySize {
				return nil, fail(fmt.Errorf("bad shared key"))
			}
			key = &sessionKey{pair: fields[1]}
			copy(key.shared[:], b)
			s.keys = append(s.keys, key)
		case strings.HasPrefix(trim, "aes_k0(") || strings.HasPrefix(trim, "aes_k1("):
			_, h, ok := strings.Cut(trim, "=")
			b, err := hex.DecodeString(h)
			if !ok || err != nil || len(b) < KeySize || key == nil {
				return nil, fail(fmt.Errorf("bad AES key line"))
			}
			if trim[5] == '0' {
				key.k0 = b
			} else {
				key.k1 = b
			}
		case strings.HasPrefix(text, "#"):
			pkt = nil
			fields := strings.Fields(text)
			idx, err := strconv.Atoi(strings.TrimPrefix(fields[0], "#"))
			if err != nil {
				return nil, fail(err)
			}
			p := &sessionPacket{index: idx, cipher: -1}
			for i, fl := range fields {
				if fl == "zt" && i+1 < len(fields) {
					p.src, p.dst, _ = strings.Cut(fields[i+1], "->")
				}
				if v, ok := strings.CutPrefix(fl, "cipher="); ok {
					if p.cipher, err = strconv.Atoi(v); err != nil {
						return nil, fail(err)
					}
				}
			}
			if p.src == "" {
				continue // not a ZeroTier packet
			}
			pkt = p
			s.packets = append(s.packets, p)
		case strings.HasPrefix(trim, "wire="):
			if pkt == nil {
				return nil, fail(fmt.Errorf("wire without packet"))
			}
			b, err := hex.DecodeString(strings.TrimPrefix(trim, "wire="))
			if err != nil {
				return nil, fail(err)
			}
			pkt.wire = b
		case strings.HasPrefix(trim, "dearmor="):
			if pkt == nil {
				return nil, fail(fmt.Errorf("dearmor without packet"))
			}
			pkt.dearmorOK = strings.HasPrefix(trim, "dearmor=OK")
			_, v, ok := strings.Cut(trim, " verb=0x")
			if !ok || len(v) < 2 {
				return nil, fail(fmt.Errorf("no verb"))
			}
			verb, err := strconv.ParseUint(v[:2], 16, 8)
			if err != nil {
				return nil, fail(err)
			}
			pkt.verb = byte(verb)
			pkt.compressed = strings.Contains(trim, "[was LZ4-compressed")
			_, pl, ok := strings.Cut(trim, "plaintext_payload(")
			if !ok {
				return nil, fail(fmt.Errorf("no payload"))
			}
			n, h, ok := strings.Cut(pl, ")=")
			size, err := strconv.Atoi(n)
			if !ok || err != nil {
				return nil, fail(fmt.Errorf("bad payload"))
			}
			if pkt.payload, err = hex.DecodeString(h); err != nil || len(pkt.payload) != size {
				return nil, fail(fmt.Errorf("bad payload hex (%d bytes, want %d)", len(pkt.payload), size))
			}
		}
	}
	return s, sc.Err()
}

// keyFor finds the shared key of the node pair of a packet (either order).
func (s *session) keyFor(p *sessionPacket) *sessionKey {
	for _, k := range s.keys {
		if k.pair == p.src+"<->"+p.dst || k.pair == p.dst+"<->"+p.src {
			return k
		}
	}
	return nil
}

func TestSessionDeriveKeys(t *testing.T) {
	s := readSession(t)
	if len(s.keys) != 3 {
		t.Fatalf("%d keys in the session, want 3", len(s.keys))
	}
	for _, k := range s.keys {
		k0, k1 := DeriveKeys(&k.shared)
		if !bytes.Equal(k0[:], k.k0[:KeySize]) {
			t.Errorf("%s: K0 %x, want %x", k.pair, k0, k.k0[:KeySize])
		}
		if !bytes.Equal(k1[:], k.k1[:KeySize]) {
			t.Errorf("%s: K1 %x, want %x", k.pair, k1, k.k1[:KeySize])
		}
	}
}

func TestSessionDearmor(t *testing.T) {
	s := readSession(t)
	tested := 0
	for _, p := range s.packets {
		if p.cipher != Suite {
			continue
		}
		k := s.keyFor(p)
		if k == nil {
			t.Fatalf("#%d: no key for %s<->%s", p.index, p.src, p.dst)
		}
		if !p.dearmorOK {
			t.Fatalf("#%d: capture says dearmor failed", p.index)
		}
		tested++
		for name, c := range implementations(t, &k.shared) {
			pkt := bytes.Clone(p.wire)
			if !c.Dearmor(pkt) {
				t.Errorf("%s #%d: Dearmor failed", name, p.index)
				continue
			}
			if len(pkt) <= PayloadOffset {
				t.Errorf("%s #%d: no verb byte", name, p.index)
				continue
			}
			verb := pkt[PayloadOffset]
			if verb&0x1f != p.verb {
				t.Errorf("%s #%d: verb %#02x, want %#02x", name, p.index, verb&0x1f, p.verb)
			}
			if got := verb&0x80 != 0; got != p.compressed {
				t.Errorf("%s #%d: compressed flag %v, want %v", name, p.index, got, p.compressed)
			}
			payload := pkt[PayloadOffset+1:]
			if p.compressed {
				out := make([]byte, len(p.payload))
				n, err := lz4.UncompressBlock(payload, out)
				if err != nil {
					t.Errorf("%s #%d: LZ4: %v", name, p.index, err)
					continue
				}
				payload = out[:n]
			}
			if !bytes.Equal(payload, p.payload) {
				t.Errorf("%s #%d: payload\n%x\nwant\n%x", name, p.index, payload, p.payload)
			}

			// Re-armoring the plaintext with the recovered IV gives the
			// captured wire bytes (hops included: they are not authenticated).
			var iv [16]byte
			copy(iv[:8], p.wire[:8])
			copy(iv[8:], p.wire[TagOffset:TagOffset+8])
			c.decryptK1(&iv)
			copy(pkt[:8], iv[:8])
			clear(pkt[TagOffset : TagOffset+8])
			c.Armor(pkt)
			if !bytes.Equal(pkt, p.wire) {
				t.Errorf("%s #%d: re-Armor\n%x\nwant\n%x", name, p.index, pkt, p.wire)
			}
		}
	}
	for _, p := range s.packets {
		if p.cipher == 0 || p.cipher == 1 {
			if k := s.keyFor(p); k != nil {
				c, _ := New(&k.shared)
				if c.Dearmor(bytes.Clone(p.wire)) {
					t.Errorf("#%d: a suite-%d packet verified as suite 3", p.index, p.cipher)
				}
			}
		}
	}
	if tested < 100 {
		t.Fatalf("only %d suite-3 packets in the capture", tested)
	}
	t.Logf("%d suite-3 packets dearmored", tested)
}
