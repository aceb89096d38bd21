package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/ztx/ztx/controlplane/api/apitest"
)

// runClient runs the client commands in a test app, mapping errors to
// exit codes as run does.
func runClient(t *testing.T, env clientEnv, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	app := &cli.App{
		Name: "ztctl", Writer: &o, ErrWriter: &e,
		ExitErrHandler: func(*cli.Context, error) {},
		Commands:       newNodeCommands(env),
	}
	err := app.Run(append([]string{"ztctl"}, args...))
	var ex *exitError
	switch {
	case err == nil:
	case errors.As(err, &ex):
		if ex.msg != "" {
			fmt.Fprintln(&e, ex.msg)
		}
		code = ex.code
	default:
		fmt.Fprintln(&e, "ztctl:", err)
		code = 1
	}
	return o.String(), e.String(), code
}

func portOf(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// testEnv talks to srv with a fixed clock and no environment.
func testEnv(srv *httptest.Server, now func() int64) clientEnv {
	return clientEnv{now: now, getenv: func(string) string { return "" }, client: srv.Client()}
}

// conn is the options that reach srv.
func conn(t *testing.T, srv *httptest.Server, token string) []string {
	return []string{"-H", "127.0.0.1", "-p", portOf(t, srv), "-T", token}
}

// cmdArgs puts the command first, then the connection options, then the rest.
func cmdArgs(cmd string, conn []string, rest ...string) []string {
	return append(append([]string{cmd}, conn...), rest...)
}

// canned serves fixed bodies by path, checking the token.
func canned(t *testing.T, bodies map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-ZT1-Auth") != "tok" {
			w.WriteHeader(401)
			fmt.Fprint(w, "{}")
			return
		}
		b, ok := bodies[r.Method+" "+r.URL.Path]
		if !ok {
			w.WriteHeader(404)
			return
		}
		if code, rest, ok := strings.Cut(b, "|"); ok && len(code) == 3 {
			var c int
			fmt.Sscan(code, &c)
			w.WriteHeader(c)
			b = rest
		}
		fmt.Fprint(w, b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The client commands do not clash with the others (each name appears
// at most once in the app: once when registered), and carry the
// connection options.
func TestNodeCommandsRegistrable(t *testing.T) {
	seen := map[string]int{}
	for _, c := range newApp(io.Discard, io.Discard).Commands {
		for _, n := range c.Names() {
			seen[n]++
		}
	}
	want := []string{"info", "listpeers", "peers", "listmoons", "orbit", "deorbit", "ping", "listnetworks", "join", "leave", "set", "get"}
	cmds := nodeCommands()
	if len(cmds) != len(want) {
		t.Fatalf("%d commands", len(cmds))
	}
	for i, c := range cmds {
		if c.Name != want[i] {
			t.Errorf("command %d: %s", i, c.Name)
		}
		for _, n := range c.Names() {
			if seen[n] > 1 {
				t.Errorf("%s: name %q taken", c.Name, n)
			}
		}
		for _, f := range []string{"D", "p", "H", "T", "j"} {
			if lookupFlag(c.Flags, f) == nil {
				t.Errorf("%s lacks -%s", c.Name, f)
			}
		}
	}
}

// The reference node's own JSON, printed by the client: the exact
// column formats of zerotier-cli.
func TestClientGoldenReferenceJSON(t *testing.T) {
	peers := readTestdata(t, "session1/node-a-peers.json")
	srv := canned(t, map[string]string{
		"GET /status": readTestdata(t, "session1/node-a-status.json"),
		"GET /peer":   peers,
	})
	env := testEnv(srv, func() int64 { return 1795583041240 })
	c := conn(t, srv, "tok")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{cmdArgs("info", c), "200 info afee230b1a 1.14.1 ONLINE\n"},
		{cmdArgs("status", c), "200 info afee230b1a 1.14.1 ONLINE\n"},
		{cmdArgs("listpeers", c), "200 listpeers <ztaddr> <path> <latency> <version> <role>\n" +
			"200 listpeers 2e57b20512 10.77.0.3/9993;5132;5131 21 1.14.1 LEAF\n" +
			"200 listpeers f737c19395 10.77.0.1/9993;443;443 52 1.14.1 PLANET\n"},
		{cmdArgs("peers", c), "200 peers\n" +
			"<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>\n" +
			"2e57b20512 1.14.1 LEAF      21 DIRECT   5132     5131     10.77.0.3/9993\n" +
			"f737c19395 1.14.1 PLANET    52 DIRECT   443      443      10.77.0.1/9993\n"},
	} {
		out, errOut, code := runClient(t, env, tc.args...)
		if out != tc.want || errOut != "" || code != 0 {
			t.Errorf("%v: exit %d\n%s%s\nwant\n%s", tc.args, code, out, errOut, tc.want)
		}
	}
	// -j: the body, keys sorted, one-space indent.
	out, _, code := runClient(t, env, cmdArgs("listpeers", c, "-j")...)
	if code != 0 || out != peers {
		t.Errorf("listpeers -j:\n%s\nwant\n%s", out, peers)
	}
	out, _, _ = runClient(t, env, cmdArgs("info", c, "-j")...)
	if !strings.HasPrefix(out, "{\n \"address\": \"afee230b1a\",\n \"clock\": 1795583040240,\n \"config\": {\n  \"settings\": {\n   \"allowSecondaryPort\": false,") {
		t.Errorf("info -j:\n%s", out)
	}
}

// Tunneled peers, peers without a path, unknown versions.
func TestClientPeersRelay(t *testing.T) {
	body := `[{"address":"0000000001","latency":-1,"paths":[],"role":"LEAF","tunneled":false,"versionMajor":-1,"versionMinor":-1,"versionRev":-1},
{"address":"0000000002","latency":7,"paths":[{"address":"1.2.3.4/9993","lastReceive":0,"lastSend":900,"preferred":true}],"role":"MOON","tunneled":true,"versionMajor":1,"versionMinor":12,"versionRev":0}]`
	srv := canned(t, map[string]string{"GET /peer": body})
	env := testEnv(srv, func() int64 { return 1000 })
	out, _, code := runClient(t, env, cmdArgs("peers", conn(t, srv, "tok"))...)
	want := "200 peers\n" +
		"<ztaddr>   <ver>  <role> <lat> <link>   <lastTX> <lastRX> <path>\n" +
		"0000000001 -      LEAF      -1 RELAY\n" +
		"0000000002 1.12.0 MOON       7 RELAY 100      -1       1.2.3.4/9993\n" +
		"NOTE: Currently tunneling through a TCP relay. Ensure that UDP is not blocked.\n" +
		"NOTE: No direct path to 0000000001: traffic is relayed through a root.\n"
	if code != 0 || out != want {
		t.Fatalf("peers:\n%s\nwant\n%s", out, want)
	}
	out, _, _ = runClient(t, env, cmdArgs("listpeers", conn(t, srv, "tok"))...)
	want = "200 listpeers <ztaddr> <path> <latency> <version> <role>\n" +
		"200 listpeers 0000000001 - -1 - LEAF\n" +
		"200 listpeers 0000000002 1.2.3.4/9993;100;-1 7 1.12.0 MOON\n"
	if out != want {
		t.Fatalf("listpeers:\n%s\nwant\n%s", out, want)
	}
}

func TestClientErrors(t *testing.T) {
	srv := canned(t, map[string]string{
		"GET /status": "nope",
		"GET /peer":   `500|{"error":500}`,
	})
	env := testEnv(srv, func() int64 { return 0 })
	check := func(args []string, wantOut, wantErr string, wantCode int) {
		t.Helper()
		out, errOut, code := runClient(t, env, args...)
		if !strings.HasPrefix(out, wantOut) || !strings.Contains(errOut, wantErr) || code != wantCode {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	check(cmdArgs("info", conn(t, srv, "bad")), "401 info {}\n", "", 1)
	check(cmdArgs("listpeers", conn(t, srv, "tok")), "500 listpeers {\"error\":500}\n", "", 1)
	check(cmdArgs("info", conn(t, srv, "tok")), "200 info invalid JSON response (", "", 1)
	check(cmdArgs("listmoons", conn(t, srv, "tok")), "404 listmoons invalid JSON response (", "", 1)
	check(cmdArgs("ping", conn(t, srv, "tok"), "0123456789"), "PING 0123456789: 56 bytes of ECHO payload\n404 ping \n", "", 1)
	check(cmdArgs("orbit", conn(t, srv, "tok"), "deadbeef00", "0"), "", "ztctl orbit: seed \"0\" is not a non-zero hex address", 2)
	check(cmdArgs("orbit", conn(t, srv, "tok"), "deadbeef00"), "", "usage: orbit WORLD_ID SEED", 2)
	check(cmdArgs("deorbit", conn(t, srv, "tok"), "1000000000000"), "", "beyond the 10 hex digits", 2)
	check(cmdArgs("deorbit", conn(t, srv, "tok"), "xyz"), "", "not a non-zero hex number", 2)
	check(cmdArgs("ping", conn(t, srv, "tok"), "0123456789", "-c"), "", "option -c needs a value", 2)
	check(cmdArgs("ping", conn(t, srv, "tok"), "0123456789", "--bogus"), "", "unknown option --bogus", 2)
	check(cmdArgs("ping", conn(t, srv, "tok"), "ff00000001"), "", "reserved", 2)
	check([]string{"info", "-p", "70000", "-T", "tok"}, "", "invalid port 70000", 2)

	// Nothing listening.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	check([]string{"info", "-p", port, "-T", "tok"}, "Error connecting to the ZeroTier service: dial tcp 127.0.0.1:"+port+": connect: connection refused\n\n"+
		"Please check that the service is running and that TCP port "+port+" can be contacted via 127.0.0.1.\n", "", 1)

	// No token anywhere.
	home := t.TempDir()
	check([]string{"info", "-D", home}, "", "ztctl: authtoken.secret not found or readable in "+home+" (try again as root)", 2)
}

// Port and token come from the home directory ($ZEROTIER_HOME or -D),
// then $HOME/.zeroTierOneAuthToken.
func TestClientHome(t *testing.T) {
	srv := canned(t, map[string]string{"GET /status": `{"address":"0000000001","version":"1.14.1","online":false,"tcpFallbackActive":true}`})
	home := t.TempDir()
	os.WriteFile(filepath.Join(home, "zerotier-one.port"), []byte(portOf(t, srv)), 0o644)
	os.WriteFile(filepath.Join(home, "authtoken.secret"), []byte("tok\n"), 0o600)
	env := testEnv(srv, func() int64 { return 0 })
	want := "200 info 0000000001 1.14.1 TUNNELED\n"
	if out, errOut, code := runClient(t, env, "info", "-D", home); out != want || code != 0 {
		t.Fatalf("-D: %d %q %q", code, out, errOut)
	}
	env.getenv = func(k string) string { return map[string]string{"ZEROTIER_HOME": home}[k] }
	if out, errOut, code := runClient(t, env, "info"); out != want || code != 0 {
		t.Fatalf("ZEROTIER_HOME: %d %q %q", code, out, errOut)
	}
	// Token from $HOME when the home has none.
	home2, user := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(home2, "zerotier-one.port"), []byte(portOf(t, srv)), 0o644)
	os.WriteFile(filepath.Join(user, ".zeroTierOneAuthToken"), []byte(" tok "), 0o600)
	env.getenv = func(k string) string { return map[string]string{"HOME": user}[k] }
	if out, errOut, code := runClient(t, env, "info", "-D", home2); out != want || code != 0 {
		t.Fatalf("$HOME token: %d %q %q", code, out, errOut)
	}
}

// The commands against a ztx node on the simulated network.
func TestClientSimulated(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	env := testEnv(srv, bed.Now)
	c := conn(t, srv, apitest.Token)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, code := runClient(t, env, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		return out
	}
	if out := run(cmdArgs("info", c)...); out != "200 info afee230b1a 1.14.1 ONLINE\n" {
		t.Fatalf("info: %q", out)
	}
	var b struct{ lastTX, lastRX, lat int64 }
	bed.Do(func() {
		p, _ := bed.A.Node.Peer(bed.Net.Now, bed.B.Node.Address())
		b.lastTX, b.lastRX, b.lat = bed.Net.Now-p.Paths[0].LastSend, bed.Net.Now-p.Paths[0].LastReceive, p.Latency
	})
	out := run(cmdArgs("peers", c)...)
	wantB := fmt.Sprintf("2e57b20512 1.14.1 LEAF   %5d DIRECT   %-8d %-8d 10.79.0.3/9993\n", b.lat, b.lastTX, b.lastRX)
	if !strings.Contains(out, wantB) || !regexp.MustCompile(`(?m)^f737c19395 1\.14\.1 PLANET +\d+ DIRECT   \d+ +\d+ +10\.77\.0\.1/9993$`).MatchString(out) {
		t.Fatalf("peers:\n%s\nwant a line\n%s", out, wantB)
	}
	out = run(cmdArgs("listpeers", c)...)
	if want := fmt.Sprintf("200 listpeers 2e57b20512 10.79.0.3/9993;%d;%d %d 1.14.1 LEAF\n", b.lastTX, b.lastRX, b.lat); !strings.Contains(out, want) {
		t.Fatalf("listpeers:\n%s\nwant\n%s", out, want)
	}

	// Moons: orbit B's moon through B as the seed, list, deorbit.
	moon := bed.MakeMoon(t, bed.B)
	if out := run(cmdArgs("listmoons", c)...); out != "[]\n" {
		t.Fatalf("listmoons: %q", out)
	}
	worldID := fmt.Sprintf("%016x", moon.ID) // as listmoons prints it
	if out := run(cmdArgs("orbit", c, worldID, "2e57b20512")...); out != "200 orbit OK\n" {
		t.Fatalf("orbit: %q", out)
	}
	for i := 0; run(cmdArgs("listmoons", c)...) == "[]\n"; i++ {
		if i > 600 {
			t.Fatal("the moon never came")
		}
		bed.Run(100)
	}
	out = run(cmdArgs("listmoons", c)...)
	if !strings.HasPrefix(out, "[\n {\n  \"id\": \""+worldID+"\",\n  \"roots\": [\n   {\n    \"identity\": \"2e57b20512:0:") {
		t.Fatalf("listmoons:\n%s", out)
	}
	if out := run(cmdArgs("deorbit", c, fmt.Sprintf("%x", moon.ID))...); out != "200 deorbit OK\n" {
		t.Fatalf("deorbit: %q", out)
	}
	if out := run(cmdArgs("deorbit", c, "-j", worldID)...); out != "{\"result\":true}\n" {
		t.Fatalf("deorbit -j: %q", out)
	}
	if out := run(cmdArgs("listmoons", c)...); out != "[]\n" {
		t.Fatalf("listmoons after deorbit: %q", out)
	}
}

var replyLine = regexp.MustCompile(`^reply from 2e57b20512: rtt=\d+ ms direct via 10\.79\.0\.3/9993$`)

func TestClientPing(t *testing.T) {
	bed := apitest.NewOnline(t)
	srv := bed.Serve(t, bed.A)
	env := testEnv(srv, bed.Now)
	c := conn(t, srv, apitest.Token)
	stop := bed.Start()
	defer func() { stop() }() // stop is replaced below

	// Flags after the address work too. The bed runs in real time, so a
	// loaded machine may lose an answer: up to three tries.
	good := func(out, errOut string, code int) bool {
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		return code == 0 && errOut == "" && len(lines) == 6 && lines[0] == "PING 2e57b20512: 300 bytes of ECHO payload" &&
			replyLine.MatchString(lines[1]) && replyLine.MatchString(lines[2]) && replyLine.MatchString(lines[3]) &&
			lines[4] == "--- 2e57b20512 ping statistics ---" &&
			regexp.MustCompile(`^3 sent, 3 received, 0% loss, rtt min/avg/max = \d+/\d+/\d+ ms$`).MatchString(lines[5])
	}
	for try := 1; ; try++ {
		out, errOut, code := runClient(t, env, cmdArgs("ping", c, "2e57b20512", "-c", "3", "-i", "0.05", "-s", "300")...)
		if good(out, errOut, code) {
			break
		}
		if try == 3 {
			t.Fatalf("ping: exit %d\n%s%s", code, out, errOut)
		}
	}

	// Nobody answers: 100% loss, exit 1.
	out, _, code := runClient(t, env, cmdArgs("ping", c, "-c", "1", "-W", "0.2", "0123456789")...)
	want := "PING 0123456789: 56 bytes of ECHO payload\nno reply from 0123456789 within 200 ms\n" +
		"--- 0123456789 ping statistics ---\n1 sent, 0 received, 100% loss\n"
	if code != 1 || out != want {
		t.Fatalf("ping nobody: exit %d\n%s", code, out)
	}

	// -j: one summary object.
	out, _, code = runClient(t, env, cmdArgs("ping", c, "-j", "-c", "1", "2e57b20512")...)
	var sum struct {
		Address        string
		Sent, Received int
		Replies        []pingReply
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || code != 0 || sum.Address != "2e57b20512" || sum.Sent != 1 ||
		sum.Received != 1 || len(sum.Replies) != 1 || sum.Replies[0].From != "10.79.0.3/9993" {
		t.Fatalf("ping -j: exit %d %+v\n%s", code, sum, out)
	}

	// Cut A from B: the answer comes through the root.
	stop()
	bed.Do(func() { bed.Net.Block(netip.MustParsePrefix("10.78.0.0/16"), netip.MustParsePrefix("10.79.0.0/16")) })
	bed.Run(300000)
	stop = bed.Start()
	out, _, code = runClient(t, env, cmdArgs("ping", c, "-c", "1", "2e57b20512")...)
	if code != 0 || !regexp.MustCompile(`(?m)^reply from 2e57b20512: rtt=\d+ ms relayed via 10\.77\.0\.1/9993$`).MatchString(out) {
		t.Fatalf("relayed ping: exit %d\n%s", code, out)
	}
}
