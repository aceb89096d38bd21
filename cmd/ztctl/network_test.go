package main

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/ztx/ztx/controlplane/api"
	"github.com/ztx/ztx/controlplane/api/apitest"
)

// reindent is a JSON file as the reference's CLI prints it (one-space
// indent), with the final newline.
func reindent(t *testing.T, s string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(s), "", " "); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(buf.String()) + "\n"
}

// The reference node's network list, printed by listnetworks and get.
func TestClientNetworksGolden(t *testing.T) {
	netA := readTestdata(t, "session1/node-a-network.json")
	srv := canned(t, map[string]string{"GET /network": "[" + netA + "]"})
	env := testEnv(srv, func() int64 { return 0 })
	c := conn(t, srv, "tok")
	const id = "f737c19395000001"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{cmdArgs("listnetworks", c), "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n" +
			"200 listnetworks f737c19395000001 zta-bench 02:af:ee:b6:98:db OK PRIVATE zta-zt0 10.78.0.11/24\n"},
		{cmdArgs("listnetworks", c, "-j"), reindent(t, "["+netA+"]")},
		{cmdArgs("get", c, id, "name"), "zta-bench\n"},
		{cmdArgs("get", c, id, "mtu"), "2800\n"},
		{cmdArgs("get", c, id, "allowManaged"), "1\n"},
		{cmdArgs("get", c, id, "allowDNS"), "0\n"},
		{cmdArgs("get", c, id, "status"), "OK\n"},
		{cmdArgs("get", c, id, "portDeviceName"), "zta-zt0\n"},
		{cmdArgs("get", c, strings.ToUpper(id), "mac"), "02:af:ee:b6:98:db\n"},
		{cmdArgs("get", c, id, "ip"), "10.78.0.11\n"},
		{cmdArgs("get", c, id, "ip4"), "10.78.0.11\n"},
		{cmdArgs("get", c, id, "ip6"), "\n"},
		{cmdArgs("get", c, id, "ip6plane"), "\n"},
		// Objects, arrays and absent fields are not properties.
		{cmdArgs("get", c, id, "dns"), "error, unknown property name\n"},
		{cmdArgs("get", c, id, "routes"), "error, unknown property name\n"},
		{cmdArgs("get", c, id, "nonsense"), "error, unknown property name\n"},
		{cmdArgs("get", c, "-j", id, "name"), "zta-bench\n"},
	} {
		out, errOut, code := runClient(t, env, tc.args...)
		if out != tc.want || errOut != "" || code != 0 {
			t.Errorf("%v: exit %d\n%s%s\nwant\n%s", tc.args, code, out, errOut, tc.want)
		}
	}
	// An unknown network: a message on stderr, and still exit 0.
	out, errOut, code := runClient(t, env, cmdArgs("get", c, "8056c2e21c000001", "name")...)
	if out != "" || errOut != "unknown network ID, check that you are a member of the network\n" || code != 0 {
		t.Errorf("get unknown network: exit %d %q %q", code, out, errOut)
	}
}

