package service

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/controller"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/internal/netns"
)

// vnet is a virtual network test bed: a root, a controller and two
// members on one LAN, all real daemons in namespaces.
type vnet struct {
	nsR, nsC, nsA, nsB *netns.NS
	root, ctl, a, b    *testNode
	nwid               uint64
	seg                *netns.Segment
}

func newVnet(t testing.TB) *vnet {
	t.Helper()
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip", "nft", "ping", "iperf3")
	v := &vnet{nsR: netns.New(t, "root"), nsC: netns.New(t, "ctl"), nsA: netns.New(t, "a"), nsB: netns.New(t, "b")}
	seg := netns.Bridge(t, "lan", lan, v.nsR, v.nsC, v.nsA, v.nsB)
	v.seg = seg
	v.root = startIn(t, v.nsR, "id1.secret", seg.Addr(v.nsR))
	v.ctl = startIn(t, v.nsC, "", seg.Addr(v.nsC))
	v.a = startIn(t, v.nsA, "id2.secret", seg.Addr(v.nsA))
	v.b = startIn(t, v.nsB, "id3.secret", seg.Addr(v.nsB))
	eventually(t, 30*time.Second, "controller and members online", func() bool {
		return v.ctl.online() && v.a.online() && v.b.online()
	})
	v.nwid = uint64(v.ctl.addr)<<24 | 0x00abcd
	v.post(t, "", `{"name":"vnet-test","private":true,"multicastLimit":32,
		"ipAssignmentPools":[{"ipRangeStart":"10.147.17.10","ipRangeEnd":"10.147.17.250"}],
		"routes":[{"target":"10.147.17.0/24"}],"v4AssignMode":{"zt":true}}`)
	return v
}

