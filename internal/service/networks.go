package service

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netns"
	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/dataplane/tap"
	"github.com/ztx/ztx/internal/home"
)

// groupScanPeriod is how often the ports' multicast subscriptions are
// read back from the kernel.
const groupScanPeriod = 2000 * time.Millisecond

// port is the virtual interface of one joined network.
type netPort struct {
	nwid uint64
	dev  *tap.Device
	done chan struct{}

	mu    sync.Mutex // guards queue
	queue [][]byte   // frames for the interface, written in batches
	next  [][]byte   // the array for the queue after the one being written
	spare [][]byte   // buffers of written frames

	// What was applied, by the network manager goroutine only.
	mtu    int
	addrs  []netip.Prefix
	routes []tap.Route
	saved  []byte // the config last written to networks.d
}

// netSettings are a member's own choices for one network
// (networks.d/<nwid>.local.conf).
type netSettings struct {
	AllowManaged, AllowGlobal, AllowDefault, AllowDNS bool
	// Whitelist, if not empty, limits the managed addresses accepted.
	Whitelist []netip.Prefix
}

func defaultSettings() netSettings { return netSettings{AllowManaged: true} }

// allowsAddress applies the settings to a managed address, as the
// reference does: whitelist, then global addresses only if allowGlobal.
func (n netSettings) allowsAddress(ip netip.Addr) bool {
	if !n.AllowManaged {
		return false
	}
	if len(n.Whitelist) > 0 && !slices.ContainsFunc(n.Whitelist, func(p netip.Prefix) bool { return p.Contains(ip) }) {
		return false
	}
	if ip.IsUnspecified() {
		return n.AllowDefault
	}
	if isGlobal(ip) {
		return n.AllowGlobal
	}
	return true
}

// allowsRoute applies the settings to a managed route.
func (n netSettings) allowsRoute(r netconf.Route) bool {
	if r.Target.Bits() == 0 {
		return n.AllowManaged && n.AllowDefault
	}
	return n.allowsAddress(r.Target.Addr())
}

// isGlobal reports whether ip is a global unicast address that is not
// private, shared (100.64/10) or ULA.
func isGlobal(ip netip.Addr) bool {
	if !ip.IsGlobalUnicast() || ip.IsPrivate() {
		return false
	}
	return !netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
}

// netState is the VL2 side of the Service.
type netState struct {
	mu       sync.RWMutex
	ports    map[uint64]*netPort
	portErr  map[uint64]string // networks whose interface could not be made
	changes  chan uint64
	resync   chan struct{}
	settings map[uint64]netSettings
}

// background runs both layers' timers.
func (s *Service) background() int64 {
	now := time.Now().UnixMilli()
	next := min(s.node.Background(now), s.sw.Background(now))
	if s.ctl != nil {
		next = min(next, s.ctl.Background(now))
	}
	return next
}

// osArch is the "o" of config requests, as the reference writes it.
func osArch() string {
	arch := runtime.GOARCH
	switch arch {
	case "amd64":
		arch = "x86_64"
	case "arm64":
		arch = "aarch64"
	case "386":
		arch = "x86"
	}
	return runtime.GOOS + "/" + arch
}

// rejoin joins the networks of networks.d, with their saved configs.
func (s *Service) rejoin(now int64) {
	ids, err := s.home.NetworkIDs()
	if err != nil {
		s.log.Warn("networks.d", "error", err)
	}
	for _, id := range ids {
		saved, _ := s.home.JoinNetwork(id)
		s.loadSettings(id)
		if err := s.sw.Join(now, id, saved); err != nil {
			s.log.Warn("rejoining", "network", fmt.Sprintf("%016x", id), "error", err)
		}
	}
	s.Poke(now)
}

// networkSettings returns a network's settings.
func (s *Service) networkSettings(nwid uint64) netSettings {
	s.nets.mu.RLock()
	defer s.nets.mu.RUnlock()
	if set, ok := s.nets.settings[nwid]; ok {
		return set
	}
	return defaultSettings()
}

// vl2Host is the Service as the Switch's Host.
type vl2Host Service

