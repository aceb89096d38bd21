package vl1

import (
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// compressVerbs are the verbs the reference compresses.
func compressVerb(v packet.Verb) bool {
	switch v {
	case packet.VerbPushDirectPaths, packet.VerbUserMessage, packet.VerbNetworkConfig,
		packet.VerbNetworkCredentials, packet.VerbNetworkConfigRequest, packet.VerbMulticastLike,
		packet.VerbMulticastGather, packet.VerbMulticastFrame, packet.VerbRemoteTrace:
		return true
	}
	return false
}

// sendTo sends to an address, asking for its identity first when needed.
func (n *Node) sendTo(now int64, dest identity.Address, verb packet.Verb, payload []byte) bool {
	if p, ok := n.peers[dest]; ok {
		return n.send(now, p, verb, payload)
	}
	if p := n.fromCache(now, dest); p != nil {
		return n.send(now, p, verb, payload)
	}
	n.queueTx(now, dest, verb, payload)
	n.requestWhois(now, dest)
	return false
}

// send builds a packet for p and sends it over p's best path, or through
// an upstream, or queues it until a path exists.
func (n *Node) send(now int64, p *peer, verb packet.Verb, payload []byte) bool {
	return n.sendParts(now, p, verb, payload, nil)
}

// sendParts sends a packet whose payload is head followed by body.
func (n *Node) sendParts(now int64, p *peer, verb packet.Verb, head, body []byte) bool {
	// Built in a scratch buffer: the host copies what it sends, and what
	// waits in the queue is the payload, copied.
	size := len(head) + len(body)
	if cap(n.txbuf) < packet.IndexPayload+size {
		n.txbuf = make([]byte, 0, max(packet.IndexPayload+size, packet.MaxPacketLength))
	}
	pkt := packet.Packet(packet.AppendHeader(n.txbuf[:0], n.packetID(), p.id.Address, n.self.Address, verb)).AppendPayload(head...).AppendPayload(body...)
	if compressVerb(verb) || verb == packet.VerbOK && size > 256 {
		pkt = packet.Compress(pkt)
	}
	if via := p.best(now); via != nil {
		// The reference keeps using a direct path until it expires
		// (243 s), blackholing traffic when the route dies. Here a direct
		// path not heard from within the alive window is probed, and the
		// packet goes through a relay until the path answers.
		if via.alive(now) || n.topo.isUpstream(p.id.Address) {
			return n.transmit(now, p, pkt, via, true, true)
		}
		if _, r := n.relay(now, p.id.Address); r != nil {
			n.probe(now, p, via)
			return n.transmit(now, p, pkt, r, true, false)
		}
		return n.transmit(now, p, pkt, via, true, true)
	}
	n.tryMemorized(now, p)
	if _, via := n.relay(now, p.id.Address); via != nil {
		return n.transmit(now, p, pkt, via, true, false)
	}
	if via := p.anyPath(); via != nil {
		return n.transmit(now, p, pkt, via, true, true)
	}
	n.queueTx(now, p.id.Address, verb, append(append([]byte(nil), head...), body...))
	return false
}

// transmit armors pkt for p and sends it on via (a path of p when direct,
// of a relay otherwise), fragmenting as the path's MTU needs.
func (n *Node) transmit(now int64, p *peer, pkt packet.Packet, via *path, expectReply, direct bool) bool {
	ip := via.addr.Addr()
	trusted := uint64(0)
	if direct && n.phys.TrustedPathID != nil {
		trusted = n.phys.TrustedPathID(ip)
	}
	mtu := n.mtu(ip)
	pkt.SetFragmented(len(pkt) > mtu)
	n.countTx(pkt)
	if trusted != 0 {
		if err := packet.ArmorTrustedPath(pkt, trusted); err != nil {
			return false
		}
		expectReply = false
	} else if err := p.key.Armor(pkt, p.suite()); err != nil {
		return false
	}
	if expectReply {
		n.replies.expect(pkt.ID())
	}
	return n.emit(now, p, via, pkt, mtu)
}

// emit sends an armored packet on a path, in fragments when needed.
func (n *Node) emit(now int64, p *peer, via *path, pkt packet.Packet, mtu int) bool {
	ok := true
	if len(pkt) <= mtu {
		ok = n.host.Send(via.sock, via.addr, pkt, 0)
	} else {
		if n.fragbuf == nil {
			n.fragbuf = make([]byte, 0, packet.MaxPacketLength+packet.MaxPacketFragments*packet.MinFragmentLength)
		}
		pieces, err := packet.FragmentEven(pkt, mtu, n.pieces[:0], n.fragbuf[:0])
		if err != nil {
			return false
		}
		for _, piece := range pieces {
			ok = n.host.Send(via.sock, via.addr, piece, 0) && ok
		}
		clear(pieces)
		n.pieces = pieces[:0]
	}
	via.lastSend = now
	if p != nil {
		p.lastSend = now
	}
	n.Counters.Sent++
	return ok
}

// sendDirect sends an encrypted packet straight to an address (contact
// attempts), not through the path table.
func (n *Node) sendDirect(now int64, p *peer, sock Socket, to netip.AddrPort, verb packet.Verb, payload []byte) {
	pkt := packet.New(p.id.Address, n.self.Address, verb).AppendPayload(payload...)
	n.countTx(pkt)
	if err := p.key.Armor(pkt, p.suite()); err != nil {
		return
	}
	n.replies.expect(pkt.ID())
	pp := p.findPath(sock, to)
	if pp == nil {
		pp = &path{sock: sock, addr: to, latency: -1}
	}
	n.emit(now, p, pp, pkt, n.mtu(to.Addr()))
}

// sendHello sends a HELLO to p at an address, or over p's best path, or
// through an upstream when to is the zero AddrPort and p has no path.
func (n *Node) sendHello(now int64, p *peer, sock Socket, to netip.AddrPort) {
	via, direct := (*path)(nil), true
	if to.IsValid() {
		if via = p.findPath(sock, to); via == nil {
			via = &path{sock: sock, addr: to, latency: -1}
		}
	} else if via = p.best(now); via == nil {
		if _, via = n.relay(now, p.id.Address); via == nil {
			return
		}
		direct = false
	}
	h := verbs.Hello{
		Protocol: ProtocolVersion, Major: VersionMajor, Minor: VersionMinor, Revision: VersionRevision,
		Timestamp: uint64(now), Identity: n.self.PublicOnly(),
		HasDestination: true, // the address we send to, or "unknown" when relayed
		HasPlanet:      true, PlanetID: verbs.WorldID(n.topo.planet.ID), PlanetTimestamp: n.topo.planet.Timestamp,
		HasMoons: true,
	}
	if direct {
		h.Destination = via.addr
	}
	for _, m := range n.topo.moons {
		h.Moons = append(h.Moons, verbs.MoonRef{Type: verbs.MoonTypeMoon, ID: verbs.WorldID(m.ID), Timestamp: m.Timestamp})
	}
	for id := range n.topo.seeds {
		h.Moons = append(h.Moons, verbs.MoonRef{Type: verbs.MoonTypeMoon, ID: verbs.WorldID(id)})
	}
	pkt := packet.New(p.id.Address, n.self.Address, packet.VerbHello).AppendPayload(h.AppendMarshal(nil)...)
	if err := p.key.CryptField(pkt, packet.IndexPayload+h.CryptOffset(), len(pkt)); err != nil {
		return
	}
	mtu := n.mtu(via.addr.Addr())
	pkt.SetFragmented(len(pkt) > mtu)
	n.countTx(pkt)
	if err := p.key.Armor(pkt, packet.SuitePoly1305None); err != nil {
		return
	}
	n.replies.expect(pkt.ID())
	p.lastFullHello = now
	n.emit(now, p, via, pkt, mtu)
}

// probe checks a quiet direct path with a contact attempt, at most once
// per pathConfirmInterval.
func (n *Node) probe(now int64, p *peer, pp *path) {
	if now-pp.lastConfirm < pathConfirmInterval {
		return
	}
	pp.lastConfirm = now
	n.contact(now, p, pp.sock, pp.addr, false)
}

// contact is the reference's "attempt to contact": an ECHO when the peer's
// version is known to support it, a HELLO otherwise or when full.
func (n *Node) contact(now int64, p *peer, sock Socket, to netip.AddrPort, full bool) {
	if !full && p.proto >= 5 && !(p.major == 1 && p.minor == 1 && p.rev == 0) {
		n.sendDirect(now, p, sock, to, packet.VerbEcho, nil)
		return
	}
	n.sendHello(now, p, sock, to)
}

// relay picks the best upstream (other than exclude) with a path.
func (n *Node) relay(now int64, exclude identity.Address) (*peer, *path) {
	var best *peer
	var bestPath *path
	var bq int64
	for _, a := range n.topo.order {
		if a == exclude {
			continue
		}
		p := n.peers[a]
		if p == nil {
			continue
		}
		via := p.best(now)
		if via == nil {
			via = p.anyPath()
		}
		if via == nil {
			continue
		}
		lat := via.latency
		if lat <= 0 {
			lat = 65535
		}
		silent := now - p.lastReceive
		q := lat * (silent/61000 + 1)
		if silent >= peerActivityTimeout {
			q = 1 << 62
		}
		if best == nil || q < bq {
			best, bestPath, bq = p, via, q
		}
	}
	return best, bestPath
}

// requestWhois asks the best upstream for an identity, at most every
// ZT_WHOIS_RETRY_DELAY per address.
func (n *Node) requestWhois(now int64, a identity.Address) {
	if a == n.self.Address || a.IsReserved() {
		return
	}
	w, ok := n.whois[a]
	if !ok {
		w = &whoisState{lastSent: now - whoisRetryDelay}
		n.whois[a] = w
	}
	if now-w.lastSent < whoisRetryDelay {
		return
	}
	// The best upstream, even when a is that upstream itself.
	up, _ := n.relay(now, 0)
	if up == nil {
		return
	}
	w.lastSent = now
	w.retries++
	n.send(now, up, packet.VerbWhois, a.AppendTo(nil))
}

func (n *Node) queueTx(now int64, dest identity.Address, verb packet.Verb, payload []byte) {
	if len(n.txq) >= queueSize {
		n.txq = n.txq[1:]
		n.Counters.DroppedQueueFull++
	}
	n.txq = append(n.txq, queuedTx{dest: dest, verb: verb, payload: append([]byte(nil), payload...), at: now})
}

// flushTx sends queued packets for dest now that it may be reachable.
func (n *Node) flushTx(now int64, dest identity.Address) {
	p := n.peers[dest]
	if p == nil {
		return
	}
	var keep []queuedTx
	var ready []queuedTx
	for _, q := range n.txq {
		if q.dest == dest {
			ready = append(ready, q)
		} else {
			keep = append(keep, q)
		}
	}
	n.txq = keep
	for _, q := range ready {
		n.send(now, p, q.verb, q.payload)
	}
}

// surfaceAddresses lists the distinct external addresses peers report.
func (n *Node) surfaceAddresses() []netip.AddrPort {
	seen := map[netip.AddrPort]bool{}
	var out []netip.AddrPort
	for _, e := range n.surface {
		if !seen[e.addr] {
			seen[e.addr] = true
			out = append(out, e.addr)
		}
	}
	return out
}

// countTx counts a packet about to be armored by its (still clear) verb.
func (n *Node) countTx(pkt packet.Packet) { n.Counters.TxVerbs[pkt.Verb()&packet.VerbMask]++ }

// tryMemorized sends a full HELLO to a configured address of a peer that
// has no direct path, at most every 30 s (§9.3).
func (n *Node) tryMemorized(now int64, p *peer) {
	if n.phys.TryAddresses == nil || now-p.lastMemorizedTry < tryMemorizedPathInterval {
		return
	}
	eps := n.phys.TryAddresses(p.id.Address)
	if len(eps) == 0 {
		return
	}
	p.lastMemorizedTry = now
	ep := eps[int(n.random64()%uint64(len(eps)))]
	if n.usable(p.id.Address, ep.Addr()) {
		n.sendHello(now, p, 0, ep)
	}
}
