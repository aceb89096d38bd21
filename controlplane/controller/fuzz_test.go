package controller

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// FuzzPostBody decodes arbitrary POST bodies and applies them to a network
// and a member: nothing may panic, and every resulting record must survive
// a store round trip unchanged (what is saved is what is loaded), with all
// of its stored rules parseable.
func FuzzPostBody(f *testing.F) {
	for _, p := range []string{
		"../../testdata/session1/controller-network.json",
		"../../testdata/session1/controller-member-2e57b20512.json",
		refDB + "/network/f737c19395000001.json",
	} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		``, `{}`, `[]`, `null`, `{"name":1}`,
		`{"v4AssignMode":"zt","v6AssignMode":"rfc4193,6plane,zt","mtu":"-5","multicastLimit":1e300}`,
		`{"routes":[{"target":"10.0.0.0/8","via":"10.0.0.1"},{"target":"::/0","via":null},{"target":5}]}`,
		`{"ipAssignmentPools":[{"ipRangeStart":"10.0.0.1","ipRangeEnd":"fd00::1"}]}`,
		`{"rules":[{"type":"MATCH_IPV4_SOURCE","ip":"10.0.0.0/8","not":true},{"type":"ACTION_TEE","address":"0102030405","flags":0,"length":0}]}`,
		`{"capabilities":[{"id":"7","default":"true","rules":[{"type":"ACTION_DROP"}]}],"tags":[{"id":1,"default":null}]}`,
		`{"authTokens":{"a":1,"b":-1,"c":"x"},"dns":{"domain":null,"servers":[1,"1.1.1.1"]}}`,
		`{"authorized":true,"tags":[[1,2],[3]],"capabilities":[1,"2",true],"ipAssignments":["10.0.0.1/8","::1"]}`,
		`{"remoteTraceTarget":"0102030405","remoteTraceLevel":2,"name":null,"authenticationExpiryTime":-1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := DecodeBody(b)
		if err != nil {
			return
		}
		n := NewNetwork(0x8056c2e21c000001, 1)
		ApplyNetworkPost(n, body)
		roundTrip(t, n, new(Network))
		if got := len(n.ParsedRules()); got != len(n.Rules) {
			t.Fatalf("%d of %d stored rules parse: %s", got, len(n.Rules), n.Rules)
		}
		for _, c := range n.Capabilities {
			if got := len(parseRuleList(c.Rules)); got != len(c.Rules) {
				t.Fatalf("capability rules do not re-parse: %s", c.Rules)
			}
		}
		m := NewMember(0x8056c2e21c000001, 0x0102030405, 1)
		if ApplyMemberPost(m, body, 2) == nil {
			roundTrip(t, m, new(Member))
		}
	})
}

func roundTrip[T any](t *testing.T, v *T, fresh *T) {
	t.Helper()
	b1, err := marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b1, fresh); err != nil {
		t.Fatalf("stored record does not load: %v: %s", err, b1)
	}
	b2, err := marshal(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Fatalf("record changed in a round trip:\n%s\n%s", b1, b2)
	}
}