// WriteFrame queues a frame for the network's interface; the receive
// goroutine that caused it writes the queue after its batch.
func (h *vl2Host) WriteFrame(nwid uint64, dst, src vl2.MAC, etherType uint16, data []byte) {
	s := (*Service)(h)
	s.nets.mu.RLock()
	p := s.nets.ports[nwid]
	s.nets.mu.RUnlock()
	if p == nil {
		return
	}
	p.mu.Lock()
	var b []byte
	if n := len(p.spare); n > 0 {
		b, p.spare = p.spare[n-1][:0], p.spare[:n-1]
	}
	b = append(append(append(b, dst[:]...), src[:]...), byte(etherType>>8), byte(etherType))
	p.queue = append(p.queue, append(b, data...))
	p.mu.Unlock()
}

// NetworkChanged hands the network to the manager goroutine.
func (h *vl2Host) NetworkChanged(nwid uint64) {
	select {
	case h.nets.changes <- nwid:
	default:
		select {
		case h.nets.resync <- struct{}{}:
		default:
		}
	}
}

// flushPorts writes the queued frames of every interface.
func (s *Service) flushPorts() {
	s.nets.mu.RLock()
	defer s.nets.mu.RUnlock()
	for _, p := range s.nets.ports {
		p.flush()
	}
}

func (p *netPort) flush() {
	p.mu.Lock()
	q := p.queue
	p.queue, p.next = p.next[:0], nil
	p.mu.Unlock()
	if len(q) == 0 {
		return
	}
	for rest := q; len(rest) > 0; {
		n, err := p.dev.Write(rest, 0)
		if err != nil || n == 0 {
			break
		}
		rest = rest[n:]
	}
	// The frames' buffers and the queue's array are used again.
	p.mu.Lock()
	for _, b := range q {
		if len(p.spare) < 1024 {
			p.spare = append(p.spare, b[:0])
		}
	}
	clear(q)
	p.next = q[:0]
	p.mu.Unlock()
}

// manageNetworks applies what the Switch reports: it makes, configures
// and removes interfaces and keeps networks.d, outside the Switch's lock.
func (s *Service) manageNetworks() {
	defer s.wg.Done()
	// Interfaces are made and configured in the namespace the service
	// was started in: this goroutine keeps a thread there (the thread is
	// discarded when the goroutine ends, as it stays locked).
	runtime.LockOSThread()
	if s.netns.IsOpen() {
		if err := netns.Set(s.netns); err != nil {
			s.log.Error("entering the service's network namespace", "error", err)
		}
	}
	scan := time.NewTicker(groupScanPeriod)
	defer scan.Stop()
	sweep := time.NewTicker(fastSweepPeriod)
	defer sweep.Stop()
	for {
		select {
		case <-s.done:
			s.closePorts()
			s.closeXDP()
			return
		case ev := <-s.fast.events:
			s.programRelay(time.Now().UnixMilli(), ev)
		case <-sweep.C:
			s.sweepFast(time.Now().UnixMilli())
		case nwid := <-s.nets.changes:
			s.syncNetwork(nwid)
		case <-s.nets.resync:
			for _, id := range s.sw.Networks() {
				s.syncNetwork(id)
			}
			s.nets.mu.RLock()
			var gone []uint64
			for id := range s.nets.ports {
				if _, ok := s.sw.Info(id); !ok {
					gone = append(gone, id)
				}
			}
			s.nets.mu.RUnlock()
			for _, id := range gone {
				s.syncNetwork(id)
			}
		case <-scan.C:
			s.scanGroups()
		}
	}
}

// syncNetwork makes the interface and files of one network match the
// Switch's state.
func (s *Service) syncNetwork(nwid uint64) {
	info, joined := s.sw.Info(nwid)
	s.nets.mu.RLock()
	p := s.nets.ports[nwid]
	s.nets.mu.RUnlock()
	if !joined {
		if p != nil {
			s.closePort(p)
		}
		if err := s.home.DeleteNetwork(nwid); err != nil {
			s.log.Warn("networks.d", "network", fmt.Sprintf("%016x", nwid), "error", err)
		}
		s.log.Info("left network", "network", fmt.Sprintf("%016x", nwid))
		return
	}
	if p == nil {
		var err error
		if p, err = s.openPort(nwid, info); err != nil {
			s.nets.mu.Lock()
			s.nets.portErr[nwid] = err.Error()
			s.nets.mu.Unlock()
			s.log.Error("network interface", "network", fmt.Sprintf("%016x", nwid), "error", err)
			return
		}
	}
	if info.Config == nil {
		if p.saved == nil {
			if err := s.home.WriteNetworkConf(nwid, []byte("\n")); err != nil {
				s.log.Warn("networks.d", "error", err)
			}
			p.saved = []byte("\n")
		}
		return
	}
	if !bytes.Equal(p.saved, info.ConfigDict) {
		if err := s.home.WriteNetworkConf(nwid, info.ConfigDict); err != nil {
			s.log.Warn("networks.d", "error", err)
		} else {
			p.saved = slices.Clone(info.ConfigDict)
		}
	}
	s.configurePort(p, info)
}

