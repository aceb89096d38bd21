package vl2

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// MAC is an Ethernet address.
type MAC = netconf.MAC

// Group is a multicast group: a MAC and an ADI.
type Group = verbs.MulticastGroup

// Broadcast is the Ethernet broadcast address.
var Broadcast = MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// VL1 is what the Switch needs from the VL1 core; *vl1.Node has it.
type VL1 interface {
	Address() identity.Address
	Send(now int64, dest identity.Address, verb packet.Verb, payload []byte) bool
	SendParts(now int64, dest identity.Address, verb packet.Verb, head, body []byte) bool
	Identity(now int64, a identity.Address) *identity.Identity
	Upstreams(now int64) []identity.Address
	Trust(now int64, peer identity.Address, sock vl1.Socket, from netip.AddrPort)
}

var _ VL1 = (*vl1.Node)(nil)

// Host is the Switch's environment: the ports (virtual interfaces) of
// the networks. Its methods are called with the Switch's lock held and
// must not call back into it.
type Host interface {
	// WriteFrame delivers an Ethernet frame to network nwid's port: the
	// host writes the 14-byte header (destination, source, ethertype)
	// and the payload. data is only valid during the call.
	WriteFrame(nwid uint64, dst, src MAC, etherType uint16, data []byte)
	// NetworkChanged says that a network's state changed: joined, left
	// (Info reports !ok), got a new config, or changed status. The host
	// (re)configures the port and persists the config.
	NetworkChanged(nwid uint64)
}

// Master is the node's embedded network controller: it answers the
// config requests for the networks under the node's address.
type Master interface {
	// Request answers one member's request. A nil config with drop false
	// means an ERROR with code (and data, if any).
	Request(now int64, nwid uint64, member *identity.Identity, meta netconf.Request, from netip.AddrPort) (c *netconf.Config, code verbs.ErrorCode, data []byte, drop bool)
	// RecentlyAuthorized reports whether member a was given a config for
	// nwid lately; its LIKEs and GATHERs are then honoured.
	RecentlyAuthorized(now int64, nwid uint64, a identity.Address) bool
}

// Config is what a Switch is made from.
type Config struct {
	Identity *identity.Identity // the node's, with its private key
	Host     Host
	Master   Master // nil: not a controller
	// OSArch is the "o" of config requests (e.g. "linux/x86_64").
	OSArch string
	Rand   io.Reader // nil: crypto/rand
	// Clock is the time in ms for work that does not come with a time
	// (pushes from the controller); nil: the wall clock.
	Clock func() int64
}

// Counters count what the Switch did.
type Counters struct {
	FramesIn, FramesOut                 uint64
	MulticastIn, MulticastOut           uint64
	DroppedGate, DroppedNoNetwork       uint64
	DroppedBridging, DroppedMulticast   uint64
	DroppedMalformed, DroppedCredential uint64
	DroppedTooBig, DroppedFilter        uint64
	ConfigsApplied, ConfigsRejected     uint64
}

// Switch is a node's VL2: its networks. Its methods are safe for
// concurrent use.
type Switch struct {
	mu     sync.Mutex
	self   *identity.Identity
	host   Host
	master Master
	vl1    VL1
	osArch string
	rand   io.Reader
	clock  func() int64

	nets    map[uint64]*network
	ctlNets map[uint64]*network // networks we control without being members
	// credsRate limits NETWORK_CREDENTIALS processing per peer.
	credsRate map[identity.Address]int64
	txbuf     []byte // payloads for VL1

	Counters Counters
}

// New makes a Switch; Attach gives it its VL1 node before traffic flows.
func New(cfg Config) (*Switch, error) {
	if cfg.Identity == nil || !cfg.Identity.HasPrivate() {
		return nil, errors.New("vl2: the node's identity must hold its private key")
	}
	if cfg.Host == nil {
		return nil, errors.New("vl2: no host")
	}
	r := cfg.Rand
	if r == nil {
		r = rand.Reader
	}
	clock := cfg.Clock
	if clock == nil {
		clock = func() int64 { return time.Now().UnixMilli() }
	}
	return &Switch{
		clock: clock,
		self:  cfg.Identity, host: cfg.Host, master: cfg.Master, osArch: cfg.OSArch, rand: r,
		nets: map[uint64]*network{}, ctlNets: map[uint64]*network{}, credsRate: map[identity.Address]int64{},
	}, nil
}

