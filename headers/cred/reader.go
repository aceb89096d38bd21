package cred

import (
	"encoding/binary"
	"fmt"

	"github.com/ztx/ztx/crypto/identity"
)

var be = binary.BigEndian

// reader is a bounds-checked cursor over a byte slice. After the first
// error every read returns zero and the error sticks.
type reader struct {
	b   []byte
	p   int
	err error
}

// take returns the next n bytes (aliasing b), or nil after an error.
func (r *reader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b)-r.p < n {
		r.err = fmt.Errorf("%w: %s at offset %d needs %d bytes, have %d", ErrTruncated, field, r.p, n, len(r.b)-r.p)
		return nil
	}
	v := r.b[r.p : r.p+n]
	r.p += n
	return v
}

func (r *reader) u8(field string) uint8 {
	if v := r.take(1, field); v != nil {
		return v[0]
	}
	return 0
}

func (r *reader) u16(field string) uint16 {
	if v := r.take(2, field); v != nil {
		return be.Uint16(v)
	}
	return 0
}

func (r *reader) u32(field string) uint32 {
	if v := r.take(4, field); v != nil {
		return be.Uint32(v)
	}
	return 0
}

func (r *reader) u64(field string) uint64 {
	if v := r.take(8, field); v != nil {
		return be.Uint64(v)
	}
	return 0
}

func (r *reader) addr(field string) identity.Address {
	if v := r.take(identity.AddressLength, field); v != nil {
		return identity.AddressFromBytes(v)
	}
	return 0
}

// copyOf returns a copy of the next n bytes, nil if n is 0.
func (r *reader) copyOf(n int, field string) []byte {
	v := r.take(n, field)
	if len(v) == 0 {
		return nil
	}
	return append([]byte(nil), v...)
}

// fail records a format error (not a truncation) if none is recorded yet.
func (r *reader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, a...)...)
	}
}

// extra reads the trailing "additional fields" block: a 2-byte length and
// that many bytes (0 from every 1.14.1 writer).
func (r *reader) extra() []byte {
	n := r.u16("extra-fields length")
	return r.copyOf(int(n), "extra fields")
}

// appendExtra writes the extra-fields block (clipped to 65535 bytes).
func appendExtra(dst, extra []byte) []byte {
	extra = extra[:min(len(extra), 0xffff)]
	dst = be.AppendUint16(dst, uint16(len(extra)))
	return append(dst, extra...)
}
