package vl1

import (
	"math/rand/v2"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// onRendezvous: an upstream tells us where another peer can be reached
// (§6.6). We open our NAT towards it at once with a datagram whose TTL
// lets it leave our NAT but die before the far one, then contact the peer
// a little later, and again if no path forms.
//
// Unlike the reference, which contacts at once and only when it already
// knows the peer: a full-TTL packet that reaches the far NAT before that
// NAT has been opened from inside becomes a connection of its own there,
// and Linux masquerade then moves the far side's port, so the punch fails
// (observed in namespaces with two Linux NAT routers). The opening
// datagram goes out even while the peer's identity is still being asked
// for, and the contact waits punchDelay.
func (n *Node) onRendezvous(now int64, p *peer, sock Socket, payload []byte) {
	if !n.topo.isUpstream(p.id.Address) {
		return
	}
	r, err := verbs.ParseRendezvous(payload)
	if err != nil || !r.Endpoint.IsValid() || r.Endpoint.Port() == 0 {
		return
	}
	if !n.usable(r.Peer, r.Endpoint.Addr()) {
		return
	}
	n.openNAT(sock, r.Endpoint)
	if n.peers[r.Peer] == nil {
		n.requestWhois(now, r.Peer)
	}
	if len(n.punches) >= 256 {
		n.punches = n.punches[1:]
	}
	for _, d := range punchSchedule {
		n.punches = append(n.punches, punch{peer: r.Peer, sock: sock, at: r.Endpoint, due: now + d, first: now})
	}
}

// punchSchedule: when contacts follow a RENDEZVOUS (ms after it).
var punchSchedule = []int64{punchDelay, 1000, 3000}

const punchDelay = 250

// punch is a scheduled contact attempt after a RENDEZVOUS.
type punch struct {
	peer  identity.Address
	sock  Socket
	at    netip.AddrPort
	due   int64
	first int64
}

// openNAT sends 4 random bytes with TTL 2: enough to leave our NAT.
func (n *Node) openNAT(sock Socket, at netip.AddrPort) {
	junk := make([]byte, 4)
	for i := range junk {
		junk[i] = byte(n.random64())
	}
	n.host.Send(sock, at, junk, 2)
}

// runPunches makes the contact attempts that are due; an attempt whose
// peer already has a live path to that address is dropped.
func (n *Node) runPunches(now int64) {
	keep := n.punches[:0]
	for _, pu := range n.punches {
		if pu.due > now {
			keep = append(keep, pu)
			continue
		}
		p := n.peers[pu.peer]
		if p == nil {
			if now-pu.first < transmitQueueTimeout {
				pu.due = now + whoisRetryDelay
				keep = append(keep, pu)
			}
			continue
		}
		if pp := p.findPath(pu.sock, pu.at); pp != nil && pp.alive(now) {
			continue
		}
		n.contact(now, p, pu.sock, pu.at, false)
	}
	n.punches = keep
}

// onEcho answers an ECHO with a copy of its payload, at most every 166 ms
// per path.
func (n *Node) onEcho(now int64, p *peer, sock Socket, from netip.AddrPort, pkt packet.Packet) {
	k := confirmKey{p.id.Address, sock, from}
	if n.echoed == nil || len(n.echoed) > 4096 {
		n.echoed = map[confirmKey]int64{}
	}
	if last, ok := n.echoed[k]; ok && now-last < echoRateLimit {
		n.Counters.DroppedRateLimited++
		return
	}
	n.echoed[k] = now
	ok := verbs.OK{InReVerb: byte(packet.VerbEcho), InRePacketID: verbs.PacketID(pkt.ID()), Body: verbs.OKEcho{Data: pkt.Payload()}}
	n.replyOn(now, p, sock, from, packet.VerbOK, ok.AppendMarshal(nil))
}

// onPushDirectPaths tries the addresses a peer says it can be reached at.
func (n *Node) onPushDirectPaths(now int64, p *peer, payload []byte) {
	if now-p.lastPushReceived <= pushDirectPathsCutoff {
		p.pushCount++
	} else {
		p.pushCount = 0
	}
	p.lastPushReceived = now
	if p.pushCount >= pushDirectPathsLimit {
		n.Counters.DroppedRateLimited++
		return
	}
	pd, err := verbs.ParsePushDirectPaths(payload)
	if err != nil {
		return
	}
	tries := map[[2]int]int{}
	for _, r := range pd.Paths {
		ep := r.Endpoint
		if r.Flags&verbs.PathFlagForget != 0 || !ep.IsValid() || r.Raw != nil {
			continue
		}
		if pp := p.findPath(0, ep); pp != nil && !pp.expired(now) {
			continue
		}
		if !n.usable(p.id.Address, ep.Addr()) {
			continue
		}
		fam := 4
		if ep.Addr().Is6() {
			fam = 6
		}
		k := [2]int{scopeOf(ep.Addr()), fam}
		if tries[k] >= pushPerScopeAndFamily {
			continue
		}
		tries[k]++
		n.contact(now, p, 0, ep, false)
	}
}

// pushDirectPaths advertises our addresses to p (§9.5).
func (n *Node) pushDirectPaths(now int64, p *peer, sock Socket, to netip.AddrPort) {
	var eps []netip.AddrPort
	if n.phys.DirectPaths != nil {
		eps = append(eps, n.phys.DirectPaths()...)
	}
	eps = append(eps, n.surfaceAddresses()...)
	if len(eps) == 0 {
		return
	}
	p.lastPushSent = now
	var rec []verbs.PathRecord
	flush := func() {
		if len(rec) == 0 {
			return
		}
		msg := verbs.PushDirectPaths{Paths: rec}
		n.replyOn(now, p, sock, to, packet.VerbPushDirectPaths, msg.AppendMarshal(nil))
		rec = nil
	}
	size := 2
	for _, ep := range eps {
		t := byte(verbs.PathAddrIPv4)
		if ep.Addr().Unmap().Is6() {
			t = verbs.PathAddrIPv6
		}
		rec = append(rec, verbs.PathRecord{AddrType: t, Endpoint: netip.AddrPortFrom(ep.Addr().Unmap(), ep.Port())})
		if size += 24; size+24 >= pushDirectPathsMaxSize {
			flush()
			size = 2
		}
	}
	flush()
}

// beacon answers a legacy LAN beacon from a known peer with a NOP.
func (n *Node) beacon(now int64, sock Socket, from netip.AddrPort, data []byte) {
	a, ok := packet.BeaconAddress(data)
	if !ok || a == n.self.Address || now-n.lastBeaconReply < beaconReplyInterval {
		return
	}
	p := n.peers[a]
	if p == nil || !n.usable(a, from.Addr()) {
		return
	}
	n.lastBeaconReply = now
	n.sendDirect(now, p, sock, from, packet.VerbNop, nil)
}

// reportSurface records the external address a peer says it saw us at
// (§9.8); when an upstream reports a changed IP, paths in that scope and
// family are reset so that they are re-confirmed.
func (n *Node) reportSurface(now int64, reporter *peer, sock Socket, reporterAddr, reported netip.AddrPort) {
	reported = netip.AddrPortFrom(reported.Addr().Unmap(), reported.Port())
	scope := scopeOf(reported.Addr())
	if scope != scopeOf(reporterAddr.Addr()) || scope <= 2 {
		return
	}
	k := surfaceKey{reporter: reporter.id.Address, sock: sock, scope: scope}
	old, had := n.surface[k]
	n.surface[k] = surfaceEntry{addr: reported, at: now}
	if had && n.topo.isUpstream(reporter.id.Address) && now-old.at < selfAwarenessTimeout && old.addr.Addr() != reported.Addr() {
		for sk := range n.surface {
			if sk.scope == scope && sk != k {
				delete(n.surface, sk)
			}
		}
		for _, p := range n.peers {
			for _, pp := range p.paths {
				if scopeOf(pp.addr.Addr()) == scope && pp.addr.Addr().Is4() == reported.Addr().Is4() {
					pp.lastReceive = min(pp.lastReceive, now-pathAliveWindow)
					n.contact(now, p, pp.sock, pp.addr, false)
				}
			}
		}
	}
}

// queueRx parks a packet from an unknown sender until WHOIS answers.
func (n *Node) queueRx(now int64, sock Socket, from netip.AddrPort, data []byte) {
	if len(n.rxq) >= queueSize {
		n.rxq = n.rxq[1:]
		n.Counters.DroppedQueueFull++
	}
	n.rxq = append(n.rxq, queuedRx{sock: sock, from: from, data: append([]byte(nil), data...), at: now})
}

// retryQueued processes what waited for a's identity.
func (n *Node) retryQueued(now int64, a identity.Address) {
	var keep, ready []queuedRx
	for _, q := range n.rxq {
		if packet.Packet(q.data).Source() == a {
			ready = append(ready, q)
		} else {
			keep = append(keep, q)
		}
	}
	n.rxq = keep
	for _, q := range ready {
		n.packet(now, q.sock, q.from, q.data)
	}
	n.flushTx(now, a)
}

// introduce sends RENDEZVOUS to two peers so that they try each other
// directly, using the best pair of paths in the same scope and family.
func (n *Node) introduce(now int64, a, b *peer, force bool) {
	k := [2]identity.Address{min(a.id.Address, b.id.Address), max(a.id.Address, b.id.Address)}
	if !force && now-n.united[k] < minUniteInterval {
		return
	}
	n.united[k] = now
	for scope := 7; scope >= 0; scope-- {
		for _, v6 := range []bool{true, false} {
			pa, pb := bestIn(now, a, scope, v6), bestIn(now, b, scope, v6)
			if pa == nil || pb == nil {
				continue
			}
			tell := func(to *peer, via *path, other *peer, at netip.AddrPort) {
				r := verbs.Rendezvous{Peer: other.id.Address, Endpoint: at}
				pkt := packet.New(to.id.Address, n.self.Address, packet.VerbRendezvous).AppendPayload(r.AppendMarshal(nil)...)
				n.transmit(now, to, pkt, via, false, true)
			}
			if rand.IntN(2) == 0 {
				tell(a, pa, b, pb.addr)
				tell(b, pb, a, pa.addr)
			} else {
				tell(b, pb, a, pa.addr)
				tell(a, pa, b, pb.addr)
			}
			return
		}
	}
}

func bestIn(now int64, p *peer, scope int, v6 bool) *path {
	var best *path
	for _, pp := range p.paths {
		if pp.expired(now) || scopeOf(pp.addr.Addr()) != scope || pp.addr.Addr().Unmap().Is6() != v6 {
			continue
		}
		if best == nil || pp.quality(now) < best.quality(now) {
			best = pp
		}
	}
	return best
}

// relayPacket forwards a packet for another node (§9.7).
func (n *Node) relayPacket(now int64, sock Socket, from netip.AddrPort, pkt packet.Packet) {
	src := pkt.Source()
	if src == n.self.Address || !n.mayRelay(now, src, sock, from) {
		n.Counters.DroppedUntrust++
		return
	}
	if pkt.Hops() >= packet.RelayMaxHops {
		n.Counters.DroppedHops++
		return
	}
	pkt.IncrementHops()
	if dst := n.peers[pkt.Dest()]; dst != nil {
		if via := dst.best(now); via != nil {
			n.forward(now, via, pkt)
			if sp := n.peers[src]; sp != nil {
				n.introduce(now, sp, dst, false)
				if n.onRelay != nil && via.alive(now) {
					n.onRelay(src, dst.id.Address, via.sock, via.addr)
				}
			}
			return
		}
	}
	if up, via := n.relay(now, src); up != nil {
		n.forward(now, via, pkt)
	}
}

// relayFragment forwards a fragment for another node.
func (n *Node) relayFragment(now int64, f packet.Frag) {
	if f.Hops() >= packet.RelayMaxHops {
		n.Counters.DroppedHops++
		return
	}
	f.IncrementHops()
	if dst := n.peers[f.Dest()]; dst != nil {
		if via := dst.best(now); via != nil {
			n.forward(now, via, []byte(f))
			return
		}
	}
	if _, via := n.relay(now, 0); via != nil {
		n.forward(now, via, []byte(f))
	}
}

// mayRelay: roots relay for anyone; other nodes only on trusted paths.
func (n *Node) mayRelay(now int64, src identity.Address, sock Socket, from netip.AddrPort) bool {
	if n.topo.amRoot {
		return true
	}
	sp := n.peers[src]
	if sp == nil {
		return false
	}
	pp := sp.findPath(sock, from)
	return pp != nil && pp.lastTrust > 0 && now-pp.lastTrust < trustExpiration
}

func (n *Node) forward(now int64, via *path, data []byte) {
	n.host.Send(via.sock, via.addr, data, 0)
	via.lastSend = now
	n.Counters.Relayed++
}
