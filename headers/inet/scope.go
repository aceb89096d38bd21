package inet

import "net/netip"

// Scope is the reach of an IP address, as ZeroTier ranks it when choosing
// paths (higher values are preferred: a private LAN path beats a global one).
type Scope int

// Scopes, with the reference's numbering.
const (
	ScopeNone          Scope = 0
	ScopeMulticast     Scope = 1
	ScopeLoopback      Scope = 2
	ScopePseudoPrivate Scope = 3 // well-known military/agency /8s often used as private space
	ScopeGlobal        Scope = 4
	ScopeLinkLocal     Scope = 5
	ScopeShared        Scope = 6
	ScopePrivate       Scope = 7
)

func (s Scope) String() string {
	return [...]string{"none", "multicast", "loopback", "pseudoprivate", "global", "linklocal", "shared", "private"}[s]
}

// pseudoPrivate8 are the IPv4 /8s the reference treats as pseudo-private.
var pseudoPrivate8 = [256]bool{6: true, 11: true, 21: true, 22: true, 25: true, 26: true, 28: true, 29: true, 30: true, 51: true, 55: true, 56: true}

// ScopeOf classifies ip as the reference does.
func ScopeOf(ip netip.Addr) Scope {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
		switch {
		case a[0] == 0 || a[0] == 0xff:
			return ScopeNone
		case pseudoPrivate8[a[0]]:
			return ScopePseudoPrivate
		case a[0] == 10, v&0xffc00000 == 0x64400000, v&0xfff00000 == 0xac100000,
			v&0xffff0000 == 0xc0a80000, v&0xffffff00 == 0xc0000200, v&0xfffe0000 == 0xc6120000,
			v&0xffffff00 == 0xc6336400, v&0xffffff00 == 0xcb007100:
			return ScopePrivate
		case a[0] == 127:
			return ScopeLoopback
		case v&0xffff0000 == 0xa9fe0000:
			return ScopeLinkLocal
		case a[0]>>4 == 0xe:
			return ScopeMulticast
		case a[0]>>4 == 0xf:
			return ScopePseudoPrivate
		}
		return ScopeGlobal
	}
	if !ip.Is6() {
		return ScopeNone
	}
	b := ip.As16()
	switch {
	case b[0] == 0xff:
		return ScopeMulticast
	case b[0] == 0xfe && b[1]&0xc0 == 0x80:
		if ip == netip.MustParseAddr("fe80::1") {
			return ScopeLoopback
		}
		return ScopeLinkLocal
	case b[0]&0xfe == 0xfc:
		return ScopePrivate
	case ip == netip.IPv6Loopback():
		return ScopeLoopback
	case ip == netip.IPv6Unspecified():
		return ScopeNone
	}
	return ScopeGlobal
}
