// Package service is the ztnode daemon: it opens the home directory,
// binds the UDP sockets, runs the VL1 core (package controlplane/vl1) with
// a receive goroutine per socket and one timer goroutine, persists what
// the core reports (worlds, expired peers) and serves the local API.
//
//	UDP sockets ──ReadBatch──► vl1.Node.ReceiveWire ──► Host.Send ──► UDP
//	timer ────────────────────► vl1.Node.Background    Host.Event ─► events goroutine
//	                                                                  (files, API)
package service

import (
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/vishvananda/netns"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/controller"
	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/dataplane/udp"
	"github.com/ztx/ztx/dataplane/xdp"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/headers/world"
	"github.com/ztx/ztx/internal/home"
)

// Options configure a Service.
type Options struct {
	Home string // home directory
	// Port overrides local.conf's primaryPort when that is not set there
	// (like zerotier-one's -p); -1 keeps the default (9993).
	Port   int
	Logger *slog.Logger
	// OnEcho, if set, receives every answered Ping (the local API uses it).
	OnEcho func(vl1.EchoReply)
	// Dataplane is DataplaneUserspace (""), DataplaneXDP or DataplaneAuto.
	Dataplane string
	// XDPMode forces an attach mode (default: driver, else generic).
	XDPMode xdp.Mode
	// PinDir is where XDP maps are pinned (default xdp.DefaultPinDir).
	PinDir string
}

// Service is a running node.
type Service struct {
	log      *slog.Logger
	home     *home.Home
	conf     *home.LocalConf
	id       *identity.Identity
	node     *vl1.Node
	socks    *udp.Set // the primary port
	socks2   *udp.Set // the secondary port (nil when not allowed)
	conns    []*udp.Conn
	token    string
	metrics  string
	wake     chan int64
	events   chan vl1.Event
	done     chan struct{}
	wg       sync.WaitGroup
	closeErr error
	once     sync.Once
	onEcho   func(vl1.EchoReply)
	fatal    chan error
	api      *api.Service
	http     []*http.Server
	senders  map[*udp.Conn]*sender
	sw       *vl2.Switch
	nets     netState
	netns    netns.NsHandle // where Start ran: interfaces are made there
	ctl      *controller.Controller
	fast     fastPath
}

// Controller is the embedded network controller.
func (s *Service) Controller() *controller.Controller { return s.ctl }

// master is the embedded controller as the Switch's Master.
type master struct{ c *controller.Controller }

func (m master) Request(now int64, nwid uint64, member *identity.Identity, meta netconf.Request, from netip.AddrPort) (*netconf.Config, verbs.ErrorCode, []byte, bool) {
	a := m.c.Request(now, nwid, member, meta, from)
	return a.Config, a.Error, a.AuthInfo, a.Drop
}

func (m master) RecentlyAuthorized(now int64, nwid uint64, a identity.Address) bool {
	return m.c.RecentlyAuthorized(now, nwid, a)
}

