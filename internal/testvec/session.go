package testvec

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ztx/ztx/crypto/identity"
)

// KeyPair is the key material that two nodes share (one "KEY" block).
type KeyPair struct {
	A, B identity.Address // in the order the file names them
	// Shared is the 48-byte key agreed by A and B (PROTOCOL.md part 1 §1.6).
	Shared [48]byte
	// AESK0 and AESK1 are the AES-GMAC-SIV keys derived from Shared (§4.4).
	// The file prints 48 bytes (the full HMAC-SHA-384 output); only the
	// first 32 are the key.
	AESK0, AESK1 [48]byte
}

// Has reports whether the pair is the one of nodes x and y, in either order.
func (k *KeyPair) Has(x, y identity.Address) bool {
	return (k.A == x && k.B == y) || (k.A == y && k.B == x)
}

// Entry is one captured UDP datagram (one "#n" record).
type Entry struct {
	Index    int           // n of "#n", 1-based position in the capture
	Time     time.Duration // since the first datagram
	Src, Dst netip.AddrPort
	// ZeroTier is false for the datagram the file lists as "non-ZT/short";
	// such an entry has only Index, Time, Src, Dst, Len and Wire.
	ZeroTier bool
	Len      int    // UDP payload length
	Wire     []byte // the UDP payload as captured

	// Outer header fields as the file prints them.
	SrcZT, DstZT identity.Address
	PacketID     uint64 // BE64 of wire bytes 0..7
	Cipher       int
	Hops         int

	// What the reference found after dearmoring.
	DearmorOK  bool
	Verb       byte   // verb number (verb byte & 0x1f)
	VerbName   string // as printed, e.g. "NETWORK_CONFIG_REQUEST"
	Compressed bool   // the payload was LZ4-compressed on the wire
	// Plaintext is the payload after the verb byte, decrypted and
	// decompressed (for HELLO the cryptField section is still encrypted).
	Plaintext []byte
}

// Session is everything in zt-session-decrypted.txt.
type Session struct {
	Keys    []KeyPair
	Entries []Entry // in file order, including the non-ZeroTier datagram
}

// Key returns the key pair of nodes x and y (in either order).
func (s *Session) Key(x, y identity.Address) (*KeyPair, bool) {
	for i := range s.Keys {
		if s.Keys[i].Has(x, y) {
			return &s.Keys[i], true
		}
	}
	return nil, false
}

// KeyFor returns the key that armors e (the pair of its ZeroTier source
// and destination).
func (s *Session) KeyFor(e *Entry) (*KeyPair, bool) {
	if !e.ZeroTier {
		return nil, false
	}
	return s.Key(e.SrcZT, e.DstZT)
}

// ZeroTier returns the ZeroTier packets of the session in file order.
func (s *Session) ZeroTier() []*Entry {
	var out []*Entry
	for i := range s.Entries {
		if s.Entries[i].ZeroTier {
			out = append(out, &s.Entries[i])
		}
	}
	return out
}

// ParseSession reads a zt-session-decrypted.txt file.
func ParseSession(path string) (*Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("testvec: %w", err)
	}
	defer f.Close()
	s, err := ReadSession(f)
	if err != nil {
		return nil, fmt.Errorf("testvec: %s: %w", path, err)
	}
	return s, nil
}

