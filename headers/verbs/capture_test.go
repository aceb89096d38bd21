package verbs

import (
	"bufio"
	"encoding/hex"
	"os"
	"regexp"
	"strconv"
	"testing"
)

// capturePath is the decrypted dump of testdata/session1/zt-session.pcap.
const capturePath = "../../testdata/session1/zt-session-decrypted.txt"

// capturedPacket is one authenticated ZeroTier packet of the capture.
type capturedPacket struct {
	Index    int
	SrcUDP   string // "10.77.0.2:9993"
	DstUDP   string
	SrcZT    string // 10 hex
	DstZT    string
	PacketID string // 16 hex
	Hops     int
	Verb     byte
	VerbName string
	Payload  []byte // plaintext, decompressed, after the verb byte
}

// captureKey is a shared key line ("KEY a<->b shared48=...").
type captureKey struct {
	A, B     string
	Shared48 []byte
}

var (
	reHeader  = regexp.MustCompile(`^#(\d+) t=\S+ (\S+) -> (\S+) zt ([0-9a-f]{10})->([0-9a-f]{10}) pid=([0-9a-f]{16}) cipher=\d hops=(\d)`)
	reDearmor = regexp.MustCompile(`^\s+dearmor=(\S+) verb=0x([0-9a-f]{2})\(([A-Z_]+)\).* plaintext_payload\((\d+)\)=([0-9a-f]*)$`)
	reKey     = regexp.MustCompile(`^KEY ([0-9a-f]{10})<->([0-9a-f]{10}) shared48=([0-9a-f]{96})`)
)

// loadCapture parses the decrypted capture; it fails the test on any malformed line.
func loadCapture(tb testing.TB) ([]capturedPacket, []captureKey) {
	tb.Helper()
	f, err := os.Open(capturePath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var pkts []capturedPacket
	var keys []captureKey
	var cur *capturedPacket
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if m := reKey.FindStringSubmatch(s); m != nil {
			k, _ := hex.DecodeString(m[3])
			keys = append(keys, captureKey{A: m[1], B: m[2], Shared48: k})
			continue
		}
		if m := reHeader.FindStringSubmatch(s); m != nil {
			idx, _ := strconv.Atoi(m[1])
			hops, _ := strconv.Atoi(m[7])
			cur = &capturedPacket{Index: idx, SrcUDP: m[2], DstUDP: m[3], SrcZT: m[4], DstZT: m[5],
				PacketID: m[6], Hops: hops}
			continue
		}
		m := reDearmor.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		if cur == nil {
			tb.Fatalf("%s:%d: payload line without packet header", capturePath, line)
		}
		if m[1] != "OK" {
			tb.Fatalf("%s:%d: packet #%d did not dearmor", capturePath, line, cur.Index)
		}
		v, _ := strconv.ParseUint(m[2], 16, 8)
		n, _ := strconv.Atoi(m[4])
		payload, err := hex.DecodeString(m[5])
		if err != nil || len(payload) != n {
			tb.Fatalf("%s:%d: bad payload (len %d, want %d): %v", capturePath, line, len(payload), n, err)
		}
		cur.Verb, cur.VerbName, cur.Payload = byte(v), m[3], payload
		pkts = append(pkts, *cur)
		cur = nil
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(pkts) != 136 {
		tb.Fatalf("parsed %d packets from the capture, want 136", len(pkts))
	}
	return pkts, keys
}

// sharedKey returns the 48-byte key of the node pair a, b.
func sharedKey(tb testing.TB, keys []captureKey, a, b string) []byte {
	tb.Helper()
	for _, k := range keys {
		if (k.A == a && k.B == b) || (k.A == b && k.B == a) {
			return k.Shared48
		}
	}
	tb.Fatalf("no key for %s<->%s", a, b)
	return nil
}
