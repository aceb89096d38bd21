package netconf

import (
	"bytes"
	"errors"
	"go/format"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/dict"
	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

const (
	benchNWID = 0xf737c19395000001
	nodeA     = identity.Address(0xafee230b1a)
	nodeB     = identity.Address(0x2e57b20512)
	ctrl      = identity.Address(0xf737c19395)
)

func TestController(t *testing.T) {
	if got := Controller(benchNWID); got != ctrl {
		t.Fatalf("Controller = %s", got)
	}
	if IsAdHoc(benchNWID) || !IsAdHoc(0xff00112233445566) {
		t.Fatal("IsAdHoc")
	}
}

func TestMAC(t *testing.T) {
	for _, tc := range []struct {
		a    identity.Address
		nwid uint64
		mac  string
	}{
		{nodeA, benchNWID, "02:af:ee:b6:98:db"}, // node-a-network.json
		{0x0102030405, 0x8056c2e21c000001, "02:01:02:1f:e6:c7"},
		{0x0000000000, 0x0000000000000050, "32:00:00:00:00:00"}, // 0x52 avoided
		{0x0000000000, 0x0000000000000051, "32:00:00:00:00:00"},
		{0x0000000000, 0x00000000000000ff, "fe:00:00:00:00:00"},
	} {
		m := MACOf(tc.a, tc.nwid)
		if m.String() != tc.mac {
			t.Errorf("MACOf(%s, %016x) = %s, want %s", tc.a, tc.nwid, m, tc.mac)
		}
		a, ok := AddressOf(m, tc.nwid)
		if !ok || a != tc.a {
			t.Errorf("AddressOf(%s) = %s, %v", m, a, ok)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		a := identity.Address(r.Uint64() & identity.AddressMask)
		n := r.Uint64()
		m := MACOf(a, n)
		if m[0]&1 != 0 || m[0]&2 == 0 {
			t.Fatalf("MAC %s not unicast/local", m)
		}
		if got, ok := AddressOf(m, n); !ok || got != a {
			t.Fatalf("round trip %s %016x: %s %v", a, n, got, ok)
		}
	}
	// A bridged host's MAC is not a member's.
	if _, ok := AddressOf(MAC{0x04, 1, 2, 3, 4, 5}, benchNWID); ok {
		t.Fatal("foreign MAC taken for a member")
	}
}

func TestManagedIPv6(t *testing.T) {
	if got := RFC4193(benchNWID, nodeA).String(); got != "fdf7:37c1:9395:0:199:93af:ee23:b1a/88" {
		t.Errorf("RFC4193 = %s", got)
	}
	// x = 0x95000001 ^ 0xf737c193 = 0x6237c192
	if got := SixPlane(benchNWID, nodeA).String(); got != "fc62:37c1:92af:ee23:b1a::1/40" {
		t.Errorf("SixPlane = %s", got)
	}
	if got := SixPlaneHost(benchNWID, nodeA).String(); got != "fc62:37c1:92af:ee23:b1a::/80" {
		t.Errorf("SixPlaneHost = %s", got)
	}
}

func stateFile(t testing.TB, node string) []byte {
	t.Helper()
	b, err := os.ReadFile(testvec.MustPath(t, "session1", "node-state", "node-"+node+"-networks.d-f737c19395000001.conf"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkBench checks the fields every zta-bench config has, issued to member with IP
// 10.78.0.last (last 0: any address of 10.78.0.0/24; the session's earlier configs assigned
// other addresses than the saved ones).
func checkBench(t *testing.T, c *Config, member identity.Address, last byte) {
	t.Helper()
	id1 := testvec.Identity(t, "id1.secret")
	if c.NetworkID != benchNWID || c.IssuedTo != member || c.Controller() != ctrl {
		t.Errorf("nwid %016x issued to %s", c.NetworkID, c.IssuedTo)
	}
	if err := c.CheckFor(benchNWID, member); err != nil {
		t.Error(err)
	}
	if err := c.CheckFor(benchNWID, member+1); err == nil {
		t.Error("CheckFor accepted another member")
	}
	if c.Name != "zta-bench" || c.MTU != 2800 || c.Revision != 1 || c.CredentialDelta != DefaultCredentialDelta {
		t.Errorf("name %q mtu %d rev %d ctmd %d", c.Name, c.MTU, c.Revision, c.CredentialDelta)
	}
	if !c.Private() || !c.Broadcast() || c.NDPEmulation() || c.MulticastLimit != 32 || c.TraceTarget != 0 {
		t.Errorf("type %s flags %x ml %d tt %s", c.Type, c.Flags, c.MulticastLimit, c.TraceTarget)
	}
	ip := netip.MustParsePrefix("10.78.0.0/24")
	want := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 78, 0, last}), 24)
	if last == 0 && len(c.StaticIPs) == 1 && ip.Contains(c.StaticIPs[0].Addr()) {
		want = c.StaticIPs[0]
	}
	if len(c.StaticIPs) != 1 || c.StaticIPs[0] != want || !c.HasStaticIP(want.Addr()) {
		t.Errorf("static IPs %v, want %s", c.StaticIPs, want)
	}
	if len(c.Routes) != 1 || c.Routes[0] != (Route{Target: ip}) {
		t.Errorf("routes %+v", c.Routes)
	}
	if len(c.Rules) != 1 || c.Rules[0].Type != rules.ActionAccept {
		t.Errorf("rules %v", c.Rules)
	}
	if c.COM == nil {
		t.Fatal("no COM")
	}
	if c.COM.IssuedTo() != member || c.COM.NetworkID() != benchNWID || c.COM.Timestamp() != c.Timestamp {
		t.Errorf("COM issued to %s nwid %016x ts %d", c.COM.IssuedTo(), c.COM.NetworkID(), c.COM.Timestamp())
	}
	if err := c.COM.Verify(id1); err != nil {
		t.Errorf("COM: %v", err)
	}
	if len(c.COOs) != 1 || !c.COOs[0].OwnsAddr(want.Addr()) || c.COOs[0].IssuedTo != member {
		t.Errorf("COOs %+v", c.COOs)
	} else if err := c.COOs[0].Verify(id1); err != nil {
		t.Errorf("COO: %v", err)
	}
	if len(c.Capabilities)+len(c.Tags)+len(c.Specialists) != 0 || c.DNS != (DNS{}) {
		t.Errorf("unexpected caps/tags/specialists/DNS")
	}
	if c.SSOVersion != 0 || c.SSOEnabled {
		t.Errorf("SSO %d %v", c.SSOVersion, c.SSOEnabled)
	}
}

func TestStateFiles(t *testing.T) {
	for _, tc := range []struct {
		node   string
		member identity.Address
		last   byte
	}{{"a", nodeA, 11}, {"b", nodeB, 12}} {
		t.Run(tc.node, func(t *testing.T) {
			b := stateFile(t, tc.node)
			c, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			checkBench(t, c, tc.member, tc.last)
			out, err := c.AppendMarshal(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out, b) {
				t.Errorf("re-marshal differs:\n got %q\nwant %q", out, b)
			}
		})
	}
}

// capturedChunks returns the config chunks of the session with the node each went to.
func capturedChunks(t testing.TB) (chunks []verbs.ConfigChunk, to []identity.Address) {
	for _, e := range testvec.MustSession(t).ZeroTier() {
		var p []byte
		switch {
		case e.Verb == 0x0c:
			p = e.Plaintext
		case e.Verb == 0x03 && len(e.Plaintext) > 9 && e.Plaintext[0] == 0x0b:
			p = e.Plaintext[9:]
		default:
			continue
		}
		k, err := verbs.ParseConfigChunk(p)
		if err != nil {
			t.Fatalf("#%d: %v", e.Index, err)
		}
		chunks = append(chunks, k)
		to = append(to, e.DstZT)
	}
	if len(chunks) < 4 {
		t.Fatalf("only %d config chunks in the session", len(chunks))
	}
	return chunks, to
}

func TestCapturedChunks(t *testing.T) {
	id1 := testvec.Identity(t, "id1.secret")
	chunks, to := capturedChunks(t)
	final := map[identity.Address][]byte{}
	for i, k := range chunks {
		a, err := NewAssembler(benchNWID, id1.PublicOnly(), 0)
		if err != nil {
			t.Fatal(err)
		}
		conf, err := a.Add(k)
		if err != nil || conf == nil {
			t.Fatalf("chunk %d: %v (complete %v)", i, err, conf != nil)
		}
		if _, err := a.Add(k); !errors.Is(err, ErrDuplicate) {
			t.Errorf("chunk %d again: %v", i, err)
		}
		c, err := Parse(conf)
		if err != nil {
			t.Fatal(err)
		}
		checkBench(t, c, to[i], 0)
		out, err := c.AppendMarshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, conf) {
			t.Errorf("chunk %d: re-marshal differs", i)
		}
		// Re-chunking with the capture's update ID reproduces the chunk exactly (C25519
		// signatures are deterministic).
		ks, err := Split(id1, benchNWID, k.UpdateID, out, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(ks) != 1 || !bytes.Equal(ks[0].AppendMarshal(nil), k.AppendMarshal(nil)) {
			t.Errorf("chunk %d: Split does not reproduce the captured chunk", i)
		}
		final[to[i]] = conf
	}
	// The last config each node received is the one it saved.
	for _, tc := range []struct {
		node identity.Address
		name string
		last byte
	}{{nodeA, "a", 11}, {nodeB, "b", 12}} {
		if !bytes.Equal(final[tc.node], stateFile(t, tc.name)) {
			t.Errorf("node %s: last config received differs from its saved config", tc.name)
		}
		c, err := Parse(final[tc.node])
		if err != nil {
			t.Fatal(err)
		}
		checkBench(t, c, tc.node, tc.last)
	}
}

// fullConfig returns a config that uses every key.
func fullConfig(t testing.TB) *Config {
	id1 := testvec.Identity(t, "id1.secret")
	id2 := testvec.Identity(t, "id2.secret")
	const ts = 1_700_000_000_000
	com := cred.NewCOM(ts, DefaultCredentialDelta, benchNWID, id2)
	if err := com.Sign(id1); err != nil {
		t.Fatal(err)
	}
	c := &Config{
		NetworkID: benchNWID, Timestamp: ts, CredentialDelta: DefaultCredentialDelta, Revision: 42,
		IssuedTo: id2.Address, TraceTarget: nodeB, TraceLevel: 10,
		Flags: FlagBroadcast | FlagNDPEmulation, MulticastLimit: 64, Type: Public,
		Name: "every=key\nhere\\", MTU: 9000, COM: &com,
		Specialists: []Specialist{NewSpecialist(nodeB, RoleActiveBridge), NewSpecialist(ctrl, RoleAnchor|RoleMulticastReplicator)},
		Routes: []Route{
			{Target: netip.MustParsePrefix("10.1.0.0/16")},
			{Target: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.1.0.1"), Flags: 1, Metric: 7},
			{Target: netip.MustParsePrefix("fd00::/8"), Via: netip.MustParseAddr("fd00::1")},
		},
		StaticIPs: []netip.Prefix{netip.MustParsePrefix("10.1.2.3/16"), RFC4193(benchNWID, id2.Address), SixPlane(benchNWID, id2.Address)},
		Rules: []rules.Rule{
			{Type: rules.MatchEtherType, Not: true, EtherType: 0x0800},
			{Type: rules.ActionDrop},
			{Type: rules.ActionAccept},
		},
		DNS:        DNS{Domain: "zt.example", Servers: [4]netip.AddrPort{netip.MustParseAddrPort("10.1.0.53:53"), netip.MustParseAddrPort("[fd00::53]:53")}},
		SSOVersion: 1, SSOEnabled: true, IssuerURL: "https://issuer.example/", CentralURL: "https://central.example/",
		SSONonce: "n0nce", SSOState: "st=ate", SSOClientID: "client", SSOProvider: "keycloak",
	}
	for id := uint32(3); id > 0; id-- { // written in this order; read back sorted
		cp := cred.Capability{NetworkID: benchNWID, Timestamp: ts, ID: id, MaxCustody: 1,
			Rules: []rules.Rule{{Type: rules.MatchIPProtocol, IPProtocol: 6}, {Type: rules.ActionAccept}}}
		if err := cp.Sign(id1, id2.Address); err != nil {
			t.Fatal(err)
		}
		c.Capabilities = append(c.Capabilities, cp)
		tg := cred.Tag{NetworkID: benchNWID, Timestamp: ts, ID: id * 10, Value: id, IssuedTo: id2.Address}
		if err := tg.Sign(id1); err != nil {
			t.Fatal(err)
		}
		c.Tags = append(c.Tags, tg)
	}
	coo := cred.COO{NetworkID: benchNWID, Timestamp: ts, ID: 1, IssuedTo: id2.Address}
	for _, p := range c.StaticIPs {
		coo.Things = append(coo.Things, cred.ThingFromAddr(p.Addr()))
	}
	if err := coo.Sign(id1); err != nil {
		t.Fatal(err)
	}
	c.COOs = []cred.COO{coo}
	return c
}

func TestFullConfigRoundTrip(t *testing.T) {
	c := fullConfig(t)
	b, err := c.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	d, _ := dict.Parse(b)
	for _, e := range d.Entries() {
		keys = append(keys, e.Key)
	}
	wantKeys := "v nwid ts ctmd r id tt tl f ml t n mtu C CAP TAG COO S RT I R DNS ssov ssoe iurl ssoce sson ssos ssocid ssop"
	if got := strings.Join(keys, " "); got != wantKeys {
		t.Errorf("keys\n got %s\nwant %s", got, wantKeys)
	}
	c2, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	for i, cp := range c2.Capabilities {
		if cp.ID != uint32(i+1) {
			t.Errorf("capability %d has id %d (not sorted)", i, cp.ID)
		}
		if err := cp.Verify(cred.Known(testvec.Identity(t, "id1.secret"))); err != nil {
			t.Error(err)
		}
	}
	for i, tg := range c2.Tags {
		if tg.ID != uint32(i+1)*10 {
			t.Errorf("tag %d has id %d (not sorted)", i, tg.ID)
		}
	}
	if cp, ok := c2.Capability(2); !ok || cp.ID != 2 {
		t.Error("Capability(2)")
	}
	if tg, ok := c2.Tag(30); !ok || tg.Value != 3 {
		t.Error("Tag(30)")
	}
	if c2.Name != c.Name || c2.DNS != c.DNS || c2.SSOProvider != "keycloak" || c2.Type != Public || c2.MTU != 9000 ||
		c2.TraceTarget != nodeB || c2.TraceLevel != 10 || !c2.NDPEmulation() {
		t.Errorf("scalars differ: %+v", c2)
	}
	if !slicesEqual(c2.Routes, c.Routes) || !slicesEqual(c2.StaticIPs, c.StaticIPs) || !slicesEqual(c2.Specialists, c.Specialists) {
		t.Errorf("lists differ: %+v %+v %+v", c2.Routes, c2.StaticIPs, c2.Specialists)
	}
	if !c2.PermitsBridging(nodeB) || c2.PermitsBridging(ctrl) {
		t.Error("PermitsBridging")
	}
	if ab := c2.ActiveBridges(); len(ab) != 1 || ab[0] != nodeB {
		t.Errorf("ActiveBridges %v", ab)
	}
	if ac := c2.AlwaysContact(); len(ac) != 1 || ac[0] != ctrl {
		t.Errorf("AlwaysContact %v", ac)
	}
	for i := range c.Rules {
		if !c2.Rules[i].Equal(&c.Rules[i]) {
			t.Errorf("rule %d: %v", i, c2.Rules[i])
		}
	}
	b2, err := c2.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	// c wrote capabilities and tags in descending ID order; c2 holds them sorted.
	c.Capabilities = c2.Capabilities
	c.Tags = c2.Tags
	b1, _ := c.AppendMarshal(nil)
	if !bytes.Equal(b1, b2) {
		t.Error("second round trip differs")
	}
}

func slicesEqual[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSSOv0(t *testing.T) {
	c := &Config{NetworkID: benchNWID, IssuedTo: nodeA, MTU: 2800, SSOEnabled: true, AuthURL: "https://auth/", AuthExpiry: 123456}
	b, err := c.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\nssov=0000000000000000\nssoe=1\naurl=https://auth/\naexpt=000000000001e240")) {
		t.Errorf("tail %q", b[len(b)-80:])
	}
	c2, err := Parse(b)
	if err != nil || c2.AuthURL != c.AuthURL || c2.AuthExpiry != c.AuthExpiry {
		t.Fatalf("%v %+v", err, c2)
	}
	// Disabled: the URL is neither written nor read.
	c.SSOEnabled = false
	b, _ = c.AppendMarshal(nil)
	if bytes.Contains(b, []byte("aurl")) || !bytes.HasSuffix(b, []byte("ssoe=0")) {
		t.Errorf("disabled SSO wrote %q", b)
	}
	// Version 1, enabled, no provider: "default".
	d, _ := dict.Parse(append(b[:len(b)-len("ssov=0000000000000000\nssoe=0")], "ssov=1\nssoe=1\niurl=x"...))
	c3, err := ParseDictionary(d)
	if err != nil || c3.SSOProvider != DefaultSSOProvider || c3.IssuerURL != "x" {
		t.Fatalf("%v %+v", err, c3)
	}
}

func TestParseErrors(t *testing.T) {
	base := string(stateFile(t, "a"))
	for _, tc := range []struct {
		name, old, new string
		want           error
	}{
		{"no nwid", "nwid=", "xnwid=", ErrInvalid},
		{"zero nwid", "nwid=f737c19395000001", "nwid=0", ErrInvalid},
		{"no issued-to", "id=afee230b1a", "id=0000000000", ErrInvalid},
		{"legacy", "v=0000000000000007", "v=5", ErrLegacy},
		{"bad COM", "C=\x01", "C=\x02", ErrInvalid},
		{"truncated DNS", "DNS=\\0\\0", "DNS=\\0\\0\nX=", ErrInvalid},
		{"bad static IP", "I=\x04", "I=\x05", ErrInvalid},
		{"bad route", "RT=\x04", "RT=\x09", ErrInvalid},
		{"prefix too long", "I=\x04\\nN\\0\x0b\\0\x18", "I=\x04\\nN\\0\x0b\\0\x21", ErrInvalid},
		{"bad COO", "COO=", "COO=\x01", ErrInvalid},
	} {
		in := strings.Replace(base, tc.old, tc.new, 1)
		if in == base {
			t.Fatalf("%s: no change", tc.name)
		}
		if _, err := Parse([]byte(in)); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}

	// Reader defaults and clamps.
	for _, tc := range []struct {
		mtu  string
		want uint32
	}{{"", DefaultMTU}, {"\nmtu=10", MinMTU}, {"\nmtu=ffff", MaxMTU}, {"\nmtu=5dc", 1500}} {
		c, err := Parse([]byte("v=7\nnwid=1\nid=1" + tc.mtu))
		if err != nil || c.MTU != tc.want {
			t.Errorf("mtu %q: %v %d", tc.mtu, err, c.MTU)
		}
	}
	long := strings.Repeat("x", 300)
	c, err := Parse([]byte("v=7\nnwid=1\nid=1\nn=" + long))
	if err != nil || len(c.Name) != NameSize-1 {
		t.Fatalf("long name: %v", err)
	}
	b, _ := (&Config{NetworkID: 1, IssuedTo: 1, Name: long}).AppendMarshal(nil)
	if bytes.Contains(b, []byte(long[:NameSize])) {
		t.Error("writer did not cut the name")
	}
	// A bad capability ends the list but keeps the config.
	c, err = Parse([]byte("v=7\nnwid=1\nid=1\nCAP=\x01\x02"))
	if err != nil || len(c.Capabilities) != 0 {
		t.Errorf("bad CAP: %v", err)
	}
	// Too large for the reference's buffer.
	if _, err := Parse(bytes.Repeat([]byte("x"), dict.NetworkConfigCapacity)); err == nil {
		t.Error("oversized config accepted")
	}
	if _, err := (&Config{NetworkID: 1, IssuedTo: 1, Rules: make([]rules.Rule, 0)}).ToDictionary(); err != nil {
		t.Error(err)
	}
}

func TestSplitAssemble(t *testing.T) {
	id1 := testvec.Identity(t, "id1.secret")
	id2 := testvec.Identity(t, "id2.secret")
	conf, err := fullConfig(t).AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Split(id2, benchNWID, 1, conf, 0); !errors.Is(err, ErrNotController) {
		t.Errorf("Split by non-controller: %v", err)
	}
	if _, err := NewAssembler(benchNWID, id2, 0); !errors.Is(err, ErrNotController) {
		t.Errorf("NewAssembler with non-controller: %v", err)
	}
	if _, err := Split(id1, benchNWID, 1, nil, 0); err == nil {
		t.Error("empty config split")
	}
	ks, err := Split(id1, benchNWID, 0, conf, 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := (len(conf) + 99) / 100; len(ks) != want {
		t.Fatalf("%d chunks, want %d", len(ks), want)
	}
	for i, k := range ks {
		if k.UpdateID != 1 || k.TotalLength != uint32(len(conf)) || k.ChunkIndex != uint32(100*i) || k.Flags != 0 {
			t.Fatalf("chunk %d: %+v", i, k)
		}
		// Wire round trip.
		k2, err := verbs.ParseConfigChunk(k.AppendMarshal(nil))
		if err != nil || !bytes.Equal(k2.AppendMarshal(nil), k.AppendMarshal(nil)) {
			t.Fatalf("chunk %d wire: %v", i, err)
		}
	}

	a, _ := NewAssembler(benchNWID, id1.PublicOnly(), 0)
	order := rand.New(rand.NewPCG(3, 4)).Perm(len(ks))
	for n, i := range order {
		out, err := a.Add(ks[i])
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		if n < len(ks)-1 {
			if out != nil {
				t.Fatal("complete early")
			}
			if _, err := a.Add(ks[i]); !errors.Is(err, ErrDuplicate) {
				t.Fatalf("duplicate chunk %d: %v", i, err)
			}
			continue
		}
		if !bytes.Equal(out, conf) {
			t.Fatal("assembled config differs")
		}
	}
	if _, err := a.Add(ks[0]); !errors.Is(err, ErrDuplicate) {
		t.Errorf("chunk of a complete update: %v", err)
	}

	// Refusals.
	resign := func(k verbs.ConfigChunk) verbs.ConfigChunk {
		sig, err := id1.Sign(k.AppendSignedMessage(nil))
		if err != nil {
			t.Fatal(err)
		}
		k.Signature = sig[:]
		return k
	}
	a.Reset()
	if _, err := a.Add(ks[0]); err != nil {
		t.Fatal(err)
	}
	bad := ks[1]
	bad.Data = append([]byte{}, bad.Data...)
	bad.Data[0] ^= 1
	if _, err := a.Add(bad); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered chunk: %v", err)
	}
	other := ks[1]
	other.NetworkID++
	if _, err := a.Add(other); !errors.Is(err, ErrChunk) {
		t.Errorf("other network: %v", err)
	}
	total := ks[1]
	total.TotalLength++
	if _, err := a.Add(resign(total)); !errors.Is(err, ErrChunk) {
		t.Errorf("mismatched total: %v", err)
	}
	overlap := ks[1]
	overlap.ChunkIndex -= 50
	if _, err := a.Add(resign(overlap)); !errors.Is(err, ErrChunk) {
		t.Errorf("overlapping chunk: %v", err)
	}
	beyond := ks[len(ks)-1]
	beyond.ChunkIndex += 100
	if _, err := a.Add(resign(beyond)); !errors.Is(err, ErrChunk) {
		t.Errorf("chunk beyond total: %v", err)
	}
	legacy := verbs.ConfigChunk{NetworkID: benchNWID, Data: conf, Legacy: true}
	if _, err := a.Add(legacy); !errors.Is(err, ErrChunk) {
		t.Errorf("legacy chunk: %v", err)
	}
	huge := ks[0]
	huge.TotalLength = dict.NetworkConfigCapacity
	if _, err := a.Add(resign(huge)); !errors.Is(err, ErrChunk) {
		t.Errorf("total at capacity: %v", err)
	}

	// Too many chunks for one update.
	small, _ := NewAssembler(benchNWID, id1, 2048) // 3 chunks at most
	tiny, err := Split(id1, benchNWID, 9, conf[:20], 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range tiny {
		_, err := small.Add(k)
		if (i < 3) != (err == nil) {
			t.Errorf("tiny chunk %d: %v", i, err)
		}
	}

	// Interleaved updates: at most MaxUpdates in progress, the least recently used dropped.
	a.Reset()
	ups := make([][]verbs.ConfigChunk, MaxUpdates+1)
	for u := range ups {
		if ups[u], err = Split(id1, benchNWID, uint64(100+u), conf, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Add(ups[u][0]); err != nil {
			t.Fatal(err)
		}
	}
	// Update 0 was evicted by update 3: its rest no longer completes it.
	for u := 1; u < len(ups); u++ {
		var out []byte
		for _, k := range ups[u][1:] {
			if out, err = a.Add(k); err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(out, conf) {
			t.Errorf("update %d incomplete", u)
		}
	}
	var out []byte
	for _, k := range ups[0][1:] {
		if out, err = a.Add(k); err != nil {
			t.Fatal(err)
		}
	}
	if out != nil {
		t.Error("evicted update completed without its first chunk")
	}
}

func TestCapturedRequests(t *testing.T) {
	n := 0
	for _, e := range testvec.MustSession(t).ZeroTier() {
		if e.Verb != 0x0b {
			continue
		}
		req, err := verbs.ParseNetworkConfigRequest(e.Plaintext)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseRequest(req.Metadata)
		if err != nil {
			t.Fatal(err)
		}
		if m != DefaultRequest("linux/x86_64") {
			t.Errorf("#%d: %+v", e.Index, m)
		}
		b, err := m.AppendMarshal(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, req.Metadata) {
			t.Errorf("#%d: re-marshal\n got %q\nwant %q", e.Index, b, req.Metadata)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no NETWORK_CONFIG_REQUEST in the session")
	}
	m := DefaultRequest("linux/aarch64")
	m.Auth = "token"
	b, err := m.AppendMarshal(nil)
	if err != nil || !bytes.HasSuffix(b, []byte("\no=linux/aarch64\na=token")) {
		t.Fatalf("%v %q", err, b)
	}
	if m2, err := ParseRequest(b); err != nil || m2 != m {
		t.Errorf("%v %+v", err, m2)
	}
	if _, err := ParseRequest(bytes.Repeat([]byte("x"), dict.RequestMetadataCapacity)); err == nil {
		t.Error("oversized metadata accepted")
	}
	m.OSArch = strings.Repeat("y", 2000)
	if _, err := m.AppendMarshal(nil); err == nil {
		t.Error("oversized metadata written")
	}
}

func TestGofmt(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := format.Source(b); err != nil || !bytes.Equal(out, b) {
			t.Errorf("%s is not gofmt'ed (%v)", f, err)
		}
	}
}

func TestSmallHelpers(t *testing.T) {
	if Private.String() != "PRIVATE" || Public.String() != "PUBLIC" || NetworkType(7).String() != "TYPE_7" {
		t.Error("NetworkType.String")
	}
	s := NewSpecialist(0xff12345678ab, RoleAnchor|0xff)
	if s.Address() != 0x12345678ab || s.Roles() != RoleAnchor || !s.Has(RoleAnchor) || s.Has(RoleActiveBridge) {
		t.Errorf("specialist %016x", uint64(s))
	}
	// A null static IP (and a reserved address type) is kept as the zero Prefix and written
	// back as the single byte 0x00.
	c, err := Parse([]byte("v=7\nnwid=1\nid=1\nI=\\0\x01abcdef\x04\\n\\0\\0\x01\\0\x08"))
	if err != nil || len(c.StaticIPs) != 3 || c.StaticIPs[0].IsValid() || c.StaticIPs[1].IsValid() ||
		c.StaticIPs[2] != netip.MustParsePrefix("10.0.0.1/8") {
		t.Fatalf("%v %+v", err, c)
	}
	b, _ := c.AppendMarshal(nil)
	if !bytes.Contains(b, []byte("\nI=\\0\\0\x04\\n\\0\\0\x01\\0\x08\n")) {
		t.Errorf("%q", b)
	}
	// A config that does not fit the reference's buffer is refused by the writer.
	big := &Config{NetworkID: 1, IssuedTo: 1}
	for range 2000 {
		big.Rules = append(big.Rules, rules.Rule{Type: 63, Raw: bytes.Repeat([]byte{1}, 250)})
	}
	if _, err := big.ToDictionary(); !errors.Is(err, dict.ErrTooLarge) {
		t.Errorf("oversized config: %v", err)
	}
}

func TestAuthInfo(t *testing.T) {
	v0 := AuthInfo{AuthURL: "https://auth.example/?a=b"}
	b, err := v0.AppendMarshal(nil)
	if err != nil || string(b) != "aV=0000000000000000\naU=https://auth.example/?a\\eb" {
		t.Fatalf("%v %q", err, b)
	}
	if got, err := ParseAuthInfo(b); err != nil || got != v0 {
		t.Errorf("%v %+v", err, got)
	}
	v1 := AuthInfo{Version: 1, IssuerURL: "https://issuer/", CentralURL: "https://central/", Nonce: "n",
		State: "s", ClientID: "c", Provider: DefaultSSOProvider}
	b, err = v1.AppendMarshal(nil)
	if err != nil || bytes.Contains(b, []byte(AuthKeyProvider)) {
		t.Fatalf("%v %q", err, b)
	}
	if got, err := ParseAuthInfo(b); err != nil || got != v1 {
		t.Errorf("%v %+v", err, got)
	}
	v1.Provider = "okta"
	b, _ = v1.AppendMarshal(nil)
	if got, err := ParseAuthInfo(b); err != nil || got != v1 {
		t.Errorf("%v %+v", err, got)
	}
	if _, err := ParseAuthInfo(bytes.Repeat([]byte("x"), dict.AuthInfoCapacity)); err == nil {
		t.Error("oversized auth info accepted")
	}
}
