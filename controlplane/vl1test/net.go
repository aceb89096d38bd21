// Package vl1test is a simulated network for testing VL1 nodes without
// sockets or sleeping: hosts with addresses, NAT routers with
// port-preserving mappings and stateful filtering (like Linux masquerade),
// blocked routes, and a virtual clock that delivers datagrams and runs each
// node's Background at its deadline.
package vl1test

import (
	"container/heap"
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/vl1"
)

// Net is the simulated network.
type Net struct {
	Now     int64 // virtual time, ms
	Latency int64 // one-way delay of every datagram, ms

	hosts  map[netip.Addr]*Host // by (inside) IP
	nats   map[netip.Addr]*NAT  // by public IP
	blocks []block
	queue  deliveries
	seq    int

	// Delivered and Dropped count datagrams.
	Delivered, Dropped int
}

type block struct{ a, b netip.Prefix }

// New makes an empty network at time start.
func New(start int64) *Net {
	return &Net{Now: start, Latency: 5, hosts: map[netip.Addr]*Host{}, nats: map[netip.Addr]*NAT{}}
}

// Host is one machine: a node, its address and what its node reported.
type Host struct {
	Net    *Net
	Node   *vl1.Node
	Addr   netip.AddrPort // its own (possibly private) address
	NAT    *NAT           // nil: reachable at Addr
	Events []vl1.Event
	Down   bool // a down host neither sends nor receives
	// Tick, if set, runs with the node's Background (an upper layer's
	// timers) and returns its own deadline.
	Tick     func(now int64) int64
	deadline int64
}

// Send implements vl1.Host.
func (h *Host) Send(sock vl1.Socket, to netip.AddrPort, data []byte, ttl int) bool {
	if h.Down {
		return false
	}
	h.Net.send(h, to, append([]byte(nil), data...), ttl)
	return true
}

// Event implements vl1.Host.
func (h *Host) Event(e vl1.Event) { h.Events = append(h.Events, e) }

// Echoes returns the ECHO replies the node reported.
func (h *Host) Echoes() []vl1.EchoReply {
	var out []vl1.EchoReply
	for _, e := range h.Events {
		if e.Type == vl1.EventEchoReply {
			out = append(out, *e.Echo)
		}
	}
	return out
}

// AddHost attaches a host; make its node with the host as vl1.Host and
// assign it to Node before running the network.
func (n *Net) AddHost(addr netip.AddrPort, nat *NAT) *Host {
	h := &Host{Net: n, Addr: addr, NAT: nat, deadline: n.Now}
	n.hosts[addr.Addr()] = h
	return h
}

// Block drops datagrams between two prefixes (both directions) until the
// returned function is called.
func (n *Net) Block(a, b netip.Prefix) (unblock func()) {
	bl := block{a, b}
	n.blocks = append(n.blocks, bl)
	return func() {
		for i, x := range n.blocks {
			if x == bl {
				n.blocks = append(n.blocks[:i], n.blocks[i+1:]...)
				return
			}
		}
	}
}

func (n *Net) blocked(from, to netip.Addr) bool {
	for _, b := range n.blocks {
		if b.a.Contains(from) && b.b.Contains(to) || b.b.Contains(from) && b.a.Contains(to) {
			return true
		}
	}
	return false
}

// send routes a datagram from h: through h's NAT if it has one.
func (n *Net) send(h *Host, to netip.AddrPort, data []byte, ttl int) {
	from := h.Addr
	if h.NAT != nil {
		from = h.NAT.outbound(h.Addr, to)
		if ttl > 0 && ttl <= 2 {
			return // a low-TTL punch opens our NAT and dies beyond it
		}
	}
	n.seq++
	heap.Push(&n.queue, delivery{at: n.Now + n.Latency, seq: n.seq, from: from, to: to, data: data})
}

// deliver hands a datagram to its destination host, if it gets there.
func (n *Net) deliver(d delivery) {
	if n.blocked(d.from.Addr(), d.to.Addr()) {
		n.Dropped++
		return
	}
	to := d.to
	if nat, ok := n.nats[to.Addr()]; ok {
		inside, ok := nat.inbound(d.from, to.Port())
		if !ok {
			n.Dropped++
			return
		}
		to = inside
	}
	h, ok := n.hosts[to.Addr()]
	if !ok || h.Down || h.Node == nil || h.Addr.Port() != to.Port() {
		n.Dropped++
		return
	}
	n.Delivered++
	h.deadline = min(h.deadline, h.Node.ReceiveWire(n.Now, 1, d.from, d.data))
}

