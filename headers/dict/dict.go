package dict

import (
	"errors"
	"fmt"
)

// Reference capacities (buffer size including the terminating NUL).
const (
	// NetworkConfigCapacity is ZT_NETWORKCONFIG_DICT_CAPACITY as computed
	// for ZeroTier One 1.14.1 on x86-64 Linux.
	NetworkConfigCapacity = 484520
	// RequestMetadataCapacity is ZT_NETWORKCONFIG_METADATA_DICT_CAPACITY.
	RequestMetadataCapacity = 1024
	// AuthInfoCapacity is the auth-info dictionary size in
	// ERROR(NETWORK_AUTHENTICATION_REQUIRED).
	AuthInfoCapacity = 8192
)

// Errors.
var (
	ErrTooLarge = errors.New("dict: dictionary exceeds its capacity")
	ErrKey      = errors.New("dict: key contains NUL, CR, LF or '='")
)

// Entry is one key=value pair; Value is unescaped.
type Entry struct {
	Key   string
	Value []byte
}

// Dictionary is an ordered list of entries with an optional capacity.
// The zero value is an empty dictionary without a capacity limit.
type Dictionary struct {
	entries  []Entry
	capacity int // reference buffer size incl. NUL; 0 = unlimited
	size     int // serialized length without NUL
}

// New returns an empty dictionary whose serialized form must stay strictly
// shorter than capacity bytes (room for the reference's terminating NUL).
// A capacity of 0 means unlimited.
func New(capacity int) *Dictionary {
	return &Dictionary{capacity: max(capacity, 0)}
}

// Parse reads a dictionary without a capacity limit. It never fails; the
// error result is for symmetry with ParseLimit.
func Parse(b []byte) (*Dictionary, error) {
	return ParseLimit(b, 0)
}

// ParseLimit reads a dictionary that must fit a reference buffer of
// capacity bytes: the data up to the first NUL must be shorter than
// capacity (0 = unlimited). The capacity stays attached to the result and
// applies to later Add and Set calls.
func ParseLimit(b []byte, capacity int) (*Dictionary, error) {
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if capacity > 0 && len(b) >= capacity {
		return nil, fmt.Errorf("%w: %d bytes, capacity %d", ErrTooLarge, len(b), capacity)
	}
	d := New(capacity)
	for len(b) > 0 {
		end := 0
		for end < len(b) && b[end] != '\n' && b[end] != '\r' {
			end++
		}
		line := b[:end]
		if end < len(b) {
			end++
		}
		b = b[end:]
		for i, c := range line {
			if c == '=' {
				d.append(string(line[:i]), unescape(line[i+1:]))
				break
			}
		}
	}
	return d, nil
}

// unescape decodes one value (a line without its CR/LF).
func unescape(v []byte) []byte {
	out := make([]byte, 0, len(v))
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' {
			i++
			if i == len(v) {
				break
			}
			switch c = v[i]; c {
			case '0':
				c = 0
			case 'r':
				c = '\r'
			case 'n':
				c = '\n'
			case 'e':
				c = '='
			}
		}
		out = append(out, c)
	}
	return out
}

// escapedLen is the number of bytes appendEscaped writes for v.
func escapedLen(v []byte) int {
	n := len(v)
	for _, c := range v {
		switch c {
		case 0, '\r', '\n', '\\', '=':
			n++
		}
	}
	return n
}

