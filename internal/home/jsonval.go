package home

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
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

// object returns v as an object, or nil.
func object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// array returns v as an array, or nil.
func array(v any) []any {
	a, _ := v.([]any)
	return a
}

// jsonUint is the reference's integer coercion: numbers convert like a C
// cast to uint64 (negative integers wrap), strings are read like strtoull
// in base 10, booleans are 1 or 0; anything else (absent, null, object,
// array) gives dfl.
func jsonUint(v any, dfl uint64) uint64 {
	switch x := v.(type) {
	case json.Number:
		return numberUint(x)
	case string:
		return strtoull(x, 10)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return dfl
}

// jsonBool is the reference's boolean coercion: a number is true when,
// cast to uint64, it is > 0; a string is true when it starts with t, T or
// 1; null, objects, arrays and absent values give dfl.
func jsonBool(v any, dfl bool) bool {
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		return numberUint(x) > 0
	case string:
		return x != "" && (x[0] == 't' || x[0] == 'T' || x[0] == '1')
	}
	return dfl
}

// jsonString is the reference's string coercion: a number prints as its
// uint64 cast in decimal, a boolean as "1" or "0".
func jsonString(v any, dfl string) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return strconv.FormatUint(numberUint(x), 10)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return dfl
}

// jsonFloat is the reference's floating-point coercion; strings are read
// like strtod (the longest numeric prefix).
func jsonFloat(v any, dfl float64) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case string:
		return strtod(x)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return dfl
}

// numberUint converts a JSON number the way the reference's JSON library
// stores it (unsigned if it fits, else signed, else double) and then casts
// it to uint64 as x86-64 code does.
func numberUint(n json.Number) uint64 {
	s := string(n)
	if !strings.ContainsAny(s, ".eE") {
		if u, err := strconv.ParseUint(s, 10, 64); err == nil {
			return u
		}
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return uint64(i)
		}
	}
	f, _ := strconv.ParseFloat(s, 64)
	return floatToUint(f)
}

func floatToUint(f float64) uint64 {
	switch {
	case math.IsNaN(f), f >= 1<<64, f <= -(1 << 63):
		return 1 << 63 // the x86 "integer indefinite" value
	case f >= 0:
		return uint64(f)
	default:
		return uint64(int64(f))
	}
}

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// strtoull reads like C's strtoull: leading white space, an optional sign,
// for base 16 an optional 0x, then as many digits as there are. No digits
// gives 0; overflow gives the maximum; a minus sign negates (wraps).
func strtoull(s string, base uint64) uint64 {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if base == 16 && i+2 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && hexDigit(s[i+2]) >= 0 {
		i += 2
	}
	var v uint64
	over := false
	for ; i < len(s); i++ {
		d := digitValue(s[i])
		if d < 0 || uint64(d) >= base {
			break
		}
		if v > (math.MaxUint64-uint64(d))/base {
			over = true
		}
		v = v*base + uint64(d)
	}
	if over {
		return math.MaxUint64
	}
	if neg {
		return -v
	}
	return v
}

func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return -1
}

func hexDigit(c byte) int {
	if d := digitValue(c); d >= 0 && d < 16 {
		return d
	}
	return -1
}

// strtod reads the longest decimal floating-point prefix of s after white
// space (infinity and NaN spellings included), or 0.
func strtod(s string) float64 {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	s = s[i:]
	// The candidates are short; try every prefix from the longest down.
	end := len(s)
	if end > 64 {
		end = 64
	}
	for n := end; n > 0; n-- {
		p := s[:n]
		if strings.ContainsAny(p, "_xXpP") { // Go-only syntax
			continue
		}
		if f, err := strconv.ParseFloat(p, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			return f
		}
	}
	return 0
}

// parseInet reads the reference's "IP/number" text form (the number is a
// port or a netmask bit count). It reports whether a slash was present.
// The number is read like strtoul and kept to 16 bits, as the reference
// does; an address that is not a plain IPv4 or IPv6 literal is refused.
func parseInet(s string) (ip netip.Addr, num uint16, slash, ok bool) {
	addr, rest, slash := strings.Cut(s, "/")
	if slash {
		num = uint16(strtoull(rest, 10))
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
