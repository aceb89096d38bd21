package controller

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/dict"
	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

const sessionNWID = 0xf737c19395000001

// pushRecorder is a Pusher that records what it is given. Each call also
// takes the controller's lock (through LastRequest), so a push made with
// the lock held would deadlock the test.
type pushRecorder struct {
	ctl *Controller
	mu  sync.Mutex
	cfg []pushedConfig
	rev []pushedRevocation
}

var _ Pusher = (*pushRecorder)(nil)

type pushedConfig struct {
	to   identity.Address
	conf *netconf.Config
}

type pushedRevocation struct {
	to  []identity.Address
	rev cred.Revocation
}

func (p *pushRecorder) PushConfig(nwid uint64, to identity.Address, c *netconf.Config) {
	p.ctl.LastRequest(nwid, to)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.NetworkID != nwid || c.IssuedTo != to {
		panic(fmt.Sprintf("push of config %x/%v as %x/%v", c.NetworkID, c.IssuedTo, nwid, to))
	}
	p.cfg = append(p.cfg, pushedConfig{to, c})
}

func (p *pushRecorder) PushRevocation(nwid uint64, to []identity.Address, r cred.Revocation) {
	p.ctl.LastRequest(nwid, r.Target)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.NetworkID != nwid {
		panic("revocation for another network")
	}
	p.rev = append(p.rev, pushedRevocation{slices.Clone(to), r})
}

// take returns and forgets what was pushed.
func (p *pushRecorder) take() ([]pushedConfig, []pushedRevocation) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, r := p.cfg, p.rev
	p.cfg, p.rev = nil, nil
	return c, r
}

// reqEnv is a controller with the session's identity as signer, a real
// FileStore and a clock the test sets.
type reqEnv struct {
	t      *testing.T
	ctl    *Controller
	store  *FileStore
	push   *pushRecorder
	signer *identity.Identity
	now    int64 // ms; the API and Request use the same clock
	mu     sync.Mutex
}

func newReqEnv(t *testing.T, dir string) *reqEnv {
	t.Helper()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &reqEnv{t: t, store: s, signer: testvec.Identity(t, "id1.secret"), now: 1795582980000}
	e.ctl = New(ctrlAddr, s, Options{
		Now:    func() time.Time { e.mu.Lock(); defer e.mu.Unlock(); return time.UnixMilli(e.now) },
		Signer: e.signer,
	})
	e.push = &pushRecorder{ctl: e.ctl}
	e.ctl.SetPusher(e.push)
	return e
}

func (e *reqEnv) advance(ms int64) int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now += ms
	return e.now
}

func (e *reqEnv) request(id *identity.Identity, meta netconf.Request) Answer {
	return e.ctl.Request(e.advance(1001), sessionNWID, id, meta, netip.MustParseAddrPort("10.77.0.9:9993"))
}

