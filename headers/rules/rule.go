package rules

import (
	"bytes"
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
)

// MAC is a 48-bit Ethernet address, most significant byte first.
type MAC [6]byte

// String is the lowercase "xx:xx:xx:xx:xx:xx" form.
func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// Rule is one rule. Type, Not and Or come from the type byte; the other
// fields hold the value, and which of them mean anything depends on Type
// (see the table in the package doc). Fields a type does not use are zero
// after Parse and ignored by AppendMarshal.
type Rule struct {
	Type Type
	Not  bool // invert the match result (type byte bit 0x80)
	Or   bool // OR with the running result instead of AND (bit 0x40)

	// Address: ACTION_TEE/WATCH/REDIRECT target, MATCH_SOURCE/DEST_ZEROTIER_ADDRESS.
	// The forwarding actions carry 8 bytes on the wire; all 64 bits are kept
	// (re-marshalling reproduces them) but only the low 40 name a node.
	Address identity.Address
	// Flags and Length: ACTION_TEE/WATCH/REDIRECT (Length is the number of
	// bytes to copy, 0 = all; carried but unused by REDIRECT).
	Flags  uint32
	Length uint16

	VLANID  uint16 // MATCH_VLAN_ID
	VLANPCP uint8  // MATCH_VLAN_PCP
	VLANDEI uint8  // MATCH_VLAN_DEI

	MAC MAC // MATCH_MAC_SOURCE/DEST

	// IP and Bits: MATCH_IPV4_* (4-byte IP) and MATCH_IPV6_* (16-byte IP).
	// Bits is the prefix length exactly as on the wire (it may exceed the
	// address size in hostile input); see Prefix.
	IP   netip.Addr
	Bits uint8

	TOSMask, TOSStart, TOSEnd uint8 // MATCH_IP_TOS: (tos & mask) in [start, end]

	IPProtocol uint8  // MATCH_IP_PROTOCOL
	EtherType  uint16 // MATCH_ETHERTYPE

	ICMPType, ICMPCode, ICMPFlags uint8 // MATCH_ICMP; ICMPFlags 0x01: compare ICMPCode too

	// Start and End: MATCH_IP_SOURCE/DEST_PORT_RANGE and
	// MATCH_FRAME_SIZE_RANGE, both inclusive.
	Start, End uint16

	Characteristics uint64 // MATCH_CHARACTERISTICS mask
	Probability     uint32 // MATCH_RANDOM: 0 never .. 0xffffffff always

	TagID, TagValue uint32 // MATCH_TAGS_* and MATCH_TAG_SENDER/RECEIVER

	// MATCH_INTEGER_RANGE. IntEnd is the absolute end as on the wire; the
	// reference keeps uint32(IntEnd-IntStart) as the range width.
	IntStart, IntEnd uint64
	IntIndex         uint16 // frame offset
	IntFormat        uint8  // 0x80 little endian; (IntFormat&63)+1 = bits

	// Raw holds value bytes the fields above do not: the whole value of a
	// type with no fields or an unknown type, and any surplus after a known
	// type's fields. It is written back after the fields.
	Raw []byte
}

// TypeByte returns the wire type byte: Type plus the NOT and OR bits.
func (r *Rule) TypeByte() byte {
	b := byte(r.Type) & TypeMask
	if r.Not {
		b |= FlagNot
	}
	if r.Or {
		b |= FlagOr
	}
	return b
}

// Prefix returns IP/Bits for the IPv4 and IPv6 matches, with Bits clamped to
// the address size. It is the zero Prefix if IP is not set.
func (r *Rule) Prefix() netip.Prefix {
	if !r.IP.IsValid() {
		return netip.Prefix{}
	}
	bits := int(r.Bits)
	if bits > r.IP.BitLen() {
		bits = r.IP.BitLen()
	}
	return netip.PrefixFrom(r.IP, bits)
}

// IntBits is the width in bits of MATCH_INTEGER_RANGE's integer (1..64).
func (r *Rule) IntBits() int { return int(r.IntFormat&63) + 1 }

// IntLittleEndian reports whether MATCH_INTEGER_RANGE reads little endian.
func (r *Rule) IntLittleEndian() bool { return r.IntFormat&0x80 != 0 }

// Equal reports whether r and o encode to the same bytes (fields the type
// does not use are ignored).
func (r *Rule) Equal(o *Rule) bool {
	var a, b [64]byte
	return bytes.Equal(r.AppendMarshal(a[:0]), o.AppendMarshal(b[:0]))
}

// String is the rule's JSON form.
func (r Rule) String() string {
	b, err := r.MarshalJSON()
	if err != nil {
		return r.Type.String()
	}
	return string(b)
}