// Several networks, SSO lines, address fields and odd values.
func TestClientNetworksFields(t *testing.T) {
	body := `[
{"id":"0000000000000001","nwid":"0000000000000001","name":"","mac":"32:01:02:03:04:05","status":"REQUESTING_CONFIGURATION","type":"PRIVATE",
 "portDeviceName":"ztaaaaaaab","assignedAddresses":[],"mtu":2800,"portError":-5,"netconfRevision":1.5},
{"id":"0000000000000002","nwid":"0000000000000002","name":"sso","mac":"32:01:02:03:04:06","status":"AUTHENTICATION_REQUIRED","type":"PUBLIC",
 "portDeviceName":"ztaaaaaaac","ssoEnabled":true,"authenticationURL":"https://sso.example/a","authenticationExpiryTime":0,
 "assignedAddresses":["fd80:56c2:e21c:0:199:93af:eeb6:98db/88","10.1.2.3/24",7,"fcf7:37c1:93af:eeb6:98db:0:0:1/40","::ffff:10.9.9.9/120"]},
{"id":"0000000000000003","nwid":"0000000000000003","name":"ok","mac":"32:01:02:03:04:07","status":"OK","type":"PRIVATE",
 "portDeviceName":"ztaaaaaaad","ssoEnabled":true,"authenticationExpiryTime":125000,"assignedAddresses":["10.0.0.1/8","10.0.0.2/8"]},
{"id":"0000000000000004","nwid":"0000000000000004","name":"expired","mac":"32:01:02:03:04:08","status":"OK","type":"PRIVATE",
 "portDeviceName":"ztaaaaaaae","ssoEnabled":true,"authenticationExpiryTime":1000},
{"id":"0000000000000005"},
{"id":"0000000000000006","assignedAddresses":["fcf7:37c1:93af:eeb6:98db:0000:1:2/40"]},
"not an object"
]`
	srv := canned(t, map[string]string{"GET /network": body})
	env := testEnv(srv, func() int64 { return 2000 })
	c := conn(t, srv, "tok")
	out, errOut, code := runClient(t, env, cmdArgs("listnetworks", c)...)
	want := "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n" +
		"200 listnetworks 0000000000000001  32:01:02:03:04:05 REQUESTING_CONFIGURATION PRIVATE ztaaaaaaab -\n" +
		"200 listnetworks 0000000000000002 sso 32:01:02:03:04:06 AUTHENTICATION_REQUIRED PUBLIC ztaaaaaaac " +
		"fd80:56c2:e21c:0:199:93af:eeb6:98db/88,10.1.2.3/24,fcf7:37c1:93af:eeb6:98db:0:0:1/40,::ffff:10.9.9.9/120\n" +
		"    AUTH EXPIRED, URL: https://sso.example/a\n" +
		"200 listnetworks 0000000000000003 ok 32:01:02:03:04:07 OK PRIVATE ztaaaaaaad 10.0.0.1/8,10.0.0.2/8\n" +
		"    AUTH OK, expires in: 123 seconds\n" +
		"200 listnetworks 0000000000000004 expired 32:01:02:03:04:08 OK PRIVATE ztaaaaaaae -\n" +
		"200 listnetworks - - - - - - -\n" +
		"200 listnetworks - - - - - - fcf7:37c1:93af:eeb6:98db:0000:1:2/40\n"
	if out != want || errOut != "" || code != 0 {
		t.Fatalf("listnetworks: exit %d\n%s%s\nwant\n%s", code, out, errOut, want)
	}
	for _, tc := range []struct{ id, field, want string }{
		{"0000000000000001", "name", "\n"},
		{"0000000000000001", "portError", "18446744073709551611\n"},
		{"0000000000000001", "netconfRevision", "1\n"},
		{"0000000000000001", "ip", "\n"},
		{"0000000000000002", "ssoEnabled", "1\n"},
		// What is not a string is skipped.
		{"0000000000000002", "ip", "fd80:56c2:e21c:0:199:93af:eeb6:98db\n10.1.2.3\nfcf7:37c1:93af:eeb6:98db:0:0:1\n::ffff:10.9.9.9\n"},
		{"0000000000000002", "ip4", "10.1.2.3\n::ffff:10.9.9.9\n"},
		{"0000000000000002", "ip6", "fd80:56c2:e21c:0:199:93af:eeb6:98db\nfcf7:37c1:93af:eeb6:98db:0:0:1\n::ffff:10.9.9.9\n"},
		// Only the 6PLANE address, and the line break it is owed.
		{"0000000000000002", "ip6plane", "fcf7:37c1:93af:eeb6:98db:0:0:1\n\n"},
		{"0000000000000002", "ip6prefix", "fcf7:37c1:93af:eeb6:98db\n\n"},
		{"0000000000000006", "ip6prefix", "fcf7:37c1:93af:eeb6:98db\n"},
		{"0000000000000003", "ip", "10.0.0.1\n10.0.0.2\n"},
		{"0000000000000005", "name", "error, unknown property name\n"},
	} {
		out, errOut, code := runClient(t, env, cmdArgs("get", c, tc.id, tc.field)...)
		if out != tc.want || errOut != "" || code != 0 {
			t.Errorf("get %s %s: exit %d %q %q, want %q", tc.id, tc.field, code, out, errOut, tc.want)
		}
	}
}

