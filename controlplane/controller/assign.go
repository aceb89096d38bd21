package controller

import (
	"crypto/rand"
	"encoding/binary"
	"io"
	"net/netip"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
)

// Limits of a network config that bound assignment (include/ZeroTierOne.h).
const (
	maxRoutes      = 128
	maxAssignedIPs = 32
	maxPoolTrials  = 1000
)

// Assignment is what Assign computed for one member.
type Assignment struct {
	// StaticIPs are the member's managed addresses in config order, each
	// with the netmask bits it is configured with.
	StaticIPs []netip.Prefix
	// NDPEmulation is set when an rfc4193 or 6plane address was assigned.
	NDPEmulation bool
	// Changed reports that addresses were appended to m.IPAssignments,
	// so the member record must be saved.
	Changed bool
}

// Assign computes the static IPs of member m on network n as the reference
// controller does when it builds a config (PROTOCOL.md part 2 §10.5 step 5),
// and allocates pool addresses: rfc4193 and 6plane addresses (unless
// m.NoAutoAssignIPs), then m.IPAssignments entries that lie in a route, then
// one IPv6 and one IPv4 pool address when the zt assign modes are on and
// no routed address of that family came from m.IPAssignments. inUse reports
// addresses held by other members; random supplies IPv6 pool candidates
// (nil means crypto/rand).
func Assign(n *Network, m *Member, inUse func(netip.Addr) bool, random io.Reader) Assignment {
	var as Assignment
	if random == nil {
		random = rand.Reader
	}
	if inUse == nil {
		inUse = func(netip.Addr) bool { return false }
	}
	nwid := uint64(n.NetworkID())
	addr := m.MemberAddress()
	routes := n.Routes
	if len(routes) > maxRoutes {
		routes = routes[:maxRoutes]
	}
	add := func(p netip.Prefix) {
		if len(as.StaticIPs) < maxAssignedIPs {
			as.StaticIPs = append(as.StaticIPs, p)
		}
	}

	if !m.NoAutoAssignIPs {
		if n.V6AssignMode.RFC4193 {
			add(netconf.RFC4193(nwid, addr))
			as.NDPEmulation = true
		}
		if n.V6AssignMode.SixPlane {
			add(netconf.SixPlane(nwid, addr))
			as.NDPEmulation = true
		}
	}

	have4, have6 := false, false
	for _, s := range m.IPAssignments {
		ip, ok := parseIP(s)
		if !ok {
			continue
		}
		bits := -1
		for _, r := range routes {
			if routeContains(r.Target, ip) && r.Target.Bits() > bits {
				bits = r.Target.Bits()
			}
		}
		if bits < 0 {
			continue
		}
		add(netip.PrefixFrom(ip, bits))
		if ip.Is4() {
			have4 = true
		} else {
			have6 = true
		}
	}

	has := func(ip netip.Addr) bool {
		for _, s := range m.IPAssignments {
			if s == ip.String() {
				return true
			}
		}
		return false
	}
	claim := func(ip netip.Addr, bits int) {
		m.IPAssignments = append(m.IPAssignments, ip.String())
		add(netip.PrefixFrom(ip, bits))
		as.Changed = true
	}

	if n.V6AssignMode.ZT && !have6 && !m.NoAutoAssignIPs {
		for _, p := range n.IPAssignmentPools {
			if have6 {
				break
			}
			if !p.IPRangeStart.Is6() || !p.IPRangeEnd.Is6() {
				continue
			}
			s, e := p.IPRangeStart.As16(), p.IPRangeEnd.As16()
			s0, s1 := binary.BigEndian.Uint64(s[:8]), binary.BigEndian.Uint64(s[8:])
			e0, e1 := binary.BigEndian.Uint64(e[:8]), binary.BigEndian.Uint64(e[8:])
			for trial := 0; trial < maxPoolTrials; trial++ {
				var x0, x1 uint64
				if trial == 0 && e1 > s1 && e1-s1 >= 0xffffffffff {
					x0, x1 = s0, s1+uint64(addr)
				} else {
					var rb [16]byte
					if _, err := io.ReadFull(random, rb[:]); err != nil {
						break
					}
					r0, r1 := binary.BigEndian.Uint64(rb[:8]), binary.BigEndian.Uint64(rb[8:])
					if e0 > s0 {
						r0 %= e0 - s0
					} else {
						r0 = 0
					}
					if e1 > s1 {
						r1 %= e1 - s1
					} else {
						r1 = 0
					}
					x0, x1 = s0+r0, s1+r1
				}
				var b [16]byte
				binary.BigEndian.PutUint64(b[:8], x0)
				binary.BigEndian.PutUint64(b[8:], x1)
				ip := netip.AddrFrom16(b)
				bits := 0
				for _, r := range routes {
					if r.Via == nil && r.Target.Addr().Is6() && routeContains(r.Target, ip) {
						bits = r.Target.Bits() // the last matching route wins, as in the reference
					}
				}
				if bits > 0 && !inUse(ip) && !has(ip) {
					claim(ip, bits)
					have6 = true
					break
				}
			}
		}
	}

	if n.V4AssignMode.ZT && !have4 && !m.NoAutoAssignIPs {
		for _, p := range n.IPAssignmentPools {
			if have4 {
				break
			}
			if !p.IPRangeStart.Is4() || !p.IPRangeEnd.Is4() {
				continue
			}
			start, end := v4(p.IPRangeStart), v4(p.IPRangeEnd)
			if end < start || start == 0 {
				continue
			}
			rangeLen := end - start
			counter := uint32(addr)
			for k, trial := uint64(start), 0; k <= uint64(end) && trial < maxPoolTrials; k, trial = k+1, trial+1 {
				ip := start
				if rangeLen > 0 {
					ip = start + counter%rangeLen
				}
				counter++
				if ip&0xff == 0xff {
					continue // never .255
				}
				bits := -1
				for _, r := range routes {
					if !r.Target.Addr().Is4() {
						continue
					}
					tb := r.Target.Bits()
					mask := uint32(0xffffffff) // a /0 behaves as the reference's shift by 32 does on x86
					if tb > 0 {
						mask <<= 32 - tb
					}
					if ip&mask == v4(r.Target.Addr()) {
						bits = tb
						break
					}
				}
				var b [4]byte
				binary.BigEndian.PutUint32(b[:], ip)
				a := netip.AddrFrom4(b)
				if bits > 0 && !inUse(a) && !has(a) {
					claim(a, bits)
					have4 = true
					break
				}
			}
		}
	}
	return as
}

func v4(a netip.Addr) uint32 {
	b := a.As4()
	return binary.BigEndian.Uint32(b[:])
}

// routeContains is the reference's InetAddress::containsAddress: for IPv4
// both sides are masked; for IPv6 the target is compared as given, so a
// target with host bits set contains nothing.
func routeContains(t netip.Prefix, ip netip.Addr) bool {
	if t.Addr().Is4() != ip.Is4() {
		return false
	}
	if ip.Is4() {
		return t.Masked().Contains(ip)
	}
	return t.Masked().Addr() == t.Addr() && t.Contains(ip)
}

// allocatedIPs returns the set of addresses in the ipAssignments of all
// members except the one at skip.
func allocatedIPs(members []*Member, skip identity.Address) map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	for _, m := range members {
		if m.MemberAddress() == skip {
			continue
		}
		for _, s := range m.IPAssignments {
			if ip, ok := parseIP(s); ok {
				out[ip] = true
			}
		}
	}
	return out
}
