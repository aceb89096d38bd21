package service

import (
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ztx/ztx/controlplane/controller"
	"github.com/ztx/ztx/dataplane/xdp"
	"github.com/ztx/ztx/internal/netns"
	"golang.org/x/sys/unix"
)

// BenchmarkRelay measures a root relaying a virtual network's traffic
// between two members that cannot reach each other: iperf3 (TCP, 5 s,
// three runs) from A to B through the root, first with the root on the
// userspace data plane, then restarted with XDP (generic mode: veth). It
// reports the medians. (The root's own packet rates are not comparable
// here: XDP counts UDP GSO super-packets once.)
//
//	go test -run '^$' -bench Relay -benchtime 1x ./internal/service
func BenchmarkRelay(b *testing.B) {
	netns.RequireRoot(b)
	netns.RequireCommands(b, "ip", "nft", "iperf3", "ping")
	pins := filepath.Join(b.TempDir(), "bpf")
	if err := xdp.MountBPFFS(pins); err != nil {
		b.Skipf("no BPF file system: %v", err)
	}
	b.Cleanup(func() { unix.Unmount(pins, unix.MNT_DETACH) })
	nsR, nsA, nsB := netns.New(b, "root"), netns.New(b, "a"), netns.New(b, "b")
	seg := netns.Bridge(b, "lan", lan, nsR, nsA, nsB)
	root := startIn(b, nsR, "id1.secret", seg.Addr(nsR))
	a := startIn(b, nsA, "id2.secret", seg.Addr(nsA))
	m := startIn(b, nsB, "id3.secret", seg.Addr(nsB))
	netns.Block(b, seg.NS, netip.PrefixFrom(seg.Addr(nsA), 32), netip.PrefixFrom(seg.Addr(nsB), 32))
	eventually(b, 20*time.Second, "A and B online", func() bool { return a.online() && m.online() })

	// The root is also the network's controller.
	nwid := uint64(root.addr)<<24 | 0x000042
	v := &vnet{nsR: nsR, nsA: nsA, nsB: nsB, root: root, ctl: root, a: a, b: m, nwid: nwid, seg: seg}
	body, _ := controller.DecodeBody([]byte(`{"name":"relay","private":true,
		"ipAssignmentPools":[{"ipRangeStart":"10.147.30.10","ipRangeEnd":"10.147.30.200"}],
		"routes":[{"target":"10.147.30.0/24"}],"v4AssignMode":{"zt":true}}`))
	if _, err := root.svc.Controller().UpdateNetwork(controller.NetworkID(nwid), body); err != nil {
		b.Fatal(err)
	}
	for _, n := range []*testNode{a, m} {
		if err := n.svc.JoinNetwork(nwid); err != nil {
			b.Fatal(err)
		}
	}
	_, ipB := v.authorize(b)
	eventually(b, 20*time.Second, "A pings B through the root", func() bool { return pings(nsA, b, ipB, 1) })
	srv := nsB.Start(b, "iperf3", "-s")
	defer srv.Stop()
	time.Sleep(300 * time.Millisecond)

	measure := func() (gbps []float64) {
		for range 3 {
			gbps = append(gbps, iperf3(b, nsA, ipB))
		}
		return gbps
	}
	var userG, xdpG []float64
	var kernel uint64
	for i := 0; i < b.N; i++ {
		userG = measure()

		// The same root, restarted on the XDP data plane.
		dir := root.svc.Home().Dir()
		root.svc.Close()
		root = startHome(b, nsR, dir, Options{Dataplane: DataplaneXDP, XDPMode: xdp.ModeGeneric, PinDir: filepath.Join(pins, "ztx")})
		eventually(b, 30*time.Second, "A pings B through the XDP root", func() bool { return pings(nsA, b, ipB, 1) })
		xdpG = measure()
		c, _ := root.svc.XDPCounters()
		kernel = c[xdp.RelayTX].Packets + c[xdp.RelayRedirect].Packets
	}
	b.ReportMetric(median(userG), "user-Gbit/s")
	b.ReportMetric(median(xdpG), "xdp-Gbit/s")
	b.Logf("relayed through a userspace root: %v Gbit/s; through an XDP root: %v Gbit/s (kernel-relayed units %d, userspace-relayed packets %d)",
		userG, xdpG, kernel, root.svc.Node().Stats().Relayed)
}
