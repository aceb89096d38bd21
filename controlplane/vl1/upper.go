package vl1

import (
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
)

// Upper is the layer above VL1 (VL2: virtual networks). It receives the
// authenticated packets whose verbs VL1 does not handle itself, and the
// OK and ERROR replies to them.
type Upper interface {
	// Deliver hands over one packet. The node calls it without holding
	// its lock, before the ReceiveWire call that received the packet
	// returns, so Deliver may call back into the node. in.Payload is only
	// valid during the call.
	Deliver(now int64, in Inbound)
}

// Inbound is an authenticated, decompressed packet for the Upper.
type Inbound struct {
	From    *identity.Identity // the sender
	Verb    packet.Verb
	ID      uint64 // packet ID, for replies
	Hops    int
	Sock    Socket
	Addr    netip.AddrPort // the physical address it came from
	Trusted bool           // it came over a trusted path (suite 2)
	Payload []byte
}

// upperVerb reports whether packets of verb v go to the Upper.
func upperVerb(v packet.Verb) bool {
	switch v {
	case packet.VerbFrame, packet.VerbExtFrame, packet.VerbNetworkCredentials,
		packet.VerbNetworkConfigRequest, packet.VerbNetworkConfig,
		packet.VerbMulticastLike, packet.VerbMulticastGather, packet.VerbMulticastFrame:
		return true
	}
	return false
}

// deliverUp queues a packet for the Upper; ReceiveWire hands the queue
// over once it has released the lock.
func (n *Node) deliverUp(p *peer, sock Socket, from netip.AddrPort, pkt packet.Packet) {
	if n.upper == nil {
		return
	}
	n.pending = append(n.pending, Inbound{
		From: p.id, Verb: pkt.Verb(), ID: pkt.ID(), Hops: pkt.Hops(), Sock: sock, Addr: from,
		Trusted: pkt.Cipher() == packet.SuiteTrustedPath, Payload: pkt.Payload(),
	})
}

// Send sends an encrypted packet of any verb to dest: over its best path,
// through a relay, or after a WHOIS when dest is not known yet (the
// packet then waits in a short queue). Payloads of the verbs the
// reference compresses, and OKs longer than 256 bytes, are compressed.
// It reports whether the packet left at once.
func (n *Node) Send(now int64, dest identity.Address, verb packet.Verb, payload []byte) bool {
	return n.SendParts(now, dest, verb, payload, nil)
}

// SendParts is Send for a payload in two parts (a VL2 header and an
// Ethernet payload), which it joins without an extra copy.
func (n *Node) SendParts(now int64, dest identity.Address, verb packet.Verb, head, body []byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if dest == n.self.Address || dest.IsReserved() {
		return false
	}
	if p, ok := n.peers[dest]; ok {
		return n.sendParts(now, p, verb, head, body)
	}
	return n.sendTo(now, dest, verb, append(append([]byte(nil), head...), body...))
}

// Identity returns a peer's identity, or nil after asking the upstreams
// for it (a later call finds it once the answer is in).
func (n *Node) Identity(now int64, a identity.Address) *identity.Identity {
	n.mu.Lock()
	defer n.mu.Unlock()
	if a == n.self.Address {
		return n.self.PublicOnly()
	}
	if p, ok := n.peers[a]; ok {
		return p.id
	}
	if p := n.fromCache(now, a); p != nil {
		return p.id
	}
	n.requestWhois(now, a)
	return nil
}

// Upstreams lists the roots and moon roots, best first (by latency of
// an alive path).
func (n *Node) Upstreams(now int64) []identity.Address {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []identity.Address
	if best, _ := n.relay(now, 0); best != nil {
		out = append(out, best.id.Address)
	}
	for _, a := range n.topo.order {
		if len(out) == 0 || a != out[0] {
			out = append(out, a)
		}
	}
	return out
}

// Latency returns the latency (ms) of a peer's best direct path that is
// alive, or -1.
func (n *Node) Latency(now int64, a identity.Address) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[a]
	if p == nil {
		return -1
	}
	if pp := p.best(now); pp != nil && pp.alive(now) {
		return pp.latency
	}
	return -1
}