// Start opens the home directory and brings the node up.
func Start(o Options) (*Service, error) {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	h, err := home.Open(o.Home)
	if err != nil {
		return nil, err
	}
	conf, err := h.LoadLocalConf()
	if err != nil {
		return nil, err
	}
	for _, w := range conf.Warnings {
		log.Warn("local.conf", "warning", w)
	}
	id, err := h.LoadOrCreateIdentity()
	if err != nil {
		return nil, err
	}
	token, err := h.AuthToken()
	if err != nil {
		return nil, err
	}
	metrics, err := h.MetricsToken()
	if err != nil {
		return nil, err
	}
	planet, err := loadPlanet(h)
	if err != nil {
		// As the reference does, a cached planet that cannot be read is
		// ignored in favour of the default one.
		log.Warn("ignoring the planet file", "error", err)
		planet = world.Earth()
	}
	moons, err := h.Moons()
	if err != nil {
		log.Warn("moons.d", "error", err)
	}
	port := conf.Settings.PrimaryPort
	if !conf.Settings.PrimaryPortSet && o.Port >= 0 {
		port = uint16(o.Port)
	}
	socks, err := udp.ListenSet(conf.Settings.Bind, port, udp.Options{ReadBuffer: 4 << 20, WriteBuffer: 4 << 20, GSO: true, GRO: true})
	if err != nil {
		return nil, fmt.Errorf("binding UDP port %d: %w", port, err)
	}
	if err := h.WritePort(socks.Port()); err != nil {
		socks.Close()
		return nil, err
	}
	// Like the reference, also listen on a secondary port (random unless
	// configured): a second mapping through NATs and a spare if the
	// primary port is filtered.
	var socks2 *udp.Set
	if conf.Settings.AllowSecondaryPort {
		if socks2, err = listenSecondary(conf.Settings.Bind, conf.Settings.SecondaryPort, socks.Port()); err != nil {
			log.Warn("no secondary port", "error", err)
		}
	}
	conns := socks.Conns()
	if socks2 != nil {
		conns = append(conns, socks2.Conns()...)
	}
	s := &Service{
		log: log, home: h, conf: conf, id: id, socks: socks, socks2: socks2, conns: conns, token: token, metrics: metrics,
		wake: make(chan int64, 1), events: make(chan vl1.Event, 1024), done: make(chan struct{}),
		onEcho: o.OnEcho, fatal: make(chan error, 1),
	}
	if h, err := netns.Get(); err == nil {
		s.netns = h
	}
	s.nets = netState{ports: map[uint64]*netPort{}, portErr: map[uint64]string{}, settings: map[uint64]netSettings{},
		changes: make(chan uint64, 256), resync: make(chan struct{}, 1)}
	sw, err := vl2.New(vl2.Config{Identity: id, Host: (*vl2Host)(s), OSArch: osArch()})
	if err != nil {
		socks.Close()
		return nil, err
	}
	s.sw = sw
	now := time.Now().UnixMilli()
	s.fast = fastPath{events: make(chan relayEvent, 256), relays: map[identity.Address]netip.AddrPort{}, pairs: map[[2]identity.Address]int64{}}
	node, err := vl1.New(vl1.Config{
		Upper:    sw,
		Relayed:  s.relayed,
		Identity: id, Planet: planet, Moons: moons,
		PeerCache: func(a identity.Address) (vl1.CachedPeer, bool) {
			r, err := h.LoadPeer(a)
			if err != nil || r == nil || r.Identity == nil {
				return vl1.CachedPeer{}, false
			}
			c := vl1.CachedPeer{Identity: r.Identity, Protocol: -1, Major: -1, Minor: -1, Revision: -1, Paths: r.Paths}
			if r.Version.Protocol > 0 {
				c.Protocol, c.Major, c.Minor, c.Revision = int(r.Version.Protocol), int(r.Version.Major), int(r.Version.Minor), int(r.Version.Revision)
			}
			return c, true
		},
		Physical: vl1.Physical{
			TrustedPathID: func(ip netip.Addr) uint64 { v, _ := conf.TrustedPathFor(ip); return v },
			TrustsInbound: conf.TrustsInbound,
			MTU:           conf.MTUFor,
			Blacklisted:   conf.Blacklisted,
			TryAddresses:  conf.TryAddresses,
			DirectPaths:   s.directPaths,
		},
	}, (*hostAdapter)(s), now)
	if err != nil {
		socks.Close()
		return nil, err
	}
	s.node = node
	sw.Attach(node)
	if err := s.startXDP(o); err != nil {
		socks.Close()
		return nil, err
	}
	if err := s.serveAPI(); err != nil {
		s.closeXDP()
		socks.Close()
		return nil, err
	}
	s.senders = map[*udp.Conn]*sender{}
	for i, c := range conns {
		snd := newSender(c, s.done, func(err error) { s.log.Debug("udp send", "error", err) })
		s.senders[c] = snd
		s.wg.Add(2)
		go s.receive(vl1.Socket(i+1), c)
		go func() { defer s.wg.Done(); snd.run() }()
	}
	s.wg.Add(3)
	go s.timer()
	go s.handleEvents()
	go s.manageNetworks()
	s.rejoin(now)
	log.Info("node started", "address", id.Address.String(), "port", socks.Port(),
		"listening", socks.LocalAddrs(), "planet", fmt.Sprintf("%016x", planet.ID), "moons", len(moons))
	return s, nil
}

