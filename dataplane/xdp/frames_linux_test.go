package xdp

import (
	"encoding/binary"
	"net/netip"
)

// Frame builders for the tests: Ethernet, an optional VLAN tag, IPv4 or
// IPv6, UDP, and a payload, with correct checksums unless told otherwise.

type mac = [6]byte

const (
	etherIPv4 = 0x0800
	etherIPv6 = 0x86dd
	etherVLAN = 0x8100
	etherQinQ = 0x88a8
	etherARP  = 0x0806
)

// udpFrame describes an Ethernet frame carrying one UDP datagram.
type udpFrame struct {
	dstMAC, srcMAC mac
	vlan           uint16 // VLAN ID; 0 for none
	src, dst       netip.AddrPort
	payload        []byte

	ttl     uint8  // IPv4 TTL / IPv6 hop limit; 0 means 64
	ipID    uint16 // IPv4 identification
	df      bool   // IPv4 don't-fragment
	noCsum  bool   // IPv4: UDP checksum 0
	trailer []byte // bytes after the IP packet (padding, an FCS)
}

func (f udpFrame) bytes() []byte {
	udp := make([]byte, 8, 8+len(f.payload))
	binary.BigEndian.PutUint16(udp[0:], f.src.Port())
	binary.BigEndian.PutUint16(udp[2:], f.dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(8+len(f.payload)))
	udp = append(udp, f.payload...)
	src, dst := f.src.Addr().Unmap(), f.dst.Addr().Unmap()
	if !f.noCsum || !src.Is4() {
		binary.BigEndian.PutUint16(udp[6:], udpChecksum(src, dst, udp))
	}
	ttl := f.ttl
	if ttl == 0 {
		ttl = 64
	}
	var ip []byte
	etype := uint16(etherIPv6)
	if src.Is4() {
		etype = etherIPv4
		ip = ipv4Header(src, dst, len(udp), ttl, f.ipID, f.df)
	} else {
		ip = ipv6Header(src, dst, len(udp), ttl)
	}
	b := ethHeader(f.dstMAC, f.srcMAC, f.vlan, etype)
	b = append(b, ip...)
	b = append(b, udp...)
	return append(b, f.trailer...)
}

func ethHeader(dst, src mac, vlan uint16, etype uint16) []byte {
	b := append(append([]byte{}, dst[:]...), src[:]...)
	if vlan != 0 {
		b = binary.BigEndian.AppendUint16(b, etherVLAN)
		b = binary.BigEndian.AppendUint16(b, vlan)
	}
	return binary.BigEndian.AppendUint16(b, etype)
}

func ipv4Header(src, dst netip.Addr, l4len int, ttl uint8, id uint16, df bool) []byte {
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+l4len))
	binary.BigEndian.PutUint16(h[4:], id)
	if df {
		h[6] = 0x40
	}
	h[8], h[9] = ttl, 17
	s, d := src.As4(), dst.As4()
	copy(h[12:], s[:])
	copy(h[16:], d[:])
	binary.BigEndian.PutUint16(h[10:], ^fold(sum(0, h)))
	return h
}

func ipv6Header(src, dst netip.Addr, l4len int, hopLimit uint8) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(l4len))
	h[6], h[7] = 17, hopLimit
	s, d := src.As16(), dst.As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return h
}

// sum adds b to a ones' complement sum as big-endian 16-bit words.
func sum(s uint32, b []byte) uint32 {
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	return s
}

func fold(s uint32) uint16 {
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// udpChecksum computes a UDP checksum (udp's own checksum field zero) with
// the pseudo header of its IP version.
func udpChecksum(src, dst netip.Addr, udp []byte) uint16 {
	var s uint32
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		s = sum(sum(s, a[:]), b[:])
	} else {
		a, b := src.As16(), dst.As16()
		s = sum(sum(s, a[:]), b[:])
	}
	s += 17 + uint32(len(udp))
	c := udp[6:8:8]
	saved := [2]byte{c[0], c[1]}
	c[0], c[1] = 0, 0
	s = sum(s, udp)
	c[0], c[1] = saved[0], saved[1]
	r := ^fold(s)
	if r == 0 {
		r = 0xffff
	}
	return r
}

// validIPv4Header reports whether a 20-byte IPv4 header's checksum is right.
func validIPv4Header(h []byte) bool { return fold(sum(0, h[:20])) == 0xffff }

// validUDPChecksum checks the checksum of a UDP datagram (header included).
func validUDPChecksum(src, dst netip.Addr, udp []byte) bool {
	got := binary.BigEndian.Uint16(udp[6:])
	return got != 0 && got == udpChecksum(src, dst, udp)
}
