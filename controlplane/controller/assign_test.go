package controller

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
)

func netWith(t *testing.T, body string) *Network {
	t.Helper()
	n := NewNetwork(0x8056c2e21c000001, 0)
	b, err := DecodeBody([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ApplyNetworkPost(n, b)
	return n
}

func prefixes(ps []netip.Prefix) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func TestAssignIPv4(t *testing.T) {
	n := netWith(t, `{"v4AssignMode":"zt","routes":[{"target":"10.0.0.0/23"},{"target":"10.0.0.0/16"}],
		"ipAssignmentPools":[{"ipRangeStart":"10.0.0.0","ipRangeEnd":"10.0.1.0"}]}`)
	// Address low bits = 255 mod 256: 10.0.0.255 is skipped, 10.0.0.0 follows.
	m := NewMember(n.NetworkID(), 0x00000000ff, 0)
	as := Assign(n, m, nil, nil)
	if !as.Changed || !reflect.DeepEqual(prefixes(as.StaticIPs), []string{"10.0.0.0/23"}) || !reflect.DeepEqual(m.IPAssignments, []string{"10.0.0.0"}) {
		t.Errorf("got %+v %v", as, m.IPAssignments)
	}
	// Taken addresses are skipped.
	m = NewMember(n.NetworkID(), 0x0000000105, 0)
	used := map[netip.Addr]bool{netip.MustParseAddr("10.0.0.5"): true, netip.MustParseAddr("10.0.0.6"): true}
	as = Assign(n, m, func(a netip.Addr) bool { return used[a] }, nil)
	if !reflect.DeepEqual(m.IPAssignments, []string{"10.0.0.7"}) {
		t.Errorf("got %+v %v", as, m.IPAssignments)
	}
	// A second call keeps the address and allocates nothing.
	as = Assign(n, m, nil, nil)
	if as.Changed || !reflect.DeepEqual(prefixes(as.StaticIPs), []string{"10.0.0.7/23"}) {
		t.Errorf("second call %+v", as)
	}
	// Addresses outside every route are not configured and do not count.
	m = NewMember(n.NetworkID(), 0x0000000102, 0)
	m.IPAssignments = []string{"192.168.1.1"}
	as = Assign(n, m, nil, nil)
	if !reflect.DeepEqual(m.IPAssignments, []string{"192.168.1.1", "10.0.0.2"}) || !reflect.DeepEqual(prefixes(as.StaticIPs), []string{"10.0.0.2/23"}) {
		t.Errorf("unrouted %+v %v", as, m.IPAssignments)
	}
	// No route, no assignment; noAutoAssignIps, no assignment.
	n2 := netWith(t, `{"v4AssignMode":{"zt":true},"ipAssignmentPools":[{"ipRangeStart":"10.0.0.1","ipRangeEnd":"10.0.0.9"}]}`)
	m = NewMember(n.NetworkID(), 0x0000000102, 0)
	if as := Assign(n2, m, nil, nil); as.Changed || len(as.StaticIPs) != 0 {
		t.Errorf("unrouted pool %+v", as)
	}
	m.NoAutoAssignIPs = true
	if as := Assign(n, m, nil, nil); as.Changed {
		t.Errorf("noAutoAssignIps %+v", as)
	}
	// Mode off.
	n.V4AssignMode.ZT = false
	m.NoAutoAssignIPs = false
	if as := Assign(n, m, nil, nil); as.Changed {
		t.Errorf("mode off %+v", as)
	}
}

func TestAssignIPv6(t *testing.T) {
	n := netWith(t, `{"v6AssignMode":{"zt":true,"rfc4193":true,"6plane":true},"routes":[{"target":"fd00::/64"}],
		"ipAssignmentPools":[{"ipRangeStart":"fd00::","ipRangeEnd":"fd00::ffff:ffff:ffff"}]}`)
	a := identity.Address(0x1122334455)
	m := NewMember(n.NetworkID(), a, 0)
	as := Assign(n, m, nil, nil)
	nwid := uint64(n.NetworkID())
	want := []string{netconf.RFC4193(nwid, a).String(), netconf.SixPlane(nwid, a).String(), "fd00::11:2233:4455/64"}
	if !as.NDPEmulation || !as.Changed || !reflect.DeepEqual(prefixes(as.StaticIPs), want) {
		t.Errorf("got %+v, want %v", prefixes(as.StaticIPs), want)
	}
	// Small range: random candidates, read from the given source.
	n = netWith(t, `{"v6AssignMode":{"zt":true},"routes":[{"target":"fd00::/64"},{"target":"fd01::/64","via":"fd00::1"}],
		"ipAssignmentPools":[{"ipRangeStart":"fd00::10","ipRangeEnd":"fd00::20"}]}`)
	m = NewMember(n.NetworkID(), a, 0)
	rnd := bytes.NewReader(append(make([]byte, 15), 3)) // offset 3
	as = Assign(n, m, nil, rnd)
	if as.NDPEmulation || !reflect.DeepEqual(m.IPAssignments, []string{"fd00::13"}) {
		t.Errorf("random v6 %+v %v", as, m.IPAssignments)
	}
	m.NoAutoAssignIPs = true
	m.IPAssignments = nil
	if as := Assign(n, m, nil, rnd); as.Changed || len(as.StaticIPs) != 0 {
		t.Errorf("noAutoAssignIps %+v", as)
	}
}
