package rules

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// FuzzParseList checks that parsing never panics, that a parsed list
// re-marshals to exactly the bytes it was read from, and that the JSON
// form is stable: once a rule has been through JSON, JSON → rule → JSON
// changes nothing. (The first trip may normalize hostile values, as the
// reference does: prefix bits beyond the address size are clamped, the
// high bits of a forwarding address dropped.)
func FuzzParseList(f *testing.F) {
	for _, s := range samples {
		f.Add(mustHex(f, s.hex))
	}
	f.Add(mustHex(f, "bc03aabbcc0102eeff250308000a"))
	for _, node := range []string{"a", "b"} {
		if d, err := os.ReadFile("../../testdata/session1/node-state/node-" + node + "-networks.d-f737c19395000001.conf"); err == nil {
			if blob, ok := dictValue(d, "R"); ok {
				f.Add(blob)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rs, n, err := ParseList(b, MaxNetworkRules)
		if err != nil {
			return
		}
		out := AppendList(nil, rs)
		if !bytes.Equal(out, b[:n]) {
			t.Fatalf("re-marshal %x, input %x", out, b[:n])
		}
		again, n2, err := ParseList(out, MaxNetworkRules)
		if err != nil || n2 != len(out) || !reflect.DeepEqual(again, rs) {
			t.Fatalf("second parse differs: %v", err)
		}
		for i := range rs {
			j1, err := json.Marshal(rs[i])
			if err != nil {
				t.Fatal(err)
			}
			var r1, r2 Rule
			if err := json.Unmarshal(j1, &r1); err != nil {
				t.Fatalf("%s: %v", j1, err)
			}
			j2, _ := json.Marshal(r1)
			if err := json.Unmarshal(j2, &r2); err != nil {
				t.Fatalf("%s: %v", j2, err)
			}
			j3, _ := json.Marshal(r2)
			if !r1.Equal(&r2) || !bytes.Equal(j2, j3) {
				t.Fatalf("JSON unstable:\n%s\n%s\n%s", j1, j2, j3)
			}
		}
	})
}

// FuzzJSON checks that any accepted JSON rule marshals (binary and JSON)
// to something that reads back as the same rule.
func FuzzJSON(f *testing.F) {
	for i := range wantJSON {
		f.Add([]byte(wantJSON[i]))
	}
	f.Add([]byte(`{"type":"MATCH_MAC_DEST","mac":"32-11-22-33-44-55"}`))
	f.Add([]byte(`{"type":"INTEGER_RANGE","start":5,"end":7,"idx":2,"bits":8}`))
	f.Add([]byte(`{"type":"UNKNOWN_60","raw":"aabb","not":true}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Rule
		if err := json.Unmarshal(b, &r); err != nil {
			return
		}
		wire := r.AppendMarshal(nil)
		back, n, err := Parse(wire)
		if err != nil || n != len(wire) || !back.Equal(&r) {
			t.Fatalf("binary round trip of %s: %v", b, err)
		}
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		var r2 Rule
		if err := json.Unmarshal(j, &r2); err != nil || !r2.Equal(&r) {
			t.Fatalf("JSON round trip of %s via %s: %v", b, j, err)
		}
	})
}
