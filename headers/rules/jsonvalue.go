package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// value decodes one member of o: nil if absent or null, else a
// json.Number, string, bool, map or slice.
func (o object) value(key string) (any, error) {
	raw, ok := o[key]
	if !ok {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%q: %w", key, err)
	}
	return v, nil
}

// null reports whether key is absent or null.
func (o object) null(key string) bool {
	v, err := o.value(key)
	return err == nil && v == nil
}

// str reads a string member; numbers become their decimal text and
// booleans "1"/"0", as the reference does.
func (o object) str(key, dflt string) (string, error) {
	v, err := o.value(key)
	if err != nil {
		return "", err
	}
	switch v := v.(type) {
	case nil:
		return dflt, nil
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	}
	return "", fmt.Errorf("%w: %q is not a string", ErrInvalid, key)
}

// boolean reads a boolean member: true, a number > 0, or a string starting
// with '1', 't' or 'T'. Absent or null is false.
func (o object) boolean(key string) (bool, error) {
	v, err := o.value(key)
	if err != nil {
		return false, err
	}
	switch v := v.(type) {
	case nil:
		return false, nil
	case bool:
		return v, nil
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return false, fmt.Errorf("%w: %q: %v", ErrInvalid, key, err)
		}
		return f > 0, nil
	case string:
		return v != "" && (v[0] == '1' || v[0] == 't' || v[0] == 'T'), nil
	}
	return false, fmt.Errorf("%w: %q is not a boolean", ErrInvalid, key)
}

// getter reads typed members and keeps the first error.
type getter struct {
	o   object
	err error
}

func (g *getter) fail(err error) {
	if g.err == nil {
		g.err = err
	}
}

// uint reads an unsigned integer no larger than max: a JSON number, a
// decimal string or a boolean. Absent or null gives dflt.
func (g *getter) uint(key string, dflt, max uint64) uint64 {
	v, err := g.o.value(key)
	if err != nil {
		g.fail(err)
		return 0
	}
	var n uint64
	switch v := v.(type) {
	case nil:
		return dflt
	case bool:
		if v {
			n = 1
		}
	case json.Number:
		n, err = strconv.ParseUint(v.String(), 10, 64)
	case string:
		n, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	default:
		err = fmt.Errorf("not a number")
	}
	if err == nil && n > max {
		err = fmt.Errorf("%d is larger than %d", n, max)
	}
	if err != nil {
		g.fail(fmt.Errorf("%w: %q: %v", ErrInvalid, key, err))
		return 0
	}
	return n
}

// parseHex reads hex digits with an optional 0x prefix.
func parseHex(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return strconv.ParseUint(s, 16, 64)
}

// hex reads a hex string member. A JSON number is read as the hex digits
// of its decimal text, which is what the reference does. Absent is 0.
func (g *getter) hex(key string) uint64 {
	s, err := g.o.str(key, "0")
	if err != nil {
		g.fail(err)
		return 0
	}
	n, err := parseHex(s)
	if err != nil {
		g.fail(fmt.Errorf("%w: %q: %q is not hex", ErrInvalid, key, s))
	}
	return n
}

// numberOrHex reads a JSON number as a number and a string as hex.
// Absent is 0.
func (g *getter) numberOrHex(key string) uint64 {
	v, err := g.o.value(key)
	if err != nil {
		g.fail(err)
		return 0
	}
	if n, ok := v.(json.Number); ok {
		u, err := strconv.ParseUint(n.String(), 10, 64)
		if err != nil {
			g.fail(fmt.Errorf("%w: %q: %v", ErrInvalid, key, err))
		}
		return u
	}
	return g.hex(key)
}

// mac reads a MAC string, ignoring ':' and '-' separators. Absent is zero.
func (g *getter) mac(key string) MAC {
	var m MAC
	s, err := g.o.str(key, "")
	if err != nil {
		g.fail(err)
		return m
	}
	if s == "" {
		return m
	}
	s = strings.NewReplacer(":", "", "-", "").Replace(s)
	if len(s) != 12 {
		g.fail(fmt.Errorf("%w: %q: want 12 hex digits", ErrInvalid, key))
		return m
	}
	for i := range m {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			g.fail(fmt.Errorf("%w: %q: not hex", ErrInvalid, key))
			return MAC{}
		}
		m[i] = byte(v)
	}
	return m
}

// prefix reads "address/bits" (bits optional, 0 if absent; like the
// reference, the low byte of bits, clamped to the address size). Absent is the zero address of the family.
func (g *getter) prefix(key string, v6 bool) (netip.Addr, uint8) {
	dflt, maxBits := "0.0.0.0", 32
	if v6 {
		dflt, maxBits = "::", 128
	}
	s, err := g.o.str(key, dflt)
	if err != nil {
		g.fail(err)
		return netip.Addr{}, 0
	}
	as, bs, hasBits := strings.Cut(s, "/")
	a, err := netip.ParseAddr(as)
	if err == nil && a.Zone() != "" {
		err = fmt.Errorf("zones are not allowed")
	}
	if err == nil {
		if v6 && !a.Is6() || !v6 && !a.Unmap().Is4() {
			err = fmt.Errorf("wrong address family")
		}
	}
	bits := 0
	if err == nil && hasBits {
		var u uint64
		u, err = strconv.ParseUint(bs, 10, 16)
		bits = min(int(u&0xff), maxBits) // the reference keeps the low byte
	}
	if err != nil {
		g.fail(fmt.Errorf("%w: %q: %q: %v", ErrInvalid, key, s, err))
		return netip.Addr{}, 0
	}
	if !v6 {
		a = a.Unmap()
	}
	return a, uint8(bits)
}
