package api

import (
	"errors"
	"net/netip"
	"sync"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
)

// stubNode is a Node with fixed answers, for tests that need no network.
type stubNode struct {
	mu       sync.Mutex
	self     identity.Address
	peers    []vl1.PeerInfo
	moons    []*world.World
	orbits   map[uint64]identity.Address
	cookie   uint64
	onPing   func(cookie uint64) // called before Ping returns
	deorbits []uint64
}

var _ Node = (*stubNode)(nil)

func newStub() *stubNode {
	return &stubNode{
		self: 0xafee230b1a,
		peers: []vl1.PeerInfo{
			{Address: 0x2e57b20512, Protocol: 12, Major: 1, Minor: 14, Revision: 1, Latency: 21, Role: vl1.RoleLeaf, Direct: true,
				Paths: []vl1.PathInfo{{Address: netip.MustParseAddrPort("10.77.0.3:9993"), Socket: 7, LastSend: 1000, LastReceive: 1000, Preferred: true, Latency: 21}}},
			{Address: 0xf737c19395, Protocol: -1, Major: -1, Minor: -1, Revision: -1, Latency: -1, Role: vl1.RolePlanet},
		},
		orbits: map[uint64]identity.Address{},
	}
}

func (n *stubNode) Status(now int64) vl1.Status {
	return vl1.Status{Address: n.self, Online: true, PlanetID: 7, PlanetTimestamp: 8}
}

func (n *stubNode) Peers(now int64) []vl1.PeerInfo { return n.peers }

func (n *stubNode) Peer(now int64, a identity.Address) (vl1.PeerInfo, bool) {
	for _, p := range n.peers {
		if p.Address == a {
			return p, true
		}
	}
	return vl1.PeerInfo{}, false
}

func (n *stubNode) Moons() ([]*world.World, map[uint64]identity.Address) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.moons, n.orbits
}

func (n *stubNode) Orbit(now int64, id uint64, seed identity.Address) int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.orbits[id] = seed
	return now
}

func (n *stubNode) Deorbit(id uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.deorbits = append(n.deorbits, id)
	return false
}

func (n *stubNode) Ping(now int64, dest identity.Address, size int) (uint64, int64, error) {
	if dest == n.self {
		return 0, now, vl1.ErrSelf
	}
	n.mu.Lock()
	n.cookie++
	c := n.cookie
	n.mu.Unlock()
	if n.onPing != nil {
		n.onPing(c)
	}
	return c, now, nil
}

func newStubService() (*Service, *stubNode) {
	n := newStub()
	return &Service{Node: n, Networks: &stubNetworks{}, Clock: func() int64 { return 5000 }, AuthToken: "tok", MetricsToken: "met"}, n
}

// stubNetworks is a Networks without VL2 behind it (apitest.Networks is
// the fuller one; this package's own tests cannot import it). Joining
// network 0 fails.
type stubNetworks struct {
	mu   sync.Mutex
	nets map[uint64]NetworkState
}

var _ Networks = (*stubNetworks)(nil)

func (n *stubNetworks) Networks(now int64) []NetworkState {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []NetworkState
	for _, st := range n.nets {
		out = append(out, st)
	}
	return out
}

func (n *stubNetworks) Network(now int64, nwid uint64) (NetworkState, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	st, ok := n.nets[nwid]
	return st, ok
}

func (n *stubNetworks) Join(now int64, nwid uint64, set NetworkSettingsUpdate) (NetworkState, error) {
	if nwid == 0 {
		return NetworkState{}, errors.New("network 0 has no controller")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nets == nil {
		n.nets = map[uint64]NetworkState{}
	}
	st, ok := n.nets[nwid]
	if !ok {
		st = NetworkState{ID: nwid, MTU: 2800, Settings: NetworkSettings{AllowManaged: true}}
	}
	st.Settings = set.Apply(st.Settings)
	n.nets[nwid] = st
	return st, nil
}

func (n *stubNetworks) Leave(now int64, nwid uint64) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.nets[nwid]
	delete(n.nets, nwid)
	return ok
}
