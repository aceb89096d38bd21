package rules

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
)

// Errors from parsing, wrapped with context; test with errors.Is.
var (
	ErrTruncated = errors.New("rules: truncated")
	ErrInvalid   = errors.New("rules: invalid")
)

var be = binary.BigEndian

// Parse reads one rule from the start of b and returns it with the number
// of bytes it took (2 + its value length).
func Parse(b []byte) (Rule, int, error) {
	var r Rule
	if len(b) < IndexValue {
		return r, 0, fmt.Errorf("%w: rule header needs 2 bytes, have %d", ErrTruncated, len(b))
	}
	t, l := b[IndexType], int(b[IndexLength])
	n := IndexValue + l
	if len(b) < n {
		return r, 0, fmt.Errorf("%w: rule type %d value needs %d bytes, have %d", ErrTruncated, t&TypeMask, l, len(b)-IndexValue)
	}
	r.Type = Type(t & TypeMask)
	r.Not = t&FlagNot != 0
	r.Or = t&FlagOr != 0
	v := b[IndexValue:n]
	size := r.Type.ValueSize()
	if l < size {
		return Rule{}, 0, fmt.Errorf("%w: %v value is %d bytes, needs %d", ErrInvalid, r.Type, l, size)
	}
	r.decode(v[:size])
	if l > size {
		r.Raw = append([]byte(nil), v[size:]...)
	}
	return r, n, nil
}

// decode fills the fields of r.Type from v, which has exactly the type's
// value size.
func (r *Rule) decode(v []byte) {
	switch r.Type {
	case ActionTee, ActionWatch, ActionRedirect:
		r.Address = identity.Address(be.Uint64(v[0:8]))
		r.Flags = be.Uint32(v[8:12])
		r.Length = be.Uint16(v[12:14])
	case MatchSourceZeroTierAddress, MatchDestZeroTierAddress:
		r.Address = identity.AddressFromBytes(v)
	case MatchVLANID:
		r.VLANID = be.Uint16(v)
	case MatchVLANPCP:
		r.VLANPCP = v[0]
	case MatchVLANDEI:
		r.VLANDEI = v[0]
	case MatchMACSource, MatchMACDest:
		copy(r.MAC[:], v)
	case MatchIPv4Source, MatchIPv4Dest:
		r.IP = netip.AddrFrom4([4]byte(v[0:4]))
		r.Bits = v[4]
	case MatchIPv6Source, MatchIPv6Dest:
		r.IP = netip.AddrFrom16([16]byte(v[0:16]))
		r.Bits = v[16]
	case MatchIPTOS:
		r.TOSMask, r.TOSStart, r.TOSEnd = v[0], v[1], v[2]
	case MatchIPProtocol:
		r.IPProtocol = v[0]
	case MatchEtherType:
		r.EtherType = be.Uint16(v)
	case MatchICMP:
		r.ICMPType, r.ICMPCode, r.ICMPFlags = v[0], v[1], v[2]
	case MatchIPSourcePortRange, MatchIPDestPortRange, MatchFrameSizeRange:
		r.Start = be.Uint16(v[0:2])
		r.End = be.Uint16(v[2:4])
	case MatchCharacteristics:
		r.Characteristics = be.Uint64(v)
	case MatchRandom:
		r.Probability = be.Uint32(v)
	case MatchTagsDifference, MatchTagsBitwiseAnd, MatchTagsBitwiseOr, MatchTagsBitwiseXor,
		MatchTagsEqual, MatchTagSender, MatchTagReceiver:
		r.TagID = be.Uint32(v[0:4])
		r.TagValue = be.Uint32(v[4:8])
	case MatchIntegerRange:
		r.IntStart = be.Uint64(v[0:8])
		r.IntEnd = be.Uint64(v[8:16])
		r.IntIndex = be.Uint16(v[16:18])
		r.IntFormat = v[18]
	}
}

