package vl2

import (
	"bytes"
	"encoding/binary"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
)

// IPv6 NDP emulation (PROTOCOL.md part 2 §7.7). A neighbour
// solicitation for an rfc4193 or 6plane address embeds the target's
// ZeroTier address, so the answer is known without asking anyone: the
// Switch hands the host this 72-byte neighbour advertisement (offsets in
// the IPv6 payload data of the frame):
//
//	 0  IPv6 header: 60 00 00 00 | payload length 0x0020 | next header 0x3a | hop limit 0xff
//	 8  source: the solicited target (16)
//	24  destination: our managed address (16)
//	40  ICMPv6: type 0x88, code 0, checksum (2)
//	44  flags 0x60 (solicited, override), reserved (3)
//	48  target address (16)
//	64  option: type 2 (target link-layer address), length 1 (8 bytes)
//	66  the target's MAC on the network (6)
const (
	ndpMinLen      = 40 + 8 + 16 // IPv6 header, ICMPv6 header and the target
	ndpAdvLen      = 72
	ndpIPv6Src     = 8
	ndpIPv6Dst     = 24
	ndpICMP        = 40
	ndpChecksum    = 42
	ndpFlags       = 44
	ndpTarget      = 48
	ndpOption      = 64
	ndpOptionMAC   = 66
	icmpv6         = 0x3a
	ndpSolicit     = 0x87
	ndpAdvertise   = 0x88
	ndpFlagSolOver = 0x60
)

// emulateNDP answers a neighbour solicitation the host sent to a
// multicast MAC (src is the host's MAC) when the network emulates NDP
// and the target lies under one of our rfc4193 (/88) or 6plane (/40)
// addresses and names another node. It reports whether it answered; the
// solicitation is then not sent.
func (s *Switch) emulateNDP(nw *network, src MAC, etherType uint16, data []byte) bool {
	if etherType != etherTypeIPv6 || len(data) < ndpMinLen || !nw.conf.NDPEmulation() ||
		data[6] != icmpv6 || data[ndpICMP] != ndpSolicit {
		return false
	}
	target := data[ndpTarget : ndpTarget+16]
	var mine [16]byte
	var peer identity.Address
	found := false
	for _, ip := range nw.conf.StaticIPs {
		if !ip.Addr().Is6() || ip.Addr().Is4In6() {
			continue
		}
		my := ip.Addr().As16()
		var n int // length of the prefix the target must share
		switch {
		case ip.Bits() == netconf.RFC4193Bits && my[0] == 0xfd && my[9] == 0x99 && my[10] == 0x93:
			n = 11
		case ip.Bits() == netconf.SixPlaneBits && [5]byte(my[:5]) == sixPlanePrefix(nw.id):
			n = 5
		default:
			continue
		}
		if bytes.Equal(target[:n], my[:n]) {
			mine, found = my, true
			for _, b := range target[n : n+5] {
				peer = peer<<8 | identity.Address(b)
			}
			break
		}
	}
	if !found || peer == s.address() {
		return false
	}
	peerMAC := netconf.MACOf(peer, nw.id)
	var adv [ndpAdvLen]byte
	adv[0] = 0x60
	binary.BigEndian.PutUint16(adv[4:], ndpAdvLen-40)
	adv[6], adv[7] = icmpv6, 0xff
	copy(adv[ndpIPv6Src:], target)
	copy(adv[ndpIPv6Dst:], mine[:])
	adv[ndpICMP] = ndpAdvertise
	adv[ndpFlags] = ndpFlagSolOver
	copy(adv[ndpTarget:], target)
	adv[ndpOption], adv[ndpOption+1] = 2, 1
	copy(adv[ndpOptionMAC:], peerMAC[:])
	binary.BigEndian.PutUint16(adv[ndpChecksum:], icmpv6Checksum(adv[:]))
	s.writeFrame(nw.id, src, peerMAC, etherTypeIPv6, adv[:])
	return true
}

// sixPlanePrefix is the first 5 bytes of 6plane addresses on nwid.
func sixPlanePrefix(nwid uint64) [5]byte {
	x := uint32(nwid ^ nwid>>32)
	return [5]byte{0xfc, byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)}
}

// icmpv6Checksum is the checksum of the ICMPv6 message in IPv6 packet p
// (checksum field zero, no extension headers): over the pseudo-header
// (source, destination, upper-layer length, next header) and the message.
func icmpv6Checksum(p []byte) uint16 {
	msg := p[40:]
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		}
		if len(b)%2 == 1 {
			sum += uint32(b[len(b)-1]) << 8
		}
	}
	add(p[8:40])
	sum += uint32(len(msg)) + icmpv6
	add(msg)
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
