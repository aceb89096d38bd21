package service

import (
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
)

func TestRoutable(t *testing.T) {
	addrs := []netip.Prefix{netip.MustParsePrefix("10.147.1.12/24")}
	for _, c := range []struct {
		target, via string
		want        bool
	}{
		{"10.99.0.0/16", "10.147.1.1", true},
		{"10.99.0.0/16", "10.147.1.12", false}, // via ourselves
		{"10.147.1.0/24", "", true},
		{"169.254.0.0/16", "", false},
		{"224.0.0.0/4", "", false},
		{"127.0.0.0/8", "", false},
		{"fe80::/64", "", false},
		{"fd00::/8", "", true},
	} {
		r := netconf.Route{Target: netip.MustParsePrefix(c.target)}
		if c.via != "" {
			r.Via = netip.MustParseAddr(c.via)
		}
		if got := routable(r, addrs); got != c.want {
			t.Errorf("route %s via %q: routable %v, want %v", c.target, c.via, got, c.want)
		}
	}
}
