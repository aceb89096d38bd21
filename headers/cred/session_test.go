package cred

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"github.com/ztx/ztx/headers/dict"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

// Test data: a captured session between controller f737c19395 (id1) and
// members afee230b1a (id2) and 2e57b20512 (id3) on network
// f737c19395000001.
const (
	session = "../../testdata/session1/"
	nwid    = 0xf737c19395000001
)

func loadID(t testing.TB, name string) *identity.Identity {
	t.Helper()
	b, err := os.ReadFile(session + name)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.ParseFile(b)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return id
}

// payloads returns the plaintext payloads of the decrypted session's
// packets whose line matches want (e.g. "verb=0x0a(").
func payloads(t testing.TB, want string) [][]byte {
	t.Helper()
	f, err := os.Open(session + "zt-session-decrypted.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, want) {
			continue
		}
		i := strings.Index(line, "plaintext_payload(")
		if i < 0 {
			continue
		}
		_, h, ok := strings.Cut(line[i:], ")=")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		b, err := hex.DecodeString(strings.TrimSpace(h))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// credentialPayloads are the NETWORK_CREDENTIALS payloads of the session.
func credentialPayloads(t testing.TB) [][]byte {
	p := payloads(t, "verb=0x0a(")
	if len(p) == 0 {
		t.Fatal("no NETWORK_CREDENTIALS in the session")
	}
	return p
}

// configDicts returns the network config dictionaries of the session
// (NETWORK_CONFIG and OK(NETWORK_CONFIG_REQUEST), each a single chunk) and
// of the nodes' saved network configs.
func configDicts(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	chunk := func(name string, c []byte) {
		// network id (8), chunk length (2), chunk
		if len(c) < 10 {
			t.Fatalf("%s: short chunk", name)
		}
		n := int(c[8])<<8 | int(c[9])
		out[name] = c[10 : 10+n]
	}
	for i, p := range payloads(t, "verb=0x0c(") {
		chunk("NETWORK_CONFIG "+string(rune('a'+i)), p)
	}
	for i, p := range payloads(t, "verb=0x03(OK)") {
		if p[0] == 0x0b { // in-re NETWORK_CONFIG_REQUEST, then 8-byte packet id
			chunk("OK(NETWORK_CONFIG_REQUEST) "+string(rune('a'+i)), p[9:])
		}
	}
	files, _ := filepath.Glob(session + "node-state/node-*-networks.d-*.conf")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
	}
	if len(out) < 3 {
		t.Fatalf("only %d configs found", len(out))
	}
	return out
}

// dictValue returns key's unescaped value in a serialized dictionary.
func dictValue(d []byte, key string) ([]byte, bool) {
	dc, _ := dict.Parse(d)
	return dc.Get(key)
}

// throwaway is a freshly generated controller identity, made once.
var throwaway = sync.OnceValues(func() (*identity.Identity, error) {
	return identity.Generate(rand.Reader)
})

func throwawayID(t testing.TB) *identity.Identity {
	t.Helper()
	id, err := throwaway()
	if err != nil {
		t.Fatal(err)
	}
	return id
}
