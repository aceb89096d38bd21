package home

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ztx/ztx/internal/refjson"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/internal/testvec"
)

func mustParse(t *testing.T, s string) *LocalConf {
	t.Helper()
	c, err := ParseLocalConf("local.conf", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ip(s string) netip.Addr         { return netip.MustParseAddr(s) }
func pfx(s string) netip.Prefix      { return netip.MustParsePrefix(s) }
func ap(s string) netip.AddrPort     { return netip.MustParseAddrPort(s) }
func addr(s string) identity.Address { a, _ := identity.ParseAddress(s); return a }

func hasWarning(c *LocalConf, sub string) bool {
	return slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.Contains(w, sub) })
}

func TestDefaults(t *testing.T) {
	want := Settings{
		PrimaryPort:           9993,
		AllowSecondaryPort:    true,
		PortMappingEnabled:    true,
		AllowTCPFallbackRelay: true,
		TCPFallbackRelay:      ap("204.80.128.1:443"),
		SoftwareUpdate:        UpdateDisable,
		SoftwareUpdateChannel: "release",
		Concurrency:           1,
	}
	for _, src := range []string{"", "{}", `{"settings":null}`, `{"settings":{}}`} {
		c := mustParse(t, src)
		if !reflect.DeepEqual(c.Settings, want) {
			t.Errorf("%q: settings\n got %+v\nwant %+v", src, c.Settings, want)
		}
		if len(c.Physical) != 0 || len(c.Virtual) != 0 || len(c.Paths) != 0 || len(c.Warnings) != 0 {
			t.Errorf("%q: %+v", src, c)
		}
	}
	if d := DefaultLocalConf(); !reflect.DeepEqual(d.Settings, want) || string(d.RawJSON()) != "{}" {
		t.Errorf("DefaultLocalConf = %+v %s", d.Settings, d.RawJSON())
	}
	s := mustParse(t, "").Settings
	if !s.TCPFallbackAllowed() || s.TCPRelayForced() || s.BondingInUse() || s.UpdaterEnabled() || s.EffectiveConcurrency(16) != 1 {
		t.Error("default derived settings")
	}
}