// ReadSession parses the zt-session-decrypted.txt format from r.
func ReadSession(r io.Reader) (*Session, error) {
	var p sessionParser
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		p.line++
		if err := p.parseLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("line %d: %w", p.line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if err := p.finish(); err != nil {
		return nil, fmt.Errorf("line %d: %w", p.line, err)
	}
	if len(p.s.Entries) == 0 {
		return nil, errors.New("no packet entries")
	}
	return &p.s, nil
}

type sessionParser struct {
	s       Session
	line    int
	key     *KeyPair // last KEY block, for its aes_k lines
	entry   *Entry   // entry being filled, nil between entries
	wire    bool     // entry has its wire line
	dearmor bool     // entry has its dearmor line
}

func (p *sessionParser) parseLine(line string) error {
	trimmed := strings.TrimSpace(line)
	switch {
	case trimmed == "":
		return nil
	case strings.HasPrefix(line, "KEY "):
		if err := p.finish(); err != nil {
			return err
		}
		return p.parseKey(trimmed)
	case strings.HasPrefix(trimmed, "aes_k0"), strings.HasPrefix(trimmed, "aes_k1"):
		if p.key == nil || p.entry != nil {
			return errors.New("AES key line outside a KEY block")
		}
		dst := &p.key.AESK0
		if strings.HasPrefix(trimmed, "aes_k1") {
			dst = &p.key.AESK1
		}
		_, v, ok := strings.Cut(trimmed, "=")
		if !ok {
			return errors.New("AES key line without '='")
		}
		return decodeHexInto(dst[:], v)
	case strings.HasPrefix(line, "#"):
		if err := p.finish(); err != nil {
			return err
		}
		return p.parseHeader(trimmed)
	case strings.HasPrefix(trimmed, "wire="):
		if p.entry == nil || !p.entry.ZeroTier || p.wire {
			return errors.New("unexpected wire line")
		}
		b, err := hex.DecodeString(strings.TrimPrefix(trimmed, "wire="))
		if err != nil {
			return fmt.Errorf("wire: %w", err)
		}
		p.entry.Wire, p.wire = b, true
		return nil
	case strings.HasPrefix(trimmed, "dearmor="):
		if p.entry == nil || !p.entry.ZeroTier || p.dearmor {
			return errors.New("unexpected dearmor line")
		}
		p.dearmor = true
		return parseDearmor(p.entry, trimmed)
	}
	return fmt.Errorf("unrecognised line %q", truncate(line))
}

// parseKey reads "KEY a<->b shared48=hex".
func (p *sessionParser) parseKey(line string) error {
	f := strings.Fields(line)
	if len(f) != 3 {
		return errors.New("KEY line: want 3 fields")
	}
	a, b, ok := strings.Cut(f[1], "<->")
	if !ok {
		return errors.New("KEY line: no a<->b pair")
	}
	var k KeyPair
	var err error
	if k.A, err = parseAddr(a); err != nil {
		return err
	}
	if k.B, err = parseAddr(b); err != nil {
		return err
	}
	v, ok := strings.CutPrefix(f[2], "shared48=")
	if !ok {
		return errors.New("KEY line: no shared48=")
	}
	if err := decodeHexInto(k.Shared[:], v); err != nil {
		return fmt.Errorf("shared48: %w", err)
	}
	p.s.Keys = append(p.s.Keys, k)
	p.key = &p.s.Keys[len(p.s.Keys)-1]
	return nil
}

// parseHeader reads a "#n t=... src -> dst ..." line.
func (p *sessionParser) parseHeader(line string) error {
	f := strings.Fields(line)
	if len(f) < 7 || f[3] != "->" {
		return errors.New("entry header: want '#n t=T SRC -> DST ...'")
	}
	var e Entry
	var err error
	if e.Index, err = strconv.Atoi(f[0][1:]); err != nil {
		return fmt.Errorf("entry index: %w", err)
	}
	t, ok := strings.CutPrefix(f[1], "t=")
	if !ok {
		return errors.New("entry header: no t=")
	}
	if e.Time, err = time.ParseDuration(t + "s"); err != nil {
		return fmt.Errorf("entry time: %w", err)
	}
	if e.Src, err = netip.ParseAddrPort(f[2]); err != nil {
		return err
	}
	if e.Dst, err = netip.ParseAddrPort(f[4]); err != nil {
		return err
	}
	kv := map[string]string{}
	for _, w := range f[5:] {
		if k, v, ok := strings.Cut(w, "="); ok {
			kv[k] = v
		}
	}
	if e.Len, err = strconv.Atoi(kv["len"]); err != nil {
		return fmt.Errorf("entry len: %w", err)
	}
	switch f[5] {
	case "zt":
		e.ZeroTier = true
		src, dst, ok := strings.Cut(f[6], "->")
		if !ok {
			return errors.New("entry header: no src->dst")
		}
		if e.SrcZT, err = parseAddr(src); err != nil {
			return err
		}
		if e.DstZT, err = parseAddr(dst); err != nil {
			return err
		}
		if e.PacketID, err = strconv.ParseUint(kv["pid"], 16, 64); err != nil {
			return fmt.Errorf("pid: %w", err)
		}
		if e.Cipher, err = strconv.Atoi(kv["cipher"]); err != nil {
			return fmt.Errorf("cipher: %w", err)
		}
		if e.Hops, err = strconv.Atoi(kv["hops"]); err != nil {
			return fmt.Errorf("hops: %w", err)
		}
	case "non-ZT/short":
		if e.Wire, err = hex.DecodeString(kv["data"]); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	default:
		return fmt.Errorf("entry header: unknown kind %q", f[5])
	}
	p.s.Entries = append(p.s.Entries, e)
	p.entry = &p.s.Entries[len(p.s.Entries)-1]
	p.wire, p.dearmor = false, false
	return nil
}

// parseDearmor reads "dearmor=OK verb=0xhh(NAME) [was LZ4-compressed, ...]
// plaintext_payload(n)=hex".
func parseDearmor(e *Entry, line string) error {
	res, rest, _ := strings.Cut(strings.TrimPrefix(line, "dearmor="), " ")
	e.DearmorOK = res == "OK"
	if !e.DearmorOK {
		return nil // nothing else is known about a packet that failed
	}
	rest, ok := strings.CutPrefix(rest, "verb=0x")
	if !ok || len(rest) < 2 {
		return errors.New("dearmor line: no verb=0x")
	}
	v, err := strconv.ParseUint(rest[:2], 16, 8)
	if err != nil {
		return fmt.Errorf("verb: %w", err)
	}
	e.Verb = byte(v)
	name, ok := strings.CutPrefix(rest[2:], "(")
	if !ok {
		return errors.New("dearmor line: no verb name")
	}
	if e.VerbName, rest, ok = strings.Cut(name, ")"); !ok {
		return errors.New("dearmor line: unterminated verb name")
	}
	e.Compressed = strings.Contains(rest, "[was LZ4-compressed")
	_, pl, ok := strings.Cut(rest, "plaintext_payload(")
	if !ok {
		return errors.New("dearmor line: no plaintext_payload")
	}
	n, pl, ok := strings.Cut(pl, ")=")
	if !ok {
		return errors.New("dearmor line: malformed plaintext_payload")
	}
	want, err := strconv.Atoi(n)
	if err != nil {
		return fmt.Errorf("plaintext length: %w", err)
	}
	if e.Plaintext, err = hex.DecodeString(pl); err != nil {
		return fmt.Errorf("plaintext: %w", err)
	}
	if len(e.Plaintext) != want {
		return fmt.Errorf("plaintext has %d bytes, header says %d", len(e.Plaintext), want)
	}
	return nil
}

// finish checks the entry being filled, if any, and closes it.
func (p *sessionParser) finish() error {
	e := p.entry
	if e == nil {
		return nil
	}
	p.entry = nil
	if e.ZeroTier && !p.wire {
		return fmt.Errorf("entry #%d has no wire line", e.Index)
	}
	if e.ZeroTier && !p.dearmor {
		return fmt.Errorf("entry #%d has no dearmor line", e.Index)
	}
	if len(e.Wire) != e.Len {
		return fmt.Errorf("entry #%d: %d wire bytes, header says len=%d", e.Index, len(e.Wire), e.Len)
	}
	return nil
}

func parseAddr(s string) (identity.Address, error) {
	if len(s) != 10 {
		return 0, fmt.Errorf("address %q: want 10 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("address %q: %w", s, err)
	}
	return identity.Address(v), nil
}

func decodeHexInto(dst []byte, s string) error {
	if hex.DecodedLen(len(s)) != len(dst) {
		return fmt.Errorf("want %d hex digits, got %d", 2*len(dst), len(s))
	}
	_, err := hex.Decode(dst, []byte(s))
	return err
}

func truncate(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}