// loadPlanet reads the cached planet, letting the default planet replace
// it when it is the same world, newer and properly signed (as the
// reference does at start-up).
func loadPlanet(h *home.Home) (*world.World, error) {
	earth := world.Earth()
	p, err := h.Planet()
	if err != nil {
		return nil, err
	}
	if p == nil {
		return earth, nil
	}
	if world.ShouldReplace(p, earth) {
		return earth, nil
	}
	return p, nil
}

// Node is the VL1 core.
func (s *Service) Node() *vl1.Node { return s.node }

// Identity is the node's identity (with its private key).
func (s *Service) Identity() *identity.Identity { return s.id }

// Home is the home directory.
func (s *Service) Home() *home.Home { return s.home }

// LocalConf is the parsed local.conf.
func (s *Service) LocalConf() *home.LocalConf { return s.conf }

// Port is the bound primary port.
func (s *Service) Port() uint16 { return s.socks.Port() }

// ListeningOn lists the bound UDP addresses (primary, then secondary).
func (s *Service) ListeningOn() []netip.AddrPort {
	var out []netip.AddrPort
	for _, c := range s.conns {
		out = append(out, c.LocalAddr())
	}
	return out
}

// listenSecondary binds the secondary port: the configured one, or a
// random one from 20000 on, as the reference picks it.
func listenSecondary(bind []netip.Addr, configured, primary uint16) (*udp.Set, error) {
	opts := udp.Options{ReadBuffer: 4 << 20, WriteBuffer: 4 << 20, GSO: true, GRO: true}
	if configured != 0 {
		return udp.ListenSet(bind, configured, opts)
	}
	port := 20000 + uint16(mrand.IntN(45500))
	var err error
	for range 1000 {
		if port != primary {
			var set *udp.Set
			if set, err = udp.ListenSet(bind, port, opts); err == nil {
				return set, nil
			}
		}
		if port++; port == 0 {
			port = 20000
		}
	}
	return nil, err
}

// Tokens returns the local API and metrics tokens.
func (s *Service) Tokens() (api, metrics string) { return s.token, s.metrics }

// Poke asks the timer goroutine to run Background by deadline.
func (s *Service) Poke(deadline int64) {
	for {
		select {
		case s.wake <- deadline:
			return
		default:
		}
		select {
		case old := <-s.wake:
			deadline = min(deadline, old)
		default:
		}
	}
}

// Fatal delivers an error that should stop the daemon (an identity
// collision reported by a root).
func (s *Service) Fatal() <-chan error { return s.fatal }

// Close stops the node: sockets closed, goroutines ended.
func (s *Service) Close() error {
	s.once.Do(func() {
		// Like the reference, remember every peer at shutdown (peers.d),
		// so that a restarted node reaches them without WHOIS.
		for _, p := range s.node.Peers(time.Now().UnixMilli()) {
			if p.Role == vl1.RoleLeaf && p.Identity != nil {
				if err := s.home.SavePeer(peerRecord(&p)); err != nil {
					s.log.Warn("caching peer", "peer", p.Address.String(), "error", err)
				}
			}
		}
		close(s.done)
		var errs []error
		for _, h := range s.http {
			errs = append(errs, h.Close())
		}
		errs = append(errs, s.socks.Close())
		if s.socks2 != nil {
			errs = append(errs, s.socks2.Close())
		}
		s.closeErr = errors.Join(errs...)
		s.wg.Wait()
		if s.netns.IsOpen() {
			s.netns.Close()
		}
		s.log.Info("node stopped", "address", s.id.Address.String())
	})
	return s.closeErr
}

func (s *Service) receive(sock vl1.Socket, c *udp.Conn) {
	defer s.wg.Done()
	msgs := make([]udp.Message, c.BatchSize())
	for i := range msgs {
		msgs[i].Buf = make([]byte, 16384)
	}
	for {
		n, err := c.ReadBatch(msgs)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			default:
			}
			s.log.Warn("udp read", "socket", c.String(), "error", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		next := int64(1) << 62
		now := time.Now().UnixMilli() // one clock read per batch
		for i := range n {
			m := &msgs[i]
			next = min(next, s.node.ReceiveWire(now, sock, m.Addr, m.Buf[:m.N]))
		}
		s.flushPorts()
		s.Poke(next)
	}
}

