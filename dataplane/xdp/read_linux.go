package xdp

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cilium/ebpf"

	"github.com/ztx/ztx/crypto/identity"
)

// Reading a pinned instance, for ztctl: the pins are opened read-only and
// the bpf/ztx.h structs are turned back into the Go values the setters
// take. Nothing here writes to a map.

// Map names, as pinned under an instance directory (bpf/ztx.h).
const (
	MapInfo     = ztxMapInfo
	MapConfig   = ztxMapConfig
	MapPorts    = ztxMapPorts
	MapTrusted  = ztxMapTrusted
	MapNetworks = ztxMapNetworks
	MapRelays   = ztxMapRelays
	MapPairs    = ztxMapPairs
	MapCounters = ztxMapCounters
)

// MapNames lists the maps an instance pins, in pinning order (info first).
func MapNames() []string {
	return []string{MapInfo, MapConfig, MapPorts, MapTrusted, MapNetworks, MapRelays, MapPairs, MapCounters}
}

// ReadInstance reads one instance directory's info map, as Instances does
// for every directory under a pin root.
func ReadInstance(dir string) Instance { return readInstance(dir) }

// Netns is the inode of the owner's network namespace (0 if unknown): the
// namespace Ifindex belongs to.
func (st Instance) Netns() uint64 { return st.netns }

// TrustedPath is an entry of the trusted map (SetTrustedPath).
type TrustedPath struct {
	Prefix netip.Prefix // IPv4 prefixes as IPv4, not ::ffff:a.b.c.d
	ID     uint64
}

// Network is an entry of the networks map (SetNetwork).
type Network struct {
	NWID    uint64
	Ifindex int
}

// Relay is an entry of the relays map (SetRelay).
type Relay struct {
	Dest identity.Address
	Path RelayPath
}

// MapStat describes one pinned map.
type MapStat struct {
	Name       string
	ID         uint32 // kernel map ID (bpftool map show id N)
	Type       ebpf.MapType
	KeySize    uint32
	ValueSize  uint32 // per CPU, for per-CPU maps
	MaxEntries uint32
	Flags      uint32
	// Entries is the number of keys present (every index, for an array);
	// approximate while the map changes.
	Entries int
	// Incompatible says how the map differs from the one this build's
	// program declares (pinned by another version); nil if it does not.
	Incompatible error
}

// Pinned is an instance's pinned maps, opened read-only.
type Pinned struct {
	Dir  string
	spec *ebpf.CollectionSpec
	maps map[string]*ebpf.Map
}

// OpenPinned opens the maps pinned in an instance directory (as
// Instance.Dir or XDP.PinDir gives it) read-only. Missing maps are
// skipped (Has says which are there); a directory with none is an error,
// as is one that cannot be read. Errors wrap the file system's and the
// bpf syscall's (os.ErrNotExist, os.ErrPermission, unix.EPERM).
func OpenPinned(dir string) (_ *Pinned, err error) {
	spec, err := loadZtx()
	if err != nil {
		return nil, fmt.Errorf("xdp: %w", err)
	}
	if _, err := os.ReadDir(dir); err != nil {
		return nil, fmt.Errorf("xdp: %w", err)
	}
	p := &Pinned{Dir: dir, spec: spec, maps: map[string]*ebpf.Map{}}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	for _, name := range MapNames() {
		m, err := ebpf.LoadPinnedMap(filepath.Join(dir, name), &ebpf.LoadPinOptions{ReadOnly: true})
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("xdp: open %s: %w", filepath.Join(dir, name), err)
		}
		p.maps[name] = m
	}
	if len(p.maps) == 0 {
		return nil, fmt.Errorf("xdp: %s: no maps pinned: %w", dir, os.ErrNotExist)
	}
	return p, nil
}

