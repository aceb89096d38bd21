package vl2

import (
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/rules"
)

// Packet characteristics the ad-hoc rules test (ZT_RULE_PACKET_CHARACTERISTICS_TCP_*).
const (
	charTCPSyn = 0x0000000000000002
	charTCPAck = 0x0000000000000010
)

// adHocMulticastLimit is the multicast limit of ffAAHHHHHHHHHH01 networks.
const adHocMulticastLimit = 1024

// adHocConfig synthesizes the config of an ad-hoc network (top byte
// 0xff, no controller; PROTOCOL.md part 2 §8) for node self at time now.
// It reports found false for an ffSSSSEEEE000000 network whose end port
// is below its start port (the network is NOT_FOUND), and returns a nil
// config with found true for the other 0xff forms, which get no config.
func adHocConfig(now int64, nwid uint64, self identity.Address) (c *netconf.Config, found bool) {
	base := func() *netconf.Config {
		return &netconf.Config{
			NetworkID: nwid, Timestamp: now, CredentialDelta: netconf.MaxCredentialDelta, Revision: 1,
			IssuedTo: self, Flags: netconf.FlagNDPEmulation, MTU: netconf.DefaultMTU, Type: netconf.Public,
			StaticIPs: []netip.Prefix{netconf.SixPlane(nwid, self)},
		}
	}
	switch {
	case nwid&0xffffff == 0:
		// ffSSSSEEEE000000: IPv6 only, destination ports S..E.
		start, end := uint16(nwid>>40), uint16(nwid>>24)
		if end < start {
			return nil, false
		}
		c = base()
		c.Name = fmt.Sprintf("adhoc-%04x-%04x", start, end)
		c.Rules = []rules.Rule{
			{Type: rules.MatchEtherType, Not: true, EtherType: 0x86dd}, // anything but IPv6
			{Type: rules.ActionDrop},
			{Type: rules.MatchIPProtocol, IPProtocol: 0x3a}, // ICMPv6
			{Type: rules.ActionAccept},
			{Type: rules.MatchIPProtocol, IPProtocol: 0x11},           // UDP
			{Type: rules.MatchIPProtocol, Or: true, IPProtocol: 0x06}, // or TCP
			{Type: rules.MatchIPDestPortRange, Start: start, End: end},
			{Type: rules.ActionAccept},
			{Type: rules.MatchCharacteristics, Not: true, Characteristics: charTCPSyn}, // not a connection attempt
			{Type: rules.ActionAccept},
			{Type: rules.MatchCharacteristics, Characteristics: charTCPSyn}, // SYN+ACK: a reply
			{Type: rules.MatchCharacteristics, Characteristics: charTCPAck},
			{Type: rules.ActionAccept},
			{Type: rules.ActionDrop},
		}
		return c, true
	case nwid&0xff == 0x01:
		// ffAAHHHHHHHHHH01: AA.x.y.z/8 from our address, hub HHHHHHHHHH.
		c = base()
		c.MulticastLimit = adHocMulticastLimit
		first := byte(nwid >> 48)
		ip4 := netip.AddrFrom4([4]byte{first, byte(self >> 16), byte(self >> 8), byte(self)})
		c.StaticIPs = append(c.StaticIPs, netip.PrefixFrom(ip4, 8))
		if hub := identity.Address(nwid>>8) & identity.AddressMask; hub != 0 {
			c.Specialists = []netconf.Specialist{netconf.NewSpecialist(hub, 0)}
		}
		c.Rules = []rules.Rule{{Type: rules.ActionAccept}}
		c.Name = fmt.Sprintf("adhoc-%d.0.0.0", first)
		return c, true
	}
	return nil, true
}

// configureAdHoc gives an ad-hoc network its locally made config, as a
// config request would.
func (s *Switch) configureAdHoc(now int64, nw *network) {
	c, found := adHocConfig(now, nw.id, s.address())
	if !found {
		s.setStatus(nw, StatusNotFound, nil)
		return
	}
	if c == nil {
		return // other 0xff IDs: nothing happens
	}
	b, err := c.AppendMarshal(nil)
	if err != nil {
		return
	}
	s.apply(now, nw, c, b)
}
