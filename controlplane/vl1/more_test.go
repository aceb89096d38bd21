package vl1_test

import (
	"bytes"
	"crypto/rand"
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl1test"
	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/headers/world"
)

func onlineBed(t *testing.T, natted bool) *testbed {
	tb := newTestbed(t, natted)
	tb.net.Eventually(t, 20000, "A and B online", func() bool { return online(tb.a) && online(tb.b) })
	return tb
}

// Blocked: traffic keeps flowing through the root. Unblocked: the nodes
// go direct again on their own while they keep talking.
func TestDirectAgainAfterUnblock(t *testing.T) {
	tb := onlineBed(t, false)
	unblock := tb.net.Block(netip.MustParsePrefix("10.78.0.0/16"), netip.MustParsePrefix("10.79.0.0/16"))
	tb.ping(t, tb.a, tb.b)
	tb.net.Run(5000)
	if r := tb.ping(t, tb.a, tb.b); r.Relayed == false {
		t.Fatal("direct while blocked")
	}
	unblock()
	deadline := tb.net.Now + 120000
	for {
		r := tb.ping(t, tb.a, tb.b)
		if !r.Relayed {
			break
		}
		if tb.net.Now > deadline {
			t.Fatal("still relayed two minutes after the route was unblocked")
		}
		tb.net.Run(2000)
	}
}

// The root goes away: nodes with a direct path keep talking. It comes
// back with no memory: everyone reconnects.
func TestRootRestart(t *testing.T) {
	tb := onlineBed(t, false)
	tb.ping(t, tb.a, tb.b)
	tb.net.Eventually(t, 10000, "direct A<->B", func() bool { return direct(tb.a, tb.b.Node.Address()) })
	tb.root.Down = true
	for range 5 {
		tb.net.Run(10000)
		if r := tb.ping(t, tb.a, tb.b); r.Relayed {
			t.Fatalf("relayed while the root is down: %+v", r)
		}
	}
	// A fresh root process with the same identity and planet.
	node, err := vl1.New(vl1.Config{Identity: loadIdentity(t, "id1.secret"), Planet: loadPlanet(t)}, tb.root, tb.net.Now)
	if err != nil {
		t.Fatal(err)
	}
	tb.root.Node, tb.root.Down = node, false
	tb.root.Poke(tb.net.Now)
	tb.net.Eventually(t, 60000, "the restarted root knows A and B again", func() bool {
		return direct(tb.root, tb.a.Node.Address()) && direct(tb.root, tb.b.Node.Address())
	})
	if !online(tb.a) || !online(tb.b) {
		t.Fatal("nodes offline after the root came back")
	}
}

// A newer planet signed by the current one's update key reaches nodes in
// OK(HELLO); a forged one does not.
func TestPlanetUpdate(t *testing.T) {
	pub, priv, _ := c25519.Generate(rand.Reader)
	rootID := loadIdentity(t, "id1.secret")
	roots := []world.Root{{Identity: rootID.PublicOnly(), StableEndpoints: []netip.AddrPort{netip.MustParseAddrPort("10.77.0.1:9993")}}}
	v1, err := world.Make(world.TypePlanet, 0x1234, 1000, &pub, roots, &priv)
	if err != nil {
		t.Fatal(err)
	}
	v2, _ := world.Make(world.TypePlanet, 0x1234, 2000, &pub, roots, &priv)
	n := vl1test.New(start)
	root := addNode(t, n, rootID, v2, "10.77.0.1:9993", nil)
	a := addNode(t, n, loadIdentity(t, "id2.secret"), v1, "10.78.0.2:9993", nil)
	n.Eventually(t, 20000, "A gets the newer planet", func() bool { return a.Node.Planet().Timestamp == 2000 })
	var saw bool
	for _, e := range a.Events {
		saw = saw || e.Type == vl1.EventWorldUpdated && e.World.Timestamp == 2000
	}
	if !saw {
		t.Fatal("no EventWorldUpdated for the host to persist")
	}
	// A planet signed by another key is refused.
	otherPub, otherPriv, _ := c25519.Generate(rand.Reader)
	forged, _ := world.Make(world.TypePlanet, 0x1234, 3000, &otherPub, roots, &otherPriv)
	root.Node, _ = vl1.New(vl1.Config{Identity: rootID, Planet: forged}, root, n.Now)
	b := addNode(t, n, loadIdentity(t, "id3.secret"), v2, "10.79.0.3:9993", nil)
	n.Run(30000)
	if !online(b) || b.Node.Planet().Timestamp != 2000 {
		t.Fatalf("B: online %v, planet timestamp %d (the forged 3000 must be refused)", online(b), b.Node.Planet().Timestamp)
	}
}

