package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/dataplane/xdp"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/internal/netns"
)

// The test world of the bpf commands.
const (
	bpfUs    identity.Address = 0x89e92ceee5
	bpfPeerA identity.Address = 0x1111111111
	bpfPeerB identity.Address = 0x2222222222
	bpfPeerC identity.Address = 0x3333333333
	bpfNwid1 uint64           = 0x8056c2e21c000001
	bpfNwid2 uint64           = 0xa09acf0233e4b070
)

var (
	bpfRelayB = xdp.RelayPath{Ifindex: 1, Src: netip.MustParseAddrPort("203.0.113.1:9993"), Dst: netip.MustParseAddrPort("203.0.113.7:21000"),
		SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}
	bpfRelayC = xdp.RelayPath{Ifindex: 9999, Src: netip.MustParseAddrPort("[2001:db8:1::1]:9993"), Dst: netip.MustParseAddrPort("[2001:db8:2::7]:21001"),
		SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}}
)

// bpfHelperEnv makes the test binary run ztctl with the arguments it holds
// (one per line) and exit: TestBPFPermissionDenied runs it as nobody.
const bpfHelperEnv = "ZTCTL_TEST_RUN"

func TestMain(m *testing.M) {
	if args := os.Getenv(bpfHelperEnv); args != "" {
		os.Exit(run(append([]string{"ztctl"}, strings.Split(args, "\n")...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// bpfTestEnv is a fixed clock: CLOCK_MONOTONIC at 1000 s, and a wall clock
// that a sleep advances.
func bpfTestEnv() (bpfEnv, *time.Time) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return bpfEnv{
		now:       func() time.Time { return now },
		monotonic: func() time.Duration { return 1000 * time.Second },
		sleep: func(_ context.Context, d time.Duration) error {
			now = now.Add(d)
			return nil
		},
	}, &now
}

// ztctlBPF runs ztctl with env as the bpf commands' environment.
func ztctlBPF(t *testing.T, env bpfEnv, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e strings.Builder
	app := newApp(&o, &e)
	for i, c := range app.Commands {
		if c.Name == "bpf" {
			app.Commands[i] = newBPFCommand(env)
		}
	}
	code = runApp(app, append([]string{"ztctl"}, args...), &e)
	return o.String(), e.String(), code
}

// --- decoding and formatting, no kernel ---

func TestBPFRows(t *testing.T) {
	names := func(i int) string { return map[int]string{1: "lo"}[i] }
	tp := trustedRows([]xdp.TrustedPath{{Prefix: netip.MustParsePrefix("10.0.0.0/24"), ID: 101}, {Prefix: netip.MustParsePrefix("2001:db8:7::/48"), ID: 1 << 63}})
	if want := []trustedRow{{"10.0.0.0/24", 101}, {"2001:db8:7::/48", 1 << 63}}; !reflect.DeepEqual(tp, want) {
		t.Errorf("trusted rows %+v", tp)
	}
	nets := networkRows([]xdp.Network{{NWID: bpfNwid1, Ifindex: 1}, {NWID: 0xff, Ifindex: 5}}, names)
	if want := []networkRow{{"8056c2e21c000001", 1, "lo"}, {"00000000000000ff", 5, ""}}; !reflect.DeepEqual(nets, want) {
		t.Errorf("network rows %+v", nets)
	}
	relays := relayRows([]xdp.Relay{{Dest: 0xab, Path: bpfRelayB}, {Dest: bpfPeerC, Path: bpfRelayC}}, names)
	if want := []relayRow{
		{"00000000ab", 1, "lo", "203.0.113.1:9993", "203.0.113.7:21000", "02:00:00:00:00:01", "02:00:00:00:00:02"},
		{"3333333333", 9999, "", "[2001:db8:1::1]:9993", "[2001:db8:2::7]:21001", "02:00:00:00:00:01", "52:54:00:12:34:56"},
	}; !reflect.DeepEqual(relays, want) {
		t.Errorf("relay rows %+v", relays)
	}
	pairs := pairRows([]xdp.Pair{
		{Source: bpfPeerA, Dest: bpfPeerB},
		{Source: bpfPeerA, Dest: bpfPeerC, LastRelayed: 990 * time.Second},
		{Source: bpfPeerB, Dest: bpfPeerC, LastRelayed: 1001 * time.Second},
	}, 1000*time.Second)
	if want := []pairRow{
		{"1111111111", "2222222222", 0, -1},
		{"1111111111", "3333333333", 990e9, 10000},
		{"2222222222", "3333333333", 1001e9, 0}, // relayed after ztctl read the clock
	}; !reflect.DeepEqual(pairs, want) {
		t.Errorf("pair rows %+v", pairs)
	}
	// Empty maps are empty JSON arrays, not null.
	for _, v := range []any{trustedRows(nil), networkRows(nil, names), relayRows(nil, names), pairRows(nil, 0)} {
		if b, _ := json.Marshal(v); string(b) != "[]" {
			t.Errorf("%T of nothing: %s", v, b)
		}
	}
}

// TestCounterActions fails when a counter is added to bpf/ztx.h without
// the XDP verdict of what it counts.
func TestCounterActions(t *testing.T) {
	for i := range xdp.NumCounters {
		c := xdp.Counter(i)
		if counterActions[c] == "" || strings.HasPrefix(c.String(), "Counter(") {
			t.Errorf("counter %d (%v) has no action or name", i, c)
		}
		if strings.HasPrefix(c.String(), "pass_") != (counterActions[c] == actionPass) {
			t.Errorf("counter %v: action %s", c, counterActions[c])
		}
	}
	if len(counterActions) != xdp.NumCounters {
		t.Errorf("%d actions for %d counters", len(counterActions), xdp.NumCounters)
	}
}

func TestBPFStatsView(t *testing.T) {
	var before, after xdp.Counters
	before[xdp.PassNotZT] = xdp.Count{Packets: 10, Bytes: 1000}
	after[xdp.PassNotZT] = xdp.Count{Packets: 30, Bytes: 3000}
	after[xdp.RelayTX] = xdp.Count{Packets: 4, Bytes: 4000}
	after[xdp.Trusted] = xdp.Count{Packets: 1, Bytes: 100}
	after[xdp.RelayRedirect] = xdp.Count{Packets: 1, Bytes: 50}

	v := statsView{Instance: "x", Counters: after}.view()
	if v.IntervalSeconds != 0 || v.Counters[xdp.PassNotZT].PacketsPerSecond != nil {
		t.Errorf("rates without an interval: %+v", v)
	}
	sums := map[string]counterRow{}
	for _, a := range v.Actions {
		sums[a.Name] = a
	}
	if sums[actionPass].Packets != 30 || sums[actionTX].Bytes != 4000 || sums[actionRedirect].Packets != 2 || sums[actionRedirect].Bytes != 150 {
		t.Errorf("sums per action %+v", v.Actions)
	}
	if v.Total.Packets != 36 || v.Total.Bytes != 7150 {
		t.Errorf("total %+v", v.Total)
	}

	v = statsView{Instance: "x", Counters: after, Before: &before, Elapsed: 2 * time.Second}.view()
	rate := func(r counterRow) [2]float64 { return [2]float64{*r.PacketsPerSecond, *r.BitsPerSecond} }
	if got := rate(v.Counters[xdp.PassNotZT]); got != [2]float64{10, 8000} {
		t.Errorf("pass_not_zt rates %v", got)
	}
	if got := rate(v.Counters[xdp.PassMalformed]); got != [2]float64{0, 0} {
		t.Errorf("pass_malformed rates %v", got)
	}
	if got := rate(v.Total); got != [2]float64{13, (2000 + 4000 + 150) * 8 / 2} {
		t.Errorf("total rates %v", got)
	}
	// A counter that went down (never expected) has no rate, not a huge one.
	before[xdp.RelayTX] = xdp.Count{Packets: 100, Bytes: 1}
	v = statsView{Instance: "x", Counters: after, Before: &before, Elapsed: time.Second}.view()
	if got := rate(v.Counters[xdp.RelayTX]); got != [2]float64{0, 0} {
		t.Errorf("relay_tx rates after a decrease: %v", got)
	}
}

func TestSIRate(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0, "0"}, {0.04, "0"}, {0.5, "0.5"}, {12.46, "12.5"}, {99.96, "100"}, {999, "999"}, {999.6, "1.00k"},
		{1234, "1.23k"}, {45600, "45.6k"}, {456000, "456k"}, {9.41e9, "9.41G"}, {2e18, "2000P"},
	} {
		if got := siRate(c.v); got != c.want {
			t.Errorf("siRate(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

func TestMapTypeName(t *testing.T) {
	for typ, want := range map[ebpf.MapType]string{ebpf.Hash: "hash", ebpf.LPMTrie: "lpm_trie", ebpf.PerCPUArray: "percpu_array", ebpf.Array: "array", ebpf.RingBuf: "ringbuf"} {
		if got := mapTypeName(typ); got != want {
			t.Errorf("%v: %q, want %q", typ, got, want)
		}
	}
}

// --- errors that need no BPF ---

func TestBPFPinRootErrors(t *testing.T) {
	env, _ := bpfTestEnv()
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"bpf", "status", "--pin-root", dir}, 1, "ztctl bpf status: " + dir + " is not on a BPF file system, so it holds no instance\n"},
		{[]string{"bpf", "maps", "--pin-root", dir + "/bpffs/ztx"}, 1, "ztctl bpf maps: no BPF file system mounted at " + dir + "/bpffs, so no instance (ztnode mounts one when it loads its XDP program)\n"},
		{[]string{"-j", "bpf", "stats", "--pin-root", dir}, 1, "is not on a BPF file system"},
		{[]string{"bpf", "dump", "routes", "--pin-root", dir}, 2, `ztctl bpf dump: unknown map "routes" (maps: info, config, ports, trusted, networks, relays, pairs, counters)`},
		{[]string{"bpf", "dump"}, 2, "usage: dump MAP"},
		{[]string{"bpf", "status", "extra"}, 2, "no arguments expected"},
		{[]string{"bpf", "dump", "trusted", "-x"}, 2, "ztctl bpf dump: unknown option -x\n"},
		{[]string{"bpf", "stats", "--interval", "-1"}, 2, "interval -1 s"},
		{[]string{"bpf", "maps", "--instance", "../x", "--pin-root", dir}, 2, `invalid instance name "../x"`},
	} {
		out, errOut, code := ztctlBPF(t, env, c.args...)
		if code != c.code || !strings.Contains(errOut, c.msg) || out != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and %q", c.args, code, out, errOut, c.code, c.msg)
		}
	}
}

func TestBPFMessages(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "open", Path: "/sys/fs/bpf/ztx", Err: syscall.EACCES},
			"ztctl bpf status: open /sys/fs/bpf/ztx: permission denied (reading pinned BPF maps needs root: try again with sudo)"},
		{fmt.Errorf("xdp: open /sys/fs/bpf/ztx/x/config: %w", syscall.EPERM),
			"ztctl bpf status: xdp: open /sys/fs/bpf/ztx/x/config: operation not permitted (reading pinned BPF maps needs root: try again with sudo)"},
		{fmt.Errorf("xdp: map ports: %w", ebpf.ErrMapIncompatible),
			"ztctl bpf status: xdp: map ports: map spec is incompatible with existing map (pinned by another version of ztx)"},
	} {
		if got := bpfFail("status", c.err).Error(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
}

// --- privileged: the program loaded into a private bpffs ---

// bpfPinRoot mounts a private BPF file system and returns a pin root on it.
func bpfPinRoot(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a BPF file system and load the XDP program; CI runs as root")
	}
	mnt := filepath.Join(t.TempDir(), "bpffs")
	if err := xdp.MountBPFFS(mnt); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", mnt, err)
		}
	})
	return filepath.Join(mnt, "ztx")
}

