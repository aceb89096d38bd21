// Package apitest serves api.Service instances over the simulated network
// of package vl1test: a root and two nodes made from the reference
// session's identities and private planet (testdata/session1).
//
//	        root f737c19395 10.77.0.1:9993 (planet root)
//	         /                          \
//	A afee230b1a 10.78.0.2:9993    B 2e57b20512 10.79.0.3:9993
//
// The simulated network is single-threaded, while HTTP handlers run on
// their own goroutines: every call the services make into a node, the
// node's clock and its Poke go through the bed's lock, and Run (or the
// driver started by Start) forwards the nodes' ECHO replies to their
// services.
package apitest

import (
	"crypto/rand"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl1test"
	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
	"github.com/ztx/ztx/internal/testvec"
)

// Tokens of every service the bed makes.
const (
	Token        = "apitest0auth0token0abcd"
	MetricsToken = "apitest0metrics0token00"
)

// Start is the simulated clock's start (ms).
const Start = 1_700_000_000_000

// Bed is a simulated network with services for its nodes.
type Bed struct {
	Net        *vl1test.Net
	Root, A, B *vl1test.Host

	mu       sync.Mutex
	services map[*vl1test.Host]*api.Service
	seen     map[*vl1test.Host]int // events already forwarded
	driving  bool
}

// LoadIdentity reads testdata/session1/<name>.
func LoadIdentity(tb testing.TB, name string) *identity.Identity { return testvec.Identity(tb, name) }

// LoadPlanet reads the session's private planet.
func LoadPlanet(tb testing.TB) *world.World { return testvec.Planet(tb) }

// New makes the bed; nothing has run yet.
func New(tb testing.TB) *Bed {
	tb.Helper()
	planet := LoadPlanet(tb)
	b := &Bed{Net: vl1test.New(Start), services: map[*vl1test.Host]*api.Service{}, seen: map[*vl1test.Host]int{}}
	add := func(secret, addr string) *vl1test.Host {
		h := b.Net.AddHost(netip.MustParseAddrPort(addr), nil)
		n, err := vl1.New(vl1.Config{Identity: LoadIdentity(tb, secret), Planet: planet}, h, b.Net.Now)
		if err != nil {
			tb.Fatal(err)
		}
		h.Node = n
		return h
	}
	b.Root = add("id1.secret", "10.77.0.1:9993")
	b.A = add("id2.secret", "10.78.0.2:9993")
	b.B = add("id3.secret", "10.79.0.3:9993")
	return b
}

// NewOnline makes the bed and runs it until A and B are online and know
// each other directly (after a relayed ECHO and the root's introduction).
func NewOnline(tb testing.TB) *Bed {
	tb.Helper()
	b := New(tb)
	b.Eventually(tb, 20000, "A and B online", func() bool {
		return b.online(b.A) && b.online(b.B)
	})
	b.Do(func() {
		_, next, err := b.A.Node.Ping(b.Net.Now, b.B.Node.Address(), 8)
		if err != nil {
			tb.Fatal(err)
		}
		b.A.Poke(next)
	})
	b.Eventually(tb, 20000, "a direct path between A and B", func() bool {
		return b.direct(b.A, b.B) && b.direct(b.B, b.A)
	})
	return b
}

func (b *Bed) online(h *vl1test.Host) bool { return h.Node.Status(b.Net.Now).Online }

func (b *Bed) direct(h, to *vl1test.Host) bool {
	p, ok := h.Node.Peer(b.Net.Now, to.Node.Address())
	return ok && p.Direct
}

// Do runs f with the bed locked: the network does not move and no
// service calls into a node meanwhile. f must not make API requests.
func (b *Bed) Do(f func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f()
}

// Now is the simulated time.
func (b *Bed) Now() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.Net.Now
}

// Run advances the network by d ms.
func (b *Bed) Run(d int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.step(d)
}

// step runs the network with the lock held and forwards new ECHO replies.
func (b *Bed) step(d int64) {
	b.Net.Run(d)
	for h, svc := range b.services {
		for _, e := range h.Events[b.seen[h]:] {
			if e.Type == vl1.EventEchoReply {
				svc.EchoReply(*e.Echo)
			}
		}
		b.seen[h] = len(h.Events)
	}
}

