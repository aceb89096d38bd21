package vl1

import (
	"bytes"
	"net/netip"
	"sync"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/headers/world"
)

// assembly holds buffers for reassembled packets: one per ReceiveWire
// call in progress, kept until what it delivers has been handled.
var assembly = sync.Pool{New: func() any {
	b := make([]byte, 0, packet.MaxPacketLength)
	return &b
}}

// ReceiveWire processes one datagram that arrived on sock from from. It
// may modify data in place and does not keep it. It returns the time by
// which Background should run next.
func (n *Node) ReceiveWire(now int64, sock Socket, from netip.AddrPort, data []byte) int64 {
	bp := assembly.Get().(*[]byte)
	defer assembly.Put(bp)
	n.mu.Lock()
	n.rxbuf = (*bp)[:0]
	next := n.receive(now, sock, from, data)
	n.rxbuf = nil
	if len(n.pending) == 0 {
		n.mu.Unlock()
		return next
	}
	var one [1]Inbound
	up := append(one[:0], n.pending...)
	clear(n.pending)
	n.pending = n.pending[:0]
	n.mu.Unlock()
	for _, in := range up {
		n.upper.Deliver(now, in)
	}
	return next
}

func (n *Node) receive(now int64, sock Socket, from netip.AddrPort, data []byte) int64 {
	n.Counters.Received++
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	switch packet.Classify(data) {
	case packet.KindBeacon:
		n.beacon(now, sock, from, data)
	case packet.KindFragment:
		f, err := packet.ParseFragment(data)
		if err != nil {
			n.Counters.DroppedMalformed++
			break
		}
		if f.Dest() != n.self.Address {
			n.relayFragment(now, f)
			break
		}
		whole, done, err := n.reassembly.AddFragment(n.rxbuf, data, now)
		if err != nil {
			n.Counters.DroppedMalformed++
		} else if done {
			n.packet(now, sock, from, whole)
		}
	case packet.KindPacket:
		pkt := packet.Packet(data)
		if pkt.Dest() != n.self.Address {
			n.relayPacket(now, sock, from, pkt)
			break
		}
		if !pkt.Fragmented() {
			n.packet(now, sock, from, data)
			break
		}
		whole, done, err := n.reassembly.AddHead(n.rxbuf, data, now)
		if err != nil {
			n.Counters.DroppedMalformed++
		} else if done {
			n.packet(now, sock, from, whole)
		}
	default:
		n.Counters.DroppedMalformed++
	}
	return n.deadline(now)
}

// packet handles a whole packet addressed to this node.
func (n *Node) packet(now int64, sock Socket, from netip.AddrPort, buf []byte) {
	pkt := packet.Packet(buf)
	src := pkt.Source()
	if src == n.self.Address || src.IsReserved() {
		n.Counters.DroppedMalformed++
		return
	}
	suite := pkt.Cipher()
	if !suite.Known() {
		n.Counters.DroppedUnknownSuite++
		return
	}
	if suite == packet.SuiteTrustedPath {
		if !n.trustsInbound(from.Addr(), pkt.TrustedPathID()) {
			n.Counters.DroppedUntrust++
			return
		}
	}
	// The verb byte of a suite-0 packet is in the clear: a HELLO may come
	// from a node we do not know yet.
	isHello := suite == packet.SuitePoly1305None && packet.Verb(buf[packet.IndexVerb]&packet.VerbMask) == packet.VerbHello
	p := n.peers[src]
	authenticated := false
	if isHello && (p == nil || !helloIdentityMatches(pkt, p)) {
		if p = n.helloFromStranger(now, sock, from, pkt, p); p == nil {
			return
		}
		authenticated = true // its MAC was checked with the new identity's key
	} else if p == nil {
		if p = n.fromCache(now, src); p == nil {
			n.queueRx(now, sock, from, buf)
			n.requestWhois(now, src)
			return
		}
	}
	if !authenticated && suite != packet.SuiteTrustedPath {
		if err := p.key.Dearmor(pkt); err != nil {
			n.Counters.DroppedMAC++
			return
		}
	}
	if n.dups.seen(src, pkt.ID(), from) {
		n.Counters.DroppedDuplicate++
		return
	}
	plain, err := packet.Decompress(pkt)
	if err != nil {
		n.Counters.DroppedMalformed++
		return
	}
	n.dispatch(now, p, sock, from, plain)
}

// helloIdentityMatches reports whether a HELLO carries the identity we
// already hold for its sender.
func helloIdentityMatches(pkt packet.Packet, p *peer) bool {
	// The identity sits at a fixed place: after the protocol version (1),
	// software version (1+1+2) and timestamp (8). Comparing its bytes saves
	// parsing the HELLO twice (onHello parses it).
	const off = 13
	b := pkt.Payload()
	if len(b) < off+identity.PublicBinaryLength {
		return false
	}
	id := b[off:]
	return identity.AddressFromBytes(id) == p.id.Address && id[5] == identity.TypeC25519 &&
		bytes.Equal(id[6:6+len(p.id.Public)], p.id.Public[:])
}

