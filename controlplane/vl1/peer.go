package vl1

import (
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
	"github.com/ztx/ztx/headers/packet"
)

// path is one physical route to a peer: a remote address reached from one
// of our sockets.
type path struct {
	sock        Socket
	addr        netip.AddrPort
	lastSend    int64
	lastReceive int64
	lastTrust   int64 // last trust-establishing packet on this path
	lastConfirm int64 // last HELLO sent to confirm it (rate limit)
	latency     int64 // ms, -1 unknown
}

func (p *path) alive(now int64) bool   { return now-p.lastReceive < pathAliveWindow }
func (p *path) expired(now int64) bool { return now-p.lastReceive >= peerPathExpiration }

// quality is the reference's path score: lower is better.
func (p *path) quality(now int64) int64 {
	age := min(now-p.lastReceive, 140000)
	lat := p.latency
	if lat < 0 {
		lat = 65535
	}
	q := lat
	if age >= pathAliveWindow {
		q = lat + 65535 + age
	}
	return q * int64(8-inet.ScopeOf(p.addr.Addr()))
}

func (p *path) updateLatency(sample int64) {
	if p.latency < 0 {
		p.latency = sample
	} else {
		p.latency = (p.latency + sample) / 2
	}
}

// peer is everything the node knows about another node.
type peer struct {
	id  *identity.Identity
	key *packet.Key

	paths []*path

	proto, major, minor, rev int // -1 unknown

	lastReceive      int64
	lastSend         int64
	lastFullHello    int64
	lastNontrivial   int64 // last FRAME/EXT_FRAME/config/multicast traffic
	lastTrust        int64 // last network-authenticated (trust establishing) packet
	lastPushSent     int64
	lastPushReceived int64
	pushCount        int
	lastWhoisAnswer  int64
	lastMemorizedTry int64
}

func newPeer(id *identity.Identity, key *packet.Key) *peer {
	return &peer{id: id, key: key, proto: -1, major: -1, minor: -1, rev: -1}
}

// suite is the cipher suite for encrypted packets to this peer.
func (p *peer) suite() packet.Suite {
	if p.proto >= 12 {
		return packet.SuiteAESGMACSIV
	}
	return packet.SuitePoly1305Salsa2012
}

func (p *peer) findPath(sock Socket, addr netip.AddrPort) *path {
	for _, pp := range p.paths {
		if pp.addr == addr && (sock == 0 || pp.sock == sock) {
			return pp
		}
	}
	return nil
}

// best returns the preferred non-expired direct path, or nil.
func (p *peer) best(now int64) *path {
	var best *path
	var bq int64
	for _, pp := range p.paths {
		if pp.expired(now) {
			continue
		}
		if q := pp.quality(now); best == nil || q < bq {
			best, bq = pp, q
		}
	}
	return best
}

// anyPath returns the most recently heard path, expired or not.
func (p *peer) anyPath() *path {
	var best *path
	for _, pp := range p.paths {
		if best == nil || pp.lastReceive > best.lastReceive {
			best = pp
		}
	}
	return best
}

// learn adds a confirmed path (after an OK from it), reusing a dead slot
// with the same IP and socket, a free slot, or the oldest.
func (p *peer) learn(now int64, sock Socket, addr netip.AddrPort) *path {
	if pp := p.findPath(sock, addr); pp != nil {
		return pp
	}
	np := &path{sock: sock, addr: addr, latency: -1, lastReceive: now}
	for i, pp := range p.paths {
		if pp.sock == sock && pp.addr.Addr() == addr.Addr() && !pp.alive(now) {
			p.paths[i] = np
			return np
		}
	}
	if len(p.paths) < maxPeerPaths {
		p.paths = append(p.paths, np)
		return np
	}
	oldest := 0
	for i, pp := range p.paths {
		if pp.lastReceive < p.paths[oldest].lastReceive {
			oldest = i
		}
	}
	p.paths[oldest] = np
	return np
}

// prune drops expired paths.
func (p *peer) prune(now int64) {
	kept := p.paths[:0]
	for _, pp := range p.paths {
		if !pp.expired(now) {
			kept = append(kept, pp)
		}
	}
	clear(p.paths[len(kept):])
	p.paths = kept
}

// aliveSameIP reports an alive path on sock to the same IP (any port).
func (p *peer) aliveSameIP(now int64, sock Socket, ip netip.Addr) bool {
	for _, pp := range p.paths {
		if pp.sock == sock && pp.addr.Addr() == ip && pp.alive(now) {
			return true
		}
	}
	return false
}

func (p *peer) hasAlivePath(now int64) bool {
	for _, pp := range p.paths {
		if pp.alive(now) {
			return true
		}
	}
	return false
}
