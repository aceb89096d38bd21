package home

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ztx/ztx/internal/refjson"
	"net/netip"
	"strings"
)

// This file reads values out of a decoded local.conf tree with the
// reference's lenient coercions. The tree is what encoding/json produces
// with UseNumber: nil, bool, json.Number, string, []any and map[string]any.
// Only the parser (localconf.go, bond.go) calls these; feature code gets
// typed structs.

// decodeTree parses a whole JSON document into a tree. Syntax errors are
// reported with the line and column of the offending byte.
func decodeTree(name string, b []byte) (any, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off := se.Offset
			if strings.HasPrefix(se.Error(), "unexpected end") {
				off++ // point past the last byte, where more was expected
			}
			line, col := lineCol(b, off)
			return nil, &ConfError{File: name, Line: line, Column: col, Err: err}
		}
		return nil, &ConfError{File: name, Err: err}
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, &ConfError{File: name, Err: err}
	}
	return v, nil
}

// lineCol turns a byte offset (encoding/json's SyntaxError.Offset: the
// number of bytes read when the error was seen) into a 1-based line and
// column of the byte at fault.
func lineCol(b []byte, off int64) (line, col int) {
	if off > int64(len(b))+1 {
		off = int64(len(b)) + 1
	}
	at := int(off) - 1 // the byte that made the scanner fail
	if at < 0 {
		at = 0
	}
	line = 1 + bytes.Count(b[:at], []byte{'\n'})
	col = at - bytes.LastIndexByte(b[:at], '\n')
	return line, col
}

// ConfError is a configuration file that cannot be used at all.
type ConfError struct {
	File   string
	Line   int // 1-based; 0 when the error has no position
	Column int // 1-based, in bytes
	Err    error
}

func (e *ConfError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

func (e *ConfError) Unwrap() error { return e.Err }

// parseInet reads the reference's "IP/number" text form (the number is a
// port or a netmask bit count). It reports whether a slash was present.
// The number is read like strtoul and kept to 16 bits, as the reference
// does; an address that is not a plain IPv4 or IPv6 literal is refused.
func parseInet(s string) (ip netip.Addr, num uint16, slash, ok bool) {
	addr, rest, slash := strings.Cut(s, "/")
	if slash {
		num = uint16(refjson.Strtoull(rest, 10))
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return netip.Addr{}, 0, false, false
	}
	return ip, num, slash, true
}

// parsePrefix reads a CIDR "IP/bits". A bare IP means that one host (the
// reference would read it as /0, matching a whole address family).
func parsePrefix(s string) (netip.Prefix, error) {
	ip, bits, slash, ok := parseInet(s)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	if !slash {
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	if int(bits) > ip.BitLen() {
		return netip.Prefix{}, fmt.Errorf("%q: %d netmask bits for a %d-bit address", s, bits, ip.BitLen())
	}
	return netip.PrefixFrom(ip, int(bits)), nil
}

// contains reports whether p holds ip. The prefix's own host bits are
// ignored and an IPv4-mapped ip counts as IPv4.
func contains(p netip.Prefix, ip netip.Addr) bool {
	ip = ip.Unmap()
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Addr().Is4() == ip.Is4() && p.Masked().Contains(ip)
}
