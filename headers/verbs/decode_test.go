package verbs

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestVerbNumbers pins the local verb constants to PROTOCOL.md part 1 §6.1 (headers/packet
// defines the exported ones; the two tables must agree).
func TestVerbNumbers(t *testing.T) {
	want := map[string]byte{
		"NOP": 0x00, "HELLO": 0x01, "ERROR": 0x02, "OK": 0x03, "WHOIS": 0x04, "RENDEZVOUS": 0x05,
		"FRAME": 0x06, "EXT_FRAME": 0x07, "ECHO": 0x08, "MULTICAST_LIKE": 0x09,
		"NETWORK_CREDENTIALS": 0x0a, "NETWORK_CONFIG_REQUEST": 0x0b, "NETWORK_CONFIG": 0x0c,
		"MULTICAST_GATHER": 0x0d, "MULTICAST_FRAME": 0x0e, "PUSH_DIRECT_PATHS": 0x10, "ACK": 0x12,
		"QOS_MEASUREMENT": 0x13, "USER_MESSAGE": 0x14, "REMOTE_TRACE": 0x15,
		"PATH_NEGOTIATION_REQUEST": 0x16,
	}
	named := 0
	for v := 0; v < 32; v++ {
		name := verbName(byte(v))
		if n, ok := want[name]; ok {
			named++
			if n != byte(v) {
				t.Errorf("verb %s = %#02x, want %#02x", name, v, n)
			}
		}
	}
	if named != len(want) {
		t.Errorf("%d verbs named, want %d", named, len(want))
	}
	for _, v := range []byte{0x0f, 0x11, 0x17, 0x1f} {
		got, err := Decode(v, []byte{1, 2})
		if u, ok := got.(Unknown); err != nil || !ok || u.Number != v {
			t.Errorf("Decode(%#02x) = %#v, %v; want Unknown", v, got, err)
		}
	}
}

// checkRoundTrip decodes payload, re-marshals it and checks the bytes come back unchanged,
// and that String and JSON work.
func checkRoundTrip(t *testing.T, verb byte, payload []byte) any {
	t.Helper()
	v, err := Decode(verb, payload)
	if err != nil {
		t.Fatalf("Decode(%s): %v", verbName(verb), err)
	}
	m, ok := v.(Message)
	if !ok {
		t.Fatalf("Decode(%s) returned %T, not a Message", verbName(verb), v)
	}
	if m.Verb() != verb&verbMask {
		t.Errorf("%T.Verb() = %#02x, want %#02x", v, m.Verb(), verb)
	}
	if got := m.AppendMarshal(nil); !bytes.Equal(got, payload) {
		t.Fatalf("%s: re-marshal differs\n got %x\nwant %x", verbName(verb), got, payload)
	}
	// Appending after a prefix must not disturb the prefix.
	if got := m.AppendMarshal([]byte("pfx")); !bytes.Equal(got[3:], payload) || string(got[:3]) != "pfx" {
		t.Errorf("%s: AppendMarshal with prefix is wrong", verbName(verb))
	}
	if m.String() == "" {
		t.Errorf("%T.String() is empty", v)
	}
	if _, err := json.Marshal(v); err != nil {
		t.Errorf("json.Marshal(%T): %v", v, err)
	}
	return v
}

func TestCaptureDecodeRoundTrip(t *testing.T) {
	pkts, _ := loadCapture(t)
	seen := map[string]int{}
	for _, p := range pkts {
		if got := verbName(p.Verb); got != p.VerbName {
			t.Errorf("#%d: verb %#02x named %s here, %s in the capture", p.Index, p.Verb, got, p.VerbName)
		}
		v := checkRoundTrip(t, p.Verb, p.Payload)
		if ok, isOK := v.(OK); isOK {
			if _, raw := ok.Body.(OKRaw); raw {
				t.Errorf("#%d: OK(%s) has no typed body", p.Index, verbName(ok.InReVerb))
			}
			seen["OK("+verbName(ok.InReVerb)+")"]++
		} else {
			seen[p.VerbName]++
		}
	}
	t.Logf("decoded: %v", seen)
}

// TestCapturePrefixes feeds every prefix of every captured payload to Decode: no panics, and
// whatever parses re-marshals stably.
func TestCapturePrefixes(t *testing.T) {
	pkts, _ := loadCapture(t)
	for _, p := range pkts {
		for n := 0; n < len(p.Payload); n++ {
			checkStable(t, p.Verb, p.Payload[:n])
		}
	}
}

// checkStable: if payload parses, its marshal parses again to the same bytes.
func checkStable(t testing.TB, verb byte, payload []byte) {
	t.Helper()
	v, err := Decode(verb, payload)
	if err != nil {
		if v != nil {
			t.Fatalf("Decode(%#02x, %x) returned %T with error %v", verb, payload, v, err)
		}
		return
	}
	m := v.(Message)
	_ = m.String()
	if _, err := json.Marshal(v); err != nil {
		t.Fatalf("json.Marshal(%T): %v", v, err)
	}
	m1 := m.AppendMarshal(nil)
	v2, err := Decode(verb, m1)
	if err != nil {
		t.Fatalf("Decode(%#02x, %x) ok but its marshal %x fails: %v", verb, payload, m1, err)
	}
	if m2 := v2.(Message).AppendMarshal(nil); !bytes.Equal(m1, m2) {
		t.Fatalf("verb %#02x: unstable marshal of %x:\n m1 %x\n m2 %x", verb, payload, m1, m2)
	}
}
