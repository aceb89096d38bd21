package cred

import "fmt"

// Limits on what one network config carries (PROTOCOL.md part 2 §4).
const (
	MaxConfigCapabilities = 128
	MaxConfigTags         = 128
	MaxConfigCOOs         = 4 // readers keep the first 4
)

// The network config dictionary stores capabilities (key CAP), tags (TAG)
// and certificates of ownership (COO) back to back with no count.

// ParseCapabilities reads a CAP blob. On error it returns the
// capabilities before the bad one with the error (the reference keeps
// those and ignores the rest).
func ParseCapabilities(b []byte) ([]Capability, error) {
	return parseAll(b, "capability", ParseCapability)
}

// ParseTags reads a TAG blob. On error it returns the tags before the bad
// one with the error (the reference keeps those and ignores the rest).
func ParseTags(b []byte) ([]Tag, error) { return parseAll(b, "tag", ParseTag) }

// ParseCOOs reads a COO blob. On error it returns the certificates before
// the bad one with the error (the reference refuses the whole config).
func ParseCOOs(b []byte) ([]COO, error) { return parseAll(b, "COO", ParseCOO) }

func parseAll[T any](b []byte, kind string, parse func([]byte) (T, int, error)) ([]T, error) {
	var out []T
	for p := 0; p < len(b); {
		v, n, err := parse(b[p:])
		if err != nil {
			return out, fmt.Errorf("%s %d at offset %d: %w", kind, len(out), p, err)
		}
		out = append(out, v)
		p += n
	}
	return out, nil
}

// AppendCapabilities appends a CAP blob.
func AppendCapabilities(dst []byte, cs []Capability) []byte {
	for i := range cs {
		dst = cs[i].AppendMarshal(dst)
	}
	return dst
}

// AppendTags appends a TAG blob.
func AppendTags(dst []byte, ts []Tag) []byte {
	for i := range ts {
		dst = ts[i].AppendMarshal(dst)
	}
	return dst
}

// AppendCOOs appends a COO blob.
func AppendCOOs(dst []byte, cs []COO) []byte {
	for i := range cs {
		dst = cs[i].AppendMarshal(dst)
	}
	return dst
}
