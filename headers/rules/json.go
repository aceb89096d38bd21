package rules

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// JSON form: the controller's rule objects (PROTOCOL.md part 2 §10.4).
//
// MarshalJSON writes what the reference controller renders, with keys in
// sorted order as its JSON library keeps them: matches always carry "not"
// and "or"; actions carry them only when set (the reference drops them).
// Two additions keep the form lossless for rules the reference cannot
// render: ACTION_PRIORITY and unknown types ("UNKNOWN_<n>") are written
// with their type name, and value bytes kept in Rule.Raw go under "raw" as
// hex. Neither appears for a rule the reference controller would emit.
//
// UnmarshalJSON reads the reference's input conventions: integers may be
// JSON numbers, decimal strings or booleans; addresses and the
// characteristics mask are hex strings (the mask may also be a number);
// MAC separators ':' and '-' are ignored; a missing field takes the
// reference default (port and frame-size "end" defaults to "start"; a
// missing or null "icmpCode" means "type only"). Unlike the reference it
// refuses values it cannot read instead of silently using the default.

// MarshalJSON implements json.Marshaler.
func (r Rule) MarshalJSON() ([]byte, error) {
	m := map[string]any{"type": r.Type.String()}
	if !r.Type.IsAction() || r.Not || r.Or {
		m["not"] = r.Not
		m["or"] = r.Or
	}
	switch r.Type {
	case ActionTee, ActionWatch:
		m["address"] = r.Address.String()
		m["flags"] = r.Flags
		m["length"] = r.Length
	case ActionRedirect:
		m["address"] = r.Address.String()
		m["flags"] = r.Flags
	case MatchSourceZeroTierAddress, MatchDestZeroTierAddress:
		m["zt"] = r.Address.String()
	case MatchVLANID:
		m["vlanId"] = r.VLANID
	case MatchVLANPCP:
		m["vlanPcp"] = r.VLANPCP
	case MatchVLANDEI:
		m["vlanDei"] = r.VLANDEI
	case MatchMACSource, MatchMACDest:
		m["mac"] = r.MAC.String()
	case MatchIPv4Source, MatchIPv4Dest:
		a := ip4(r.IP)
		m["ip"] = netip.AddrFrom4(a).String() + "/" + strconv.Itoa(int(r.Bits))
	case MatchIPv6Source, MatchIPv6Dest:
		a := ip6(r.IP)
		m["ip"] = netip.AddrFrom16(a).String() + "/" + strconv.Itoa(int(r.Bits))
	case MatchIPTOS:
		m["mask"] = r.TOSMask
		m["start"] = r.TOSStart
		m["end"] = r.TOSEnd
	case MatchIPProtocol:
		m["ipProtocol"] = r.IPProtocol
	case MatchEtherType:
		m["etherType"] = r.EtherType
	case MatchICMP:
		m["icmpType"] = r.ICMPType
		if r.ICMPFlags&0x01 != 0 {
			m["icmpCode"] = r.ICMPCode
		} else {
			m["icmpCode"] = nil
		}
	case MatchIPSourcePortRange, MatchIPDestPortRange, MatchFrameSizeRange:
		m["start"] = r.Start
		m["end"] = r.End
	case MatchCharacteristics:
		m["mask"] = fmt.Sprintf("%016x", r.Characteristics)
	case MatchRandom:
		m["probability"] = r.Probability
	case MatchTagsDifference, MatchTagsBitwiseAnd, MatchTagsBitwiseOr, MatchTagsBitwiseXor,
		MatchTagsEqual, MatchTagSender, MatchTagReceiver:
		m["id"] = r.TagID
		m["value"] = r.TagValue
	case MatchIntegerRange:
		m["start"] = fmt.Sprintf("%016x", r.IntStart)
		// The reference keeps a 32-bit width and renders start + width.
		m["end"] = fmt.Sprintf("%016x", r.IntStart+uint64(uint32(r.IntEnd-r.IntStart)))
		m["idx"] = r.IntIndex
		m["little"] = r.IntLittleEndian()
		m["bits"] = r.IntBits()
	}
	if len(r.Raw) > 0 {
		m["raw"] = hex.EncodeToString(r.Raw)
	}
	return json.Marshal(m)
}

// UnmarshalJSON implements json.Unmarshaler.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var o object
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("rules: JSON rule: %w", err)
	}
	nr, err := o.rule()
	if err != nil {
		return fmt.Errorf("rules: JSON rule: %w", err)
	}
	*r = nr
	return nil
}

