package vl1

import (
	"math/rand/v2"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
)

// Background runs the timers (WHOIS retries, queue expiry, keepalives,
// housekeeping) and returns the time by which it should run again.
func (n *Node) Background(now int64) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.runPunches(now)
	if now-n.lastWhoisPass >= whoisRetryDelay {
		n.lastWhoisPass = now
		n.whoisPass(now)
	}
	if now-n.lastPingPass >= pingCheckInterval {
		n.lastPingPass = now
		n.pingPass(now)
	}
	if now-n.lastHousekeeping >= housekeepingPeriod {
		n.lastHousekeeping = now
		n.housekeeping(now)
	}
	n.checkOnline(now)
	return n.deadline(now)
}

// deadline is when Background must run next.
func (n *Node) deadline(now int64) int64 {
	d := min(n.lastPingPass+pingCheckInterval, n.lastHousekeeping+housekeepingPeriod)
	if len(n.whois) > 0 || len(n.txq) > 0 || len(n.rxq) > 0 || n.reassembly.Len() > 0 {
		d = min(d, n.lastWhoisPass+whoisRetryDelay)
	}
	for _, pu := range n.punches {
		d = min(d, pu.due)
	}
	return max(d, now)
}

func (n *Node) whoisPass(now int64) {
	keepTx := n.txq[:0]
	for _, q := range n.txq {
		if now-q.at < transmitQueueTimeout {
			keepTx = append(keepTx, q)
		} else {
			n.Counters.DroppedQueueTimeout++
		}
	}
	n.txq = keepTx
	keepRx := n.rxq[:0]
	for _, q := range n.rxq {
		if now-q.at < receiveQueueTimeout {
			keepRx = append(keepRx, q)
		} else {
			n.Counters.DroppedQueueTimeout++
		}
	}
	n.rxq = keepRx
	n.reassembly.Expire(now)

	waiting := map[identity.Address]bool{}
	for _, q := range n.txq {
		if n.peers[q.dest] == nil {
			waiting[q.dest] = true
		} else {
			n.flushTx(now, q.dest)
		}
	}
	for _, q := range n.rxq {
		waiting[packet.Packet(q.data).Source()] = true
	}
	for a, w := range n.whois {
		if !waiting[a] && !n.topo.isSeed(a) || w.retries >= maxWhoisRetries {
			delete(n.whois, a)
		}
	}
	for a := range waiting {
		n.requestWhois(now, a)
	}
}

// pingPass is the reference's keepalive pass (§9.2).
func (n *Node) pingPass(now int64) {
	for _, a := range n.topo.order {
		r := n.topo.roots[a]
		p := n.peers[a]
		if p == nil {
			continue
		}
		// Roots are HELLOed rarely while they answer. Unlike the
		// reference (which waits for the path to expire, 243 s), a root
		// with no alive path is HELLOed on every pass, so that nodes find a
		// restarted root within seconds.
		scale := int64(16)
		if !p.hasAlivePath(now) {
			scale = 0
		}
		if now-p.lastFullHello <= pathHeartbeatPeriod*scale {
			// As the reference does, a root left out of this pass gets a
			// WHOIS for itself, which keeps its path alive.
			n.requestWhois(now, a)
			continue
		}
		v4, v6 := n.keepalive(now, p)
		if !v4 {
			if ep, ok := randomEndpoint(r.endpoints, false); ok {
				n.sendHello(now, p, 0, ep)
				v4 = true
			}
		}
		if !v6 {
			if ep, ok := randomEndpoint(r.endpoints, true); ok {
				n.sendHello(now, p, 0, ep)
				v6 = true
			}
		}
		if !v4 && !v6 {
			n.sendHello(now, p, 0, netip.AddrPort{})
		}
	}
	for id, seed := range n.topo.seeds {
		if n.topo.moon(id) != nil {
			continue
		}
		p := n.peers[seed]
		if p == nil {
			n.requestWhois(now, seed)
			continue
		}
		if now-p.lastFullHello > pathHeartbeatPeriod*2 {
			if v4, v6 := n.keepalive(now, p); !v4 && !v6 {
				n.sendHello(now, p, 0, netip.AddrPort{})
			}
		}
	}
	for a, p := range n.peers {
		if n.topo.isUpstream(a) || n.topo.isSeed(a) {
			continue
		}
		if now-p.lastNontrivial < peerActivityTimeout {
			n.keepalive(now, p)
		}
	}
}

func randomEndpoint(eps []netip.AddrPort, v6 bool) (netip.AddrPort, bool) {
	var c []netip.AddrPort
	for _, ep := range eps {
		if ep.Addr().Unmap().Is6() == v6 {
			c = append(c, ep)
		}
	}
	if len(c) == 0 {
		return netip.AddrPort{}, false
	}
	return c[rand.IntN(len(c))], true
}

// keepalive is the reference's per-peer routine (§9.3); it reports
// whether an IPv4 and an IPv6 path were contacted.
func (n *Node) keepalive(now int64, p *peer) (v4, v6 bool) {
	full := now-p.lastFullHello >= peerPingPeriod
	p.prune(now)
	for _, pp := range p.paths {
		// Also probe paths that only carry our traffic (nothing heard for
		// a heartbeat), so that one-way flows keep their path alive.
		if full || now-pp.lastSend >= pathHeartbeatPeriod || now-pp.lastReceive >= pathHeartbeatPeriod {
			n.contact(now, p, pp.sock, pp.addr, full)
		}
		if pp.addr.Addr().Unmap().Is4() {
			v4 = true
		} else {
			v6 = true
		}
	}
	if full {
		p.lastFullHello = now
	}
	return v4, v6
}

func (n *Node) housekeeping(now int64) {
	for a, p := range n.peers {
		if n.topo.isUpstream(a) || n.topo.isSeed(a) || now-p.lastReceive < peerActivityTimeout {
			continue
		}
		info := n.peerInfo(now, p)
		delete(n.peers, a)
		n.host.Event(Event{Type: EventPeerExpired, Peer: &info})
	}
	for k, t := range n.united {
		if now-t > minUniteInterval*8 {
			delete(n.united, k)
		}
	}
	for k, e := range n.surface {
		if now-e.at > selfAwarenessTimeout {
			delete(n.surface, k)
		}
	}
	for k, t := range n.validated {
		if now-t > n.idValidationInterval {
			delete(n.validated, k)
		}
	}
	for k, ps := range n.pings {
		if now-ps.sent > 60000 {
			delete(n.pings, k)
		}
	}
	clear(n.confirmed)
	clear(n.echoed)
	n.subs.expire(now)
}

// checkOnline: online while an upstream was heard within the activity
// timeout, or when this node is a root itself.
func (n *Node) checkOnline(now int64) {
	on := n.topo.amRoot
	for _, a := range n.topo.order {
		if p := n.peers[a]; p != nil && p.lastReceive > 0 && now-p.lastReceive < peerActivityTimeout {
			on = true
			break
		}
	}
	if on != n.online {
		n.online = on
		t := EventOffline
		if on {
			t = EventOnline
		}
		n.host.Event(Event{Type: t})
	}
}
