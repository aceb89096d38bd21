package vl2_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/crypto/identity"
)

// solicitation is the frame a host sends to resolve target: an ICMPv6
// neighbour solicitation to the solicited-node group, 72 bytes of IPv6.
func solicitation(src vl2.MAC, srcIP, target netip.Addr) ([]byte, vl2.Group) {
	t := target.As16()
	dstIP := netip.AddrFrom16([16]byte{0xff, 0x02, 10: 0, 11: 0x01, 12: 0xff, 13: t[13], 14: t[14], 15: t[15]})
	g := vl2.Group{MAC: vl2.MAC{0x33, 0x33, 0xff, t[13], t[14], t[15]}}
	ns := make([]byte, 32)
	ns[0] = 0x87
	copy(ns[8:], t[:])
	ns[24], ns[25] = 1, 1 // source link-layer address option
	copy(ns[26:], src[:])
	f := ipv6Frame(g.MAC, src, srcIP, dstIP, 0x3a, ns)
	f[14+7] = 0xff
	return f, g
}

// checkAdvert decodes f with gopacket and checks it is the advertisement
// of §7.7 for target (owned by peer) sent to us (mine, macMine).
func checkAdvert(t *testing.T, f []byte, nwid uint64, peer identity.Address, target, mine netip.Addr, macMine vl2.MAC) {
	t.Helper()
	if len(f) != 14+72 {
		t.Fatalf("advertisement frame of %d bytes, want 86", len(f))
	}
	peerMAC := netconf.MACOf(peer, nwid)
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.Default)
	eth, _ := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	ip6, _ := p.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
	icmp, _ := p.Layer(layers.LayerTypeICMPv6).(*layers.ICMPv6)
	na, _ := p.Layer(layers.LayerTypeICMPv6NeighborAdvertisement).(*layers.ICMPv6NeighborAdvertisement)
	if eth == nil || ip6 == nil || icmp == nil || na == nil {
		t.Fatalf("not a neighbour advertisement: %v", p)
	}
	if !bytes.Equal(eth.DstMAC, macMine[:]) || !bytes.Equal(eth.SrcMAC, peerMAC[:]) || eth.EthernetType != layers.EthernetTypeIPv6 {
		t.Fatalf("ethernet header %v", eth)
	}
	if ip6.HopLimit != 255 || ip6.Length != 32 || !ip6.SrcIP.Equal(target.AsSlice()) || !ip6.DstIP.Equal(mine.AsSlice()) {
		t.Fatalf("IPv6 header %+v", ip6)
	}
	if err := icmp.SetNetworkLayerForChecksum(ip6); err != nil {
		t.Fatal(err)
	}
	if err, r := icmp.VerifyChecksum(); err != nil || !r.Valid {
		t.Fatalf("ICMPv6 checksum %04x, want %04x (%v)", r.Actual, r.Correct, err)
	}
	if icmp.TypeCode != layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborAdvertisement, 0) || na.Flags != 0x60 ||
		!na.TargetAddress.Equal(target.AsSlice()) || len(na.Options) != 1 ||
		na.Options[0].Type != layers.ICMPv6OptTargetAddress || !bytes.Equal(na.Options[0].Data, peerMAC[:]) {
		t.Fatalf("advertisement %+v", na)
	}
}

// TestNDPEmulationRFC4193: a solicitation for another member's rfc4193
// address is answered locally and not sent; one for our own address or
// for an address outside the managed prefix goes out as usual.
func TestNDPEmulationRFC4193(t *testing.T) {
	bd := newBed(t)
	bd.master.edit = func(c *netconf.Config) {
		c.Flags |= netconf.FlagNDPEmulation
		c.StaticIPs = append(c.StaticIPs, netconf.RFC4193(c.NetworkID, c.IssuedTo))
	}
	bd.joinBoth(t)
	nwid := bd.nwid
	a, b := bd.a.id.Address, bd.b.id.Address
	macA := netconf.MACOf(a, nwid)
	mine, theirs := netconf.RFC4193(nwid, a).Addr(), netconf.RFC4193(nwid, b).Addr()

	ns, g := solicitation(macA, mine, theirs)
	bd.b.sw.SetGroups(bd.net.Now, nwid, []vl2.Group{g})
	bd.net.Run(1000)
	before, outA := len(bd.a.port.frames[nwid]), bd.a.sw.Stats().MulticastOut
	if !bd.send(t, bd.a, ns) {
		t.Fatal("solicitation refused")
	}
	got := bd.a.port.frames[nwid]
	if len(got) != before+1 {
		t.Fatalf("A's port got %d frames, want the advertisement", len(got)-before)
	}
	checkAdvert(t, got[before], nwid, b, theirs, mine, macA)
	bd.net.Run(2000)
	if bd.a.sw.Stats().MulticastOut != outA || received(bd.b.port.frames[nwid], ns) {
		t.Fatal("an emulated solicitation was sent")
	}

	// Not emulated: our own address, and an unmanaged prefix.
	self, g1 := solicitation(macA, mine, mine)
	other := netip.MustParseAddr("fd12:3456:789a::1")
	unmanaged, g2 := solicitation(macA, mine, other)
	bd.b.sw.SetGroups(bd.net.Now, nwid, []vl2.Group{g, g1, g2})
	bd.net.Run(1000)
	for _, f := range [][]byte{self, unmanaged} {
		n := len(bd.a.port.frames[nwid])
		bd.send(t, bd.a, f)
		bd.net.Run(2000)
		if len(bd.a.port.frames[nwid]) != n {
			t.Fatal("advertisement for a solicitation that is not emulated")
		}
		if !received(bd.b.port.frames[nwid], f) {
			t.Fatal("a solicitation that is not emulated was not sent")
		}
	}
}

// TestNDPEmulationSixPlane: on an ad-hoc network (6plane, NDP emulation,
// no multicast) a solicitation for anything in another node's /80 is
// answered locally.
func TestNDPEmulationSixPlane(t *testing.T) {
	bd := newBed(t)
	const nwid = 0xff005001bb000000
	bd.nwid = nwid
	bd.joinBothAdHoc(t, nwid)
	a, b := bd.a.id.Address, bd.b.id.Address
	macA := netconf.MACOf(a, nwid)
	mine := netconf.SixPlane(nwid, a).Addr()
	tb := netconf.SixPlane(nwid, b).Addr().As16()
	tb[12], tb[15] = 0x42, 0x07 // another address in B's /80
	theirs := netip.AddrFrom16(tb)

	ns, _ := solicitation(macA, mine, theirs)
	before := len(bd.a.port.frames[nwid])
	if !bd.send(t, bd.a, ns) {
		t.Fatal("solicitation refused")
	}
	got := bd.a.port.frames[nwid]
	if len(got) != before+1 {
		t.Fatalf("A's port got %d frames, want the advertisement", len(got)-before)
	}
	checkAdvert(t, got[before], nwid, b, theirs, mine, macA)

	// Our own /80: nothing emulated, and multicast is off: dropped.
	own := netconf.SixPlane(nwid, a).Addr().As16()
	own[15] = 0x09
	self, _ := solicitation(macA, mine, netip.AddrFrom16(own))
	if bd.send(t, bd.a, self) || len(bd.a.port.frames[nwid]) != before+1 {
		t.Fatal("a solicitation for our own address was emulated or sent")
	}
}