// AppendMarshal appends the rule's wire form to dst. Raw is clipped if the
// value would exceed 255 bytes (never the case for a parsed rule).
func (r *Rule) AppendMarshal(dst []byte) []byte {
	size := r.Type.ValueSize()
	raw := r.Raw
	if size+len(raw) > 255 {
		raw = raw[:255-size]
	}
	dst = append(dst, r.TypeByte(), byte(size+len(raw)))
	switch r.Type {
	case ActionTee, ActionWatch, ActionRedirect:
		dst = be.AppendUint64(dst, uint64(r.Address))
		dst = be.AppendUint32(dst, r.Flags)
		dst = be.AppendUint16(dst, r.Length)
	case MatchSourceZeroTierAddress, MatchDestZeroTierAddress:
		dst = r.Address.AppendTo(dst)
	case MatchVLANID:
		dst = be.AppendUint16(dst, r.VLANID)
	case MatchVLANPCP:
		dst = append(dst, r.VLANPCP)
	case MatchVLANDEI:
		dst = append(dst, r.VLANDEI)
	case MatchMACSource, MatchMACDest:
		dst = append(dst, r.MAC[:]...)
	case MatchIPv4Source, MatchIPv4Dest:
		a := ip4(r.IP)
		dst = append(append(dst, a[:]...), r.Bits)
	case MatchIPv6Source, MatchIPv6Dest:
		a := ip6(r.IP)
		dst = append(append(dst, a[:]...), r.Bits)
	case MatchIPTOS:
		dst = append(dst, r.TOSMask, r.TOSStart, r.TOSEnd)
	case MatchIPProtocol:
		dst = append(dst, r.IPProtocol)
	case MatchEtherType:
		dst = be.AppendUint16(dst, r.EtherType)
	case MatchICMP:
		dst = append(dst, r.ICMPType, r.ICMPCode, r.ICMPFlags)
	case MatchIPSourcePortRange, MatchIPDestPortRange, MatchFrameSizeRange:
		dst = be.AppendUint16(dst, r.Start)
		dst = be.AppendUint16(dst, r.End)
	case MatchCharacteristics:
		dst = be.AppendUint64(dst, r.Characteristics)
	case MatchRandom:
		dst = be.AppendUint32(dst, r.Probability)
	case MatchTagsDifference, MatchTagsBitwiseAnd, MatchTagsBitwiseOr, MatchTagsBitwiseXor,
		MatchTagsEqual, MatchTagSender, MatchTagReceiver:
		dst = be.AppendUint32(dst, r.TagID)
		dst = be.AppendUint32(dst, r.TagValue)
	case MatchIntegerRange:
		dst = be.AppendUint64(dst, r.IntStart)
		dst = be.AppendUint64(dst, r.IntEnd)
		dst = be.AppendUint16(dst, r.IntIndex)
		dst = append(dst, r.IntFormat)
	}
	return append(dst, raw...)
}

// ip4 returns the 4 bytes of an IPv4 (or IPv4-mapped IPv6) address, or
// zeros for anything else.
func ip4(a netip.Addr) [4]byte {
	a = a.Unmap()
	if a.Is4() {
		return a.As4()
	}
	return [4]byte{}
}

// ip6 returns the 16 bytes of an address (IPv4 as IPv4-mapped), or zeros
// if it is not set.
func ip6(a netip.Addr) [16]byte {
	if a.IsValid() {
		return a.As16()
	}
	return [16]byte{}
}

// ParseList reads rules back to back from b until b is used up or max
// rules have been read, and returns them with the number of bytes they
// took. Reading a network config's "R" blob is ParseList(blob,
// MaxNetworkRules) (the reference ignores rules past the limit; check n
// against len(b) to refuse them instead); a Capability reads exactly its
// rule count with ParseN.
func ParseList(b []byte, max int) ([]Rule, int, error) {
	var out []Rule
	p := 0
	for p < len(b) && len(out) < max {
		r, n, err := Parse(b[p:])
		if err != nil {
			return nil, 0, fmt.Errorf("rule %d at offset %d: %w", len(out), p, err)
		}
		out = append(out, r)
		p += n
	}
	return out, p, nil
}

// ParseN reads exactly count rules from the start of b.
func ParseN(b []byte, count int) ([]Rule, int, error) {
	rs, n, err := ParseList(b, count)
	if err != nil {
		return nil, 0, err
	}
	if len(rs) < count {
		return nil, 0, fmt.Errorf("%w: %d of %d rules present", ErrTruncated, len(rs), count)
	}
	return rs, n, nil
}

// AppendList appends the wire form of each rule in turn.
func AppendList(dst []byte, rs []Rule) []byte {
	for i := range rs {
		dst = rs[i].AppendMarshal(dst)
	}
	return dst
}
