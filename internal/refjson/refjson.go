// Package refjson reads values out of decoded JSON (encoding/json trees:
// nil, bool, json.Number or float64, string, []any, map[string]any) with
// the lenient coercions of ZeroTier One 1.14.1's configuration code, so
// that local.conf and controller JSON mean to ztx what they mean to the
// reference: numbers cast like C (negative integers wrap), strings read
// like strtoull/strtod, booleans as 1 and 0.
package refjson

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
)

// Object returns v as an object, or nil.
func Object(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// Array returns v as an array, or nil.
func Array(v any) []any {
	a, _ := v.([]any)
	return a
}

// Uint is the reference's integer coercion: numbers convert like a C
// cast to uint64 (negative integers wrap), strings are read like strtoull
// in base 10, booleans are 1 or 0; anything else (absent, null, object,
// array) gives dfl.
func Uint(v any, dfl uint64) uint64 {
	switch x := v.(type) {
	case json.Number:
		return numberUint(x)
	case float64:
		return floatToUint(x)
	case string:
		return Strtoull(x, 10)
	case bool:
		if x {
			return 1
		}
		return 0
	}
	return dfl
}

// Bool is the reference's boolean coercion: a number is true when,
// cast to uint64, it is > 0; a string is true when it starts with t, T or
// 1; null, objects, arrays and absent values give dfl.
func Bool(v any, dfl bool) bool {
	switch x := v.(type) {
	case bool:
		return x
	case json.Number:
		return numberUint(x) > 0
	case float64:
		return floatToUint(x) > 0
	case string:
		return x != "" && (x[0] == 't' || x[0] == 'T' || x[0] == '1')
	}
	return dfl
}

// String is the reference's string coercion: a number prints as its
// uint64 cast in decimal, a boolean as "1" or "0".
func String(v any, dfl string) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return strconv.FormatUint(numberUint(x), 10)
	case float64:
		return strconv.FormatUint(floatToUint(x), 10)
	case bool:
		if x {
			return "1"
		}
		return "0"
	}
	return dfl
}

// Float is the reference's floating-point coercion; strings are read
// like strtod (the longest numeric prefix).
func Float(v any, dfl float64) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case float64:
		return x
	case string:
		return Strtod(x)
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
	if s == "" {
		return 0
	}
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

// Strtoull reads like C's strtoull: leading white space, an optional sign,
// for base 16 an optional 0x, then as many digits as there are. No digits
// gives 0; overflow gives the maximum; a minus sign negates (wraps).
func Strtoull(s string, base uint64) uint64 {
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

// Strtod reads the longest decimal floating-point prefix of s after white
// space (infinity and NaN spellings included), or 0.
func Strtod(s string) float64 {
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
