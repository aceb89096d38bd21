package vl2_test

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl1test"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

// port records what a Switch wrote to its host.
type port struct {
	frames  map[uint64][][]byte
	changed map[uint64]int
}

func (p *port) WriteFrame(nwid uint64, dst, src vl2.MAC, etherType uint16, data []byte) {
	p.frames[nwid] = append(p.frames[nwid], ethernet(dst, src, etherType, data))
}
func (p *port) NetworkChanged(nwid uint64) { p.changed[nwid]++ }

// master is a minimal controller: it authorizes the members listed and
// issues private-network configs with a COM.
type master struct {
	signer     *identity.Identity
	authorized map[identity.Address]bool
	public     bool
	limit      uint32
	issued     map[identity.Address]*netconf.Config
	rules      []rules.Rule // nil: a single ACCEPT
	edit       func(*netconf.Config)
}

func (m *master) Request(now int64, nwid uint64, member *identity.Identity, _ netconf.Request, _ netip.AddrPort) (*netconf.Config, verbs.ErrorCode, []byte, bool) {
	if !m.authorized[member.Address] && !m.public {
		return nil, verbs.ErrorNetworkAccessDenied, nil, false
	}
	return m.config(now, nwid, member), 0, nil, false
}

func (m *master) config(now int64, nwid uint64, member *identity.Identity) *netconf.Config {
	com := cred.NewCOM(now, 1_800_000, nwid, member)
	if err := com.Sign(m.signer); err != nil {
		panic(err)
	}
	c := &netconf.Config{
		NetworkID: nwid, Timestamp: now, CredentialDelta: 1_800_000, Revision: 1, IssuedTo: member.Address,
		Flags: netconf.FlagBroadcast, MulticastLimit: m.limit, Name: "vl2test", MTU: 2800, COM: &com,
		Rules: m.rules,
	}
	if c.Rules == nil {
		c.Rules = []rules.Rule{{Type: rules.ActionAccept}} // as a controller's default
	}
	if m.public {
		c.Type = netconf.Public
	}
	if m.edit != nil {
		m.edit(c)
	}
	m.issued[member.Address] = c
	return c
}

func (m *master) RecentlyAuthorized(now int64, nwid uint64, a identity.Address) bool {
	return m.authorized[a]
}

type member struct {
	host *vl1test.Host
	sw   *vl2.Switch
	port *port
	id   *identity.Identity
}

type bed struct {
	net    *vl1test.Net
	root   *vl1test.Host
	a, b   member // a is the controller of nwid
	nwid   uint64
	master *master
}

const start = 1_700_000_000_000

func newBed(t testing.TB) *bed {
	t.Helper()
	planet := testvec.Planet(t)
	n := vl1test.New(start)
	bd := &bed{net: n}
	mk := func(secret, addr string, up bool) member {
		id := loadIdentity(t, secret)
		h := n.AddHost(netip.MustParseAddrPort(addr), nil)
		var m member
		m.id, m.host = id, h
		cfg := vl1.Config{Identity: id, Planet: planet}
		if up {
			m.port = &port{frames: map[uint64][][]byte{}, changed: map[uint64]int{}}
			sw, err := vl2.New(vl2.Config{Identity: id, Host: m.port, OSArch: "linux/test", Clock: func() int64 { return n.Now }})
			if err != nil {
				t.Fatal(err)
			}
			m.sw = sw
			cfg.Upper = sw
			h.Tick = sw.Background
		}
		node, err := vl1.New(cfg, h, n.Now)
		if err != nil {
			t.Fatal(err)
		}
		h.Node = node
		if m.sw != nil {
			m.sw.Attach(node)
		}
		return m
	}
	bd.root = mk("id1.secret", "10.77.0.1:9993", false).host
	bd.a = mk("id2.secret", "10.78.0.2:9993", true)
	bd.b = mk("id3.secret", "10.79.0.3:9993", true)
	bd.nwid = uint64(bd.a.id.Address)<<24 | 0x000001
	bd.master = &master{signer: bd.a.id, authorized: map[identity.Address]bool{}, limit: 32, issued: map[identity.Address]*netconf.Config{}}
	bd.a.sw.SetMaster(bd.master)
	return bd
}

