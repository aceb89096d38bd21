package identity

import (
	"fmt"
	"strconv"
)

// AddressLength is the size of an address on the wire.
const AddressLength = 5

// ReservedPrefix is the top byte that no address may have; on the wire it
// marks a fragment (its byte 13 is where a packet's source address starts).
const ReservedPrefix = 0xff

// Address is a 40-bit ZeroTier node address, kept in the low bits.
type Address uint64

// AddressMask keeps the 40 bits an address has.
const AddressMask = 0xffffffffff

// AddressFromBytes reads a big-endian address from the first 5 bytes of b.
// The caller makes sure b is long enough.
func AddressFromBytes(b []byte) Address {
	_ = b[4]
	return Address(uint64(b[0])<<32 | uint64(b[1])<<24 | uint64(b[2])<<16 | uint64(b[3])<<8 | uint64(b[4]))
}

// Put writes a as 5 big-endian bytes at the start of b.
func (a Address) Put(b []byte) {
	_ = b[4]
	b[0] = byte(a >> 32)
	b[1] = byte(a >> 24)
	b[2] = byte(a >> 16)
	b[3] = byte(a >> 8)
	b[4] = byte(a)
}

// AppendTo appends a's 5 wire bytes to dst.
func (a Address) AppendTo(dst []byte) []byte {
	return append(dst, byte(a>>32), byte(a>>24), byte(a>>16), byte(a>>8), byte(a))
}

// String is the 10-digit lowercase hex form.
func (a Address) String() string {
	return fmt.Sprintf("%010x", uint64(a)&AddressMask)
}

// IsReserved reports whether a can never be a node's address: zero, or
// with the top byte 0xff.
func (a Address) IsReserved() bool {
	return a == 0 || byte(a>>32) == ReservedPrefix
}

// ParseAddress reads an address of 1 to 10 hex digits. A reserved address
// is an error.
func ParseAddress(s string) (Address, error) {
	if len(s) == 0 || len(s) > 10 {
		return 0, fmt.Errorf("address %q: want 1 to 10 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("address %q: not hex", s)
	}
	a := Address(v)
	if a.IsReserved() {
		return 0, fmt.Errorf("address %s is reserved", a)
	}
	return a, nil
}

// MarshalText makes addresses print as hex in JSON.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText accepts the hex form.
func (a *Address) UnmarshalText(b []byte) error {
	v, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}