// Close releases the maps (the pins stay).
func (p *Pinned) Close() error {
	var errs []error
	for _, m := range p.maps {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}

// Has reports whether map name is pinned.
func (p *Pinned) Has(name string) bool { return p.maps[name] != nil }

// pinnedMap returns map name, checked against this build's declaration of
// it, so that the typed readers never misread another version's layout.
func (p *Pinned) pinnedMap(name string) (*ebpf.Map, error) {
	m := p.maps[name]
	if m == nil {
		return nil, fmt.Errorf("xdp: %s: map %s not pinned: %w", p.Dir, name, os.ErrNotExist)
	}
	if err := p.compatible(name, m); err != nil {
		return nil, err
	}
	return m, nil
}

func (p *Pinned) compatible(name string, m *ebpf.Map) error {
	ms := p.spec.Maps[name]
	if ms == nil {
		return fmt.Errorf("xdp: map %s: not in this build's program", name)
	}
	if err := ms.Compatible(m); err != nil {
		return fmt.Errorf("xdp: %s: map %s was made by another version: %w", p.Dir, name, err)
	}
	return nil
}

// Stat describes map name.
func (p *Pinned) Stat(name string) (MapStat, error) {
	m := p.maps[name]
	if m == nil {
		return MapStat{}, fmt.Errorf("xdp: %s: map %s not pinned: %w", p.Dir, name, os.ErrNotExist)
	}
	s := MapStat{
		Name:         name,
		Type:         m.Type(),
		KeySize:      m.KeySize(),
		ValueSize:    m.ValueSize(),
		MaxEntries:   m.MaxEntries(),
		Flags:        m.Flags(),
		Incompatible: p.compatible(name, m),
	}
	if info, err := m.Info(); err == nil {
		if id, ok := info.ID(); ok {
			s.ID = uint32(id)
		}
	}
	n, err := countKeys(m)
	if err != nil {
		return s, fmt.Errorf("xdp: %s: map %s: %w", p.Dir, name, err)
	}
	s.Entries = n
	return s, nil
}

// countKeys walks a map's keys. A walk that restarts (a key deleted under
// it) is cut at the map's size.
func countKeys(m *ebpf.Map) (int, error) {
	n := 0
	var key any // nil: the first key
	for n < int(m.MaxEntries()) {
		next, err := m.NextKeyBytes(key)
		if err != nil {
			return n, err
		}
		if next == nil {
			break
		}
		n++
		key = next
	}
	return n, nil
}

// Address reads the config map: the node's address (zero: not configured).
func (p *Pinned) Address() (identity.Address, error) {
	m, err := p.pinnedMap(MapConfig)
	if err != nil {
		return 0, err
	}
	var c ztxNodeConfig
	if err := m.Lookup(uint32(0), &c); err != nil {
		return 0, fmt.Errorf("xdp: %s: config: %w", p.Dir, err)
	}
	return identity.AddressFromBytes(c.Address[:]), nil
}

// Ports reads the ports map, in ascending order.
func (p *Pinned) Ports() ([]uint16, error) {
	return iterate(p, MapPorts, func(k ztxPortKey, _ uint8) uint16 { return portFromKey(k) },
		func(a, b uint16) int { return cmp.Compare(a, b) })
}

// TrustedPaths reads the trusted map, IPv4 first, then by address and
// prefix length.
func (p *Pinned) TrustedPaths() ([]TrustedPath, error) {
	return iterate(p, MapTrusted, trustedFromKey, func(a, b TrustedPath) int {
		if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Prefix.Bits(), b.Prefix.Bits())
	})
}

// Networks reads the networks map, by network ID.
func (p *Pinned) Networks() ([]Network, error) {
	return iterate(p, MapNetworks, networkFromKey, func(a, b Network) int { return cmp.Compare(a.NWID, b.NWID) })
}