func (s *Service) timer() {
	defer s.wg.Done()
	deadline := s.background()
	t := time.NewTimer(time.Until(time.UnixMilli(deadline)))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case d := <-s.wake:
			if d >= deadline {
				continue
			}
			deadline = d
		case <-t.C:
			deadline = s.background()
		}
		t.Reset(max(time.Until(time.UnixMilli(deadline)), time.Millisecond))
	}
}

// handleEvents does what the core reports, outside the core's lock.
func (s *Service) handleEvents() {
	defer s.wg.Done()
	for {
		select {
		case <-s.done:
			return
		case e := <-s.events:
			s.event(e)
		}
	}
}

func (s *Service) event(e vl1.Event) {
	switch e.Type {
	case vl1.EventOnline:
		s.log.Info("online")
	case vl1.EventOffline:
		s.log.Warn("offline: no root has been heard from")
	case vl1.EventWorldUpdated:
		if err := s.home.SaveWorld(e.World); err != nil {
			s.log.Error("saving world", "id", fmt.Sprintf("%016x", e.World.ID), "error", err)
		} else {
			s.log.Info("world updated", "type", e.World.Type.String(), "id", fmt.Sprintf("%016x", e.World.ID), "timestamp", e.World.Timestamp)
		}
	case vl1.EventMoonRemoved:
		if e.World != nil {
			if err := s.home.DeleteMoon(e.World.ID); err != nil {
				s.log.Error("deleting moon", "error", err)
			}
		}
	case vl1.EventPeerExpired:
		if err := s.home.SavePeer(peerRecord(e.Peer)); err != nil {
			s.log.Warn("caching peer", "peer", e.Peer.Address.String(), "error", err)
		}
	case vl1.EventEchoReply:
		s.api.EchoReply(*e.Echo)
		if s.onEcho != nil {
			s.onEcho(*e.Echo)
		}
	case vl1.EventIdentityCollision:
		err := errors.New("identity collision: a root reports that another node has this node's address; generate a new identity")
		s.log.Error(err.Error())
		select {
		case s.fatal <- err:
		default:
		}
	}
}

func peerRecord(p *vl1.PeerInfo) home.PeerRecord {
	r := home.PeerRecord{Identity: p.Identity}
	if p.Protocol >= 0 {
		r.Version = home.PeerVersion{Protocol: uint16(p.Protocol), Major: uint16(p.Major), Minor: uint16(p.Minor), Revision: uint16(p.Revision)}
	}
	for _, pi := range p.Paths {
		r.Paths = append(r.Paths, pi.Address)
	}
	return r
}

// directPaths lists our addresses for PUSH_DIRECT_PATHS: bound addresses,
// or every usable interface address when bound to a wildcard.
func (s *Service) directPaths() []netip.AddrPort {
	var out []netip.AddrPort
	for _, la := range s.ListeningOn() {
		if !la.Addr().IsUnspecified() {
			out = append(out, la)
			continue
		}
		ifs, err := net.Interfaces()
		if err != nil {
			continue
		}
		for _, ifc := range ifs {
			if !isPhysical(ifc) || s.conf.Settings.InterfaceBlacklisted(ifc.Name) {
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				pfx, err := netip.ParsePrefix(a.String())
				if err != nil {
					continue
				}
				ip := pfx.Addr()
				if ip.Is4() != la.Addr().Is4() || ip.IsLinkLocalUnicast() || ip.IsLoopback() {
					continue
				}
				out = append(out, netip.AddrPortFrom(ip, la.Port()))
			}
		}
	}
	return out
}

// hostAdapter is the Service as the core's Host.
type hostAdapter Service

func (h *hostAdapter) Send(sock vl1.Socket, to netip.AddrPort, data []byte, ttl int) bool {
	s := (*Service)(h)
	c := s.conn(sock, to)
	if c == nil {
		return false
	}
	if ttl > 0 { // rare (NAT punching): sent at once
		return c.WriteToTTL(data, to, ttl) == nil
	}
	return s.senders[c].send(to, data)
}

