package inet

import (
	"net/netip"
	"testing"
)

func TestScopeOf(t *testing.T) {
	for s, want := range map[string]Scope{
		"0.1.2.3": ScopeNone, "255.1.1.1": ScopeNone, "10.77.0.1": ScopePrivate, "172.16.5.4": ScopePrivate,
		"172.32.0.1": ScopeGlobal, "192.168.1.1": ScopePrivate, "100.64.0.1": ScopePrivate, "100.128.0.1": ScopeGlobal,
		"127.0.0.1": ScopeLoopback, "169.254.3.3": ScopeLinkLocal, "224.0.0.1": ScopeMulticast, "240.0.0.1": ScopePseudoPrivate,
		"11.2.3.4": ScopePseudoPrivate, "8.8.8.8": ScopeGlobal, "203.0.113.9": ScopePrivate, "198.19.0.1": ScopePrivate,
		"::ffff:10.0.0.1": ScopePrivate, "ff02::1": ScopeMulticast, "fe80::1": ScopeLoopback, "fe80::2": ScopeLinkLocal,
		"fd00::1": ScopePrivate, "::1": ScopeLoopback, "::": ScopeNone, "2001:db8::1": ScopeGlobal,
	} {
		if got := ScopeOf(netip.MustParseAddr(s)); got != want {
			t.Errorf("ScopeOf(%s) = %s, want %s", s, got, want)
		}
	}
	if ScopeOf(netip.Addr{}) != ScopeNone {
		t.Error("invalid address has a scope")
	}
}
