package service

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/dataplane/xdp"
)

// Data planes (Options.Dataplane, ztnode --dataplane).
const (
	DataplaneUserspace = "userspace" // sockets and TAPs only
	DataplaneXDP       = "xdp"       // the XDP program on the physical interfaces, or fail
	DataplaneAuto      = "auto"      // XDP where it loads, else userspace
)

const (
	relayProgramInterval = 1000  // ms between reprogramming one pair
	pairLifetime         = 60000 // ms: then one packet goes up again, and the root re-introduces the pair
	fastSweepPeriod      = 10 * time.Second
	pathAlive            = 19000 // ms: a path heard from within this is alive (vl1's window)
)

// relayEvent is a pair the core relayed in userspace.
type relayEvent struct {
	src, dst identity.Address
	sock     vl1.Socket
	to       netip.AddrPort
}

// fastPath is the kernel side of the data plane: one XDP instance per
// physical interface, and what the control plane put in their maps.
type fastPath struct {
	progs  []*xdp.XDP
	events chan relayEvent
	relays map[identity.Address]netip.AddrPort // destinations programmed, and their paths
	pairs  map[[2]identity.Address]int64       // pairs programmed, and when
}

// startXDP loads and attaches the XDP program on the interfaces of the
// bound addresses. With DataplaneAuto a failure is logged and the node
// stays on the userspace path.
func (s *Service) startXDP(o Options) error {
	if o.Dataplane == "" || o.Dataplane == DataplaneUserspace {
		return nil
	}
	if o.Dataplane != DataplaneXDP && o.Dataplane != DataplaneAuto {
		return fmt.Errorf("unknown data plane %q (userspace, xdp or auto)", o.Dataplane)
	}
	err := s.loadXDP(o)
	if err == nil {
		return nil
	}
	for _, p := range s.fast.progs {
		p.Close()
	}
	s.fast.progs = nil
	if o.Dataplane == DataplaneXDP {
		return fmt.Errorf("xdp data plane: %w", err)
	}
	s.log.Warn("XDP unavailable: userspace data plane", "error", err)
	return nil
}

func (s *Service) loadXDP(o Options) error {
	pinDir := o.PinDir
	if pinDir == "" {
		pinDir = xdp.DefaultPinDir
	}
	if err := xdp.MountBPFFS(parentDir(pinDir)); err != nil {
		return err
	}
	if gone, err := xdp.Cleanup(pinDir); err != nil {
		s.log.Warn("cleaning up after a crashed instance", "error", err)
	} else if len(gone) > 0 {
		s.log.Info("removed what a crashed instance left", "pins", gone)
	}
	var ports []uint16
	for _, c := range s.conns {
		if p := c.LocalAddr().Port(); !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	ifaces, err := s.physicalInterfaces()
	if err != nil {
		return err
	}
	if len(ifaces) == 0 {
		var bound []string
		for _, c := range s.conns {
			bound = append(bound, c.LocalAddr().String())
		}
		return fmt.Errorf("no interface to attach to (bound to %v)", bound)
	}
	for _, ifname := range ifaces {
		x, err := xdp.Load(xdp.Options{Interface: ifname, Mode: o.XDPMode, Ports: ports, Address: s.id.Address,
			PinDir: pinDir, Instance: s.id.Address.String() + "-" + ifname})
		if err != nil {
			return fmt.Errorf("%s: %w", ifname, err)
		}
		s.fast.progs = append(s.fast.progs, x)
		s.log.Info("XDP attached", "interface", ifname, "mode", x.Mode().String(), "pins", x.PinDir())
	}
	return nil
}

func parentDir(p string) string {
	p = strings.TrimRight(p, "/")
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		return p[:i]
	}
	return "/"
}

// physicalInterfaces lists the interfaces of the bound addresses (all up,
// non-loopback, non-zt ones when bound to a wildcard).
func (s *Service) physicalInterfaces() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var out []string
	add := func(name string) {
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	for _, c := range s.conns {
		la := c.LocalAddr().Addr()
		for _, ifc := range ifs {
			if !isPhysical(ifc) {
				continue
			}
			if la.IsUnspecified() {
				add(ifc.Name)
				continue
			}
			addrs, _ := ifc.Addrs()
			for _, a := range addrs {
				if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr() == la {
					add(ifc.Name)
				}
			}
		}
	}
	return out, nil
}

// relayed is the core's Relayed hook: it only queues (the core's lock is
// held).
func (s *Service) relayed(src, dst identity.Address, sock vl1.Socket, to netip.AddrPort) {
	if len(s.fast.progs) == 0 {
		return
	}
	select {
	case s.fast.events <- relayEvent{src, dst, sock, to}:
	default:
	}
}

// programRelay lets the kernel relay a pair the core just relayed: the
// destination's path (egress interface, addresses, next-hop MAC) and the
// pair in both directions. It runs on the manager goroutine (in the
// service's namespace). A destination whose next hop is not resolved yet
// stays in userspace until a later packet.
func (s *Service) programRelay(now int64, ev relayEvent) {
	k := [2]identity.Address{ev.src, ev.dst}
	if now-s.fast.pairs[k] < relayProgramInterval && s.fast.relays[ev.dst] == ev.to {
		return
	}
	if s.fast.relays[ev.dst] != ev.to {
		path, err := s.relayPath(ev.sock, ev.to)
		if err != nil {
			s.log.Debug("XDP relay path", "peer", ev.dst.String(), "error", err)
			return
		}
		for _, x := range s.fast.progs {
			if err := x.SetRelay(ev.dst, path); err != nil {
				s.log.Warn("XDP relay entry", "peer", ev.dst.String(), "error", err)
				return
			}
		}
		s.fast.relays[ev.dst] = ev.to
	}
	for _, x := range s.fast.progs {
		if err := x.SetPair(ev.src, ev.dst); err != nil {
			s.log.Debug("XDP pair", "error", err)
			return
		}
	}
	s.fast.pairs[k] = now
}

