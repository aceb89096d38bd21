package dict

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/internal/testvec"
)

func confFiles(tb testing.TB) map[string][]byte {
	tb.Helper()
	names, err := filepath.Glob("../../testdata/session1/node-state/node-*-networks.d-*.conf")
	if err != nil || len(names) != 2 {
		tb.Fatalf("network config files: %v %v", names, err)
	}
	out := make(map[string][]byte)
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(n)] = b
	}
	return out
}

// requestDicts returns the metadata dictionaries of the captured
// NETWORK_CONFIG_REQUEST payloads (nwid 8, BE16 length, dictionary, ...).
func requestDicts(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, e := range testvec.MustSession(tb).ZeroTier() {
		if e.Verb != 0x0b {
			continue
		}
		p := e.Plaintext
		if len(p) < 10 || len(p) < 10+int(binary.BigEndian.Uint16(p[8:])) {
			tb.Fatalf("#%d: short request payload", e.Index)
		}
		out = append(out, p[10:10+int(binary.BigEndian.Uint16(p[8:]))])
	}
	if len(out) == 0 {
		tb.Fatal("no NETWORK_CONFIG_REQUEST in the capture")
	}
	return out
}

// configChunks returns the dictionary chunks of the captured NETWORK_CONFIG
// payloads (nwid 8, BE16 chunk length, chunk, ...).
func configChunks(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, e := range testvec.MustSession(tb).ZeroTier() {
		if e.Verb != 0x0c {
			continue
		}
		p := e.Plaintext
		n := int(binary.BigEndian.Uint16(p[8:]))
		out = append(out, p[10:10+n])
	}
	return out
}

func TestNetworkConfigFiles(t *testing.T) {
	chunks := configChunks(t)
	wantKeys := "v nwid ts ctmd r id tt tl f ml t n mtu C COO RT I R DNS ssov ssoe"
	for name, b := range confFiles(t) {
		d, err := ParseLimit(b, NetworkConfigCapacity)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var keys []string
		for _, e := range d.Entries() {
			keys = append(keys, e.Key)
		}
		if got := strings.Join(keys, " "); got != wantKeys {
			t.Errorf("%s: keys %q", name, got)
		}
		if got := d.Uint("v", 0); got != 7 {
			t.Errorf("%s: v = %d", name, got)
		}
		if got := d.Uint("nwid", 0); got != 0xf737c19395000001 {
			t.Errorf("%s: nwid = %x", name, got)
		}
		if got := d.Int("ts", 0); got < 0x1a211000000 || got > 0x1a212000000 {
			t.Errorf("%s: ts = %x", name, got)
		}
		if got := d.Int("ctmd", 0); got != 1800000 {
			t.Errorf("%s: ctmd = %d", name, got)
		}
		if got, _ := d.GetString("n"); got != "zta-bench" {
			t.Errorf("%s: n = %q", name, got)
		}
		if got := d.Uint("mtu", 0); got != 2800 {
			t.Errorf("%s: mtu = %d", name, got)
		}
		if got := d.Address("tt", 1); got != 0 {
			t.Errorf("%s: tt = %v", name, got)
		}
		if got := d.Bool("ssoe", true); got {
			t.Errorf("%s: ssoe = %v", name, got)
		}
		wantID := identity.Address(0x2e57b20512) // node b
		if strings.HasPrefix(name, "node-a") {
			wantID = 0xafee230b1a
		}
		if got := d.Address("id", 0); got != wantID {
			t.Errorf("%s: id = %v, want %v", name, got, wantID)
		}
		// COM: version 1, 7 qualifiers of 24 bytes, signer, signature.
		com, ok := d.Get("C")
		if !ok || len(com) != 1+2+7*24+5+96 || com[0] != 1 || binary.BigEndian.Uint16(com[1:]) != 7 {
			t.Errorf("%s: COM %d bytes: %x", name, len(com), com)
		}
		if identity.AddressFromBytes(com[3+7*24:]) != 0xf737c19395 {
			t.Errorf("%s: COM signer %x", name, com[3+7*24:3+7*24+5])
		}
		if dns, _ := d.Get("DNS"); len(dns) != 132 || !bytes.Equal(dns, make([]byte, 132)) {
			t.Errorf("%s: DNS %x", name, dns)
		}
		out := d.AppendMarshal(nil)
		if !bytes.Equal(out, b) {
			t.Errorf("%s: re-marshal differs\n got %q\nwant %q", name, out, b)
		}
		if d.Size() != len(b) {
			t.Errorf("%s: Size %d, file %d", name, d.Size(), len(b))
		}
		// The stored file is the dictionary the controller sent.
		found := false
		for _, c := range chunks {
			found = found || bytes.Equal(c, b)
		}
		if !found {
			t.Errorf("%s: no captured NETWORK_CONFIG carries these bytes", name)
		}
	}
}

