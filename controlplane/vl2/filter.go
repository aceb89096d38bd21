package vl2

import (
	"encoding/binary"
	"net/netip"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/rules"
)

// The rules engine (PROTOCOL.md part 2 §6): every frame a member sends
// or takes passes the network's rules, and the capabilities when the
// rules do not decide, as in ZeroTier One 1.14.1's Network::filter*.

// Ethertypes the rules look into.
const (
	etherTypeIPv4 = 0x0800
	etherTypeARP  = 0x0806
	etherTypeIPv6 = 0x86dd
)

// Packet characteristics (MATCH_CHARACTERISTICS bits).
const (
	charInbound       uint64 = 0x8000000000000000
	charMulticast     uint64 = 0x4000000000000000
	charBroadcast     uint64 = 0x2000000000000000
	charSenderIPAuth  uint64 = 0x1000000000000000
	charSenderMACAuth uint64 = 0x0800000000000000
)

// EXT_FRAME flags of the copies and redirections the rules make.
const (
	extTeeOut      = 0x02
	extWatchOut    = 0x16
	extRedirectOut = 0x04
	extTeeIn       = 0x08
	extWatchIn     = 0x1c
	extRedirectIn  = 0x0a
)

// filterResult is the outcome of one rule list.
type filterResult uint8

const (
	filterNoMatch filterResult = iota
	filterDrop
	filterRedirect
	filterAccept
	filterSuperAccept
)

// Results of filterIn.
const (
	inDrop        = 0
	inAccept      = 1
	inSuperAccept = 2 // accepted regardless of the bridging checks
)

// flow is a frame going through the rules, and what they decided.
type flow struct {
	inbound        bool
	src            identity.Address // ZeroTier source
	dst            identity.Address // ZeroTier destination (0: not known yet); REDIRECT changes it
	macSrc, macDst MAC
	etherType      uint16
	data           []byte // the Ethernet payload

	tee    identity.Address // TEE/WATCH copy target, 0 for none
	teeLen int              // bytes of data to copy
	watch  bool
}

// trivialRules reports whether a rule list accepts everything at its
// first rule (the default single ACCEPT), so that frames skip the engine.
func trivialRules(rs []rules.Rule) bool {
	return len(rs) > 0 && (rs[0].Type == rules.ActionAccept || rs[0].Type == rules.ActionPriority)
}

// filterOut applies the rules to a frame we send (Network::
// filterOutgoingPacket): it reports whether the frame goes out to dst.
// TEE copies leave unless noTee (the per-recipient pass of a multicast or
// bridged frame); a REDIRECT sends the frame to its new target here and
// reports false.
func (s *Switch) filterOut(now int64, nw *network, noTee bool, dst identity.Address, macSrc, macDst MAC, etherType uint16, data []byte) bool {
	c := nw.conf
	if trivialRules(c.Rules) {
		return true
	}
	var m *membership
	if dst != 0 {
		m = nw.members[dst]
	}
	f := flow{src: s.address(), dst: dst, macSrc: macSrc, macDst: macDst, etherType: etherType, data: data}
	accept := false
	switch s.evalRules(nw, m, &f, c.Rules) {
	case filterNoMatch:
		for i := range c.Capabilities {
			cf := f
			cf.dst, cf.tee, cf.teeLen, cf.watch = dst, 0, 0, false
			switch s.evalRules(nw, m, &cf, c.Capabilities[i].Rules) {
			case filterRedirect, filterAccept, filterSuperAccept:
				accept = true
				f.dst = cf.dst
				if !noTee && cf.tee != 0 {
					s.copyFrame(now, nw, &cf, extTeeOut, extWatchOut)
				}
			}
			if accept {
				break
			}
		}
	case filterDrop:
		return false
	default:
		accept = true
	}
	if !accept {
		return false
	}
	if !noTee && f.tee != 0 {
		s.copyFrame(now, nw, &f, extTeeOut, extWatchOut)
	}
	if f.dst != dst && f.dst != 0 {
		s.maybePush(now, nw, f.dst)
		s.sendExt(now, f.dst, nw.id, extRedirectOut, macDst, macSrc, etherType, data)
		return false
	}
	return true
}

