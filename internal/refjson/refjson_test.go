package refjson

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestCoercions(t *testing.T) {
	n := func(s string) json.Number { return json.Number(s) }
	for _, c := range []struct {
		v    any
		b    bool
		u    uint64
		text string
	}{
		{nil, true, 77, "dfl"},
		{true, true, 1, "1"},
		{false, false, 0, "0"},
		{n("0"), false, 0, "0"},
		{n("9993"), true, 9993, "9993"},
		{n("-1"), true, 1<<64 - 1, "18446744073709551615"},
		{n("2.9"), true, 2, "2"},
		{float64(3), true, 3, "3"},
		{"true", true, 0, "true"},
		{"1x", true, 1, "1x"},
		{" 42abc", false, 42, " 42abc"},
		{"False", false, 0, "False"},
		{[]any{1}, true, 77, "dfl"},
		{map[string]any{}, true, 77, "dfl"},
	} {
		if got := Bool(c.v, true); got != c.b {
			t.Errorf("Bool(%#v) = %v", c.v, got)
		}
		if got := Uint(c.v, 77); got != c.u {
			t.Errorf("Uint(%#v) = %d", c.v, got)
		}
		if got := String(c.v, "dfl"); got != c.text {
			t.Errorf("String(%#v) = %q", c.v, got)
		}
	}
}

// FuzzStrings: the strtoull/strtod readers never panic and agree with
// strconv on plain decimal input.
func FuzzStrings(f *testing.F) {
	for _, s := range []string{"9993", " -1", "0x1f", "1e309", "nan", "18446744073709551616", "+7abc", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = Strtod(s)
		for _, base := range []uint64{10, 16} {
			_ = Strtoull(s, base)
		}
		if u, err := strconv.ParseUint(s, 10, 64); err == nil && Strtoull(s, 10) != u {
			t.Fatalf("Strtoull(%q) = %d, strconv says %d", s, Strtoull(s, 10), u)
		}
		String(json.Number(s), "")
	})
}
