package netns

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vishvananda/netlink"
)

// bridgeDev is the name of the bridge device in a segment's namespace.
const bridgeDev = Prefix + "br0"

// Segment is one L2 segment: a bridge device in a namespace, with one subnet.
// Namespaces join it with Attach, each through a veth pair whose B end is a
// port of the bridge.
type Segment struct {
	NS     *NS    // namespace that holds the bridge
	Dev    string // the bridge device in NS
	Subnet netip.Prefix
	// Gateway is the address of the router that owns the segment (the inside
	// of a NATRouter), zero for a plain Bridge. Attach routes Routes via it.
	Gateway netip.Addr
	Routes  []netip.Prefix

	mu    sync.Mutex
	next  netip.Addr
	used  map[netip.Addr]bool
	links []*Link
}

// Bridge makes the namespace "ztx-<name>-..." holding a bridge for subnet,
// and attaches members to it in order, with the subnet's first, second, ...
// host addresses. The bridge itself has no address.
func Bridge(tb testing.TB, name string, subnet netip.Prefix, members ...*NS) *Segment {
	tb.Helper()
	s := newSegment(tb, New(tb, name), subnet, netip.Addr{}, nil)
	for _, m := range members {
		s.Attach(tb, m)
	}
	return s
}

func newSegment(tb testing.TB, ns *NS, subnet netip.Prefix, gw netip.Addr, routes []netip.Prefix) *Segment {
	tb.Helper()
	if !subnet.IsValid() || subnet.Addr().Is4In6() {
		tb.Fatalf("netns: bad subnet %v", subnet)
	}
	subnet = subnet.Masked()
	s := &Segment{
		NS: ns, Dev: bridgeDev, Subnet: subnet, Gateway: gw, Routes: routes,
		next: subnet.Addr().Next(), used: make(map[netip.Addr]bool),
	}
	off := false
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: s.Dev}, MulticastSnooping: &off}
	if err := ns.nl.LinkAdd(br); err != nil {
		tb.Fatalf("netns %s: bridge %s: %v", ns.Name, s.Dev, err)
	}
	if gw.IsValid() {
		s.used[gw] = true
		if err := ns.AddAddr(s.Dev, netip.PrefixFrom(gw, subnet.Bits())); err != nil {
			tb.Fatal(err)
		}
	}
	if err := ns.setLinkUp(s.Dev, true); err != nil {
		tb.Fatal(err)
	}
	return s
}

// Attach connects ns to the segment with the next free address of the subnet
// and returns the link (end A in ns, end B on the bridge). On a segment with
// a Gateway, ns also gets a route to each of Routes via the gateway.
func (s *Segment) Attach(tb testing.TB, ns *NS, opts ...LinkOption) *Link {
	tb.Helper()
	s.mu.Lock()
	a := s.next
	for s.used[a] {
		a = a.Next()
	}
	s.next = a.Next()
	s.mu.Unlock()
	if !s.Subnet.Contains(a) || (a.Is4() && !s.Subnet.Contains(a.Next())) {
		tb.Fatalf("netns: segment %v in %s has no free address left", s.Subnet, s.NS.Name)
	}
	return s.AttachAddr(tb, ns, a, opts...)
}

// AttachAddr is Attach with a chosen address.
func (s *Segment) AttachAddr(tb testing.TB, ns *NS, addr netip.Addr, opts ...LinkOption) *Link {
	tb.Helper()
	if !s.Subnet.Contains(addr) {
		tb.Fatalf("netns: %v is not in segment %v", addr, s.Subnet)
	}
	s.mu.Lock()
	if s.used[addr] {
		s.mu.Unlock()
		tb.Fatalf("netns: %v is taken on segment %v", addr, s.Subnet)
	}
	s.used[addr] = true
	s.mu.Unlock()
	c := linkConfig{masterB: s.Dev}
	for _, o := range opts {
		o(&c)
	}
	l := connect(tb, ns, s.NS, netip.PrefixFrom(addr, s.Subnet.Bits()), netip.Prefix{}, c)
	if s.Gateway.IsValid() {
		for _, r := range s.Routes {
			if err := ns.AddRoute(r, s.Gateway); err != nil {
				tb.Fatal(err)
			}
		}
	}
	s.mu.Lock()
	s.links = append(s.links, l)
	s.mu.Unlock()
	return l
}

// Addr is ns's address on the segment (the first, if it is attached more
// than once), or the zero Addr.
func (s *Segment) Addr(ns *NS) netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ns == s.NS && s.Gateway.IsValid() {
		return s.Gateway
	}
	for _, l := range s.links {
		if l.A == ns {
			return l.AddrA.Addr()
		}
	}
	return netip.Addr{}
}

// Router is a namespace that routes between the segment behind it (Inside,
// whose bridge is in the router itself) and one or more outside segments, and
// masquerades what leaves through an outside link as its own address there.
type Router struct {
	*NS
	Inside  *Segment
	Outside []*Link // end A is the router's

	mu        sync.Mutex
	symmetric bool
}

