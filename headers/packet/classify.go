package packet

import "github.com/ztx/ztx/crypto/identity"

// Kind is what a received datagram is (§3.2).
type Kind uint8

// Kinds of datagram.
const (
	KindTooShort Kind = iota // not ZeroTier: drop
	KindBeacon               // legacy 13-byte LAN beacon
	KindFragment             // fragment 1..N-1 of a packet
	KindPacket               // packet, or head of a fragmented packet
)

func (k Kind) String() string {
	switch k {
	case KindBeacon:
		return "beacon"
	case KindFragment:
		return "fragment"
	case KindPacket:
		return "packet"
	}
	return "too short"
}

// Classify tells what a UDP payload is, by length and byte 13 only (the
// order of the tests is the reference's):
//   - exactly 13 bytes: a legacy beacon;
//   - more than 16 bytes with 0xff at offset 13: a fragment;
//   - otherwise at least 28 bytes: a packet;
//   - anything else is too short.
func Classify(b []byte) Kind {
	switch {
	case len(b) == BeaconLength:
		return KindBeacon
	case len(b) > MinFragmentLength && b[FragIndexIndicator] == FragmentIndicator:
		return KindFragment
	case len(b) >= MinPacketLength:
		return KindPacket
	}
	return KindTooShort
}

// BeaconAddress is the sender's address in a legacy beacon (bytes 8..12).
func BeaconAddress(b []byte) (identity.Address, bool) {
	if len(b) != BeaconLength {
		return 0, false
	}
	return identity.AddressFromBytes(b[8:]), true
}