func TestSessionLocalConfs(t *testing.T) {
	for name, bind := range map[string]string{"a": "10.77.0.2", "b": "10.77.0.3", "root": "10.77.0.1"} {
		path := testvec.MustPath(t, "session1", "node-state", name+"-local.conf")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParseLocalConf(path, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want := Settings{
			PrimaryPort:           9993,
			PrimaryPortSet:        true,
			TCPFallbackRelay:      ap("204.80.128.1:443"),
			Bind:                  []netip.Addr{ip(bind)},
			SoftwareUpdate:        UpdateDisable,
			SoftwareUpdateChannel: "release",
			Concurrency:           1,
		}
		if !reflect.DeepEqual(c.Settings, want) {
			t.Errorf("%s: settings\n got %+v\nwant %+v", name, c.Settings, want)
		}
		if len(c.Warnings) != 0 {
			t.Errorf("%s: warnings %q", name, c.Warnings)
		}
		raw := `{"settings":{"allowSecondaryPort":false,"allowTcpFallbackRelay":false,"bind":["` + bind +
			`"],"forceTcpRelay":false,"portMappingEnabled":false,"primaryPort":9993,"softwareUpdate":"disable"}}`
		if got := string(c.RawJSON()); got != raw {
			t.Errorf("%s: RawJSON\n got %s\nwant %s", name, got, raw)
		}
	}
}

// fullConf uses every key, most of them with coerced values.
const fullConf = `{
  "physical": {
    "10.0.0.0/8": {"blacklist": "true", "mtu": "9000"},
    "10.1.0.0/16": {"trustedPathId": 12345, "mtu": 1200},
    "192.168.7.0/24": {"trustedPathId": "18446744073709551615", "mtu": 20000},
    "2001:db8::/32": {"trustedPathId": "987654321", "blacklist": 1},
    "172.16.0.0/12": {"blacklist": 0, "mtu": -1},
    "203.0.113.77": {"trustedPathId": true},
    "not-an-ip/8": {"mtu": 1500},
    "10.9.9.9/40": {},
    "192.0.2.0/24": "not an object"
  },
  "virtual": {
    "feedbeef01": {
      "try": ["203.0.113.5/9993", "2001:db8::1/9993", "bogus", "203.0.113.6"],
      "blacklist": ["198.51.100.0/24", "2001:db8:1::/48", "nonsense/3"]
    },
    "FEEDBEEF02": {"try": ["192.0.2.1/1234"]},
    "12345": {"try": ["192.0.2.2/5"]},
    "feedbeef03": []
  },
  "settings": {
    "primaryPort": "29993",
    "secondaryPort": 70001,
    "tertiaryPort": true,
    "allowSecondaryPort": 0,
    "portMappingEnabled": "False",
    "allowTcpFallbackRelay": "Yes",
    "forceTcpRelay": "1",
    "tcpFallbackRelay": "198.51.100.9/8443",
    "bind": ["10.77.0.2", "fd00::2", "", 42, "nonsense"],
    "interfacePrefixBlacklist": ["docker", "veth", ""],
    "allowManagementFrom": ["192.168.1.0/24", "fd00::/8", "10.1.2.3", "bad"],
    "enableWebServer": 2,
    "softwareUpdate": "apply",
    "softwareUpdateChannel": "beta",
    "softwareUpdateDist": false,
    "controllerDbPath": "/srv/ztdb",
    "ssoRedirectURL": "https://sso.example/cb?a=1&b=<2>",
    "multicoreEnabled": "true",
    "concurrency": "3",
    "cpuPinningEnabled": 1,
    "defaultBondingPolicy": "custom-ab",
    "policies": {
      "custom-ab": {
        "basePolicy": "active-backup",
        "failoverInterval": 200,
        "upDelay": "250",
        "downDelay": -5,
        "packetsPerLink": 8,
        "activeReselect": "better",
        "linkQuality": {"lat_max": 400, "pdv_max": "50.5abc", "plr_max": 0.01, "per_max": 0.001,
                        "lat_weight": 0.4, "pdv_weight": 0.3, "plr_weight": 0.2, "per_weight": "0.1"},
        "links": {
          "eth0": {"mode": "primary", "failoverTo": "eth1", "capacity": 1000, "ipvPref": 46, "mtu": 9000},
          "eth1": {"enabled": "true", "ipvPref": 6},
          "wlan0": {"ipvPref": 5, "enabled": 1},
          "eth2": {"failoverTo": "eth0"}
        }
      },
      "rr": {"basePolicy": "balance-rr", "linkQuality": {"lat_max": 1}, "activeReselect": "sometimes",
             "failoverInterval": "7000"},
      "active-backup": {"basePolicy": "broadcast"},
      "nobase": {}
    },
    "peerSpecificBonds": {"feedbeef01": "rr", "xyz": "rr", "feedbeef02": 7},
    "someFutureKey": {"nested": [1, 2.5, "x"]}
  },
  "unknownTopLevel": 123456789012345678901234567890
}`

func TestFullLocalConf(t *testing.T) {
	c := mustParse(t, fullConf)
	s := c.Settings
	custom := &BondPolicy{
		Alias:            "custom-ab",
		Base:             PolicyActiveBackup,
		FailoverInterval: 500,
		UpDelay:          250,
		DownDelay:        0,
		PacketsPerLink:   8,
		ActiveReselect:   ReselectBetter,
		LinkQuality: LinkQuality{LatMax: 400, PDVMax: 50.5, PLRMax: 0.01, PERMax: 0.001,
			LatWeight: 0.4, PDVWeight: 0.3, PLRWeight: 0.2, PERWeight: 0.1},
		Links: []BondLink{
			{Interface: "eth0", Enabled: true, Capacity: 1000, IPvPref: 46, MTU: 9000, Mode: LinkPrimary, FailoverTo: "eth1"},
			{Interface: "eth1", Enabled: false, IPvPref: 6}, // "true" read as an integer is 0
			{Interface: "eth2", Enabled: false},             // a spare with failoverTo
			{Interface: "wlan0", Enabled: false, IPvPref: 5},
		},
	}
	rr := &BondPolicy{
		Alias: "rr", Base: PolicyBalanceRR, FailoverInterval: 7000, PacketsPerLink: 64,
		ActiveReselect: ReselectAlways, LinkQuality: DefaultLinkQuality,
	}
	want := Settings{
		PrimaryPort:              29993,
		PrimaryPortSet:           true,
		SecondaryPort:            70001 & 0xffff,
		TertiaryPort:             1,
		AllowSecondaryPort:       false,
		PortMappingEnabled:       false,
		AllowTCPFallbackRelay:    false,
		ForceTCPRelay:            true,
		TCPFallbackRelay:         ap("198.51.100.9:8443"),
		Bind:                     []netip.Addr{ip("10.77.0.2"), ip("fd00::2")},
		InterfacePrefixBlacklist: []string{"docker", "veth"},
		AllowManagementFrom:      []netip.Prefix{pfx("192.168.1.0/24"), pfx("fd00::/8"), pfx("10.1.2.3/32")},
		EnableWebServer:          true,
		SoftwareUpdate:           UpdateApply,
		SoftwareUpdateChannel:    "beta",
		ControllerDBPath:         "/srv/ztdb",
		SSORedirectURL:           "https://sso.example/cb?a=1&b=<2>",
		MulticoreEnabled:         true,
		Concurrency:              3,
		CPUPinningEnabled:        true,
		DefaultBondingPolicy:     "custom-ab",
		Policies:                 map[string]*BondPolicy{"custom-ab": custom, "rr": rr},
		PeerSpecificBonds:        map[identity.Address]string{addr("feedbeef01"): "rr"},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("settings\n got %+v\nwant %+v", s, want)
		for k, p := range s.Policies {
			t.Logf("policy %s: %+v", k, *p)
		}
	}

	wantPhys := []Physical{
		{Prefix: pfx("10.0.0.0/8"), Blacklist: true, MTU: 9000},
		{Prefix: pfx("10.1.0.0/16"), TrustedPathID: 12345, MTU: 1200},
		{Prefix: pfx("172.16.0.0/12"), MTU: -1},
		{Prefix: pfx("192.168.7.0/24"), TrustedPathID: math.MaxUint64, MTU: 20000},
		{Prefix: pfx("2001:db8::/32"), Blacklist: true, TrustedPathID: 987654321},
		{Prefix: pfx("203.0.113.77/32"), TrustedPathID: 1},
	}
	if !reflect.DeepEqual(c.Physical, wantPhys) {
		t.Errorf("physical\n got %+v\nwant %+v", c.Physical, wantPhys)
	}
	// Reference order: IPv4 by netmask bits, then IPv6.
	wantPaths := []PathConfig{
		{Prefix: pfx("10.0.0.0/8"), MTU: 9000},
		{Prefix: pfx("172.16.0.0/12"), MTU: 1432},
		{Prefix: pfx("10.1.0.0/16"), TrustedPathID: 12345, MTU: 1400},
		{Prefix: pfx("192.168.7.0/24"), TrustedPathID: math.MaxUint64, MTU: 10324},
		{Prefix: pfx("203.0.113.77/32"), TrustedPathID: 1, MTU: 1432},
		{Prefix: pfx("2001:db8::/32"), TrustedPathID: 987654321, MTU: 1432},
	}
	if !reflect.DeepEqual(c.Paths, wantPaths) {
		t.Errorf("paths\n got %+v\nwant %+v", c.Paths, wantPaths)
	}
	wantVirt := map[identity.Address]Virtual{
		addr("feedbeef01"): {
			Try:       []netip.AddrPort{ap("203.0.113.5:9993"), ap("[2001:db8::1]:9993")},
			Blacklist: []netip.Prefix{pfx("198.51.100.0/24"), pfx("2001:db8:1::/48")},
		},
		addr("feedbeef02"): {Try: []netip.AddrPort{ap("192.0.2.1:1234")}},
	}
	if !reflect.DeepEqual(c.Virtual, wantVirt) {
		t.Errorf("virtual\n got %+v\nwant %+v", c.Virtual, wantVirt)
	}
	for _, w := range []string{
		"secondary and/or tertiary", "not-an-ip/8", "10.9.9.9/40", "physical.192.0.2.0/24 is not an object",
		`"bogus"`, `"203.0.113.6"`, `"nonsense/3"`, `"12345"`, "virtual.feedbeef03", `"42"`, `"nonsense"`, `"bad"`,
		`"active-backup" ignored`, `"nobase" has no basePolicy`, `"nobase" ignored`, `"rr": linkQuality needs`,
		`unknown activeReselect "sometimes"`, "ipvPref 5", "link eth2: a spare", `"xyz"`, "peerSpecificBonds.feedbeef02",
		"forceTcpRelay cannot be used with multipath",
	} {
		if !hasWarning(c, w) {
			t.Errorf("no warning containing %s", w)
		}
	}

	// Derived values.
	if !s.BondingInUse() || s.TCPFallbackAllowed() || s.TCPRelayForced() {
		t.Error("bonding must turn the TCP relay off")
	}
	if !s.UpdaterEnabled() {
		t.Error("updater should be enabled")
	}
	for ncpu, want := range map[int]int{1: 1, 3: 1, 4: 3, 8: 3} {
		if got := s.EffectiveConcurrency(ncpu); got != want {
			t.Errorf("EffectiveConcurrency(%d) = %d, want %d", ncpu, got, want)
		}
	}
	if base, p := s.BondPolicyFor(addr("feedbeef01")); base != PolicyBalanceRR || p != s.Policies["rr"] {
		t.Errorf("peer-specific bond: %v %v", base, p)
	}
	if base, p := s.BondPolicyFor(addr("1122334455")); base != PolicyActiveBackup || p != s.Policies["custom-ab"] {
		t.Errorf("default bond: %v %v", base, p)
	}
	if l, ok := custom.Link("eth0"); !ok || l.Mode != LinkPrimary {
		t.Errorf("Link(eth0) = %+v %v", l, ok)
	}
	if _, ok := custom.Link("eth9"); ok {
		t.Error("Link(eth9) found")
	}
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"127.0.0.1", true}, {"::1", true}, {"192.168.1.77", true}, {"::ffff:192.168.1.77", true},
		{"192.168.2.1", false}, {"fd12::1", true}, {"10.1.2.3", true}, {"10.1.2.4", false}} {
		if got := s.ManagementAllowed(ip(tc.ip)); got != tc.want {
			t.Errorf("ManagementAllowed(%s) = %v", tc.ip, got)
		}
	}
	if !s.InterfaceBlacklisted("docker0") || !s.InterfaceBlacklisted("veth1234") || s.InterfaceBlacklisted("eth0") {
		t.Error("InterfaceBlacklisted")
	}

	// Unknown keys survive for /status, with keys sorted, numbers as
	// written and no HTML escaping.
	raw := string(c.RawJSON())
	for _, sub := range []string{
		`"unknownTopLevel":123456789012345678901234567890`,
		`"someFutureKey":{"nested":[1,2.5,"x"]}`,
		`"ssoRedirectURL":"https://sso.example/cb?a=1&b=<2>"`,
	} {
		if !strings.Contains(raw, sub) {
			t.Errorf("RawJSON lacks %s: %s", sub, raw)
		}
	}
	if !strings.HasPrefix(raw, `{"physical":`) {
		t.Errorf("RawJSON keys not sorted: %.40s", raw)
	}
}