// NATRouter makes a NAT router: namespace "ztx-<name>-...", holding the
// bridge of the inside subnet with the subnet's first host address as the
// gateway, and attached to each outside segment with that segment's next
// free address. Namespaces attached to r.Inside get routes, via the gateway,
// to each outside subnet (and to the subnets those reach through their own
// gateways, so NAT behind NAT works); nothing gets a default route.
//
// The router masquerades (nftables, table inet ztx-nat) packets from the
// inside subnet leaving through an outside link, keeping source ports where
// it can (a port-restricted cone, like most home routers; SetSymmetric makes
// it symmetric), and forwards from outside to inside only what belongs to a
// connection that the inside began.
func NATRouter(tb testing.TB, name string, inside netip.Prefix, outside ...*Segment) *Router {
	tb.Helper()
	RequireCommands(tb, "ip", "nft")
	if len(outside) == 0 {
		tb.Fatalf("netns: NAT router %s needs an outside segment", name)
	}
	ns := New(tb, name)
	var routes []netip.Prefix
	for _, o := range outside {
		for _, p := range append([]netip.Prefix{o.Subnet}, o.Routes...) {
			if p.Addr().Is4() == inside.Addr().Is4() {
				routes = append(routes, p)
			}
		}
	}
	r := &Router{NS: ns}
	r.Inside = newSegment(tb, ns, inside, inside.Masked().Addr().Next(), routes)
	for _, o := range outside {
		r.Outside = append(r.Outside, o.Attach(tb, ns))
	}
	if err := ns.Sysctl("net.ipv4.ip_forward", "1"); err != nil {
		tb.Fatal(err)
	}
	if err := ns.Sysctl("net.ipv6.conf.all.forwarding", "1"); err != nil {
		tb.Fatal(err)
	}
	if err := r.apply(false); err != nil {
		tb.Fatal(err)
	}
	return r
}

// SetSymmetric switches the router between a cone NAT (the default: one
// mapping per inside address and port, kept for every destination) and a
// symmetric one (a new random outside port per destination; masquerade
// fully-random). Mappings that already exist keep their ports.
func (r *Router) SetSymmetric(on bool) error {
	return r.apply(on)
}

func (r *Router) apply(symmetric bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	fam := "ip"
	if r.Inside.Subnet.Addr().Is6() {
		fam = "ip6"
	}
	masq := "masquerade"
	if symmetric {
		masq += " fully-random"
	}
	var post, fwd strings.Builder
	for _, o := range r.Outside {
		fmt.Fprintf(&post, "\t\toifname %q %s saddr %v %s\n", o.NameA, fam, r.Inside.Subnet, masq)
		fmt.Fprintf(&fwd, "\t\tiifname %q oifname %q ct state established,related accept\n", o.NameA, r.Inside.Dev)
		fmt.Fprintf(&fwd, "\t\tiifname %q oifname %q drop\n", o.NameA, r.Inside.Dev)
	}
	script := fmt.Sprintf(`table inet ztx-nat {}
delete table inet ztx-nat
table inet ztx-nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
%s	}
	chain forward {
		type filter hook forward priority filter; policy accept;
%s	}
}
`, post.String(), fwd.String())
	if _, err := r.runInput(script, "nft", "-f", "-"); err != nil {
		return err
	}
	r.symmetric = symmetric
	return nil
}

var ruleSeq atomic.Uint64

// Rule is a set of nftables drop rules made by Block, in tables
// inet ztx-block-<n> and bridge ztx-block-<n> of one namespace.
type Rule struct {
	ns    *NS
	table string

	once sync.Once
	err  error
}

// Block drops the IP packets between from and to (both ways) that ns sends,
// receives, routes or bridges, until Remove or the end of the test. Put it in
// a node to cut that node off, in a router or bridge namespace to cut a path
// through it (to force relaying, for instance). Behind a NAT router, block
// in the router with the inside address: its filter sees packets before
// masquerading.
func Block(tb testing.TB, ns *NS, from, to netip.Prefix) *Rule {
	tb.Helper()
	return block(tb, ns, from, to, true)
}

// BlockOneWay is Block for the packets from from to to only.
func BlockOneWay(tb testing.TB, ns *NS, from, to netip.Prefix) *Rule {
	tb.Helper()
	return block(tb, ns, from, to, false)
}

func block(tb testing.TB, ns *NS, from, to netip.Prefix, both bool) *Rule {
	tb.Helper()
	RequireCommands(tb, "ip", "nft")
	if !from.IsValid() || !to.IsValid() || from.Addr().Is4() != to.Addr().Is4() {
		tb.Fatalf("netns: Block %v -> %v: want two prefixes of one address family", from, to)
	}
	fam := "ip"
	if from.Addr().Is6() {
		fam = "ip6"
	}
	match := fmt.Sprintf("\t\t%s saddr %v %s daddr %v drop\n", fam, from.Masked(), fam, to.Masked())
	if both {
		match += fmt.Sprintf("\t\t%s saddr %v %s daddr %v drop\n", fam, to.Masked(), fam, from.Masked())
	}
	r := &Rule{ns: ns, table: fmt.Sprintf("%sblock-%d", Prefix, ruleSeq.Add(1)-1)}
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s {\n", r.table)
	for _, hook := range []string{"input", "output", "forward"} {
		fmt.Fprintf(&b, "\tchain %s {\n\t\ttype filter hook %s priority -10; policy accept;\n%s\t}\n", hook, hook, match)
	}
	fmt.Fprintf(&b, "}\ntable bridge %s {\n", r.table)
	fmt.Fprintf(&b, "\tchain forward {\n\t\ttype filter hook forward priority -10; policy accept;\n%s\t}\n}\n", match)
	if _, err := ns.runInput(b.String(), "nft", "-f", "-"); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		dumpOnFailure(tb, ns)
		if err := r.Remove(); err != nil {
			tb.Errorf("netns: %v", err)
		}
	})
	return r
}

// Table is the name of the rule's nftables tables (one inet, one bridge).
func (r *Rule) Table() string { return r.table }

// Remove deletes the rule's tables; later calls do nothing.
func (r *Rule) Remove() error {
	r.once.Do(func() {
		_, r.err = r.ns.runInput(fmt.Sprintf("delete table inet %s\ndelete table bridge %s\n", r.table, r.table), "nft", "-f", "-")
	})
	return r.err
}
