package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

const (
	reach   = 3 * time.Second        // time for a probe that must arrive
	noReach = 500 * time.Millisecond // time for a probe that must not
)

var (
	pfx  = netip.MustParsePrefix
	addr = netip.MustParseAddr
)

func ap(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

func mustReach(t *testing.T, from *NS, to netip.AddrPort) {
	t.Helper()
	if err := from.ProbeUDP(to, reach); err != nil {
		t.Fatalf("%v should reach %v: %v", from.Name, to, err)
	}
}

func mustNotReach(t *testing.T, from *NS, to netip.AddrPort) {
	t.Helper()
	err := from.ProbeUDP(to, noReach)
	if err == nil {
		t.Fatalf("%v reached %v, which should be cut off", from.Name, to)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("probe %v -> %v: %v", from.Name, to, err)
	}
}

// nsInode is the inode of the namespace file, to find references to it.
func nsInode(t *testing.T, n *NS) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(filepath.Join(runDir, n.Name), &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// assertNoDefaultRoute fails if any namespace has a default route (v4 or v6).
func assertNoDefaultRoute(t *testing.T, nss ...*NS) {
	t.Helper()
	for _, n := range nss {
		for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
			var rs []netlink.Route
			var err error
			for range 5 {
				if rs, err = n.nl.RouteList(nil, fam); !errors.Is(err, netlink.ErrDumpInterrupted) {
					break
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if r.Dst == nil || r.Dst.IP.IsUnspecified() {
					t.Errorf("%s has a default route: %v", n.Name, r)
				}
			}
		}
	}
}

func TestDo(t *testing.T) {
	RequireRoot(t)
	n := New(t, "do")
	want := nsInode(t, n)
	var in, orig uint64
	var st unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &st); err != nil {
		t.Fatal(err)
	}
	orig = st.Ino
	err := n.Do(func() error {
		var st unix.Stat_t
		err := unix.Stat("/proc/thread-self/ns/net", &st)
		in = st.Ino
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if in != want || in == orig {
		t.Errorf("Do ran in namespace inode %d, want %d (host %d)", in, want, orig)
	}
	sentinel := errors.New("sentinel")
	if err := n.Do(func() error { return sentinel }); !errors.Is(err, sentinel) {
		t.Errorf("Do returned %v, want fn's error", err)
	}
	func() {
		defer func() {
			if p := recover(); p == nil || !strings.Contains(fmt.Sprint(p), "boom") {
				t.Errorf("Do did not re-raise the panic: %v", p)
			}
		}()
		_ = n.Do(func() error { panic("boom") })
	}()
	for range 50 {
		_ = n.Do(func() error { return nil })
		New(t, "do")
	}
	assertThreadsHome(t, orig)
}

// assertThreadsHome fails if a thread of the process is in a network
// namespace other than home (the inode of the host's).
func assertThreadsHome(t *testing.T, home uint64) {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, p := range tasks {
		var st unix.Stat_t
		if err := unix.Stat(p, &st); err == nil && st.Ino != home {
			t.Errorf("thread %s is in namespace %d, not the host's %d", p, st.Ino, home)
		}
	}
}

func TestCommand(t *testing.T) {
	RequireRoot(t)
	RequireCommands(t, "ip")
	a, b := New(t, "cmd-a"), New(t, "cmd-b")
	Connect(t, a, b, pfx("10.9.0.1/24"), pfx("10.9.0.2/24"), Names("ztx-left", "ztx-right"))
	out := a.Run(t, "ip", "-br", "addr")
	if !strings.Contains(out, "ztx-left") || !strings.Contains(out, "10.9.0.1/24") || strings.Contains(out, "ztx-right") {
		t.Errorf("ip addr inside %s:\n%s", a.Name, out)
	}
	out = b.Run(t, "ip", "-br", "link")
	if !strings.Contains(out, "ztx-right") || strings.Count(out, "\n") != 2 {
		t.Errorf("ip link inside %s should show lo and ztx-right only:\n%s", b.Name, out)
	}
}

func TestVethUDP(t *testing.T) {
	RequireRoot(t)
	a, b := New(t, "a"), New(t, "b")
	Connect(t, a, b, pfx("10.0.0.1/24"), pfx("10.0.0.2/24"))
	Connect(t, a, b, pfx("fd00::1/64"), pfx("fd00::2/64"))
	for _, dst := range []netip.Addr{addr("10.0.0.2"), addr("fd00::2")} {
		e := b.Echo(t, ap(dst, 9999))
		mustReach(t, a, e.Addr())
		src := e.Sources()
		if len(src) != 1 || (src[0].Addr() != addr("10.0.0.1") && src[0].Addr() != addr("fd00::1")) {
			t.Errorf("echo at %v saw %v, want a's address", dst, src)
		}
	}
	// The host's namespace has no route to the test addresses.
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := Probe(c, ap(addr("10.0.0.2"), 9999), noReach); err == nil {
		t.Error("the host reached a test namespace")
	}
	assertNoDefaultRoute(t, a, b)
}

// natTopology is the doc's topology: a root on a public segment, and a node
// behind each of two NAT routers.
type natTopology struct {
	inet         *Segment
	root         *NS
	nat1, nat2   *Router
	node1, node2 *NS
}

func newNATTopology(t *testing.T) *natTopology {
	RequireCommands(t, "ip", "nft")
	var n natTopology
	n.inet = Bridge(t, "inet", pfx("198.51.100.0/24"))
	n.root = New(t, "root")
	n.inet.Attach(t, n.root)
	n.nat1 = NATRouter(t, "nat1", pfx("10.1.0.0/24"), n.inet)
	n.nat2 = NATRouter(t, "nat2", pfx("10.2.0.0/24"), n.inet)
	n.node1, n.node2 = New(t, "node1"), New(t, "node2")
	n.nat1.Inside.Attach(t, n.node1)
	n.nat2.Inside.Attach(t, n.node2)
	return &n
}

func TestNATRouter(t *testing.T) {
	RequireRoot(t)
	n := newNATTopology(t)
	if got := n.inet.Addr(n.root); got != addr("198.51.100.1") {
		t.Errorf("root address %v", got)
	}
	if got := n.nat2.Outside[0].AddrA.Addr(); got != addr("198.51.100.3") {
		t.Errorf("nat2 outside address %v", got)
	}
	if got := n.nat1.Inside.Addr(n.node1); got != addr("10.1.0.2") {
		t.Errorf("node1 address %v", got)
	}
	assertNoDefaultRoute(t, n.inet.NS, n.root, n.nat1.NS, n.nat2.NS, n.node1, n.node2)

	echo := n.root.Echo(t, ap(addr("198.51.100.1"), 9993))
	c := n.node1.ListenUDP(t, ap(addr("10.1.0.2"), 40000))
	if err := Probe(c, echo.Addr(), reach); err != nil {
		t.Fatal(err)
	}
	want := ap(n.nat1.Outside[0].AddrA.Addr(), 40000) // masqueraded, port kept
	if got := echo.Sources(); len(got) != 1 || got[0] != want {
		t.Fatalf("root saw node1 as %v, want %v (the router's outside address)", got, want)
	}
	mustReach(t, n.node2, echo.Addr())

	// Nothing outside reaches the inside: the root has no route there, and a
	// router drops what comes in unasked even when it is addressed there.
	e1 := n.node1.Echo(t, ap(addr("10.1.0.2"), 7))
	mustNotReach(t, n.root, e1.Addr())
	mustNotReach(t, n.nat2.NS, e1.Addr())
	if err := n.nat2.AddRoute(pfx("10.1.0.0/24"), n.nat1.Outside[0].AddrA.Addr()); err != nil {
		t.Fatal(err)
	}
	mustNotReach(t, n.nat2.NS, e1.Addr())
	// The two inside nodes reach each other only through the routers'
	// outside addresses, which drop what was not asked for.
	mustNotReach(t, n.node2, ap(n.nat1.Outside[0].AddrA.Addr(), 40000))
	if err := n.nat2.AddRoute(pfx("0.0.0.0/0"), n.nat1.Outside[0].AddrA.Addr()); err == nil {
		t.Error("AddRoute accepted a default route")
	}

	// Symmetric NAT: one inside socket gets a different outside port per
	// destination.
	echo2 := n.root.Echo(t, ap(addr("198.51.100.1"), 9994))
	if err := n.nat1.SetSymmetric(true); err != nil {
		t.Fatal(err)
	}
	c2 := n.node1.ListenUDP(t, ap(addr("10.1.0.2"), 40001))
	for _, e := range []*Echo{echo, echo2} {
		if err := Probe(c2, e.Addr(), reach); err != nil {
			t.Fatal(err)
		}
	}
	var ports []uint16
	for _, e := range []*Echo{echo, echo2} {
		for _, s := range e.Sources() {
			if s.Addr() == n.nat1.Outside[0].AddrA.Addr() && s.Port() != 40000 {
				ports = append(ports, s.Port())
			}
		}
	}
	if len(ports) != 2 || ports[0] == ports[1] {
		t.Errorf("symmetric NAT mapped ports %v, want two different ones (echo saw %v and %v)", ports, echo.Sources(), echo2.Sources())
	}
}

func TestNATBehindNAT(t *testing.T) {
	RequireRoot(t)
	RequireCommands(t, "ip", "nft")
	inet := Bridge(t, "inet", pfx("203.0.113.0/24"))
	root := New(t, "root")
	inet.Attach(t, root)
	isp := NATRouter(t, "isp", pfx("100.64.0.0/24"), inet)
	home := NATRouter(t, "home", pfx("192.168.1.0/24"), isp.Inside)
	node := New(t, "node")
	home.Inside.Attach(t, node)
	echo := root.Echo(t, ap(addr("203.0.113.1"), 9993))
	mustReach(t, node, echo.Addr())
	if got := echo.Sources(); len(got) != 1 || got[0].Addr() != isp.Outside[0].AddrA.Addr() {
		t.Errorf("root saw %v, want the outer router's address %v", got, isp.Outside[0].AddrA.Addr())
	}
	assertNoDefaultRoute(t, inet.NS, root, isp.NS, home.NS, node)
}

func TestBlock(t *testing.T) {
	RequireRoot(t)
	RequireCommands(t, "ip", "nft")
	a, b := New(t, "a"), New(t, "b")
	Connect(t, a, b, pfx("10.0.0.1/24"), pfx("10.0.0.2/24"))
	e := b.Echo(t, ap(addr("10.0.0.2"), 9999))
	mustReach(t, a, e.Addr())
	r := Block(t, a, pfx("10.0.0.1/32"), pfx("10.0.0.2/32"))
	mustNotReach(t, a, e.Addr())
	if err := r.Remove(); err != nil {
		t.Fatal(err)
	}
	mustReach(t, a, e.Addr())
	if out := a.Run(t, "nft", "list", "tables"); strings.Contains(out, r.Table()) {
		t.Errorf("table %s still there after Remove:\n%s", r.Table(), out)
	}

	// One way: the request gets through, the answer does not.
	r = BlockOneWay(t, b, pfx("10.0.0.2/32"), pfx("10.0.0.1/32"))
	mustNotReach(t, a, e.Addr())
	if got := e.Sources(); len(got) == 0 {
		t.Error("a one-way block stopped the request too")
	}
	r.Remove()
	mustReach(t, a, e.Addr())

	// On a bridge: traffic between two members goes through the bridge's
	// namespace without being routed there.
	c, d := New(t, "c"), New(t, "d")
	seg := Bridge(t, "lan", pfx("10.5.0.0/24"), c, d)
	e = d.Echo(t, ap(seg.Addr(d), 9999))
	mustReach(t, c, e.Addr())
	r = Block(t, seg.NS, pfx("10.5.0.0/24"), pfx("10.5.0.2/32"))
	mustNotReach(t, c, e.Addr())
	r.Remove()
	mustReach(t, c, e.Addr())

	// In a NAT router, with the inside address.
	n := newNATTopology(t)
	echo := n.root.Echo(t, ap(addr("198.51.100.1"), 9993))
	mustReach(t, n.node1, echo.Addr())
	r = Block(t, n.nat1.NS, pfx("10.1.0.2/32"), pfx("198.51.100.1/32"))
	mustNotReach(t, n.node1, echo.Addr())
	mustReach(t, n.node2, echo.Addr())
	r.Remove()
	mustReach(t, n.node1, echo.Addr())
}

func TestLinkDownUp(t *testing.T) {
	RequireRoot(t)
	n := newNATTopology(t)
	echo := n.root.Echo(t, ap(addr("198.51.100.1"), 9993))
	inside := n.nat1.Inside.links[0] // node1's link to its router
	outside := n.nat1.Outside[0]     // the router's link to the public segment
	for _, l := range []*Link{inside, outside} {
		mustReach(t, n.node1, echo.Addr())
		if err := l.SetDown(); err != nil {
			t.Fatal(err)
		}
		mustNotReach(t, n.node1, echo.Addr())
		mustReach(t, n.node2, echo.Addr())
		if err := l.SetUp(); err != nil {
			t.Fatal(err)
		}
		mustReach(t, n.node1, echo.Addr()) // the routes came back
	}

	// IPv6 addresses survive the interface going down.
	a, b := New(t, "a"), New(t, "b")
	l := Connect(t, a, b, pfx("fd00::1/64"), pfx("fd00::2/64"))
	e := b.Echo(t, ap(addr("fd00::2"), 9999))
	if err := l.SetDown(); err != nil {
		t.Fatal(err)
	}
	mustNotReach(t, a, e.Addr())
	if err := l.SetUp(); err != nil {
		t.Fatal(err)
	}
	mustReach(t, a, e.Addr())
}

func TestShaping(t *testing.T) {
	RequireRoot(t)
	RequireCommands(t, "ip", "nft", "tc")
	a, b := New(t, "a"), New(t, "b")
	l := Connect(t, a, b, pfx("10.0.0.1/24"), pfx("10.0.0.2/24"))
	e := b.Echo(t, ap(addr("10.0.0.2"), 9999))

	t.Run("loss", func(t *testing.T) {
		if err := l.SetLoss(100); err != nil {
			t.Fatal(err)
		}
		mustNotReach(t, a, e.Addr())
		if err := l.SetLoss(50); err != nil {
			t.Fatal(err)
		}
		// With 50% each way a round trip survives a quarter of the time;
		// count over 200 tries (expect 50; the bounds are over 5 sigma out).
		c := a.ListenUDP(t, ap(addr("10.0.0.1"), 0))
		ok := 0
		for range 200 {
			if Probe(c, e.Addr(), 10*time.Millisecond) == nil {
				ok++
			}
		}
		if ok < 15 || ok > 100 {
			t.Errorf("%d of 200 probes came back through 50%% loss each way", ok)
		}
		if err := l.SetLoss(0); err != nil {
			t.Fatal(err)
		}
		mustReach(t, a, e.Addr())
		if out := a.Run(t, "nft", "list", "tables"); strings.Contains(out, "ztx-loss") {
			t.Errorf("loss table left after SetLoss(0):\n%s", out)
		}
	})
	t.Run("rate", func(t *testing.T) {
		if err := l.SetRate(10_000_000); err != nil {
			t.Fatal(err)
		}
		if out := a.Run(t, "tc", "qdisc", "show", "dev", l.NameA); !strings.Contains(out, "tbf") || !strings.Contains(out, "10Mbit") {
			t.Errorf("no tbf on %s:\n%s", l.NameA, out)
		}
		mustReach(t, a, e.Addr())
		if err := l.SetRate(0); err != nil {
			t.Fatal(err)
		}
		if out := b.Run(t, "tc", "qdisc", "show", "dev", l.NameB); strings.Contains(out, "tbf") {
			t.Errorf("tbf left on %s:\n%s", l.NameB, out)
		}
	})
	t.Run("delay", func(t *testing.T) {
		err := l.SetDelay(50*time.Millisecond, 0)
		if errors.Is(err, ErrNoNetem) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		mustReach(t, a, e.Addr())
		if rtt := time.Since(start); rtt < 100*time.Millisecond {
			t.Errorf("round trip %v through 50 ms each way", rtt)
		}
		if err := l.SetDelay(0, 0); err != nil {
			t.Fatal(err)
		}
	})
}

func TestStartStop(t *testing.T) {
	RequireRoot(t)
	RequireCommands(t, "ip", "sh", "sleep")
	var pids []int
	t.Run("run", func(t *testing.T) {
		n := New(t, "proc")
		p := n.Start(t, "sh", "-c", "echo ready; exec sleep 600")
		if err := p.WaitOutput("ready", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		// A process that ignores SIGTERM gets SIGKILL.
		q := n.Start(t, "sh", "-c", `trap "" TERM; echo ready; while :; do sleep 0.1; done`)
		if err := q.WaitOutput("ready", 5*time.Second); err != nil {
			t.Fatal(err)
		}
		// The process runs inside the namespace.
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/net", p.PID()), &st); err != nil || st.Ino != nsInode(t, n) {
			t.Errorf("process %d is not in %s (%v)", p.PID(), n.Name, err)
		}
		pids = append(pids, p.PID(), q.PID())
		// One that ends on its own reports how.
		r := n.Start(t, "sh", "-c", "exit 3")
		if err := r.Err(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
			t.Errorf("exit error %v", err)
		}
		if err := r.Stop(); err == nil {
			t.Error("Stop of a process that had failed returned nil")
		}
	})
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after cleanup (%v)", pid, err)
		}
	}
}

// TestNothingRemains builds the full topology in a subtest and checks that
// its cleanup leaves no namespace, interface, nftables table, socket or
// process behind.
func TestNothingRemains(t *testing.T) {
	RequireRoot(t)
	RequireCommands(t, "ip", "nft", "tc", "sleep")
	hostLinks := linkNames(t)
	var home unix.Stat_t
	if err := unix.Stat("/proc/self/ns/net", &home); err != nil {
		t.Fatal(err)
	}
	type nsRec struct {
		name  string
		inode uint64
	}
	var spaces []nsRec
	var pids []int
	t.Run("topology", func(t *testing.T) {
		n := newNATTopology(t)
		all := []*NS{n.inet.NS, n.root, n.nat1.NS, n.nat2.NS, n.node1, n.node2}
		for _, s := range all {
			spaces = append(spaces, nsRec{s.Name, nsInode(t, s)})
		}
		Block(t, n.nat1.NS, pfx("10.1.0.2/32"), pfx("198.51.100.1/32")) // left for cleanup
		if err := n.nat2.Outside[0].SetLoss(10); err != nil {
			t.Fatal(err)
		}
		if err := n.nat2.Outside[0].SetRate(1_000_000); err != nil {
			t.Fatal(err)
		}
		n.root.Echo(t, ap(addr("198.51.100.1"), 9993))
		n.node2.ListenUDP(t, ap(addr("10.2.0.2"), 0))
		for _, s := range all {
			pids = append(pids, s.Start(t, "sleep", "600").PID())
		}
		out := n.nat1.Run(t, "nft", "list", "tables")
		if !strings.Contains(out, "ztx-nat") || !strings.Contains(out, "ztx-block-") {
			t.Fatalf("tables in %s:\n%s", n.nat1.Name, out)
		}
	})
	if len(spaces) == 0 {
		t.Fatal("the topology was not built")
	}
	for _, s := range spaces {
		if _, err := os.Lstat(filepath.Join(runDir, s.name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("namespace %s still in %s (%v)", s.name, runDir, err)
		}
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists (%v)", pid, err)
		}
	}
	// No file descriptor of ours (namespace handle, netlink or UDP socket
	// made in a namespace) and no process holds any of the namespaces, so
	// the kernel destroys them with their interfaces and tables.
	fds, _ := filepath.Glob("/proc/self/fd/*")
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Stat(fd, &st) != nil {
			continue
		}
		for _, s := range spaces {
			if st.Ino == s.inode && strings.HasPrefix(readlink(fd), "net:") {
				t.Errorf("fd %s still holds namespace %s", fd, s.name)
			}
		}
		if strings.HasPrefix(readlink(fd), "socket:") {
			ino, ok := socketNetns(fd)
			for _, s := range spaces {
				if ok && ino == s.inode {
					t.Errorf("socket fd %s is still open in namespace %s", fd, s.name)
				}
			}
		}
	}
	for _, s := range spaces {
		if pids := pidsInInode(s.inode); len(pids) > 0 {
			t.Errorf("processes %v still in namespace %s", pids, s.name)
		}
	}
	assertThreadsHome(t, home.Ino)
	if got := linkNames(t); strings.Join(got, " ") != strings.Join(hostLinks, " ") {
		t.Errorf("host interfaces changed: before %v, after %v", hostLinks, got)
	}
	if _, err := exec.LookPath("nft"); err == nil {
		out, err := exec.Command("nft", "list", "tables").CombinedOutput()
		if err != nil || strings.Contains(string(out), Prefix) {
			t.Errorf("host nftables tables (%v):\n%s", err, out)
		}
	}
}

