package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/ztx/ztx/controlplane/vl1"
)

func serve(s *Service, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	r.RemoteAddr = "127.0.0.1:40000"
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

// A reply that arrives before the handler registers its wait (the daemon
// may deliver it from another goroutine at once) is still matched.
func TestEchoReplyOvertakesWaiter(t *testing.T) {
	s, n := newStubService()
	n.onPing = func(c uint64) {
		s.EchoReply(vl1.EchoReply{Peer: 0x2e57b20512, Cookie: c, RTT: 12, From: netip.MustParseAddrPort("10.0.0.2:9993")})
	}
	w := serve(s, "POST", "/ztx/ping/2e57b20512?timeout=1000", "", "X-ZT1-Auth", "tok")
	if w.Code != 200 || w.Body.String() != `{"address":"2e57b20512","from":"10.0.0.2/9993","relayed":false,"rtt":12}` {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(s.pings.waiters) != 0 || len(s.pings.early) != 0 {
		t.Fatalf("ping table not cleaned: %d waiters, %d early", len(s.pings.waiters), len(s.pings.early))
	}
}

// Replies nobody waits for are kept in a bounded table.
func TestUnclaimedRepliesBounded(t *testing.T) {
	s, _ := newStubService()
	for c := range uint64(1000) {
		s.EchoReply(vl1.EchoReply{Cookie: c})
	}
	if len(s.pings.early) != earlyReplies || len(s.pings.order) != earlyReplies {
		t.Fatalf("%d early replies kept", len(s.pings.early))
	}
	if _, ok := s.pings.early[999]; !ok {
		t.Fatal("the newest reply was dropped")
	}
}

func TestPingTimeoutAndSelf(t *testing.T) {
	s, _ := newStubService()
	w := serve(s, "POST", "/ztx/ping/2e57b20512?timeout=20", "", "X-ZT1-Auth", "tok")
	if w.Code != http.StatusGatewayTimeout || !strings.Contains(w.Body.String(), "within 20 ms") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	w = serve(s, "POST", "/ztx/ping/afee230b1a", "", "X-ZT1-Auth", "tok")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "own address") {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if len(s.pings.waiters) != 0 {
		t.Fatal("waiter left behind")
	}
}

func TestParseRoute(t *testing.T) {
	for _, c := range []struct {
		path   string
		ep     endpoint
		arg    uint64
		status int
	}{
		{"/status", epStatus, 0, 0},
		{"/peer", epPeers, 0, 0},
		{"/peer/2e57b20512", epPeer, 0x2e57b20512, 0},
		{"/peer/2E57B20512", epPeer, 0x2e57b20512, 0},
		{"/moon/deadbeef00", epMoon, 0xdeadbeef00, 0},
		{"/ztx/ping/0000000001", epZtxPing, 1, 0},
		{"/peer/", 0, 0, 400},
		{"/peer/2e57b2051", 0, 0, 400},
		{"/peer/2e57b205123", 0, 0, 400},
		{"/peer/+e57b20512", 0, 0, 400},
		{"/moon/000000deadbeef00", 0, 0, 400},
		{"/status/", 0, 0, 404},
		{"/network", epNetworks, 0, 0},
		{"/network/8056C2E21C000001", epNetwork, 0x8056c2e21c000001, 0},
		{"/network/ffffffffffffffff", epNetwork, 0xffffffffffffffff, 0},
		{"/network/", 0, 0, 400},
		{"/network/8056c2e21c00001", 0, 0, 400},
		{"/network/8056c2e21c0000011", 0, 0, 400},
		{"/network/8056c2e21c00000x", 0, 0, 400},
		{"/network/-056c2e21c000001", 0, 0, 400},
		{"/networks", 0, 0, 404},
		{"", 0, 0, 404},
	} {
		rt, err := parseRoute(c.path)
		switch {
		case c.status != 0 && (err == nil || err.status != c.status):
			t.Errorf("%q: %+v, %v; want status %d", c.path, rt, err, c.status)
		case c.status == 0 && (err != nil || rt.ep != c.ep || rt.arg != c.arg):
			t.Errorf("%q: %+v, %v; want %d %x", c.path, rt, err, c.ep, c.arg)
		}
	}
}

// Configured settings win over the daemon's values, coerced; the caller's
// local.conf map is left alone.
func TestConfigAugmented(t *testing.T) {
	settings := map[string]any{"primaryPort": "9994", "forceTcpRelay": json.Number("1"), "custom": "kept"}
	conf := map[string]any{"settings": settings, "physical": map[string]any{}}
	s := &Service{
		HomeDir:     "/h",
		Settings:    Settings{PrimaryPort: 9993, SecondaryPort: 41000, PortMappingEnabled: true},
		LocalConf:   func() map[string]any { return conf },
		ListeningOn: func() []netip.AddrPort { return []netip.AddrPort{netip.MustParseAddrPort("[::1]:9993")} },
	}
	got := s.config([]string{"1.2.3.4/9993"})
	b, _ := json.Marshal(got)
	want := `{"physical":{},"settings":{"allowTcpFallbackRelay":false,"custom":"kept","forceTcpRelay":true,"homeDir":"/h",` +
		`"listeningOn":["::1/9993"],"portMappingEnabled":true,"primaryPort":9994,"secondaryPort":41000,` +
		`"softwareUpdate":"disable","softwareUpdateChannel":"release","surfaceAddresses":["1.2.3.4/9993"],"tertiaryPort":0}}`
	if string(b) != want {
		t.Fatalf("config:\n got %s\nwant %s", b, want)
	}
	if len(settings) != 3 {
		t.Fatalf("caller's settings modified: %v", settings)
	}
	// A settings value that is not an object is replaced.
	conf = map[string]any{"settings": "nonsense"}
	if _, ok := s.config(nil)["settings"].(map[string]any); !ok {
		t.Fatal("settings not an object")
	}
}