// post updates the network (member "") or a member through the
// controller, as the /controller API does.
func (v *vnet) post(t testing.TB, member string, body string) {
	t.Helper()
	m, err := controller.DecodeBody([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	ctl := v.ctl.svc.Controller()
	if member == "" {
		_, err = ctl.UpdateNetwork(controller.NetworkID(v.nwid), m)
	} else {
		var addr uint64
		fmt.Sscanf(member, "%x", &addr)
		_, err = ctl.UpdateMember(controller.NetworkID(v.nwid), identity.Address(addr), m)
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (v *vnet) status(n *testNode) vl2.Status {
	in, ok := n.svc.Switch().Info(v.nwid)
	if !ok {
		return -1
	}
	return in.Status
}

// ip4 is a member's first managed IPv4 address.
func (v *vnet) ip4(n *testNode) netip.Addr {
	in, ok := n.svc.Switch().Info(v.nwid)
	if !ok || in.Config == nil {
		return netip.Addr{}
	}
	for _, p := range in.Config.StaticIPs {
		if p.Addr().Is4() {
			return p.Addr()
		}
	}
	return netip.Addr{}
}

// authorize lets both members in and waits until they talk over the
// network; it returns their addresses.
func (v *vnet) authorize(t testing.TB) (ipA, ipB netip.Addr) {
	t.Helper()
	v.post(t, v.a.addr.String(), `{"authorized":true}`)
	v.post(t, v.b.addr.String(), `{"authorized":true}`)
	eventually(t, 20*time.Second, "both members configured", func() bool {
		return v.status(v.a) == vl2.StatusOK && v.status(v.b) == vl2.StatusOK && v.ip4(v.a).IsValid() && v.ip4(v.b).IsValid()
	})
	return v.ip4(v.a), v.ip4(v.b)
}

// hasAddr reports whether a member's interface carries ip.
func hasAddr(t testing.TB, ns *netns.NS, dev string, ip netip.Addr) bool {
	out, err := ns.Command(t.Context(), "ip", "-j", "addr", "show", "dev", dev).Output()
	if err != nil {
		return false
	}
	var links []struct {
		AddrInfo []struct {
			Local string `json:"local"`
		} `json:"addr_info"`
	}
	if json.Unmarshal(out, &links) != nil {
		return false
	}
	for _, l := range links {
		for _, a := range l.AddrInfo {
			if a.Local == ip.String() {
				return true
			}
		}
	}
	return false
}

func pings(ns *netns.NS, t testing.TB, to netip.Addr, count int) bool {
	return ns.Command(t.Context(), "ping", "-c", fmt.Sprint(count), "-i", "0.2", "-W", "2", to.String()).Run() == nil
}

// TestVirtualNetwork: two members join a private network on our
// controller, are denied until authorized, get addresses and talk over
// their interfaces (ARP, ping, iperf3); a deauthorized member is cut off
// within seconds; leaving removes the interface.
func TestVirtualNetwork(t *testing.T) {
	v := newVnet(t)
	for _, n := range []*testNode{v.a, v.b} {
		if err := n.svc.JoinNetwork(v.nwid); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, "both members denied before authorization", func() bool {
		return v.status(v.a) == vl2.StatusAccessDenied && v.status(v.b) == vl2.StatusAccessDenied
	})
	if v.a.svc.PortName(v.nwid) == "" {
		t.Fatal("no interface for a joined network")
	}
	ipA, ipB := v.authorize(t)
	devA, devB := v.a.svc.PortName(v.nwid), v.b.svc.PortName(v.nwid)
	if !strings.HasPrefix(devA, "zt") {
		t.Fatalf("interface name %q", devA)
	}
	eventually(t, 10*time.Second, "managed addresses on the interfaces", func() bool {
		return hasAddr(t, v.nsA, devA, ipA) && hasAddr(t, v.nsB, devB, ipB)
	})
	eventually(t, 20*time.Second, "A pings B over the virtual network", func() bool { return pings(v.nsA, t, ipB, 3) }, v.a, v.b)
	if !pings(v.nsB, t, ipA, 3) {
		t.Fatal("B cannot ping A")
	}

	// A TCP stream across the virtual interfaces (iperf3, 2 s).
	srv := v.nsB.Start(t, "iperf3", "-s", "-1", "-B", ipB.String())
	eventually(t, 5*time.Second, "iperf3 over the virtual network", func() bool {
		r, err := runIperf3(t, v.nsA, ipB, 2)
		return err == nil && r.Bytes > 1<<20
	})
	srv.Stop()

	// The local API's view (what ztctl listnetworks shows).
	st, ok := (*apiNetworks)(v.a.svc).Network(time.Now().UnixMilli(), v.nwid)
	if !ok || st.Status.String() != "OK" || st.PortDeviceName != devA || st.Name != "vnet-test" ||
		len(st.AssignedAddresses) == 0 || st.AssignedAddresses[0].Addr() != ipA || st.MTU != 2800 {
		t.Fatalf("A's /network object: %+v", st)
	}

	// ztctl set NWID allowManaged=0 takes the managed address away; =1
	// brings it back.
	off, on := false, true
	if _, err := (*apiNetworks)(v.a.svc).Join(time.Now().UnixMilli(), v.nwid, api.NetworkSettingsUpdate{AllowManaged: &off}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "A's managed address removed", func() bool { return !hasAddr(t, v.nsA, devA, ipA) })
	if _, err := (*apiNetworks)(v.a.svc).Join(time.Now().UnixMilli(), v.nwid, api.NetworkSettingsUpdate{AllowManaged: &on}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "A's managed address back", func() bool { return hasAddr(t, v.nsA, devA, ipA) })

	// A restarted member rejoins from networks.d and talks again.
	v.a = restartIn(t, v.nsA, v.a)
	eventually(t, 20*time.Second, "A configured again after a restart", func() bool { return v.status(v.a) == vl2.StatusOK })
	devA = v.a.svc.PortName(v.nwid)
	eventually(t, 20*time.Second, "A pings B after its restart", func() bool { return pings(v.nsA, t, ipB, 1) }, v.a, v.b)

	// Deauthorize B: the controller's revocation cuts it off at once.
	v.post(t, v.b.addr.String(), `{"authorized":false}`)
	eventually(t, 10*time.Second, "B cut off after deauthorization", func() bool {
		return !pings(v.nsA, t, ipB, 1)
	})
	// (B itself learns ACCESS_DENIED at its next refresh, within 60 s.)

	// Leave: the interface goes.
	if !v.a.svc.LeaveNetwork(v.nwid) {
		t.Fatal("LeaveNetwork said A was not joined")
	}
	eventually(t, 10*time.Second, "A's interface removed", func() bool {
		return v.nsA.Command(t.Context(), "ip", "link", "show", devA).Run() != nil
	})
}

// restartIn stops a node and starts it again on the same home.
func restartIn(t testing.TB, ns *netns.NS, n *testNode) *testNode {
	t.Helper()
	dir := n.svc.Home().Dir()
	if err := n.svc.Close(); err != nil {
		t.Log(err)
	}
	return startHome(t, ns, dir, Options{})
}

// startHome starts a node on an existing home, with its sockets in ns
// (Home, Port and OnEcho are set here; Logger if o has none).
func startHome(t testing.TB, ns *netns.NS, dir string, o Options) *testNode {
	t.Helper()
	m := &testNode{echoes: make(chan vl1.EchoReply, 16)}
	if o.Logger == nil {
		o.Logger = testLogger("restarted")
	}
	err := ns.Do(func() error {
		o.Home, o.Port = dir, -1
		o.OnEcho = func(r vl1.EchoReply) { m.echoes <- r }
		s, err := Start(o)
		m.svc = s
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m.addr = m.svc.Identity().Address
	t.Cleanup(func() { m.svc.Close() })
	return m
}

// TestMulticastAndBroadcast: the controller joins its own network too
// (its config comes from the embedded controller without a packet). A
// multicast from A reaches B, whose interface joined the group, and not
// the controller's member, which did not; a broadcast reaches both.
func TestMulticastAndBroadcast(t *testing.T) {
	v := newVnet(t)
	for _, n := range []*testNode{v.a, v.b, v.ctl} {
		if err := n.svc.JoinNetwork(v.nwid); err != nil {
			t.Fatal(err)
		}
	}
	v.post(t, v.ctl.addr.String(), `{"authorized":true}`)
	_, ipB := v.authorize(t)
	eventually(t, 20*time.Second, "the controller's own member configured", func() bool {
		return v.status(v.ctl) == vl2.StatusOK && v.ip4(v.ctl).IsValid()
	})
	devA, devB := v.a.svc.PortName(v.nwid), v.b.svc.PortName(v.nwid)
	eventually(t, 20*time.Second, "A pings B", func() bool { return pings(v.nsA, t, ipB, 1) })

	// B joins 239.1.2.3 on its interface; the kernel lists the group's
	// MAC, the daemon sees it within a scan and LIKEs it.
	group := netip.MustParseAddr("239.1.2.3")
	var recv *net.UDPConn
	if err := v.nsB.Do(func() error {
		ifi, err := net.InterfaceByName(devB)
		if err != nil {
			return err
		}
		recv, err = net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: group.AsSlice(), Port: 5555})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer recv.Close()
	if err := v.nsA.AddRoute(netip.MustParsePrefix("224.0.0.0/4"), netip.Addr{}); err != nil {
		// An on-link multicast route through the zt interface.
		if out, err := v.nsA.Command(t.Context(), "ip", "route", "add", "224.0.0.0/4", "dev", devA).CombinedOutput(); err != nil {
			t.Fatalf("multicast route: %v %s", err, out)
		}
	}
	ctlBefore := v.ctl.svc.Switch().Stats().MulticastIn
	got := make(chan string, 16)
	go func() {
		buf := make([]byte, 100)
		for {
			n, _, err := recv.ReadFromUDP(buf)
			if err != nil {
				return
			}
			got <- string(buf[:n])
		}
	}()
	send := func(to netip.AddrPort, msg string, broadcast bool) {
		t.Helper()
		err := v.nsA.Do(func() error {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: v.ip4(v.a).AsSlice()})
			if err != nil {
				return err
			}
			defer c.Close()
			if broadcast {
				rc, _ := c.SyscallConn()
				rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1) })
			}
			_, err = c.WriteToUDPAddrPort([]byte(msg), to)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	defer func() {
		if t.Failed() {
			in, _ := v.b.svc.Switch().Info(v.nwid)
			t.Logf("B's groups: %v", in.Groups)
			t.Logf("A's counters: %+v", v.a.svc.Switch().Stats())
			t.Logf("B's counters: %+v", v.b.svc.Switch().Stats())
		}
	}()
	eventually(t, 15*time.Second, "B receives the multicast", func() bool {
		send(netip.AddrPortFrom(group, 5555), "to the group", false)
		select {
		case m := <-got:
			return m == "to the group"
		case <-time.After(300 * time.Millisecond):
			return false
		}
	})
	if n := v.ctl.svc.Switch().Stats().MulticastIn - ctlBefore; n != 0 {
		t.Fatalf("the controller's member, not subscribed, got %d multicasts", n)
	}

	// Broadcast (enableBroadcast is on by default): both members get it.
	bBefore, cBefore := v.b.svc.Switch().Stats().MulticastIn, v.ctl.svc.Switch().Stats().MulticastIn
	eventually(t, 10*time.Second, "a broadcast reaches B and the controller's member", func() bool {
		send(netip.MustParseAddrPort("10.147.17.255:5556"), "to all", true)
		time.Sleep(200 * time.Millisecond)
		return v.b.svc.Switch().Stats().MulticastIn > bBefore && v.ctl.svc.Switch().Stats().MulticastIn > cBefore
	})
}

// TestAdHocIPv6: two members join an ad-hoc network (no controller:
// ff + port range) and ping each other's 6plane address; the neighbour
// solicitation is answered locally (NDP emulation).
func TestAdHocIPv6(t *testing.T) {
	v := newVnet(t)
	const nwid uint64 = 0xff00160017000000 // ports 0x0016..0x0017 (ICMPv6 is always allowed)
	for _, n := range []*testNode{v.a, v.b} {
		if err := n.svc.JoinNetwork(nwid); err != nil {
			t.Fatal(err)
		}
	}
	ip6 := func(n *testNode) netip.Addr {
		in, ok := n.svc.Switch().Info(nwid)
		if !ok || in.Config == nil || in.Status != vl2.StatusOK {
			return netip.Addr{}
		}
		for _, p := range in.Config.StaticIPs {
			if p.Addr().Is6() {
				return p.Addr()
			}
		}
		return netip.Addr{}
	}
	eventually(t, 20*time.Second, "both members configured", func() bool { return ip6(v.a).IsValid() && ip6(v.b).IsValid() })
	devA := v.a.svc.PortName(nwid)
	eventually(t, 10*time.Second, "the 6plane address on A's interface", func() bool { return hasAddr(t, v.nsA, devA, ip6(v.a)) })
	eventually(t, 30*time.Second, "A pings B's 6plane address", func() bool { return pings(v.nsA, t, ip6(v.b), 1) }, v.a, v.b)
}