// filterIn applies the rules to a frame from member from
// (Network::filterIncomingPacket): inDrop, inAccept or inSuperAccept.
// On NO_MATCH the sender's valid capabilities are tried.
func (s *Switch) filterIn(now int64, nw *network, from identity.Address, macSrc, macDst MAC, etherType uint16, data []byte) int {
	c := nw.conf
	if trivialRules(c.Rules) {
		return inAccept
	}
	m := nw.member(from)
	if m == nil {
		return inDrop
	}
	self := s.address()
	f := flow{inbound: true, src: from, dst: self, macSrc: macSrc, macDst: macDst, etherType: etherType, data: data}
	accept := inDrop
	switch s.evalRules(nw, m, &f, c.Rules) {
	case filterNoMatch:
		for _, cp := range m.validCaps(c) {
			cf := f
			cf.dst, cf.tee, cf.teeLen, cf.watch = self, 0, 0, false
			switch s.evalRules(nw, m, &cf, cp.Rules) {
			case filterRedirect, filterAccept:
				accept = inAccept
			case filterSuperAccept:
				accept = inSuperAccept
			}
			if accept != inDrop {
				f.dst = cf.dst
				if cf.tee != 0 {
					s.copyFrame(now, nw, &cf, extTeeIn, extWatchIn)
				}
				break
			}
		}
	case filterDrop:
		return inDrop
	case filterRedirect, filterAccept:
		accept = inAccept
	case filterSuperAccept:
		accept = inSuperAccept
	}
	if accept == inDrop {
		return inDrop
	}
	if f.tee != 0 {
		s.copyFrame(now, nw, &f, extTeeIn, extWatchIn)
	}
	if f.dst != self && f.dst != 0 {
		s.maybePush(now, nw, f.dst)
		s.sendExt(now, f.dst, nw.id, extRedirectIn, macDst, macSrc, etherType, data)
		return inDrop
	}
	return accept
}

// copyFrame sends a TEE or WATCH copy of f's frame.
func (s *Switch) copyFrame(now int64, nw *network, f *flow, teeFlags, watchFlags byte) {
	flags := teeFlags
	if f.watch {
		flags = watchFlags
	}
	s.maybePush(now, nw, f.tee)
	s.sendExt(now, f.tee, nw.id, flags, f.macDst, f.macSrc, f.etherType, f.data[:f.teeLen])
}