func (s *Service) openPort(nwid uint64, info vl2.Info) (*netPort, error) {
	mtu := tap.DefaultMTU
	if info.Config != nil {
		mtu = int(info.Config.MTU)
	}
	dev, err := tap.Open(tap.Config{DeviceMap: s.deviceMap(), NetworkID: nwid, MAC: info.MAC, MTU: mtu, Offload: true})
	if err != nil {
		return nil, err
	}
	p := &netPort{nwid: nwid, dev: dev, done: make(chan struct{}), mtu: mtu}
	s.nets.mu.Lock()
	s.nets.ports[nwid] = p
	delete(s.nets.portErr, nwid)
	s.nets.mu.Unlock()
	s.log.Info("joined network", "network", fmt.Sprintf("%016x", nwid), "interface", dev.Name(), "mac", info.MAC.String())
	go s.readPort(p)
	return p, nil
}

func (s *Service) closePort(p *netPort) {
	s.nets.mu.Lock()
	delete(s.nets.ports, p.nwid)
	s.nets.mu.Unlock()
	if err := p.dev.Close(); err != nil {
		s.log.Warn("closing interface", "interface", p.dev.Name(), "error", err)
	}
	<-p.done
}

// closePorts removes every interface (shutdown).
func (s *Service) closePorts() {
	s.nets.mu.RLock()
	ports := make([]*netPort, 0, len(s.nets.ports))
	for _, p := range s.nets.ports {
		ports = append(ports, p)
	}
	s.nets.mu.RUnlock()
	for _, p := range ports {
		s.closePort(p)
	}
}

// readPort sends what the interface emits into the network.
func (s *Service) readPort(p *netPort) {
	defer close(p.done)
	n := p.dev.BatchSize()
	bufs := make([][]byte, n)
	sizes := make([]int, n)
	for i := range bufs {
		bufs[i] = make([]byte, 14+netconf.MaxMTU+64)
	}
	for {
		k, err := p.dev.Read(bufs, sizes, 0)
		if err != nil {
			if errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-s.done:
				return
			default:
			}
			s.nets.mu.RLock()
			closed := s.nets.ports[p.nwid] != p
			s.nets.mu.RUnlock()
			if closed {
				return
			}
			s.log.Debug("tap read", "interface", p.dev.Name(), "error", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		now := time.Now().UnixMilli()
		for i := range k {
			s.sw.SendFrame(now, p.nwid, bufs[i][:sizes[i]])
		}
		p.flush() // frames answered locally (NDP emulation)
	}
}

// configurePort applies a config's MTU, managed addresses and routes,
// as the member's settings allow.
func (s *Service) configurePort(p *netPort, info vl2.Info) {
	c := info.Config
	set := s.networkSettings(p.nwid)
	name := p.dev.Name()
	if mtu := int(c.MTU); mtu != p.mtu && mtu > 0 {
		if err := p.dev.SetMTU(mtu); err != nil {
			s.log.Warn("interface MTU", "interface", name, "error", err)
		} else {
			p.mtu = mtu
		}
	}
	var addrs []netip.Prefix
	if set.AllowManaged {
		for _, ip := range c.StaticIPs {
			if set.allowsAddress(ip.Addr()) {
				addrs = append(addrs, ip)
			}
		}
	}
	var routes []tap.Route
	if set.AllowManaged {
		for _, r := range c.Routes {
			if !r.Target.IsValid() || !set.allowsRoute(r) || onLinkOf(r, addrs) || !routable(r, addrs) {
				continue
			}
			routes = append(routes, tap.Route{Target: r.Target.Masked(), Via: r.Via, Metric: int(r.Metric)})
		}
	}
	if !slices.Equal(addrs, p.addrs) {
		if err := p.dev.SetAddresses(addrs); err != nil {
			s.log.Warn("interface addresses", "interface", name, "error", err)
		} else {
			p.addrs = addrs
		}
	}
	if !slices.Equal(routes, p.routes) {
		if err := p.dev.SetRoutes(routes); err != nil {
			s.log.Warn("interface routes", "interface", name, "error", err)
		} else {
			p.routes = routes
		}
	}
	s.scanPortGroups(p)
}

// routable applies the reference's checks to a managed route: not to a
// link-local, multicast or loopback target, and not via one of our own
// addresses (we are that gateway: the route would loop).
func routable(r netconf.Route, addrs []netip.Prefix) bool {
	t := r.Target.Addr()
	if t.IsLinkLocalUnicast() || t.IsMulticast() || t.IsLoopback() {
		return false
	}
	if r.Via.IsValid() {
		for _, a := range addrs {
			if a.Addr() == r.Via {
				return false
			}
		}
	}
	return true
}

// onLinkOf reports whether r is the network route the kernel adds itself
// for one of the interface's addresses.
func onLinkOf(r netconf.Route, addrs []netip.Prefix) bool {
	if r.Via.IsValid() {
		return false
	}
	for _, a := range addrs {
		if a.Masked() == r.Target.Masked() {
			return true
		}
	}
	return false
}

// scanGroups reads every interface's multicast subscriptions.
func (s *Service) scanGroups() {
	s.nets.mu.RLock()
	ports := make([]*netPort, 0, len(s.nets.ports))
	for _, p := range s.nets.ports {
		ports = append(ports, p)
	}
	s.nets.mu.RUnlock()
	for _, p := range ports {
		s.scanPortGroups(p)
	}
}

// scanPortGroups tells the Switch which groups an interface listens to:
// its link-layer multicast addresses and the address-resolution group of
// each of its IP addresses, as the reference's Linux tap does.
func (s *Service) scanPortGroups(p *netPort) {
	name := p.dev.Name()
	groups := linkMulticast(name)
	if ifc, err := net.InterfaceByName(name); err == nil {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			pfx, err := netip.ParsePrefix(a.String())
			if err != nil {
				continue
			}
			ip := pfx.Addr()
			if ip.Is4() {
				b := ip.As4()
				groups = append(groups, vl2.Group{MAC: vl2.Broadcast, ADI: uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])})
			} else if !ip.IsLinkLocalUnicast() {
				b := ip.As16()
				groups = append(groups, vl2.Group{MAC: vl2.MAC{0x33, 0x33, 0xff, b[13], b[14], b[15]}})
			}
		}
	}
	s.sw.SetGroups(time.Now().UnixMilli(), p.nwid, groups)
}