func (e *reqEnv) network(body string) *Network {
	e.t.Helper()
	b, err := DecodeBody([]byte(body))
	if err != nil {
		e.t.Fatal(err)
	}
	n, err := e.ctl.UpdateNetwork(sessionNWID, b)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *reqEnv) member(a identity.Address, body string) *Member {
	e.t.Helper()
	b, err := DecodeBody([]byte(body))
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := e.ctl.UpdateMember(sessionNWID, a, b)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *reqEnv) stored(a identity.Address) *Member {
	e.t.Helper()
	m, err := e.store.Member(sessionNWID, a)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

var defaultMeta = netconf.DefaultRequest("linux/x86_64")

// sessionConfigs returns the configs the reference controller issued in
// the session (answers and pushes), each checked against the controller's
// signature.
func sessionConfigs(t *testing.T) []*dict.Dictionary {
	t.Helper()
	ctl := testvec.Identity(t, "id1.public")
	var out []*dict.Dictionary
	for _, e := range testvec.MustSession(t).ZeroTier() {
		var body []byte
		switch {
		case e.Verb == 0x03 && len(e.Plaintext) > 9 && e.Plaintext[0] == 0x0b:
			body = e.Plaintext[9:]
		case e.Verb == 0x0c:
			body = e.Plaintext
		default:
			continue
		}
		k, err := verbs.ParseConfigChunk(body)
		if err != nil {
			t.Fatal(err)
		}
		as, err := netconf.NewAssembler(sessionNWID, ctl, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, err := as.Add(k)
		if err != nil || b == nil {
			t.Fatalf("session config #%d: %v", e.Index, err)
		}
		d, err := dict.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	if len(out) != 6 {
		t.Fatalf("%d configs in the session, want 6", len(out))
	}
	return out
}

// The configs the controller computes for the session's members from the
// reference's own database are byte for byte what the reference issued
// at the same time (C25519 signatures are deterministic).
func TestRequestSessionConfigs(t *testing.T) {
	ids := map[identity.Address]*identity.Identity{}
	for _, f := range []string{"id2.public", "id3.public"} {
		id := testvec.Identity(t, f)
		ids[id.Address] = id
	}
	ctlID := testvec.Identity(t, "id1.public")
	for i, want := range sessionConfigs(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			ref, err := netconf.ParseDictionary(want)
			if err != nil {
				t.Fatal(err)
			}
			e := newReqEnv(t, copyTree(t, refDB))
			before := e.stored(ref.IssuedTo)
			// The first configs went out before the addresses in the
			// database were set through the API: they carry the ones the
			// controller assigned itself then.
			autoAssigned := !slices.Contains(before.IPAssignments, ref.StaticIPs[0].Addr().String())
			if autoAssigned {
				for _, m := range []identity.Address{0x2e57b20512, 0xafee230b1a} {
					mm := e.stored(m)
					mm.IPAssignments = nil
					if err := e.store.PutMember(mm); err != nil {
						t.Fatal(err)
					}
				}
				before = e.stored(ref.IssuedTo)
			}
			a := e.ctl.Request(ref.Timestamp, sessionNWID, ids[ref.IssuedTo], defaultMeta, netip.AddrPort{})
			if a.Config == nil {
				t.Fatalf("answer %+v", a)
			}
			got, err := a.Config.AppendMarshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			if w := want.AppendMarshal(nil); !bytes.Equal(got, w) {
				t.Errorf("config differs from the reference's:\n got %q\nwant %q", got, w)
			}

			com := a.Config.COM
			if err := com.Verify(ctlID); err != nil {
				t.Errorf("COM: %v", err)
			}
			h := cred.IdentityHash(ids[ref.IssuedTo])
			wantQ := []cred.Qualifier{
				{ID: 0, Value: uint64(ref.Timestamp), MaxDelta: 1800000},
				{ID: 1, Value: sessionNWID},
				{ID: 2, Value: uint64(ref.IssuedTo), MaxDelta: ^uint64(0)},
				{ID: 3, Value: h[0], MaxDelta: ^uint64(0)},
				{ID: 4, Value: h[1], MaxDelta: ^uint64(0)},
				{ID: 5, Value: h[2], MaxDelta: ^uint64(0)},
				{ID: 6, Value: h[3], MaxDelta: ^uint64(0)},
			}
			if !reflect.DeepEqual(com.Qualifiers, wantQ) {
				t.Errorf("qualifiers %+v", com.Qualifiers)
			}
			if len(a.Config.COOs) != 1 || a.Config.COOs[0].Verify(ctlID) != nil {
				t.Errorf("COOs %+v", a.Config.COOs)
			}
			// Nothing about the member changed but for the addresses
			// assigned, so nothing else was written.
			after := e.stored(ref.IssuedTo)
			if autoAssigned {
				if !reflect.DeepEqual(after.IPAssignments, []string{ref.StaticIPs[0].Addr().String()}) || after.Revision != before.Revision+1 {
					t.Errorf("assigned %v revision %d", after.IPAssignments, after.Revision)
				}
				after.IPAssignments, after.Revision = before.IPAssignments, before.Revision
			}
			if !reflect.DeepEqual(after, before) {
				t.Errorf("member record changed:\n%+v\n%+v", before, after)
			}
			if !e.ctl.RecentlyAuthorized(ref.Timestamp+AuthorizedWindow-1, sessionNWID, ref.IssuedTo) ||
				e.ctl.RecentlyAuthorized(ref.Timestamp+AuthorizedWindow, sessionNWID, ref.IssuedTo) {
				t.Error("RecentlyAuthorized window")
			}
		})
	}
}

// A config survives the trip a VL2 core gives it: chunks signed with the
// node identity, reassembled and parsed by a member.
func TestRequestConfigChunks(t *testing.T) {
	e := newReqEnv(t, t.TempDir())
	e.network(`{"private":false,"name":"big","v4AssignMode":"zt","v6AssignMode":"rfc4193,6plane",
		"routes":[{"target":"10.1.0.0/16"}],"ipAssignmentPools":[{"ipRangeStart":"10.1.0.1","ipRangeEnd":"10.1.255.254"}],
		"rules":[` + strings.Repeat(`{"type":"MATCH_ETHERTYPE","etherType":2048},`, 300) + `{"type":"ACTION_ACCEPT"}]}`)
	b := testvec.Identity(t, "id3.public")
	a := e.request(b, defaultMeta)
	if a.Config == nil {
		t.Fatalf("answer %+v", a)
	}
	conf, err := a.Config.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	chunks, err := netconf.Split(e.signer, sessionNWID, 42, conf, 1000)
	if err != nil || len(chunks) < 2 {
		t.Fatalf("%d chunks, %v", len(chunks), err)
	}
	as, err := netconf.NewAssembler(sessionNWID, e.signer.PublicOnly(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var whole []byte
	for _, k := range chunks {
		if whole, err = as.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	got, err := netconf.Parse(whole)
	if err != nil {
		t.Fatal(err)
	}
	if err := got.CheckFor(sessionNWID, b.Address); err != nil || len(got.Rules) != 301 || len(got.StaticIPs) != 3 {
		t.Errorf("parsed %+v %v", got, err)
	}
}

// memberIdentity is a member identity: A and B of the session.
func memberIdentities(t *testing.T) (*identity.Identity, *identity.Identity) {
	return testvec.Identity(t, "id2.public"), testvec.Identity(t, "id3.public")
}

func TestRequestAnswers(t *testing.T) {
	a, b := memberIdentities(t)
	impostor := &identity.Identity{Address: a.Address, Public: b.Public}
	withToken := func(tok string) netconf.Request { m := defaultMeta; m.Auth = "token:" + tok; return m }
	for _, c := range []struct {
		name    string
		network string // body of the network POST; "" for no network
		member  string // body of a POST for member a before the request; "" for none
		nwid    uint64
		who     *identity.Identity
		meta    netconf.Request
		want    Answer // Config compared only for nil-ness
		check   func(t *testing.T, m *Member, conf *netconf.Config)
	}{
		{name: "other controller", network: `{}`, nwid: 0x1122334455000001, who: a, meta: defaultMeta,
			want: Answer{Drop: true}},
		{name: "unknown network", nwid: sessionNWID, who: a, meta: defaultMeta,
			want: Answer{Error: verbs.ErrorObjNotFound}},
		{name: "not authorized", network: `{}`, nwid: sessionNWID, who: a, meta: defaultMeta,
			want: Answer{Error: verbs.ErrorNetworkAccessDenied},
			check: func(t *testing.T, m *Member, _ *netconf.Config) {
				if m.Authorized || m.Identity != a.String() || m.VMajor != -1 || m.Revision != 1 {
					t.Errorf("member %+v", m)
				}
			}},
		{name: "authorized", network: `{}`, member: `{"authorized":true}`, nwid: sessionNWID, who: a, meta: defaultMeta,
			want: Answer{Config: &netconf.Config{}},
			check: func(t *testing.T, m *Member, conf *netconf.Config) {
				if *m.LastAuthorizedCredentialType != "api" || m.VMajor != 1 || m.VMinor != 14 || m.VRev != 1 || m.VProto != 12 {
					t.Errorf("member %+v", m)
				}
				if conf.Type != netconf.Private || len(conf.Rules) != 1 || conf.Rules[0].Type != rules.ActionAccept ||
					conf.Revision != 1 || conf.MTU != 2800 || conf.MulticastLimit != 32 || conf.Flags != netconf.FlagBroadcast ||
					conf.CredentialDelta != netconf.DefaultCredentialDelta || conf.COOs != nil || conf.StaticIPs != nil {
					t.Errorf("config %+v", conf)
				}
			}},
		{name: "impostor", network: `{}`, member: `{"authorized":true}`, nwid: sessionNWID, who: impostor, meta: defaultMeta,
			want: Answer{Error: verbs.ErrorNetworkAccessDenied},
			check: func(t *testing.T, m *Member, _ *netconf.Config) {
				if m.Identity != a.String() || m.Revision != 2 {
					t.Errorf("member %+v", m)
				}
			}},
		{name: "public", network: `{"private":false,"enableBroadcast":false,"mtu":1400,"multicastLimit":3,"name":"pub"}`,
			nwid: sessionNWID, who: a, meta: defaultMeta,
			want: Answer{Config: &netconf.Config{}},
			check: func(t *testing.T, m *Member, conf *netconf.Config) {
				if !m.Authorized || *m.LastAuthorizedCredentialType != "public" || m.LastAuthorizedCredential != nil ||
					m.LastAuthorizedTime == 0 || m.Identity != a.String() {
					t.Errorf("member %+v", m)
				}
				if conf.Type != netconf.Public || conf.Flags != 0 || conf.MTU != 1400 || conf.MulticastLimit != 3 || conf.Name != "pub" {
					t.Errorf("config %+v", conf)
				}
			}},
		{name: "token", network: `{"authTokens":{"good":0,"later":99999999999999,"old":5}}`,
			nwid: sessionNWID, who: a, meta: withToken("later"),
			want: Answer{Config: &netconf.Config{}},
			check: func(t *testing.T, m *Member, _ *netconf.Config) {
				if !m.Authorized || *m.LastAuthorizedCredentialType != "token" || *m.LastAuthorizedCredential != "later" {
					t.Errorf("member %+v", m)
				}
			}},
		{name: "token without expiry", network: `{"authTokens":{"good":0}}`,
			nwid: sessionNWID, who: a, meta: withToken("good"), want: Answer{Config: &netconf.Config{}}},
		{name: "expired token", network: `{"authTokens":{"good":0,"old":5}}`,
			nwid: sessionNWID, who: a, meta: withToken("old"), want: Answer{Error: verbs.ErrorNetworkAccessDenied}},
		{name: "unknown token", network: `{"authTokens":{"good":0}}`,
			nwid: sessionNWID, who: a, meta: withToken("bad"), want: Answer{Error: verbs.ErrorNetworkAccessDenied}},
		{name: "empty token", network: `{"authTokens":{"":0}}`,
			nwid: sessionNWID, who: a, meta: withToken(""), want: Answer{Error: verbs.ErrorNetworkAccessDenied}},
		{name: "old rules engine", network: `{"private":false,"rules":[{"type":"ACTION_DROP"}],
			"capabilities":[{"id":1,"default":true,"rules":[]}],"tags":[{"id":1,"default":2}]}`,
			nwid: sessionNWID, who: a, meta: netconf.Request{},
			want: Answer{Config: &netconf.Config{}},
			check: func(t *testing.T, m *Member, conf *netconf.Config) {
				if len(conf.Rules) != 1 || conf.Rules[0].Type != rules.ActionAccept || conf.Capabilities != nil || conf.Tags != nil {
					t.Errorf("config %+v", conf)
				}
				if len(m.Capabilities) != 0 || len(m.Tags) != 0 || m.VMajor != 0 {
					t.Errorf("member %+v", m)
				}
			}},
		{name: "trace and window", network: `{"private":false,"remoteTraceTarget":"0102030405","remoteTraceLevel":10}`,
			member: `{"remoteTraceTarget":"0a0b0c0d0e","remoteTraceLevel":20}`,
			nwid:   sessionNWID, who: a, meta: defaultMeta,
			want: Answer{Config: &netconf.Config{}},
			check: func(t *testing.T, _ *Member, conf *netconf.Config) {
				if conf.TraceTarget != 0x0a0b0c0d0e || conf.TraceLevel != 20 {
					t.Errorf("config %+v", conf)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newReqEnv(t, t.TempDir())
			if c.network != "" {
				if _, err := e.ctl.UpdateNetwork(NetworkID(c.nwid), mustBody(t, c.network)); err != nil {
					t.Fatal(err)
				}
			}
			if c.member != "" {
				e.member(a.Address, c.member)
				if c.who == impostor {
					if got := e.request(a, defaultMeta); got.Config == nil {
						t.Fatalf("first request %+v", got)
					}
				}
			}
			got := e.ctl.Request(e.advance(1001), c.nwid, c.who, c.meta, netip.AddrPort{})
			if (got.Config == nil) != (c.want.Config == nil) || got.Error != c.want.Error || got.Drop != c.want.Drop || got.AuthInfo != nil {
				t.Fatalf("answer %+v, want %+v", got, c.want)
			}
			if got.Config != nil {
				if got.Config.Timestamp != e.now || got.Config.IssuedTo != c.who.Address || got.Config.NetworkID != c.nwid ||
					got.Config.COM == nil || got.Config.COM.Verify(e.signer) != nil {
					t.Errorf("config %+v", got.Config)
				}
			}
			if c.check != nil {
				c.check(t, e.stored(a.Address), got.Config)
			}
		})
	}
}

func mustBody(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := DecodeBody([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The credential window comes from certificateTimeoutWindowSize, clamped.
func TestRequestCredentialWindow(t *testing.T) {
	a, _ := memberIdentities(t)
	for _, c := range []struct {
		window *uint64
		want   int64
	}{
		{nil, 1800000},
		{ptr(uint64(600000)), 600000},
		{ptr(uint64(1)), 300000},
		{ptr(uint64(1 << 40)), 7200000},
		{ptr(^uint64(0)), 300000}, // negative as a signed number
	} {
		e := newReqEnv(t, t.TempDir())
		n := NewNetwork(sessionNWID, e.now)
		n.Private = false
		n.CertificateTimeoutWindowSize = c.window
		if err := e.store.PutNetwork(n); err != nil {
			t.Fatal(err)
		}
		got := e.request(a, defaultMeta)
		if got.Config == nil || got.Config.CredentialDelta != c.want {
			t.Fatalf("window %v: %+v", c.window, got)
		}
		if q, _ := got.Config.COM.Qualifier(cred.QualifierTimestamp); q.MaxDelta != uint64(c.want) {
			t.Errorf("COM max delta %d", q.MaxDelta)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// Repeats within a second are dropped; the first request after that is
// answered again.
func TestRequestRateLimit(t *testing.T) {
	a, b := memberIdentities(t)
	e := newReqEnv(t, t.TempDir())
	e.network(`{"private":false}`)
	t0 := e.now
	for _, c := range []struct {
		at   int64
		who  *identity.Identity
		nwid uint64
		drop bool
	}{
		{t0, a, sessionNWID, false},
		{t0 + 1, a, sessionNWID, true},
		{t0 + 1, b, sessionNWID, false},     // per member
		{t0 + 2, a, sessionNWID + 1, false}, // per network (unknown here)
		{t0 + 3, a, sessionNWID + 1, true},  // unknown networks count too
		{t0 + MinRequestPeriod, a, sessionNWID, true},
		{t0 + MinRequestPeriod + 1, a, sessionNWID, false},
		{t0 + MinRequestPeriod + 2, a, 0x1122334455000001, true}, // not ours
	} {
		got := e.ctl.Request(c.at, c.nwid, c.who, defaultMeta, netip.AddrPort{})
		if got.Drop != c.drop {
			t.Errorf("%d %v %x: %+v", c.at-t0, c.who.Address, c.nwid, got)
		}
	}
	if at, from, ok := e.ctl.LastRequest(sessionNWID, a.Address); !ok || at != t0+MinRequestPeriod+1 || from.IsValid() {
		t.Errorf("last request %d %v %v", at, from, ok)
	}
	e.ctl.Request(t0+5000, sessionNWID, a, defaultMeta, netip.MustParseAddrPort("192.0.2.1:9993"))
	e.ctl.Request(t0+7000, sessionNWID, a, defaultMeta, netip.AddrPort{})
	if at, from, _ := e.ctl.LastRequest(sessionNWID, a.Address); at != t0+7000 || from.String() != "192.0.2.1:9993" {
		t.Errorf("last request %d %v", at, from)
	}
}

// Without a signer nothing is answered.
func TestRequestNoSigner(t *testing.T) {
	a, _ := memberIdentities(t)
	s, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, signer := range []*identity.Identity{nil, testvec.Identity(t, "id1.public"), testvec.Identity(t, "id2.secret")} {
		c := New(ctrlAddr, s, Options{Signer: signer})
		if _, err := c.UpdateNetwork(sessionNWID, mustBody(t, `{"private":false}`)); err != nil {
			t.Fatal(err)
		}
		if got := c.Request(1, sessionNWID, a, defaultMeta, netip.AddrPort{}); !got.Drop {
			t.Errorf("signer %v: %+v", signer, got)
		}
	}
}

// Capabilities and tags: a new member gets the default capabilities and
// every member the network's tag defaults, all recorded in its record.
func TestRequestCapabilitiesAndTags(t *testing.T) {
	a, b := memberIdentities(t)
	e := newReqEnv(t, t.TempDir())
	e.network(`{"private":false,"rules":[{"type":"ACTION_DROP"},{"type":"MATCH_INTEGER_RANGE","start":1,"end":2},{"type":"ACTION_ACCEPT"}],
		"capabilities":[{"id":7,"default":true,"rules":[{"type":"MATCH_ETHERTYPE","etherType":2054},{"type":"ACTION_ACCEPT"}]},
			{"id":2,"default":true,"rules":[]},{"id":9,"rules":[{"type":"ACTION_DROP"}]}],
		"tags":[{"id":5,"default":7},{"id":3,"default":null},{"id":1,"default":4294967295}]}`)
	e.member(b.Address, `{"capabilities":[9],"tags":[[5,1],[8,2]]}`)

	got := e.request(a, defaultMeta)
	conf := got.Config
	if conf == nil {
		t.Fatalf("answer %+v", got)
	}
	if len(conf.Rules) != 2 || conf.Rules[0].Type != rules.ActionDrop || conf.Rules[1].Type != rules.ActionAccept {
		t.Errorf("rules %v", conf.Rules)
	}
	var capIDs []uint32
	for _, c := range conf.Capabilities {
		capIDs = append(capIDs, c.ID)
		if err := c.Verify(cred.Known(e.signer)); err != nil || c.IssuedTo() != a.Address || c.Timestamp != conf.Timestamp || c.MaxCustody != 1 {
			t.Errorf("capability %+v: %v", c, err)
		}
	}
	if !reflect.DeepEqual(capIDs, []uint32{2, 7}) || len(conf.Capabilities[1].Rules) != 2 {
		t.Errorf("capabilities %v", conf.Capabilities)
	}
	checkTags(t, e, conf, map[uint32]uint32{1: 0xffffffff, 5: 7})
	if m := e.stored(a.Address); !reflect.DeepEqual(m.Capabilities, []uint64{2, 7}) ||
		!reflect.DeepEqual(m.Tags, [][2]uint64{{1, 0xffffffff}, {5, 7}}) {
		t.Errorf("member caps %v tags %v", m.Capabilities, m.Tags)
	}

	// An existing member gets no default capabilities.
	got = e.request(b, defaultMeta)
	if got.Config == nil || len(got.Config.Capabilities) != 1 || got.Config.Capabilities[0].ID != 9 {
		t.Fatalf("answer %+v", got)
	}
	checkTags(t, e, got.Config, map[uint32]uint32{1: 0xffffffff, 5: 1, 8: 2})
	if m := e.stored(b.Address); !reflect.DeepEqual(m.Capabilities, []uint64{9}) ||
		!reflect.DeepEqual(m.Tags, [][2]uint64{{5, 1}, {8, 2}, {1, 0xffffffff}}) {
		t.Errorf("member caps %v tags %v", m.Capabilities, m.Tags)
	}
}

func checkTags(t *testing.T, e *reqEnv, conf *netconf.Config, want map[uint32]uint32) {
	t.Helper()
	got := map[uint32]uint32{}
	last := -1
	for _, tag := range conf.Tags {
		if err := tag.Verify(e.signer); err != nil || tag.IssuedTo != conf.IssuedTo || tag.Timestamp != conf.Timestamp || int(tag.ID) <= last {
			t.Errorf("tag %+v: %v", tag, err)
		}
		last = int(tag.ID)
		got[tag.ID] = tag.Value
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tags %v, want %v", got, want)
	}
}

// Static IPs come in the reference's order, with the NDP flag for the
// IPv6 modes, and are certified by one COO; routes, bridges and DNS follow
// the network.
func TestRequestAddresses(t *testing.T) {
	a, b := memberIdentities(t)
	e := newReqEnv(t, t.TempDir())
	e.network(`{"private":false,"v4AssignMode":"zt","v6AssignMode":"rfc4193,6plane",
		"routes":[{"target":"10.78.0.0/24"},{"target":"10.0.0.0/8","via":"10.78.0.1"},{"target":"fd00::/8"},{"target":"192.168.0.0/16","via":"fd00::1"}],
		"ipAssignmentPools":[{"ipRangeStart":"10.78.0.10","ipRangeEnd":"10.78.0.250"}],
		"dns":{"domain":"zt.example","servers":["10.78.0.1","fd00::53","bogus","10.78.0.2","10.78.0.3"]}}`)
	e.member(b.Address, `{"activeBridge":true,"ipAssignments":["10.78.0.11"]}`)
	e.member(0x0102030405, `{"activeBridge":true}`)
	e.member(a.Address, `{"ipAssignments":["fd00::7","172.16.0.1"]}`)

	got := e.request(a, defaultMeta)
	conf := got.Config
	if conf == nil {
		t.Fatalf("answer %+v", got)
	}
	want := []string{
		netconf.RFC4193(sessionNWID, a.Address).String(),
		netconf.SixPlane(sessionNWID, a.Address).String(),
		"fd00::7/8",
		"10.78.0.20/24", // the pool start + 0xee230b1a % 240, as the reference assigned it in the session
	}
	if p := prefixes(conf.StaticIPs); !reflect.DeepEqual(p, want) {
		t.Errorf("static IPs %v, want %v", p, want)
	}
	if conf.Flags != netconf.FlagBroadcast|netconf.FlagNDPEmulation {
		t.Errorf("flags %x", conf.Flags)
	}
	if len(conf.COOs) != 1 {
		t.Fatalf("COOs %+v", conf.COOs)
	}
	coo := conf.COOs[0]
	if coo.ID != 1 || coo.IssuedTo != a.Address || coo.Timestamp != conf.Timestamp || coo.Verify(e.signer) != nil || len(coo.Things) != 4 {
		t.Errorf("COO %+v", coo)
	}
	for _, p := range conf.StaticIPs {
		if !coo.OwnsAddr(p.Addr()) {
			t.Errorf("COO does not own %v", p)
		}
	}
	wantRoutes := []netconf.Route{
		{Target: netip.MustParsePrefix("10.78.0.0/24")},
		{Target: netip.MustParsePrefix("10.0.0.0/8"), Via: netip.MustParseAddr("10.78.0.1")},
		{Target: netip.MustParsePrefix("fd00::/8")},
		{Target: netip.MustParsePrefix("192.168.0.0/16")},
	}
	if !reflect.DeepEqual(conf.Routes, wantRoutes) {
		t.Errorf("routes %+v", conf.Routes)
	}
	if br := conf.ActiveBridges(); !reflect.DeepEqual(br, []identity.Address{0x0102030405, b.Address}) {
		t.Errorf("bridges %v", br)
	}
	wantDNS := netconf.DNS{Domain: "zt.example", Servers: [4]netip.AddrPort{
		netip.MustParseAddrPort("10.78.0.1:0"), netip.MustParseAddrPort("[fd00::53]:0"), {}, netip.MustParseAddrPort("10.78.0.2:0"),
	}}
	if conf.DNS != wantDNS {
		t.Errorf("DNS %+v", conf.DNS)
	}
	if m := e.stored(a.Address); !reflect.DeepEqual(m.IPAssignments, []string{"fd00::7", "172.16.0.1", "10.78.0.20"}) {
		t.Errorf("ipAssignments %v", m.IPAssignments)
	}

	// noAutoAssignIps: only the routed assignments.
	e.member(a.Address, `{"noAutoAssignIps":true,"ipAssignments":["10.78.0.12"]}`)
	got = e.request(a, defaultMeta)
	if got.Config == nil || !reflect.DeepEqual(prefixes(got.Config.StaticIPs), []string{"10.78.0.12/24"}) || got.Config.NDPEmulation() {
		t.Errorf("answer %+v", got.Config)
	}
}

// SSO: a member that is not exempt must have authenticated.
func TestRequestSSO(t *testing.T) {
	a, b := memberIdentities(t)
	e := newReqEnv(t, t.TempDir())
	n := NewNetwork(sessionNWID, e.now)
	n.SSOEnabled = true
	if err := e.store.PutNetwork(n); err != nil {
		t.Fatal(err)
	}
	e.member(a.Address, `{"authorized":true}`)
	mb := e.member(b.Address, `{"authorized":true}`)
	mb.SSOExempt = true // not settable through the API
	if err := e.store.PutMember(mb); err != nil {
		t.Fatal(err)
	}

	got := e.request(a, defaultMeta)
	if got.Error != verbs.ErrorNetworkAuthenticationRequired || got.Config != nil ||
		string(got.AuthInfo) != "aV=0000000000000000\naU=" {
		t.Fatalf("answer %+v %q", got, got.AuthInfo)
	}
	if info, err := netconf.ParseAuthInfo(got.AuthInfo); err != nil || info.Version != 0 || info.AuthURL != "" {
		t.Errorf("auth info %+v %v", info, err)
	}
	if m := e.stored(a.Address); m.Identity != a.String() || m.VMajor != -1 {
		t.Errorf("member %+v", m)
	}
	if got := e.request(b, defaultMeta); got.Config == nil || !got.Config.SSOEnabled {
		t.Errorf("exempt member: %+v", got)
	}

	// Authenticated until shortly: a config, then a revocation at expiry.
	expiry := e.now + 60000
	e.member(a.Address, fmt.Sprintf(`{"authenticationExpiryTime":%d}`, expiry))
	got = e.request(a, defaultMeta)
	if got.Config == nil || !got.Config.SSOEnabled || got.Config.AuthExpiry != expiry {
		t.Fatalf("answer %+v %+v", got, e.stored(a.Address))
	}
	if d, _ := got.Config.ToDictionary(); !d.Has(netconf.KeyAuthExpiry) || d.Has(netconf.KeyAuthURL) {
		t.Errorf("dictionary %q", d.AppendMarshal(nil))
	}
	e.push.take()
	if next := e.ctl.Background(e.now); next != expiry {
		t.Errorf("next %d, want %d", next-e.now, expiry-e.now)
	}
	if _, revs := e.push.take(); len(revs) != 0 {
		t.Errorf("early revocation %+v", revs)
	}
	if next := e.ctl.Background(expiry); next != expiry+pruneInterval {
		t.Errorf("next %d", next-expiry)
	}
	_, revs := e.push.take()
	if len(revs) != 1 || revs[0].rev.Target != a.Address || revs[0].rev.Threshold != expiry ||
		!reflect.DeepEqual(revs[0].to, []identity.Address{b.Address, a.Address}) {
		t.Fatalf("revocations %+v", revs)
	}

	// A member that authenticated again in the meantime is not revoked.
	e.now = expiry + 2000
	expiry2 := e.now + 5000
	e.member(a.Address, fmt.Sprintf(`{"authenticationExpiryTime":%d}`, expiry2))
	if got := e.request(a, defaultMeta); got.Config == nil {
		t.Fatalf("answer %+v", got)
	}
	e.member(a.Address, fmt.Sprintf(`{"authenticationExpiryTime":%d}`, expiry2+50000))
	e.ctl.Background(expiry2)
	if _, revs := e.push.take(); len(revs) != 0 {
		t.Errorf("revocations %+v", revs)
	}
}

// Saving a network pushes a fresh config to every online member that was
// answered with a config; saving a member pushes to that member.
func TestPushConfigs(t *testing.T) {
	a, b := memberIdentities(t)
	e := newReqEnv(t, t.TempDir())
	e.network(`{"name":"one"}`)
	e.member(a.Address, `{"authorized":true}`)
	e.member(0x0102030405, `{"authorized":true}`) // never requests
	if got := e.request(a, defaultMeta); got.Config == nil {
		t.Fatal(got)
	}
	if got := e.request(b, defaultMeta); got.Error != verbs.ErrorNetworkAccessDenied {
		t.Fatal(got)
	}
	if cfg, revs := e.push.take(); len(cfg)+len(revs) != 0 {
		t.Fatalf("pushes for requests: %+v %+v", cfg, revs)
	}

	type pushes struct {
		to   []identity.Address
		name string
	}
	check := func(what string, want pushes) {
		t.Helper()
		cfg, revs := e.push.take()
		var got pushes
		for _, c := range cfg {
			got.to = append(got.to, c.to)
			got.name = c.conf.Name
			if c.conf.Timestamp != e.now || c.conf.COM.Verify(e.signer) != nil {
				t.Errorf("%s: config %+v", what, c.conf)
			}
		}
		if !reflect.DeepEqual(got, want) || len(revs) != 0 {
			t.Errorf("%s: pushed %+v %+v, want %+v", what, got, revs, want)
		}
	}
	e.advance(1)
	e.network(`{"name":"two"}`)
	check("network saved", pushes{[]identity.Address{a.Address}, "two"})
	e.network(`{"name":"two"}`)
	check("network unchanged", pushes{})

	e.member(b.Address, `{"authorized":true}`)
	check("B authorized: never answered with a config", pushes{})
	if got := e.request(b, defaultMeta); got.Config == nil {
		t.Fatal(got)
	}
	e.member(b.Address, `{"name":"bee"}`)
	check("B saved", pushes{[]identity.Address{b.Address}, "two"})
	e.network(`{"name":"three"}`)
	check("network saved", pushes{[]identity.Address{b.Address, a.Address}, "three"})

	// Members go offline 120 s after their last request.
	tA, _, _ := e.ctl.LastRequest(sessionNWID, a.Address)
	tB, _, _ := e.ctl.LastRequest(sessionNWID, b.Address)
	e.now = tA + OnlineWindow
	e.network(`{"name":"four"}`)
	check("A offline", pushes{[]identity.Address{b.Address}, "four"})
	e.now = tB + OnlineWindow
	e.network(`{"name":"five"}`)
	check("all offline", pushes{})
}

// Deauthorizing, deleting an authorized member and deleting the network
// revoke COMs at every online member of the network.
func TestPushRevocations(t *testing.T) {
	a, b := memberIdentities(t)
	setup := func(t *testing.T) *reqEnv {
		e := newReqEnv(t, t.TempDir())
		e.network(`{}`)
		e.member(a.Address, `{"authorized":true}`)
		e.member(b.Address, `{"authorized":true}`)
		e.member(0x0102030405, `{"authorized":true}`) // offline
		e.member(0x0102030406, `{}`)                  // offline, not authorized
		for _, id := range []*identity.Identity{a, b} {
			if got := e.request(id, defaultMeta); got.Config == nil {
				t.Fatal(got)
			}
		}
		e.push.take()
		return e
	}
	for _, c := range []struct {
		name    string
		do      func(e *reqEnv) error
		targets []identity.Address
		configs int
	}{
		{"deauthorize", func(e *reqEnv) error {
			_, err := e.ctl.UpdateMember(sessionNWID, b.Address, map[string]any{"authorized": false})
			return err
		}, []identity.Address{b.Address}, 0},
		{"deauthorize offline", func(e *reqEnv) error {
			_, err := e.ctl.UpdateMember(sessionNWID, 0x0102030405, map[string]any{"authorized": false})
			return err
		}, []identity.Address{0x0102030405}, 0},
		{"rename", func(e *reqEnv) error {
			_, err := e.ctl.UpdateMember(sessionNWID, b.Address, map[string]any{"name": "x"})
			return err
		}, nil, 1},
		{"delete authorized", func(e *reqEnv) error {
			_, err := e.ctl.DeleteMember(sessionNWID, a.Address)
			return err
		}, []identity.Address{a.Address}, 0},
		{"delete unauthorized", func(e *reqEnv) error {
			_, err := e.ctl.DeleteMember(sessionNWID, 0x0102030406)
			return err
		}, nil, 0},
		{"delete network", func(e *reqEnv) error {
			_, err := e.ctl.DeleteNetwork(sessionNWID)
			return err
		}, []identity.Address{0x0102030405, 0x0102030406, b.Address, a.Address}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := setup(t)
			now := e.advance(1)
			if err := c.do(e); err != nil {
				t.Fatal(err)
			}
			cfg, revs := e.push.take()
			if len(cfg) != c.configs {
				t.Errorf("configs %+v", cfg)
			}
			var targets []identity.Address
			ids := map[uint32]bool{}
			for _, r := range revs {
				targets = append(targets, r.rev.Target)
				ids[r.rev.ID] = true
				if !reflect.DeepEqual(r.to, []identity.Address{b.Address, a.Address}) {
					t.Errorf("sent to %v", r.to)
				}
				v := r.rev
				if err := v.Verify(e.signer.PublicOnly()); err != nil || v.NetworkID != sessionNWID || v.CredentialID != 0 ||
					v.Threshold != now || v.Flags != cred.RevocationFastPropagate || v.CredentialType != cred.CredentialCOM {
					t.Errorf("revocation %+v: %v", v, err)
				}
				if w := v.AppendMarshal(nil); len(w) != cred.RevocationSize {
					t.Errorf("revocation size %d", len(w))
				}
			}
			if !reflect.DeepEqual(targets, c.targets) || len(ids) != len(revs) {
				t.Errorf("revoked %v, want %v", targets, c.targets)
			}
		})
	}

	// A deauthorized member is refused on its next request.
	e := setup(t)
	e.member(b.Address, `{"authorized":false}`)
	if got := e.request(b, defaultMeta); got.Error != verbs.ErrorNetworkAccessDenied {
		t.Errorf("after deauthorization: %+v", got)
	}
	if e.ctl.RecentlyAuthorized(e.now, sessionNWID, 0x0102030405) {
		t.Error("member without a config counts as authorized")
	}
}

// A member pushed a config is pushed with its last request's metadata:
// a member without the rules engine still gets "accept all".
func TestPushReplaysMetadata(t *testing.T) {
	a, _ := memberIdentities(t)
	e := newReqEnv(t, t.TempDir())
	e.network(`{"private":false,"rules":[{"type":"ACTION_DROP"}]}`)
	if got := e.request(a, netconf.Request{MajorVersion: 1}); got.Config == nil || got.Config.Rules[0].Type != rules.ActionAccept {
		t.Fatal(got)
	}
	e.network(`{"name":"x"}`)
	cfg, _ := e.push.take()
	if len(cfg) != 1 || cfg[0].conf.Rules[0].Type != rules.ActionAccept || cfg[0].conf.Name != "x" {
		t.Errorf("pushed %+v", cfg)
	}
	// A push does not record versions.
	if m := e.stored(a.Address); m.VMajor != 1 || m.VMinor != 0 {
		t.Errorf("member %+v", m)
	}
}

// Requests race API updates and pushes (run with -race). The pusher calls
// back into the controller, which would deadlock if it were called with
// the lock held.
func TestRequestConcurrent(t *testing.T) {
	e := newReqEnv(t, t.TempDir())
	e.network(`{"private":false,"v4AssignMode":"zt","routes":[{"target":"10.0.0.0/8"}],
		"ipAssignmentPools":[{"ipRangeStart":"10.0.0.1","ipRangeEnd":"10.255.255.254"}]}`)
	var ids []*identity.Identity
	for i := range 8 {
		// Identities need only be distinct: the controller does not check
		// that addresses derive from keys (VL1 does).
		id := &identity.Identity{Address: identity.Address(0x0100000000 + i)}
		binary.BigEndian.PutUint64(id.Public[:], uint64(i))
		ids = append(ids, id)
	}
	var wg sync.WaitGroup
	t0 := e.now
	for i, id := range ids {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for k := range 20 {
				now := t0 + int64(k)*MinRequestPeriod*2
				got := e.ctl.Request(now, sessionNWID, id, defaultMeta, netip.AddrPort{})
				if got.Config == nil {
					t.Errorf("%v: %+v", id.Address, got)
					return
				}
				e.ctl.RecentlyAuthorized(now, sessionNWID, id.Address)
			}
		}()
		go func() {
			defer wg.Done()
			for k := range 10 {
				if _, err := e.ctl.UpdateNetwork(sessionNWID, map[string]any{"name": fmt.Sprint(i, k)}); err != nil {
					t.Error(err)
				}
				if _, err := e.ctl.UpdateMember(sessionNWID, id.Address, map[string]any{"name": fmt.Sprint(k)}); err != nil {
					t.Error(err)
				}
				e.ctl.Background(t0)
			}
		}()
	}
	wg.Wait()
	// Every member ended up with its own address.
	seen := map[string]bool{}
	for _, id := range ids {
		m := e.stored(id.Address)
		if len(m.IPAssignments) != 1 || seen[m.IPAssignments[0]] {
			t.Errorf("member %v: %v", id.Address, m.IPAssignments)
		}
		seen[m.IPAssignments[0]] = true
	}
	if cfg, _ := e.push.take(); len(cfg) == 0 {
		t.Error("no pushes")
	}
}