// helloFromStranger authenticates a HELLO whose identity is new to us (or
// collides with a known one) and returns the peer, or nil.
func (n *Node) helloFromStranger(now int64, sock Socket, from netip.AddrPort, pkt packet.Packet, known *peer) *peer {
	h, err := verbs.ParseHello(pkt.Payload())
	if err != nil || h.Identity == nil {
		n.Counters.DroppedMalformed++
		return nil
	}
	if h.Identity.Address != pkt.Source() || h.Protocol < MinProtocolVersion {
		n.Counters.DroppedBadIdentity++
		return nil
	}
	key := ipHash(from.Addr())
	if last, ok := n.validated[key]; ok && now-last < n.idValidationInterval {
		n.Counters.DroppedRateLimited++
		return nil
	}
	n.validated[key] = now
	shared, err := n.self.Agree(h.Identity)
	if err != nil {
		n.Counters.DroppedBadIdentity++
		return nil
	}
	k, err := packet.NewKey(&shared)
	if err != nil {
		return nil
	}
	if err := k.Dearmor(pkt); err != nil {
		n.Counters.DroppedMAC++
		return nil
	}
	if known != nil {
		// Someone else claims a known address: tell them, never replace.
		stranger := newPeer(h.Identity, k)
		e := verbs.Error{InReVerb: byte(packet.VerbHello), InRePacketID: verbs.PacketID(pkt.ID()), Code: verbs.ErrorIdentityCollision}
		n.replyOn(now, stranger, sock, from, packet.VerbError, e.AppendMarshal(nil))
		n.Counters.DroppedBadIdentity++
		return nil
	}
	if !h.Identity.LocallyValidate() {
		n.Counters.DroppedBadIdentity++
		return nil
	}
	p := newPeer(h.Identity, k)
	n.peers[h.Identity.Address] = p
	delete(n.whois, h.Identity.Address)
	n.retryQueued(now, h.Identity.Address)
	return p
}

// ipHash is the reference's 14-bit hash of a source IP for rate limits.
func ipHash(ip netip.Addr) uint16 {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		h := (uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])) & 0xffffff00 >> 8
		h ^= h >> 14
		return uint16(h & 0x3fff)
	}
	b := ip.As16()
	h := uint32(b[0])
	for _, c := range b[1:6] {
		h = h<<1 + uint32(c)
	}
	return uint16(h & 0x3fff)
}

// dispatch runs the handler of an authenticated, decompressed packet.
func (n *Node) dispatch(now int64, p *peer, sock Socket, from netip.AddrPort, pkt packet.Packet) {
	hops := pkt.Hops()
	verb := pkt.Verb()
	payload := pkt.Payload()
	n.Counters.RxVerbs[verb&packet.VerbMask]++
	switch verb {
	case packet.VerbHello:
		n.onHello(now, p, sock, from, pkt)
	case packet.VerbOK:
		if !n.onOK(now, p, sock, from, hops, payload) {
			return
		}
		if len(payload) > 0 && upperVerb(packet.Verb(payload[0]&packet.VerbMask)) {
			n.deliverUp(p, sock, from, pkt)
		}
	case packet.VerbError:
		n.onError(p, payload)
		n.deliverUp(p, sock, from, pkt)
	case packet.VerbWhois:
		n.onWhois(now, p, sock, from, pkt.ID(), payload)
	case packet.VerbRendezvous:
		n.onRendezvous(now, p, sock, payload)
	case packet.VerbEcho:
		n.onEcho(now, p, sock, from, pkt)
	case packet.VerbPushDirectPaths:
		n.onPushDirectPaths(now, p, payload)
	case packet.VerbMulticastLike:
		n.onMulticastLike(now, p, payload)
		n.deliverUp(p, sock, from, pkt)
	case packet.VerbMulticastGather:
		if n.topo.amRoot {
			n.onMulticastGather(now, p, sock, from, pkt.ID(), payload)
		} else {
			n.deliverUp(p, sock, from, pkt)
		}
	default:
		if upperVerb(verb) {
			n.deliverUp(p, sock, from, pkt)
		}
	}
	n.received(now, p, sock, from, hops, verb)
}

