//go:build linux

package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ztx/ztx/internal/netns"
)

// TestControllerKill9 restarts the daemon with SIGKILL in the middle of
// controller updates and checks that no acknowledged change is lost.
//
// The daemon (this package, built once) runs in a namespace of its own;
// the test reaches its API on 127.0.0.1 there through sockets opened in the
// namespace. A few writers update members (each writer owns its members,
// so "the last acknowledged value" of a field is well defined) and one
// updates the network, as fast as the controller answers. At a random
// moment the daemon gets SIGKILL; the writers are held once their requests
// in flight have failed, the daemon is started again, and every record is
// read back:
//
//   - a record with no request of unknown outcome (one that failed with
//     the kill rather than being answered) must be exactly what the last
//     200 answer for it said, revision included;
//   - otherwise each field a request of unknown outcome set must hold its
//     acknowledged value or one of those requests' values, the revision may
//     have grown by at most their number, and every other field must be
//     as acknowledged;
//   - every file under controller.d parses, and no temporary file is left.
//
// What was read becomes the new acknowledged state and the writers go on,
// for several rounds.
func TestControllerKill9(t *testing.T) {
	netns.RequireRoot(t)
	netns.RequireCommands(t, "ip")
	const (
		kills     = 4
		writers   = 4
		perWriter = 8
		minAcked  = 50                     // updates acknowledged in a round before its kill, at least
		maxExtra  = 500 * time.Millisecond // and then a random time more
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	bin := buildNode(t)
	ns := netns.New(t, "ctl")
	lan := netns.Bridge(t, "lan", netip.MustParsePrefix("198.51.100.0/24"), ns)
	d := &daemonProc{t: t, ns: ns, bin: bin, home: t.TempDir(), client: nsClient(ns)}
	conf := `{"settings":{"bind":["` + lan.Addr(ns).String() + `"],"portMappingEnabled":false,"allowTcpFallbackRelay":false}}`
	if err := os.WriteFile(filepath.Join(d.home, "local.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	d.start()
	t.Logf("daemon up in %v", time.Since(began))

	pub, err := os.ReadFile(filepath.Join(d.home, "identity.public"))
	if err != nil {
		t.Fatal(err)
	}
	nwid := string(pub[:10]) + "c0ffee"
	network := &record{path: "/controller/network/" + nwid}
	var seq atomic.Uint64 // makes names and trace levels unique
	if !d.update(network, map[string]any{"name": "crash", "private": true, "multicastLimit": 7}) {
		t.Fatal("creating the network failed")
	}
	owned := make([][]*record, writers)
	all := []*record{network}
	for w := range owned {
		for i := range perWriter {
			r := &record{path: fmt.Sprintf("%s/member/a%d%08x", network.path, w, i)}
			if !d.update(r, memberBody(rng, seq.Add(1))) {
				t.Fatalf("creating member %s failed", r.path)
			}
			owned[w] = append(owned[w], r)
			all = append(all, r)
		}
	}

	// Writers hold gate for reading while a request is in flight; the test
	// takes it for writing to restart and check with no writer running.
	var (
		gate    sync.RWMutex
		stop    atomic.Bool
		acked   atomic.Int64
		unknown atomic.Int64
		wg      sync.WaitGroup
	)
	writer := func(recs []*record, body func(*rand.Rand) map[string]any, seed uint64) {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(seed, 1))
		for {
			gate.RLock()
			if stop.Load() || t.Failed() {
				gate.RUnlock()
				return
			}
			if d.update(recs[rng.IntN(len(recs))], body(rng)) {
				acked.Add(1)
			} else {
				unknown.Add(1)
			}
			gate.RUnlock()
		}
	}
	gate.Lock()
	locked := true
	defer func() { // also when the test fails half-way
		stop.Store(true)
		if locked {
			gate.Unlock()
		}
		wg.Wait()
	}()
	for w, recs := range owned {
		wg.Add(1)
		go writer(recs, func(rng *rand.Rand) map[string]any { return memberBody(rng, seq.Add(1)) }, seed+uint64(w)+1)
	}
	wg.Add(1)
	go writer([]*record{network}, func(rng *rand.Rand) map[string]any { return networkBody(rng, seq.Add(1)) }, seed+writers+1)

	for round := 1; round <= kills; round++ {
		a0, u0 := acked.Load(), unknown.Load()
		gate.Unlock()
		locked = false
		for deadline := time.Now().Add(10 * time.Second); acked.Load()-a0 < minAcked; {
			if t.Failed() {
				t.FailNow()
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: only %d updates acknowledged in 10 s", round, acked.Load()-a0)
			}
			time.Sleep(time.Millisecond)
		}
		time.Sleep(rand.N(maxExtra))
		if err := d.proc.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("kill: %v", err)
		}
		gate.Lock() // once the requests in flight have failed
		locked = true
		<-d.proc.Done()
		var ee *exec.ExitError
		if err := d.proc.Err(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: daemon ended with %v, not by SIGKILL", round, err)
		}
		d.client.Transport.(*http.Transport).CloseIdleConnections()
		a, u := acked.Load()-a0, unknown.Load()-u0
		t.Logf("round %d: %d updates acknowledged, %d of unknown outcome, then SIGKILL", round, a, u)
		began := time.Now()
		d.start()
		d.verify(nwid, all)
		if t.Failed() {
			t.FailNow()
		}
		t.Logf("round %d: restarted and checked %d records in %v", round, len(all), time.Since(began))
	}
}

// record is one controller record (the network or a member) as the test
// knows it: its last acknowledged state, and the bodies of the requests
// sent since whose outcome is unknown.
type record struct {
	path    string
	acked   map[string]any
	pending []map[string]any
}

// derived are the fields the controller sets itself when others change.
var derived = []string{"revision", "lastAuthorizedTime", "lastDeauthorizedTime", "lastAuthorizedCredential", "lastAuthorizedCredentialType"}

// check compares got, read back after a restart, with what r expects.
func (r *record) check(got map[string]any) []string {
	var bad []string
	if len(r.pending) == 0 {
		for _, k := range union(got, r.acked) {
			if !reflect.DeepEqual(got[k], r.acked[k]) {
				bad = append(bad, fmt.Sprintf("%s is %s, acknowledged %s", k, js(got[k]), js(r.acked[k])))
			}
		}
		return bad
	}
	candidates := map[string][]any{}
	for _, b := range r.pending {
		for k, v := range b {
			candidates[k] = append(candidates[k], v)
		}
	}
	for _, k := range union(got, r.acked) {
		switch {
		case k == "revision":
			rev, _ := got[k].(float64)
			old, _ := r.acked[k].(float64)
			if rev < old || rev > old+float64(len(r.pending)) {
				bad = append(bad, fmt.Sprintf("revision %v, acknowledged %v with %d requests of unknown outcome since", rev, old, len(r.pending)))
			}
		case slices.Contains(derived, k):
		case candidates[k] != nil:
			if !reflect.DeepEqual(got[k], r.acked[k]) && !slices.ContainsFunc(candidates[k], func(v any) bool { return reflect.DeepEqual(got[k], v) }) {
				bad = append(bad, fmt.Sprintf("%s is %s, acknowledged %s, unknown outcome %s", k, js(got[k]), js(r.acked[k]), js(candidates[k])))
			}
		case !reflect.DeepEqual(got[k], r.acked[k]):
			bad = append(bad, fmt.Sprintf("%s is %s, acknowledged %s (no request of unknown outcome set it)", k, js(got[k]), js(r.acked[k])))
		}
	}
	return bad
}

// union is the keys of a and b, sorted.
func union(a, b map[string]any) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// js renders v for a message.
func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// memberBody is a member POST body setting a random non-empty subset of
// the fields the test follows; seq makes its name and trace level unique.
func memberBody(rng *rand.Rand, seq uint64) map[string]any {
	b := map[string]any{}
	for len(b) == 0 {
		for _, k := range []string{"authorized", "activeBridge", "noAutoAssignIps"} {
			if rng.IntN(2) == 0 {
				b[k] = rng.IntN(2) == 0
			}
		}
		if rng.IntN(2) == 0 {
			b["name"] = fmt.Sprintf("m%d", seq)
		}
		if rng.IntN(2) == 0 {
			ips := []string{}
			for range rng.IntN(4) {
				ips = append(ips, netip.AddrFrom4([4]byte{10, byte(rng.IntN(256)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}).String())
			}
			b["ipAssignments"] = ips
		}
		if rng.IntN(3) == 0 {
			b["remoteTraceLevel"] = seq
		}
	}
	return b
}

// networkBody is a network POST body with a new name and maybe other changes.
func networkBody(rng *rand.Rand, seq uint64) map[string]any {
	b := map[string]any{"name": fmt.Sprintf("crash-%d", seq)}
	if rng.IntN(2) == 0 {
		b["multicastLimit"] = 1 + rng.IntN(100)
	}
	if rng.IntN(2) == 0 {
		b["enableBroadcast"] = rng.IntN(2) == 0
	}
	return b
}

// buildNode builds ztnode (the package under test) into a temporary directory.
func buildNode(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ztnode")
	began := time.Now()
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built ztnode in %v", time.Since(began))
	return bin
}

// nsClient is an HTTP client whose connections are made inside ns.
func nsClient(ns *netns.NS) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := ns.Do(func() error {
				var err error
				c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
		MaxIdleConnsPerHost: 16,
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

const apiPort = "9993"

// daemonProc is the daemon under test, started again after each kill.
type daemonProc struct {
	t      *testing.T
	ns     *netns.NS
	bin    string
	home   string
	client *http.Client
	token  string
	proc   *netns.Process
}

// start starts the daemon and waits until its controller answers.
func (d *daemonProc) start() {
	d.t.Helper()
	d.proc = d.ns.Start(d.t, d.bin, "--home", d.home, "--port", apiPort, "--log-level", "warn")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if tok, err := os.ReadFile(filepath.Join(d.home, "authtoken.secret")); err == nil && len(tok) > 0 {
			d.token = strings.TrimSpace(string(tok))
			if status, _, err := d.do(http.MethodGet, "/controller", nil); err == nil && status == http.StatusOK {
				return
			}
		}
		select {
		case <-d.proc.Done():
			d.t.Fatalf("ztnode exited at start: %v\n%s", d.proc.Err(), d.proc.Output())
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("ztnode's controller did not answer within 10 s\n%s", d.proc.Output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (d *daemonProc) do(method, path string, body []byte) (int, []byte, error) {
	req, err := http.NewRequest(method, "http://127.0.0.1:"+apiPort+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("X-ZT1-Auth", d.token)
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// update POSTs body to r and reports whether it was acknowledged; if not,
// its outcome is unknown. An acknowledged answer must show the change.
func (d *daemonProc) update(r *record, body map[string]any) bool {
	b, err := json.Marshal(body)
	if err != nil {
		d.t.Error(err)
		return false
	}
	var sent map[string]any // body as the answers' JSON decodes
	if err := json.Unmarshal(b, &sent); err != nil {
		d.t.Error(err)
		return false
	}
	status, ans, err := d.do(http.MethodPost, r.path, b)
	if err != nil {
		r.pending = append(r.pending, sent)
		return false
	}
	var got map[string]any
	if status != http.StatusOK || json.Unmarshal(ans, &got) != nil {
		d.t.Errorf("POST %s %s: %d %s", r.path, b, status, ans)
		r.pending = append(r.pending, sent)
		return false
	}
	for k, v := range sent {
		if !reflect.DeepEqual(got[k], v) {
			d.t.Errorf("POST %s %s: answer has %s %s", r.path, b, k, js(got[k]))
		}
	}
	r.acked, r.pending = got, nil
	return true
}

// verify checks the files under controller.d, reads every record back
// and checks it against what was acknowledged, and takes what it read as
// the new acknowledged state.
func (d *daemonProc) verify(nwid string, recs []*record) {
	d.t.Helper()
	db := filepath.Join(d.home, "controller.d")
	var members int
	err := filepath.WalkDir(db, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		if strings.HasPrefix(e.Name(), ".tmp-") {
			d.t.Errorf("temporary file left after restart: %s", path)
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			d.t.Errorf("%s does not parse (%v): %q", path, err, b)
		}
		if filepath.Base(filepath.Dir(path)) == "member" {
			members++
		}
		return nil
	})
	if err != nil {
		d.t.Fatal(err)
	}
	if members != len(recs)-1 {
		d.t.Errorf("%d member files, want %d", members, len(recs)-1)
	}
	if _, err := os.Stat(filepath.Join(db, "network", nwid+".json")); err != nil {
		d.t.Errorf("network file: %v", err)
	}

	status, b, err := d.do(http.MethodGet, "/controller/network/"+nwid+"/member", nil)
	var list map[string]any
	if err != nil || status != http.StatusOK || json.Unmarshal(b, &list) != nil {
		d.t.Fatalf("GET member list: %d %s %v", status, b, err)
	}
	if len(list) != len(recs)-1 {
		d.t.Errorf("member list has %d members, want %d: %s", len(list), len(recs)-1, b)
	}

	for _, r := range recs {
		status, b, err := d.do(http.MethodGet, r.path, nil)
		var got map[string]any
		if err != nil || status != http.StatusOK || json.Unmarshal(b, &got) != nil {
			d.t.Fatalf("GET %s: %d %s %v", r.path, status, b, err)
		}
		if bad := r.check(got); len(bad) > 0 {
			d.t.Errorf("lost update in %s:\n\t%s", r.path, strings.Join(bad, "\n\t"))
		}
		r.acked, r.pending = got, nil
	}
}
