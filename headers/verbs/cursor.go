package verbs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// Errors returned (wrapped) by the parsers.
var (
	// ErrTruncated means the payload ended inside a field.
	ErrTruncated = errors.New("payload truncated")
	// ErrInvalid means a field holds a value the protocol does not allow.
	ErrInvalid = errors.New("invalid field")
)

// cursor reads big-endian fields from a payload. The first failure is sticky: later reads
// return zero values and err keeps the first error. Slices returned alias the payload.
type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) fail(err error) {
	if c.err == nil {
		c.err = err
	}
}

func (c *cursor) remaining() int { return len(c.b) - c.off }

// take returns the next n bytes, or nil after recording ErrTruncated.
func (c *cursor) take(n int, field string) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || c.remaining() < n {
		c.err = fmt.Errorf("%w: %s needs %d bytes at payload offset %d, %d left",
			ErrTruncated, field, n, c.off, max(c.remaining(), 0))
		return nil
	}
	s := c.b[c.off : c.off+n : c.off+n]
	c.off += n
	return s
}

func (c *cursor) u8(field string) byte {
	if s := c.take(1, field); s != nil {
		return s[0]
	}
	return 0
}

func (c *cursor) u16(field string) uint16 {
	if s := c.take(2, field); s != nil {
		return binary.BigEndian.Uint16(s)
	}
	return 0
}

func (c *cursor) u32(field string) uint32 {
	if s := c.take(4, field); s != nil {
		return binary.BigEndian.Uint32(s)
	}
	return 0
}

func (c *cursor) u64(field string) uint64 {
	if s := c.take(8, field); s != nil {
		return binary.BigEndian.Uint64(s)
	}
	return 0
}

func (c *cursor) address(field string) identity.Address {
	if s := c.take(identity.AddressLength, field); s != nil {
		return identity.AddressFromBytes(s)
	}
	return 0
}

// identity reads one binary identity (public, or with a 64-byte private part).
func (c *cursor) identity(field string) *identity.Identity {
	if c.err != nil {
		return nil
	}
	id, n, err := identity.ParseBinary(c.b[c.off:])
	if err != nil {
		c.err = fmt.Errorf("%s at payload offset %d: %w", field, c.off, err)
		return nil
	}
	if n <= 0 || n > c.remaining() {
		c.err = fmt.Errorf("%w: %s at payload offset %d: bad length %d", ErrInvalid, field, c.off, n)
		return nil
	}
	c.off += n
	return id
}

// inetAddress reads one InetAddress (PROTOCOL.md part 1 §7).
func (c *cursor) inetAddress(field string) netip.AddrPort {
	if c.err != nil {
		return netip.AddrPort{}
	}
	ap, n, err := inet.Parse(c.b[c.off:])
	if err != nil {
		c.err = fmt.Errorf("%s at payload offset %d: %w", field, c.off, err)
		return netip.AddrPort{}
	}
	if n <= 0 || n > c.remaining() {
		c.err = fmt.Errorf("%w: %s at payload offset %d: bad length %d", ErrInvalid, field, c.off, n)
		return netip.AddrPort{}
	}
	c.off += n
	return ap
}

// rest returns all unread bytes (nil if none) and consumes them.
func (c *cursor) rest() []byte {
	if c.err != nil || c.remaining() <= 0 {
		return nil
	}
	s := c.b[c.off:len(c.b):len(c.b)]
	c.off = len(c.b)
	return s
}

// done wraps the sticky error with the verb name.
func (c *cursor) done(what string) error {
	if c.err != nil {
		return fmt.Errorf("verbs: %s: %w", what, c.err)
	}
	return nil
}

func appendU16(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }
func appendU32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }
func appendU64(dst []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(dst, v) }

// appendLen16 writes len(b) as BE16 followed by b; longer slices are cut to 65535 bytes so
// the length always matches the data written.
func appendLen16(dst, b []byte) []byte {
	if len(b) > 0xffff {
		b = b[:0xffff]
	}
	dst = appendU16(dst, uint16(len(b)))
	return append(dst, b...)
}

// finish returns v, or T's zero value and the wrapped error if the cursor failed.
func finish[T any](v T, c *cursor, what string) (T, error) {
	if err := c.done(what); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}
