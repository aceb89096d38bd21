package xdp

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/ztx/ztx/crypto/identity"
)

// The decoders undo the setters' encoders exactly.

func TestTrustedFromKey(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"10.0.0.0/24", "10.0.0.0/24"},
		{"10.0.0.7/24", "10.0.0.0/24"}, // setters mask
		{"192.0.2.1/32", "192.0.2.1/32"},
		{"1.0.0.0/1", "0.0.0.0/1"},
		{"2001:db8:7::/48", "2001:db8:7::/48"},
		{"2001:db8::1/128", "2001:db8::1/128"},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8"}, // the same entry as 10.0.0.0/8
		{"::ffff:0:0/95", "::fffe:0:0/95"},    // shorter than the IPv4 space: stays IPv6
	} {
		k, err := trustedKey(netip.MustParsePrefix(c.in))
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		var v ztxTrustedPath
		v.Id = [8]byte{0, 0, 0, 0, 0, 0, 0, 101}
		got := trustedFromKey(k, v)
		if got.Prefix != netip.MustParsePrefix(c.want) || got.ID != 101 {
			t.Errorf("%s: decoded %v -> %d, want %s -> 101", c.in, got.Prefix, got.ID, c.want)
		}
	}
	// A corrupt prefix length is clamped, never a panic.
	if got := trustedFromKey(ztxTrustedKey{Prefixlen: 999}, ztxTrustedPath{}); got.Prefix.Bits() != 128 {
		t.Errorf("prefixlen 999: %v", got.Prefix)
	}
}

func TestRelayPathFromValue(t *testing.T) {
	for _, r := range []RelayPath{relayB, relayC, relayD} {
		v, err := r.value()
		if err != nil {
			t.Fatal(err)
		}
		if got := relayPathFromValue(v); !reflect.DeepEqual(got, r) {
			t.Errorf("round trip: got %+v, want %+v", got, r)
		}
	}
	// IPv4-mapped addresses are stored (and read back) as IPv4.
	r := relayB
	r.Src = netip.AddrPortFrom(netip.AddrFrom16(r.Src.Addr().As16()), r.Src.Port())
	r.Dst = netip.AddrPortFrom(netip.AddrFrom16(r.Dst.Addr().As16()), r.Dst.Port())
	v, err := r.value()
	if err != nil {
		t.Fatal(err)
	}
	if got := relayPathFromValue(v); got.Src != relayB.Src || got.Dst != relayB.Dst {
		t.Errorf("mapped: %v -> %v", got.Src, got.Dst)
	}
}

func TestKeysFromMaps(t *testing.T) {
	if got := pairFromKey(pairKey(peerA, peerB), ztxPair{LastNs: 3e9}); got != (Pair{peerA, peerB, 3 * time.Second}) {
		t.Errorf("pair %+v", got)
	}
	if got := networkFromKey(nwidKey(nwid1), ztxNetwork{Ifindex: net1If}); got != (Network{nwid1, net1If}) {
		t.Errorf("network %+v", got)
	}
	if got := portFromKey(ztxPortKey{Port: [2]byte{0x27, 0x11}}); got != 10001 {
		t.Errorf("port %d", got)
	}
	if MapNames()[0] != MapInfo || len(MapNames()) != len((&XDP{}).pinned()) {
		t.Errorf("MapNames %v does not follow the pinning order", MapNames())
	}
	for i, m := range (&XDP{}).pinned() {
		if MapNames()[i] != m.name {
			t.Errorf("MapNames[%d] = %s, pinned %s", i, MapNames()[i], m.name)
		}
	}
}

// TestOpenPinned loads the program into a private bpffs and reads back
// what the setters wrote.
func TestOpenPinned(t *testing.T) {
	requireRoot(t)
	root := pinRoot(t)
	x, err := Load(Options{Ports: []uint16{19993, 9993}, Address: us, PinDir: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	for _, err := range []error{
		x.SetTrustedPath(trusted6, trustID6),
		x.SetTrustedPath(trusted4, trustID),
		x.SetNetwork(nwid2, net2If),
		x.SetNetwork(nwid1, net1If),
		x.SetRelay(peerC, relayC),
		x.SetRelay(peerB, relayB),
		x.SetPair(peerA, peerC),
		x.SetPair(peerA, peerB),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	p, err := OpenPinned(x.PinDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()

	check := func(what string, got, want any, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		} else if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", what, got, want)
		}
	}
	a, err := p.Address()
	check("address", a, us, err)
	ports, err := p.Ports()
	check("ports", ports, []uint16{9993, 19993}, err)
	tp, err := p.TrustedPaths()
	check("trusted", tp, []TrustedPath{{trusted4, trustID}, {trusted6, trustID6}}, err)
	nets, err := p.Networks()
	check("networks", nets, []Network{{nwid1, net1If}, {nwid2, net2If}}, err)
	relays, err := p.Relays()
	check("relays", relays, []Relay{{peerB, relayB}, {peerC, relayC}}, err)
	pairs, err := p.Pairs()
	check("pairs", pairs, []Pair{{peerA, peerB, 0}, {peerA, peerC, 0}}, err)
	c, err := p.Counters()
	check("counters", c, Counters{}, err)

	wantEntries := map[string]int{MapInfo: 1, MapConfig: 1, MapPorts: 2, MapTrusted: 2, MapNetworks: 2, MapRelays: 2, MapPairs: 2, MapCounters: NumCounters}
	for _, name := range MapNames() {
		s, err := p.Stat(name)
		if err != nil {
			t.Errorf("stat %s: %v", name, err)
			continue
		}
		if s.Entries != wantEntries[name] || s.Incompatible != nil || s.ID == 0 || s.Name != name {
			t.Errorf("stat %s: %+v, want %d entries", name, s, wantEntries[name])
		}
	}
	if s, _ := p.Stat(MapCounters); s.Type != ebpf.PerCPUArray || s.KeySize != 4 || s.ValueSize != 16 || s.MaxEntries != uint32(NumCounters) {
		t.Errorf("counters map: %+v", s)
	}

	st := ReadInstance(x.PinDir())
	if st.Err != nil || !st.Live || st.PID != os.Getpid() || st.Netns() == 0 {
		t.Errorf("instance %+v", st)
	}

	// A directory without pins, and one that is not there.
	empty := filepath.Join(root, "empty")
	if err := os.Mkdir(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{empty, filepath.Join(root, "missing")} {
		if _, err := OpenPinned(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("OpenPinned(%s): %v, want os.ErrNotExist", dir, err)
		}
	}
}

// A map of another layout is refused by the typed readers, not misread.
func TestOpenPinnedIncompatible(t *testing.T) {
	requireRoot(t)
	root := pinRoot(t)
	dir := filepath.Join(root, identity.Address(0x0123456789).String())
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	m, err := ebpf.NewMap(&ebpf.MapSpec{Type: ebpf.Hash, KeySize: 4, ValueSize: 1, MaxEntries: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Pin(filepath.Join(dir, MapPorts)); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPinned(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Ports(); !errors.Is(err, ebpf.ErrMapIncompatible) {
		t.Errorf("Ports on a foreign map: %v", err)
	}
	if s, err := p.Stat(MapPorts); err != nil || s.Incompatible == nil {
		t.Errorf("Stat: %+v, %v", s, err)
	}
	if p.Has(MapConfig) {
		t.Error("Has(config) without a config pin")
	}
	if _, err := p.Address(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Address without a config pin: %v", err)
	}
}