// loadTestXDP loads the program pinned under root as instance name (""
// for the address) and fills its maps.
func loadTestXDP(t *testing.T, root, name string) *xdp.XDP {
	t.Helper()
	x, err := xdp.Load(xdp.Options{Address: bpfUs, Ports: []uint16{9993, 29993}, PinDir: root, Instance: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	for _, err := range []error{
		x.SetTrustedPath(netip.MustParsePrefix("10.0.0.0/24"), 101),
		x.SetTrustedPath(netip.MustParsePrefix("2001:db8:7::/48"), 0xfedcba9876543210),
		x.SetNetwork(bpfNwid1, 1),
		x.SetNetwork(bpfNwid2, 9998),
		x.SetRelay(bpfPeerB, bpfRelayB),
		x.SetRelay(bpfPeerC, bpfRelayC),
		x.SetPair(bpfPeerA, bpfPeerB),
		x.SetPair(bpfPeerA, bpfPeerC),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func strictJSON(t *testing.T, s string, v any) {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Fatalf("%v in\n%s", err, s)
	}
	if _, err := d.Token(); err != io.EOF {
		t.Fatalf("trailing data in\n%s", s)
	}
}

func TestBPFNoInstance(t *testing.T) {
	root := bpfPinRoot(t)
	env, _ := bpfTestEnv()
	_, errOut, code := ztctlBPF(t, env, "bpf", "status", "--pin-root", root)
	want := "ztctl bpf status: no ztx XDP instance: " + root + " does not exist (is ztnode running with its XDP fast path?)\n"
	if code != 1 || errOut != want {
		t.Errorf("no pin root: exit %d, %q", code, errOut)
	}
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = ztctlBPF(t, env, "bpf", "stats", "--pin-root", root)
	want = "ztctl bpf stats: no ztx XDP instance under " + root + " (is ztnode running with its XDP fast path?)\n"
	if code != 1 || errOut != want {
		t.Errorf("empty pin root: exit %d, %q", code, errOut)
	}
}

func TestBPFCommands(t *testing.T) {
	root := bpfPinRoot(t)
	x := loadTestXDP(t, root, "")
	env, _ := bpfTestEnv()
	dir := filepath.Join(root, bpfUs.String())
	bpf := func(args ...string) string {
		t.Helper()
		out, errOut, code := ztctlBPF(t, env, append(append([]string{"bpf"}, args...), "--pin-root", root)...)
		if code != 0 || errOut != "" {
			t.Fatalf("ztctl bpf %q: exit %d: %s", args, code, errOut)
		}
		return out
	}
	progID := readProgID(t, dir)
	mapIDs := map[string]uint32{}
	{
		p, err := xdp.OpenPinned(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range xdp.MapNames() {
			s, err := p.Stat(name)
			if err != nil {
				t.Fatal(err)
			}
			mapIDs[name] = s.ID
		}
		p.Close()
	}

	t.Run("status", func(t *testing.T) {
		comm, _ := os.ReadFile("/proc/self/comm")
		want := fmt.Sprintf(`instance 89e92ceee5 (%s)
  owner      pid %d (%s), running
  address    89e92ceee5
  interface  none
  attach     none (loaded without an interface)
  program    ztx_xdp id %d
  maps       info config ports trusted networks relays pairs counters
`, dir, os.Getpid(), strings.TrimSpace(string(comm)), progID)
		if got := bpf("status"); got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
		var v []instanceView
		strictJSON(t, bpf("status", "-j"), &v)
		loaded := true
		wantV := []instanceView{{Instance: "89e92ceee5", Dir: dir, PID: os.Getpid(), Process: strings.TrimSpace(string(comm)), Alive: true,
			Address: "89e92ceee5", Mode: "none", ProgramID: progID, ProgramLoaded: &loaded, Maps: xdp.MapNames()}}
		if !reflect.DeepEqual(v, wantV) {
			t.Errorf("JSON %+v\nwant %+v", v, wantV)
		}
	})

	t.Run("maps", func(t *testing.T) {
		want := fmt.Sprintf(`instance 89e92ceee5 (%s)
map       type              id  key  value      max  entries
info      array         %6d    4     40        1        1
config    array         %6d    4      8        1        1
ports     hash          %6d    2      1       16        2
trusted   lpm_trie      %6d   20      8       64        2
networks  hash          %6d    8      4     1024        2
relays    hash          %6d    5     56    65536        2
pairs     hash          %6d   10      8   262144        2
counters  percpu_array  %6d    4     16       15       15
`, dir, mapIDs["info"], mapIDs["config"], mapIDs["ports"], mapIDs["trusted"], mapIDs["networks"], mapIDs["relays"], mapIDs["pairs"], mapIDs["counters"])
		if got := bpf("maps"); got != want {
			t.Errorf("got\n%s\nwant\n%s", got, want)
		}
		var v struct {
			Instance, Dir string
			Maps          []mapView
		}
		out, errOut, code := ztctlBPF(t, env, "-j", "bpf", "maps", "--pin-root", root) // zerotier-cli's place for -j
		if code != 0 {
			t.Fatalf("ztctl -j bpf maps: exit %d: %s", code, errOut)
		}
		strictJSON(t, out, &v)
		if v.Instance != "89e92ceee5" || len(v.Maps) != 8 || v.Maps[6] != (mapView{"pairs", mapIDs["pairs"], "hash", 10, 8, 262144, 2, true, ""}) {
			t.Errorf("JSON %+v", v)
		}
	})

	t.Run("dump", func(t *testing.T) {
		for _, c := range []struct{ name, text, json string }{
			{"config", "address 89e92ceee5\n", `{"address":"89e92ceee5"}`},
			{"ports", "udp port\n9993\n29993\n", `[9993,29993]`},
			{"trusted", "cidr             trusted path id\n10.0.0.0/24      101\n2001:db8:7::/48  18364758544493064720\n",
				`[{"cidr":"10.0.0.0/24","trustedPathId":101},{"cidr":"2001:db8:7::/48","trustedPathId":18364758544493064720}]`},
			{"networks", "network           delivered to\n8056c2e21c000001  lo (ifindex 1)\na09acf0233e4b070  ifindex 9998 (no such interface)\n",
				`[{"nwid":"8056c2e21c000001","ifindex":1,"interface":"lo"},{"nwid":"a09acf0233e4b070","ifindex":9998}]`},
			{"relays", "" +
				"destination  egress                            src                   dst                    src mac            next hop mac\n" +
				"2222222222   lo (ifindex 1)                    203.0.113.1:9993      203.0.113.7:21000      02:00:00:00:00:01  02:00:00:00:00:02\n" +
				"3333333333   ifindex 9999 (no such interface)  [2001:db8:1::1]:9993  [2001:db8:2::7]:21001  02:00:00:00:00:01  52:54:00:12:34:56\n",
				`[{"address":"2222222222","ifindex":1,"interface":"lo","src":"203.0.113.1:9993","dst":"203.0.113.7:21000","srcMac":"02:00:00:00:00:01","dstMac":"02:00:00:00:00:02"},` +
					`{"address":"3333333333","ifindex":9999,"src":"[2001:db8:1::1]:9993","dst":"[2001:db8:2::7]:21001","srcMac":"02:00:00:00:00:01","dstMac":"52:54:00:12:34:56"}]`},
			{"pairs", "source          dest        last relayed\n1111111111  ->  2222222222  never\n1111111111  ->  3333333333  never\n",
				`[{"source":"1111111111","dest":"2222222222","lastRelayed":0,"lastRelayedAgeMs":-1},{"source":"1111111111","dest":"3333333333","lastRelayed":0,"lastRelayedAgeMs":-1}]`},
		} {
			if got := bpf("dump", c.name); got != c.text {
				t.Errorf("dump %s: got\n%s\nwant\n%s", c.name, got, c.text)
			}
			if got := compactJSON(t, bpf("dump", c.name, "-j")); got != c.json {
				t.Errorf("dump %s -j: got\n%s\nwant\n%s", c.name, got, c.json)
			}
		}
		got := bpf("dump", "counters")
		if lines := strings.Split(got, "\n"); len(lines) != xdp.NumCounters+2 ||
			lines[0] != "counter                   packets            bytes" ||
			lines[1] != "pass_not_zt                     0                0" {
			t.Errorf("dump counters:\n%s", got)
		}
		var counters []counterRow
		strictJSON(t, bpf("dump", "counters", "-j"), &counters)
		if len(counters) != xdp.NumCounters || counters[xdp.RelayTX] != (counterRow{Name: "relay_tx", Action: actionTX}) {
			t.Errorf("dump counters -j: %+v", counters)
		}
		var info infoView
		strictJSON(t, bpf("dump", "info", "-j"), &info)
		if info.PID != os.Getpid() || !info.Alive || info.ProgramID != progID || info.Mode != "none" || info.Netns == 0 {
			t.Errorf("dump info -j: %+v", info)
		}
		mustContain(t, "dump info", bpf("dump", "info"), fmt.Sprintf("pid        %d (running)\ninterface  none\nmode       none\nprogram    %d\n", os.Getpid(), progID))
	})

	t.Run("empty", func(t *testing.T) {
		for _, nwid := range []uint64{bpfNwid1, bpfNwid2} {
			if err := x.DeleteNetwork(nwid); err != nil {
				t.Fatal(err)
			}
		}
		if got := bpf("dump", "networks"); got != "network  delivered to\n(no entries)\n" {
			t.Errorf("empty networks:\n%s", got)
		}
		if got := bpf("dump", "networks", "-j"); got != "[]\n" {
			t.Errorf("empty networks, JSON: %q", got)
		}
	})

	t.Run("stats", func(t *testing.T) {
		got := bpf("stats")
		lines := strings.Split(got, "\n")
		if len(lines) != 1+1+xdp.NumCounters+3+1+1 ||
			lines[0] != "instance 89e92ceee5" ||
			lines[1] != "counter              action            packets            bytes" ||
			lines[2] != "pass_not_zt          XDP_PASS                0                0" ||
			lines[15] != "relay_tx             XDP_TX                  0                0" ||
			lines[17] != "XDP_PASS                                     0                0" ||
			lines[20] != "total                                        0                0" {
			t.Errorf("stats:\n%s", got)
		}
		var v statsJSON
		strictJSON(t, bpf("stats", "-j", "--interval", "2"), &v)
		if v.Instance != "89e92ceee5" || v.IntervalSeconds != 2 || len(v.Counters) != xdp.NumCounters || len(v.Actions) != 3 ||
			v.Total.Name != "total" || v.Total.PacketsPerSecond == nil || *v.Total.PacketsPerSecond != 0 {
			t.Errorf("stats -j --interval 2: %+v", v)
		}
		got = bpf("stats", "-i", "0.5")
		mustContain(t, "stats -i 0.5", got, "instance 89e92ceee5, rates over 0.50 s\n")
		mustContain(t, "stats -i 0.5", got, "pkt/s    bit/s\n")
		mustContain(t, "stats -i 0.5", got, "\ntotal                                        0                0        0        0\n")
	})

	t.Run("instances", func(t *testing.T) {
		// A second live instance: commands about one instance need --instance.
		loadTestXDP(t, root, "second")
		_, errOut, code := ztctlBPF(t, env, "bpf", "maps", "--pin-root", root)
		want := fmt.Sprintf("ztctl bpf maps: 2 instances under %s: 89e92ceee5 (pid %d, running), second (pid %[2]d, running); choose one with --instance\n", root, os.Getpid())
		if code != 2 || errOut != want {
			t.Errorf("two instances: exit %d, %q", code, errOut)
		}
		mustContain(t, "--instance", bpf("maps", "--instance", "second"), "instance second (")
		_, errOut, code = ztctlBPF(t, env, "bpf", "dump", "ports", "--instance", "0123456789", "--pin-root", root)
		if code != 1 || !strings.Contains(errOut, "ztctl bpf dump: no instance 0123456789 under "+root+"; there are: 89e92ceee5") {
			t.Errorf("unknown instance: exit %d, %q", code, errOut)
		}
		var v []instanceView
		strictJSON(t, bpf("status", "-j"), &v)
		if len(v) != 2 || v[1].Instance != "second" || v[1].Address != "89e92ceee5" {
			t.Errorf("status of two: %+v", v)
		}
		// A directory without pins (a crashed Load's) is shown with its error.
		if err := os.Mkdir(filepath.Join(root, "stale"), 0o700); err != nil {
			t.Fatal(err)
		}
		got := bpf("status")
		mustContain(t, "status with a stale dir", got, "instance stale ("+filepath.Join(root, "stale")+")\n  owner      none recorded\n")
		mustContain(t, "status with a stale dir", got, "  maps       none (missing: info config ports trusted networks relays pairs counters)\n  error      xdp: "+filepath.Join(root, "stale")+": no info map\n")
	})
}

// readProgID is the program ID an instance's info map records.
func readProgID(t *testing.T, dir string) uint32 {
	t.Helper()
	st := xdp.ReadInstance(dir)
	if st.Err != nil || st.ProgID == 0 {
		t.Fatalf("instance %+v", st)
	}
	return st.ProgID
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("%v in %s", err, s)
	}
	return b.String()
}

// TestBPFAttached attaches the program to a veth in a namespace, sends it
// traffic, and reads the counters, a relayed pair and the attachment back.
//
//	ns "bpfn" (the node, XDP on ztx-v0)      ns "bpfc" (a client)
//	10.78.0.1 ztx-v0 ────── veth ────── ztx-v0 10.78.0.2
func TestBPFAttached(t *testing.T) {
	root := bpfPinRoot(t)
	netns.RequireRoot(t)
	node, client := netns.New(t, "bpfn"), netns.New(t, "bpfc")
	wan := netns.Connect(t, node, client, netip.MustParsePrefix("10.78.0.1/24"), netip.MustParsePrefix("10.78.0.2/24"))

	for _, netlink := range []bool{false, true} {
		method := map[bool]string{false: "link", true: "netlink"}[netlink]
		t.Run(method, func(t *testing.T) {
			var x *xdp.XDP
			var local *net.Interface
			if err := node.Do(func() (err error) {
				if local, err = net.InterfaceByName(wan.NameA); err != nil {
					return err
				}
				x, err = xdp.Load(xdp.Options{Interface: wan.NameA, Mode: xdp.ModeGeneric, Netlink: netlink, Address: bpfUs, Ports: []uint16{9993}, PinDir: root})
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := node.Do(x.Close); err != nil {
					t.Error(err)
				}
			}()
			// A relay route back out of the ingress interface (XDP_TX).
			if err := x.SetRelay(bpfPeerB, xdp.RelayPath{Ifindex: local.Index, Src: netip.MustParseAddrPort("10.78.0.1:9993"),
				Dst: netip.MustParseAddrPort("10.78.0.2:5555"), SrcMAC: local.HardwareAddr, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}}); err != nil {
				t.Fatal(err)
			}
			if err := x.SetPair(bpfPeerA, bpfPeerB); err != nil {
				t.Fatal(err)
			}

			// 5 datagrams to another port, 3 too short for ZeroTier, 2 to relay.
			sender := client.ListenUDP(t, netip.MustParseAddrPort("10.78.0.2:0"))
			relay := packet.New(bpfPeerB, bpfPeerA, packet.VerbFrame).AppendPayload(make([]byte, 100)...)
			for _, s := range []struct {
				dst string
				b   []byte
				n   int
			}{{"10.78.0.1:7777", []byte("not zerotier"), 5}, {"10.78.0.1:9993", []byte("short"), 3}, {"10.78.0.1:9993", relay, 2}} {
				for range s.n {
					if _, err := sender.WriteToUDPAddrPort(s.b, netip.MustParseAddrPort(s.dst)); err != nil {
						t.Fatal(err)
					}
				}
			}
			var c xdp.Counters
			deadline := time.Now().Add(5 * time.Second)
			for ; time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				var err error
				if c, err = x.Counters(); err != nil {
					t.Fatal(err)
				}
				if c[xdp.RelayTX].Packets >= 2 && c[xdp.PassMalformed].Packets >= 3 && c[xdp.PassNotZT].Packets >= 5 {
					break
				}
			}
			t.Logf("counters: %v", c)

			env, _ := bpfTestEnv()
			var ns struct {
				status, stats, pairs, pairsJSON string
			}
			var outside string
			if err := node.Do(func() error {
				var code int
				var errOut string
				for _, r := range []struct {
					out  *string
					args []string
				}{
					{&ns.status, []string{"bpf", "status"}},
					{&ns.stats, []string{"bpf", "stats", "-j"}},
					{&ns.pairs, []string{"bpf", "dump", "pairs"}},
				} {
					env := env
					env.monotonic = defaultBPFEnv().monotonic
					if *r.out, errOut, code = ztctlBPF(t, env, append(r.args, "--pin-root", root)...); code != 0 {
						return fmt.Errorf("%q: exit %d: %s", r.args, code, errOut)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			outside, errOut, code := ztctlBPF(t, env, "bpf", "status", "--pin-root", root)
			if code != 0 {
				t.Fatalf("status outside the namespace: %s", errOut)
			}

			mode := "generic mode, bpf link"
			if netlink {
				mode = "generic mode, netlink (outlives its owner)"
			}
			mustContain(t, "status", ns.status, fmt.Sprintf("  interface  %s (ifindex %d)\n  attach     %s\n", wan.NameA, local.Index, mode))
			mustContain(t, "status outside", outside, fmt.Sprintf("  interface  ifindex %d (in the owner's network namespace)\n", local.Index))

			var stats statsJSON
			strictJSON(t, ns.stats, &stats)
			for _, want := range []struct {
				c       xdp.Counter
				packets uint64
			}{{xdp.PassNotZT, 5}, {xdp.PassMalformed, 3}, {xdp.RelayTX, 2}} {
				r := stats.Counters[want.c]
				// The veth may carry a few frames of the kernel's own
				// (neighbour discovery): at least, not exactly.
				if r.Name != want.c.String() || r.Packets < want.packets || r.Bytes < want.packets*(14+20+8) {
					t.Errorf("stats: %+v, want %d packets", r, want.packets)
				}
			}
			if stats.Actions[1].Name != actionTX || stats.Actions[1].Packets != stats.Counters[xdp.RelayTX].Packets {
				t.Errorf("stats: actions %+v", stats.Actions)
			}

			// The pair was relayed less than a few seconds ago.
			lines := strings.Split(ns.pairs, "\n")
			if len(lines) != 3 || !strings.HasPrefix(lines[1], "1111111111  ->  2222222222  ") || !strings.HasSuffix(lines[1], "s ago") {
				t.Errorf("pairs:\n%s", ns.pairs)
			}
		})
	}
}

// TestBPFPermissionDenied runs ztctl bpf status as nobody.
func TestBPFPermissionDenied(t *testing.T) {
	root := bpfPinRoot(t)
	loadTestXDP(t, root, "")
	// The test binary, where nobody may run it.
	bin, err := os.MkdirTemp("", "ztctl-bpf-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(bin)
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	exe, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "ztctl.test"), exe, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"bpf", "status", "--pin-root", root},
		{"bpf", "dump", "trusted", "--pin-root", root},
	} {
		cmd := exec.Command(filepath.Join(bin, "ztctl.test"))
		cmd.Dir = "/"
		cmd.Env = []string{bpfHelperEnv + "=" + strings.Join(args, "\n")}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("%q as nobody: %v\n%s", args, err, out)
		}
		want := fmt.Sprintf("ztctl bpf %s: statfs %s: permission denied (reading pinned BPF maps needs root: try again with sudo)\n", args[1], root)
		if string(out) != want {
			t.Errorf("%q as nobody:\n%s\nwant\n%s", args, out, want)
		}
	}
}
