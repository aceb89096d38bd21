package rules

import (
	"bytes"
	"encoding/hex"
	"errors"
	"github.com/ztx/ztx/headers/dict"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sample is one rule of every type with distinctive values, and its wire
// form written out by hand from the table in PROTOCOL.md part 2 §6.1.
var samples = []struct {
	r   Rule
	hex string
}{
	{Rule{Type: ActionDrop}, "0000"},
	{Rule{Type: ActionAccept}, "0100"},
	{Rule{Type: ActionTee, Address: 0x0123456789, Flags: 0xdeadbeef, Length: 0x0102}, "020e0000000123456789deadbeef0102"},
	{Rule{Type: ActionWatch, Address: 0xf737c19395, Flags: 1, Length: 0}, "030e000000f737c19395000000010000"},
	{Rule{Type: ActionRedirect, Address: 0xafee230b1a}, "040e000000afee230b1a000000000000"},
	{Rule{Type: ActionBreak}, "0500"},
	{Rule{Type: ActionPriority}, "0600"},
	{Rule{Type: MatchSourceZeroTierAddress, Address: 0xafee230b1a}, "1805afee230b1a"},
	{Rule{Type: MatchDestZeroTierAddress, Not: true, Address: 0x2e57b20512}, "99052e57b20512"},
	{Rule{Type: MatchVLANID, VLANID: 0x0abc}, "1a020abc"},
	{Rule{Type: MatchVLANPCP, VLANPCP: 7}, "1b0107"},
	{Rule{Type: MatchVLANDEI, VLANDEI: 1, Or: true}, "5c0101"},
	{Rule{Type: MatchMACSource, MAC: MAC{0x32, 0x11, 0x22, 0x33, 0x44, 0x55}}, "1d06321122334455"},
	{Rule{Type: MatchMACDest, MAC: MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, "1e06ffffffffffff"},
	{Rule{Type: MatchIPv4Source, IP: netip.MustParseAddr("10.78.0.0"), Bits: 24}, "1f050a4e000018"},
	{Rule{Type: MatchIPv4Dest, IP: netip.MustParseAddr("10.78.0.11"), Bits: 32}, "20050a4e000b20"},
	{Rule{Type: MatchIPv6Source, IP: netip.MustParseAddr("fd00::1"), Bits: 64}, "2111fd00000000000000000000000000000140"},
	{Rule{Type: MatchIPv6Dest, Not: true, Or: true, IP: netip.MustParseAddr("fc12:3456:78::"), Bits: 40}, "e211fc12345600780000000000000000000028"},
	{Rule{Type: MatchIPTOS, TOSMask: 0xfc, TOSStart: 0x10, TOSEnd: 0x20}, "2303fc1020"},
	{Rule{Type: MatchIPProtocol, IPProtocol: 17}, "240111"},
	{Rule{Type: MatchEtherType, EtherType: 0x86dd}, "250286dd"},
	{Rule{Type: MatchICMP, ICMPType: 8, ICMPCode: 0, ICMPFlags: 1}, "2603080001"},
	{Rule{Type: MatchIPSourcePortRange, Start: 1024, End: 65535}, "27040400ffff"},
	{Rule{Type: MatchIPDestPortRange, Start: 9993, End: 9993}, "280427092709"},
	{Rule{Type: MatchCharacteristics, Characteristics: 0x8000000000000002}, "29088000000000000002"},
	{Rule{Type: MatchFrameSizeRange, Start: 0, End: 1500}, "2a04000005dc"},
	{Rule{Type: MatchRandom, Probability: 0x7fffffff}, "2b047fffffff"},
	{Rule{Type: MatchTagsDifference, TagID: 1, TagValue: 2}, "2c080000000100000002"},
	{Rule{Type: MatchTagsBitwiseAnd, TagID: 3, TagValue: 4}, "2d080000000300000004"},
	{Rule{Type: MatchTagsBitwiseOr, TagID: 5, TagValue: 6}, "2e080000000500000006"},
	{Rule{Type: MatchTagsBitwiseXor, TagID: 7, TagValue: 8}, "2f080000000700000008"},
	{Rule{Type: MatchTagsEqual, TagID: 9, TagValue: 10}, "3008000000090000000a"},
	{Rule{Type: MatchTagSender, TagID: 0xffffffff, TagValue: 0}, "3108ffffffff00000000"},
	{Rule{Type: MatchTagReceiver, TagID: 1000, TagValue: 1}, "3208000003e800000001"},
	{Rule{Type: MatchIntegerRange, IntStart: 10, IntEnd: 20, IntIndex: 14, IntFormat: 0x80 | 15}, "3313000000000000000a0000000000000014000e8f"},
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestSamplesRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	var all []byte
	var want []Rule
	for _, s := range samples {
		seen[s.r.Type] = true
		wire := mustHex(t, s.hex)
		if got := s.r.AppendMarshal(nil); !bytes.Equal(got, wire) {
			t.Errorf("%v: marshal %x, want %x", s.r.Type, got, wire)
		}
		r, n, err := Parse(wire)
		if err != nil || n != len(wire) {
			t.Fatalf("%v: Parse: n=%d err=%v", s.r.Type, n, err)
		}
		if !reflect.DeepEqual(r, s.r) {
			t.Errorf("%v: parsed %+v, want %+v", s.r.Type, r, s.r)
		}
		if !r.Equal(&s.r) {
			t.Errorf("%v: Equal false", s.r.Type)
		}
		all = append(all, wire...)
		want = append(want, s.r)
	}
	for i, ti := range types {
		if ti.name != "" && !seen[Type(i)] {
			t.Errorf("no sample for %v", Type(i))
		}
	}
	got, n, err := ParseList(all, MaxNetworkRules)
	if err != nil || n != len(all) || !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseList: n=%d/%d err=%v", n, len(all), err)
	}
	if b := AppendList(nil, got); !bytes.Equal(b, all) {
		t.Fatal("AppendList differs")
	}
}

func TestUnknownAndOversized(t *testing.T) {
	// Unknown type 60 with NOT set and a 3-byte value; ACCEPT with a 2-byte
	// value; an ethertype match with one surplus byte.
	wire := mustHex(t, "bc03aabbcc"+"0102eeff"+"250308000a")
	rs, n, err := ParseList(wire, 10)
	if err != nil || n != len(wire) || len(rs) != 3 {
		t.Fatalf("ParseList: %v n=%d len=%d", err, n, len(rs))
	}
	if rs[0].Type != 60 || !rs[0].Not || rs[0].Type.Known() || !bytes.Equal(rs[0].Raw, []byte{0xaa, 0xbb, 0xcc}) {
		t.Errorf("unknown rule: %+v", rs[0])
	}
	if rs[1].Type != ActionAccept || !bytes.Equal(rs[1].Raw, []byte{0xee, 0xff}) {
		t.Errorf("accept with value: %+v", rs[1])
	}
	if rs[2].EtherType != 0x0800 || !bytes.Equal(rs[2].Raw, []byte{0x0a}) {
		t.Errorf("oversized ethertype: %+v", rs[2])
	}
	if b := AppendList(nil, rs); !bytes.Equal(b, wire) {
		t.Errorf("re-marshal %x, want %x", b, wire)
	}
	if s := rs[0].Type.String(); s != "UNKNOWN_60" {
		t.Errorf("name %q", s)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct {
		hex  string
		want error
	}{
		{"01", ErrTruncated},         // no length byte
		{"1805afee23", ErrTruncated}, // value cut short
		{"1804afee230b", ErrInvalid}, // address needs 5 bytes
		{"2500", ErrInvalid},         // ethertype with no value
		{"3312" + strings.Repeat("00", 18), ErrInvalid},
	} {
		_, _, err := Parse(mustHex(t, c.hex))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.hex, err, c.want)
		}
		if _, _, err := ParseList(mustHex(t, "0100"+c.hex), 10); !errors.Is(err, c.want) {
			t.Errorf("list %s: err %v", c.hex, err)
		}
	}
}