// received does the bookkeeping every authenticated packet causes: path
// learning (§9.4) and the online state.
func (n *Node) received(now int64, p *peer, sock Socket, from netip.AddrPort, hops int, verb packet.Verb) {
	p.lastReceive = now
	if hops == 0 {
		switch pp := p.findPath(sock, from); {
		case pp != nil:
			pp.lastReceive = now
		case p.aliveSameIP(now, sock, from.Addr()):
		case !n.usable(p.id.Address, from.Addr()):
		case verb == packet.VerbOK:
			p.learn(now, sock, from)
		default:
			n.confirm(now, p, sock, from)
		}
	}
	// §9.5: a peer with which trust is established (network-authenticated
	// traffic, see Trust) hears our addresses, every 2 min when it spoke
	// directly and every 15 s when it was relayed.
	if p.lastTrust > 0 && now-p.lastTrust < trustExpiration {
		interval := int64(directPathPushHavePath)
		if hops > 0 {
			interval = directPathPushInterval
		}
		if now-p.lastPushSent >= interval {
			n.pushDirectPaths(now, p, sock, from)
		}
	}
	if n.topo.isUpstream(p.id.Address) && !n.online {
		n.online = true
		n.host.Event(Event{Type: EventOnline})
	}
}

// confirm sends a HELLO to a new address a peer spoke from, at most once a
// second per address; the path is learned when the OK comes back.
func (n *Node) confirm(now int64, p *peer, sock Socket, from netip.AddrPort) {
	k := confirmKey{p.id.Address, sock, from}
	if now-n.confirmed[k] < pathConfirmInterval {
		return
	}
	if n.confirmed == nil || len(n.confirmed) > 4096 {
		n.confirmed = map[confirmKey]int64{}
	}
	n.confirmed[k] = now
	n.sendHello(now, p, sock, from)
}

type confirmKey struct {
	peer identity.Address
	sock Socket
	addr netip.AddrPort
}

// replyOn sends an encrypted reply on the path a request came in on.
func (n *Node) replyOn(now int64, p *peer, sock Socket, to netip.AddrPort, verb packet.Verb, payload []byte) {
	pkt := packet.New(p.id.Address, n.self.Address, verb).AppendPayload(payload...)
	if compressVerb(verb) || verb == packet.VerbOK && len(payload) > 256 {
		pkt = packet.Compress(pkt)
	}
	via := p.findPath(sock, to)
	if via == nil {
		via = &path{sock: sock, addr: to, latency: -1}
	}
	mtu := n.mtu(to.Addr())
	pkt.SetFragmented(len(pkt) > mtu)
	n.countTx(pkt)
	if err := p.key.Armor(pkt, p.suite()); err != nil {
		return
	}
	n.emit(now, p, via, pkt, mtu)
}

func (n *Node) onHello(now int64, p *peer, sock Socket, from netip.AddrPort, pkt packet.Packet) {
	payload := pkt.Payload()
	h, err := verbs.ParseHello(payload)
	if err != nil || h.Identity == nil || h.Protocol < MinProtocolVersion {
		n.Counters.DroppedMalformed++
		return
	}
	if h.Sealed != nil {
		if start, err := verbs.HelloCryptOffset(payload); err == nil {
			off := packet.IndexPayload + start
			if p.key.CryptField(pkt, off, len(pkt)) == nil {
				h.OpenMoons(pkt[off:])
			}
		}
	}
	// The answer is armored before this HELLO's version is recorded, so a
	// brand-new peer's first OK uses suite 1, as the reference does.
	reported := from
	if h.Protocol < 5 {
		reported = netip.AddrPortFrom(from.Addr(), 0)
	}
	ok := verbs.OK{InReVerb: byte(packet.VerbHello), InRePacketID: verbs.PacketID(pkt.ID()), Body: verbs.OKHello{
		Timestamp: h.Timestamp, Protocol: ProtocolVersion, Major: VersionMajor, Minor: VersionMinor, Revision: VersionRevision,
		HasReportedAddress: true, ReportedAddress: reported,
		HasWorlds: true, Worlds: n.worldUpdatesFor(&h),
	}}
	n.replyOn(now, p, sock, from, packet.VerbOK, ok.AppendMarshal(nil))
	p.proto, p.major, p.minor, p.rev = int(h.Protocol), int(h.Major), int(h.Minor), int(h.Revision)
	if pkt.Hops() == 0 && h.HasDestination && h.Destination.IsValid() {
		n.reportSurface(now, p, sock, from, h.Destination)
	}
}

// worldUpdatesFor returns the worlds a HELLO's sender lacks or has old.
func (n *Node) worldUpdatesFor(h *verbs.Hello) []byte {
	var blob []byte
	if h.HasPlanet && uint64(h.PlanetID) == n.topo.planet.ID && h.PlanetTimestamp < n.topo.planet.Timestamp {
		blob = n.topo.planet.AppendMarshal(blob)
	}
	for _, m := range h.Moons {
		if w := n.topo.moon(uint64(m.ID)); w != nil && m.Timestamp < w.Timestamp {
			blob = w.AppendMarshal(blob)
		}
	}
	return blob
}

