package vl1_test

import (
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl1test"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
	"github.com/ztx/ztx/internal/testvec"
)

// The reference session's identities: id1 is the root of the private
// planet (10.77.0.1/9993), id2 and id3 are nodes A and B.
func loadIdentity(tb testing.TB, name string) *identity.Identity { return testvec.Identity(tb, name) }

func loadPlanet(tb testing.TB) *world.World { return testvec.Planet(tb) }

type testbed struct {
	net        *vl1test.Net
	root, a, b *vl1test.Host
}

const start = 1_700_000_000_000

func addNode(tb testing.TB, n *vl1test.Net, id *identity.Identity, planet *world.World, addr string, nat *vl1test.NAT) *vl1test.Host {
	tb.Helper()
	h := n.AddHost(netip.MustParseAddrPort(addr), nat)
	node, err := vl1.New(vl1.Config{Identity: id, Planet: planet}, h, n.Now)
	if err != nil {
		tb.Fatal(err)
	}
	h.Node = node
	return h
}

// newTestbed: root at 10.77.0.1, A and B on their own networks, or behind
// NAT routers when natted.
func newTestbed(tb testing.TB, natted bool) *testbed {
	planet := loadPlanet(tb)
	n := vl1test.New(start)
	t := &testbed{net: n}
	t.root = addNode(tb, n, loadIdentity(tb, "id1.secret"), planet, "10.77.0.1:9993", nil)
	if natted {
		natA := n.AddNAT(netip.MustParseAddr("10.88.0.1"))
		natB := n.AddNAT(netip.MustParseAddr("10.99.0.1"))
		t.a = addNode(tb, n, loadIdentity(tb, "id2.secret"), planet, "192.168.1.2:9993", natA)
		t.b = addNode(tb, n, loadIdentity(tb, "id3.secret"), planet, "192.168.2.2:9993", natB)
	} else {
		t.a = addNode(tb, n, loadIdentity(tb, "id2.secret"), planet, "10.78.0.2:9993", nil)
		t.b = addNode(tb, n, loadIdentity(tb, "id3.secret"), planet, "10.79.0.3:9993", nil)
	}
	return t
}

func online(h *vl1test.Host) bool { return h.Node.Status(h.Net.Now).Online }

func (t *testbed) ping(tb testing.TB, from, to *vl1test.Host) vl1.EchoReply {
	tb.Helper()
	t.net.Run(200) // ECHO answers are rate-limited to one per 166 ms per path
	before := len(from.Echoes())
	cookie, next, err := from.Node.Ping(t.net.Now, to.Node.Address(), 32)
	if err != nil {
		tb.Fatal(err)
	}
	from.Poke(next)
	t.net.Eventually(tb, 10000, "an ECHO reply", func() bool { return len(from.Echoes()) > before })
	r := from.Echoes()[len(from.Echoes())-1]
	if r.Cookie != cookie || r.Peer != to.Node.Address() {
		tb.Fatalf("echo reply %+v does not answer cookie %x", r, cookie)
	}
	return r
}

func direct(h *vl1test.Host, peer identity.Address) bool {
	p, ok := h.Node.Peer(h.Net.Now, peer)
	return ok && p.Direct
}

func TestNodesComeOnline(t *testing.T) {
	tb := newTestbed(t, false)
	tb.net.Eventually(t, 20000, "A and B online", func() bool { return online(tb.a) && online(tb.b) })
	if !online(tb.root) {
		t.Fatal("a root is always online")
	}
	root, _ := tb.a.Node.Peer(tb.net.Now, tb.root.Node.Address())
	if root.Role != vl1.RolePlanet || !root.Direct || root.Protocol != 12 || root.Latency < 0 {
		t.Fatalf("A's view of the root: %+v", root)
	}
	// The root learns both nodes' paths once its confirming HELLOs are answered.
	tb.net.Run(1000)
	for _, h := range []*vl1test.Host{tb.a, tb.b} {
		p, ok := tb.root.Node.Peer(tb.net.Now, h.Node.Address())
		if !ok || !p.Direct || p.Major != 1 || p.Minor != 14 {
			t.Fatalf("root's view of %s: %+v", h.Node.Address(), p)
		}
	}
	// A's surface address, as the root saw it.
	if s := tb.a.Node.Status(tb.net.Now).Surface; len(s) != 1 || s[0].String() != "10.78.0.2:9993" {
		t.Fatalf("A's surface addresses: %v", s)
	}
}

func TestPingGoesDirect(t *testing.T) {
	tb := newTestbed(t, false)
	tb.net.Eventually(t, 20000, "A and B online", func() bool { return online(tb.a) && online(tb.b) })
	first := tb.ping(t, tb.a, tb.b)
	if !first.Relayed {
		t.Fatalf("first ping should go through the root (A does not know where B is): %+v", first)
	}
	tb.net.Eventually(t, 10000, "a direct path A<->B", func() bool {
		return direct(tb.a, tb.b.Node.Address()) && direct(tb.b, tb.a.Node.Address())
	})
	r := tb.ping(t, tb.a, tb.b)
	if r.Relayed || r.From.String() != "10.79.0.3:9993" {
		t.Fatalf("ping after rendezvous: %+v", r)
	}
}

func TestRelayWhenDirectBlocked(t *testing.T) {
	tb := newTestbed(t, false)
	tb.net.Block(netip.MustParsePrefix("10.78.0.0/16"), netip.MustParsePrefix("10.79.0.0/16"))
	tb.net.Eventually(t, 20000, "A and B online", func() bool { return online(tb.a) && online(tb.b) })
	for range 3 {
		if r := tb.ping(t, tb.a, tb.b); !r.Relayed {
			t.Fatalf("ping went direct through a blocked route: %+v", r)
		}
		tb.net.Run(2000)
	}
	if direct(tb.a, tb.b.Node.Address()) {
		t.Fatal("A believes it has a direct path to B")
	}
}

func TestHolePunchingThroughNAT(t *testing.T) {
	tb := newTestbed(t, true)
	tb.net.Eventually(t, 20000, "A and B online", func() bool { return online(tb.a) && online(tb.b) })
	tb.ping(t, tb.a, tb.b)
	tb.net.Eventually(t, 15000, "a direct path through both NATs", func() bool {
		return direct(tb.a, tb.b.Node.Address()) && direct(tb.b, tb.a.Node.Address())
	})
	r := tb.ping(t, tb.a, tb.b)
	if r.Relayed || r.From.Addr().String() != "10.99.0.1" {
		t.Fatalf("ping through NATs: %+v (want direct from B's NAT)", r)
	}
}