func (h *hostAdapter) Event(e vl1.Event) {
	select {
	case h.events <- e:
	default:
		h.log.Warn("event queue full; dropping", "type", int(e.Type))
	}
}

// conn picks the socket for a send: the one named, or the first of the
// destination's family.
func (s *Service) conn(sock vl1.Socket, to netip.AddrPort) *udp.Conn {
	conns := s.conns
	if i := int(sock) - 1; i >= 0 && i < len(conns) && conns[i].LocalAddr().Addr().Is4() == to.Addr().Unmap().Is4() {
		return conns[i]
	}
	for _, c := range conns {
		if c.LocalAddr().Addr().Is4() == to.Addr().Unmap().Is4() {
			return c
		}
	}
	return nil
}

// serveAPI starts the local HTTP API on the primary port (TCP), on the
// IPv4 and IPv6 wildcards like the reference; the API itself refuses
// clients that are neither loopback nor in allowManagementFrom.
func (s *Service) serveAPI() error {
	set := s.conf.Settings
	s.api = &api.Service{
		Node:                apiNode{s.node, s},
		Poke:                s.Poke,
		AuthToken:           s.token,
		MetricsToken:        s.metrics,
		AllowManagementFrom: set.AllowManagementFrom,
		HomeDir:             s.home.Dir(),
		Settings: api.Settings{
			PrimaryPort:           s.socks.Port(),
			SecondaryPort:         s.secondaryPort(),
			TertiaryPort:          set.TertiaryPort,
			AllowTCPFallbackRelay: set.TCPFallbackAllowed(),
			ForceTCPRelay:         set.TCPRelayForced(),
			PortMappingEnabled:    false, // no UPnP/NAT-PMP client yet
			SoftwareUpdate:        string(set.SoftwareUpdate),
			SoftwareUpdateChannel: set.SoftwareUpdateChannel,
		},
		LocalConf:   func() map[string]any { return s.conf.Raw },
		ListeningOn: s.ListeningOn,
		LocalPort: func(sock vl1.Socket) int {
			if i := int(sock) - 1; i >= 0 && i < len(s.conns) {
				return int(s.conns[i].LocalAddr().Port())
			}
			return 0
		},
		Counters:   s.node.Stats,
		Networks:   (*apiNetworks)(s),
		Collectors: []prometheus.Collector{metricsCollector{s}},
	}
	// The embedded network controller, on by default as in the reference.
	store, err := controller.OpenFileStore(s.home.ControllerDBPath(&s.conf.Settings))
	if err != nil {
		return fmt.Errorf("controller database: %w", err)
	}
	s.ctl = controller.New(s.id.Address, store, controller.Options{Signer: s.id, Pusher: s.sw})
	s.api.Controller = s.ctl.Handler()
	s.sw.SetMaster(master{s.ctl})

	port := fmt.Sprint(s.socks.Port())
	var bound int
	for _, addr := range []string{"0.0.0.0:" + port, "[::]:" + port} {
		network := "tcp4"
		if strings.HasPrefix(addr, "[") {
			network = "tcp6"
		}
		l, err := net.Listen(network, addr)
		if err != nil {
			s.log.Warn("local API", "listen", addr, "error", err)
			continue
		}
		h := &http.Server{Handler: s.api, ReadHeaderTimeout: 10 * time.Second}
		s.http = append(s.http, h)
		bound++
		go h.Serve(l)
	}
	if bound == 0 {
		return fmt.Errorf("local API: cannot listen on TCP port %s", port)
	}
	return nil
}

// apiNode is the node as the local API sees it: orbiting a moon whose
// file is already in moons.d loads the file, as the reference does,
// instead of asking the seed.
type apiNode struct {
	*vl1.Node
	s *Service
}

func (a apiNode) Orbit(now int64, id uint64, seed identity.Address) int64 {
	if w, err := a.s.home.Moon(id); err == nil && w != nil {
		if err := a.Node.AddMoon(w); err == nil {
			a.s.log.Info("orbiting moon from moons.d", "id", fmt.Sprintf("%016x", id))
			return now
		}
	}
	return a.Node.Orbit(now, id, seed)
}

func (s *Service) secondaryPort() uint16 {
	if s.socks2 == nil {
		return 0
	}
	return s.socks2.Port()
}
