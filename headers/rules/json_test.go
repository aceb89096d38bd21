package rules

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// wantJSON is the reference controller's rendering of each sample (keys
// sorted, as its JSON library writes them), by sample index.
var wantJSON = map[int]string{
	0:  `{"type":"ACTION_DROP"}`,
	1:  `{"type":"ACTION_ACCEPT"}`,
	2:  `{"address":"0123456789","flags":3735928559,"length":258,"type":"ACTION_TEE"}`,
	3:  `{"address":"f737c19395","flags":1,"length":0,"type":"ACTION_WATCH"}`,
	4:  `{"address":"afee230b1a","flags":0,"type":"ACTION_REDIRECT"}`,
	5:  `{"type":"ACTION_BREAK"}`,
	6:  `{"type":"ACTION_PRIORITY"}`,
	7:  `{"not":false,"or":false,"type":"MATCH_SOURCE_ZEROTIER_ADDRESS","zt":"afee230b1a"}`,
	8:  `{"not":true,"or":false,"type":"MATCH_DEST_ZEROTIER_ADDRESS","zt":"2e57b20512"}`,
	9:  `{"not":false,"or":false,"type":"MATCH_VLAN_ID","vlanId":2748}`,
	10: `{"not":false,"or":false,"type":"MATCH_VLAN_PCP","vlanPcp":7}`,
	11: `{"not":false,"or":true,"type":"MATCH_VLAN_DEI","vlanDei":1}`,
	12: `{"mac":"32:11:22:33:44:55","not":false,"or":false,"type":"MATCH_MAC_SOURCE"}`,
	13: `{"mac":"ff:ff:ff:ff:ff:ff","not":false,"or":false,"type":"MATCH_MAC_DEST"}`,
	14: `{"ip":"10.78.0.0/24","not":false,"or":false,"type":"MATCH_IPV4_SOURCE"}`,
	15: `{"ip":"10.78.0.11/32","not":false,"or":false,"type":"MATCH_IPV4_DEST"}`,
	16: `{"ip":"fd00::1/64","not":false,"or":false,"type":"MATCH_IPV6_SOURCE"}`,
	17: `{"ip":"fc12:3456:78::/40","not":true,"or":true,"type":"MATCH_IPV6_DEST"}`,
	18: `{"end":32,"mask":252,"not":false,"or":false,"start":16,"type":"MATCH_IP_TOS"}`,
	19: `{"ipProtocol":17,"not":false,"or":false,"type":"MATCH_IP_PROTOCOL"}`,
	20: `{"etherType":34525,"not":false,"or":false,"type":"MATCH_ETHERTYPE"}`,
	21: `{"icmpCode":0,"icmpType":8,"not":false,"or":false,"type":"MATCH_ICMP"}`,
	22: `{"end":65535,"not":false,"or":false,"start":1024,"type":"MATCH_IP_SOURCE_PORT_RANGE"}`,
	23: `{"end":9993,"not":false,"or":false,"start":9993,"type":"MATCH_IP_DEST_PORT_RANGE"}`,
	24: `{"mask":"8000000000000002","not":false,"or":false,"type":"MATCH_CHARACTERISTICS"}`,
	25: `{"end":1500,"not":false,"or":false,"start":0,"type":"MATCH_FRAME_SIZE_RANGE"}`,
	26: `{"not":false,"or":false,"probability":2147483647,"type":"MATCH_RANDOM"}`,
	27: `{"id":1,"not":false,"or":false,"type":"MATCH_TAGS_DIFFERENCE","value":2}`,
	32: `{"id":4294967295,"not":false,"or":false,"type":"MATCH_TAG_SENDER","value":0}`,
	34: `{"bits":16,"end":"0000000000000014","idx":14,"little":true,"not":false,"or":false,"start":"000000000000000a","type":"INTEGER_RANGE"}`,
}

func TestJSONSamples(t *testing.T) {
	for i, s := range samples {
		b, err := json.Marshal(s.r)
		if err != nil {
			t.Fatalf("%v: %v", s.r.Type, err)
		}
		if w, ok := wantJSON[i]; ok && string(b) != w {
			t.Errorf("%v:\n got %s\nwant %s", s.r.Type, b, w)
		}
		var r Rule
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%v: unmarshal %s: %v", s.r.Type, b, err)
		}
		if !reflect.DeepEqual(r, s.r) {
			t.Errorf("%v: JSON round trip\n got %+v\nwant %+v", s.r.Type, r, s.r)
		}
	}
}