// onOK handles an OK; it reports false for one we did not expect.
func (n *Node) onOK(now int64, p *peer, sock Socket, from netip.AddrPort, hops int, payload []byte) bool {
	ok, err := verbs.ParseOK(payload)
	if err != nil {
		n.Counters.DroppedMalformed++
		return false
	}
	if !n.replies.expecting(uint64(ok.InRePacketID)) {
		n.Counters.DroppedUnexpectedReply++
		return false
	}
	switch b := ok.Body.(type) {
	case verbs.OKHello:
		if b.Protocol < MinProtocolVersion {
			return true
		}
		if hops == 0 {
			if pp := p.findPath(sock, from); pp != nil || n.usable(p.id.Address, from.Addr()) {
				if pp == nil {
					pp = p.learn(now, sock, from)
				}
				if lat := now - int64(b.Timestamp); lat >= 0 && lat < 60000 {
					pp.updateLatency(lat)
				}
			}
			if b.HasReportedAddress && b.ReportedAddress.IsValid() {
				n.reportSurface(now, p, sock, from, b.ReportedAddress)
			}
		}
		p.proto, p.major, p.minor, p.rev = int(b.Protocol), int(b.Major), int(b.Minor), int(b.Revision)
		if len(b.Worlds) > 0 && (n.topo.isUpstream(p.id.Address) || n.topo.isSeed(p.id.Address)) {
			n.applyWorlds(p.id.Address, b.Worlds)
		}
	case verbs.OKWhois:
		if !n.topo.isUpstream(p.id.Address) || len(b.Identities) == 0 {
			return true
		}
		id := b.Identities[0]
		if _, known := n.peers[id.Address]; !known && id.Address != n.self.Address {
			if _, err := n.addPeer(id); err == nil {
				delete(n.whois, id.Address)
				n.retryQueued(now, id.Address)
			}
		}
	case verbs.OKEcho:
		if len(b.Data) >= 8 {
			cookie := uint64(0)
			for _, c := range b.Data[:8] {
				cookie = cookie<<8 | uint64(c)
			}
			if ps, ok := n.pings[cookie]; ok && ps.peer == p.id.Address {
				delete(n.pings, cookie)
				n.host.Event(Event{Type: EventEchoReply, Echo: &EchoReply{
					Peer: p.id.Address, Cookie: cookie, RTT: now - ps.sent, Relayed: hops > 0, From: from,
				}})
			}
		}
	}
	return true
}

// applyWorlds offers each world of an OK(HELLO) update blob.
func (n *Node) applyWorlds(sender identity.Address, blob []byte) {
	for len(blob) > 0 {
		w, used, err := world.ParseN(blob)
		if err != nil {
			return
		}
		blob = blob[used:]
		if n.topo.offer(w, sender) {
			for _, a := range n.topo.order {
				n.addPeer(n.topo.roots[a].id)
			}
			n.host.Event(Event{Type: EventWorldUpdated, World: w})
		}
	}
}

func (n *Node) onError(p *peer, payload []byte) {
	e, err := verbs.ParseError(payload)
	if err != nil {
		return
	}
	if e.Code == verbs.ErrorIdentityCollision && n.topo.isUpstream(p.id.Address) {
		n.host.Event(Event{Type: EventIdentityCollision})
	}
}

func (n *Node) onWhois(now int64, p *peer, sock Socket, from netip.AddrPort, id uint64, payload []byte) {
	w, err := verbs.ParseWhois(payload)
	if err != nil {
		return
	}
	if !n.topo.amRoot {
		if now-p.lastWhoisAnswer < peerWhoisRateLimit {
			n.Counters.DroppedRateLimited++
			return
		}
		p.lastWhoisAnswer = now
	}
	var ids []*identity.Identity
	for _, a := range w.Addresses {
		switch q := n.peers[a]; {
		case a == n.self.Address:
			ids = append(ids, n.self.PublicOnly())
		case q != nil:
			ids = append(ids, q.id)
		default:
			n.requestWhois(now, a)
		}
	}
	if len(ids) == 0 {
		return
	}
	ok := verbs.OK{InReVerb: byte(packet.VerbWhois), InRePacketID: verbs.PacketID(id), Body: verbs.OKWhois{Identities: ids}}
	n.replyOn(now, p, sock, from, packet.VerbOK, ok.AppendMarshal(nil))
}

func (n *Node) trustsInbound(ip netip.Addr, id uint64) bool {
	if id == 0 {
		return false
	}
	if n.phys.TrustsInbound != nil {
		return n.phys.TrustsInbound(ip, id)
	}
	return n.phys.TrustedPathID != nil && n.phys.TrustedPathID(ip) == id
}