func TestPathLookups(t *testing.T) {
	c := mustParse(t, fullConf)
	id := func(s string) uint64 { v, _ := c.TrustedPathFor(ip(s)); return v }
	// 10.1.0.0/16 has an ID, but the wider 10.0.0.0/8 row comes first and
	// has none: the reference sends untrusted.
	if v, ok := c.TrustedPathFor(ip("10.1.2.3")); ok || v != 0 {
		t.Errorf("TrustedPathFor(10.1.2.3) = %d %v", v, ok)
	}
	if v, ok := c.TrustedPathFor(ip("192.168.7.9")); !ok || v != math.MaxUint64 {
		t.Errorf("TrustedPathFor(192.168.7.9) = %d %v", v, ok)
	}
	if v := id("::ffff:192.168.7.9"); v != math.MaxUint64 {
		t.Errorf("mapped address: %d", v)
	}
	if v := id("2001:db8:ffff::1"); v != 987654321 {
		t.Errorf("IPv6: %d", v)
	}
	if v := id("203.0.113.77"); v != 1 {
		t.Errorf("host entry: %d", v)
	}
	if v, ok := c.TrustedPathFor(ip("203.0.113.78")); ok || v != 0 {
		t.Errorf("outside: %d %v", v, ok)
	}
	for _, tc := range []struct {
		ip  string
		mtu int
	}{{"10.1.2.3", 9000}, {"172.20.0.1", 1432}, {"192.168.7.1", 10324}, {"2001:db8::1", 1432}, {"8.8.8.8", 1432}} {
		if got := c.MTUFor(ip(tc.ip)); got != tc.mtu {
			t.Errorf("MTUFor(%s) = %d, want %d", tc.ip, got, tc.mtu)
		}
	}
	for _, tc := range []struct {
		ip   string
		id   uint64
		want bool
	}{
		{"10.1.2.3", 12345, true}, // any row with the ID counts inbound
		{"10.2.0.1", 12345, false},
		{"10.2.0.1", 0, false},
		{"172.16.5.5", 0, false}, // an MTU-only row does not trust ID 0
		{"192.168.7.200", math.MaxUint64, true},
		{"2001:db8::7", 987654321, true},
		{"2001:db9::7", 987654321, false},
	} {
		if got := c.TrustsInbound(ip(tc.ip), tc.id); got != tc.want {
			t.Errorf("TrustsInbound(%s, %d) = %v", tc.ip, tc.id, got)
		}
	}
	p1, p2 := addr("feedbeef01"), addr("feedbeef02")
	for _, tc := range []struct {
		ip   string
		peer identity.Address
		want bool
	}{
		{"10.5.5.5", p2, true},
		{"172.16.0.1", p2, false},
		{"2001:db8::9", p2, true},
		{"198.51.100.7", p1, true},
		{"198.51.100.7", p2, false},
		{"2001:db8:1::1", p1, true},
		{"8.8.8.8", p1, false},
	} {
		if got := c.Blacklisted(ip(tc.ip), tc.peer); got != tc.want {
			t.Errorf("Blacklisted(%s, %s) = %v", tc.ip, tc.peer, got)
		}
	}
	if got := c.TryAddresses(p1); len(got) != 2 {
		t.Errorf("TryAddresses = %v", got)
	}
	if got := c.TryAddresses(addr("1122334455")); got != nil {
		t.Errorf("TryAddresses(unknown) = %v", got)
	}
}