func TestJSONReferenceInputs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Rule
	}{
		// The default rule of a new network, as stored by the controller.
		{`{"not":false,"or":false,"type":"ACTION_ACCEPT"}`, Rule{Type: ActionAccept}},
		// Numbers as decimal strings, booleans as strings and numbers.
		{`{"type":"MATCH_ETHERTYPE","etherType":"2048","not":"true","or":1}`,
			Rule{Type: MatchEtherType, EtherType: 0x0800, Not: true, Or: true}},
		// Port range "end" defaults to "start".
		{`{"type":"MATCH_IP_DEST_PORT_RANGE","start":22}`, Rule{Type: MatchIPDestPortRange, Start: 22, End: 22}},
		// No icmpCode (or null) means type only.
		{`{"type":"MATCH_ICMP","icmpType":3}`, Rule{Type: MatchICMP, ICMPType: 3}},
		{`{"type":"MATCH_ICMP","icmpType":3,"icmpCode":null}`, Rule{Type: MatchICMP, ICMPType: 3}},
		{`{"type":"MATCH_ICMP","icmpType":3,"icmpCode":1}`, Rule{Type: MatchICMP, ICMPType: 3, ICMPCode: 1, ICMPFlags: 1}},
		// MAC separators are ignored.
		{`{"type":"MATCH_MAC_DEST","mac":"32-11-22-33-44-55"}`, Rule{Type: MatchMACDest, MAC: MAC{0x32, 0x11, 0x22, 0x33, 0x44, 0x55}}},
		{`{"type":"MATCH_MAC_DEST","mac":"321122334455"}`, Rule{Type: MatchMACDest, MAC: MAC{0x32, 0x11, 0x22, 0x33, 0x44, 0x55}}},
		// Characteristics mask as a number or a hex string.
		{`{"type":"MATCH_CHARACTERISTICS","mask":9223372036854775808}`, Rule{Type: MatchCharacteristics, Characteristics: 1 << 63}},
		{`{"type":"MATCH_CHARACTERISTICS","mask":"0000000000000002"}`, Rule{Type: MatchCharacteristics, Characteristics: 2}},
		// Addresses are hex; the target is masked to 40 bits.
		{`{"type":"ACTION_TEE","address":"ffafee230b1a","flags":0,"length":64}`, Rule{Type: ActionTee, Address: 0xafee230b1a, Length: 64}},
		// Prefix bits: missing means 0; too large clamps.
		{`{"type":"MATCH_IPV4_SOURCE","ip":"10.1.2.3"}`, Rule{Type: MatchIPv4Source, IP: mustAddr("10.1.2.3")}},
		{`{"type":"MATCH_IPV4_SOURCE","ip":"10.1.2.3/40"}`, Rule{Type: MatchIPv4Source, IP: mustAddr("10.1.2.3"), Bits: 32}},
		{`{"type":"MATCH_IPV6_DEST","ip":"fd00::/200"}`, Rule{Type: MatchIPv6Dest, IP: mustAddr("fd00::"), Bits: 128}},
		// INTEGER_RANGE with numbers.
		{`{"type":"INTEGER_RANGE","start":5,"end":7,"idx":2,"bits":8}`, Rule{Type: MatchIntegerRange, IntStart: 5, IntEnd: 7, IntIndex: 2, IntFormat: 7}},
		// Tags.
		{`{"type":"MATCH_TAGS_EQUAL","id":1,"value":"42"}`, Rule{Type: MatchTagsEqual, TagID: 1, TagValue: 42}},
		// Lossless extras of this package.
		{`{"type":"UNKNOWN_60","raw":"aabb","not":true}`, Rule{Type: 60, Not: true, Raw: []byte{0xaa, 0xbb}}},
	} {
		var r Rule
		if err := json.Unmarshal([]byte(c.in), &r); err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(r, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.in, r, c.want)
		}
	}
}

func TestJSONErrors(t *testing.T) {
	for _, in := range []string{
		`[]`,
		`{"type":"MATCH_NOTHING"}`,
		`{}`,
		`{"type":"UNKNOWN_1"}`, // type 1 has a name
		`{"type":"MATCH_ETHERTYPE","etherType":70000}`,
		`{"type":"MATCH_ETHERTYPE","etherType":-1}`,
		`{"type":"MATCH_ETHERTYPE","etherType":{}}`,
		`{"type":"MATCH_MAC_DEST","mac":"1122"}`,
		`{"type":"MATCH_MAC_DEST","mac":"zz1122334455"}`,
		`{"type":"MATCH_IPV4_SOURCE","ip":"fd00::1/8"}`,
		`{"type":"MATCH_IPV6_SOURCE","ip":"10.0.0.1/8"}`,
		`{"type":"MATCH_IPV6_SOURCE","ip":"fe80::1%eth0/64"}`,
		`{"type":"MATCH_IPV4_SOURCE","ip":"10.0.0.1/x"}`,
		`{"type":"ACTION_TEE","address":"nothex"}`,
		`{"type":"INTEGER_RANGE","bits":0}`,
		`{"type":"INTEGER_RANGE","bits":65}`,
		`{"type":"ACTION_DROP","raw":"zz"}`,
		`{"type":"ACTION_DROP","not":[]}`,
	} {
		var r Rule
		err := json.Unmarshal([]byte(in), &r)
		if err == nil {
			t.Errorf("%s: no error (%+v)", in, r)
		} else if !errors.Is(err, ErrInvalid) && in != `[]` {
			t.Logf("%s: %v", in, err)
		}
	}
}

func TestJSONList(t *testing.T) {
	in := `[{"type":"MATCH_ETHERTYPE","etherType":2048,"not":true},{"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}]`
	var rs []Rule
	if err := json.Unmarshal([]byte(in), &rs); err != nil {
		t.Fatal(err)
	}
	wire := AppendList(nil, rs)
	if got := string(hexOf(wire)); got != "a50208000000"+"0100" {
		t.Errorf("wire %s", got)
	}
	out, _ := json.Marshal(rs)
	want := `[{"etherType":2048,"not":true,"or":false,"type":"MATCH_ETHERTYPE"},{"type":"ACTION_DROP"},{"type":"ACTION_ACCEPT"}]`
	if string(out) != want {
		t.Errorf("got %s", out)
	}
	if s := rs[0].String(); s != `{"etherType":2048,"not":true,"or":false,"type":"MATCH_ETHERTYPE"}` {
		t.Errorf("String %s", s)
	}
}
