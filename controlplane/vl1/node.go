package vl1

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/netip"
	"sync"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/world"
)

// Node is one ZeroTier node's VL1 state. Its methods are safe for
// concurrent use.
type Node struct {
	mu      sync.Mutex
	host    Host
	self    *identity.Identity
	phys    Physical
	rand    io.Reader
	cache   func(identity.Address) (CachedPeer, bool)
	upper   Upper
	onRelay func(src, dst identity.Address, sock Socket, to netip.AddrPort)

	topo  *topology
	peers map[identity.Address]*peer

	reassembly packet.Queue
	dups       dedup
	txq        []queuedTx // packets waiting for a peer's identity or a path
	rxq        []queuedRx // packets from senders whose identity is unknown
	whois      map[identity.Address]*whoisState
	replies    replyTable
	united     map[[2]identity.Address]int64
	validated  map[uint16]int64 // HELLO identity checks per source-IP hash
	surface    map[surfaceKey]surfaceEntry
	pings      map[uint64]pingState
	confirmed  map[confirmKey]int64 // HELLOs sent to confirm new paths
	echoed     map[confirmKey]int64 // OK(ECHO)s sent, per path
	punches    []punch              // contact attempts scheduled by RENDEZVOUS
	subs       subscriptions        // multicast LIKEs a root keeps
	pending    []Inbound            // for the Upper, handed over after unlocking
	txbuf      []byte               // packets being sent (the host copies)
	rxbuf      []byte               // reassembly buffer of the ReceiveWire call in progress
	fragbuf    []byte               // their fragments
	pieces     [][]byte
	ids        *mrand.ChaCha8 // packet IDs, seeded from the random source

	idValidationInterval int64
	lastPingPass         int64
	lastHousekeeping     int64
	lastWhoisPass        int64
	lastBeaconReply      int64
	online               bool
	started              int64

	Counters Counters
}

// Counters count what the node did with what it received; Dropped* are
// packets refused for the reason named.
type Counters struct {
	Received, Relayed, Sent               uint64
	DroppedMalformed, DroppedMAC          uint64
	DroppedUnknownSuite, DroppedUntrust   uint64
	DroppedRateLimited, DroppedHops       uint64
	DroppedUnexpectedReply                uint64
	DroppedQueueFull, DroppedQueueTimeout uint64
	DroppedBadIdentity                    uint64
	DroppedDuplicate                      uint64
	// RxVerbs and TxVerbs count authenticated packets received and packets
	// sent, by verb number.
	RxVerbs, TxVerbs [32]uint64
}

type queuedTx struct {
	dest    identity.Address
	verb    packet.Verb
	payload []byte
	at      int64
}

type queuedRx struct {
	sock Socket
	from netip.AddrPort
	data []byte
	at   int64
}

type whoisState struct {
	lastSent int64
	retries  int
}

type surfaceKey struct {
	reporter identity.Address
	sock     Socket
	scope    int
}

type surfaceEntry struct {
	addr netip.AddrPort
	at   int64
}

type pingState struct {
	peer identity.Address
	sent int64
}

// New makes a node. now is the current time in milliseconds.
func New(cfg Config, host Host, now int64) (*Node, error) {
	if cfg.Identity == nil || !cfg.Identity.HasPrivate() {
		return nil, errors.New("vl1: the node's identity must hold its private key")
	}
	planet := cfg.Planet
	if planet == nil {
		planet = world.Earth()
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	n := &Node{
		host:                 host,
		self:                 cfg.Identity,
		phys:                 cfg.Physical,
		cache:                cfg.PeerCache,
		upper:                cfg.Upper,
		onRelay:              cfg.Relayed,
		rand:                 r,
		topo:                 newTopology(cfg.Identity.Address, planet, cfg.Moons),
		peers:                map[identity.Address]*peer{},
		whois:                map[identity.Address]*whoisState{},
		united:               map[[2]identity.Address]int64{},
		validated:            map[uint16]int64{},
		surface:              map[surfaceKey]surfaceEntry{},
		pings:                map[uint64]pingState{},
		idValidationInterval: cfg.IdentityValidationInterval,
		started:              now,
		lastPingPass:         now - pingCheckInterval, // first pass at once
	}
	if n.idValidationInterval == 0 {
		n.idValidationInterval = identityValidationInterval
	}
	var seed [32]byte
	if _, err := io.ReadFull(r, seed[:]); err != nil {
		return nil, fmt.Errorf("vl1: random source: %w", err)
	}
	n.ids = mrand.NewChaCha8(seed)
	n.replies.init()
	for _, a := range n.topo.order {
		if _, err := n.addPeer(n.topo.roots[a].id); err != nil {
			return nil, fmt.Errorf("vl1: root %s: %w", a, err)
		}
	}
	return n, nil
}

// Address is the node's own address.
func (n *Node) Address() identity.Address { return n.self.Address }

// addPeer creates (or returns) the peer for a verified identity.
func (n *Node) addPeer(id *identity.Identity) (*peer, error) {
	if p, ok := n.peers[id.Address]; ok {
		return p, nil
	}
	shared, err := n.self.Agree(id)
	if err != nil {
		return nil, err
	}
	k, err := packet.NewKey(&shared)
	if err != nil {
		return nil, err
	}
	p := newPeer(id.PublicOnly(), k)
	n.peers[id.Address] = p
	return p, nil
}

// packetID returns a fresh packet ID from a ChaCha8 stream (a CSPRNG)
// seeded from the node's random source: unpredictable, and no system call
// per packet.
func (n *Node) packetID() uint64 { return n.ids.Uint64() }

func (n *Node) random64() uint64 {
	var b [8]byte
	if _, err := io.ReadFull(n.rand, b[:]); err != nil {
		return packet.RandomID()
	}
	return binary.BigEndian.Uint64(b[:])
}

// usable applies §9.9 to a remote physical address for peer a.
func (n *Node) usable(a identity.Address, ip netip.Addr) bool {
	ip = ip.Unmap()
	switch scopeOf(ip) {
	case scopePrivate, scopePseudoPrivate, scopeShared, scopeGlobal:
	default:
		return false
	}
	if ip.Is6() && hurricaneElectric.Contains(ip) {
		return false
	}
	if !n.topo.endpointAllowed(a, ip) {
		return false
	}
	if n.phys.Blacklisted != nil && n.phys.Blacklisted(ip, a) {
		return false
	}
	return true
}

// hurricaneElectric is the tunnel broker range the reference refuses.
var hurricaneElectric = netip.MustParsePrefix("2001:470::/32")

func (n *Node) mtu(ip netip.Addr) int {
	if n.phys.MTU != nil {
		if m := n.phys.MTU(ip); m > 0 {
			return m
		}
	}
	return defaultPhysMTU
}

// fromCache restores a peer from the host's cache and HELLOs its cached
// addresses; nil when the cache has nothing valid for a.
func (n *Node) fromCache(now int64, a identity.Address) *peer {
	if n.cache == nil {
		return nil
	}
	c, ok := n.cache(a)
	if !ok || c.Identity == nil || c.Identity.Address != a {
		return nil
	}
	p, err := n.addPeer(c.Identity)
	if err != nil {
		return nil
	}
	p.proto, p.major, p.minor, p.rev = c.Protocol, c.Major, c.Minor, c.Revision
	for _, ap := range c.Paths {
		if ap.IsValid() && n.usable(a, ap.Addr()) {
			n.sendHello(now, p, 0, ap)
		}
	}
	return p
}
