package vl1

import (
	"io"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
)

// Socket identifies one of the host's local UDP sockets. Its value means
// nothing to the core; 0 means "any socket" when sending.
type Socket int64

// Host is the environment of a Node. Its methods are called with the
// node's lock held and must not call back into the node.
type Host interface {
	// Send transmits one datagram from a local socket (0: the host picks
	// one for the destination's family). ttl 0 means the default TTL.
	// It reports whether the datagram was handed to the network.
	Send(sock Socket, to netip.AddrPort, data []byte, ttl int) bool
	// Event reports something that happened in the core.
	Event(e Event)
}

// EventType says what an Event is about.
type EventType int

// Events.
const (
	EventOnline            EventType = iota + 1 // an upstream was heard from
	EventOffline                                // no upstream heard from for ZT_PEER_ACTIVITY_TIMEOUT
	EventWorldUpdated                           // a planet or moon was added or replaced: persist World
	EventMoonRemoved                            // a moon was deorbited: delete its file
	EventIdentityCollision                      // an upstream says another node has our address
	EventPeerExpired                            // a peer was dropped from memory: cache Peer
	EventEchoReply                              // an ECHO sent by Ping was answered
)

// Event is what the core tells the host.
type Event struct {
	Type  EventType
	World *world.World // EventWorldUpdated, EventMoonRemoved (ID only)
	Peer  *PeerInfo    // EventPeerExpired
	Echo  *EchoReply   // EventEchoReply
}

// EchoReply is the answer to a Ping.
type EchoReply struct {
	Peer    identity.Address
	Cookie  uint64 // the value Ping returned
	RTT     int64  // ms
	Relayed bool   // the answer came through a relay
	From    netip.AddrPort
}

// Physical is the host's configuration of physical paths (local.conf
// "physical" and "virtual"): trusted paths, MTUs and blacklists. A nil
// function means "none".
type Physical struct {
	// TrustedPathID returns the trusted path ID configured for a
	// physical address's network, or 0.
	TrustedPathID func(ip netip.Addr) uint64
	// TrustsInbound reports whether a trusted-path packet carrying id may
	// come from ip (some entry has that ID and contains ip). Nil: compare
	// with TrustedPathID(ip).
	TrustsInbound func(ip netip.Addr, id uint64) bool
	// MTU returns the physical MTU (maximum UDP payload) towards ip.
	MTU func(ip netip.Addr) int
	// Blacklisted reports whether ip must not carry traffic to peer.
	Blacklisted func(ip netip.Addr, peer identity.Address) bool
	// TryAddresses lists addresses configured for a peer (local.conf
	// virtual.<address>.try), HELLOed when it has no direct path.
	TryAddresses func(peer identity.Address) []netip.AddrPort
	// DirectPaths lists this node's own reachable addresses (bound
	// interfaces, port mappings) to advertise in PUSH_DIRECT_PATHS.
	DirectPaths func() []netip.AddrPort
}

// Config is what a Node is made from.
type Config struct {
	Identity *identity.Identity // with its private key
	Planet   *world.World       // nil: the default planet
	Moons    []*world.World
	Physical Physical
	Rand     io.Reader // nil: crypto/rand
	// PeerCache, if set, returns what the host cached of a peer that was
	// dropped from memory (peers.d): asked before a WHOIS for an unknown
	// address, as the reference does.
	PeerCache func(identity.Address) (CachedPeer, bool)
	// IdentityValidationInterval is the per-source rate limit (ms) of
	// HELLO identity checks; 0 means the reference's 2000 ms.
	IdentityValidationInterval int64
	// Upper receives the packets of the verbs above VL1 (nil: they are
	// dropped).
	Upper Upper
	// Relayed, if set, is told (with the node's lock held: it must not
	// block or call back) each time this node, as a root, relays a packet
	// from src to dst over dst's direct path to, after the pair was
	// introduced: a kernel fast path can take over that pair.
	Relayed func(src, dst identity.Address, sock Socket, to netip.AddrPort)
}

// CachedPeer is a peer as the host cached it: its identity, the version it
// reported (so that AES-GMAC-SIV is used at once) and addresses to HELLO.
type CachedPeer struct {
	Identity                         *identity.Identity
	Protocol, Major, Minor, Revision int // -1 unknown
	Paths                            []netip.AddrPort
}

// Protocol and software versions this node announces. Reference peers
// gate behaviour on both, so ztx announces the 1.14.1 release whose
// behaviour it implements.
const (
	ProtocolVersion    = 12
	MinProtocolVersion = 4
	VersionMajor       = 1
	VersionMinor       = 14
	VersionRevision    = 1
)

// Timers and limits (ms unless noted), PROTOCOL.md part 1 §9.1.
const (
	pingCheckInterval          = 5000
	housekeepingPeriod         = 30000
	pathHeartbeatPeriod        = 14000
	pathAliveWindow            = pathHeartbeatPeriod + 5000
	peerPingPeriod             = 60000
	peerPathExpiration         = 4*60000 + 3000
	peerActivityTimeout        = 500000
	maxPeerPaths               = 64
	whoisRetryDelay            = 500
	transmitQueueTimeout       = 5000
	queueSize                  = 32
	receiveQueueTimeout        = 5000
	minUniteInterval           = 30000
	directPathPushInterval     = 15000
	directPathPushHavePath     = 120000
	pushDirectPathsCutoff      = 30000
	pushDirectPathsLimit       = 8
	pushPerScopeAndFamily      = 8
	trustExpiration            = 600000
	peerWhoisRateLimit         = 100
	echoRateLimit              = 1000 / 6
	identityValidationInterval = 2000
	selfAwarenessTimeout       = 600000
	pathConfirmInterval        = 1000
	beaconReplyInterval        = 2500
	defaultPhysMTU             = 1432
	maxWhoisRetries            = 10
	pushDirectPathsMaxSize     = 1200
	tryMemorizedPathInterval   = 30000
)