// linkMulticast reads an interface's multicast MACs from dev_mcast
// ("index name users global hexmac"); call it on a thread in the
// interface's namespace.
func linkMulticast(ifname string) []vl2.Group {
	// thread-self: /proc/net is the namespace of the process's main
	// thread, and the manager's thread may be in another one.
	f, err := os.Open("/proc/thread-self/net/dev_mcast")
	if err != nil {
		if f, err = os.Open("/proc/net/dev_mcast"); err != nil {
			return nil
		}
	}
	defer f.Close()
	var out []vl2.Group
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[1] != ifname {
			continue
		}
		b, err := hex.DecodeString(fields[4])
		if err != nil || len(b) != 6 {
			continue
		}
		var m vl2.MAC
		copy(m[:], b)
		out = append(out, vl2.Group{MAC: m})
	}
	return out
}

// deviceMap reads the home's devicemap file (absent: none).
func (s *Service) deviceMap() map[uint64]string {
	m, _ := s.home.DeviceMap()
	return m
}

// loadSettings reads networks.d/<nwid>.local.conf.
func (s *Service) loadSettings(nwid uint64) netSettings {
	hs, err := s.home.NetworkSettings(nwid)
	if err != nil {
		s.log.Warn("networks.d", "network", fmt.Sprintf("%016x", nwid), "error", err)
		hs = home.DefaultNetworkSettings()
	}
	set := netSettings{AllowManaged: hs.AllowManaged, AllowGlobal: hs.AllowGlobal, AllowDefault: hs.AllowDefault,
		AllowDNS: hs.AllowDNS, Whitelist: hs.ManagedWhitelist}
	s.nets.mu.Lock()
	s.nets.settings[nwid] = set
	s.nets.mu.Unlock()
	return set
}

// apiNetworks is the VL2 side as the local API's Networks.
type apiNetworks Service

func (a *apiNetworks) Networks(now int64) []api.NetworkState {
	s := (*Service)(a)
	var out []api.NetworkState
	for _, id := range s.sw.Networks() {
		if st, ok := a.Network(now, id); ok {
			out = append(out, st)
		}
	}
	return out
}

