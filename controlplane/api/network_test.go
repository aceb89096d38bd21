package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/api/apitest"
	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

const (
	benchNet = 0xf737c19395000001 // the reference session's network
	otherNet = 0x8056c2e21c000001
)

const (
	addrA identity.Address = 0xafee230b1a
	addrB identity.Address = 0x2e57b20512
)

// serveNetworks serves node A's API with nets behind /network.
func serveNetworks(t *testing.T, nets api.Networks) *httptest.Server {
	t.Helper()
	bed := apitest.New(t)
	svc := bed.Service(bed.A)
	svc.Networks = nets
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return srv
}

// benchState is what a node of the reference session had on its network.
func benchState(a identity.Address, ip string, groups ...verbs.MulticastGroup) api.NetworkState {
	return api.NetworkState{
		ID:                benchNet,
		MAC:               netconf.MACOf(a, benchNet),
		Name:              "zta-bench",
		Status:            api.NetworkOK,
		Type:              api.NetworkPrivate,
		MTU:               2800,
		BroadcastEnabled:  true,
		NetconfRevision:   1,
		PortDeviceName:    "zta-zt0",
		Settings:          api.NetworkSettings{AllowManaged: true},
		AssignedAddresses: []netip.Prefix{netip.MustParsePrefix(ip)},
		Routes:            []api.NetworkRoute{{Target: netip.MustParsePrefix("10.78.0.0/24")}},
		MulticastSubscriptions: append([]verbs.MulticastGroup{
			{MAC: verbs.MAC{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}},
			{MAC: verbs.MAC{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}},
		}, groups...),
	}
}