// socketNetns finds the namespace of a socket of ours (ioctl SIOCGSKNS).
func socketNetns(fdPath string) (uint64, bool) {
	var fd int
	if _, err := fmt.Sscanf(filepath.Base(fdPath), "%d", &fd); err != nil {
		return 0, false
	}
	nsfd, err := unix.IoctlRetInt(fd, unix.SIOCGSKNS)
	if err != nil {
		return 0, false
	}
	defer unix.Close(nsfd)
	var st unix.Stat_t
	if unix.Fstat(nsfd, &st) != nil {
		return 0, false
	}
	return st.Ino, true
}

func readlink(p string) string {
	l, _ := os.Readlink(p)
	return l
}

func pidsInInode(ino uint64) []int {
	procs, _ := filepath.Glob("/proc/[0-9]*/ns/net")
	var pids []int
	for _, p := range procs {
		var st unix.Stat_t
		if unix.Stat(p, &st) == nil && st.Ino == ino {
			var pid int
			fmt.Sscanf(p, "/proc/%d/", &pid)
			pids = append(pids, pid)
		}
	}
	return pids
}

// linkNames lists the interfaces of the host's namespace.
func linkNames(t *testing.T) []string {
	t.Helper()
	var ls []netlink.Link
	var err error
	for range 5 {
		if ls, err = netlink.LinkList(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Attrs().Name)
	}
	return names
}

