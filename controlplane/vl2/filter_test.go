package vl2_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/headers/verbs"
)

// tagMaster adds to the test master's configs a tag per member and
// capabilities for some, signed like a controller's.
type tagMaster struct {
	*master
	tag  map[identity.Address]uint32
	caps map[identity.Address][]cred.Capability
}

const deptTag = 1000

func (m *tagMaster) Request(now int64, nwid uint64, member *identity.Identity, meta netconf.Request, from netip.AddrPort) (*netconf.Config, verbs.ErrorCode, []byte, bool) {
	c, code, data, drop := m.master.Request(now, nwid, member, meta, from)
	if c == nil {
		return c, code, data, drop
	}
	t := cred.Tag{NetworkID: nwid, Timestamp: now, ID: deptTag, Value: m.tag[member.Address], IssuedTo: member.Address}
	if err := t.Sign(m.signer); err != nil {
		panic(err)
	}
	c.Tags = []cred.Tag{t}
	for _, cp := range m.caps[member.Address] {
		cp.NetworkID, cp.Timestamp, cp.MaxCustody = nwid, now, 1
		if err := cp.Sign(m.signer, member.Address); err != nil {
			panic(err)
		}
		c.Capabilities = append(c.Capabilities, cp)
	}
	return c, code, data, drop
}

func ipv4Frame(dst, src vl2.MAC, proto byte, payload []byte) []byte {
	h := make([]byte, 20, 20+len(payload))
	h[0], h[8], h[9] = 0x45, 64, proto
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(payload)))
	copy(h[12:], []byte{10, 0, 0, 1})
	copy(h[16:], []byte{10, 0, 0, 2})
	return ethernet(dst, src, 0x0800, append(h, payload...))
}

func received(frames [][]byte, f []byte) bool {
	for _, g := range frames {
		if bytes.Equal(g, f) {
			return true
		}
	}
	return false
}

// TestRulesOverTheWire: the network's rules decide which frames members
// send and take, with the tags and capabilities they push to each other
// (ztx used to ignore the rules). Rules: ICMP between members whose dept
// tags are equal; ARP and UDP always; nothing else, unless a capability
// says so.
func TestRulesOverTheWire(t *testing.T) {
	icmpAllowed := []rules.Rule{
		{Type: rules.MatchIPProtocol, IPProtocol: 1},
		{Type: rules.MatchTagsDifference, TagID: deptTag, TagValue: 0},
		{Type: rules.ActionAccept},
		{Type: rules.MatchEtherType, EtherType: 0x0806},
		{Type: rules.ActionAccept},
		{Type: rules.MatchIPProtocol, IPProtocol: 17},
		{Type: rules.ActionAccept},
	}
	pinger := cred.Capability{ID: 2000, Rules: []rules.Rule{{Type: rules.MatchIPProtocol, IPProtocol: 1}, {Type: rules.ActionAccept}}}
	for _, c := range []struct {
		name      string
		tagB      uint32
		capsA     []cred.Capability
		icmpToB   bool
		icmpFromB bool
	}{
		{"same dept", 1, nil, true, true},
		{"other dept", 2, nil, false, false},
		{"other dept, A may ping", 2, []cred.Capability{pinger}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bd := newBed(t)
			bd.master.rules = icmpAllowed
			tm := &tagMaster{master: bd.master,
				tag:  map[identity.Address]uint32{bd.a.id.Address: 1, bd.b.id.Address: c.tagB},
				caps: map[identity.Address][]cred.Capability{bd.a.id.Address: c.capsA}}
			bd.a.sw.SetMaster(tm)
			bd.joinBoth(t)
			macA, macB := netconf.MACOf(bd.a.id.Address, bd.nwid), netconf.MACOf(bd.b.id.Address, bd.nwid)

			// UDP passes both ways (and carries the credentials).
			udpAB, udpBA := ipv4Frame(macB, macA, 17, []byte("udp a->b")), ipv4Frame(macA, macB, 17, []byte("udp b->a"))
			bd.send(t, bd.a, udpAB)
			bd.send(t, bd.b, udpBA)
			if !received(bd.b.port.frames[bd.nwid], udpAB) || !received(bd.a.port.frames[bd.nwid], udpBA) {
				t.Fatal("UDP did not pass")
			}
			// TCP: no rule accepts it; not even sent.
			if bd.send(t, bd.a, ipv4Frame(macB, macA, 6, []byte("tcp"))) {
				t.Fatal("A sent a TCP frame the rules drop")
			}
			icmpAB, icmpBA := ipv4Frame(macB, macA, 1, []byte("ping a->b")), ipv4Frame(macA, macB, 1, []byte("ping b->a"))
			bd.send(t, bd.a, icmpAB)
			bd.send(t, bd.b, icmpBA)
			if got := received(bd.b.port.frames[bd.nwid], icmpAB); got != c.icmpToB {
				t.Errorf("B got A's ICMP: %v, want %v", got, c.icmpToB)
			}
			if got := received(bd.a.port.frames[bd.nwid], icmpBA); got != c.icmpFromB {
				t.Errorf("A got B's ICMP: %v, want %v", got, c.icmpFromB)
			}
			if c.icmpToB && c.icmpFromB {
				return
			}
			if bd.a.sw.Stats().DroppedFilter+bd.b.sw.Stats().DroppedFilter == 0 {
				t.Error("no frame counted as dropped by the rules")
			}
		})
	}
}