func TestParseListLimits(t *testing.T) {
	wire := mustHex(t, "0000010005000100")
	rs, n, err := ParseList(wire, 2)
	if err != nil || len(rs) != 2 || n != 4 {
		t.Fatalf("max 2: %v %d %d", err, len(rs), n)
	}
	rs, n, err = ParseN(wire, 4)
	if err != nil || len(rs) != 4 || n != 8 {
		t.Fatalf("ParseN 4: %v %d %d", err, len(rs), n)
	}
	if _, _, err := ParseN(wire, 5); !errors.Is(err, ErrTruncated) {
		t.Fatalf("ParseN 5: %v", err)
	}
	if rs, n, err := ParseList(nil, 5); err != nil || rs != nil || n != 0 {
		t.Fatal("empty list")
	}
}

func TestPrefixHelpers(t *testing.T) {
	r := Rule{Type: MatchIPv4Source, IP: netip.MustParseAddr("10.0.0.0"), Bits: 200}
	if p := r.Prefix(); p.String() != "10.0.0.0/32" {
		t.Errorf("clamped prefix %v", p)
	}
	// An IPv4 match with an IPv6 address set writes zeros, never panics.
	r.IP = netip.MustParseAddr("fd00::1")
	if b := r.AppendMarshal(nil); !bytes.Equal(b, mustHex(t, "1f0500000000c8")) {
		t.Errorf("v6 in v4 rule: %x", b)
	}
	var z Rule
	z.Type = MatchIPv6Dest
	if b := z.AppendMarshal(nil); len(b) != 19 {
		t.Errorf("zero v6 rule: %x", b)
	}
	ir := Rule{IntFormat: 0x80 | 63}
	if ir.IntBits() != 64 || !ir.IntLittleEndian() {
		t.Error("int format helpers")
	}
}

// dictValue returns key's unescaped value in a serialized dictionary.
func dictValue(d []byte, key string) ([]byte, bool) {
	dc, _ := dict.Parse(d)
	return dc.Get(key)
}

func TestCapturedRulesBlob(t *testing.T) {
	for _, node := range []string{"a", "b"} {
		d, err := os.ReadFile("../../testdata/session1/node-state/node-" + node + "-networks.d-f737c19395000001.conf")
		if err != nil {
			t.Fatal(err)
		}
		blob, ok := dictValue(d, "R")
		if !ok {
			t.Fatal("no R key")
		}
		rs, n, err := ParseList(blob, MaxNetworkRules)
		if err != nil || n != len(blob) {
			t.Fatalf("node %s: %v", node, err)
		}
		// The network has the single rule {"type":"ACTION_ACCEPT"}.
		if len(rs) != 1 || rs[0].Type != ActionAccept {
			t.Fatalf("node %s: rules %v", node, rs)
		}
		if !bytes.Equal(AppendList(nil, rs), blob) {
			t.Fatal("re-marshal differs")
		}
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func hexOf(b []byte) []byte { return []byte(hex.EncodeToString(b)) }