func appendEscaped(dst, v []byte) []byte {
	for _, c := range v {
		switch c {
		case 0:
			dst = append(dst, '\\', '0')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '=':
			dst = append(dst, '\\', 'e')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// entryLen is the serialized length of an entry including the LF that
// separates it from a previous one (when it is not the first).
func entryLen(key string, value []byte, first bool) int {
	n := len(key) + 1 + escapedLen(value)
	if !first {
		n++
	}
	return n
}

func (d *Dictionary) append(key string, value []byte) {
	d.size += entryLen(key, value, len(d.entries) == 0)
	d.entries = append(d.entries, Entry{Key: key, Value: value})
}

func (d *Dictionary) fits(size int) error {
	if d.capacity > 0 && size >= d.capacity {
		return fmt.Errorf("%w: %d bytes, capacity %d", ErrTooLarge, size, d.capacity)
	}
	return nil
}

func checkKey(key string) error {
	for i := 0; i < len(key); i++ {
		switch key[i] {
		case 0, '\r', '\n', '=':
			return fmt.Errorf("%w: %q", ErrKey, key)
		}
	}
	return nil
}

// Capacity is the reference buffer size this dictionary must fit (0 = unlimited).
func (d *Dictionary) Capacity() int { return d.capacity }

// Size is the length of the serialized form (without a terminating NUL).
func (d *Dictionary) Size() int { return d.size }

// Len is the number of entries.
func (d *Dictionary) Len() int { return len(d.entries) }

// Entries returns the entries in order. The slice is the dictionary's own;
// do not modify it.
func (d *Dictionary) Entries() []Entry { return d.entries }

// AppendMarshal appends the serialized dictionary (no trailing LF, no NUL).
// Its length is Size(). Capacity is enforced when entries are added, so the
// result of a dictionary built with Add and Set always fits; one read by
// ParseLimit can grow by re-escaping raw '=' bytes in values.
func (d *Dictionary) AppendMarshal(dst []byte) []byte {
	for i, e := range d.entries {
		if i > 0 {
			dst = append(dst, '\n')
		}
		dst = append(dst, e.Key...)
		dst = append(dst, '=')
		dst = appendEscaped(dst, e.Value)
	}
	return dst
}

// String is the serialized dictionary.
func (d *Dictionary) String() string { return string(d.AppendMarshal(nil)) }

// Get returns the value of the first entry with key.
func (d *Dictionary) Get(key string) ([]byte, bool) {
	for _, e := range d.entries {
		if e.Key == key {
			return e.Value, true
		}
	}
	return nil, false
}

// Has reports whether some entry has key.
func (d *Dictionary) Has(key string) bool {
	_, ok := d.Get(key)
	return ok
}

// Add appends an entry even if key is already present (the earlier entry
// keeps winning lookups), as the reference writer does. It fails if key is
// not a valid key or the dictionary would no longer fit its capacity.
func (d *Dictionary) Add(key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := d.fits(d.size + entryLen(key, value, len(d.entries) == 0)); err != nil {
		return fmt.Errorf("dict: add %q: %w", key, err)
	}
	d.append(key, append([]byte(nil), value...))
	return nil
}

// Set replaces the value of the first entry with key in place, removing any
// later entries with the same key, or appends a new entry. On error the
// dictionary is unchanged.
func (d *Dictionary) Set(key string, value []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	value = append([]byte(nil), value...)
	kept := make([]Entry, 0, len(d.entries)+1)
	found := false
	for _, e := range d.entries {
		if e.Key == key {
			if found {
				continue
			}
			found = true
			e.Value = value
		}
		kept = append(kept, e)
	}
	if !found {
		kept = append(kept, Entry{Key: key, Value: value})
	}
	size := sizeOf(kept)
	if err := d.fits(size); err != nil {
		return fmt.Errorf("dict: set %q: %w", key, err)
	}
	d.entries, d.size = kept, size
	return nil
}

// Delete removes every entry with key.
func (d *Dictionary) Delete(key string) {
	kept := d.entries[:0]
	for _, e := range d.entries {
		if e.Key != key {
			kept = append(kept, e)
		}
	}
	clear(d.entries[len(kept):])
	d.entries = kept
	d.size = sizeOf(kept)
}

func sizeOf(entries []Entry) int {
	n := 0
	for i, e := range entries {
		n += entryLen(e.Key, e.Value, i == 0)
	}
	return n
}