func TestSweep(t *testing.T) {
	RequireRoot(t)
	// A pid that is certainly gone: a child that has been reaped (this test
	// binary, running no test).
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	stale := fmt.Sprintf("%sstale-%d-0", Prefix, dead)
	h, err := create(stale)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	t.Cleanup(func() { _ = deleteNamed(stale) }) // in case Sweep fails
	// A file that was never mounted on, as a creator that died half-way
	// leaves it.
	unmounted := fmt.Sprintf("%sstale-%d-1", Prefix, dead)
	if err := os.WriteFile(filepath.Join(runDir, unmounted), nil, 0o444); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Remove(filepath.Join(runDir, unmounted)) })
	live := New(t, "live")
	if err := Sweep(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{stale, unmounted} {
		if _, err := os.Lstat(filepath.Join(runDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Sweep left %s (%v)", name, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(runDir, live.Name)); err != nil {
		t.Errorf("Sweep removed the live namespace %s: %v", live.Name, err)
	}
	if h, err := netns.GetFromName(live.Name); err != nil {
		t.Errorf("live namespace unusable after Sweep: %v", err)
	} else {
		h.Close()
	}
}

func TestCreatorPID(t *testing.T) {
	for name, want := range map[string]int{
		"ztx-root-123-0":        123,
		"ztx-nat-a-77-12":       77,
		"ztx-sh-root":           0,
		"ztx-x-0-1":             0,
		"other-1-2":             0,
		"ztx--5-1":              0,
		"ztx-stale-99999999-3x": 0,
	} {
		got, ok := creatorPID(name)
		if (want != 0) != ok || got != want && ok {
			t.Errorf("creatorPID(%q) = %d, %v; want %d", name, got, ok, want)
		}
	}
}