// join, leave and set against a ztx API with networks behind it.
func TestClientJoinLeaveSet(t *testing.T) {
	bed := apitest.New(t)
	svc := bed.Service(bed.A)
	nets := apitest.NewNetworks(0xafee230b1a)
	svc.Networks = nets
	srv := httptest.NewServer(svc)
	defer srv.Close()
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
	const id = "8056c2e21c000001"
	if out := run(cmdArgs("listnetworks", c)...); out != "200 listnetworks <nwid> <name> <mac> <status> <type> <dev> <ZT assigned ips>\n" {
		t.Fatalf("listnetworks, none: %q", out)
	}
	if out := run(cmdArgs("join", c, id)...); out != "200 join OK\n" {
		t.Fatalf("join: %q", out)
	}
	dev := apitest.DeviceName(0x8056c2e21c000001)
	mac := apitest.Joined(0xafee230b1a, 0x8056c2e21c000001).MAC.String()
	if out := run(cmdArgs("listnetworks", c)...); !strings.HasSuffix(out, "\n200 listnetworks "+id+"  "+mac+" REQUESTING_CONFIGURATION PRIVATE "+dev+" -\n") {
		t.Fatalf("listnetworks: %q", out)
	}
	// set prints the network's JSON, as the node answers it.
	out := run(cmdArgs("set", c, id, "allowDNS=1")...)
	if !strings.HasPrefix(out, `{"allowDNS":true,"allowDefault":false,"allowGlobal":false,"allowManaged":true,"assignedAddresses":[],`) ||
		!strings.HasSuffix(out, `"type":"PRIVATE"}`+"\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("set: %q", out)
	}
	for _, kv := range []string{"allowManaged=false", "allowGlobal=true", "allowDefault=1", "allowDNS=True"} {
		run(cmdArgs("set", c, id, kv)...)
	}
	st, _ := nets.Network(0, 0x8056c2e21c000001)
	if st.Settings != (api.NetworkSettings{AllowGlobal: true, AllowDefault: true}) {
		t.Fatalf("settings: %+v", st.Settings)
	}
	for field, want := range map[string]string{"allowManaged": "0\n", "allowGlobal": "1\n", "allowDefault": "1\n", "allowDNS": "0\n", "status": "REQUESTING_CONFIGURATION\n"} {
		if out := run(cmdArgs("get", c, id, field)...); out != want {
			t.Errorf("get %s: %q, want %q", field, out, want)
		}
	}
	// Once the config is in: addresses.
	st.Status, st.Name = api.NetworkOK, "bench"
	st.AssignedAddresses = []netip.Prefix{netip.MustParsePrefix("10.78.0.11/24"), netip.MustParsePrefix("fcf7:37c1:93af:eeb6:98db::1/40")}
	nets.Set(st)
	if out := run(cmdArgs("listnetworks", c)...); !strings.HasSuffix(out, " bench "+mac+" OK PRIVATE "+dev+" 10.78.0.11/24,fcf7:37c1:93af:eeb6:98db::1/40\n") {
		t.Fatalf("listnetworks: %q", out)
	}
	if out := run(cmdArgs("get", c, id, "ip6plane")...); out != "fcf7:37c1:93af:eeb6:98db::1\n" {
		t.Fatalf("get ip6plane: %q", out)
	}
	// Joining again is harmless; -j prints the answer.
	if out := run(cmdArgs("join", c, "-j", id)...); !strings.HasPrefix(out, `{"allowDNS":false,`) || !strings.HasSuffix(out, "}\n") {
		t.Fatalf("join -j: %q", out)
	}
	if out := run(cmdArgs("leave", c, id)...); out != "200 leave OK\n" {
		t.Fatalf("leave: %q", out)
	}
	// Leaving what is not joined is still OK; -j shows the node's {}.
	if out := run(cmdArgs("leave", c, "-j", id)...); out != "{}\n" {
		t.Fatalf("leave -j: %q", out)
	}
	if want := []string{"join " + id, "leave " + id}; !slices.Equal(nets.Log(), want) {
		t.Fatalf("node saw %q, want %q", nets.Log(), want)
	}
	// Options before the command, as zerotier-cli users write them.
	if out, _, code := ztctlWith(t, env, append(append([]string{"-j"}, c...), "listnetworks")...); code != 0 || out != "[]\n" {
		t.Fatalf("-j listnetworks: exit %d %q", code, out)
	}
}

// ztctlWith runs the full app's argument handling with the test client.
func ztctlWith(t *testing.T, env clientEnv, args ...string) (string, string, int) {
	t.Helper()
	return runClient(t, env, leadingOptionsLast(append([]string{"ztctl"}, args...))[1:]...)
}