func (bd *bed) joinBoth(t *testing.T) {
	t.Helper()
	bd.master.authorized[bd.a.id.Address] = true
	bd.master.authorized[bd.b.id.Address] = true
	for _, m := range []member{bd.a, bd.b} {
		if err := m.sw.Join(bd.net.Now, bd.nwid, nil); err != nil {
			t.Fatal(err)
		}
		m.host.Poke(bd.net.Now)
	}
	bd.net.Eventually(t, 30000, "both members OK", func() bool {
		ia, _ := bd.a.sw.Info(bd.nwid)
		ib, _ := bd.b.sw.Info(bd.nwid)
		return ia.Status == vl2.StatusOK && ib.Status == vl2.StatusOK
	})
}

// ethernet builds a frame.
func ethernet(dst, src vl2.MAC, etherType uint16, payload []byte) []byte {
	f := make([]byte, 14, 14+len(payload))
	copy(f, dst[:])
	copy(f[6:], src[:])
	binary.BigEndian.PutUint16(f[12:], etherType)
	return append(f, payload...)
}

func (bd *bed) send(t *testing.T, from member, frame []byte) bool {
	t.Helper()
	ok := from.sw.SendFrame(bd.net.Now, bd.nwid, frame)
	bd.net.Run(200)
	return ok
}

func TestJoinAndUnicast(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	macA, macB := netconf.MACOf(bd.a.id.Address, bd.nwid), netconf.MACOf(bd.b.id.Address, bd.nwid)
	ia, _ := bd.a.sw.Info(bd.nwid)
	if ia.MAC != macA || ia.Config == nil || ia.Config.Name != "vl2test" {
		t.Fatalf("A's info: %+v", ia)
	}
	frame := ethernet(macB, macA, 0x0800, bytes.Repeat([]byte{0x45}, 1000))
	// The credential push goes out before the first frame, so even the
	// first frame passes B's gate.
	bd.send(t, bd.a, frame)
	got := bd.b.port.frames[bd.nwid]
	if len(got) != 1 || !bytes.Equal(got[0], frame) {
		t.Fatalf("B got %d frames, want the one sent", len(got))
	}
	back := ethernet(macA, macB, 0x0800, []byte("reply"))
	bd.send(t, bd.b, back)
	if got := bd.a.port.frames[bd.nwid]; len(got) == 0 || !bytes.Equal(got[len(got)-1], back) {
		t.Fatalf("A got %d frames, want the reply", len(got))
	}
}

func TestAccessDenied(t *testing.T) {
	bd := newBed(t)
	bd.master.authorized[bd.a.id.Address] = true
	bd.a.sw.Join(bd.net.Now, bd.nwid, nil)
	bd.b.sw.Join(bd.net.Now, bd.nwid, nil)
	bd.net.Eventually(t, 30000, "B denied", func() bool {
		ib, _ := bd.b.sw.Info(bd.nwid)
		return ib.Status == vl2.StatusAccessDenied
	})
	// B, unauthorized and without a COM, cannot reach A.
	macA, macB := netconf.MACOf(bd.a.id.Address, bd.nwid), netconf.MACOf(bd.b.id.Address, bd.nwid)
	if bd.b.sw.SendFrame(bd.net.Now, bd.nwid, ethernet(macA, macB, 0x0800, []byte("x"))) {
		t.Fatal("a member without config sent a frame")
	}
	// Authorize: within a refresh B gets its config.
	bd.master.authorized[bd.b.id.Address] = true
	bd.net.Eventually(t, 30000, "B OK", func() bool {
		ib, _ := bd.b.sw.Info(bd.nwid)
		return ib.Status == vl2.StatusOK
	})
}