// validCaps lists the member's capabilities that are valid now, by ID.
func (m *membership) validCaps(c *netconf.Config) []*cred.Capability {
	if len(m.caps) == 0 {
		return nil
	}
	out := make([]*cred.Capability, 0, len(m.caps))
	for id, cp := range m.caps {
		if m.credValid(c, cred.CredentialCapability, id, cp.Timestamp) {
			out = append(out, &cp)
		}
	}
	for i := 1; i < len(out); i++ { // few: insertion sort by ID
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// credKey is the key of a non-COM credential's revocation threshold.
func credKey(t cred.CredentialType, id uint32) uint32 { return uint32(t)<<24 ^ id }

// credValid reports whether a peer's credential counts against our
// config: its timestamp within the config's credential delta of ours and
// newer than its revocation threshold.
func (m *membership) credValid(c *netconf.Config, t cred.CredentialType, id uint32, ts int64) bool {
	d := ts - c.Timestamp
	if d < 0 {
		d = -d
	}
	if d > c.CredentialDelta {
		return false
	}
	th, revoked := m.revokedComIDs[credKey(t, id)]
	return !revoked || ts > th
}

// tag returns the member's valid tag id.
func (m *membership) tag(c *netconf.Config, id uint32) (uint32, bool) {
	if m == nil {
		return 0, false
	}
	t, ok := m.tags[id]
	if !ok || !m.credValid(c, cred.CredentialTag, id, t.Timestamp) {
		return 0, false
	}
	return t.Value, true
}

// ownsIP reports whether the member holds a valid COO for ip, or ip is
// one that IPv6 NDP emulation makes everyone's (the reference's
// Membership::hasCertificateOfOwnershipFor).
func (m *membership) ownsIP(c *netconf.Config, ip netip.Addr) bool {
	for i := range m.coos {
		o := &m.coos[i]
		if m.credValid(c, cred.CredentialCOO, o.ID, o.Timestamp) && o.OwnsAddr(ip) {
			return true
		}
	}
	return ndpEmulated(c, ip)
}

func (m *membership) ownsMAC(c *netconf.Config, mac MAC) bool {
	for i := range m.coos {
		o := &m.coos[i]
		if m.credValid(c, cred.CredentialCOO, o.ID, o.Timestamp) && o.OwnsMAC(mac) {
			return true
		}
	}
	return false
}

// ndpEmulated reports whether ip is in the /40 of our 6plane address or
// the /88 of our rfc4193 address, when the network emulates NDP and we
// hold that address.
func ndpEmulated(c *netconf.Config, ip netip.Addr) bool {
	if !ip.Is6() || ip.Is4In6() || !c.NDPEmulation() {
		return false
	}
	b := ip.As16()
	for _, p := range []netip.Prefix{netconf.SixPlane(c.NetworkID, c.IssuedTo), netconf.RFC4193(c.NetworkID, c.IssuedTo)} {
		if c.HasStaticIP(p.Addr()) {
			mine := p.Addr().As16()
			n := 5
			if p.Bits() == netconf.RFC4193Bits {
				n = 11
			}
			if string(b[:n]) == string(mine[:n]) {
				return true
			}
		}
	}
	return false
}

// ipv6Payload finds the upper-layer header of an IPv6 packet past the
// hop-by-hop, routing, destination options and mobility headers.
func ipv6Payload(d []byte) (pos int, proto byte, ok bool) {
	if len(d) < 40 {
		return 0, 0, false
	}
	pos, proto = 40, d[6]
	for pos <= len(d) {
		switch proto {
		case 0, 43, 60, 135:
			if pos+8 > len(d) {
				return 0, 0, false
			}
			proto = d[pos]
			pos += int(d[pos+1])*8 + 8
		default:
			return pos, proto, true
		}
	}
	return 0, 0, false
}

// match results beside plain true and false: a hard yes or no is not
// inverted by the rule's NOT bit.
type matchResult uint8

const (
	mNo matchResult = iota
	mYes
	mHardNo
	mHardYes
)

func boolMatch(b bool) matchResult {
	if b {
		return mYes
	}
	return mNo
}

// evalRules runs one rule list on f (_doZtFilter).
func (s *Switch) evalRules(nw *network, m *membership, f *flow, list []rules.Rule) filterResult {
	c := nw.conf
	self := s.address()
	set, skipDrop, superAccept := true, false, false
	var owned uint64
	ownedDone := false
	for i := range list {
		r := &list[i]
		if r.Type.IsAction() {
			if set {
				switch r.Type {
				case rules.ActionPriority:
					return filterAccept
				case rules.ActionDrop:
					if skipDrop {
						skipDrop = false
						continue
					}
					return filterDrop
				case rules.ActionAccept:
					if superAccept {
						return filterSuperAccept
					}
					return filterAccept
				case rules.ActionTee, rules.ActionWatch, rules.ActionRedirect:
					to := identity.Address(uint64(r.Address) & identity.AddressMask)
					switch {
					case to == f.src:
					case to == self:
						if f.inbound {
							return filterSuperAccept
						}
					case to == f.dst:
					default:
						if r.Type == rules.ActionRedirect {
							f.dst = to
							return filterRedirect
						}
						f.tee, f.teeLen, f.watch = to, len(f.data), r.Type == rules.ActionWatch
						if r.Length != 0 && int(r.Length) < len(f.data) {
							f.teeLen = int(r.Length)
						}
					}
				case rules.ActionBreak:
					return filterNoMatch
				}
				continue
			}
			// A TEE, WATCH or REDIRECT naming us makes us accept what
			// comes in regardless of the addressing checks.
			if f.inbound && (r.Type == rules.ActionTee || r.Type == rules.ActionWatch || r.Type == rules.ActionRedirect) &&
				identity.Address(uint64(r.Address)&identity.AddressMask) == self {
				superAccept = true
			}
			set = true
			continue
		}
		if !set && !r.Or {
			continue // AND with false stays false
		}
		var res matchResult
		switch r.Type {
		case rules.MatchTagsDifference, rules.MatchTagsBitwiseAnd, rules.MatchTagsBitwiseOr, rules.MatchTagsBitwiseXor, rules.MatchTagsEqual:
			res = tagsMatch(c, m, f, r, superAccept, &skipDrop)
		case rules.MatchTagSender, rules.MatchTagReceiver:
			res = tagMatch(c, m, f, r, superAccept, &skipDrop)
		case rules.MatchCharacteristics:
			if !ownedDone {
				owned, ownedDone = ownership(c, m, f), true
			}
			res = boolMatch(characteristics(f, owned)&r.Characteristics != 0)
		case rules.MatchRandom:
			res = boolMatch(uint32(s.random64()) <= r.Probability)
		default:
			res = frameMatch(c, f, r)
		}
		var e bool
		switch res {
		case mHardYes:
			e = true
		case mHardNo:
			e = false
		default:
			e = (res == mYes) != r.Not
		}
		if r.Or {
			set = set || e
		} else {
			set = set && e
		}
	}
	return filterNoMatch
}

// frameMatch evaluates the matches that depend on the frame alone.
func frameMatch(c *netconf.Config, f *flow, r *rules.Rule) matchResult {
	d := f.data
	v4 := f.etherType == etherTypeIPv4 && len(d) >= 20
	v6 := f.etherType == etherTypeIPv6 && len(d) >= 40
	switch r.Type {
	case rules.MatchSourceZeroTierAddress:
		return boolMatch(r.Address == f.src)
	case rules.MatchDestZeroTierAddress:
		return boolMatch(r.Address == f.dst)
	case rules.MatchVLANID:
		return boolMatch(r.VLANID == 0) // frames carry no VLAN tag here
	case rules.MatchVLANPCP:
		return boolMatch(r.VLANPCP == 0) // unsupported in 1.14.1
	case rules.MatchVLANDEI:
		return boolMatch(r.VLANDEI == 0)
	case rules.MatchMACSource:
		return boolMatch(r.MAC == rules.MAC(f.macSrc))
	case rules.MatchMACDest:
		return boolMatch(r.MAC == rules.MAC(f.macDst))
	case rules.MatchIPv4Source, rules.MatchIPv4Dest:
		if !v4 {
			return mHardNo
		}
		off := 12
		if r.Type == rules.MatchIPv4Dest {
			off = 16
		}
		return boolMatch(r.Prefix().Contains(netip.AddrFrom4([4]byte(d[off : off+4]))))
	case rules.MatchIPv6Source, rules.MatchIPv6Dest:
		if !v6 {
			return mHardNo
		}
		off := 8
		if r.Type == rules.MatchIPv6Dest {
			off = 24
		}
		return boolMatch(r.Prefix().Contains(netip.AddrFrom16([16]byte(d[off : off+16]))))
	case rules.MatchIPTOS:
		var tos byte
		switch {
		case v4:
			tos = d[1]
		case v6:
			tos = d[0]<<4 | d[1]>>4
		default:
			return mHardNo
		}
		tos &= r.TOSMask
		return boolMatch(tos >= r.TOSStart && tos <= r.TOSEnd)
	case rules.MatchIPProtocol:
		switch {
		case v4:
			return boolMatch(r.IPProtocol == d[9])
		case f.etherType == etherTypeIPv6:
			if _, proto, ok := ipv6Payload(d); ok {
				return boolMatch(r.IPProtocol == proto)
			}
		}
		return mHardNo
	case rules.MatchEtherType:
		return boolMatch(r.EtherType == f.etherType)
	case rules.MatchICMP:
		pos := -1
		switch {
		case v4:
			if d[9] == 0x01 {
				pos = int(d[0]&0x0f) * 4
			}
		case f.etherType == etherTypeIPv6:
			if p, proto, ok := ipv6Payload(d); ok && proto == 0x3a {
				pos = p
			}
		}
		if pos < 0 || len(d) < pos+2 || d[pos] != r.ICMPType {
			return mHardNo
		}
		if r.ICMPFlags&0x01 != 0 {
			return boolMatch(d[pos+1] == r.ICMPCode)
		}
		return mHardYes
	case rules.MatchIPSourcePortRange, rules.MatchIPDestPortRange:
		var pos int
		var proto byte
		switch {
		case v4:
			pos, proto = int(d[0]&0x0f)*4, d[9]
		case f.etherType == etherTypeIPv6:
			var ok bool
			if pos, proto, ok = ipv6Payload(d); !ok {
				return mHardNo
			}
		default:
			return mHardNo
		}
		p := -1
		switch proto {
		case 0x06, 0x11, 0x84, 0x88: // TCP, UDP, SCTP, UDP-Lite
			if len(d) > pos+4 {
				if r.Type == rules.MatchIPDestPortRange {
					pos += 2
				}
				p = int(binary.BigEndian.Uint16(d[pos:]))
			}
		}
		if v4 && p < 0 || !v4 && p <= 0 {
			return mNo // the reference's IPv6 path also fails port 0
		}
		return boolMatch(p >= int(r.Start) && p <= int(r.End))
	case rules.MatchFrameSizeRange:
		return boolMatch(len(d) >= int(r.Start) && len(d) <= int(r.End))
	case rules.MatchIntegerRange:
		return boolMatch(integerInRange(r, d))
	}
	// A match this engine does not know: as the config says.
	return boolMatch(c.Flags&netconf.FlagUnsupportedMatch != 0)
}

// integerInRange reads MATCH_INTEGER_RANGE's integer from the frame (0
// when it would pass the end) and compares it with the range.
func integerInRange(r *rules.Rule, d []byte) bool {
	bits := r.IntBits()
	n := (bits + 7) / 8
	var v uint64
	if !r.IntLittleEndian() {
		idx := int(r.IntIndex) + (8 - n) // sic: the reference's offset
		if idx+n <= len(d) {
			for _, b := range d[idx : idx+n] {
				v = v<<8 | uint64(b)
			}
		}
		v &= ^uint64(0) >> (64 - bits)
	} else {
		idx := int(r.IntIndex)
		if idx+n <= len(d) {
			for _, b := range d[idx : idx+n] {
				v = v>>8 | uint64(b)<<56
			}
		}
		v >>= 64 - bits
	}
	// The reference keeps the end as a 32-bit width above the start.
	end := r.IntStart + uint64(uint32(r.IntEnd-r.IntStart))
	return v >= r.IntStart && v <= end
}

// ownership computes the sender-authenticated characteristics: whether
// the frame's source IP and source MAC are covered by certificates of
// ownership (ours outbound, the sender's inbound).
func ownership(c *netconf.Config, m *membership, f *flow) uint64 {
	var bits uint64
	d := f.data
	var src netip.Addr
	switch {
	case f.etherType == etherTypeIPv4 && len(d) >= 20:
		src = netip.AddrFrom4([4]byte(d[12:16]))
	case f.etherType == etherTypeIPv6 && len(d) >= 40:
		if len(d) >= 40+8+16 && d[6] == 0x3a && (d[40] == 0x87 || d[40] == 0x88) {
			if d[40] == 0x87 {
				// Neighbour solicitations have no source to check: they count as authenticated.
				bits |= charSenderIPAuth
			} else {
				src = netip.AddrFrom16([16]byte(d[48:64])) // the advertised target
			}
		} else {
			src = netip.AddrFrom16([16]byte(d[8:24]))
		}
	case f.etherType == etherTypeARP && len(d) >= 28:
		src = netip.AddrFrom4([4]byte(d[14:18]))
	}
	if f.inbound {
		if m != nil {
			if src.IsValid() && m.ownsIP(c, src) {
				bits |= charSenderIPAuth
			}
			if m.ownsMAC(c, f.macSrc) {
				bits |= charSenderMACAuth
			}
		}
		return bits
	}
	for i := range c.COOs {
		if src.IsValid() && c.COOs[i].OwnsAddr(src) {
			bits |= charSenderIPAuth
		}
		if c.COOs[i].OwnsMAC(f.macSrc) {
			bits |= charSenderMACAuth
		}
	}
	return bits
}

// characteristics builds MATCH_CHARACTERISTICS' flags of a frame.
func characteristics(f *flow, owned uint64) uint64 {
	cf := owned
	if f.inbound {
		cf |= charInbound
	}
	if isMulticast(f.macDst) {
		cf |= charMulticast
	}
	if f.macDst == Broadcast {
		cf |= charBroadcast
	}
	d := f.data
	tcp := -1
	switch {
	case f.etherType == etherTypeIPv4 && len(d) >= 20 && d[9] == 0x06:
		tcp = int(d[0]&0x0f) * 4
	case f.etherType == etherTypeIPv6:
		if pos, proto, ok := ipv6Payload(d); ok && proto == 0x06 && len(d) > pos+14 {
			tcp = pos
		}
	}
	if tcp >= 0 && tcp+13 < len(d) { // the reference reads IPv4's without a bound
		cf |= uint64(d[tcp+13]) | uint64(d[tcp+12]&0x0f)<<8
	}
	return cf
}

// tagsMatch evaluates the matches comparing our tag with the peer's.
func tagsMatch(c *netconf.Config, m *membership, f *flow, r *rules.Rule, superAccept bool, skipDrop *bool) matchResult {
	local, ok := c.Tag(r.TagID)
	if !ok {
		return mHardNo
	}
	remote, ok := m.tag(c, r.TagID)
	if !ok {
		if f.inbound && !superAccept {
			return mHardNo
		}
		// Outbound we may not know the receiver's tags yet: it filters
		// on its side.
		*skipDrop = true
		return mHardYes
	}
	l := local.Value
	switch r.Type {
	case rules.MatchTagsDifference:
		diff := l - remote
		if l < remote {
			diff = remote - l
		}
		return boolMatch(diff <= r.TagValue)
	case rules.MatchTagsBitwiseAnd:
		return boolMatch(l&remote == r.TagValue)
	case rules.MatchTagsBitwiseOr:
		return boolMatch(l|remote == r.TagValue)
	case rules.MatchTagsBitwiseXor:
		return boolMatch(l^remote == r.TagValue)
	default: // equal
		return boolMatch(l == r.TagValue && remote == r.TagValue)
	}
}

// tagMatch evaluates MATCH_TAG_SENDER and MATCH_TAG_RECEIVER.
func tagMatch(c *netconf.Config, m *membership, f *flow, r *rules.Rule, superAccept bool, skipDrop *bool) matchResult {
	if superAccept {
		*skipDrop = true
		return mHardYes
	}
	sender := r.Type == rules.MatchTagSender
	if sender == f.inbound { // the peer's tag
		v, ok := m.tag(c, r.TagID)
		if ok {
			return boolMatch(v == r.TagValue)
		}
		if !sender {
			*skipDrop = true
			return mHardYes
		}
		return mHardNo
	}
	local, ok := c.Tag(r.TagID)
	if !ok {
		return mHardNo
	}
	return boolMatch(local.Value == r.TagValue)
}