// Attach sets the VL1 node the Switch sends through.
func (s *Switch) Attach(n VL1) {
	s.mu.Lock()
	s.vl1 = n
	s.mu.Unlock()
}

// SetMaster sets (or clears) the embedded controller.
func (s *Switch) SetMaster(m Master) {
	s.mu.Lock()
	s.master = m
	s.mu.Unlock()
}

func (s *Switch) random64() uint64 {
	var b [8]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		panic("vl2: random source failed: " + err.Error())
	}
	return binary.BigEndian.Uint64(b[:])
}

func (s *Switch) address() identity.Address { return s.self.Address }

// Status is a network's status, as the local API names it.
type Status int

// Statuses (ZT_VirtualNetworkStatus).
const (
	StatusRequesting Status = iota
	StatusOK
	StatusAccessDenied
	StatusNotFound
	StatusPortError
	StatusClientTooOld
	StatusAuthenticationRequired
)

var statusNames = [...]string{"REQUESTING_CONFIGURATION", "OK", "ACCESS_DENIED", "NOT_FOUND", "PORT_ERROR", "CLIENT_TOO_OLD", "AUTHENTICATION_REQUIRED"}

func (st Status) String() string {
	if int(st) < len(statusNames) {
		return statusNames[st]
	}
	return "UNKNOWN"
}

// Info is a network's state for the API and the host.
type Info struct {
	ID         uint64
	MAC        MAC
	Status     Status
	Config     *netconf.Config // nil until one arrived; do not modify
	ConfigDict []byte          // the config as serialized (for networks.d)
	Groups     []Group         // subscribed multicast groups
	AuthInfo   *netconf.AuthInfo
	Bridge     bool // this node is an active bridge
}

// Join joins network nwid (no-op if joined). conf, if not nil, is the
// config dictionary saved by an earlier run: it is applied at once and
// re-requested at the next Background.
func (s *Switch) Join(now int64, nwid uint64, saved []byte) error {
	if nwid == 0 {
		return errors.New("vl2: network ID 0")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nets[nwid]; ok {
		return nil
	}
	nw, err := s.newNetwork(nwid)
	if err != nil {
		return err
	}
	s.nets[nwid] = nw
	if len(saved) > 1 {
		if c, err := netconf.Parse(saved); err == nil && c.CheckFor(nwid, s.address()) == nil {
			s.apply(now, nw, c, slices.Clone(saved))
			nw.lastConfigUpdate = 0 // re-request at once, as the reference
		}
	}
	s.host.NetworkChanged(nwid)
	return nil
}

// Leave leaves network nwid; it reports whether it was joined.
func (s *Switch) Leave(now int64, nwid uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.nets[nwid]; !ok {
		return false
	}
	delete(s.nets, nwid)
	s.host.NetworkChanged(nwid)
	return true
}

// Info returns network nwid's state.
func (s *Switch) Info(nwid uint64) (Info, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nw, ok := s.nets[nwid]
	if !ok {
		return Info{}, false
	}
	return nw.info(s.address()), true
}

// Networks lists the joined networks by ID.
func (s *Switch) Networks() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint64, 0, len(s.nets))
	for id := range s.nets {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// SetGroups sets the multicast groups the host's port for nwid listens
// to (link-layer multicast addresses and the address-resolution groups of
// its addresses); new ones are announced at once.
func (s *Switch) SetGroups(now int64, nwid uint64, groups []Group) {
	s.mu.Lock()
	defer s.mu.Unlock()
	nw, ok := s.nets[nwid]
	if !ok {
		return
	}
	var added []Group
	fresh := map[Group]bool{}
	for _, g := range groups {
		fresh[g] = true
		if !nw.hostGroups[g] {
			added = append(added, g)
		}
	}
	nw.hostGroups = fresh
	if len(added) > 0 && nw.conf != nil {
		s.announce(now, nw, added, true)
	}
}

// Members lists the peers with which network nwid has a membership
// record, and whether each passes the gate now.
func (s *Switch) Members(nwid uint64) map[identity.Address]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	nw, ok := s.nets[nwid]
	if !ok {
		return nil
	}
	out := map[identity.Address]bool{}
	for a, m := range nw.members {
		out[a] = s.gate(nw, a, m)
	}
	return out
}

// Stats returns a copy of the counters.
func (s *Switch) Stats() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.Counters
}

// comOf returns our COM on nw (nil without a config).
func (nw *network) comOf() *cred.COM {
	if nw.conf == nil {
		return nil
	}
	return nw.conf.COM
}