// relayPath works out how to send to a peer's path from here: the route's
// interface and next hop, the neighbour's MAC, our address and port.
func (s *Service) relayPath(sock vl1.Socket, to netip.AddrPort) (xdp.RelayPath, error) {
	routes, err := netlink.RouteGet(to.Addr().AsSlice())
	if err != nil || len(routes) == 0 {
		return xdp.RelayPath{}, fmt.Errorf("no route to %s: %v", to.Addr(), err)
	}
	r := routes[0]
	link, err := netlink.LinkByIndex(r.LinkIndex)
	if err != nil {
		return xdp.RelayPath{}, err
	}
	hop := to.Addr()
	if r.Gw != nil {
		hop, _ = netip.AddrFromSlice(r.Gw)
		hop = hop.Unmap()
	}
	family := netlink.FAMILY_V4
	if hop.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := netlink.NeighList(r.LinkIndex, family)
	if err != nil {
		return xdp.RelayPath{}, err
	}
	var mac net.HardwareAddr
	for _, n := range neighs {
		ip, _ := netip.AddrFromSlice(n.IP)
		if ip.Unmap() == hop && len(n.HardwareAddr) == 6 &&
			n.State&(netlink.NUD_REACHABLE|netlink.NUD_STALE|netlink.NUD_DELAY|netlink.NUD_PROBE|netlink.NUD_PERMANENT) != 0 {
			mac = n.HardwareAddr
		}
	}
	if mac == nil {
		return xdp.RelayPath{}, fmt.Errorf("next hop %s not resolved", hop)
	}
	c := s.conn(sock, to)
	if c == nil {
		return xdp.RelayPath{}, errors.New("no socket for the path's family")
	}
	src := c.LocalAddr()
	if src.Addr().IsUnspecified() {
		a, ok := netip.AddrFromSlice(r.Src)
		if !ok {
			return xdp.RelayPath{}, errors.New("no source address for the route")
		}
		src = netip.AddrPortFrom(a.Unmap(), src.Port())
	}
	return xdp.RelayPath{Ifindex: r.LinkIndex, Src: src, Dst: to, SrcMAC: link.Attrs().HardwareAddr, DstMAC: mac}, nil
}

// sweepFast forgets what the kernel should no longer do: destinations
// whose path is no longer the peer's live direct path, and pairs older
// than pairLifetime (their next packet comes up, and the root introduces
// them again, so that they can still try to reach each other directly).
func (s *Service) sweepFast(now int64) {
	if len(s.fast.progs) == 0 {
		return
	}
	for dst, to := range s.fast.relays {
		p, ok := s.node.Peer(now, dst)
		live := false
		for _, pi := range p.Paths {
			live = live || (ok && pi.Address == to && !pi.Expired && now-pi.LastReceive < pathAlive)
		}
		if !live {
			for _, x := range s.fast.progs {
				x.DeleteRelay(dst)
			}
			delete(s.fast.relays, dst)
		}
	}
	for k, at := range s.fast.pairs {
		_, srcOK := s.fast.relays[k[0]]
		_, dstOK := s.fast.relays[k[1]]
		if now-at >= pairLifetime || !dstOK && !srcOK {
			for _, x := range s.fast.progs {
				x.DeletePair(k[0], k[1])
			}
			delete(s.fast.pairs, k)
		}
	}
}

// closeXDP detaches the programs and removes their pins.
func (s *Service) closeXDP() {
	for _, x := range s.fast.progs {
		if err := x.Close(); err != nil {
			s.log.Warn("XDP close", "error", err)
		}
	}
	s.fast.progs = nil
}

// XDPCounters sums the counters of the node's XDP instances (false when
// the node runs without XDP).
func (s *Service) XDPCounters() (xdp.Counters, bool) {
	var sum xdp.Counters
	if len(s.fast.progs) == 0 {
		return sum, false
	}
	for _, x := range s.fast.progs {
		c, err := x.Counters()
		if err != nil {
			continue
		}
		for i := range c {
			sum[i].Packets += c[i].Packets
			sum[i].Bytes += c[i].Bytes
		}
	}
	return sum, true
}

// isPhysical reports whether an interface may carry our UDP traffic: up,
// not loopback, not one of our virtual network ports.
func isPhysical(ifc net.Interface) bool {
	return ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 && !isPortName(ifc.Name)
}

// isPortName reports whether an interface name is one a ZeroTier node
// gives its virtual network ports: "zt" and eight base32 characters.
func isPortName(name string) bool {
	if len(name) != 10 || !strings.HasPrefix(name, "zt") {
		return false
	}
	for _, c := range name[2:] {
		if !(c >= 'a' && c <= 'z' || c >= '2' && c <= '7') {
			return false
		}
	}
	return true
}