// Relays reads the relays map, by destination.
func (p *Pinned) Relays() ([]Relay, error) {
	return iterate(p, MapRelays, func(k ztxAddrKey, v ztxRelayPath) Relay {
		return Relay{Dest: identity.AddressFromBytes(k.Address[:]), Path: relayPathFromValue(v)}
	}, func(a, b Relay) int { return cmp.Compare(a.Dest, b.Dest) })
}

// Pairs reads the pairs map, by source, then destination.
func (p *Pinned) Pairs() ([]Pair, error) {
	return iterate(p, MapPairs, pairFromKey, func(a, b Pair) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.Dest, b.Dest))
	})
}

// Counters reads the counters, summed over CPUs.
func (p *Pinned) Counters() (Counters, error) {
	m, err := p.pinnedMap(MapCounters)
	if err != nil {
		return Counters{}, err
	}
	c, err := readCounters(m)
	if err != nil {
		return c, fmt.Errorf("xdp: %s: counters: %w", p.Dir, err)
	}
	return c, nil
}

// iterate reads every entry of a hash or trie map with its generated key
// and value types, converts them and sorts the result.
func iterate[K, V, T any](p *Pinned, name string, conv func(K, V) T, order func(a, b T) int) ([]T, error) {
	m, err := p.pinnedMap(name)
	if err != nil {
		return nil, err
	}
	var out []T
	var k K
	var v V
	it := m.Iterate()
	for it.Next(&k, &v) {
		out = append(out, conv(k, v))
	}
	if err := it.Err(); err != nil {
		return nil, fmt.Errorf("xdp: %s: %s: %w", p.Dir, name, err)
	}
	slices.SortFunc(out, order)
	return out, nil
}

// The decoders: each undoes what a setter's encoder (maps_linux.go) does.

func portFromKey(k ztxPortKey) uint16 { return binary.BigEndian.Uint16(k.Port[:]) }

// trustedFromKey undoes trustedKey: a prefix of ::ffff:0:0/96 is IPv4.
func trustedFromKey(k ztxTrustedKey, v ztxTrustedPath) TrustedPath {
	a, bits := netip.AddrFrom16(k.Addr), int(min(k.Prefixlen, 128))
	if a.Is4In6() && bits >= 96 {
		a, bits = a.Unmap(), bits-96
	}
	p, _ := a.Prefix(bits) // bits is in range for a
	return TrustedPath{Prefix: p, ID: binary.BigEndian.Uint64(v.Id[:])}
}

func networkFromKey(k ztxNwidKey, v ztxNetwork) Network {
	return Network{NWID: binary.BigEndian.Uint64(k.Nwid[:]), Ifindex: int(v.Ifindex)}
}

// relayPathFromValue undoes RelayPath.value. A family other than IPv4
// leaves 16-byte addresses, as the program reads them.
func relayPathFromValue(v ztxRelayPath) RelayPath {
	var src, dst netip.Addr
	if v.Family == familyIPv4 {
		src, dst = netip.AddrFrom4([4]byte(v.SrcAddr[:4])), netip.AddrFrom4([4]byte(v.DstAddr[:4]))
	} else {
		src, dst = netip.AddrFrom16(v.SrcAddr), netip.AddrFrom16(v.DstAddr)
	}
	return RelayPath{
		Ifindex: int(v.Ifindex),
		Src:     netip.AddrPortFrom(src, binary.BigEndian.Uint16(v.SrcPort[:])),
		Dst:     netip.AddrPortFrom(dst, binary.BigEndian.Uint16(v.DstPort[:])),
		SrcMAC:  net.HardwareAddr(slices.Clone(v.SrcMac[:])),
		DstMAC:  net.HardwareAddr(slices.Clone(v.DstMac[:])),
	}
}

func pairFromKey(k ztxPairKey, v ztxPair) Pair {
	return Pair{
		Source:      identity.AddressFromBytes(k.Source[:]),
		Dest:        identity.AddressFromBytes(k.Dest[:]),
		LastRelayed: time.Duration(v.LastNs),
	}
}
