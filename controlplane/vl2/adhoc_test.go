package vl2_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"slices"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/headers/rules"
)

// ipv6Frame builds an IPv6 frame from src to dst carrying an upper-layer
// packet (next header next).
func ipv6Frame(dst, src vl2.MAC, srcIP, dstIP netip.Addr, next byte, l4 []byte) []byte {
	h := make([]byte, 40, 40+len(l4))
	h[0], h[6], h[7] = 0x60, next, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(l4)))
	s, d := srcIP.As16(), dstIP.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return ethernet(dst, src, 0x86dd, append(h, l4...))
}

// tcpSegment is a 20-byte TCP header with the given flags.
func tcpSegment(sport, dport uint16, flags byte) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b, sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12], b[13] = 5<<4, flags
	return b
}

func (bd *bed) joinBothAdHoc(t *testing.T, nwid uint64) {
	t.Helper()
	for _, m := range []member{bd.a, bd.b} {
		if err := m.sw.Join(bd.net.Now, nwid, nil); err != nil {
			t.Fatal(err)
		}
		m.host.Poke(bd.net.Now)
	}
	bd.net.Eventually(t, 30000, "both members OK", func() bool {
		ia, _ := bd.a.sw.Info(nwid)
		ib, _ := bd.b.sw.Info(nwid)
		return ia.Status == vl2.StatusOK && ib.Status == vl2.StatusOK
	})
}

// TestAdHocPortRange: an ffSSSSEEEE000000 network needs no controller;
// its members make the config of PROTOCOL.md part 2 §8 and the rules let
// ICMPv6 and connections to ports S..E through, and nothing that is not
// IPv6.
func TestAdHocPortRange(t *testing.T) {
	bd := newBed(t)
	bd.a.sw.SetMaster(nil)
	const nwid = 0xff005001bb000000 // ports 80..443
	bd.nwid = nwid
	bd.joinBothAdHoc(t, nwid)

	ia, _ := bd.a.sw.Info(nwid)
	c := ia.Config
	self := bd.a.id.Address
	if c.Name != "adhoc-0050-01bb" || c.Type != netconf.Public || c.Revision != 1 || c.Flags != netconf.FlagNDPEmulation ||
		c.CredentialDelta != 2*3600*1000 || c.MTU != 2800 || c.MulticastLimit != 0 || c.IssuedTo != self ||
		c.NetworkID != nwid || c.COM != nil || len(c.Specialists) != 0 {
		t.Fatalf("config: %+v", c)
	}
	if !slices.Equal(c.StaticIPs, []netip.Prefix{netconf.SixPlane(nwid, self)}) {
		t.Fatalf("static IPs %v, want the 6plane address", c.StaticIPs)
	}
	syn, ack := uint64(0x02), uint64(0x10)
	want := []rules.Rule{
		{Type: rules.MatchEtherType, Not: true, EtherType: 0x86dd},
		{Type: rules.ActionDrop},
		{Type: rules.MatchIPProtocol, IPProtocol: 0x3a},
		{Type: rules.ActionAccept},
		{Type: rules.MatchIPProtocol, IPProtocol: 0x11},
		{Type: rules.MatchIPProtocol, Or: true, IPProtocol: 0x06},
		{Type: rules.MatchIPDestPortRange, Start: 80, End: 443},
		{Type: rules.ActionAccept},
		{Type: rules.MatchCharacteristics, Not: true, Characteristics: syn},
		{Type: rules.ActionAccept},
		{Type: rules.MatchCharacteristics, Characteristics: syn},
		{Type: rules.MatchCharacteristics, Characteristics: ack},
		{Type: rules.ActionAccept},
		{Type: rules.ActionDrop},
	}
	if !slices.EqualFunc(c.Rules, want, func(a, b rules.Rule) bool { return a.Equal(&b) }) {
		t.Fatalf("rules:\n%v\nwant\n%v", c.Rules, want)
	}
	// The config is serialized for networks.d and reads back the same.
	back, err := netconf.Parse(ia.ConfigDict)
	if err != nil {
		t.Fatal(err)
	}
	if b2, _ := back.AppendMarshal(nil); !bytes.Equal(b2, ia.ConfigDict) {
		t.Fatal("the config dictionary does not round-trip")
	}

	macA, macB := ia.MAC, netconf.MACOf(bd.b.id.Address, nwid)
	ipA, ipB := netconf.SixPlane(nwid, self).Addr(), netconf.SixPlane(nwid, bd.b.id.Address).Addr()
	echo := ipv6Frame(macB, macA, ipA, ipB, 0x3a, []byte{128, 0, 0, 0, 0, 1, 0, 1})
	if !bd.send(t, bd.a, echo) || !received(bd.b.port.frames[nwid], echo) {
		t.Fatal("ICMPv6 echo not delivered")
	}
	https := ipv6Frame(macB, macA, ipA, ipB, 0x06, tcpSegment(40000, 443, 0x02))
	if !bd.send(t, bd.a, https) || !received(bd.b.port.frames[nwid], https) {
		t.Fatal("TCP SYN to a port in range not delivered")
	}
	reply := ipv6Frame(macA, macB, ipB, ipA, 0x06, tcpSegment(443, 40000, 0x12))
	if !bd.send(t, bd.b, reply) || !received(bd.a.port.frames[nwid], reply) {
		t.Fatal("SYN+ACK reply not delivered")
	}
	n := len(bd.b.port.frames[nwid])
	ssh := ipv6Frame(macB, macA, ipA, ipB, 0x06, tcpSegment(40001, 22, 0x02))
	if bd.send(t, bd.a, ssh) {
		t.Fatal("TCP SYN to a port out of range sent")
	}
	v4 := ipv4Frame(macB, macA, 1, []byte{8, 0, 0, 0})
	if bd.send(t, bd.a, v4) {
		t.Fatal("IPv4 frame sent on an ad-hoc network")
	}
	bd.net.Run(1000)
	if got := len(bd.b.port.frames[nwid]); got != n {
		t.Fatalf("B got %d frames the rules drop", got-n)
	}
}

