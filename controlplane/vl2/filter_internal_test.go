package vl2

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

// Frames for the rules tests (Ethernet payloads).

func ipv4(proto byte, src, dst [4]byte, l4 []byte) []byte {
	h := make([]byte, 20, 20+len(l4))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(l4)))
	copy(h[12:], src[:])
	copy(h[16:], dst[:])
	return append(h, l4...)
}

func tcp(sport, dport uint16, flags byte) []byte {
	t := make([]byte, 20)
	binary.BigEndian.PutUint16(t, sport)
	binary.BigEndian.PutUint16(t[2:], dport)
	t[12], t[13] = 0x50, flags
	return t
}

// ipv6 builds an IPv6 packet; with hopByHop, an 8-byte hop-by-hop
// options header comes before the upper layer.
func ipv6(next byte, hopByHop bool, l4 []byte) []byte {
	h := make([]byte, 40)
	h[0], h[7] = 0x60, 64
	h[6] = next
	h[8], h[24] = 0xfd, 0xfd
	h[23], h[39] = 1, 2
	if hopByHop {
		h[6] = 0
		h = append(h, next, 0, 0, 0, 0, 0, 0, 0)
	}
	binary.BigEndian.PutUint16(h[4:], uint16(len(h)-40+len(l4)))
	return append(h, l4...)
}