// RunUntil advances the clock to t, delivering datagrams and running
// Background on every node whose deadline comes.
func (n *Net) RunUntil(t int64) {
	for {
		next := t + 1
		if len(n.queue) > 0 {
			next = n.queue[0].at
		}
		for _, h := range n.hosts {
			if h.Node != nil && !h.Down && h.deadline < next {
				next = h.deadline
			}
		}
		if next > t {
			break
		}
		n.Now = max(n.Now, next)
		if len(n.queue) > 0 && n.queue[0].at <= n.Now {
			n.deliver(heap.Pop(&n.queue).(delivery))
			continue
		}
		for _, h := range n.hosts {
			if h.Node != nil && !h.Down && h.deadline <= n.Now {
				h.deadline = h.Node.Background(n.Now)
				if h.Tick != nil {
					h.deadline = min(h.deadline, h.Tick(n.Now))
				}
				if h.deadline <= n.Now {
					h.deadline = n.Now + 1
				}
			}
		}
	}
	n.Now = t
}

// Run advances the clock by d ms.
func (n *Net) Run(d int64) { n.RunUntil(n.Now + d) }

// Poke makes h's node run Background now (after API calls).
func (h *Host) Poke(deadline int64) { h.deadline = min(h.deadline, deadline) }

// Eventually runs the network until cond holds or limit ms pass.
func (n *Net) Eventually(tb testing.TB, limit int64, what string, cond func() bool) {
	tb.Helper()
	end := n.Now + limit
	for !cond() {
		if n.Now >= end {
			tb.Fatalf("after %d ms (virtual): %s never happened", limit, what)
		}
		n.Run(10)
	}
}

type delivery struct {
	at       int64
	seq      int
	from, to netip.AddrPort
	data     []byte
}

type deliveries []delivery

func (d deliveries) Len() int { return len(d) }
func (d deliveries) Less(i, j int) bool {
	return d[i].at < d[j].at || d[i].at == d[j].at && d[i].seq < d[j].seq
}
func (d deliveries) Swap(i, j int) { d[i], d[j] = d[j], d[i] }
func (d *deliveries) Push(x any)   { *d = append(*d, x.(delivery)) }
func (d *deliveries) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}

// NAT is a router with one public address that masquerades the hosts
// behind it like Linux does: a mapping per flow (inside endpoint, remote
// endpoint), keeping the inside port unless that public port is already
// taken towards the same remote; inbound datagrams accepted only as
// replies to a flow. An unsolicited inbound datagram to the public address
// is delivered to the router itself and becomes a connection entry of its
// own, which takes that (public port, remote) tuple: a later outbound flow
// to that remote must then use another port. The low-TTL datagrams of
// NAT punching die before any far NAT: hosts reach one another through at
// least one router.
type NAT struct {
	Public netip.Addr
	flows  map[flowKey]uint16          // (inside, remote) -> public port
	byTup  map[tupleKey]netip.AddrPort // (public port, remote) -> inside
	taken  map[tupleKey]bool           // tuples held by unsolicited entries
	next   uint16
}

type flowKey struct{ inside, remote netip.AddrPort }
type tupleKey struct {
	port   uint16
	remote netip.AddrPort
}

// AddNAT creates a NAT router with a public address.
func (n *Net) AddNAT(public netip.Addr) *NAT {
	nat := &NAT{Public: public, flows: map[flowKey]uint16{}, byTup: map[tupleKey]netip.AddrPort{},
		taken: map[tupleKey]bool{}, next: 32000}
	n.nats[public] = nat
	return nat
}

func (t *NAT) outbound(inside, to netip.AddrPort) netip.AddrPort {
	fk := flowKey{inside, to}
	port, ok := t.flows[fk]
	if !ok {
		port = inside.Port()
		for {
			tk := tupleKey{port, to}
			if _, used := t.byTup[tk]; !used && !t.taken[tk] {
				break
			}
			t.next++
			port = t.next
		}
		t.flows[fk] = port
		t.byTup[tupleKey{port, to}] = inside
	}
	return netip.AddrPortFrom(t.Public, port)
}

func (t *NAT) inbound(from netip.AddrPort, port uint16) (netip.AddrPort, bool) {
	tk := tupleKey{port, from}
	if inside, ok := t.byTup[tk]; ok {
		return inside, true
	}
	t.taken[tk] = true
	return netip.AddrPort{}, false
}