// TestAdHocBadRangeAndOtherIDs: end < start is NOT_FOUND; other 0xff IDs
// get no config and keep requesting.
func TestAdHocBadRangeAndOtherIDs(t *testing.T) {
	bd := newBed(t)
	const bad, other = 0xff01bb0050000000, 0xff00000000000002
	bd.a.sw.Join(bd.net.Now, bad, nil)
	bd.a.sw.Join(bd.net.Now, other, nil)
	bd.net.Eventually(t, 30000, "bad range NOT_FOUND", func() bool {
		i, _ := bd.a.sw.Info(bad)
		return i.Status == vl2.StatusNotFound
	})
	bd.net.Run(120000)
	if i, _ := bd.a.sw.Info(other); i.Status != vl2.StatusRequesting || i.Config != nil {
		t.Fatalf("ff…02: status %v, config %v", i.Status, i.Config)
	}
}

// TestAdHocIPv4: ffAAHHHHHHHHHH01 gives AA.x.y.z/8 from our address, a
// hub as a specialist without roles, multicast and a single ACCEPT.
func TestAdHocIPv4(t *testing.T) {
	bd := newBed(t)
	hub := bd.root.Node.Address()
	nwid := uint64(0xff0a)<<48 | uint64(hub)<<8 | 0x01
	const noHub = 0xff2c000000000001
	bd.joinBothAdHoc(t, nwid)
	bd.a.sw.Join(bd.net.Now, noHub, nil)
	bd.net.Run(6000)

	self := bd.a.id.Address
	ia, _ := bd.a.sw.Info(nwid)
	c := ia.Config
	ip4 := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(self >> 16), byte(self >> 8), byte(self)}), 8)
	if c.Name != "adhoc-10.0.0.0" || c.Type != netconf.Public || c.MulticastLimit != 1024 || c.Flags != netconf.FlagNDPEmulation ||
		c.Revision != 1 || c.MTU != 2800 || c.CredentialDelta != 2*3600*1000 {
		t.Fatalf("config: %+v", c)
	}
	if !slices.Equal(c.StaticIPs, []netip.Prefix{netconf.SixPlane(nwid, self), ip4}) {
		t.Fatalf("static IPs %v", c.StaticIPs)
	}
	if !slices.Equal(c.Specialists, []netconf.Specialist{netconf.NewSpecialist(hub, 0)}) {
		t.Fatalf("specialists %x", c.Specialists)
	}
	if len(c.Rules) != 1 || c.Rules[0].Type != rules.ActionAccept || c.Rules[0].Not || c.Rules[0].Or {
		t.Fatalf("rules %v", c.Rules)
	}
	if i, _ := bd.a.sw.Info(noHub); i.Status != vl2.StatusOK || i.Config.Name != "adhoc-44.0.0.0" || len(i.Config.Specialists) != 0 {
		t.Fatalf("ff2c…01: %v %+v", i.Status, i.Config)
	}

	// Members talk IPv4 (unicast) straight away.
	macA, macB := ia.MAC, netconf.MACOf(bd.b.id.Address, nwid)
	bd.nwid = nwid
	v4 := ipv4Frame(macB, macA, 17, []byte("udp"))
	if !bd.send(t, bd.a, v4) || !received(bd.b.port.frames[nwid], v4) {
		t.Fatal("IPv4 unicast not delivered")
	}
}
