package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

// Link is a veth pair between two namespaces: end A (interface NameA in A)
// and end B (NameB in B). It is deleted when the test ends.
type Link struct {
	A, B         *NS
	NameA, NameB string
	// AddrA and AddrB are the ends' addresses; the zero Prefix for an end
	// without one (a bridge port).
	AddrA, AddrB netip.Prefix

	mu    sync.Mutex
	shape shape
}

// shape is what SetLoss, SetDelay and SetRate asked for; both ends' egress
// carries it.
type shape struct {
	loss          float64 // percent
	delay, jitter time.Duration
	rate          uint64 // bits per second
}

// ErrNoNetem is returned by SetDelay on a kernel built without sch_netem.
var ErrNoNetem = errors.New("netns: this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM)")

// LinkOption changes how Connect (or Segment.Attach) makes a link.
type LinkOption func(*linkConfig)

type linkConfig struct {
	nameA, nameB string
	mtu          int
	masterB      string // bridge that end B joins
}

// Names names the two ends' interfaces instead of the default ztx-v<k>.
// Interface names are at most 15 bytes.
func Names(a, b string) LinkOption {
	return func(c *linkConfig) { c.nameA, c.nameB = a, b }
}

// MTU sets both ends' MTU (the default is the kernel's, 1500).
func MTU(mtu int) LinkOption {
	return func(c *linkConfig) { c.mtu = mtu }
}

// Connect joins a and b with a veth pair, gives the ends addrA and addrB
// (either may be the zero Prefix for no address) and sets both up. The
// interfaces are made directly in their namespaces and never appear in the
// host's.
func Connect(tb testing.TB, a, b *NS, addrA, addrB netip.Prefix, opts ...LinkOption) *Link {
	tb.Helper()
	var c linkConfig
	for _, o := range opts {
		o(&c)
	}
	return connect(tb, a, b, addrA, addrB, c)
}

func connect(tb testing.TB, a, b *NS, addrA, addrB netip.Prefix, c linkConfig) *Link {
	tb.Helper()
	if c.nameA == "" {
		c.nameA = a.nextIfName()
	}
	if c.nameB == "" {
		c.nameB = b.nextIfName()
	}
	for _, name := range []string{c.nameA, c.nameB} {
		if len(name) > 15 {
			tb.Fatalf("netns: interface name %q is longer than 15 bytes", name)
		}
	}
	veth := &netlink.Veth{
		LinkAttrs:     netlink.LinkAttrs{Name: c.nameA, MTU: c.mtu},
		PeerName:      c.nameB,
		PeerNamespace: netlink.NsFd(b.handle),
	}
	if err := a.nl.LinkAdd(veth); err != nil {
		tb.Fatalf("netns: veth %s/%s -- %s/%s: %v", a.Name, c.nameA, b.Name, c.nameB, err)
	}
	l := &Link{A: a, B: b, NameA: c.nameA, NameB: c.nameB, AddrA: addrA, AddrB: addrB}
	tb.Cleanup(func() {
		dumpOnFailure(tb, a, b)
		if err := l.delete(); err != nil {
			tb.Errorf("netns: %v", err)
		}
	})
	if c.mtu != 0 {
		// The peer does not take the MTU from the create request on every
		// kernel; set it explicitly.
		pl, err := b.nl.LinkByName(c.nameB)
		if err == nil {
			err = b.nl.LinkSetMTU(pl, c.mtu)
		}
		if err != nil {
			tb.Fatalf("netns %s: MTU %d on %s: %v", b.Name, c.mtu, c.nameB, err)
		}
	}
	if c.masterB != "" {
		pl, err := b.nl.LinkByName(c.nameB)
		if err == nil {
			var br netlink.Link
			if br, err = b.nl.LinkByName(c.masterB); err == nil {
				err = b.nl.LinkSetMaster(pl, br)
			}
		}
		if err != nil {
			tb.Fatalf("netns %s: adding %s to bridge %s: %v", b.Name, c.nameB, c.masterB, err)
		}
	}
	for _, e := range []struct {
		ns   *NS
		dev  string
		addr netip.Prefix
	}{{a, c.nameA, addrA}, {b, c.nameB, addrB}} {
		if e.addr.IsValid() {
			if err := e.ns.AddAddr(e.dev, e.addr); err != nil {
				tb.Fatal(err)
			}
		}
		if err := e.ns.setLinkUp(e.dev, true); err != nil {
			tb.Fatal(err)
		}
	}
	if err := errors.Join(a.waitOperUp(c.nameA), b.waitOperUp(c.nameB)); err != nil {
		tb.Fatal(err)
	}
	return l
}

// String is "nsA/devA -- nsB/devB".
func (l *Link) String() string {
	return fmt.Sprintf("%s/%s -- %s/%s", l.A.Name, l.NameA, l.B.Name, l.NameB)
}