func TestNotFound(t *testing.T) {
	bd := newBed(t)
	bd.b.sw.SetMaster(nil)
	other := uint64(bd.b.id.Address)<<24 | 7 // B is no controller
	bd.a.sw.Join(bd.net.Now, other, nil)
	bd.net.Eventually(t, 30000, "A: not found", func() bool {
		ia, _ := bd.a.sw.Info(other)
		return ia.Status == vl2.StatusNotFound
	})
}

func TestRevocationStopsTraffic(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	macA, macB := netconf.MACOf(bd.a.id.Address, bd.nwid), netconf.MACOf(bd.b.id.Address, bd.nwid)
	frame := ethernet(macA, macB, 0x0800, []byte("before"))
	bd.send(t, bd.b, frame)
	bd.net.Run(2000)
	bd.send(t, bd.b, frame)
	before := len(bd.a.port.frames[bd.nwid])
	if before == 0 {
		t.Fatal("no frame before the revocation")
	}
	r := cred.Revocation{ID: 77, NetworkID: bd.nwid, Threshold: bd.net.Now, Flags: cred.RevocationFastPropagate,
		Target: bd.b.id.Address, CredentialType: cred.CredentialCOM}
	if err := r.Sign(bd.a.id); err != nil {
		t.Fatal(err)
	}
	bd.a.sw.PushRevocation(bd.nwid, []identity.Address{bd.b.id.Address}, r)
	bd.net.Run(500)
	bd.send(t, bd.b, ethernet(macA, macB, 0x0800, []byte("after")))
	bd.net.Run(2000)
	if got := len(bd.a.port.frames[bd.nwid]); got != before {
		t.Fatalf("A took %d frames from a revoked member", got-before)
	}
	if m := bd.a.sw.Members(bd.nwid); m[bd.b.id.Address] {
		t.Fatal("revoked member passes the gate")
	}
}

