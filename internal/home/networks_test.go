package home

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ztx/ztx/internal/testvec"
)

func TestNetworksDir(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := h.NetworkIDs(); err != nil || len(ids) != 0 {
		t.Fatalf("no networks.d: %v %v", ids, err)
	}
	conf, err := os.ReadFile(testvec.MustPath(t, "session1", "node-state", "node-a-networks.d-f737c19395000001.conf"))
	if err != nil {
		t.Fatal(err)
	}
	const nwid = 0xf737c19395000001
	if err := h.WriteNetworkConf(nwid, conf); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteNetworkLocalConf(nwid, []byte("allowManaged=1\nallowGlobal=0\n")); err != nil {
		t.Fatal(err)
	}
	if err := h.WriteNetworkConf(0x8056c2e21c000001, []byte("\n")); err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(NetworksDir, "not-a-network.conf"), "")
	writeString(t, h.Path(NetworksDir, "F737C19395000002.conf"), "\n")
	ids, err := h.NetworkIDs()
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint64{0x8056c2e21c000001, nwid, 0xf737c19395000002}; !slices.Equal(ids, want) {
		t.Errorf("NetworkIDs = %x, want %x", ids, want)
	}
	if b, err := h.ReadNetworkConf(nwid); err != nil || !bytes.Equal(b, conf) {
		t.Errorf("ReadNetworkConf: %v", err)
	}
	if b, err := h.ReadNetworkLocalConf(nwid); err != nil || string(b) != "allowManaged=1\nallowGlobal=0\n" {
		t.Errorf("ReadNetworkLocalConf: %q %v", b, err)
	}
	if err := h.DeleteNetwork(nwid); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ReadNetworkConf(nwid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after delete: %v", err)
	}
	if _, err := h.ReadNetworkLocalConf(nwid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after delete: %v", err)
	}
	if err := h.DeleteNetwork(nwid); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}

// A freshly joined network gets the one-LF placeholder; a cached config
// is handed back and left alone.
func TestJoinNetwork(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const nwid = 0x8056c2e21c000001
	conf, err := h.JoinNetwork(nwid)
	if err != nil || conf != nil {
		t.Fatalf("first join: %q %v", conf, err)
	}
	b, err := os.ReadFile(h.Path(NetworksDir, "8056c2e21c000001.conf"))
	if err != nil || string(b) != "\n" {
		t.Fatalf("placeholder: %q %v", b, err)
	}
	if ids, _ := h.NetworkIDs(); !slices.Equal(ids, []uint64{nwid}) {
		t.Fatalf("NetworkIDs after join: %x", ids)
	}
	// An empty file is no config either.
	writeString(t, h.Path(NetworksDir, "8056c2e21c000001.conf"), "")
	if conf, err := h.JoinNetwork(nwid); err != nil || conf != nil {
		t.Fatalf("empty file: %q %v", conf, err)
	}
	if b, _ := os.ReadFile(h.Path(NetworksDir, "8056c2e21c000001.conf")); string(b) != "\n" {
		t.Fatalf("empty file not replaced: %q", b)
	}
	// A config is returned as stored.
	want, err := os.ReadFile(testvec.MustPath(t, "session1", "node-state", "node-a-networks.d-f737c19395000001.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := h.WriteNetworkConf(nwid, want); err != nil {
		t.Fatal(err)
	}
	if conf, err := h.JoinNetwork(nwid); err != nil || !bytes.Equal(conf, want) {
		t.Fatalf("cached config: %v", err)
	}
	// At most a dictionary's capacity is read.
	big := bytes.Repeat([]byte("x"), maxNetworkConf+10)
	if err := h.WriteNetworkConf(nwid, big); err != nil {
		t.Fatal(err)
	}
	if conf, err := h.JoinNetwork(nwid); err != nil || len(conf) != maxNetworkConf {
		t.Fatalf("oversized config: %d bytes, %v", len(conf), err)
	}
	// An unreadable networks.d is an error, not a join.
	if err := os.RemoveAll(h.Path(NetworksDir)); err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(NetworksDir), "not a directory")
	if _, err := h.JoinNetwork(nwid); err == nil {
		t.Fatal("join with networks.d a file: no error")
	}
}

