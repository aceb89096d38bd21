package service

import (
	crand "crypto/rand"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
	"github.com/ztx/ztx/internal/netns"
	"github.com/ztx/ztx/internal/testvec"
)

// These tests run real daemons (this package's Service, in-process) with
// their UDP sockets inside network namespaces: a root (the reference
// session's identity and private planet, 10.77.0.1/9993) and two nodes,
// on one LAN or each behind a masquerading NAT router.

type testNode struct {
	svc    *Service
	echoes chan vl1.EchoReply
	addr   identity.Address
}

func homeFor(t testing.TB, idFile, bind string, planet []byte) string {
	t.Helper()
	dir := t.TempDir()
	if planet == nil {
		copyFile(t, testvec.MustPath(t, "session1", "planet.bin"), filepath.Join(dir, "planet"))
	} else if err := os.WriteFile(filepath.Join(dir, "planet"), planet, 0o600); err != nil {
		t.Fatal(err)
	}
	if idFile != "" { // else the node makes itself an identity
		copyFile(t, testvec.MustPath(t, "session1", idFile), filepath.Join(dir, "identity.secret"))
	}
	conf := `{"settings":{"bind":["` + bind + `"],"portMappingEnabled":false,"allowTcpFallbackRelay":false}}`
	if err := os.WriteFile(filepath.Join(dir, "local.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// startIn starts a node whose sockets live in ns, with the session's
// private planet (or the given one).
func startIn(t testing.TB, ns *netns.NS, idFile string, bind netip.Addr, planet ...[]byte) *testNode {
	t.Helper()
	var pl []byte
	if len(planet) > 0 {
		pl = planet[0]
	}
	return startWith(t, ns, idFile, bind, pl, Options{})
}

// startWith is startIn with more options (Home, Port and OnEcho are set
// here).
func startWith(t testing.TB, ns *netns.NS, idFile string, bind netip.Addr, pl []byte, o Options) *testNode {
	t.Helper()
	o.Logger = testLogger(idFile)
	return startHome(t, ns, homeFor(t, idFile, bind.String(), pl), o)
}

func (n *testNode) online() bool { return n.svc.Node().Status(time.Now().UnixMilli()).Online }

func (n *testNode) direct(peer identity.Address) bool {
	p, ok := n.svc.Node().Peer(time.Now().UnixMilli(), peer)
	return ok && p.Direct
}

// ping sends an ECHO and waits for its answer, trying up to three times:
// answers are rate-limited per path (166 ms, as the reference), so one
// ECHO can meet the limit right after the node's own path probes.
func (n *testNode) ping(t *testing.T, to *testNode) vl1.EchoReply {
	t.Helper()
	for range 3 {
		if r, ok := n.tryPing(to); ok {
			return r
		}
	}
	for _, x := range []*testNode{n, to} {
		now := time.Now().UnixMilli()
		for _, p := range x.svc.Node().Peers(now) {
			t.Logf("%s sees %s (%s) paths %+v", x.addr, p.Address, p.Role, p.Paths)
		}
		t.Logf("%s counters %+v", x.addr, x.svc.Node().Stats())
	}
	t.Fatalf("%s: no answer from %s to 3 ECHOs", n.addr, to.addr)
	return vl1.EchoReply{}
}

// tryPing sends one ECHO and reports the answer, if one comes within 3 s.
func (n *testNode) tryPing(to *testNode) (vl1.EchoReply, bool) {
	for range len(n.echoes) {
		<-n.echoes
	}
	cookie, next, err := n.svc.Node().Ping(time.Now().UnixMilli(), to.addr, 64)
	if err != nil {
		return vl1.EchoReply{}, false
	}
	n.svc.Poke(next)
	deadline := time.After(3 * time.Second)
	for {
		select {
		case r := <-n.echoes:
			if r.Cookie == cookie {
				return r, true
			}
		case <-deadline:
			return vl1.EchoReply{}, false
		}
	}
}

func eventually(t testing.TB, limit time.Duration, what string, cond func() bool, show ...*testNode) {
	t.Helper()
	end := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(end) {
			for _, n := range show {
				now := time.Now().UnixMilli()
				for _, p := range n.svc.Node().Peers(now) {
					t.Logf("%s sees %s (%s, v%d.%d) paths %+v", n.addr, p.Address, p.Role, p.Major, p.Minor, p.Paths)
				}
				t.Logf("%s counters %+v", n.addr, n.svc.Node().Counters)
			}
			t.Fatalf("after %s: %s never happened", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var (
	lan    = netip.MustParsePrefix("10.77.0.0/24")
	rootIP = netip.MustParseAddr("10.77.0.1")
)

// TestLANRootAndTwoNodes: both nodes come online through the root, a ping
// goes direct after the root's RENDEZVOUS; with the direct route blocked
// traffic keeps flowing through the root, and goes direct again when it
// is unblocked.
func TestLANRootAndTwoNodes(t *testing.T) {
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip", "nft")
	nsR, nsA, nsB := netns.New(t, "root"), netns.New(t, "a"), netns.New(t, "b")
	seg := netns.Bridge(t, "lan", lan, nsR, nsA, nsB)
	root := startIn(t, nsR, "id1.secret", seg.Addr(nsR))
	a := startIn(t, nsA, "id2.secret", seg.Addr(nsA))
	b := startIn(t, nsB, "id3.secret", seg.Addr(nsB))
	if seg.Addr(nsR) != rootIP {
		t.Fatalf("root got %s, the planet says %s", seg.Addr(nsR), rootIP)
	}
	// The root validates one new identity per /24 every 2 s: B may need a retry.
	eventually(t, 20*time.Second, "A and B online", func() bool { return a.online() && b.online() })
	_ = root

	// Garbage from B's namespace at A's socket: random datagrams, ones
	// that look like packets for A with bad MACs, truncated headers. A
	// counts and drops them and keeps working.
	garbage(t, nsB, netip.AddrPortFrom(seg.Addr(nsA), 9993), a.addr)
	a.ping(t, b)
	eventually(t, 10*time.Second, "a direct path A<->B", func() bool { return a.direct(b.addr) && b.direct(a.addr) })
	if c := a.svc.Node().Stats(); c.DroppedMalformed == 0 || c.DroppedMAC+c.DroppedBadIdentity+c.DroppedQueueFull+c.DroppedUnknownSuite == 0 {
		t.Fatalf("garbage not counted: %+v", c)
	}
	if r := a.ping(t, b); r.Relayed || r.From.Addr() != seg.Addr(nsB) {
		t.Fatalf("ping after rendezvous: %+v", r)
	}

	// Cut the direct route: within the alive window (19 s) traffic falls
	// back to the root (the reference would blackhole it for up to 243 s).
	block := netns.Block(t, seg.NS, netip.PrefixFrom(seg.Addr(nsA), 32), netip.PrefixFrom(seg.Addr(nsB), 32))
	eventually(t, 30*time.Second, "a relayed answer once the direct route is cut", func() bool {
		time.Sleep(500 * time.Millisecond)
		r, ok := a.tryPing(b)
		return ok && r.Relayed
	}, a, b)
	block.Remove()
	eventually(t, 40*time.Second, "direct again after unblocking", func() bool {
		time.Sleep(500 * time.Millisecond)
		r, ok := a.tryPing(b)
		return ok && !r.Relayed
	}, a, b)
}

// TestNATHolePunch: A and B each behind their own masquerading Linux NAT
// router, each router behind an ISP router (so that the low-TTL punch
// dies before the far NAT, as on the Internet):
//
//	A 192.168.1.2 ─ natA ─ 172.16.1.0/24 ─ ispA ─┐
//	                                             ├─ 10.77.0.0/24 ─ root 10.77.0.1
//	B 192.168.2.2 ─ natB ─ 172.16.2.0/24 ─ ispB ─┘
//
// The root introduces them and they punch through to a direct path.
func TestNATHolePunch(t *testing.T) {
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip", "nft")
	nsR, ispA, ispB := netns.New(t, "root"), netns.New(t, "ispa"), netns.New(t, "ispb")
	wan := netns.Bridge(t, "wan", lan, nsR, ispA, ispB)
	accA := netns.Bridge(t, "acca", netip.MustParsePrefix("172.16.1.0/24"), ispA)
	accB := netns.Bridge(t, "accb", netip.MustParsePrefix("172.16.2.0/24"), ispB)
	natA := netns.NATRouter(t, "nata", netip.MustParsePrefix("192.168.1.0/24"), accA)
	natB := netns.NATRouter(t, "natb", netip.MustParsePrefix("192.168.2.0/24"), accB)
	nsA, nsB := netns.New(t, "a"), netns.New(t, "b")
	natA.Inside.Attach(t, nsA)
	natB.Inside.Attach(t, nsB)
	route := func(ns *netns.NS, dst string, via netip.Addr) {
		t.Helper()
		if err := ns.AddRoute(netip.MustParsePrefix(dst), via); err != nil {
			t.Fatal(err)
		}
	}
	for _, isp := range []*netns.NS{ispA, ispB} {
		if err := isp.Sysctl("net.ipv4.ip_forward", "1"); err != nil {
			t.Fatal(err)
		}
	}
	route(nsR, "172.16.1.0/24", wan.Addr(ispA))
	route(nsR, "172.16.2.0/24", wan.Addr(ispB))
	route(ispA, "172.16.2.0/24", wan.Addr(ispB))
	route(ispB, "172.16.1.0/24", wan.Addr(ispA))
	for _, x := range []struct {
		nat    *netns.Router
		node   *netns.NS
		isp    netip.Addr
		other  string
		inside netip.Addr
	}{
		{natA, nsA, accA.Addr(ispA), "172.16.2.0/24", natA.Inside.Gateway},
		{natB, nsB, accB.Addr(ispB), "172.16.1.0/24", natB.Inside.Gateway},
	} {
		route(x.nat.NS, "10.77.0.0/24", x.isp)
		route(x.nat.NS, x.other, x.isp)
		route(x.node, "10.77.0.0/24", x.inside)
		route(x.node, x.other, x.inside)
	}
	root := startIn(t, nsR, "id1.secret", wan.Addr(nsR))
	a := startIn(t, nsA, "id2.secret", natA.Inside.Addr(nsA))
	b := startIn(t, nsB, "id3.secret", natB.Inside.Addr(nsB))
	eventually(t, 20*time.Second, "A and B online through their NATs", func() bool { return a.online() && b.online() }, a, b, root)
	if r := a.ping(t, b); !r.Relayed {
		t.Fatalf("first ping direct before any introduction: %+v", r)
	}
	eventually(t, 15*time.Second, "a direct path through both NATs", func() bool { return a.direct(b.addr) && b.direct(a.addr) }, a, b, root)
	r := a.ping(t, b)
	if r.Relayed || r.From.Addr() != accB.Addr(natB.NS) {
		t.Fatalf("ping through the NATs: %+v (want direct from B's router %s)", r, accB.Addr(natB.NS))
	}
}

// TestRootRestart: with the root gone, nodes with a direct path keep
// talking; a new root process brings everyone back online.
func TestRootRestart(t *testing.T) {
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip")
	nsR, nsA, nsB := netns.New(t, "root"), netns.New(t, "a"), netns.New(t, "b")
	seg := netns.Bridge(t, "lan", lan, nsR, nsA, nsB)
	root := startIn(t, nsR, "id1.secret", seg.Addr(nsR))
	a := startIn(t, nsA, "id2.secret", seg.Addr(nsA))
	b := startIn(t, nsB, "id3.secret", seg.Addr(nsB))
	eventually(t, 20*time.Second, "A and B online", func() bool { return a.online() && b.online() })
	a.ping(t, b)
	eventually(t, 10*time.Second, "direct A<->B", func() bool { return a.direct(b.addr) })
	root.svc.Close()
	for range 3 {
		time.Sleep(2 * time.Second)
		if r := a.ping(t, b); r.Relayed {
			t.Fatalf("relayed with the root down: %+v", r)
		}
	}
	root2 := startIn(t, nsR, "id1.secret", seg.Addr(nsR))
	eventually(t, 60*time.Second, "the new root knows A and B", func() bool {
		return root2.direct(a.addr) && root2.direct(b.addr)
	})
}

// garbage sends 2,000 hostile datagrams from ns to a node at to.
func garbage(t *testing.T, ns *netns.NS, to netip.AddrPort, dest identity.Address) {
	t.Helper()
	err := ns.Do(func() error {
		c, err := net.DialUDP("udp4", nil, net.UDPAddrFromAddrPort(to))
		if err != nil {
			return err
		}
		defer c.Close()
		rnd := rand.New(rand.NewPCG(1, 2))
		for i := range 2000 {
			b := make([]byte, rnd.IntN(1500))
			for j := range b {
				b[j] = byte(rnd.Uint32())
			}
			if i%2 == 0 && len(b) >= 28 {
				dest.Put(b[8:13]) // addressed to the node: reaches the MAC check
				b[13] = 0x01      // a plausible source
				b[18] = byte(i/2%4) << 3
			}
			c.Write(b)
			if i%200 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
}

// TestIPv6: the same world over IPv6 only: a planet whose root endpoint is
// an IPv6 address, nodes on a ULA subnet, a direct path after RENDEZVOUS.
func TestIPv6(t *testing.T) {
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip")
	nsR, nsA, nsB := netns.New(t, "root6"), netns.New(t, "a6"), netns.New(t, "b6")
	seg := netns.Bridge(t, "lan6", netip.MustParsePrefix("fd77::/64"), nsR, nsA, nsB)
	rootID := testvec.Identity(t, "id1.secret")
	pub, priv, _ := c25519.Generate(crand.Reader)
	planet, err := world.Make(world.TypePlanet, 0x7a7a0066, 1, &pub, []world.Root{{
		Identity: rootID.PublicOnly(), StableEndpoints: []netip.AddrPort{netip.AddrPortFrom(seg.Addr(nsR), 9993)},
	}}, &priv)
	if err != nil {
		t.Fatal(err)
	}
	pb := planet.AppendMarshal(nil)
	startIn(t, nsR, "id1.secret", seg.Addr(nsR), pb)
	a := startIn(t, nsA, "id2.secret", seg.Addr(nsA), pb)
	b := startIn(t, nsB, "id3.secret", seg.Addr(nsB), pb)
	eventually(t, 20*time.Second, "A and B online over IPv6", func() bool { return a.online() && b.online() }, a, b)
	a.ping(t, b)
	eventually(t, 10*time.Second, "a direct IPv6 path", func() bool { return a.direct(b.addr) }, a, b)
	if r := a.ping(t, b); r.Relayed || r.From.Addr() != seg.Addr(nsB) {
		t.Fatalf("IPv6 ping: %+v", r)
	}
}

// testLogger logs to stderr with -v, else nowhere.
func testLogger(name string) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, nil)).With("node", name)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
