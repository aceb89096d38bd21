package controller

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ztx/ztx/crypto/identity"
)

const ctrlAddr = identity.Address(0xf737c19395)

type apiEnv struct {
	t     *testing.T
	srv   *httptest.Server
	ctl   *Controller
	clock time.Time
}

func newAPI(t *testing.T, dir string) *apiEnv {
	t.Helper()
	s, err := OpenFileStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := &apiEnv{t: t, clock: time.UnixMilli(1795582968221)}
	e.ctl = New(ctrlAddr, s, Options{Now: func() time.Time { return e.clock }})
	e.srv = httptest.NewServer(e.ctl.Handler())
	t.Cleanup(e.srv.Close)
	return e
}

func (e *apiEnv) do(method, path, body string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		e.t.Errorf("%s %s: content type %q", method, path, ct)
	}
	return resp.StatusCode, b
}

func (e *apiEnv) ok(method, path, body string, v any) {
	e.t.Helper()
	code, b := e.do(method, path, body)
	if code != 200 {
		e.t.Fatalf("%s %s: %d %s", method, path, code, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

func keysAndKinds(t *testing.T, b []byte) map[string]string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range m {
		if v == nil {
			out[k] = "null"
		} else {
			out[k] = reflect.TypeOf(v).String()
		}
	}
	return out
}

func TestAPIController(t *testing.T) {
	e := newAPI(t, t.TempDir())
	var st map[string]any
	e.ok("GET", "/controller", "", &st)
	if st["controller"] != true || st["apiVersion"] != 4.0 || st["clock"] != 1795582968221.0 || st["databaseReady"] != true {
		t.Errorf("status = %v", st)
	}
	if code, _ := e.do("POST", "/controller", "{}"); code != 405 {
		t.Errorf("POST /controller = %d", code)
	}
}

// A network created through the API with the testdata's settings has the
// same keys, types and values as the reference controller's.
func TestAPINetworkLikeReference(t *testing.T) {
	e := newAPI(t, t.TempDir())
	var list []string
	e.ok("GET", "/controller/network", "", &list)
	if len(list) != 0 {
		t.Fatalf("list = %v", list)
	}
	body := `{"name":"zta-bench","ipAssignmentPools":[{"ipRangeStart":"10.78.0.10","ipRangeEnd":"10.78.0.250"}],
		"routes":[{"target":"10.78.0.0/24","via":null}],"v4AssignMode":{"zt":true},"private":true,"unknownField":42}`
	code, got := e.do("POST", "/controller/network/f737c19395000001", body)
	if code != 200 {
		t.Fatalf("%d %s", code, got)
	}
	want, _ := os.ReadFile("../../testdata/session1/controller-network.json")
	if !jsonEqual(t, got, want) {
		t.Errorf("created network\n got %s\nwant %s", got, want)
	}
	// The stored file is the reference's compact form.
	ref, _ := os.ReadFile(refDB + "/network/f737c19395000001.json")
	disk, _ := os.ReadFile(filepathJoin(e, "network/f737c19395000001.json"))
	if !bytes.Equal(disk, ref) {
		t.Errorf("on disk\n got %s\nwant %s", disk, ref)
	}
	e.ok("GET", "/controller/network", "", &list)
	if !reflect.DeepEqual(list, []string{"f737c19395000001"}) {
		t.Errorf("list = %v", list)
	}
}

func filepathJoin(e *apiEnv, rel string) string {
	return e.ctl.Store().(*FileStore).dir + "/" + rel
}

func TestAPINetworkUpdate(t *testing.T) {
	e := newAPI(t, t.TempDir())
	var n1 map[string]any
	e.ok("POST", "/controller/network/"+ctrlAddr.String()+"______", `{}`, &n1)
	id := n1["id"].(string)
	if !strings.HasPrefix(id, "f737c19395") || n1["nwid"] != id || n1["revision"] != 1.0 {
		t.Fatalf("created %v", n1)
	}
	// Defaults: same keys and kinds as the reference's network object.
	ref, _ := os.ReadFile("../../testdata/session1/controller-network.json")
	b, _ := json.Marshal(n1)
	if g, w := keysAndKinds(t, b), keysAndKinds(t, ref); !reflect.DeepEqual(g, w) {
		t.Errorf("default network keys/kinds\n got %v\nwant %v", g, w)
	}

	e.clock = e.clock.Add(time.Second)
	var n2 Network
	e.ok("POST", "/controller/network/"+id, `{"name":"x","mtu":100000,"multicastLimit":"7","v6AssignMode":"zt,6plane",
		"tags":[{"id":5,"default":2},{"id":1}],"capabilities":[{"id":9,"rules":[{"type":"ACTION_DROP"},{"type":"BOGUS"}]},{"id":3,"default":true}],
		"rules":[{"type":"MATCH_ETHERTYPE","etherType":2048},{"type":"ACTION_ACCEPT"},{"type":"INTEGER_RANGE","start":0,"end":1}],
		"routes":[{"target":"fd00::/64","via":"10.0.0.1"},{"target":"10.1.0.0/33"},{"target":"10.2.0.0/16","via":"10.2.0.1"}],
		"dns":{"domain":"z.example","servers":["10.2.0.53"]},"authTokens":{"tok":0,"neg":-1}}`, &n2)
	if n2.Name != "x" || n2.MTU != MaxMTU || n2.MulticastLimit != 7 || n2.Revision != 2 || n2.CreationTime != 1795582968221 {
		t.Errorf("update: %+v", n2)
	}
	if n2.V6AssignMode != (V6AssignMode{ZT: true, SixPlane: true}) || !n2.Private || len(n2.IPAssignmentPools) != 0 {
		t.Errorf("update: %+v", n2)
	}
	if len(n2.Tags) != 2 || n2.Tags[0].ID != 1 || n2.Tags[0].Default != nil || *n2.Tags[1].Default != 2 {
		t.Errorf("tags %+v", n2.Tags)
	}
	if len(n2.Capabilities) != 2 || n2.Capabilities[0].ID != 3 || !n2.Capabilities[0].Default || len(n2.Capabilities[1].Rules) != 1 {
		t.Errorf("capabilities %+v", n2.Capabilities)
	}
	if len(n2.Rules) != 2 || string(n2.Rules[1]) != `{"type":"ACTION_ACCEPT"}` || len(n2.ParsedRules()) != 2 {
		t.Errorf("rules %s", n2.Rules)
	}
	if len(n2.Routes) != 2 || n2.Routes[0].Via != nil || n2.Routes[1].Via.String() != "10.2.0.1" {
		t.Errorf("routes %+v", n2.Routes)
	}
	if !n2.DNS.Set || n2.DNS.Domain != "z.example" || len(n2.AuthTokens) != 1 {
		t.Errorf("dns %+v tokens %v", n2.DNS, n2.AuthTokens)
	}
	// An identical POST changes nothing, so the revision stays.
	var n3 Network
	e.ok("POST", "/controller/network/"+id, `{"name":"x"}`, &n3)
	if n3.Revision != 2 {
		t.Errorf("no-op POST revision = %d", n3.Revision)
	}
	// Only given fields change.
	e.ok("POST", "/controller/network/"+id, `{"private":false}`, &n3)
	if n3.Revision != 3 || n3.Private || n3.Name != "x" || n3.MTU != MaxMTU {
		t.Errorf("partial POST: %+v", n3)
	}
	var got Network
	e.ok("GET", "/controller/network/"+id, "", &got)
	if !reflect.DeepEqual(&got, &n3) {
		t.Errorf("GET after POST differs")
	}

	var del Network
	e.ok("DELETE", "/controller/network/"+id, "", &del)
	if del.Revision != 3 {
		t.Errorf("deleted %+v", del)
	}
	if code, _ := e.do("GET", "/controller/network/"+id, ""); code != 404 {
		t.Errorf("GET deleted = %d", code)
	}
	if code, _ := e.do("DELETE", "/controller/network/"+id, ""); code != 404 {
		t.Errorf("DELETE deleted = %d", code)
	}
}

func TestAPIRandomCreate(t *testing.T) {
	e := newAPI(t, t.TempDir())
	seen := map[string]bool{}
	for range 5 {
		var n Network
		e.ok("POST", "/controller/network", `{"name":"r"}`, &n)
		if n.NetworkID().Controller() != ctrlAddr || n.NetworkID()&0xffffff == 0 || seen[n.ID] {
			t.Errorf("random id %s", n.ID)
		}
		seen[n.ID] = true
	}
	var list []string
	e.ok("GET", "/controller/network", "", &list)
	if len(list) != 5 || !sort.StringsAreSorted(list) {
		t.Errorf("list %v", list)
	}
}

func TestAPIErrors(t *testing.T) {
	e := newAPI(t, t.TempDir())
	e.ok("POST", "/controller/network/f737c19395000001", `{}`, nil)
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{"POST", "/controller/network/0123456789______", `{}`, 400}, // not this controller
		{"GET", "/controller/network/f737c19395______", ``, 405},
		{"GET", "/controller/network/xyz", ``, 400},
		{"GET", "/controller/network/f737c1939500000", ``, 400},
		{"GET", "/controller/network/f737c193950000011", ``, 400},
		{"GET", "/controller/network/0000000000000001", ``, 404},
		{"POST", "/controller/network/0000000000000000", `{}`, 400},
		{"POST", "/controller/network/f737c19395000001", `{"name":`, 400},
		{"POST", "/controller/network/f737c19395000001", `[1,2]`, 400},
		{"POST", "/controller/network/f737c19395000001", `{} {}`, 400},
		{"PATCH", "/controller/network/f737c19395000001", `{}`, 405},
		{"GET", "/controller/network/f737c19395000001/member/12345", ``, 400},
		{"GET", "/controller/network/f737c19395000001/member/123456789g", ``, 400},
		{"GET", "/controller/network/f737c19395000001/member/1234567890", ``, 404},
		{"POST", "/controller/network/f737c19395000002/member/1234567890", `{}`, 404},
		{"GET", "/controller/network/f737c19395000002/member", ``, 404},
		{"POST", "/controller/network/f737c19395000001/member/0000000000", `{}`, 400},
		{"POST", "/controller/network/f737c19395000001/member/ff00000001", `{}`, 400},
		{"POST", "/controller/network/f737c19395000001/member/1234567890", `{"ipAssignments":[1]}`, 400},
		{"DELETE", "/controller/network/f737c19395000001/member/1234567890", ``, 404},
		{"GET", "/controller/nope", ``, 404},
		{"GET", "/other", ``, 404},
		{"GET", "/controller/network/f737c19395000001/member/1234567890/x", ``, 404},
	} {
		code, b := e.do(c.method, c.path, c.body)
		if code != c.code {
			t.Errorf("%s %s %s: %d %s, want %d", c.method, c.path, c.body, code, b, c.code)
			continue
		}
		var eb struct{ Error string }
		if json.Unmarshal(b, &eb) != nil || eb.Error == "" {
			t.Errorf("%s %s: error body %s", c.method, c.path, b)
		}
	}
	// A rejected member POST stored nothing.
	if code, _ := e.do("GET", "/controller/network/f737c19395000001/member/1234567890", ""); code != 404 {
		t.Errorf("rejected POST stored a member")
	}
}

func TestAPIMembers(t *testing.T) {
	e := newAPI(t, t.TempDir())
	e.ok("POST", "/controller/network/f737c19395000001", `{"ipAssignmentPools":[{"ipRangeStart":"10.78.0.10","ipRangeEnd":"10.78.0.250"}],
		"routes":[{"target":"10.78.0.0/24","via":null}],"v4AssignMode":{"zt":true}}`, nil)
	base := "/controller/network/f737c19395000001/member/"
	var m Member
	e.ok("POST", base+"AFEE230B1A", `{}`, &m)
	if m.ID != "afee230b1a" || m.Address != m.ID || m.NWID != "f737c19395000001" || m.Revision != 1 || m.Authorized ||
		m.VMajor != -1 || m.LastAuthorizedCredentialType != nil || m.CreationTime != 1795582968221 {
		t.Errorf("new member %+v", m)
	}
	e.clock = e.clock.Add(5 * time.Second)
	code, b := e.do("POST", base+"afee230b1a", `{"authorized":true,"ipAssignments":["10.78.0.11/24","bogus"],"tags":[[2,1],[1,5],[2,3]],"capabilities":[3,1,3],"name":"n1","whatever":1}`)
	if code != 200 {
		t.Fatalf("%d %s", code, b)
	}
	json.Unmarshal(b, &m)
	if !m.Authorized || m.LastAuthorizedTime != 1795582973221 || *m.LastAuthorizedCredentialType != "api" || m.Revision != 2 {
		t.Errorf("authorize %+v", m)
	}
	if !reflect.DeepEqual(m.IPAssignments, []string{"10.78.0.11"}) || !reflect.DeepEqual(m.Tags, [][2]uint64{{1, 5}, {2, 3}}) ||
		!reflect.DeepEqual(m.Capabilities, []uint64{1, 3}) || *m.Name != "n1" {
		t.Errorf("member %+v", m)
	}
	// Same keys and kinds as the reference's member, plus "name" (set here), minus
	// "identity" (learned from config requests, not the API).
	ref, _ := os.ReadFile("../../testdata/session1/controller-member-afee230b1a.json")
	g, w := keysAndKinds(t, b), keysAndKinds(t, ref)
	delete(g, "name")
	delete(w, "identity")
	if !reflect.DeepEqual(g, w) {
		t.Errorf("member keys/kinds\n got %v\nwant %v", g, w)
	}
	// Re-authorizing changes nothing; deauthorizing stamps the time.
	e.ok("POST", base+"afee230b1a", `{"authorized":1}`, &m)
	if m.Revision != 2 {
		t.Errorf("no-op revision %d", m.Revision)
	}
	e.clock = e.clock.Add(time.Second)
	e.ok("POST", base+"afee230b1a", `{"authorized":false}`, &m)
	if m.Authorized || m.LastDeauthorizedTime != 1795582974221 || m.LastAuthorizedTime != 1795582973221 || m.Revision != 3 {
		t.Errorf("deauthorize %+v", m)
	}
	e.ok("POST", base+"2e57b20512", `{"authorized":true}`, nil)

	var list map[string]uint64
	e.ok("GET", "/controller/network/f737c19395000001/member", "", &list)
	if !reflect.DeepEqual(list, map[string]uint64{"afee230b1a": 3, "2e57b20512": 1}) {
		t.Errorf("member list %v", list)
	}
	var ul struct {
		Data []Member
		Meta map[string]int
	}
	e.ok("GET", "/unstable/controller/network/f737c19395000001/member", "", &ul)
	if len(ul.Data) != 2 || ul.Meta["totalCount"] != 2 || ul.Meta["authorizedCount"] != 1 {
		t.Errorf("unstable list %+v", ul)
	}
	var un struct {
		Data []map[string]any
		Meta map[string]int
	}
	e.ok("GET", "/unstable/controller/network", "", &un)
	if len(un.Data) != 1 || un.Meta["networkCount"] != 1 || un.Data[0]["meta"].(map[string]any)["totalMemberCount"] != 2.0 ||
		un.Data[0]["id"] != "f737c19395000001" {
		t.Errorf("unstable networks %+v", un)
	}

	// IP assignment: 2e57b20512 has no address; the pool gives it
	// start + (0x57b20512 mod 240) = 10.78.0.28.
	as, err := e.ctl.AssignIPs(0xf737c19395000001, 0x2e57b20512)
	if err != nil || !as.Changed || len(as.StaticIPs) != 1 || as.StaticIPs[0].String() != "10.78.0.28/24" {
		t.Fatalf("assign %+v %v", as, err)
	}
	e.ok("GET", base+"2e57b20512", "", &m)
	if !reflect.DeepEqual(m.IPAssignments, []string{"10.78.0.28"}) || m.Revision != 2 {
		t.Errorf("after assign %+v", m)
	}

	var dm Member
	e.ok("DELETE", base+"2e57b20512", "", &dm)
	if dm.ID != "2e57b20512" {
		t.Errorf("deleted %+v", dm)
	}
	if code, _ := e.do("GET", base+"2e57b20512", ""); code != 404 {
		t.Errorf("GET deleted member = %d", code)
	}
	// Deleting the network removes its members.
	e.ok("DELETE", "/controller/network/f737c19395000001", "", nil)
	e.ok("POST", "/controller/network/f737c19395000001", "{}", nil)
	list = nil
	e.ok("GET", "/controller/network/f737c19395000001/member", "", &list)
	if len(list) != 0 {
		t.Errorf("members survived network delete: %v", list)
	}
}

// The API serves the reference's database as it is.
func TestAPIReferenceDatabase(t *testing.T) {
	e := newAPI(t, copyTree(t, refDB))
	code, b := e.do("GET", "/controller/network/f737c19395000001/member/2e57b20512", "")
	want, _ := os.ReadFile("../../testdata/session1/controller-member-2e57b20512.json")
	if code != 200 || !jsonEqual(t, b, want) {
		t.Errorf("member: %d %s", code, b)
	}
	// A member that has an address keeps it.
	as, err := e.ctl.AssignIPs(0xf737c19395000001, 0x2e57b20512)
	if err != nil || as.Changed || len(as.StaticIPs) != 1 || as.StaticIPs[0].String() != "10.78.0.12/24" {
		t.Errorf("assign %+v %v", as, err)
	}
	var n Network
	e.ok("POST", "/controller/network/f737c19395000001", `{"name":"renamed"}`, &n)
	if n.Revision != 2 || n.CreationTime != 1795582968221 {
		t.Errorf("update of reference network %+v", n)
	}
}

func TestAPIPutHooksAndLimits(t *testing.T) {
	s, err := OpenFileStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	ctl := New(ctrlAddr, s, Options{
		NetworkChanged: func(old, n *Network) { events = append(events, fmt.Sprintf("net %v %v", old != nil, n != nil)) },
		MemberChanged:  func(old, m *Member) { events = append(events, fmt.Sprintf("mem %v %v", old != nil, m != nil)) },
	})
	srv := httptest.NewServer(ctl.Handler())
	defer srv.Close()
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	base := "/controller/network/f737c19395000001"
	for _, c := range []struct {
		method, path, body string
		code               int
	}{
		{"PUT", base, `{"name":"a"}`, 200},
		{"PUT", base, `{"name":"a"}`, 200}, // no change, no event
		{"PUT", base + "/member/0102030405", `{"authorized":true}`, 200},
		{"POST", base + "/member/0102030405", `{"authorized":false}`, 200},
		{"POST", base, `{"name":"` + strings.Repeat("x", MaxBodySize) + `"}`, 413},
		{"DELETE", base, ``, 200},
	} {
		if code := do(c.method, c.path, c.body); code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, code, c.code)
		}
	}
	want := []string{"net false true", "mem false true", "mem true true", "mem true false", "net true false"}
	if !reflect.DeepEqual(events, want) {
		t.Errorf("events %v, want %v", events, want)
	}
}

// Concurrent updates of one member all count (run with -race).
func TestAPIConcurrent(t *testing.T) {
	e := newAPI(t, t.TempDir())
	e.ok("POST", "/controller/network/f737c19395000001", `{}`, nil)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"name":"v%d"}`, i)
			req, _ := http.NewRequest("POST", e.srv.URL+"/controller/network/f737c19395000001/member/0102030405", strings.NewReader(body))
			resp, err := e.srv.Client().Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	var m Member
	e.ok("GET", "/controller/network/f737c19395000001/member/0102030405", "", &m)
	if m.Revision != n {
		t.Errorf("revision %d after %d updates", m.Revision, n)
	}
}