func TestPhysicalSpecialCases(t *testing.T) {
	// A /0 entry is a row (it shadows everything of its family) but never
	// a blacklist; host bits in a CIDR are ignored.
	c := mustParse(t, `{"physical":{
		"0.0.0.0/0":{"blacklist":true,"mtu":1500},
		"10.1.2.3/16":{"trustedPathId":9},
		"fd00::1/64":{"trustedPathId":10}}}`)
	if c.Blacklisted(ip("8.8.8.8"), 1) {
		t.Error("a /0 blacklist is honoured")
	}
	if got := c.MTUFor(ip("10.1.9.9")); got != 1500 {
		t.Errorf("MTU %d", got)
	}
	if _, ok := c.TrustedPathFor(ip("10.1.9.9")); ok {
		t.Error("/0 row should shadow the /16")
	}
	if !c.TrustsInbound(ip("10.1.9.9"), 9) || !c.TrustsInbound(ip("fd00::9"), 10) {
		t.Error("host bits not ignored")
	}
}

func TestPathTableLimitAndOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"physical":{`)
	for i := range 40 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"10.%d.0.1/32":{"trustedPathId":%d}`, i, i+1)
	}
	b.WriteString(`,"10.0.0.0/24":{"mtu":1500}, "9.0.0.2/32":{"trustedPathId":99}, "::1/128":{"trustedPathId":100}}}`)
	c := mustParse(t, b.String())
	if len(c.Paths) != MaxConfigurablePaths {
		t.Fatalf("%d rows", len(c.Paths))
	}
	if !hasWarning(c, "43 physical path entries") {
		t.Errorf("warnings %q", c.Warnings)
	}
	// The /24 comes first; among /32s, IPv4 addresses compare as
	// little-endian integers: 10.0.0.1, 10.1.0.1, ... (the second octet
	// is more significant than the first), and 9.0.0.2 after all 10.x.0.1
	// (the last octet is the most significant).
	if c.Paths[0].Prefix != pfx("10.0.0.0/24") || c.Paths[1].Prefix != pfx("10.0.0.1/32") || c.Paths[2].Prefix != pfx("10.1.0.1/32") {
		t.Errorf("order: %v %v %v", c.Paths[0], c.Paths[1], c.Paths[2])
	}
	if last := c.Paths[31].Prefix; last != pfx("10.30.0.1/32") {
		t.Errorf("last kept row %v", last)
	}
	if _, ok := c.TrustedPathFor(ip("9.0.0.2")); ok {
		t.Error("9.0.0.2 should have been dropped by the limit")
	}
	if _, ok := c.TrustedPathFor(ip("::1")); ok {
		t.Error("IPv6 rows sort after IPv4 and were dropped")
	}
	if len(c.Physical) != 43 {
		t.Errorf("%d physical entries; the limit applies only to the path table", len(c.Physical))
	}
}

