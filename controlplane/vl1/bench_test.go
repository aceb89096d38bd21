package vl1

import (
	"crypto/rand"
	"net/netip"
	"runtime"
	"sync"
	"testing"

	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/headers/world"
	"github.com/ztx/ztx/internal/testvec"
)

// Root benchmarks (go test -bench Root -benchtime=... ./controlplane/vl1/):
// a root with 100,000 known peers; memory per peer, and the rate at which
// it answers HELLO and WHOIS from them. Peers get random keys and are
// inserted directly: making 100,000 identities that pass the proof of work
// would take hours. BenchmarkRootHelloNewIdentity measures what that check
// costs a root for an identity it has never seen.

const benchPeers = 100000

type nullHost struct{ sent int }

func (h *nullHost) Send(Socket, netip.AddrPort, []byte, int) bool { h.sent++; return true }
func (h *nullHost) Event(Event)                                   {}

type benchRoot struct {
	node     *Node
	host     *nullHost
	peers    []*identity.Identity
	keys     []*packet.Key
	heapPer  float64
	rootID   *identity.Identity
	addrs    []netip.AddrPort
	hellos   [][]byte
	whoises  [][]byte
	buildErr error
}

var (
	rootOnce       sync.Once
	benchRootState benchRoot
)

func loadTestIdentity(tb testing.TB, name string) *identity.Identity {
	return testvec.Identity(tb, name)
}

func loadTestPlanet(tb testing.TB) *world.World { return testvec.Planet(tb) }

func setupRoot(b *testing.B) *benchRoot {
	rootOnce.Do(func() {
		r := &benchRootState
		r.rootID = loadTestIdentity(b, "id1.secret")
		r.host = &nullHost{}
		n, err := New(Config{Identity: r.rootID, Planet: loadTestPlanet(b)}, r.host, 1)
		if err != nil {
			r.buildErr = err
			return
		}
		r.node = n
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := range benchPeers {
			pub, priv, _ := c25519.Generate(rand.Reader)
			a := identity.Address(0x0100000000 + uint64(i))
			id := &identity.Identity{Address: a, Public: pub, Private: &priv}
			p, err := n.addPeer(id.PublicOnly())
			if err != nil {
				r.buildErr = err
				return
			}
			ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), 9993)
			p.learn(1, 1, ap)
			p.proto, p.major, p.minor, p.rev = 12, 1, 14, 1
			r.peers = append(r.peers, id)
			r.keys = append(r.keys, p.key)
			r.addrs = append(r.addrs, ap)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		r.heapPer = float64(m1.HeapAlloc-m0.HeapAlloc) / benchPeers
	})
	if benchRootState.buildErr != nil {
		b.Fatal(benchRootState.buildErr)
	}
	return &benchRootState
}

// hello builds the HELLO peer i sends to the root.
func (r *benchRoot) hello(i int, now int64) []byte {
	id := r.peers[i]
	h := verbs.Hello{Protocol: 12, Major: 1, Minor: 14, Revision: 1, Timestamp: uint64(now), Identity: id.PublicOnly(),
		HasDestination: true, Destination: netip.MustParseAddrPort("10.77.0.1:9993"), HasPlanet: true, PlanetID: 0x7a7a0001, HasMoons: true}
	pkt := packet.New(r.rootID.Address, id.Address, packet.VerbHello).AppendPayload(h.AppendMarshal(nil)...)
	r.keys[i].CryptField(pkt, packet.IndexPayload+h.CryptOffset(), len(pkt))
	r.keys[i].Armor(pkt, packet.SuitePoly1305None)
	return pkt
}

func (r *benchRoot) whois(i int) []byte {
	target := r.peers[(i*7919)%benchPeers].Address
	pkt := packet.New(r.rootID.Address, r.peers[i].Address, packet.VerbWhois).AppendPayload(target.AppendTo(nil)...)
	r.keys[i].Armor(pkt, packet.SuiteAESGMACSIV)
	return pkt
}

// BenchmarkRootHello: a root with 100,000 peers answers keepalive HELLOs
// from them (parse, MAC, cryptField, OK(HELLO) with the reported address).
// It also reports the root's heap per known peer.
func BenchmarkRootHello(b *testing.B) {
	r := setupRoot(b)
	if r.hellos == nil {
		for i := range benchPeers {
			r.hellos = append(r.hellos, r.hello(i, 1000))
		}
	}
	buf := make([]byte, 2048)
	i := 0
	b.ResetTimer()
	for b.Loop() {
		k := i % benchPeers
		n := copy(buf, r.hellos[k])
		// Past 100,000 iterations packets repeat; the bounded replay
		// filter (16,384 IDs) has forgotten them by then, so each is
		// still handled in full.
		r.node.ReceiveWire(int64(2000+i), 1, r.addrs[k], buf[:n])
		i++
	}
	b.StopTimer()
	b.ReportMetric(r.heapPer, "heap-bytes/peer")
}

// BenchmarkRootWhois: a root with 100,000 peers answers WHOIS for known
// addresses with OK(WHOIS).
func BenchmarkRootWhois(b *testing.B) {
	r := setupRoot(b)
	if r.whoises == nil {
		for i := range benchPeers {
			r.whoises = append(r.whoises, r.whois(i))
		}
	}
	buf := make([]byte, 2048)
	i := 0
	before := r.host.sent
	b.ResetTimer()
	for b.Loop() {
		k := i % benchPeers
		n := copy(buf, r.whoises[k])
		r.node.ReceiveWire(int64(2000+i), 1, r.addrs[k], buf[:n])
		i++
	}
	b.StopTimer()
	if answered := r.host.sent - before; answered < i {
		b.Fatalf("%d WHOIS answered of %d", answered, i)
	}
}

// BenchmarkRootHelloNewIdentity: the cost of a HELLO from an identity the
// root has never seen (the proof-of-work check dominates).
func BenchmarkRootHelloNewIdentity(b *testing.B) {
	ids := []*identity.Identity{loadTestIdentity(b, "id2.secret"), loadTestIdentity(b, "id3.secret")}
	rootID := loadTestIdentity(b, "id1.secret")
	planet := loadTestPlanet(b)
	i := 0
	for b.Loop() {
		b.StopTimer()
		n, _ := New(Config{Identity: rootID, Planet: planet, IdentityValidationInterval: 1}, &nullHost{}, 1)
		id := ids[i%2]
		shared, _ := id.Agree(rootID)
		k, _ := packet.NewKey(&shared)
		h := verbs.Hello{Protocol: 12, Major: 1, Minor: 14, Revision: 1, Timestamp: 5, Identity: id.PublicOnly(), HasDestination: true, HasPlanet: true, PlanetID: 0x7a7a0001, HasMoons: true}
		pkt := packet.New(rootID.Address, id.Address, packet.VerbHello).AppendPayload(h.AppendMarshal(nil)...)
		k.CryptField(pkt, packet.IndexPayload+h.CryptOffset(), len(pkt))
		k.Armor(pkt, packet.SuitePoly1305None)
		b.StartTimer()
		n.ReceiveWire(10, 1, netip.MustParseAddrPort("10.77.0.2:9993"), pkt)
		if _, ok := n.peers[id.Address]; !ok {
			b.Fatal("new identity not accepted")
		}
		i++
	}
}