func TestRequestMetadata(t *testing.T) {
	want := []struct {
		key string
		val uint64
	}{{"v", 7}, {"vend", 1}, {"pv", 12}, {"majv", 1}, {"minv", 14}, {"revv", 1},
		{"mr", 1024}, {"mc", 128}, {"mcr", 64}, {"mt", 128}, {"f", 0}, {"revr", 1}}
	for _, raw := range requestDicts(t) {
		d, err := ParseLimit(raw, RequestMetadataCapacity)
		if err != nil {
			t.Fatal(err)
		}
		built := New(RequestMetadataCapacity)
		for _, w := range want {
			if got := d.Uint(w.key, math.MaxUint64); got != w.val {
				t.Errorf("%s = %d, want %d", w.key, got, w.val)
			}
			if err := built.SetUint(w.key, w.val); err != nil {
				t.Fatal(err)
			}
		}
		if o, _ := d.GetString("o"); o != "linux/x86_64" {
			t.Errorf("o = %q", o)
		}
		if err := built.SetString("o", "linux/x86_64"); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(d.AppendMarshal(nil), raw) {
			t.Errorf("re-marshal differs: %q", d.AppendMarshal(nil))
		}
		if !bytes.Equal(built.AppendMarshal(nil), raw) {
			t.Errorf("built from scratch:\n%q\nwant\n%q", built.AppendMarshal(nil), raw)
		}
	}
}