func TestLegacyTrustedPaths(t *testing.T) {
	got := ParseTrustedPaths([]byte("# comment\n" +
		"1f 10.0.0.0/8\n" +
		"0x20=192.168.0.0/16 extra tokens\n" +
		"\t21\tfd00::/8\r\n" +
		"0 10.0.0.0/8\n" + // ID 0
		"22 10.0.0.0/0\n" + // /0
		"23 10.0.0.1\n" + // no bits
		"24 nonsense/8\n" +
		"25\n"))
	want := []PathConfig{
		{Prefix: pfx("10.0.0.0/8"), TrustedPathID: 0x1f, MTU: 1432},
		{Prefix: pfx("192.168.0.0/16"), TrustedPathID: 0x20, MTU: 1432},
		{Prefix: pfx("fd00::/8"), TrustedPathID: 0x21, MTU: 1432},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseTrustedPaths\n got %+v\nwant %+v", got, want)
	}

	// Merged with local.conf: a physical entry for the same CIDR keeps the
	// legacy ID when it has none of its own, and its MTU applies.
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(TrustedPathsFile), "1f 10.0.0.0/8\n20 192.168.0.0/16\n")
	writeString(t, h.Path(LocalConfFile), `{"physical":{"10.0.0.0/8":{"mtu":1500},"192.168.0.0/16":{"trustedPathId":"77"}}}`)
	c, err := h.LoadLocalConf()
	if err != nil {
		t.Fatal(err)
	}
	wantPaths := []PathConfig{
		{Prefix: pfx("10.0.0.0/8"), TrustedPathID: 0x1f, MTU: 1500},
		{Prefix: pfx("192.168.0.0/16"), TrustedPathID: 77, MTU: 1432},
	}
	if !reflect.DeepEqual(c.Paths, wantPaths) {
		t.Errorf("merged paths\n got %+v\nwant %+v", c.Paths, wantPaths)
	}
	if !hasWarning(c, "deprecated") {
		t.Error("no deprecation warning")
	}
}

