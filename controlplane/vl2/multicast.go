package vl2

import (
	"encoding/binary"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// likeRecordsPerPacket keeps a MULTICAST_LIKE within one packet.
const likeRecordsPerPacket = (packet.MaxPacketLength - packet.IndexPayload - 64) / 18

// mayLike reports whether a peer's LIKEs and GATHERs on nw count: it
// passes the gate or our controller has just authorized it.
func (s *Switch) mayLike(now int64, nw *network, a identity.Address) bool {
	if s.gate(nw, a, nw.members[a]) {
		return true
	}
	return s.master != nil && netconf.Controller(nw.id) == s.address() && s.master.RecentlyAuthorized(now, nw.id, a)
}

func (s *Switch) onLike(now int64, in vl1.Inbound) {
	l, err := verbs.ParseMulticastLike(in.Payload)
	if err != nil {
		s.Counters.DroppedMalformed++
		return
	}
	from := in.From.Address
	for _, r := range l.Groups {
		nw := s.nets[uint64(r.NetworkID)]
		if nw == nil {
			nw = s.controlled(now, uint64(r.NetworkID), from)
		} else if nw.conf == nil || !s.mayLike(now, nw, from) {
			continue
		}
		if nw != nil {
			s.addLike(now, nw, r.Group, from)
			s.sendPending(now, nw, r.Group, from)
		}
	}
}

// controlled returns the record of a network our controller runs but we
// have not joined, when it has lately authorized member a: like the
// reference's, a controller node keeps its members' LIKEs and answers
// their GATHERs.
func (s *Switch) controlled(now int64, nwid uint64, a identity.Address) *network {
	if s.master == nil || netconf.Controller(nwid) != s.address() || !s.master.RecentlyAuthorized(now, nwid, a) {
		return nil
	}
	nw := s.ctlNets[nwid]
	if nw == nil {
		if len(s.ctlNets) >= maxControlledNetworks {
			return nil
		}
		nw, _ = s.newNetwork(nwid)
		s.ctlNets[nwid] = nw
	}
	return nw
}

func (s *Switch) addLike(now int64, nw *network, g Group, a identity.Address) {
	ms := nw.likes[g]
	if ms == nil {
		if len(nw.likes) >= membersPerNetworkMax {
			return
		}
		ms = map[identity.Address]int64{}
		nw.likes[g] = ms
	}
	if len(ms) < membersPerNetworkMax {
		ms[a] = now
	}
}

func (s *Switch) onGather(now int64, in vl1.Inbound) {
	g, err := verbs.ParseMulticastGather(in.Payload)
	if err != nil {
		s.Counters.DroppedMalformed++
		return
	}
	from := in.From.Address
	if g.Limit == 0 {
		return
	}
	nw := s.nets[uint64(g.NetworkID)]
	switch {
	case nw == nil:
		if nw = s.controlled(now, uint64(g.NetworkID), from); nw == nil {
			return
		}
	case nw.conf == nil:
		return
	default:
		if len(g.COM) > 0 {
			s.takeCOM(now, nw, from, g.COM)
		}
		if !s.mayLike(now, nw, from) {
			return
		}
	}
	res := s.gatherResults(nw, g.Group, from, int(g.Limit))
	if len(res.Members) == 0 {
		return
	}
	ok := verbs.OK{InReVerb: byte(packet.VerbMulticastGather), InRePacketID: verbs.PacketID(in.ID),
		Body: verbs.OKMulticastGather{NetworkID: g.NetworkID, Group: g.Group, Results: res}}
	s.vl1.Send(now, from, packet.VerbOK, ok.AppendMarshal(nil))
}

// gatherResults lists up to limit members of a group for asker: us
// first when subscribed, then others in random order.
func (s *Switch) gatherResults(nw *network, g Group, asker identity.Address, limit int) verbs.GatherResults {
	limit = min(limit, 0xffff, (packet.MaxPacketLength-packet.IndexPayload-64)/identity.AddressLength)
	var res verbs.GatherResults
	ms := nw.likes[g]
	res.TotalKnown = uint32(len(ms))
	if nw.subscribed(g) {
		res.TotalKnown++
		res.Members = append(res.Members, s.address())
	}
	others := make([]identity.Address, 0, len(ms))
	for a := range ms {
		if a != asker {
			others = append(others, a)
		}
	}
	s.shuffle(others)
	res.Members = append(res.Members, others...)
	if len(res.Members) > limit {
		res.Members = res.Members[:limit]
	}
	return res
}

func (s *Switch) onGatherResults(now int64, nwid uint64, g Group, members []identity.Address) {
	nw := s.nets[nwid]
	if nw == nil || nw.conf == nil {
		return
	}
	for _, a := range members {
		if a != s.address() {
			s.addLike(now, nw, g, a)
		}
	}
	s.sendPending(now, nw, g, members...)
}

// sendPending sends the queued multicasts to group g on to members that
// have not had them, until their limits. Like the reference's
// Multicaster, it runs for members learned from gather results and from
// LIKEs, so that a frame sent before anyone was known to listen (an ARP
// request right after the target joined) still reaches the first who
// announces the group.
func (s *Switch) sendPending(now int64, nw *network, g Group, members ...identity.Address) {
	if len(nw.pending[g]) == 0 {
		return
	}
	keep := nw.pending[g][:0]
	for _, pm := range nw.pending[g] {
		if now-pm.created >= pendingMulticastLife {
			continue
		}
		for _, a := range members {
			if len(pm.sentTo) >= pm.limit {
				break
			}
			if a != s.address() && !pm.sentTo[a] {
				pm.sentTo[a] = true
				if !s.filterOut(now, nw, true, a, pm.src, pm.dst, pm.etherType, pm.data) {
					continue
				}
				s.maybePush(now, nw, a)
				s.vl1.Send(now, a, packet.VerbMulticastFrame, pm.payload)
			}
		}
		if len(pm.sentTo) < pm.limit {
			keep = append(keep, pm)
		}
	}
	if len(keep) == 0 {
		delete(nw.pending, g)
	} else {
		nw.pending[g] = keep
	}
}

func (s *Switch) onMulticastFrame(now int64, in vl1.Inbound) {
	f, err := verbs.ParseMulticastFrame(in.Payload)
	if err != nil {
		s.Counters.DroppedMalformed++
		return
	}
	nw := s.admit(now, in, uint64(f.NetworkID), f.COM)
	if nw == nil {
		return
	}
	from := in.From.Address
	if nw.conf.MulticastLimit == 0 {
		s.Counters.DroppedMulticast++
		return
	}
	if len(f.Data) == 0 || len(f.Data) > maxFrameData || len(f.Data) > int(nw.conf.MTU) || !isMulticast(f.Group.MAC) {
		s.Counters.DroppedMalformed++
		return
	}
	src := netconf.MACOf(from, nw.id)
	if f.Flags&verbs.MulticastFlagSource != 0 {
		src = f.Source
	}
	if src == (MAC{}) || isMulticast(src) || src == nw.mac {
		s.Counters.DroppedMalformed++
		return
	}
	if src != netconf.MACOf(from, nw.id) {
		if !nw.conf.PermitsBridging(from) {
			s.Counters.DroppedBridging++
			return
		}
		s.learnBridge(nw, src, from)
	}
	if s.filterIn(now, nw, from, src, f.Group.MAC, f.EtherType, f.Data) != inDrop {
		s.Counters.MulticastIn++
		s.writeFrame(nw.id, f.Group.MAC, src, f.EtherType, f.Data)
	} else {
		s.Counters.DroppedFilter++
	}
	if f.Flags&verbs.MulticastFlagGatherLimit != 0 && f.GatherLimit > 0 {
		res := s.gatherResults(nw, f.Group, from, int(f.GatherLimit))
		if len(res.Members) > 0 {
			ok := verbs.OK{InReVerb: byte(packet.VerbMulticastFrame), InRePacketID: verbs.PacketID(in.ID),
				Body: verbs.OKMulticastFrame{NetworkID: f.NetworkID, Group: f.Group, Flags: verbs.OKMulticastFlagGather, Results: &res}}
			s.vl1.Send(now, from, packet.VerbOK, ok.AppendMarshal(nil))
		}
	}
}

// arpGroup returns the group of an outbound broadcast: the per-IP group
// of an ARP request (PROTOCOL.md part 2 §7.3), else plain broadcast.
func arpGroup(etherType uint16, data []byte) Group {
	if etherType == 0x0806 && len(data) >= 28 && data[2] == 0x08 && data[3] == 0x00 && data[4] == 6 && data[5] == 4 && data[7] == 1 {
		return Group{MAC: Broadcast, ADI: binary.BigEndian.Uint32(data[24:28])}
	}
	return Group{MAC: Broadcast}
}

// sendMulticast replicates a multicast or broadcast frame to the group's
// members (PROTOCOL.md part 2 §7.6).
func (s *Switch) sendMulticast(now int64, nw *network, dst, src MAC, etherType uint16, data []byte) bool {
	c := nw.conf
	if dst != Broadcast && s.emulateNDP(nw, src, etherType, data) {
		return true
	}
	// Checked after NDP emulation, which works without multicast.
	if c.MulticastLimit == 0 {
		s.Counters.DroppedMulticast++
		return false
	}
	g := Group{MAC: dst}
	if dst == Broadcast {
		g = arpGroup(etherType, data)
		if g.ADI == 0 && !c.Broadcast() {
			s.Counters.DroppedMulticast++
			return false
		}
	}
	// The rules see the frame once without a destination (TEE copies
	// leave then), and again for each recipient.
	if !s.filterOut(now, nw, false, 0, src, dst, etherType, data) {
		s.Counters.DroppedFilter++
		return false
	}
	self := s.address()
	limit := int(c.MulticastLimit)
	var targets []identity.Address
	for _, b := range c.ActiveBridges() {
		if b != self {
			targets = append(targets, b)
		}
	}
	known := make([]identity.Address, 0, len(nw.likes[g]))
	for a := range nw.likes[g] {
		if a != self {
			known = append(known, a)
		}
	}
	s.shuffle(known)
	seen := map[identity.Address]bool{}
	for _, a := range targets {
		seen[a] = true
	}
	for _, a := range known {
		if !seen[a] {
			seen[a] = true
			targets = append(targets, a)
		}
	}
	gatherLimit := 0
	if len(known) < limit {
		gatherLimit = limit - len(known) + 1
	}
	mf := verbs.MulticastFrame{NetworkID: verbs.NetworkID(nw.id), Group: g, EtherType: etherType, Data: data}
	if src != nw.mac {
		mf.Flags |= verbs.MulticastFlagSource
		mf.Source = src
	}
	if gatherLimit > 0 {
		mf.Flags |= verbs.MulticastFlagGatherLimit
		mf.GatherLimit = uint32(gatherLimit)
	}
	payload := mf.AppendMarshal(nil)
	if len(targets) > limit {
		targets = targets[:limit]
	}
	sentTo := map[identity.Address]bool{}
	for _, a := range targets {
		sentTo[a] = true
		if !s.filterOut(now, nw, true, a, src, dst, etherType, data) {
			continue
		}
		s.maybePush(now, nw, a)
		s.vl1.Send(now, a, packet.VerbMulticastFrame, payload)
	}
	if gatherLimit > 0 {
		if len(known) == 0 || now-nw.lastGather[g] >= gatherPeriod {
			nw.lastGather[g] = now
			s.gather(now, nw, g, gatherLimit)
		}
		q := nw.pending[g]
		if len(q) >= pendingMulticastMax {
			q = q[1:]
		}
		nw.pending[g] = append(q, &pendingMulticast{created: now, limit: limit, sentTo: sentTo, payload: payload,
			src: src, dst: dst, etherType: etherType, data: payload[len(payload)-len(data):]})
	}
	s.Counters.MulticastOut++
	return true
}

// gather asks the upstreams and the controller for a group's members.
func (s *Switch) gather(now int64, nw *network, g Group, limit int) {
	req := verbs.MulticastGather{NetworkID: verbs.NetworkID(nw.id), Group: g, Limit: uint32(limit)}
	if com := nw.comOf(); com != nil {
		req.Flags |= verbs.GatherFlagCOM
		req.COM = com.AppendMarshal(nil)
	}
	payload := req.AppendMarshal(nil)
	for _, a := range s.contacts(now, nw, gatherTargetsMax) {
		s.vl1.Send(now, a, packet.VerbMulticastGather, payload)
	}
}

// contacts lists the best root, the controller and the always-contact
// addresses (anchors, replicators) of nw: where LIKEs and GATHERs go.
func (s *Switch) contacts(now int64, nw *network, max int) []identity.Address {
	var out []identity.Address
	seen := map[identity.Address]bool{s.address(): true}
	add := func(a identity.Address) {
		if !seen[a] && len(out) < max {
			seen[a] = true
			out = append(out, a)
		}
	}
	if ups := s.vl1.Upstreams(now); len(ups) > 0 {
		add(ups[0])
	}
	add(netconf.Controller(nw.id))
	if nw.conf != nil {
		for _, a := range nw.conf.AlwaysContact() {
			add(a)
		}
	}
	return out
}

// announce LIKEs groups to the controller, the roots and the
// always-contact addresses, and (withMembers) to every member passing the
// gate.
func (s *Switch) announce(now int64, nw *network, groups []Group, withMembers bool) {
	if len(groups) == 0 {
		return
	}
	payloads := likePayloads(nw.id, groups)
	seen := map[identity.Address]bool{}
	targets := s.contacts(now, nw, 1<<10)
	targets = append(targets, s.vl1.Upstreams(now)...)
	for _, a := range targets {
		if a == s.address() || seen[a] {
			continue
		}
		seen[a] = true
		for _, p := range payloads {
			s.vl1.Send(now, a, packet.VerbMulticastLike, p)
		}
	}
	if !withMembers {
		return
	}
	for a, m := range nw.members {
		if !seen[a] && s.gate(nw, a, m) {
			s.likeTo(now, nw, a, m, groups)
		}
	}
}

func (s *Switch) likeTo(now int64, nw *network, a identity.Address, m *membership, groups []Group) {
	if len(groups) == 0 {
		return
	}
	m.lastAnnounce = now
	for _, p := range likePayloads(nw.id, groups) {
		s.vl1.Send(now, a, packet.VerbMulticastLike, p)
	}
}

func likePayloads(nwid uint64, groups []Group) [][]byte {
	var out [][]byte
	for len(groups) > 0 {
		n := min(len(groups), likeRecordsPerPacket)
		l := verbs.MulticastLike{}
		for _, g := range groups[:n] {
			l.Groups = append(l.Groups, verbs.NetworkGroup{NetworkID: verbs.NetworkID(nwid), Group: g})
		}
		out = append(out, l.AppendMarshal(nil))
		groups = groups[n:]
	}
	return out
}