// A node orbits a moon by its ID and a seed; the seed's OK(HELLO) brings
// the moon, whose root then has the MOON role.
func TestOrbitMoon(t *testing.T) {
	tb := onlineBed(t, false)
	pub, priv, _ := c25519.Generate(rand.Reader)
	bID := loadIdentity(t, "id3.secret")
	moonID := uint64(bID.Address)
	moon, err := world.Make(world.TypeMoon, moonID, 5000, &pub,
		[]world.Root{{Identity: bID.PublicOnly(), StableEndpoints: []netip.AddrPort{netip.MustParseAddrPort("10.79.0.3:9993")}}}, &priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.b.Node.AddMoon(moon); err != nil {
		t.Fatal(err)
	}
	tb.a.Poke(tb.a.Node.Orbit(tb.net.Now, moonID, bID.Address))
	tb.net.Eventually(t, 60000, "A orbits the moon", func() bool {
		moons, _ := tb.a.Node.Moons()
		return len(moons) == 1 && moons[0].ID == moonID
	})
	if p, _ := tb.a.Node.Peer(tb.net.Now, bID.Address); p.Role != vl1.RoleMoon {
		t.Fatalf("B's role at A: %s", p.Role)
	}
	if !tb.a.Node.Deorbit(moonID) {
		t.Fatal("deorbit failed")
	}
	if p, _ := tb.a.Node.Peer(tb.net.Now, bID.Address); p.Role != vl1.RoleLeaf {
		t.Fatalf("B's role after deorbit: %s", p.Role)
	}
}

// Garbage, truncated, forged, misaddressed, untrusted and hop-exhausted
// packets are dropped and counted; the node keeps working.
func TestBadInput(t *testing.T) {
	tb := onlineBed(t, false)
	tb.ping(t, tb.a, tb.b) // B now knows A, so A's forged packets meet the MAC check
	nodeB := tb.b.Node
	before := nodeB.Counters
	from := netip.MustParseAddrPort("10.78.0.2:9993")
	send := func(b []byte) { tb.b.Poke(nodeB.ReceiveWire(tb.net.Now, 1, from, b)) }
	for _, b := range [][]byte{nil, {1}, bytes.Repeat([]byte{0x11}, 27), bytes.Repeat([]byte{0xff}, 20)} {
		send(b)
	}
	aID, bID := loadIdentity(t, "id2.secret"), loadIdentity(t, "id3.secret")
	shared, _ := aID.Agree(bID)
	k, _ := packet.NewKey(&shared)
	mk := func(dest identity.Address) packet.Packet {
		p := packet.New(dest, aID.Address, packet.VerbEcho).AppendPayload(1, 2, 3)
		if err := k.Armor(p, packet.SuiteAESGMACSIV); err != nil {
			t.Fatal(err)
		}
		return p
	}
	forged := mk(bID.Address)
	forged[len(forged)-1] ^= 1
	send(forged)
	badSuite := mk(bID.Address)
	badSuite[packet.IndexFlags] |= 0x38 // suite 7
	send(badSuite)
	untrusted := packet.New(bID.Address, aID.Address, packet.VerbNop)
	packet.ArmorTrustedPath(untrusted, 42) // no trusted path is configured
	send(untrusted)
	notForB := mk(0x0102030405) // B is no root and has no trust to relay on
	send(notForB)
	c := nodeB.Counters
	for name, d := range map[string]uint64{
		"malformed":     c.DroppedMalformed - before.DroppedMalformed,
		"MAC":           c.DroppedMAC - before.DroppedMAC,
		"unknown suite": c.DroppedUnknownSuite - before.DroppedUnknownSuite,
		"untrusted":     c.DroppedUntrust - before.DroppedUntrust,
	} {
		if d == 0 {
			t.Errorf("%s drops not counted: before %+v after %+v", name, before, c)
		}
	}
	// A genuine packet is processed once; its replay is dropped.
	genuine := mk(bID.Address)
	send(bytes.Clone(genuine))
	tb.net.Run(500)
	sent := nodeB.Counters.Sent
	send(genuine)
	if nodeB.Counters.DroppedDuplicate == 0 || nodeB.Counters.Sent != sent {
		t.Fatalf("replayed ECHO not dropped: %+v", nodeB.Counters)
	}
	if r := tb.ping(t, tb.a, tb.b); r.Peer != tb.b.Node.Address() {
		t.Fatal("no ping after bad input")
	}
}

// A stranger claiming A's address with another key gets an identity
// collision error and does not replace A at the root.
func TestIdentityCollision(t *testing.T) {
	tb := onlineBed(t, false)
	tb.net.Run(1000)
	a := loadIdentity(t, "id2.secret")
	// Same address, different keys: a HELLO the root cannot mistake for A's.
	impostor := &identity.Identity{Address: a.Address, Private: new([64]byte)}
	rand.Read(impostor.Private[:])
	impostor.Public = c25519.PublicFromPrivate(impostor.Private)
	h := tb.net.AddHost(netip.MustParseAddrPort("10.66.0.9:9993"), nil)
	fake, err := vl1.New(vl1.Config{Identity: impostor, Planet: loadPlanet(t)}, h, tb.net.Now)
	if err != nil {
		t.Fatal(err)
	}
	h.Node = fake
	tb.net.Eventually(t, 30000, "an identity collision reported to the impostor", func() bool {
		for _, e := range h.Events {
			if e.Type == vl1.EventIdentityCollision {
				return true
			}
		}
		return false
	})
	p, _ := tb.root.Node.Peer(tb.net.Now, a.Address)
	if !p.Identity.Equal(a) {
		t.Fatal("the root replaced A's identity")
	}
}

// Timers, without sleeping: an idle direct path expires after 243 s and
// an idle peer is dropped (and offered for caching) after 500 s.
func TestIdleExpiry(t *testing.T) {
	tb := onlineBed(t, false)
	tb.ping(t, tb.a, tb.b)
	tb.net.Eventually(t, 10000, "direct A<->B", func() bool { return direct(tb.a, tb.b.Node.Address()) })
	tb.net.Run(250000)
	if p, ok := tb.a.Node.Peer(tb.net.Now, tb.b.Node.Address()); ok && p.Direct {
		t.Fatal("idle path still direct after 250 s")
	}
	tb.net.Run(300000)
	if _, ok := tb.a.Node.Peer(tb.net.Now, tb.b.Node.Address()); ok {
		t.Fatal("idle peer still in memory after 550 s")
	}
	var expired bool
	for _, e := range tb.a.Events {
		expired = expired || e.Type == vl1.EventPeerExpired && e.Peer.Address == tb.b.Node.Address()
	}
	if !expired {
		t.Fatal("no EventPeerExpired for the host to cache the peer")
	}
	if !online(tb.a) {
		t.Fatal("A lost its root while idle")
	}
	// And it comes back on demand.
	if r := tb.ping(t, tb.a, tb.b); r.Peer != tb.b.Node.Address() {
		t.Fatal("no ping after expiry")
	}
}

// tryPing sends one ECHO and reports the answer, if one comes within 3 s.
func (t *testbed) tryPing(from, to *vl1test.Host) (vl1.EchoReply, bool) {
	t.net.Run(200)
	before := len(from.Echoes())
	_, next, err := from.Node.Ping(t.net.Now, to.Node.Address(), 32)
	if err != nil {
		return vl1.EchoReply{}, false
	}
	from.Poke(next)
	end := t.net.Now + 3000
	for t.net.Now < end && len(from.Echoes()) == before {
		t.net.Run(10)
	}
	if len(from.Echoes()) == before {
		return vl1.EchoReply{}, false
	}
	return from.Echoes()[len(from.Echoes())-1], true
}

// A direct path whose route is cut: the reference keeps sending into it
// until it expires (243 s); here traffic falls back to the root within
// the 19 s alive window, and returns to the direct path when it heals.
func TestCutDirectPathFallsBackToRelay(t *testing.T) {
	tb := onlineBed(t, false)
	tb.ping(t, tb.a, tb.b)
	tb.net.Eventually(t, 10000, "direct A<->B", func() bool { return direct(tb.a, tb.b.Node.Address()) && direct(tb.b, tb.a.Node.Address()) })
	cut := tb.net.Now
	unblock := tb.net.Block(netip.MustParsePrefix("10.78.0.0/16"), netip.MustParsePrefix("10.79.0.0/16"))
	for {
		if r, ok := tb.tryPing(tb.a, tb.b); ok && r.Relayed {
			break
		}
		if tb.net.Now-cut > 30000 {
			t.Fatal("no relayed answer 30 s after the direct route was cut")
		}
		tb.net.Run(1000)
	}
	if d := tb.net.Now - cut; d > 25000 {
		t.Fatalf("fell back to the relay only after %d ms", d)
	}
	unblock()
	healed := tb.net.Now
	for {
		if r, ok := tb.tryPing(tb.a, tb.b); ok && !r.Relayed {
			break
		}
		if tb.net.Now-healed > 30000 {
			t.Fatal("still relayed 30 s after the route healed")
		}
		tb.net.Run(1000)
	}
}

// The reference sends the very same packet from each of its sockets; each
// copy is answered (only a repeat on the same path is a replay).
func TestSamePacketFromTwoSockets(t *testing.T) {
	tb := onlineBed(t, false)
	tb.ping(t, tb.a, tb.b)
	aID, bID := loadIdentity(t, "id2.secret"), loadIdentity(t, "id3.secret")
	shared, _ := aID.Agree(bID)
	k, _ := packet.NewKey(&shared)
	pkt := packet.New(bID.Address, aID.Address, packet.VerbEcho).AppendPayload(7, 7, 7)
	k.Armor(pkt, packet.SuiteAESGMACSIV)
	node := tb.b.Node
	before := node.Stats()
	for _, from := range []string{"10.78.0.2:9993", "10.78.0.2:32523", "10.78.0.2:32523"} {
		node.ReceiveWire(tb.net.Now, 1, netip.MustParseAddrPort(from), bytes.Clone(pkt))
	}
	after := node.Stats()
	if d := after.DroppedDuplicate - before.DroppedDuplicate; d != 1 {
		t.Fatalf("%d copies dropped as duplicates, want 1 (the repeat on the same path)", d)
	}
}

// A peer dropped from memory comes back from the host's cache (peers.d)
// without a WHOIS, HELLOed at its cached address, with AES at once.
func TestPeerCache(t *testing.T) {
	planet := loadPlanet(t)
	n := vl1test.New(start)
	bID := loadIdentity(t, "id3.secret")
	cache := map[identity.Address]vl1.CachedPeer{bID.Address: {
		Identity: bID.PublicOnly(), Protocol: 12, Major: 1, Minor: 14, Revision: 1,
		Paths: []netip.AddrPort{netip.MustParseAddrPort("10.79.0.3:9993")},
	}}
	addNode(t, n, loadIdentity(t, "id1.secret"), planet, "10.77.0.1:9993", nil)
	ha := n.AddHost(netip.MustParseAddrPort("10.78.0.2:9993"), nil)
	a, err := vl1.New(vl1.Config{Identity: loadIdentity(t, "id2.secret"), Planet: planet,
		PeerCache: func(x identity.Address) (vl1.CachedPeer, bool) { c, ok := cache[x]; return c, ok }}, ha, n.Now)
	if err != nil {
		t.Fatal(err)
	}
	ha.Node = a
	hb := addNode(t, n, bID, planet, "10.79.0.3:9993", nil)
	tb := &testbed{net: n, a: ha, b: hb}
	n.Eventually(t, 20000, "online", func() bool { return online(ha) && online(hb) })
	if _, known := a.Peer(n.Now, bID.Address); known {
		t.Fatal("B known before anything asked for it")
	}
	// Right after Ping, before any datagram moves, B is known: from the
	// cache, with its version (without a cache it takes a WHOIS round trip).
	_, next, _ := a.Ping(n.Now, bID.Address, 8)
	ha.Poke(next)
	if p, known := a.Peer(n.Now, bID.Address); !known || p.Protocol != 12 {
		t.Fatalf("B not restored from the cache at once: %+v", p)
	}
	tb.ping(t, ha, hb)
	if p, _ := a.Peer(n.Now, bID.Address); !p.Direct || p.Protocol != 12 {
		t.Fatalf("cached peer: %+v", p)
	}
}

// A peer with established trust (VL2 traffic) hears our addresses in
// PUSH_DIRECT_PATHS when it talks to us; others do not.
func TestPushDirectPathsAfterTrust(t *testing.T) {
	tb := onlineBed(t, false)
	tb.ping(t, tb.b, tb.a)
	tb.net.Eventually(t, 10000, "direct A<->B", func() bool { return direct(tb.a, tb.b.Node.Address()) })
	pushes := func() uint64 { return tb.a.Node.Stats().TxVerbs[packet.VerbPushDirectPaths] }
	if pushes() != 0 {
		t.Fatal("pushed to an untrusted peer")
	}
	p, _ := tb.a.Node.Peer(tb.net.Now, tb.b.Node.Address())
	tb.a.Node.Trust(tb.net.Now, tb.b.Node.Address(), p.Paths[0].Socket, p.Paths[0].Address)
	tb.ping(t, tb.b, tb.a)
	if pushes() == 0 || tb.b.Node.Stats().RxVerbs[packet.VerbPushDirectPaths] == 0 {
		t.Fatal("no PUSH_DIRECT_PATHS to a trusted peer")
	}
	n := pushes()
	tb.ping(t, tb.b, tb.a)
	if pushes() != n {
		t.Fatal("pushed again within two minutes over a direct path")
	}
}

// A configured "try" address (local.conf virtual.<addr>.try) gets a HELLO
// as soon as there is traffic for a peer without a direct path.
func TestTryAddresses(t *testing.T) {
	planet := loadPlanet(t)
	n := vl1test.New(start)
	bID := loadIdentity(t, "id3.secret")
	addNode(t, n, loadIdentity(t, "id1.secret"), planet, "10.77.0.1:9993", nil)
	ha := n.AddHost(netip.MustParseAddrPort("10.78.0.2:9993"), nil)
	a, err := vl1.New(vl1.Config{Identity: loadIdentity(t, "id2.secret"), Planet: planet,
		PeerCache: func(x identity.Address) (vl1.CachedPeer, bool) {
			return vl1.CachedPeer{Identity: bID.PublicOnly(), Protocol: -1, Major: -1, Minor: -1, Revision: -1}, x == bID.Address
		},
		Physical: vl1.Physical{TryAddresses: func(x identity.Address) []netip.AddrPort {
			if x == bID.Address {
				return []netip.AddrPort{netip.MustParseAddrPort("10.79.0.3:9993")}
			}
			return nil
		}}}, ha, n.Now)
	if err != nil {
		t.Fatal(err)
	}
	ha.Node = a
	hb := addNode(t, n, bID, planet, "10.79.0.3:9993", nil)
	n.Eventually(t, 20000, "online", func() bool { return online(ha) && online(hb) })
	hellos := a.Stats().TxVerbs[packet.VerbHello]
	_, next, _ := a.Ping(n.Now, bID.Address, 8)
	ha.Poke(next)
	if a.Stats().TxVerbs[packet.VerbHello] != hellos+1 {
		t.Fatal("no HELLO to the configured try address")
	}
	n.Eventually(t, 2000, "a direct path from the try address", func() bool { return direct(ha, bID.Address) })
}

// recordingHost keeps a copy of every datagram a node sends.
type recordingHost struct {
	*vl1test.Host
	sent []sentDatagram
}

type sentDatagram struct {
	to   netip.AddrPort
	data []byte
}

func (h *recordingHost) Send(sock vl1.Socket, to netip.AddrPort, data []byte, ttl int) bool {
	h.sent = append(h.sent, sentDatagram{to, bytes.Clone(data)})
	return h.Host.Send(sock, to, data, ttl)
}

// A root records MULTICAST_LIKEs and answers MULTICAST_GATHER with the
// members of the group, never the asker, as the reference's roots do.
func TestRootMulticastGather(t *testing.T) {
	tb := newTestbed(t, false)
	rec := &recordingHost{Host: tb.root}
	rootID := loadIdentity(t, "id1.secret")
	node, err := vl1.New(vl1.Config{Identity: rootID, Planet: loadPlanet(t)}, rec, tb.net.Now)
	if err != nil {
		t.Fatal(err)
	}
	tb.root.Node = node
	tb.net.Eventually(t, 20000, "A and B online", func() bool { return online(tb.a) && online(tb.b) })
	tb.net.Run(1000)
	aID, bID := loadIdentity(t, "id2.secret"), loadIdentity(t, "id3.secret")
	key := func(id *identity.Identity) *packet.Key {
		shared, _ := id.Agree(rootID)
		k, _ := packet.NewKey(&shared)
		return k
	}
	group := verbs.MulticastGroup{MAC: verbs.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ADI: 0x0a4e000c}
	inject := func(from *identity.Identity, at string, verb packet.Verb, payload []byte) uint64 {
		pkt := packet.New(rootID.Address, from.Address, verb).AppendPayload(payload...)
		key(from).Armor(pkt, packet.SuiteAESGMACSIV)
		node.ReceiveWire(tb.net.Now, 1, netip.MustParseAddrPort(at), pkt)
		return pkt.ID()
	}
	like := verbs.MulticastLike{Groups: []verbs.NetworkGroup{{NetworkID: 0xf737c19395000001, Group: group}}}
	inject(aID, "10.78.0.2:9993", packet.VerbMulticastLike, like.AppendMarshal(nil))
	before := len(rec.sent)
	gather := verbs.MulticastGather{NetworkID: 0xf737c19395000001, Group: group, Limit: 32}
	id := inject(bID, "10.79.0.3:9993", packet.VerbMulticastGather, gather.AppendMarshal(nil))
	var answer *verbs.OKMulticastGather
	for _, s := range rec.sent[before:] {
		if s.to.String() != "10.79.0.3:9993" {
			continue
		}
		pkt := packet.Packet(bytes.Clone(s.data))
		if key(bID).Dearmor(pkt) != nil || pkt.Verb() != packet.VerbOK {
			continue
		}
		ok, err := verbs.ParseOK(pkt.Payload())
		if g, isGather := ok.Body.(verbs.OKMulticastGather); err == nil && isGather && uint64(ok.InRePacketID) == id {
			answer = &g
		}
	}
	if answer == nil || answer.Results.TotalKnown != 1 || len(answer.Results.Members) != 1 || answer.Results.Members[0] != aID.Address {
		t.Fatalf("gather answer: %+v", answer)
	}
	// The only member asking for its own group gets no answer.
	before = len(rec.sent)
	inject(aID, "10.78.0.2:9993", packet.VerbMulticastGather, gather.AppendMarshal(nil))
	for _, s := range rec.sent[before:] {
		if s.to.String() == "10.78.0.2:9993" {
			t.Fatal("answered a gather with no one to report")
		}
	}
}