func TestEscaping(t *testing.T) {
	d := New(0)
	val := []byte("a\x00b\rc\nd\\e=f\xff")
	if err := d.Add("k", val); err != nil {
		t.Fatal(err)
	}
	const wire = `k=a\0b\rc\nd\\e\ef` + "\xff"
	if got := d.String(); got != wire {
		t.Fatalf("escaped %q, want %q", got, wire)
	}
	back, _ := Parse([]byte(wire))
	if v, _ := back.Get("k"); !bytes.Equal(v, val) {
		t.Errorf("unescaped %q", v)
	}
	// Reader quirks: backslash + other byte is that byte, a trailing
	// backslash is dropped, raw '=' in a value is kept.
	back, _ = Parse([]byte(`a=\x\q\` + "\nb=1=2"))
	if v, _ := back.Get("a"); string(v) != "xq" {
		t.Errorf("a = %q", v)
	}
	if v, _ := back.Get("b"); string(v) != "1=2" {
		t.Errorf("b = %q", v)
	}
}

func TestReaderRules(t *testing.T) {
	in := "a=1\r\n\nnoequals\nb=2\rA=x\na=dup\n=empty\x00c=after-nul"
	d, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key, val string
		ok       bool
	}{{"a", "1", true}, {"b", "2", true}, {"A", "x", true}, {"", "empty", true},
		{"noequals", "", false}, {"c", "", false}, {"B", "", false}} {
		v, ok := d.Get(c.key)
		if ok != c.ok || string(v) != c.val {
			t.Errorf("Get(%q) = %q %v", c.key, v, ok)
		}
	}
	if d.Len() != 5 {
		t.Errorf("Len = %d", d.Len())
	}
	if got := d.String(); got != "a=1\nb=2\nA=x\na=dup\n=empty" {
		t.Errorf("canonical %q", got)
	}
	d.Delete("a")
	if got := d.String(); got != "b=2\nA=x\n=empty" || d.Size() != len(got) {
		t.Errorf("after Delete %q size %d", got, d.Size())
	}
	if d, _ := Parse(nil); d.Len() != 0 || d.String() != "" {
		t.Error("empty")
	}
}

func TestSetAdd(t *testing.T) {
	d := New(0)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(d.SetUint("x", 1))
	must(d.SetInt("y", -5))
	must(d.Add("x", []byte("second")))
	must(d.SetBool("z", true))
	if got := d.String(); got != "x=0000000000000001\ny=-0000000000000005\nx=second\nz=1" {
		t.Fatalf("got %q", got)
	}
	must(d.SetAddress("x", 0xafee230b1a))
	if got := d.String(); got != "x=afee230b1a\ny=-0000000000000005\nz=1" || d.Size() != len(got) {
		t.Fatalf("got %q", got)
	}
	for _, k := range []string{"a=b", "a\nb", "a\rb", "a\x00b"} {
		if err := d.Add(k, nil); !errors.Is(err, ErrKey) {
			t.Errorf("Add(%q): %v", k, err)
		}
		if err := d.Set(k, nil); !errors.Is(err, ErrKey) {
			t.Errorf("Set(%q): %v", k, err)
		}
	}
	// Set copies its value.
	v := []byte("abc")
	must(d.Set("v", v))
	v[0] = 'X'
	if got, _ := d.Get("v"); string(got) != "abc" {
		t.Errorf("aliased value %q", got)
	}
}

func TestCapacity(t *testing.T) {
	d := New(10) // serialized form must be < 10 bytes
	if err := d.Add("a", []byte("12345678")); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("10 bytes: %v", err)
	}
	if err := d.Add("a", []byte("1234567")); err != nil {
		t.Fatalf("9 bytes: %v", err)
	}
	if err := d.Add("b", nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("second entry: %v", err)
	}
	if err := d.Set("a", []byte("12\n4567")); !errors.Is(err, ErrTooLarge) {
		t.Errorf("escape growth: %v", err)
	}
	if got := d.String(); got != "a=1234567" {
		t.Errorf("failed Set changed the dictionary: %q", got)
	}
	if err := d.Set("a", []byte("1")); err != nil || d.String() != "a=1" || d.Size() != 3 {
		t.Errorf("shrink: %v %q", err, d.String())
	}
	if _, err := ParseLimit([]byte("a=1234567"), 9); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ParseLimit at capacity: %v", err)
	}
	if d, err := ParseLimit([]byte("a=123456\x00junk-after-the-nul"), 9); err != nil || d.Capacity() != 9 {
		t.Errorf("ParseLimit below capacity: %v", err)
	}
	raw := requestDicts(t)[0]
	if _, err := ParseLimit(raw, len(raw)); err == nil {
		t.Error("request dictionary accepted at exactly its length")
	}
}

func TestIntegers(t *testing.T) {
	for _, c := range []struct {
		in string
		u  uint64
		i  int64
	}{
		{"0000000000000af0", 0xaf0, 0xaf0},
		{"AF0", 0xaf0, 0xaf0},
		{"0x1f", 0x1f, 0x1f},
		{"0xg", 0, 0},
		{"  \t7", 7, 7},
		{"+a", 10, 10},
		{"-1", math.MaxUint64, -1},
		{"-0000000000000005", math.MaxUint64 - 4, -5},
		{"12zz", 0x12, 0x12},
		{"zz", 0, 0},
		{"ffffffffffffffff", math.MaxUint64, math.MaxInt64},
		{"10000000000000000", math.MaxUint64, math.MaxInt64},
		{"8000000000000000", 1 << 63, math.MaxInt64},
		{"-8000000000000000", 1 << 63, math.MinInt64},
		{"-8000000000000001", 0x7fffffffffffffff, math.MinInt64},
		{"-10000000000000000", math.MaxUint64, math.MinInt64},
		{strings.Repeat("0", 127) + "5", 0, 0}, // the reference reads 127 bytes
		{strings.Repeat("0", 126) + "5", 5, 5},
		{"1\\0" + "2", 1, 1},
	} {
		d, _ := Parse([]byte("k=" + c.in))
		if got := d.Uint("k", 99); got != c.u {
			t.Errorf("Uint(%q) = %x, want %x", c.in, got, c.u)
		}
		if got := d.Int("k", 99); got != c.i {
			t.Errorf("Int(%q) = %d, want %d", c.in, got, c.i)
		}
	}
	d, _ := Parse([]byte("e=\nb1=true\nb2=T\nb3=0\nb4=yes"))
	if d.Uint("e", 42) != 42 || d.Int("e", -42) != -42 || d.Uint("missing", 3) != 3 {
		t.Error("defaults")
	}
	if !d.Bool("b1", false) || !d.Bool("b2", false) || d.Bool("b3", true) || d.Bool("b4", true) ||
		d.Bool("e", true) || !d.Bool("missing", true) {
		t.Error("bools")
	}
	if got := string(AppendInt(nil, math.MinInt64)); got != "-8000000000000000" {
		t.Errorf("AppendInt(min) = %q", got)
	}
	if got := string(AppendUint(nil, 0xf737c19395000001)); got != "f737c19395000001" {
		t.Errorf("AppendUint = %q", got)
	}
	d, _ = Parse([]byte("a=ffffffafee230b1a"))
	if got := d.Address("a", 0); got != 0xafee230b1a {
		t.Errorf("Address truncation: %v", got)
	}
}