// compactVector is a reference file as the reference sends it: compact.
func compactVector(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(testvec.MustPath(t, "session1", name))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// The reference nodes' network objects, byte for byte.
func TestNetworkReferenceJSON(t *testing.T) {
	for _, c := range []struct {
		file  string
		state api.NetworkState
	}{
		{"node-a-network.json", benchState(addrA, "10.78.0.11/24")},
		{"node-b-network.json", benchState(addrB, "10.78.0.12/24",
			verbs.MulticastGroup{MAC: verbs.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ADI: 172883996})},
	} {
		nets := apitest.NewNetworks(addrA)
		nets.Set(c.state)
		srv := serveNetworks(t, nets)
		want := compactVector(t, c.file)
		if got := get(t, srv, fmt.Sprintf("/network/%016x", uint64(benchNet))); got != want {
			t.Errorf("%s:\n got %s\nwant %s", c.file, got, want)
		}
		if got := get(t, srv, "/network"); got != "["+want+"]" {
			t.Errorf("%s list:\n got %s\nwant [%s]", c.file, got, want)
		}
	}
}

// joinedJSON is the object of a network just joined by A.
func joinedJSON(nwid uint64, managed, global, dflt, dns bool) string {
	id := fmt.Sprintf("%016x", nwid)
	return fmt.Sprintf(`{"allowDNS":%t,"allowDefault":%t,"allowGlobal":%t,"allowManaged":%t,"assignedAddresses":[],`+
		`"bridge":false,"broadcastEnabled":false,"dhcp":false,"dns":{"domain":"","servers":[]},"id":"%s","mac":"%s",`+
		`"mtu":2800,"multicastSubscriptions":[],"name":"","netconfRevision":0,"nwid":"%s","portDeviceName":"%s",`+
		`"portError":0,"routes":[],"status":"REQUESTING_CONFIGURATION","type":"PRIVATE"}`,
		dns, dflt, global, managed, id, netconf.MACOf(addrA, nwid), id, apitest.DeviceName(nwid))
}

func TestNetworkJoinLeave(t *testing.T) {
	nets := apitest.NewNetworks(addrA)
	srv := serveNetworks(t, nets)
	hdr := []string{"X-ZT1-Auth", apitest.Token}
	joined := joinedJSON(otherNet, true, false, false, false)
	for _, c := range []struct {
		method, target, body string
		status               int
		ctype, want          string
	}{
		{"GET", "/network", "", 200, "application/json", "[]"},
		{"GET", "/network/8056c2e21c000001", "", 404, "application/json", "{}"},
		{"GET", "/network/8056c2e21c000001?jsonp=cb", "", 404, "application/javascript", "cb(null);"},
		{"DELETE", "/network/8056c2e21c000001", "", 200, "application/json", "{}"},
		// What zerotier-cli join sends.
		{"POST", "/network/8056c2e21c000001", "{}", 200, "application/json", joined},
		{"GET", "/network/8056c2e21c000001", "", 200, "application/json", joined},
		{"HEAD", "/network/8056c2e21c000001", "", 200, "application/json", ""},
		// Joining again changes nothing; an empty body or null is no settings.
		{"POST", "/network/8056C2E21C000001", "", 200, "application/json", joined},
		{"PUT", "/network/8056c2e21c000001", " null ", 200, "application/json", joined},
		// What zerotier-cli set sends; unknown keys and nulls are ignored.
		{"POST", "/network/8056c2e21c000001", `{"allowDNS":true}`, 200, "application/json", joinedJSON(otherNet, true, false, false, true)},
		{"PUT", "/network/8056c2e21c000001", `{"allowManaged":false,"allowGlobal":true,"allowDefault":true,"allowDNS":null,"name":"x"}`,
			200, "application/json", joinedJSON(otherNet, false, true, true, true)},
		{"GET", "/network", "", 200, "application/json", "[" + joinedJSON(otherNet, false, true, true, true) + "]"},
		{"POST", "/network/0000000000000001?jsonp=f.g", "{}", 200, "application/javascript", "f.g(" + joinedJSON(1, true, false, false, false) + ");"},
		{"GET", "/network", "", 200, "application/json", "[" + joinedJSON(1, true, false, false, false) + "," + joinedJSON(otherNet, false, true, true, true) + "]"},
		{"DELETE", "/network/8056c2e21c000001", "", 200, "application/json", `{"result":true}`},
		{"DELETE", "/network/8056c2e21c000001", "", 200, "application/json", "{}"},
		{"GET", "/network/8056c2e21c000001", "", 404, "application/json", "{}"},
	} {
		r := call(t, srv, c.method, c.target, c.body, hdr...)
		if r.status != c.status || r.ctype != c.ctype || r.body != c.want {
			t.Errorf("%s %s %q: %d %s %s\nwant %d %s %s", c.method, c.target, c.body, r.status, r.ctype, r.body, c.status, c.ctype, c.want)
		}
	}
	want := []string{"join 8056c2e21c000001", "join 0000000000000001", "leave 8056c2e21c000001"}
	if got := nets.Log(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
}

func TestNetworkBadRequests(t *testing.T) {
	nets := apitest.NewNetworks(addrA)
	srv := serveNetworks(t, nets)
	for _, c := range []struct {
		method, target, body string
		status               int
		text                 string
	}{
		{"GET", "/network/", "", 400, "network ID must be exactly 16 hex digits"},
		{"GET", "/network/8056c2e21c00001", "", 400, "exactly 16 hex digits"},
		{"POST", "/network/8056c2e21c0000011", "{}", 400, "exactly 16 hex digits"},
		{"DELETE", "/network/8056c2e21c00000g", "", 400, "exactly 16 hex digits"},
		{"GET", "/network/8056c2e21c000001/", "", 400, "exactly 16 hex digits"},
		{"POST", "/network", "{}", 405, "use GET"},
		{"PATCH", "/network/8056c2e21c000001", "{}", 405, "use GET, POST, PUT, DELETE"},
		{"POST", "/network/8056c2e21c000001", "{", 400, "body is not a JSON object of network settings"},
		{"POST", "/network/8056c2e21c000001", "[]", 400, "body is not a JSON object"},
		{"POST", "/network/8056c2e21c000001", `"allowDNS"`, 400, "body is not a JSON object"},
		{"POST", "/network/8056c2e21c000001", `{} {}`, 400, "body is not a JSON object"},
		{"POST", "/network/8056c2e21c000001", `{"allowDNS":"true"}`, 400, `allowDNS must be true or false, not "true"`},
		{"PUT", "/network/8056c2e21c000001", `{"allowManaged":1}`, 400, "allowManaged must be true or false, not 1"},
		{"POST", "/network/8056c2e21c000001", `{"allowDefault":true,"allowGlobal":{}}`, 400, "allowGlobal must be true or false"},
		{"POST", "/network/8056c2e21c000001", strings.Repeat(" ", 70000), 413, "larger than"},
	} {
		r := call(t, srv, c.method, c.target, c.body, "X-ZT1-Auth", apitest.Token)
		var e struct {
			Error       int
			Description string
		}
		if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.status != c.status || e.Error != c.status ||
			!strings.Contains(e.Description, c.text) || r.ctype != "application/json" {
			t.Errorf("%s %s %.20q: %d %s", c.method, c.target, c.body, r.status, r.body)
		}
	}
	if log := nets.Log(); len(log) != 0 {
		t.Fatalf("a refused request changed networks: %q", log)
	}

	// The implementer's failure is a 500 that says what failed.
	nets.FailJoin = apitest.ErrJoin
	r := call(t, srv, "POST", "/network/8056c2e21c000001", "{}", "X-ZT1-Auth", apitest.Token)
	if r.status != 500 || !strings.Contains(r.body, "joining 8056c2e21c000001: apitest: join refused") {
		t.Fatalf("failed join: %d %s", r.status, r.body)
	}
	// No token: 401 {} as everywhere.
	if r := call(t, srv, "GET", "/network", ""); r.status != 401 || r.body != "{}" {
		t.Fatalf("no token: %d %s", r.status, r.body)
	}
}

// Everything the state can hold shows as the reference shows it.
func TestNetworkObjectFields(t *testing.T) {
	st := api.NetworkState{
		ID:              0xffffffffffffffff,
		MAC:             verbs.MAC{0x32, 1, 2, 3, 4, 5},
		Name:            `a "<name>" \ é`,
		Status:          api.NetworkAuthenticationRequired,
		Type:            api.NetworkPublic,
		MTU:             1280,
		DHCP:            true,
		Bridge:          true,
		PortError:       -5,
		NetconfRevision: 1 << 40,
		PortDeviceName:  "ztabcdefgh",
		Settings:        api.NetworkSettings{AllowManaged: false, AllowGlobal: true, AllowDefault: true, AllowDNS: true},
		AssignedAddresses: []netip.Prefix{
			netip.MustParsePrefix("10.1.2.3/8"),
			netip.MustParsePrefix("fd80:56c2:e21c:0:199:93af:eeb6:98db/88"),
			{}, // not shown
		},
		Routes: []api.NetworkRoute{
			{Target: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.1.0.1"), Flags: 1, Metric: 100},
			{Target: netip.MustParsePrefix("::/0"), Via: netip.MustParseAddr("10.1.0.1")}, // via of the other family: null
			{Target: netip.MustParsePrefix("fd00::/8"), Via: netip.MustParseAddr("fd00::1")},
		},
		DNS:        api.NetworkDNS{Domain: "zt.example", Servers: []netip.Addr{netip.MustParseAddr("10.1.0.53"), {}, netip.MustParseAddr("fd00::53")}},
		SSOEnabled: true, AuthenticationURL: "https://sso.example/?a=1&b=2", AuthenticationExpiryTime: 1700000000000,
	}
	nets := apitest.NewNetworks(addrA)
	nets.Set(st)
	srv := serveNetworks(t, nets)
	want := `{"allowDNS":true,"allowDefault":true,"allowGlobal":true,"allowManaged":false,` +
		`"assignedAddresses":["10.1.2.3/8","fd80:56c2:e21c:0:199:93af:eeb6:98db/88"],` +
		`"authenticationExpiryTime":1700000000000,"authenticationURL":"https://sso.example/?a=1&b=2",` +
		`"bridge":true,"broadcastEnabled":false,"dhcp":true,"dns":{"domain":"zt.example","servers":["10.1.0.53","fd00::53"]},` +
		`"id":"ffffffffffffffff","mac":"32:01:02:03:04:05","mtu":1280,"multicastSubscriptions":[],` +
		`"name":"a \"<name>\" \\ é","netconfRevision":1099511627776,"nwid":"ffffffffffffffff","portDeviceName":"ztabcdefgh",` +
		`"portError":-5,"routes":[{"flags":1,"metric":100,"target":"0.0.0.0/0","via":"10.1.0.1"},` +
		`{"flags":0,"metric":0,"target":"::/0","via":null},{"flags":0,"metric":0,"target":"fd00::/8","via":"fd00::1"}],` +
		`"ssoEnabled":true,"status":"AUTHENTICATION_REQUIRED","type":"PUBLIC"}`
	if got := get(t, srv, "/network/FFFFFFFFFFFFFFFF"); got != want {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}

	// Values the reference has no name for print as "".
	st.Status, st.Type = 9, -1
	nets.Set(st)
	got := decode(t, get(t, srv, "/network/ffffffffffffffff")).(map[string]any)
	if got["status"] != "" || got["type"] != "" {
		t.Fatalf("unknown status and type: %q %q", got["status"], got["type"])
	}
}

func TestNetworkEnums(t *testing.T) {
	names := []string{"REQUESTING_CONFIGURATION", "OK", "ACCESS_DENIED", "NOT_FOUND", "PORT_ERROR", "CLIENT_TOO_OLD", "AUTHENTICATION_REQUIRED"}
	for i, n := range names {
		if s := api.NetworkStatus(i).String(); s != n {
			t.Errorf("status %d: %s, want %s", i, s, n)
		}
	}
	if s := api.NetworkStatus(7).String(); s != "NetworkStatus(7)" {
		t.Errorf("status 7: %s", s)
	}
	if api.NetworkPrivate.String() != "PRIVATE" || api.NetworkPublic.String() != "PUBLIC" || api.NetworkType(2).String() != "NetworkType(2)" {
		t.Error("network type names")
	}
	yes, no := true, false
	s := api.NetworkSettingsUpdate{AllowGlobal: &yes, AllowManaged: &no}.Apply(api.NetworkSettings{AllowManaged: true, AllowDNS: true})
	if s != (api.NetworkSettings{AllowGlobal: true, AllowDNS: true}) {
		t.Errorf("Apply: %+v", s)
	}
}
