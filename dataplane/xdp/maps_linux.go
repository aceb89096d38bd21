package xdp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"time"

	"github.com/cilium/ebpf"

	"github.com/ztx/ztx/crypto/identity"
)

// The typed setters below convert Go values into the structs bpf2go
// generated from bpf/ztx.h: byte arrays in network order, as in packets.

// do runs f under the lock unless x is closed, and wraps its error.
func (x *XDP) do(what string, f func() error) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.closed {
		return ErrClosed
	}
	if err := f(); err != nil {
		return fmt.Errorf("xdp: %s: %w", what, err)
	}
	return nil
}

func addrKey(a identity.Address) ztxAddrKey {
	var k ztxAddrKey
	a.Put(k.Address[:])
	return k
}

func nwidKey(nwid uint64) ztxNwidKey {
	var k ztxNwidKey
	binary.BigEndian.PutUint64(k.Nwid[:], nwid)
	return k
}

// SetAddress sets the node's own ZeroTier address: packets for it may be
// delivered, packets for others may be relayed. Zero: nothing is delivered.
func (x *XDP) SetAddress(a identity.Address) error {
	return x.do("set address", func() error {
		var c ztxNodeConfig
		a.Put(c.Address[:])
		return x.objs.Config.Put(uint32(0), &c)
	})
}

// SetPorts replaces the set of UDP ports the node receives ZeroTier on.
func (x *XDP) SetPorts(ports ...uint16) error {
	return x.do("set ports", func() error {
		if len(ports) > int(x.objs.Ports.MaxEntries()) {
			return fmt.Errorf("%d ports, at most %d", len(ports), x.objs.Ports.MaxEntries())
		}
		want := map[ztxPortKey]bool{}
		for _, p := range ports {
			if p == 0 {
				return errors.New("port 0")
			}
			var k ztxPortKey
			binary.BigEndian.PutUint16(k.Port[:], p)
			want[k] = true
		}
		var k ztxPortKey
		var v uint8
		var stale []ztxPortKey
		for it := x.objs.Ports.Iterate(); it.Next(&k, &v); {
			if !want[k] {
				stale = append(stale, k)
			}
		}
		for _, k := range stale {
			if err := x.objs.Ports.Delete(&k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return err
			}
		}
		for k := range want {
			if err := x.objs.Ports.Put(&k, uint8(1)); err != nil {
				return err
			}
		}
		return nil
	})
}

func trustedKey(p netip.Prefix) (ztxTrustedKey, error) {
	if !p.IsValid() {
		return ztxTrustedKey{}, fmt.Errorf("invalid prefix %v", p)
	}
	if p.Bits() == 0 {
		return ztxTrustedKey{}, fmt.Errorf("prefix %v trusts every address", p)
	}
	p = p.Masked()
	a, bits := p.Addr(), p.Bits()
	if a.Is4() {
		a, bits = netip.AddrFrom16(a.As16()), bits+96 // ::ffff:a.b.c.d
	}
	return ztxTrustedKey{Prefixlen: uint32(bits), Addr: a.As16()}, nil
}

// SetTrustedPath trusts suite-2 packets from addresses in p that carry
// trusted path ID id (PROTOCOL.md part 1 §10). ID 0 is never trusted, nor
// a zero-length prefix. Where prefixes overlap, only the longest match is
// checked here; a packet it refuses goes up to the control plane.
func (x *XDP) SetTrustedPath(p netip.Prefix, id uint64) error {
	return x.do("set trusted path", func() error {
		k, err := trustedKey(p)
		if err != nil {
			return err
		}
		if id == 0 {
			return errors.New("trusted path ID 0")
		}
		var v ztxTrustedPath
		binary.BigEndian.PutUint64(v.Id[:], id)
		return x.objs.Trusted.Put(&k, &v)
	})
}

// DeleteTrustedPath stops trusting p.
func (x *XDP) DeleteTrustedPath(p netip.Prefix) error {
	return x.do("delete trusted path", func() error {
		k, err := trustedKey(p)
		if err != nil {
			return err
		}
		return x.objs.Trusted.Delete(&k)
	})
}

// SetNetwork has trusted-path FRAMEs of network nwid delivered by a
// redirect to interface ifindex: the peer of a veth pair whose other end is
// the network's interface (see the package documentation).
func (x *XDP) SetNetwork(nwid uint64, ifindex int) error {
	return x.do("set network", func() error {
		if ifindex <= 0 {
			return fmt.Errorf("ifindex %d", ifindex)
		}
		k := nwidKey(nwid)
		return x.objs.Networks.Put(&k, &ztxNetwork{Ifindex: uint32(ifindex)})
	})
}

// DeleteNetwork stops kernel delivery for network nwid.
func (x *XDP) DeleteNetwork(nwid uint64) error {
	return x.do("delete network", func() error {
		k := nwidKey(nwid)
		return x.objs.Networks.Delete(&k)
	})
}

// RelayPath is where a root relays packets for one destination.
type RelayPath struct {
	Ifindex int            // egress interface (XDP_TX when it is the ingress one)
	Src     netip.AddrPort // the root's own address and port on that interface
	Dst     netip.AddrPort // the destination's physical path
	SrcMAC  net.HardwareAddr
	DstMAC  net.HardwareAddr // next hop
}

