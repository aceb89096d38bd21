package netconf

import (
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/verbs"
)

// MAC is a 48-bit Ethernet address, most significant byte first.
type MAC = verbs.MAC

// Controller returns the address of network nwid's controller: the top 40 bits.
func Controller(nwid uint64) identity.Address {
	return identity.Address(nwid >> 24)
}

// IsAdHoc reports whether nwid is an ad-hoc network (top byte 0xff), which has no controller.
func IsAdHoc(nwid uint64) bool { return nwid>>56 == 0xff }

// MACFirstOctet is the first octet of every member's MAC on network nwid: the network ID's
// least significant byte with the multicast bit cleared and the locally-administered bit set,
// 0x52 (used by KVM/libvirt) replaced by 0x32.
func MACFirstOctet(nwid uint64) byte {
	f := byte(nwid&0xfe) | 0x02
	if f == 0x52 {
		f = 0x32
	}
	return f
}

// macMask is the XOR mask applied to the low 40 bits (MAC bytes 1..5 hold network ID bytes
// at shifts 8, 16, 24, 32, 40).
func macMask(nwid uint64) uint64 {
	var m uint64
	for i := 1; i <= 5; i++ {
		b := (nwid >> (8 * i)) & 0xff
		m |= b << (8 * (5 - i))
	}
	return m
}

// MACOf returns the Ethernet MAC of node a on network nwid (PROTOCOL.md part 2 §1.2).
func MACOf(a identity.Address, nwid uint64) MAC {
	v := uint64(MACFirstOctet(nwid))<<40 | ((uint64(a) & identity.AddressMask) ^ macMask(nwid))
	var m MAC
	for i := range m {
		m[i] = byte(v >> (8 * (5 - i)))
	}
	return m
}

// AddressOf returns the node address behind mac on network nwid, and whether mac is a
// member's MAC on that network at all (its first octet is MACFirstOctet(nwid)). A MAC for which
// ok is false belongs to a bridged host or is a multicast/broadcast address.
func AddressOf(mac MAC, nwid uint64) (a identity.Address, ok bool) {
	var v uint64
	for _, b := range mac[1:] {
		v = v<<8 | uint64(b)
	}
	return identity.Address(v ^ macMask(nwid)), mac[0] == MACFirstOctet(nwid)
}

// RFC4193Bits is the prefix length stored with an rfc4193 managed address.
const RFC4193Bits = 88

// SixPlaneBits is the prefix length stored with a 6plane managed address; the node owns the
// /80 that SixPlane's address starts.
const SixPlaneBits = 40

// RFC4193 returns node a's rfc4193 managed IPv6 address on network nwid:
// fd | nwid (8) | 99 93 | address (5), with prefix length 88.
func RFC4193(nwid uint64, a identity.Address) netip.Prefix {
	var b [16]byte
	b[0] = 0xfd
	for i := 0; i < 8; i++ {
		b[1+i] = byte(nwid >> (8 * (7 - i)))
	}
	b[9], b[10] = 0x99, 0x93
	putAddress(b[11:16], a)
	return netip.PrefixFrom(netip.AddrFrom16(b), RFC4193Bits)
}

// SixPlane returns node a's 6plane managed IPv6 address on network nwid:
// fc | (nwid low 32 ^ high 32) (4) | address (5) | 0 (5) | 01, with prefix length 40.
func SixPlane(nwid uint64, a identity.Address) netip.Prefix {
	x := uint32(nwid ^ (nwid >> 32))
	var b [16]byte
	b[0] = 0xfc
	b[1], b[2], b[3], b[4] = byte(x>>24), byte(x>>16), byte(x>>8), byte(x)
	putAddress(b[5:10], a)
	b[15] = 0x01
	return netip.PrefixFrom(netip.AddrFrom16(b), SixPlaneBits)
}

// SixPlaneHost returns the /80 that node a owns on network nwid under 6plane.
func SixPlaneHost(nwid uint64, a identity.Address) netip.Prefix {
	return netip.PrefixFrom(SixPlane(nwid, a).Addr(), 80).Masked()
}

func putAddress(b []byte, a identity.Address) {
	for i := 0; i < 5; i++ {
		b[i] = byte(uint64(a) >> (8 * (4 - i)))
	}
}