// Eventually runs the network in 10 ms steps until cond holds (checked
// with the bed locked, between steps), or fails tb after limit ms.
func (b *Bed) Eventually(tb testing.TB, limit int64, what string, cond func() bool) {
	tb.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	end := b.Net.Now + limit
	for !cond() {
		if b.Net.Now >= end {
			tb.Fatalf("after %d ms (simulated): %s never happened", limit, what)
		}
		b.step(10)
	}
}

// Start runs the network on a goroutine, 10 simulated ms per real
// millisecond or so, until the returned function is called. API calls
// that wait for the network (pings) need it.
func (b *Bed) Start() (stop func()) {
	b.mu.Lock()
	if b.driving {
		b.mu.Unlock()
		panic("apitest: Start called twice")
	}
	b.driving = true
	b.mu.Unlock()
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				b.Run(10)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			<-done
			b.mu.Lock()
			b.driving = false
			b.mu.Unlock()
		})
	}
}

// Service returns h's service (made on first use): tokens Token and
// MetricsToken, a home of /var/lib/zerotier-one and a local.conf like the
// reference session's nodes had.
func (b *Bed) Service(h *vl1test.Host) *api.Service {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.services[h]; ok {
		return s
	}
	conf := map[string]any{"settings": map[string]any{
		"allowSecondaryPort":    false,
		"allowTcpFallbackRelay": false,
		"bind":                  []any{h.Addr.Addr().String()},
	}}
	s := &api.Service{
		Node:         lockedNode{b, h.Node},
		Clock:        b.Now,
		Poke:         func(d int64) { b.Do(func() { h.Poke(d) }) },
		AuthToken:    Token,
		MetricsToken: MetricsToken,
		HomeDir:      "/var/lib/zerotier-one",
		Settings:     api.Settings{PrimaryPort: h.Addr.Port()},
		LocalConf:    func() map[string]any { return conf },
		ListeningOn:  func() []netip.AddrPort { return []netip.AddrPort{h.Addr} },
		Counters: func() (c vl1.Counters) {
			b.Do(func() { c = h.Node.Counters })
			return c
		},
	}
	b.services[h] = s
	b.seen[h] = len(h.Events)
	return s
}

// Serve serves h's service on a loopback httptest server, closed when
// the test ends.
func (b *Bed) Serve(tb testing.TB, h *vl1test.Host) *httptest.Server {
	srv := httptest.NewServer(b.Service(h))
	tb.Cleanup(srv.Close)
	return srv
}

// MakeMoon signs a moon whose one root is h (world ID = h's address, as
// zerotier-idtool makes them) and loads it into h's node.
func (b *Bed) MakeMoon(tb testing.TB, h *vl1test.Host) *world.World {
	tb.Helper()
	pub, priv, err := c25519.Generate(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	var id *identity.Identity
	b.Do(func() { id = h.Node.Status(b.Net.Now).Identity })
	m, err := world.Make(world.TypeMoon, uint64(id.Address), 5000, &pub,
		[]world.Root{{Identity: id, StableEndpoints: []netip.AddrPort{h.Addr}}}, &priv)
	if err != nil {
		tb.Fatal(err)
	}
	b.Do(func() { err = h.Node.AddMoon(m) })
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// lockedNode serialises a service's calls into its node with the
// network's steps.
type lockedNode struct {
	b *Bed
	n *vl1.Node
}

var _ api.Node = lockedNode{}

func (l lockedNode) Status(now int64) (s vl1.Status) {
	l.b.Do(func() { s = l.n.Status(now) })
	return s
}

func (l lockedNode) Peers(now int64) (p []vl1.PeerInfo) {
	l.b.Do(func() { p = l.n.Peers(now) })
	return p
}

func (l lockedNode) Peer(now int64, a identity.Address) (p vl1.PeerInfo, ok bool) {
	l.b.Do(func() { p, ok = l.n.Peer(now, a) })
	return p, ok
}

func (l lockedNode) Moons() (m []*world.World, w map[uint64]identity.Address) {
	l.b.Do(func() { m, w = l.n.Moons() })
	return m, w
}

func (l lockedNode) Orbit(now int64, id uint64, seed identity.Address) (next int64) {
	l.b.Do(func() { next = l.n.Orbit(now, id, seed) })
	return next
}

func (l lockedNode) Deorbit(id uint64) (ok bool) {
	l.b.Do(func() { ok = l.n.Deorbit(id) })
	return ok
}

func (l lockedNode) Ping(now int64, dest identity.Address, size int) (cookie uint64, next int64, err error) {
	l.b.Do(func() { cookie, next, err = l.n.Ping(now, dest, size) })
	return cookie, next, err
}