func TestBroadcastAndARP(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	macA, macB := netconf.MACOf(bd.a.id.Address, bd.nwid), netconf.MACOf(bd.b.id.Address, bd.nwid)
	ipB := [4]byte{10, 9, 0, 2}
	// B's port listens to the ARP group of its address.
	bd.b.sw.SetGroups(bd.net.Now, bd.nwid, []vl2.Group{{MAC: vl2.Broadcast, ADI: binary.BigEndian.Uint32(ipB[:])}})
	bd.net.Run(1000)
	arp := make([]byte, 28)
	copy(arp, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(arp[8:], macA[:])
	copy(arp[14:], []byte{10, 9, 0, 1})
	copy(arp[24:], ipB[:])
	req := ethernet(vl2.Broadcast, macA, 0x0806, arp)
	bd.send(t, bd.a, req)
	bd.net.Run(2000)
	got := bd.b.port.frames[bd.nwid]
	if len(got) == 0 || !bytes.Equal(got[len(got)-1], req) {
		t.Fatalf("B did not get the ARP request (%d frames)", len(got))
	}
	// Plain broadcast reaches members subscribed to broadcast.
	bc := ethernet(vl2.Broadcast, macB, 0x0800, []byte("hello all"))
	bd.send(t, bd.b, bc)
	bd.net.Run(2000)
	bd.send(t, bd.b, bc)
	if got := bd.a.port.frames[bd.nwid]; len(got) == 0 || !bytes.Equal(got[len(got)-1], bc) {
		t.Fatalf("A did not get the broadcast (%d frames)", len(got))
	}
}

func TestMulticastOnlySubscribers(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	macA := netconf.MACOf(bd.a.id.Address, bd.nwid)
	g := vl2.Group{MAC: vl2.MAC{0x01, 0x00, 0x5e, 0x01, 0x02, 0x03}}
	frame := ethernet(g.MAC, macA, 0x0800, []byte("to the group"))
	bd.send(t, bd.a, frame)
	bd.net.Run(6000)
	for _, f := range bd.b.port.frames[bd.nwid] {
		if bytes.Equal(f, frame) {
			t.Fatal("a non-subscriber got a multicast")
		}
	}
	bd.b.sw.SetGroups(bd.net.Now, bd.nwid, []vl2.Group{g})
	bd.net.Run(1000)
	bd.send(t, bd.a, frame)
	bd.net.Run(1000)
	found := false
	for _, f := range bd.b.port.frames[bd.nwid] {
		found = found || bytes.Equal(f, frame)
	}
	if !found {
		t.Fatal("the subscriber did not get the multicast")
	}
}

func TestPublicNetwork(t *testing.T) {
	bd := newBed(t)
	bd.master.public = true
	bd.a.sw.Join(bd.net.Now, bd.nwid, nil)
	bd.b.sw.Join(bd.net.Now, bd.nwid, nil)
	bd.net.Eventually(t, 30000, "both OK", func() bool {
		ia, _ := bd.a.sw.Info(bd.nwid)
		ib, _ := bd.b.sw.Info(bd.nwid)
		return ia.Status == vl2.StatusOK && ib.Status == vl2.StatusOK
	})
	macA, macB := netconf.MACOf(bd.a.id.Address, bd.nwid), netconf.MACOf(bd.b.id.Address, bd.nwid)
	frame := ethernet(macB, macA, 0x86dd, []byte("public"))
	bd.send(t, bd.a, frame)
	if got := bd.b.port.frames[bd.nwid]; len(got) != 1 || !bytes.Equal(got[0], frame) {
		t.Fatalf("B got %d frames on a public network, want 1", len(got))
	}
}

func TestLeave(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	if !bd.b.sw.Leave(bd.net.Now, bd.nwid) {
		t.Fatal("Leave of a joined network said false")
	}
	if _, ok := bd.b.sw.Info(bd.nwid); ok {
		t.Fatal("network still there after Leave")
	}
	if bd.b.sw.Leave(bd.net.Now, bd.nwid) {
		t.Fatal("second Leave said true")
	}
}

func loadIdentity(tb testing.TB, name string) *identity.Identity { return testvec.Identity(tb, name) }

// TestControllerKeepsLikes: a controller that is not a member of its
// network keeps the LIKEs of the members it authorized, as the
// reference's do (it is one of the places members GATHER from).
func TestControllerKeepsLikes(t *testing.T) {
	bd := newBed(t)
	bd.master.authorized[bd.b.id.Address] = true
	bd.b.sw.Join(bd.net.Now, bd.nwid, nil)
	bd.net.Eventually(t, 30000, "B OK", func() bool {
		ib, _ := bd.b.sw.Info(bd.nwid)
		return ib.Status == vl2.StatusOK
	})
	g := vl2.Group{MAC: vl2.MAC{0x01, 0x00, 0x5e, 0x0a, 0x0b, 0x0c}}
	bd.b.sw.SetGroups(bd.net.Now, bd.nwid, []vl2.Group{g})
	bd.net.Run(1000)
	if l := bd.a.sw.Likers(bd.nwid, g); len(l) != 1 || l[0] != bd.b.id.Address {
		t.Fatalf("the controller's likers of %v: %v", g, l)
	}
	// Someone the controller never authorized is not recorded.
	delete(bd.master.authorized, bd.b.id.Address)
	g2 := vl2.Group{MAC: vl2.MAC{0x01, 0x00, 0x5e, 0x0a, 0x0b, 0x0d}}
	bd.b.sw.SetGroups(bd.net.Now, bd.nwid, []vl2.Group{g, g2})
	bd.net.Run(1000)
	if l := bd.a.sw.Likers(bd.nwid, g2); len(l) != 0 {
		t.Fatalf("LIKE from an unauthorized member kept: %v", l)
	}
}
