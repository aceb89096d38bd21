package dict

import (
	"math"

	"github.com/ztx/ztx/crypto/identity"
)

// maxNumberLen is how many value bytes the reference's integer getters read
// (a 128-byte buffer holding a C string).
const maxNumberLen = 127

// GetString returns the value of key as text.
func (d *Dictionary) GetString(key string) (string, bool) {
	v, ok := d.Get(key)
	return string(v), ok
}

// Uint reads an unsigned hex value; dfl is returned when key is absent or
// its value is empty.
func (d *Dictionary) Uint(key string, dfl uint64) uint64 {
	v, ok := d.Get(key)
	if !ok || len(v) == 0 {
		return dfl
	}
	u, neg, over := scanHex(v)
	switch {
	case over:
		return math.MaxUint64
	case neg:
		return -u
	}
	return u
}

// Int reads a signed hex value; dfl is returned when key is absent or its
// value is empty.
func (d *Dictionary) Int(key string, dfl int64) int64 {
	v, ok := d.Get(key)
	if !ok || len(v) == 0 {
		return dfl
	}
	u, neg, over := scanHex(v)
	switch {
	case neg && (over || u > 1<<63):
		return math.MinInt64
	case neg:
		return int64(-u)
	case over || u > math.MaxInt64:
		return math.MaxInt64
	}
	return int64(u)
}

// Bool reads a boolean: true if the value starts with '1', 't' or 'T'
// (an empty value is false); dfl is returned when key is absent.
func (d *Dictionary) Bool(key string, dfl bool) bool {
	v, ok := d.Get(key)
	if !ok {
		return dfl
	}
	return len(v) > 0 && (v[0] == '1' || v[0] == 't' || v[0] == 'T')
}

// Address reads a ZeroTier address (a hex value truncated to 40 bits);
// dfl is returned when key is absent or its value is empty.
func (d *Dictionary) Address(key string, dfl identity.Address) identity.Address {
	return identity.Address(d.Uint(key, uint64(dfl)) & identity.AddressMask)
}

// scanHex mimics C strtoull(s, NULL, 16) on the first maxNumberLen bytes of
// v, cut at a NUL: leading white space, an optional sign, an optional "0x",
// then hex digits up to the first other byte. It reports the magnitude,
// the sign, and whether the magnitude overflowed 64 bits.
func scanHex(v []byte) (u uint64, neg, over bool) {
	if len(v) > maxNumberLen {
		v = v[:maxNumberLen]
	}
	i := 0
	for i < len(v) && (v[i] == ' ' || (v[i] >= '\t' && v[i] <= '\r')) {
		i++
	}
	if i < len(v) && (v[i] == '+' || v[i] == '-') {
		neg = v[i] == '-'
		i++
	}
	if i+2 < len(v) && v[i] == '0' && (v[i+1] == 'x' || v[i+1] == 'X') && hexDigit(v[i+2]) >= 0 {
		i += 2
	}
	for ; i < len(v); i++ {
		h := hexDigit(v[i])
		if h < 0 {
			break
		}
		if u>>60 != 0 {
			over = true
		}
		u = u<<4 | uint64(h)
	}
	return u, neg, over
}

func hexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// AppendUint appends u as 16 lowercase hex digits.
func AppendUint(dst []byte, u uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[(u>>uint(shift))&0xf])
	}
	return dst
}

// AppendInt appends i as 16 lowercase hex digits, preceded by '-' (and
// holding the magnitude) when negative.
func AppendInt(dst []byte, i int64) []byte {
	if i < 0 {
		return AppendUint(append(dst, '-'), uint64(-i))
	}
	return AppendUint(dst, uint64(i))
}

// SetString sets key to the text s.
func (d *Dictionary) SetString(key, s string) error { return d.Set(key, []byte(s)) }

// SetUint sets key to u as 16 lowercase hex digits.
func (d *Dictionary) SetUint(key string, u uint64) error {
	return d.Set(key, AppendUint(make([]byte, 0, 16), u))
}

// SetInt sets key to i in the signed hex form.
func (d *Dictionary) SetInt(key string, i int64) error {
	return d.Set(key, AppendInt(make([]byte, 0, 17), i))
}

// SetBool sets key to "1" or "0".
func (d *Dictionary) SetBool(key string, b bool) error {
	if b {
		return d.Set(key, []byte{'1'})
	}
	return d.Set(key, []byte{'0'})
}

// SetAddress sets key to the 10-digit form of a, as the config writer does.
func (d *Dictionary) SetAddress(key string, a identity.Address) error {
	return d.Set(key, []byte(a.String()))
}
