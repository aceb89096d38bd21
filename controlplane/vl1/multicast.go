package vl1

import (
	"math/rand/v2"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// Multicast subscriptions a root keeps for others (PROTOCOL.md part 2
// §7.4-7.5): members announce the groups they listen to with
// MULTICAST_LIKE, and anyone may ask a root who listens to a group with
// MULTICAST_GATHER. As in the reference, a root records and answers for
// any network; the member side (networks joined by this node) comes with
// VL2.

const (
	multicastLikeExpire = 600000  // ms a LIKE lasts
	maxSubscriptions    = 1 << 20 // subscriptions kept in all, at most
)

type groupKey struct {
	nwid  uint64
	group verbs.MulticastGroup
}

// subscriptions: group -> member -> time of its last LIKE.
type subscriptions struct {
	groups map[groupKey]map[identity.Address]int64
	count  int
}

func (s *subscriptions) add(now int64, k groupKey, member identity.Address) {
	if s.groups == nil {
		s.groups = map[groupKey]map[identity.Address]int64{}
	}
	m := s.groups[k]
	if m == nil {
		m = map[identity.Address]int64{}
		s.groups[k] = m
	}
	if _, had := m[member]; !had {
		if s.count >= maxSubscriptions {
			return
		}
		s.count++
	}
	m[member] = now
}

// expire forgets LIKEs older than multicastLikeExpire.
func (s *subscriptions) expire(now int64) {
	for k, m := range s.groups {
		for a, t := range m {
			if now-t >= multicastLikeExpire {
				delete(m, a)
				s.count--
			}
		}
		if len(m) == 0 {
			delete(s.groups, k)
		}
	}
}

func (n *Node) onMulticastLike(now int64, p *peer, payload []byte) {
	if !n.topo.amRoot {
		return
	}
	l, err := verbs.ParseMulticastLike(payload)
	if err != nil {
		return
	}
	for _, g := range l.Groups {
		n.subs.add(now, groupKey{uint64(g.NetworkID), g.Group}, p.id.Address)
	}
}

// onMulticastGather answers with up to Limit members of the group (in
// random order, never the asker), and does not answer when it knows none.
func (n *Node) onMulticastGather(now int64, p *peer, sock Socket, from netip.AddrPort, id uint64, payload []byte) {
	if !n.topo.amRoot {
		return
	}
	g, err := verbs.ParseMulticastGather(payload)
	if err != nil || g.Limit == 0 {
		return
	}
	limit := int(min(g.Limit, 0xffff))
	members := n.subs.groups[groupKey{uint64(g.NetworkID), g.Group}]
	res := verbs.GatherResults{TotalKnown: uint32(len(members))}
	for a := range members { // map order is random; shuffle anyway below
		if a != p.id.Address {
			res.Members = append(res.Members, a)
		}
	}
	rand.Shuffle(len(res.Members), func(i, j int) { res.Members[i], res.Members[j] = res.Members[j], res.Members[i] })
	// Keep the answer within one packet.
	maxFit := (packet.MaxPacketLength - packet.IndexPayload - 64) / identity.AddressLength
	res.Members = res.Members[:min(len(res.Members), limit, maxFit)]
	if len(res.Members) == 0 {
		return
	}
	ok := verbs.OK{InReVerb: byte(packet.VerbMulticastGather), InRePacketID: verbs.PacketID(id),
		Body: verbs.OKMulticastGather{NetworkID: g.NetworkID, Group: g.Group, Results: res}}
	n.replyOn(now, p, sock, from, packet.VerbOK, ok.AppendMarshal(nil))
}