func TestClientNetworkErrors(t *testing.T) {
	srv := canned(t, map[string]string{
		"GET /network":                     `500|{"error":500}`,
		"POST /network/8056c2e21c000001":   `400|{"description":"allowDNS must be true or false","error":400}`,
		"DELETE /network/8056c2e21c00000g": `400|{"error":400}`,
	})
	env := testEnv(srv, func() int64 { return 0 })
	c := conn(t, srv, "tok")
	check := func(args []string, wantOut, wantErr string, wantCode int) {
		t.Helper()
		out, errOut, code := runClient(t, env, args...)
		if out != wantOut || errOut != wantErr || code != wantCode {
			t.Errorf("%v: exit %d, stdout %q, stderr %q\nwant exit %d, stdout %q, stderr %q", args, code, out, errOut, wantCode, wantOut, wantErr)
		}
	}
	const id = "8056c2e21c000001"
	check(cmdArgs("join", c), "invalid network id\n", "", 2)
	check(cmdArgs("join", c, "8056c2e21c00001"), "invalid network id\n", "", 2)
	check(cmdArgs("leave", c, "8056c2e21c0000011"), "invalid network id\n", "", 2)
	check(cmdArgs("join", c, id, "extra"), "", "ztctl join: usage: join NETWORK_ID\n", 2)
	check(cmdArgs("set", c), "", "invalid format: must be a 16-digit (network) ID\n", 2)
	check(cmdArgs("set", c, id), "", "invalid format: include a property name to set\n", 2)
	check(cmdArgs("set", c, id, "allowDNS"), "", "ztctl set: usage: set NETWORK_ID allowManaged|allowGlobal|allowDefault|allowDNS=VALUE\n", 2)
	check(cmdArgs("set", c, id, "mtu=1"), "", "ztctl set: unknown setting \"mtu\": use allowManaged, allowGlobal, allowDefault, allowDNS\n", 2)
	check(cmdArgs("get", c, "xyz", "ip"), "", "invalid format: must be a 16-digit (network) ID\n", 2)
	check(cmdArgs("get", c, id), "", "invalid format: include a property name to get\n", 2)
	// The node's refusals: "<code> <command> <body>", exit 1.
	check(cmdArgs("join", c, id), "400 join {\"description\":\"allowDNS must be true or false\",\"error\":400}\n", "", 1)
	check(cmdArgs("set", c, id, "allowDNS=1"), "400 set {\"description\":\"allowDNS must be true or false\",\"error\":400}\n", "", 1)
	check(cmdArgs("leave", c, "8056c2e21c00000g"), "400 leave {\"error\":400}\n", "", 1)
	check(cmdArgs("leave", c, id), "404 leave \n", "", 1)
	check(cmdArgs("listnetworks", c), "500 listnetworks {\"error\":500}\n", "", 1)
	check(cmdArgs("get", c, id, "ip"), "500 get {\"error\":500}\n", "unknown network ID, check that you are a member of the network\n", 1)
	check(cmdArgs("join", conn(t, srv, "bad"), id), "401 join {}\n", "", 1)
	check(cmdArgs("get", conn(t, srv, "bad"), id, "ip"), "401 get {}\n", "unknown network ID, check that you are a member of the network\n", 1)

	bad := canned(t, map[string]string{"GET /network": "[{"})
	env = testEnv(bad, func() int64 { return 0 })
	c = conn(t, bad, "tok")
	out, _, code := runClient(t, env, cmdArgs("get", c, id, "ip")...)
	if code != 1 || !strings.HasPrefix(out, "200 get invalid JSON response (") {
		t.Errorf("get, bad JSON: exit %d %q", code, out)
	}
	out, _, code = runClient(t, env, cmdArgs("listnetworks", c)...)
	if code != 1 || !strings.HasPrefix(out, "200 listnetworks invalid JSON response (") {
		t.Errorf("listnetworks, bad JSON: exit %d %q", code, out)
	}
}

func TestCLIString(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{"x", "x"}, {"", ""}, {true, "1"}, {false, "0"}, {nil, "-"}, {[]any{}, "-"}, {map[string]any{}, "-"},
		{json.Number("2800"), "2800"}, {json.Number("18446744073709551615"), "18446744073709551615"},
		{json.Number("-1"), "18446744073709551615"}, {json.Number("2.9"), "2"}, {json.Number("1e3"), "1000"},
		{json.Number("-2.5"), "0"}, {json.Number("1e30"), "18446744073709551615"},
	} {
		if got := cliString(c.v, "-"); got != c.want {
			t.Errorf("cliString(%#v) = %q, want %q", c.v, got, c.want)
		}
	}
}
