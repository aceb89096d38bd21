package vl1

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"slices"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/world"
)

// PathInfo describes one path of a peer.
type PathInfo struct {
	Address       netip.AddrPort
	Socket        Socket
	LastSend      int64
	LastReceive   int64
	TrustedPathID uint64
	Preferred     bool
	Expired       bool
	Latency       int64 // -1 unknown
}

// PeerInfo describes a peer, as the local API shows it.
type PeerInfo struct {
	Address                          identity.Address
	Identity                         *identity.Identity
	Protocol, Major, Minor, Revision int // -1 unknown
	Latency                          int64
	Role                             Role
	Paths                            []PathInfo
	LastReceive, LastSend            int64
	Direct                           bool // has a live direct path
}

// Status is the node's state, as /status shows it.
type Status struct {
	Address         identity.Address
	Identity        *identity.Identity
	Online          bool
	PlanetID        uint64
	PlanetTimestamp uint64
	Surface         []netip.AddrPort
	IsRoot          bool
}

// Status returns the node's state.
func (n *Node) Status(now int64) Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	return Status{
		Address: n.self.Address, Identity: n.self.PublicOnly(), Online: n.online,
		PlanetID: n.topo.planet.ID, PlanetTimestamp: n.topo.planet.Timestamp,
		Surface: n.surfaceAddresses(), IsRoot: n.topo.amRoot,
	}
}

// Peers lists the peers, sorted by address.
func (n *Node) Peers(now int64) []PeerInfo {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]PeerInfo, 0, len(n.peers))
	for _, p := range n.peers {
		out = append(out, n.peerInfo(now, p))
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return int(int64(a.Address) - int64(b.Address)) })
	return out
}

// Peer returns one peer.
func (n *Node) Peer(now int64, a identity.Address) (PeerInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p, ok := n.peers[a]
	if !ok {
		return PeerInfo{}, false
	}
	return n.peerInfo(now, p), true
}

func (n *Node) peerInfo(now int64, p *peer) PeerInfo {
	best := p.best(now)
	info := PeerInfo{
		Address: p.id.Address, Identity: p.id,
		Protocol: p.proto, Major: p.major, Minor: p.minor, Revision: p.rev,
		Latency: -1, Role: n.topo.role(p.id.Address),
		LastReceive: p.lastReceive, LastSend: p.lastSend,
	}
	for _, pp := range p.paths {
		pi := PathInfo{
			Address: pp.addr, Socket: pp.sock, LastSend: pp.lastSend, LastReceive: pp.lastReceive,
			Preferred: pp == best, Expired: pp.expired(now), Latency: pp.latency,
		}
		if n.phys.TrustedPathID != nil {
			pi.TrustedPathID = n.phys.TrustedPathID(pp.addr.Addr())
		}
		info.Paths = append(info.Paths, pi)
	}
	if best != nil {
		info.Latency = best.latency
		info.Direct = best.alive(now)
	}
	return info
}

// ErrSelf is returned when a node is asked to ping itself.
var ErrSelf = errors.New("vl1: that is this node's own address")

// Ping sends an ECHO to dest (asking for its identity first if needed).
// The answer arrives as an EventEchoReply with the returned cookie. It
// returns the next Background deadline too.
func (n *Node) Ping(now int64, dest identity.Address, size int) (cookie uint64, next int64, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if dest == n.self.Address {
		return 0, n.deadline(now), ErrSelf
	}
	cookie = n.random64()
	payload := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(payload, cookie)
	if len(n.pings) > 1024 {
		clear(n.pings)
	}
	n.pings[cookie] = pingState{peer: dest, sent: now}
	n.sendTo(now, dest, packet.VerbEcho, payload)
	return cookie, n.deadline(now), nil
}

// Orbit joins a moon: loaded at once if its world is known, else its
// seed is asked for it. Moons given in Config are already orbited.
func (n *Node) Orbit(now int64, id uint64, seed identity.Address) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.topo.moon(id) == nil && seed != 0 {
		n.topo.seeds[id] = seed
		if p := n.peers[seed]; p != nil {
			n.sendHello(now, p, 0, netip.AddrPort{})
		} else {
			n.requestWhois(now, seed)
		}
	}
	return n.deadline(now)
}

// AddMoon orbits a moon whose world is at hand (a file, an API call).
func (n *Node) AddMoon(w *world.World) error {
	if w.Type != world.TypeMoon {
		return errors.New("vl1: not a moon")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if old := n.topo.moon(w.ID); old != nil && !world.ShouldReplace(old, w) {
		return nil
	}
	delete(n.topo.seeds, w.ID)
	n.topo.putMoon(w)
	n.topo.recompute()
	for _, a := range n.topo.order {
		n.addPeer(n.topo.roots[a].id)
	}
	return nil
}

// Deorbit leaves a moon.
func (n *Node) Deorbit(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	w := n.topo.moon(id)
	if !n.topo.removeMoon(id) {
		return false
	}
	n.host.Event(Event{Type: EventMoonRemoved, World: w})
	return true
}

// Moons lists the moons orbited, and the IDs still waiting for their seed.
func (n *Node) Moons() (moons []*world.World, waiting map[uint64]identity.Address) {
	n.mu.Lock()
	defer n.mu.Unlock()
	waiting = map[uint64]identity.Address{}
	for id, s := range n.topo.seeds {
		waiting[id] = s
	}
	return slices.Clone(n.topo.moons), waiting
}

// Planet returns the current planet.
func (n *Node) Planet() *world.World {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.topo.planet
}

// Stats returns a consistent copy of the counters.
func (n *Node) Stats() Counters {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.Counters
}

// Trust records that a network-authenticated packet (a VL2 frame or
// config from a member of a shared network) came from peer on the path
// (sock, from): such peers get PUSH_DIRECT_PATHS, and non-root nodes relay
// only on trusted paths.
func (n *Node) Trust(now int64, peer identity.Address, sock Socket, from netip.AddrPort) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[peer]
	if p == nil {
		return
	}
	p.lastTrust = now
	if pp := p.findPath(sock, from); pp != nil {
		pp.lastTrust = now
	}
}