func (a *apiNetworks) Network(now int64, nwid uint64) (api.NetworkState, bool) {
	s := (*Service)(a)
	in, ok := s.sw.Info(nwid)
	if !ok {
		return api.NetworkState{}, false
	}
	set := s.networkSettings(nwid)
	st := api.NetworkState{
		ID: nwid, MAC: in.MAC, Status: api.NetworkStatus(in.Status), Type: api.NetworkPrivate, MTU: tap.DefaultMTU,
		Bridge: in.Bridge, PortDeviceName: s.PortName(nwid),
		Settings:               api.NetworkSettings{AllowManaged: set.AllowManaged, AllowGlobal: set.AllowGlobal, AllowDefault: set.AllowDefault, AllowDNS: set.AllowDNS},
		MulticastSubscriptions: in.Groups,
	}
	s.nets.mu.RLock()
	if _, bad := s.nets.portErr[nwid]; bad {
		st.Status, st.PortError = api.NetworkPortError, -1
	}
	s.nets.mu.RUnlock()
	if c := in.Config; c != nil {
		st.Name, st.MTU, st.NetconfRevision = c.Name, int(c.MTU), c.Revision
		if !c.Private() {
			st.Type = api.NetworkPublic
		}
		st.BroadcastEnabled = c.Broadcast()
		st.AssignedAddresses = c.StaticIPs
		for _, r := range c.Routes {
			st.Routes = append(st.Routes, api.NetworkRoute{Target: r.Target, Via: r.Via, Flags: r.Flags, Metric: r.Metric})
		}
		st.DNS.Domain = c.DNS.Domain
		for _, srv := range c.DNS.Servers {
			if srv.IsValid() {
				st.DNS.Servers = append(st.DNS.Servers, srv.Addr())
			}
		}
		st.SSOEnabled = c.SSOEnabled
		st.AuthenticationURL = c.AuthURL
		st.AuthenticationExpiryTime = c.AuthExpiry
	}
	if in.AuthInfo != nil {
		st.SSOEnabled = true
		st.AuthenticationURL = in.AuthInfo.AuthURL
	}
	return st, true
}

func (a *apiNetworks) Join(now int64, nwid uint64, upd api.NetworkSettingsUpdate) (api.NetworkState, error) {
	s := (*Service)(a)
	hs, err := s.home.NetworkSettings(nwid)
	if err != nil {
		hs = home.DefaultNetworkSettings()
	}
	cur := upd.Apply(api.NetworkSettings{AllowManaged: hs.AllowManaged, AllowGlobal: hs.AllowGlobal, AllowDefault: hs.AllowDefault, AllowDNS: hs.AllowDNS})
	hs.AllowManaged, hs.AllowGlobal, hs.AllowDefault, hs.AllowDNS = cur.AllowManaged, cur.AllowGlobal, cur.AllowDefault, cur.AllowDNS
	if err := s.home.WriteNetworkSettings(nwid, hs); err != nil {
		return api.NetworkState{}, err
	}
	_, joined := s.sw.Info(nwid)
	if err := s.JoinNetwork(nwid); err != nil {
		return api.NetworkState{}, err
	}
	if joined { // new settings for a running network
		(*vl2Host)(s).NetworkChanged(nwid)
	}
	st, _ := a.Network(now, nwid)
	return st, nil
}

func (a *apiNetworks) Leave(now int64, nwid uint64) bool {
	return (*Service)(a).LeaveNetwork(nwid)
}

// Switch is the VL2 core.
func (s *Service) Switch() *vl2.Switch { return s.sw }

// JoinNetwork joins a network (no-op if joined); its interface appears
// shortly after.
func (s *Service) JoinNetwork(nwid uint64) error {
	now := time.Now().UnixMilli()
	s.loadSettings(nwid)
	if err := s.sw.Join(now, nwid, nil); err != nil {
		return err
	}
	s.Poke(now)
	return nil
}

// LeaveNetwork leaves a network; its interface and files go.
func (s *Service) LeaveNetwork(nwid uint64) bool {
	return s.sw.Leave(time.Now().UnixMilli(), nwid)
}

// PortName is the interface name of a joined network ("" if none yet).
func (s *Service) PortName(nwid uint64) string {
	s.nets.mu.RLock()
	defer s.nets.mu.RUnlock()
	if p := s.nets.ports[nwid]; p != nil {
		return p.dev.Name()
	}
	return ""
}