func TestLoadLocalConfMissing(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.LoadLocalConf()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c.Settings, DefaultLocalConf().Settings) || len(c.Warnings) != 0 {
		t.Errorf("%+v", c)
	}
}

func TestBadLocalConf(t *testing.T) {
	for _, tc := range []struct {
		src       string
		line, col int
		msg       string
	}{
		{"{\n  \"settings\": {\n    \"primaryPort\": 9993,,\n  }\n}", 3, 25, "invalid character ','"},
		{"{\"a\": tru}", 1, 10, "invalid character '}'"},
		{"{\n\"a\": 1\n", 3, 1, "unexpected end of JSON input"},
		{"{} {}", 1, 4, "after top-level value"},
		{"\n\n   x", 3, 4, "invalid character 'x'"},
		{"[1, 2]", 0, 0, "root element is not a JSON object"},
		{"\"settings\"", 0, 0, "root element is not a JSON object"},
		{"null", 0, 0, "root element is not a JSON object"},
	} {
		_, err := ParseLocalConf("/home/x/local.conf", []byte(tc.src))
		var ce *ConfError
		if !errors.As(err, &ce) {
			t.Errorf("%q: error %v", tc.src, err)
			continue
		}
		if ce.Line != tc.line || ce.Column != tc.col || !strings.Contains(err.Error(), tc.msg) ||
			!strings.HasPrefix(err.Error(), "/home/x/local.conf:") {
			t.Errorf("%q: %v (line %d col %d), want %d:%d %s", tc.src, err, ce.Line, ce.Column, tc.line, tc.col, tc.msg)
		}
	}

	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(LocalConfFile), "{\"settings\": [}")
	_, err = h.LoadLocalConf()
	if err == nil || !strings.HasPrefix(err.Error(), filepath.Join(h.Dir(), "local.conf")+":1:15:") {
		t.Errorf("LoadLocalConf: %v", err)
	}
}