func TestParseNetworkSettings(t *testing.T) {
	def := NetworkSettings{AllowManaged: true}
	all := NetworkSettings{AllowManaged: true, AllowGlobal: true, AllowDefault: true, AllowDNS: true}
	for _, c := range []struct {
		in   string
		want NetworkSettings
	}{
		{"", def},
		{"\n", def},
		{"allowManaged=1\nallowGlobal=0\nallowDefault=0\nallowDNS=0\n", def},
		{"allowManaged=0\nallowGlobal=1\nallowDefault=1\nallowDNS=1\n", NetworkSettings{AllowGlobal: true, AllowDefault: true, AllowDNS: true}},
		{"allowManaged=true\r\nallowGlobal=True\rallowDefault=t\nallowDNS=1xyz", all},
		{"allowManaged=false\nallowGlobal=yes\nallowDefault=\nallowDNS=0", NetworkSettings{}},
		{"allowManaged=False", NetworkSettings{}},
		{"allowManaged=Trues", NetworkSettings{AllowManaged: true}},                        // 5 bytes: a boolean
		{"allowManaged=\nallowDNS=1", NetworkSettings{AllowManaged: true, AllowDNS: true}}, // empty: true
		{"allowManaged=0\nallowManaged=1", NetworkSettings{}},                              // the first counts
		{"allowGlobal\nallowDNS=1\n=1\nallowDNSx=0", NetworkSettings{AllowManaged: true, AllowDNS: true}},
		{"allowDNS=1\x00allowGlobal=1", NetworkSettings{AllowManaged: true, AllowDNS: true}}, // NUL ends the data
		{"allowDNS=\\t", NetworkSettings{AllowManaged: true, AllowDNS: true}},                // escapes are read
		{"allowManaged=10.0.0.0/8,fd00::/8", NetworkSettings{AllowManaged: true,
			ManagedWhitelist: []netip.Prefix{pfx("10.0.0.0/8"), pfx("fd00::/8")}}},
		{"allowManaged=10.1.2.3", NetworkSettings{AllowManaged: true, ManagedWhitelist: []netip.Prefix{pfx("10.1.2.3/32")}}},
		{"allowManaged=10.0.0.0/8, 10.1.0.0/16,,nonsense,1.2.3.4/33", NetworkSettings{AllowManaged: true,
			ManagedWhitelist: []netip.Prefix{pfx("10.0.0.0/8"), {}, {}, {}, {}}}},
	} {
		if got := ParseNetworkSettings([]byte(c.in)); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", c.in, got, c.want)
		}
	}
	// Beyond the first 4095 bytes nothing counts.
	pad := "x=" + strings.Repeat("y", maxNetworkLocalConf-len("x=\nallowDNS=1")) + "\n"
	if got := ParseNetworkSettings([]byte(pad + "allowDNS=1")); !got.AllowDNS {
		t.Error("allowDNS within 4095 bytes not read")
	}
	if got := ParseNetworkSettings([]byte("x" + pad + "allowDNS=1")); got.AllowDNS {
		t.Error("allowDNS beyond 4095 bytes read")
	}
	// allowManaged lists are cut at 1023 bytes.
	long := strings.Repeat("10.0.0.0/8,", 92) + "1.2.3.4/32" + ",5.6.7.8/32" // cut after the second comma
	wl := ParseNetworkSettings([]byte("allowManaged=" + long)).ManagedWhitelist
	if len(wl) != 94 || wl[92] != pfx("1.2.3.4/32") || wl[93].IsValid() {
		t.Errorf("whitelist of %d entries ending %v", len(wl), wl[len(wl)-2:])
	}
}

func TestNetworkSettingsFile(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const nwid = 0xf737c19395000001
	if s, err := h.NetworkSettings(nwid); err != nil || !reflect.DeepEqual(s, DefaultNetworkSettings()) {
		t.Fatalf("no file: %+v %v", s, err)
	}
	for _, c := range []struct {
		s    NetworkSettings
		want string
	}{
		{DefaultNetworkSettings(), "allowManaged=1\nallowGlobal=0\nallowDefault=0\nallowDNS=0\n"},
		{NetworkSettings{AllowGlobal: true, AllowDNS: true}, "allowManaged=0\nallowGlobal=1\nallowDefault=0\nallowDNS=1\n"},
		// The whitelist is not written back, as the reference does not.
		{NetworkSettings{AllowManaged: true, ManagedWhitelist: []netip.Prefix{pfx("10.0.0.0/8")}, AllowDefault: true},
			"allowManaged=1\nallowGlobal=0\nallowDefault=1\nallowDNS=0\n"},
	} {
		if err := h.WriteNetworkSettings(nwid, c.s); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(h.Path(NetworksDir, "f737c19395000001.local.conf"))
		if err != nil || string(b) != c.want {
			t.Fatalf("written %q %v, want %q", b, err, c.want)
		}
		back, err := h.NetworkSettings(nwid)
		c.s.ManagedWhitelist = nil
		if err != nil || !reflect.DeepEqual(back, c.s) {
			t.Fatalf("read back %+v %v, want %+v", back, err, c.s)
		}
	}
	// Leaving removes both files; the network is no longer listed.
	if _, err := h.JoinNetwork(nwid); err != nil {
		t.Fatal(err)
	}
	if err := h.DeleteNetwork(nwid); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(h.Path(NetworksDir))
	if len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
	// No temporary files either way.
	if ids, err := h.NetworkIDs(); err != nil || len(ids) != 0 {
		t.Fatalf("NetworkIDs: %x %v", ids, err)
	}
}

