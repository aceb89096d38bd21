package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/api/apitest"
	"github.com/ztx/ztx/internal/testvec"
)

type response struct {
	status int
	ctype  string
	body   string
}

// call makes a request to srv with the given headers (name, value pairs).
func call(t *testing.T, srv *httptest.Server, method, target, body string, hdr ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, res.Header.Get("Content-Type"), string(b)}
}

// get is an authenticated GET that must answer 200 with JSON.
func get(t *testing.T, srv *httptest.Server, path string) string {
	t.Helper()
	r := call(t, srv, "GET", path, "", "X-ZT1-Auth", apitest.Token)
	if r.status != 200 || r.ctype != "application/json" {
		t.Fatalf("GET %s: %d %s %s", path, r.status, r.ctype, r.body)
	}
	return r.body
}

func decode(t *testing.T, s string) any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

func reference(t *testing.T, name string) any {
	t.Helper()
	b, err := os.ReadFile(testvec.MustPath(t, "session1", name))
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, string(b))
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// sameShape checks that got has exactly ref's keys with the same JSON
// types, recursively (arrays: every element against ref's first).
func sameShape(t *testing.T, where string, ref, got any) {
	t.Helper()
	if kind(ref) != kind(got) {
		t.Errorf("%s: %s, reference has %s", where, kind(got), kind(ref))
		return
	}
	switch r := ref.(type) {
	case map[string]any:
		g := got.(map[string]any)
		if !reflect.DeepEqual(keys(r), keys(g)) {
			t.Errorf("%s: keys %v, reference has %v", where, keys(g), keys(r))
		}
		for k, v := range r {
			if gv, ok := g[k]; ok {
				sameShape(t, where+"."+k, v, gv)
			}
		}
	case []any:
		if len(r) == 0 {
			return
		}
		for i, gv := range got.([]any) {
			sameShape(t, fmt.Sprintf("%s[%d]", where, i), r[0], gv)
		}
	}
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestStatus(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	body := get(t, srv, "/status")
	got := decode(t, body)
	sameShape(t, "status", reference(t, "node-a-status.json"), got)
	var st struct {
		Address, PublicIdentity, Version string
		Online                           bool
		TCPFallbackActive                bool `json:"tcpFallbackActive"`
		VersionMajor, VersionMinor       int
		VersionRev, VersionBuild         int
		Clock                            int64
		PlanetWorldID                    uint64 `json:"planetWorldId"`
		PlanetWorldTimestamp             uint64
		Config                           struct{ Settings map[string]any }
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	planet := apitest.LoadPlanet(t)
	if st.Address != "afee230b1a" || !strings.HasPrefix(st.PublicIdentity, "afee230b1a:0:") || strings.Count(st.PublicIdentity, ":") != 2 ||
		!st.Online || st.TCPFallbackActive || st.Version != "1.14.1" || st.VersionMajor != 1 || st.VersionMinor != 14 ||
		st.VersionRev != 1 || st.VersionBuild != 0 || st.Clock != bed.Now() ||
		st.PlanetWorldID != planet.ID || st.PlanetWorldTimestamp != planet.Timestamp {
		t.Fatalf("status: %+v", st)
	}
	s := st.Config.Settings
	want := map[string]any{
		"allowSecondaryPort": false, "allowTcpFallbackRelay": false, "bind": []any{"10.78.0.2"},
		"forceTcpRelay": false, "homeDir": "/var/lib/zerotier-one", "listeningOn": []any{"10.78.0.2/9993"},
		"portMappingEnabled": false, "primaryPort": float64(9993), "secondaryPort": float64(0),
		"softwareUpdate": "disable", "softwareUpdateChannel": "release", "surfaceAddresses": []any{"10.78.0.2/9993"},
		"tertiaryPort": float64(0),
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("settings:\n got %v\nwant %v", s, want)
	}
	// The reference's key order (sorted).
	if !strings.HasPrefix(body, `{"address":"afee230b1a","clock":`) || !strings.HasSuffix(body, `"versionMinor":14,"versionRev":1}`) {
		t.Fatalf("body: %s", body)
	}
}

func TestPeers(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	list := decode(t, get(t, srv, "/peer")).([]any)
	sameShape(t, "peers", reference(t, "node-a-peers.json"), list)
	if len(list) != 2 {
		t.Fatalf("A has %d peers", len(list))
	}
	b, root := list[0].(map[string]any), list[1].(map[string]any)
	if b["address"] != "2e57b20512" || b["role"] != "LEAF" || b["version"] != "1.14.1" ||
		root["address"] != "f737c19395" || root["role"] != "PLANET" {
		t.Fatalf("peers: %v", list)
	}
	path := b["paths"].([]any)[0].(map[string]any)
	if path["address"] != "10.79.0.3/9993" || path["preferred"] != true || path["active"] != true ||
		path["expired"] != false || path["trustedPathId"] != json.Number("0") {
		t.Fatalf("A's path to B: %v", path)
	}
	if lat, _ := b["latency"].(json.Number).Int64(); lat < 0 {
		t.Fatalf("latency %d", lat)
	}

	// One peer: the same object; upper case accepted; unknown is {}.
	one := get(t, srv, "/peer/2E57B20512")
	if one2 := decode(t, one); !reflect.DeepEqual(one2, list[0]) {
		t.Fatalf("/peer/2e57b20512 = %v\nlist has %v", one2, list[0])
	}
	if got := get(t, srv, "/peer/0123456789"); got != "{}" {
		t.Fatalf("unknown peer: %s", got)
	}

	// The root's view, against the root's reference file.
	rsrv := bed.Serve(t, bed.Root)
	sameShape(t, "root peers", reference(t, "node-root-peers.json"), decode(t, get(t, rsrv, "/peer")))
}

func TestZtxPeer(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	var p struct {
		Address, Identity, Link, Role string
		ProtocolVersion               int
		LastReceive                   int64
		Paths                         []struct {
			Address, Status string
			Latency         int64
			Preferred       bool
		}
	}
	if err := json.Unmarshal([]byte(get(t, srv, "/ztx/peer/2e57b20512")), &p); err != nil {
		t.Fatal(err)
	}
	if p.Address != "2e57b20512" || !strings.HasPrefix(p.Identity, "2e57b20512:0:") || p.Link != "direct" ||
		p.ProtocolVersion != 12 || p.LastReceive == 0 || len(p.Paths) != 1 || p.Paths[0].Status != "direct" ||
		p.Paths[0].Latency < 0 || !p.Paths[0].Preferred {
		t.Fatalf("ztx peer: %+v", p)
	}
	list := decode(t, get(t, srv, "/ztx/peer")).([]any)
	if len(list) != 2 {
		t.Fatalf("%d peers", len(list))
	}
	// The reference's fields are all there too.
	ref := reference(t, "node-a-peers.json").([]any)[0].(map[string]any)
	for k := range ref {
		if _, ok := list[0].(map[string]any)[k]; !ok {
			t.Errorf("/ztx/peer lacks %q", k)
		}
	}

	// Cut A from B: the direct path goes stale and the link is relayed.
	bed.Do(func() { bed.Net.Block(netip.MustParsePrefix("10.78.0.0/16"), netip.MustParsePrefix("10.79.0.0/16")) })
	bed.Run(30000)
	if err := json.Unmarshal([]byte(get(t, srv, "/ztx/peer/2e57b20512")), &p); err != nil {
		t.Fatal(err)
	}
	if p.Link != "relayed" || len(p.Paths) != 1 || p.Paths[0].Status != "stale" {
		t.Fatalf("after the cut: %+v", p)
	}
	if got := get(t, srv, "/ztx/peer/0123456789"); got != "{}" {
		t.Fatalf("unknown peer: %s", got)
	}
}

func TestAuth(t *testing.T) {
	bed := apitest.New(t)
	srv := bed.Serve(t, bed.A)
	tok, met := apitest.Token, apitest.MetricsToken
	for _, c := range []struct {
		name, target string
		hdr          []string
		status       int
	}{
		{"header", "/status", []string{"X-ZT1-Auth", tok}, 200},
		{"header lower case", "/status", []string{"x-zt1-auth", tok}, 200},
		{"query", "/status?auth=" + tok, nil, 200},
		{"bearer", "/status", []string{"Authorization", "Bearer " + tok}, 200},
		{"bearer scheme case, extra spaces", "/status", []string{"Authorization", "bEaReR   " + tok + " "}, 200},
		{"no token", "/status", nil, 401},
		{"wrong token", "/status", []string{"X-ZT1-Auth", "nope"}, 401},
		{"empty token", "/status", []string{"X-ZT1-Auth", ""}, 401},
		{"header wins over a right query", "/status?auth=" + tok, []string{"X-ZT1-Auth", "nope"}, 401},
		{"query wins over a right bearer", "/status?auth=nope", []string{"Authorization", "Bearer " + tok}, 401},
		{"basic scheme", "/status", []string{"Authorization", "Basic " + tok}, 401},
		{"three parts", "/status", []string{"Authorization", "Bearer " + tok + " x"}, 401},
		{"metrics token is not the auth token", "/status", []string{"X-ZT1-Auth", met}, 401},
		{"unknown path without a token", "/nowhere", nil, 401},
		{"unknown path with a token", "/nowhere", []string{"X-ZT1-Auth", tok}, 404},
		{"health without a token", "/health", nil, 200},
		{"metrics with the metrics token", "/metrics", []string{"Authorization", "Bearer " + met}, 200},
		{"metrics with the auth token", "/metrics?auth=" + tok, nil, 200},
		{"metrics without a token", "/metrics", nil, 401},
	} {
		r := call(t, srv, "GET", c.target, "", c.hdr...)
		if r.status != c.status {
			t.Errorf("%s: %d %s", c.name, r.status, r.body)
		}
		if r.status == 401 && (r.body != "{}" || r.ctype != "application/json") {
			t.Errorf("%s: 401 with %q %q", c.name, r.ctype, r.body)
		}
	}
}

// Only loopback and allowManagementFrom clients get in, except to
// /metrics with a token (as in the reference).
func TestSourceAddress(t *testing.T) {
	bed := apitest.New(t)
	svc := bed.Service(bed.A)
	do := func(remote, target string) int {
		r := httptest.NewRequest("GET", target, nil)
		r.RemoteAddr = remote
		r.Header.Set("X-ZT1-Auth", apitest.Token)
		w := httptest.NewRecorder()
		svc.ServeHTTP(w, r)
		return w.Code
	}
	for _, c := range []struct {
		remote, target string
		status         int
	}{
		{"127.0.0.1:5000", "/status", 200},
		{"127.9.9.9:5000", "/status", 200},
		{"[::1]:5000", "/status", 200},
		{"[::ffff:127.0.0.1]:5000", "/status", 200},
		{"10.1.2.3:5000", "/status", 401},
		{"10.1.2.3:5000", "/health", 401},
		{"10.1.2.3:5000", "/metrics", 200},
		{"garbage", "/status", 401},
	} {
		if got := do(c.remote, c.target); got != c.status {
			t.Errorf("%s %s: %d, want %d", c.remote, c.target, got, c.status)
		}
	}
	allowed := &api.Service{Node: svc.Node, Clock: svc.Clock, AuthToken: apitest.Token,
		AllowManagementFrom: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	r := httptest.NewRequest("GET", "/status", nil)
	r.RemoteAddr = "10.1.2.3:5000"
	r.Header.Set("X-ZT1-Auth", apitest.Token)
	w := httptest.NewRecorder()
	allowed.ServeHTTP(w, r)
	if w.Code != 200 {
		t.Fatalf("allowManagementFrom: %d %s", w.Code, w.Body)
	}
}

func TestJSONPAndHealth(t *testing.T) {
	bed := apitest.New(t)
	srv := bed.Serve(t, bed.A)
	r := call(t, srv, "GET", "/peer/0123456789?jsonp=my.cb_1", "", "X-ZT1-Auth", apitest.Token)
	if r.status != 200 || r.ctype != "application/javascript" || r.body != "my.cb_1({});" {
		t.Fatalf("jsonp: %+v", r)
	}
	r = call(t, srv, "GET", "/status?jsonp=cb", "")
	if r.status != 401 || r.body != "cb({});" {
		t.Fatalf("jsonp 401: %+v", r)
	}
	r = call(t, srv, "GET", "/status?jsonp=alert(document.cookie)", "", "X-ZT1-Auth", apitest.Token)
	if r.status != 400 || r.ctype != "application/json" {
		t.Fatalf("bad callback: %+v", r)
	}
	r = call(t, srv, "GET", "/health", "")
	var h map[string]any
	if err := json.Unmarshal([]byte(r.body), &h); err != nil || r.status != 200 {
		t.Fatalf("health: %+v", r)
	}
	if h["version"] != "1.14.1" || h["online"] != false || h["clock"] != float64(apitest.Start) {
		t.Fatalf("health: %v", h)
	}
}

func TestBadRequests(t *testing.T) {
	bed := apitest.New(t)
	srv := bed.Serve(t, bed.A)
	for _, c := range []struct {
		method, target, body string
		status               int
		text                 string
	}{
		{"GET", "/peer/xyz", "", 400, "peer address must be exactly 10 hex digits"},
		{"GET", "/peer/00000000001", "", 400, "exactly 10 hex digits"},
		{"GET", "/moon/000000deadbeef00", "", 400, "moon world ID"},
		{"GET", "/networks", "", 404, "no such endpoint"},
		{"GET", "/network", "", 503, "virtual networks are not available"},
		{"DELETE", "/network/8056c2e21c000001", "", 503, "virtual networks are not available"},
		{"GET", "/network/8056c2e21c00001", "", 400, "network ID must be exactly 16 hex digits"},
		{"POST", "/status", "", 405, "method POST not allowed; use GET"},
		{"DELETE", "/peer/2e57b20512", "", 405, "not allowed"},
		{"GET", "/ztx/ping/2e57b20512", "", 405, "use POST"},
		{"POST", "/moon/deadbeef00", "{", 400, "body is not"},
		{"POST", "/moon/deadbeef00", `{"seed":12}`, 400, "body is not"},
		{"POST", "/moon/deadbeef00", `{"seed":"xyz"}`, 400, "seed"},
		{"POST", "/moon/deadbeef00", `{"seed":"ff00000000"}`, 400, "reserved"},
		{"POST", "/moon/deadbeef00", strings.Repeat(" ", 70000), 413, "larger than"},
		{"POST", "/ztx/ping/2e57b20512?size=-1", "", 400, "size must be an integer from 0 to"},
		{"POST", "/ztx/ping/2e57b20512?size=1e3", "", 400, "size"},
		{"POST", "/ztx/ping/2e57b20512?timeout=0", "", 400, "timeout must be an integer from 1 to 60000"},
		{"POST", "/ztx/ping/0000000000", "", 400, "reserved"},
		{"POST", "/ztx/ping/afee230b1a", "", 400, "own address"},
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
}

func TestMoons(t *testing.T) {
	bed := apitest.NewOnline(t)
	srvA := bed.Serve(t, bed.A)
	moon := bed.MakeMoon(t, bed.B)
	id10 := fmt.Sprintf("%010x", moon.ID)
	hdr := []string{"X-ZT1-Auth", apitest.Token}

	if got := get(t, srvA, "/moon"); got != "[]" {
		t.Fatalf("no moons: %s", got)
	}
	if got := get(t, srvA, "/moon/"+id10); got != "{}" {
		t.Fatalf("unknown moon: %s", got)
	}
	// No seed: nothing happens.
	if r := call(t, srvA, "POST", "/moon/"+id10, "", hdr...); r.status != 200 || r.body != "{}" {
		t.Fatalf("orbit without seed: %+v", r)
	}
	r := call(t, srvA, "POST", "/moon/"+id10, `{"seed":"2e57b20512"}`, hdr...)
	want := fmt.Sprintf(`{"id":"%016x","roots":[],"signature":null,"timestamp":0,"updatesMustBeSignedBy":null,"waiting":true}`, moon.ID)
	if r.status != 200 || r.body != want {
		t.Fatalf("orbit: %+v\nwant %s", r, want)
	}
	for i := 0; get(t, srvA, "/moon") == "[]"; i++ {
		if i > 600 {
			t.Fatal("A never got the moon")
		}
		bed.Run(100)
	}
	list := decode(t, get(t, srvA, "/moon")).([]any)
	m := list[0].(map[string]any)
	if !reflect.DeepEqual(keys(m), []string{"id", "roots", "signature", "timestamp", "updatesMustBeSignedBy", "waiting"}) ||
		m["id"] != fmt.Sprintf("%016x", moon.ID) || m["waiting"] != false || m["timestamp"] != json.Number("5000") ||
		len(m["signature"].(string)) != 192 || len(m["updatesMustBeSignedBy"].(string)) != 128 {
		t.Fatalf("moon: %v", m)
	}
	root := m["roots"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(root["identity"].(string), "2e57b20512:0:") ||
		!reflect.DeepEqual(root["stableEndpoints"], []any{"10.79.0.3/9993"}) {
		t.Fatalf("moon root: %v", root)
	}
	if one := decode(t, get(t, srvA, "/moon/"+strings.ToUpper(id10))); !reflect.DeepEqual(one, m) {
		t.Fatalf("/moon/%s: %v", id10, one)
	}
	// Orbiting a moon already there answers it (PUT too).
	if r := call(t, srvA, "PUT", "/moon/"+id10, `{"seed":"2e57b20512"}`, hdr...); decode(t, r.body).(map[string]any)["waiting"] != false {
		t.Fatalf("orbit again: %+v", r)
	}
	if p := decode(t, get(t, srvA, "/peer/2e57b20512")).(map[string]any); p["role"] != "MOON" {
		t.Fatalf("B's role: %v", p["role"])
	}
	if r := call(t, srvA, "DELETE", "/moon/"+id10, "", hdr...); r.status != 200 || r.body != `{"result":true}` {
		t.Fatalf("deorbit: %+v", r)
	}
	if got := get(t, srvA, "/moon"); got != "[]" {
		t.Fatalf("after deorbit: %s", got)
	}
	// Deorbiting what is not there is still {"result":true}.
	if r := call(t, srvA, "DELETE", "/moon/0123456789", "", hdr...); r.body != `{"result":true}` {
		t.Fatalf("deorbit unknown: %+v", r)
	}
}

func TestPing(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	stop := bed.Start()
	defer func() { stop() }() // stop is replaced below
	hdr := []string{"X-ZT1-Auth", apitest.Token}
	r := call(t, srv, "POST", "/ztx/ping/2e57b20512?size=200", "", hdr...)
	var p struct {
		Address, From string
		Relayed       bool
		RTT           int64
	}
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 200 {
		t.Fatalf("ping: %+v", r)
	}
	if p.Address != "2e57b20512" || p.Relayed || p.From != "10.79.0.3/9993" || p.RTT < 0 || p.RTT > 1000 {
		t.Fatalf("ping: %+v", p)
	}
	if !strings.HasPrefix(r.body, `{"address":"2e57b20512","from":"10.79.0.3/9993","relayed":false,"rtt":`) {
		t.Fatalf("ping body: %s", r.body)
	}
	// The root answers too.
	if r := call(t, srv, "POST", "/ztx/ping/f737c19395", "", hdr...); r.status != 200 || !strings.Contains(r.body, `"from":"10.77.0.1/9993"`) {
		t.Fatalf("ping root: %+v", r)
	}
	// Nobody has that address: 504.
	if r := call(t, srv, "POST", "/ztx/ping/0123456789?timeout=200", "", hdr...); r.status != 504 || !strings.Contains(r.body, "no reply from 0123456789 within 200 ms") {
		t.Fatalf("ping nobody: %+v", r)
	}
	stop()
	// Through the root when A and B cannot reach each other.
	bed.Do(func() { bed.Net.Block(netip.MustParsePrefix("10.78.0.0/16"), netip.MustParsePrefix("10.79.0.0/16")) })
	bed.Run(300000) // the direct path expires
	stop = bed.Start()
	r = call(t, srv, "POST", "/ztx/ping/2e57b20512", "", hdr...)
	if err := json.Unmarshal([]byte(r.body), &p); err != nil || r.status != 200 || !p.Relayed || p.From != "10.77.0.1/9993" {
		t.Fatalf("relayed ping: %+v %s", p, r.body)
	}
}

func TestMetrics(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	r := call(t, srv, "GET", "/metrics", "", "X-ZT1-Auth", apitest.MetricsToken)
	if r.status != 200 || !strings.HasPrefix(r.ctype, "text/plain") {
		t.Fatalf("metrics: %d %s", r.status, r.ctype)
	}
	for _, want := range []string{
		`zt_peer_path_count{node_id="2e57b20512",status="alive"} 1`,
		`zt_peer_path_count{node_id="f737c19395",status="dead"} 0`,
		`# TYPE zt_peer_latency histogram`,
		`zt_peer_latency_bucket{node_id="2e57b20512",le="1000"} 1`,
		`zt_peer_latency_count{node_id="f737c19395"} 1`,
		`ztx_node_online 1`,
		`ztx_peers{role="PLANET"} 1`,
		`ztx_peers{role="LEAF"} 1`,
		`ztx_peer_direct{node_id="2e57b20512"} 1`,
		`ztx_vl1_packets_total{direction="rx"} `,
		`ztx_vl1_dropped_packets_total{reason="mac"} 0`,
		`zt_packet{direction="tx",packet_type="hello"} `,
		`zt_packet{direction="rx",packet_type="ok"} `,
		`zt_packet{direction="rx",packet_type="echo"} `,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if t.Failed() {
		t.Log(r.body)
	}
	// A second scrape within 5 s does not observe again; one later does.
	r = call(t, srv, "GET", "/metrics", "", "X-ZT1-Auth", apitest.MetricsToken)
	if !strings.Contains(r.body, `zt_peer_latency_count{node_id="2e57b20512"} 1`) {
		t.Fatal("latency observed twice within 5 s")
	}
	bed.Run(5000)
	r = call(t, srv, "GET", "/metrics", "", "X-ZT1-Auth", apitest.MetricsToken)
	if !strings.Contains(r.body, `zt_peer_latency_count{node_id="2e57b20512"} 2`) {
		t.Fatal("latency not observed after 5 s")
	}
}

// The controller's API is served behind the same authentication.
func TestControllerMounted(t *testing.T) {
	bed := apitest.NewOnline(t)
	svc := bed.Service(bed.A)
	svc.Controller = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"controller":true}`) })
	srv := httptest.NewServer(svc)
	defer srv.Close()
	if r := call(t, srv, "GET", "/controller", ""); r.status != 401 {
		t.Fatalf("controller without a token: %d", r.status)
	}
	r := call(t, srv, "GET", "/controller/network", "", "X-ZT1-Auth", apitest.Token)
	if r.status != 200 || r.body != `{"controller":true}` {
		t.Fatalf("controller: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "GET", "/controllers", "", "X-ZT1-Auth", apitest.Token); r.body == `{"controller":true}` {
		t.Fatal("/controllers went to the controller")
	}
}