func (r RelayPath) value() (ztxRelayPath, error) {
	var v ztxRelayPath
	src, dst := r.Src.Addr().Unmap(), r.Dst.Addr().Unmap()
	switch {
	case r.Ifindex <= 0:
		return v, fmt.Errorf("ifindex %d", r.Ifindex)
	case !src.IsValid() || !dst.IsValid() || src.Is4() != dst.Is4():
		return v, fmt.Errorf("addresses %v and %v", r.Src, r.Dst)
	case r.Src.Port() == 0 || r.Dst.Port() == 0:
		return v, fmt.Errorf("ports %v and %v", r.Src, r.Dst)
	case len(r.SrcMAC) != 6 || len(r.DstMAC) != 6:
		return v, fmt.Errorf("MACs %v and %v", r.SrcMAC, r.DstMAC)
	}
	v.Ifindex = uint32(r.Ifindex)
	v.Family = familyIPv6
	if src.Is4() {
		v.Family = familyIPv4
		s4, d4 := src.As4(), dst.As4()
		copy(v.SrcAddr[:], s4[:])
		copy(v.DstAddr[:], d4[:])
	} else {
		v.SrcAddr, v.DstAddr = src.As16(), dst.As16()
	}
	binary.BigEndian.PutUint16(v.SrcPort[:], r.Src.Port())
	binary.BigEndian.PutUint16(v.DstPort[:], r.Dst.Port())
	copy(v.SrcMac[:], r.SrcMAC)
	copy(v.DstMac[:], r.DstMAC)
	return v, nil
}

// Address families of ztxRelayPath.Family (bpf/ztx.h ZTX_FAMILY_*).
const (
	familyIPv4 = 4
	familyIPv6 = 6
)

// SetRelay sets the path packets for dest are relayed on.
func (x *XDP) SetRelay(dest identity.Address, p RelayPath) error {
	return x.do("set relay", func() error {
		v, err := p.value()
		if err != nil {
			return err
		}
		k := addrKey(dest)
		return x.objs.Relays.Put(&k, &v)
	})
}

// DeleteRelay stops relaying for dest in the kernel.
func (x *XDP) DeleteRelay(dest identity.Address) error {
	return x.do("delete relay", func() error {
		k := addrKey(dest)
		return x.objs.Relays.Delete(&k)
	})
}

func pairKey(src, dst identity.Address) ztxPairKey {
	var k ztxPairKey
	src.Put(k.Source[:])
	dst.Put(k.Dest[:])
	return k
}

// SetPair lets the kernel relay packets from src to dst (one direction),
// once the control plane has introduced them. Setting a pair again keeps
// its last-relayed time.
func (x *XDP) SetPair(src, dst identity.Address) error {
	return x.do("set pair", func() error {
		k := pairKey(src, dst)
		err := x.objs.Pairs.Update(&k, &ztxPair{}, ebpf.UpdateNoExist)
		if errors.Is(err, ebpf.ErrKeyExist) {
			return nil
		}
		return err
	})
}

// DeletePair has packets from src to dst go up again (so that the control
// plane sees them and introduces the pair anew).
func (x *XDP) DeletePair(src, dst identity.Address) error {
	return x.do("delete pair", func() error {
		k := pairKey(src, dst)
		return x.objs.Pairs.Delete(&k)
	})
}

// Pair is an introduced (source, destination) pair.
type Pair struct {
	Source, Dest identity.Address
	// LastRelayed is when the kernel last relayed a packet of the pair, on
	// CLOCK_MONOTONIC (to within a second), or 0 if never.
	LastRelayed time.Duration
}

// Pairs lists the introduced pairs.
func (x *XDP) Pairs() ([]Pair, error) {
	var out []Pair
	err := x.do("pairs", func() error {
		var k ztxPairKey
		var v ztxPair
		it := x.objs.Pairs.Iterate()
		for it.Next(&k, &v) {
			out = append(out, Pair{
				Source:      identity.AddressFromBytes(k.Source[:]),
				Dest:        identity.AddressFromBytes(k.Dest[:]),
				LastRelayed: time.Duration(v.LastNs),
			})
		}
		return it.Err()
	})
	return out, err
}

// Counters reads the counters, summed over CPUs.
func (x *XDP) Counters() (Counters, error) {
	var c Counters
	err := x.do("counters", func() (err error) {
		c, err = readCounters(x.objs.Counters)
		return err
	})
	return c, err
}

// ReadPinnedCounters reads the counters of a pinned instance (its
// directory, as XDP.PinDir or Instance.Dir gives it), for ztctl.
func ReadPinnedCounters(dir string) (Counters, error) {
	m, err := ebpf.LoadPinnedMap(filepath.Join(dir, ztxMapCounters), &ebpf.LoadPinOptions{ReadOnly: true})
	if err != nil {
		return Counters{}, fmt.Errorf("xdp: %w", err)
	}
	defer m.Close()
	c, err := readCounters(m)
	if err != nil {
		return c, fmt.Errorf("xdp: %s: %w", dir, err)
	}
	return c, nil
}

func readCounters(m *ebpf.Map) (Counters, error) {
	var c Counters
	var per []ztxCount
	for i := range c {
		if err := m.Lookup(uint32(i), &per); err != nil {
			return c, err
		}
		for _, v := range per {
			c[i].Packets += v.Packets
			c[i].Bytes += v.Bytes
		}
	}
	return c, nil
}