func TestWhitelisted(t *testing.T) {
	none := DefaultNetworkSettings()
	list := ParseNetworkSettings([]byte("allowManaged=10.0.0.0/8,fd00::/16,192.168.1.7,nonsense"))
	broken := ParseNetworkSettings([]byte("allowManaged=nonsense"))
	for _, c := range []struct {
		s      NetworkSettings
		target string
		want   bool
	}{
		{none, "203.0.113.5/24", true},
		{list, "10.78.0.11/24", true},
		{list, "10.0.0.0/8", true},
		{list, "10.0.0.0/7", false}, // wider than the entry
		{list, "0.0.0.0/0", false},
		{list, "11.0.0.1/32", false},
		{list, "fd00:1::5/88", true},
		{list, "fd01::5/88", false},
		{list, "::ffff:10.1.2.3/120", true}, // mapped: IPv4 10.1.2.3/24
		{list, "192.168.1.7/32", true},
		{list, "192.168.1.7/24", false}, // a bare IP is that host only
		{broken, "10.0.0.1/32", false},
		{broken, "fd00::1/128", false},
	} {
		if got := c.s.Whitelisted(pfx(c.target)); got != c.want {
			t.Errorf("%v admits %s: %t, want %t", c.s.ManagedWhitelist, c.target, got, c.want)
		}
	}
	if list.Whitelisted(netip.Prefix{}) || !none.Whitelisted(netip.Prefix{}) {
		t.Error("the zero Prefix")
	}
}

func TestDeviceMap(t *testing.T) {
	h, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if m, err := h.DeviceMap(); err != nil || len(m) != 0 || m == nil {
		t.Fatalf("no devicemap: %v %v", m, err)
	}
	// The reference session's file.
	b, err := os.ReadFile(testvec.MustPath(t, "session1", "node-state", "devicemap"))
	if err != nil {
		t.Fatal(err)
	}
	writeString(t, h.Path(DeviceMapFile), string(b))
	if m, err := h.DeviceMap(); err != nil || !reflect.DeepEqual(m, map[uint64]string{0xf737c19395000001: "zta-zt0"}) {
		t.Fatalf("session devicemap: %v %v", m, err)
	}

	long := "0000000000000003=" + strings.Repeat("n", 300) + "\n"
	m := ParseDeviceMap([]byte("8056c2e21c000001=zt0\n" +
		"bad\n" +
		"=x\n" + // one piece only
		"0123456789abcdef==ztfoo=ignored\r\n" + // empty pieces dropped
		"0123456789ABCDEF=upper\n" + // the reference looks up lower case only
		" 0123456789abcdee=spaced\n" +
		"0123456789abcded=trailing \n" +
		"8056c2e21c000001=zt1\n" + // later wins
		"0000000000000001=averyveryverylongname\n" +
		"0000000000000002=a\x00b\n" + // NUL ends the line's text
		long +
		"0000000000000004=x\x00\n" +
		"0000000000000005=last"))
	want := map[uint64]string{
		0x8056c2e21c000001: "zt1",
		0x0123456789abcdef: "ztfoo",
		0x0123456789abcded: "trailing ",
		0x0000000000000001: "averyveryverylo",
		0x0000000000000002: "a",
		0x0000000000000003: strings.Repeat("n", 15),
		0x0000000000000004: "x",
		0x0000000000000005: "last",
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("ParseDeviceMap:\n got %v\nwant %v", m, want)
	}
	// A line longer than 255 bytes continues as another line.
	m = ParseDeviceMap([]byte(strings.Repeat("z", 255) + "0000000000000006=cont\n"))
	if !reflect.DeepEqual(m, map[uint64]string{6: "cont"}) {
		t.Fatalf("long line: %v", m)
	}
	// An unreadable devicemap is an error.
	os.Remove(h.Path(DeviceMapFile))
	if err := os.Mkdir(h.Path(DeviceMapFile), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := h.DeviceMap(); err == nil {
		t.Fatal("devicemap a directory: no error")
	}
}