// delete removes the pair (deleting one end deletes both) and the end's
// nftables loss table; a pair already gone with its namespace is no error.
func (l *Link) delete() error {
	dev, err := l.A.nl.LinkByName(l.NameA)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("link %v: %w", l, err)
	}
	if err := l.A.nl.LinkDel(dev); err != nil {
		return fmt.Errorf("deleting link %v: %w", l, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.shape.loss > 0 {
		return errors.Join(setLoss(l.A, l.NameA, 0), setLoss(l.B, l.NameB, 0))
	}
	return nil
}

// SetDown sets both ends administratively down: the cable is pulled. The
// kernel drops the routes through them and their IPv6 addresses; SetUp
// restores the ones this package added. (To break a path without any
// interface noticing, use SetLoss(100) or Block.)
func (l *Link) SetDown() error {
	return errors.Join(l.A.setLinkUp(l.NameA, false), l.B.setLinkUp(l.NameB, false))
}

// SetUp sets both ends up again and restores their IPv6 addresses and the
// routes through them that NS.AddRoute (or Segment.Attach) added.
func (l *Link) SetUp() error {
	if err := errors.Join(l.A.setLinkUp(l.NameA, true), l.B.setLinkUp(l.NameB, true)); err != nil {
		return err
	}
	if err := errors.Join(l.A.waitOperUp(l.NameA), l.B.waitOperUp(l.NameB)); err != nil {
		return err
	}
	return errors.Join(l.A.restore(l.NameA), l.B.restore(l.NameB))
}

// SetLoss drops percent (0 to 100, in steps of 0.01) of the IPv4 and IPv6
// packets leaving each end, so each direction loses that share; 0 removes
// the loss. It uses an nftables netdev egress chain (table
// netdev ztx-loss-<dev> in the end's namespace) rather than netem, so it
// works on kernels built without sch_netem. ARP and neighbour discovery are
// not dropped.
func (l *Link) SetLoss(percent float64) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("netns: link %v: loss %v%% out of range", l, percent)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := errors.Join(setLoss(l.A, l.NameA, percent), setLoss(l.B, l.NameB, percent)); err != nil {
		return err
	}
	l.shape.loss = percent
	return nil
}

func setLoss(n *NS, dev string, percent float64) error {
	table := "ztx-loss-" + dev
	script := fmt.Sprintf("table netdev %s {}\ndelete table netdev %s\n", table, table)
	if percent > 0 {
		verdict := "drop"
		if percent < 100 {
			verdict = fmt.Sprintf("numgen random mod 10000 < %d drop", int(percent*100+0.5))
		}
		script += fmt.Sprintf(`table netdev %s {
	chain egress {
		type filter hook egress device %q priority 0; policy accept;
		meta protocol { ip, ip6 } %s
	}
}
`, table, dev, verdict)
	}
	_, err := n.runInput(script, "nft", "-f", "-")
	return err
}

// SetDelay delays the packets leaving each end by delay, varied by up to
// jitter, so the round trip grows by twice delay; zero removes it. It needs
// tc and a kernel with sch_netem; without it the error wraps ErrNoNetem.
func (l *Link) SetDelay(delay, jitter time.Duration) error {
	if delay < 0 || jitter < 0 {
		return fmt.Errorf("netns: link %v: negative delay", l)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.shape
	s.delay, s.jitter = delay, jitter
	return l.applyQdiscs(s)
}

// SetRate limits each end's egress to bitsPerSecond with a token bucket
// (tc tbf); zero removes the limit.
func (l *Link) SetRate(bitsPerSecond uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.shape
	s.rate = bitsPerSecond
	return l.applyQdiscs(s)
}

// applyQdiscs replaces both ends' root qdisc with what s asks for: tbf at the
// root for a rate, netem under it (or at the root) for a delay.
func (l *Link) applyQdiscs(s shape) error {
	var errs []error
	for _, e := range []struct {
		ns  *NS
		dev string
	}{{l.A, l.NameA}, {l.B, l.NameB}} {
		errs = append(errs, qdiscs(e.ns, e.dev, s))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	l.shape = s
	return nil
}

func qdiscs(n *NS, dev string, s shape) error {
	// Deleting a root qdisc that is not there fails; nothing to undo then.
	_, _ = n.run("tc", "qdisc", "del", "dev", dev, "root")
	parent := []string{"root"}
	if s.rate > 0 {
		// The bucket holds 20 ms of traffic, and at least 64 KiB so that a
		// GSO super-packet fits.
		burst := max(s.rate/8/50, 64<<10)
		_, err := n.run("tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "tbf",
			"rate", fmt.Sprintf("%dbit", s.rate), "burst", fmt.Sprint(burst), "latency", "100ms")
		if err != nil {
			return err
		}
		parent = []string{"parent", "1:1"}
	}
	if s.delay > 0 {
		args := append([]string{"qdisc", "add", "dev", dev}, parent...)
		args = append(args, "handle", "10:", "netem", "limit", "10000", "delay", fmt.Sprintf("%dus", s.delay.Microseconds()))
		if s.jitter > 0 {
			args = append(args, fmt.Sprintf("%dus", s.jitter.Microseconds()))
		}
		if out, err := n.run("tc", args...); err != nil {
			if strings.Contains(out, "qdisc kind is unknown") {
				return fmt.Errorf("%w: %w", ErrNoNetem, err)
			}
			return err
		}
	}
	return nil
}
