// Package inet reads and writes ZeroTier's InetAddress: a physical (IP and
// port) address as it appears in HELLO, OK(HELLO), world root records and
// the peer cache.
//
//	type  size  layout after the type byte
//	0x00  1     (none: unknown address)
//	0x01  7     6 bytes reserved for Ethernet (skipped)
//	0x02  7     6 bytes reserved for Bluetooth (skipped)
//	0x03  3+n   BE16 length n, then n bytes (skipped)
//	0x04  7     IPv4 address (4, network order), port BE16
//	0x06  19    IPv6 address (16, network order), port BE16
//
// Any other type byte is an error. Writers produce only 0x00, 0x04, 0x06.
// The text form, used by the local API and configuration files, is
// "IP/port".
package inet

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Type bytes.
const (
	TypeNil       = 0x00
	TypeEthernet  = 0x01
	TypeBluetooth = 0x02
	TypeOther     = 0x03
	TypeIPv4      = 0x04
	TypeIPv6      = 0x06
)

// Errors from Parse.
var (
	ErrTruncated = errors.New("inet: address truncated")
	ErrType      = errors.New("inet: unknown address type")
)

// Parse reads one InetAddress from the start of b. Types 0 to 3 yield the
// zero AddrPort (unknown). n is the number of bytes consumed.
func Parse(b []byte) (ap netip.AddrPort, n int, err error) {
	if len(b) < 1 {
		return ap, 0, ErrTruncated
	}
	switch b[0] {
	case TypeNil:
		return ap, 1, nil
	case TypeEthernet, TypeBluetooth:
		if len(b) < 7 {
			return ap, 0, ErrTruncated
		}
		return ap, 7, nil
	case TypeOther:
		if len(b) < 3 {
			return ap, 0, ErrTruncated
		}
		l := 3 + int(binary.BigEndian.Uint16(b[1:3]))
		if len(b) < l {
			return ap, 0, ErrTruncated
		}
		return ap, l, nil
	case TypeIPv4:
		if len(b) < 7 {
			return ap, 0, ErrTruncated
		}
		ip := netip.AddrFrom4([4]byte(b[1:5]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[5:7])), 7, nil
	case TypeIPv6:
		if len(b) < 19 {
			return ap, 0, ErrTruncated
		}
		ip := netip.AddrFrom16([16]byte(b[1:17]))
		return netip.AddrPortFrom(ip, binary.BigEndian.Uint16(b[17:19])), 19, nil
	default:
		return ap, 0, fmt.Errorf("%w 0x%02x", ErrType, b[0])
	}
}

// Append writes ap; the zero (or otherwise invalid) AddrPort is written as
// the single type byte 0x00. The family is written as held: an IPv4-mapped
// IPv6 address stays type 0x06, as the reference writes an AF_INET6 socket
// address, so Parse then Append reproduces the input bytes. Callers holding
// addresses from a dual-stack socket should Unmap them first.
func Append(dst []byte, ap netip.AddrPort) []byte {
	ip := ap.Addr()
	switch {
	case !ap.IsValid():
		return append(dst, TypeNil)
	case ip.Is4():
		a := ip.As4()
		dst = append(dst, TypeIPv4)
		dst = append(dst, a[:]...)
	default:
		a := ip.As16()
		dst = append(dst, TypeIPv6)
		dst = append(dst, a[:]...)
	}
	return binary.BigEndian.AppendUint16(dst, ap.Port())
}

// Len is the number of bytes Append writes for ap.
func Len(ap netip.AddrPort) int {
	switch {
	case !ap.IsValid():
		return 1
	case ap.Addr().Is4():
		return 7
	default:
		return 19
	}
}

// Format is the text form "IP/port" (an IPv6 zone is not shown); the zero
// AddrPort is "".
func Format(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return ""
	}
	ip := ap.Addr().WithZone("")
	return ip.String() + "/" + strconv.Itoa(int(ap.Port()))
}

// ParseText reads the "IP/port" form. A port is required. The address is
// kept as written: "::ffff:1.2.3.4/5" stays an IPv6 (mapped) address.
func ParseText(s string) (netip.AddrPort, error) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return netip.AddrPort{}, fmt.Errorf("inet: %q: want IP/port", s)
	}
	ip, err := netip.ParseAddr(s[:i])
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("inet: %q: %w", s, err)
	}
	port, err := strconv.ParseUint(s[i+1:], 10, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("inet: %q: bad port", s)
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}