func arpRequest() []byte {
	a := make([]byte, 28)
	copy(a, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(a[14:], []byte{10, 0, 0, 1})
	copy(a[24:], []byte{10, 0, 0, 2})
	return a
}

var (
	ip1 = [4]byte{10, 0, 0, 1}
	ip2 = [4]byte{10, 0, 0, 2}
)

// filterBed is a Switch with one network whose config the test sets.
type filterBed struct {
	s    *Switch
	nw   *network
	peer identity.Address
}

func newFilterBed(t *testing.T, rs []rules.Rule) *filterBed {
	t.Helper()
	id := testvec.Identity(t, "id2.secret")
	nwid := uint64(id.Address)<<24 | 1
	s := &Switch{self: id, nets: map[uint64]*network{}}
	nw, _ := s.newNetwork(nwid)
	nw.conf = &netconf.Config{NetworkID: nwid, Timestamp: 1_000_000, CredentialDelta: 60_000, IssuedTo: id.Address, Rules: rs}
	s.nets[nwid] = nw
	return &filterBed{s: s, nw: nw, peer: 0x1122334455}
}

// eval runs the base rules on a frame from us to the peer (inbound: from
// the peer to us).
func (b *filterBed) eval(inbound bool, etherType uint16, dst MAC, data []byte) filterResult {
	self := b.s.address()
	f := flow{inbound: inbound, src: self, dst: b.peer, macSrc: b.nw.mac, macDst: dst, etherType: etherType, data: data}
	if inbound {
		f.src, f.dst, f.macSrc = b.peer, self, netconf.MACOf(b.peer, b.nw.id)
	}
	return b.s.evalRules(b.nw, b.nw.member(b.peer), &f, b.nw.conf.Rules)
}

func (b *filterBed) peerMAC() MAC { return netconf.MACOf(b.peer, b.nw.id) }

func match(t rules.Type, set func(*rules.Rule)) rules.Rule {
	r := rules.Rule{Type: t}
	if set != nil {
		set(&r)
	}
	return r
}

func not(r rules.Rule) rules.Rule { r.Not = true; return r }
func or(r rules.Rule) rules.Rule  { r.Or = true; return r }

var (
	accept = rules.Rule{Type: rules.ActionAccept}
	drop   = rules.Rule{Type: rules.ActionDrop}
)

func proto(p byte) rules.Rule {
	return match(rules.MatchIPProtocol, func(r *rules.Rule) { r.IPProtocol = p })
}

// TestRulesHardNo: a match that does not apply to a frame (an IP match on
// ARP) fails even when negated, as in the reference: "accept not
// ipprotocol 1" does not accept ARP. ztx used to send and take every
// frame whatever the rules said.
func TestRulesHardNo(t *testing.T) {
	b := newFilterBed(t, []rules.Rule{not(proto(1)), accept})
	icmp := ipv4(1, ip1, ip2, []byte{8, 0, 0, 0, 0, 0, 0, 0})
	udp := ipv4(17, ip1, ip2, make([]byte, 8))
	for _, c := range []struct {
		name      string
		etherType uint16
		data      []byte
		want      filterResult
	}{
		{"ARP", etherTypeARP, arpRequest(), filterNoMatch},
		{"ICMP", etherTypeIPv4, icmp, filterNoMatch},
		{"UDP", etherTypeIPv4, udp, filterAccept},
		{"short IPv4", etherTypeIPv4, udp[:19], filterNoMatch},
	} {
		if got := b.eval(false, c.etherType, b.peerMAC(), c.data); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// Nothing matched and no capability: dropped both ways.
	if b.s.filterOut(0, b.nw, false, b.peer, b.nw.mac, b.peerMAC(), etherTypeARP, arpRequest()) {
		t.Error("ARP sent")
	}
	if got := b.s.filterIn(0, b.nw, b.peer, b.peerMAC(), b.nw.mac, etherTypeARP, arpRequest()); got != inDrop {
		t.Errorf("ARP taken: %d", got)
	}
	if !b.s.filterOut(0, b.nw, false, b.peer, b.nw.mac, b.peerMAC(), etherTypeIPv4, udp) {
		t.Error("UDP not sent")
	}
}

func TestRulesMatches(t *testing.T) {
	icmpEcho := ipv4(1, ip1, ip2, []byte{8, 0, 0, 0, 0, 0, 0, 0})
	syn := ipv4(6, ip1, ip2, tcp(40000, 22, 0x02))
	udp6 := ipv6(17, true, []byte{0x9c, 0x40, 0x00, 0x35, 0, 8, 0, 0}) // 40000 -> 53
	udp6zero := ipv6(17, false, []byte{0, 0, 0x00, 0x35, 0, 8, 0, 0})
	pfx := func(t rules.Type, p string) rules.Rule {
		pp := netip.MustParsePrefix(p)
		return match(t, func(r *rules.Rule) { r.IP, r.Bits = pp.Addr(), uint8(pp.Bits()) })
	}
	ports := func(t rules.Type, lo, hi uint16) rules.Rule {
		return match(t, func(r *rules.Rule) { r.Start, r.End = lo, hi })
	}
	icmpType := func(typ byte) rules.Rule {
		return match(rules.MatchICMP, func(r *rules.Rule) { r.ICMPType = typ })
	}
	chars := func(mask uint64) rules.Rule {
		return match(rules.MatchCharacteristics, func(r *rules.Rule) { r.Characteristics = mask })
	}
	intRange := func(idx uint16, format uint8, start, end uint64) rules.Rule {
		return match(rules.MatchIntegerRange, func(r *rules.Rule) {
			r.IntIndex, r.IntFormat, r.IntStart, r.IntEnd = idx, format, start, end
		})
	}
	for _, c := range []struct {
		name      string
		rules     []rules.Rule
		inbound   bool
		etherType uint16
		data      []byte
		want      filterResult
	}{
		{"ipv4 source in", []rules.Rule{pfx(rules.MatchIPv4Source, "10.0.0.0/24"), drop}, false, etherTypeIPv4, syn, filterDrop},
		{"ipv4 dest out", []rules.Rule{pfx(rules.MatchIPv4Dest, "10.0.1.0/24"), drop}, false, etherTypeIPv4, syn, filterNoMatch},
		{"ipv4 match on ipv6: hard no", []rules.Rule{not(pfx(rules.MatchIPv4Source, "10.0.1.0/24")), drop}, false, etherTypeIPv6, udp6, filterNoMatch},
		{"ipv6 protocol past hop-by-hop", []rules.Rule{proto(17), accept}, false, etherTypeIPv6, udp6, filterAccept},
		{"tcp dest port", []rules.Rule{ports(rules.MatchIPDestPortRange, 20, 23), accept}, false, etherTypeIPv4, syn, filterAccept},
		{"tcp source port miss", []rules.Rule{ports(rules.MatchIPSourcePortRange, 20, 23), accept}, false, etherTypeIPv4, syn, filterNoMatch},
		{"port on ICMP: plain no (NOT applies)", []rules.Rule{not(ports(rules.MatchIPDestPortRange, 0, 65535)), accept}, false, etherTypeIPv4, icmpEcho, filterAccept},
		{"ipv6 port 0 never matches", []rules.Rule{ports(rules.MatchIPSourcePortRange, 0, 65535), accept}, false, etherTypeIPv6, udp6zero, filterNoMatch},
		{"ipv6 udp port", []rules.Rule{ports(rules.MatchIPDestPortRange, 53, 53), accept}, false, etherTypeIPv6, udp6, filterAccept},
		{"icmp type only: hard yes", []rules.Rule{not(icmpType(8)), accept}, false, etherTypeIPv4, icmpEcho, filterAccept},
		{"icmp other type: hard no", []rules.Rule{not(icmpType(0)), accept}, false, etherTypeIPv4, icmpEcho, filterNoMatch},
		{"tcp SYN characteristic", []rules.Rule{chars(0x02), drop}, false, etherTypeIPv4, syn, filterDrop},
		{"inbound characteristic", []rules.Rule{chars(charInbound), drop, accept}, true, etherTypeIPv4, syn, filterDrop},
		{"outbound: no inbound bit", []rules.Rule{chars(charInbound), drop, accept}, false, etherTypeIPv4, syn, filterAccept},
		{"ethertype", []rules.Rule{match(rules.MatchEtherType, func(r *rules.Rule) { r.EtherType = etherTypeARP }), accept}, false, etherTypeARP, arpRequest(), filterAccept},
		{"frame size", []rules.Rule{match(rules.MatchFrameSizeRange, func(r *rules.Rule) { r.Start, r.End = 0, 39 }), drop, accept}, false, etherTypeIPv4, syn, filterAccept},
		// IPv4 TTL: byte 8; big endian 8 bits reads at index + 7.
		{"integer range, big endian", []rules.Rule{intRange(1, 7, 64, 64), accept}, false, etherTypeIPv4, syn, filterAccept},
		{"integer range, little endian", []rules.Rule{intRange(8, 0x80|7, 60, 70), accept}, false, etherTypeIPv4, syn, filterAccept},
		{"OR chain", []rules.Rule{proto(17), or(proto(6)), drop}, false, etherTypeIPv4, syn, filterDrop},
		{"break", []rules.Rule{{Type: rules.ActionBreak}, accept}, false, etherTypeIPv4, syn, filterNoMatch},
		{"unknown match", []rules.Rule{match(60, nil), accept}, false, etherTypeIPv4, syn, filterNoMatch},
	} {
		b := newFilterBed(t, c.rules)
		if got := b.eval(c.inbound, c.etherType, b.peerMAC(), c.data); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// The unknown match follows flag 0x08 of the config.
	b := newFilterBed(t, []rules.Rule{match(60, nil), accept})
	b.nw.conf.Flags |= netconf.FlagUnsupportedMatch
	if got := b.eval(false, etherTypeIPv4, b.peerMAC(), syn); got != filterAccept {
		t.Errorf("unknown match with flag 0x08: %d", got)
	}
}

// TestRulesTagsAndCapabilities: tag matches compare our tag with the
// peer's valid one (not strict outbound while the peer's is unknown);
// capabilities decide when the base rules do not.
func TestRulesTagsAndCapabilities(t *testing.T) {
	const dept = 1000
	tdiff := match(rules.MatchTagsDifference, func(r *rules.Rule) { r.TagID, r.TagValue = dept, 0 })
	rs := []rules.Rule{proto(1), tdiff, accept, not(proto(1)), accept}
	b := newFilterBed(t, rs)
	c := b.nw.conf
	c.Tags = []cred.Tag{{NetworkID: b.nw.id, Timestamp: c.Timestamp, ID: dept, Value: 1}}
	ping := ipv4(1, ip1, ip2, []byte{8, 0, 0, 0, 0, 0, 0, 0})
	out := func() bool { return b.s.filterOut(0, b.nw, false, b.peer, b.nw.mac, b.peerMAC(), etherTypeIPv4, ping) }
	in := func() int { return b.s.filterIn(0, b.nw, b.peer, b.peerMAC(), b.nw.mac, etherTypeIPv4, ping) }

	// Peer's tag unknown: outbound goes (the receiver decides), inbound not.
	if !out() || in() != inDrop {
		t.Fatalf("unknown peer tag: out %v in %d, want true 0", out(), in())
	}
	m := b.nw.member(b.peer)
	m.tags = map[uint32]cred.Tag{dept: {NetworkID: b.nw.id, Timestamp: c.Timestamp, ID: dept, Value: 2}}
	if out() || in() != inDrop {
		t.Fatal("different tags passed")
	}
	m.tags[dept] = cred.Tag{NetworkID: b.nw.id, Timestamp: c.Timestamp, ID: dept, Value: 1}
	if !out() || in() != inAccept {
		t.Fatal("equal tags did not pass")
	}
	// A tag too far from our config's timestamp does not count.
	m.tags[dept] = cred.Tag{NetworkID: b.nw.id, Timestamp: c.Timestamp - 2*c.CredentialDelta, ID: dept, Value: 1}
	if in() != inDrop {
		t.Fatal("a stale tag counted")
	}
	// Revoked: neither.
	m.tags[dept] = cred.Tag{NetworkID: b.nw.id, Timestamp: c.Timestamp, ID: dept, Value: 1}
	m.revokedComIDs = map[uint32]int64{credKey(cred.CredentialTag, dept): c.Timestamp}
	if in() != inDrop {
		t.Fatal("a revoked tag counted")
	}
	m.revokedComIDs = nil

	// Different tags; capabilities: ours let ours out, the peer's let its in.
	m.tags[dept] = cred.Tag{NetworkID: b.nw.id, Timestamp: c.Timestamp, ID: dept, Value: 2}
	pinger := cred.Capability{NetworkID: b.nw.id, Timestamp: c.Timestamp, ID: 2000, Rules: []rules.Rule{proto(1), accept}}
	c.Capabilities = []cred.Capability{pinger}
	if !out() {
		t.Fatal("our capability did not let the ping out")
	}
	if in() != inDrop {
		t.Fatal("the ping came in without the sender's capability")
	}
	m.caps = map[uint32]cred.Capability{pinger.ID: pinger}
	if in() != inAccept {
		t.Fatal("the sender's capability did not let the ping in")
	}
	// A DROP inside a capability only ends that capability.
	c.Capabilities = []cred.Capability{{ID: 1, Timestamp: c.Timestamp, Rules: []rules.Rule{drop}}, pinger}
	if !out() {
		t.Fatal("a DROP in the first capability stopped the second")
	}
}

// recorder is a VL1 that records what the Switch sends.
type recorder struct {
	self identity.Address
	sent []sentPacket
}

type sentPacket struct {
	to      identity.Address
	verb    packet.Verb
	payload []byte
}

func (r *recorder) Address() identity.Address { return r.self }
func (r *recorder) Send(now int64, dest identity.Address, verb packet.Verb, payload []byte) bool {
	r.sent = append(r.sent, sentPacket{dest, verb, append([]byte(nil), payload...)})
	return true
}
func (r *recorder) SendParts(now int64, dest identity.Address, verb packet.Verb, head, body []byte) bool {
	return r.Send(now, dest, verb, append(append([]byte(nil), head...), body...))
}
func (r *recorder) Identity(now int64, a identity.Address) *identity.Identity { return nil }
func (r *recorder) Upstreams(now int64) []identity.Address                    { return nil }
func (r *recorder) Trust(now int64, peer identity.Address, sock vl1.Socket, from netip.AddrPort) {
}

// ext returns the EXT_FRAMEs sent to a.
func (r *recorder) ext(a identity.Address) []verbs.ExtFrame {
	var out []verbs.ExtFrame
	for _, p := range r.sent {
		if p.to == a && p.verb == packet.VerbExtFrame {
			f, err := verbs.ParseExtFrame(p.payload)
			if err != nil {
				panic(err)
			}
			out = append(out, f)
		}
	}
	return out
}

// TestRulesTeeAndRedirect: TEE sends a copy as EXT_FRAME and the frame
// goes on; REDIRECT sends the frame to the target instead; a node named
// by a TEE/REDIRECT super-accepts what comes in.
func TestRulesTeeAndRedirect(t *testing.T) {
	const watcher, other = identity.Address(0x0a0b0c0d0e), identity.Address(0x0102030405)
	tee := rules.Rule{Type: rules.ActionTee, Address: watcher, Length: 10}
	b := newFilterBed(t, []rules.Rule{tee, accept})
	v := &recorder{self: b.s.address()}
	b.s.vl1 = v
	syn := ipv4(6, ip1, ip2, tcp(1, 2, 0x02))
	if !b.s.filterOut(0, b.nw, false, b.peer, b.nw.mac, b.peerMAC(), etherTypeIPv4, syn) {
		t.Fatal("TEE stopped the frame")
	}
	ext := v.ext(watcher)
	if len(ext) != 1 || ext[0].Flags != extTeeOut || len(ext[0].Data) != 10 || ext[0].Source != b.nw.mac {
		t.Fatalf("TEE copies: %+v", ext)
	}
	// The per-recipient pass of a multicast makes no copies.
	b.s.filterOut(0, b.nw, true, b.peer, b.nw.mac, b.peerMAC(), etherTypeIPv4, syn)
	if len(v.ext(watcher)) != 1 {
		t.Fatal("noTee pass made a copy")
	}
	// WATCH asks for an acknowledgement.
	b.nw.conf.Rules = []rules.Rule{{Type: rules.ActionWatch, Address: watcher}, accept}
	b.s.filterIn(0, b.nw, b.peer, b.peerMAC(), b.nw.mac, etherTypeIPv4, syn)
	if ext := v.ext(watcher); len(ext) != 2 || ext[1].Flags != extWatchIn || len(ext[1].Data) != len(syn) {
		t.Fatalf("WATCH copies: %+v", ext)
	}

	b.nw.conf.Rules = []rules.Rule{{Type: rules.ActionRedirect, Address: other}}
	if b.s.filterOut(0, b.nw, false, b.peer, b.nw.mac, b.peerMAC(), etherTypeIPv4, syn) {
		t.Fatal("a redirected frame went to its destination too")
	}
	if ext := v.ext(other); len(ext) != 1 || ext[0].Flags != extRedirectOut || len(ext[0].Data) != len(syn) {
		t.Fatalf("redirected: %+v", ext)
	}
	// We are the target: frames sent to us super-accept, even without a
	// matching ACCEPT of our own.
	b.nw.conf.Rules = []rules.Rule{proto(17), {Type: rules.ActionRedirect, Address: b.s.address()}, accept}
	if got := b.s.filterIn(0, b.nw, b.peer, b.peerMAC(), b.nw.mac, etherTypeIPv4, syn); got != inSuperAccept {
		t.Fatalf("redirect target: %d, want super-accept", got)
	}
}

// FuzzRules: any rule list on any frame, both ways, with and without
// the peer's tags and COOs, decides without panicking.
func FuzzRules(f *testing.F) {
	seed := rules.AppendList(nil, []rules.Rule{proto(6), match(rules.MatchCharacteristics, func(r *rules.Rule) { r.Characteristics = 0x02 }), drop,
		match(rules.MatchIntegerRange, func(r *rules.Rule) { r.IntIndex, r.IntFormat, r.IntEnd = 60, 63, 9 }), accept})
	f.Add(seed, ipv4(6, ip1, ip2, tcp(1, 2, 2)), uint16(etherTypeIPv4))
	f.Add(seed, ipv6(6, true, tcp(1, 2, 2)), uint16(etherTypeIPv6))
	f.Add(seed, arpRequest(), uint16(etherTypeARP))
	f.Fuzz(func(t *testing.T, rb, frame []byte, etherType uint16) {
		rs, _, err := rules.ParseList(rb, rules.MaxNetworkRules)
		if err != nil {
			return
		}
		b := newFilterBed(t, rs)
		b.s.vl1 = &recorder{self: b.s.address()}
		b.s.rand = zeroReader{}
		c := b.nw.conf
		c.Flags |= netconf.FlagNDPEmulation
		c.StaticIPs = []netip.Prefix{netconf.SixPlane(b.nw.id, c.IssuedTo), netconf.RFC4193(b.nw.id, c.IssuedTo)}
		c.Tags = []cred.Tag{{ID: 1, Value: 3, Timestamp: c.Timestamp}}
		c.Capabilities = []cred.Capability{{ID: 9, Timestamp: c.Timestamp, Rules: rs}}
		c.COOs = []cred.COO{{ID: 1, Timestamp: c.Timestamp, Things: []cred.Thing{cred.ThingFromAddr(netip.AddrFrom4(ip1))}}}
		for _, withCreds := range []bool{false, true} {
			if withCreds {
				m := b.nw.member(b.peer)
				m.tags = map[uint32]cred.Tag{1: {ID: 1, Value: 5, Timestamp: c.Timestamp}}
				m.caps = map[uint32]cred.Capability{9: c.Capabilities[0]}
				m.coos = c.COOs
			}
			for _, dst := range []MAC{b.peerMAC(), Broadcast, {0x33, 0x33, 0, 0, 0, 1}} {
				b.s.filterOut(0, b.nw, false, b.peer, b.nw.mac, dst, etherType, frame)
				b.s.filterOut(0, b.nw, true, 0, b.nw.mac, dst, etherType, frame)
				b.s.filterIn(0, b.nw, b.peer, b.peerMAC(), dst, etherType, frame)
			}
		}
	})
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestCredentialReplacement: a peer's tag (capability, COO) is replaced
// only by one at least as new and not revoked, as the reference's
// Membership: a late, older tag does not bring back an old value.
func TestCredentialReplacement(t *testing.T) {
	var m membership
	if !m.takes(cred.CredentialTag, 7, 100, 0, false) {
		t.Fatal("a first tag was refused")
	}
	if m.takes(cred.CredentialTag, 7, 90, 100, true) {
		t.Fatal("an older tag replaced a newer one")
	}
	if !m.takes(cred.CredentialTag, 7, 100, 100, true) || !m.takes(cred.CredentialTag, 7, 110, 100, true) {
		t.Fatal("an equal or newer tag was refused")
	}
	m.revokedComIDs = map[uint32]int64{credKey(cred.CredentialTag, 7): 120}
	if m.takes(cred.CredentialTag, 7, 120, 100, true) {
		t.Fatal("a revoked tag was taken")
	}
	if !m.takes(cred.CredentialTag, 7, 121, 100, true) || !m.takes(cred.CredentialCapability, 7, 110, 0, false) {
		t.Fatal("a tag past the revocation, or another type's credential, was refused")
	}
}