func TestCoercions(t *testing.T) {
	num := func(s string) any { return json.Number(s) }
	for _, tc := range []struct {
		v    any
		want uint64
	}{
		{nil, 7}, {map[string]any{}, 7}, {[]any{}, 7},
		{true, 1}, {false, 0},
		{num("42"), 42}, {num("-1"), math.MaxUint64}, {num("2.9"), 2}, {num("-2.9"), math.MaxUint64 - 1},
		{num("18446744073709551615"), math.MaxUint64}, {num("1e3"), 1000}, {num("1e30"), 1 << 63},
		{"123", 123}, {"  +45xyz", 45}, {"-3", math.MaxUint64 - 2}, {"abc", 0}, {"", 0},
		{"99999999999999999999999", math.MaxUint64}, {"0x10", 0},
	} {
		if got := refjson.Uint(tc.v, 7); got != tc.want {
			t.Errorf("refjson.Uint(%#v) = %d, want %d", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    any
		want bool
	}{
		{nil, true}, {map[string]any{}, true}, {true, true}, {false, false},
		{num("0"), false}, {num("3"), true}, {num("-1"), true}, {num("0.5"), false},
		{"true", true}, {"True", true}, {"1", true}, {"yes", false}, {"false", false}, {"", false}, {" t", false},
	} {
		if got := refjson.Bool(tc.v, true); got != tc.want {
			t.Errorf("refjson.Bool(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    any
		want string
	}{{nil, "d"}, {"s", "s"}, {num("12"), "12"}, {num("-1"), "18446744073709551615"}, {true, "1"}, {false, "0"}, {[]any{}, "d"}} {
		if got := refjson.String(tc.v, "d"); got != tc.want {
			t.Errorf("refjson.String(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		v    any
		want float64
	}{{nil, -1}, {num("0.25"), 0.25}, {"  1.5e2xyz", 150}, {"abc", 0}, {true, 1}, {".5", 0.5}, {"-2.", -2}} {
		if got := refjson.Float(tc.v, -1); got != tc.want {
			t.Errorf("refjson.Float(%#v) = %v, want %v", tc.v, got, tc.want)
		}
	}
	for _, tc := range []struct {
		s    string
		want uint64
	}{{"1f", 0x1f}, {"0x1F", 0x1f}, {"0X", 0}, {" -1", math.MaxUint64}, {"ffffffffffffffff0", math.MaxUint64}, {"g", 0}} {
		if got := refjson.Strtoull(tc.s, 16); got != tc.want {
			t.Errorf("refjson.Strtoull(%q, 16) = %#x, want %#x", tc.s, got, tc.want)
		}
	}
}