// ParseTypeName reads a type name as MarshalJSON writes it.
func ParseTypeName(s string) (Type, error) {
	if t, ok := typeByName[s]; ok {
		return t, nil
	}
	if n, ok := strings.CutPrefix(s, "UNKNOWN_"); ok {
		v, err := strconv.ParseUint(n, 10, 8)
		if err == nil && v <= TypeMask && !Type(v).Known() {
			return Type(v), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown rule type %q", ErrInvalid, s)
}

type object map[string]json.RawMessage

func (o object) rule() (Rule, error) {
	var r Rule
	ts, err := o.str("type", "")
	if err != nil {
		return r, err
	}
	if r.Type, err = ParseTypeName(ts); err != nil {
		return r, err
	}
	if r.Not, err = o.boolean("not"); err != nil {
		return r, err
	}
	if r.Or, err = o.boolean("or"); err != nil {
		return r, err
	}
	if err := o.fields(&r); err != nil {
		return r, fmt.Errorf("%v: %w", r.Type, err)
	}
	if _, ok := o["raw"]; ok {
		s, err := o.str("raw", "")
		if err != nil {
			return r, err
		}
		raw, err := hex.DecodeString(s)
		if err != nil || len(raw)+r.Type.ValueSize() > 255 {
			return r, fmt.Errorf("%w: \"raw\" must be hex of at most %d bytes", ErrInvalid, 255-r.Type.ValueSize())
		}
		if len(raw) > 0 {
			r.Raw = raw
		}
	}
	return r, nil
}

// fields reads the value fields of r.Type. Errors from the typed getters
// are collected in g and returned once.
func (o object) fields(r *Rule) error {
	g := getter{o: o}
	switch r.Type {
	case ActionTee, ActionWatch, ActionRedirect:
		r.Address = identity.Address(g.hex("address") & identity.AddressMask)
		r.Flags = uint32(g.uint("flags", 0, 0xffffffff))
		if r.Type != ActionRedirect {
			r.Length = uint16(g.uint("length", 0, 0xffff))
		}
	case MatchSourceZeroTierAddress, MatchDestZeroTierAddress:
		r.Address = identity.Address(g.hex("zt") & identity.AddressMask)
	case MatchVLANID:
		r.VLANID = uint16(g.uint("vlanId", 0, 0xffff))
	case MatchVLANPCP:
		r.VLANPCP = uint8(g.uint("vlanPcp", 0, 0xff))
	case MatchVLANDEI:
		r.VLANDEI = uint8(g.uint("vlanDei", 0, 0xff))
	case MatchMACSource, MatchMACDest:
		r.MAC = g.mac("mac")
	case MatchIPv4Source, MatchIPv4Dest:
		r.IP, r.Bits = g.prefix("ip", false)
	case MatchIPv6Source, MatchIPv6Dest:
		r.IP, r.Bits = g.prefix("ip", true)
	case MatchIPTOS:
		r.TOSMask = uint8(g.uint("mask", 0, 0xff))
		r.TOSStart = uint8(g.uint("start", 0, 0xff))
		r.TOSEnd = uint8(g.uint("end", 0, 0xff))
	case MatchIPProtocol:
		r.IPProtocol = uint8(g.uint("ipProtocol", 0, 0xff))
	case MatchEtherType:
		r.EtherType = uint16(g.uint("etherType", 0, 0xffff))
	case MatchICMP:
		r.ICMPType = uint8(g.uint("icmpType", 0, 0xff))
		if !o.null("icmpCode") {
			r.ICMPCode = uint8(g.uint("icmpCode", 0, 0xff))
			r.ICMPFlags = 0x01
		}
	case MatchIPSourcePortRange, MatchIPDestPortRange, MatchFrameSizeRange:
		r.Start = uint16(g.uint("start", 0, 0xffff))
		r.End = uint16(g.uint("end", uint64(r.Start), 0xffff))
	case MatchCharacteristics:
		r.Characteristics = g.numberOrHex("mask")
	case MatchRandom:
		r.Probability = uint32(g.uint("probability", 0, 0xffffffff))
	case MatchTagsDifference, MatchTagsBitwiseAnd, MatchTagsBitwiseOr, MatchTagsBitwiseXor,
		MatchTagsEqual, MatchTagSender, MatchTagReceiver:
		r.TagID = uint32(g.uint("id", 0, 0xffffffff))
		r.TagValue = uint32(g.uint("value", 0, 0xffffffff))
	case MatchIntegerRange:
		r.IntStart = g.numberOrHex("start")
		end := g.numberOrHex("end")
		r.IntEnd = r.IntStart + uint64(uint32(end-r.IntStart))
		r.IntIndex = uint16(g.uint("idx", 0, 0xffff))
		bits := g.uint("bits", 1, 64)
		if bits == 0 {
			g.fail(fmt.Errorf("%w: \"bits\" must be 1..64", ErrInvalid))
			bits = 1
		}
		r.IntFormat = uint8(bits-1) & 63
		if little, err := o.boolean("little"); err != nil {
			g.fail(err)
		} else if little {
			r.IntFormat |= 0x80
		}
	}
	return g.err
}
