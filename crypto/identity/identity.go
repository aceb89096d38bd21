// Package identity implements ZeroTier node identities: a C25519 key pair
// bundle and the 40-bit address that a memory-hard hash derives from its
// public key.
//
// Binary form (HELLO, OK(WHOIS), world root records):
//
//	offset size field
//	0      5    address, big-endian
//	5      1    type, always 0 (C25519)
//	6      64   public key: X25519 (32) | Ed25519 (32)
//	70     1    private key length: 0 or 64
//	71     0/64 private key: X25519 scalar (32) | Ed25519 seed (32)
//
// String form: "address:0:public-hex[:private-hex]", lowercase hex, as in
// the files identity.public and identity.secret.
package identity

import (
	"bytes"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/ztx/ztx/crypto/c25519"
)

// Sizes of the binary form.
const (
	TypeC25519          = 0
	PublicBinaryLength  = AddressLength + 1 + c25519.PublicKeySize + 1 // 71
	PrivateBinaryLength = PublicBinaryLength + c25519.PrivateKeySize   // 135
)

// Identity is a node's address and keys. Private is nil for identities
// learned from others.
type Identity struct {
	Address Address
	Public  [64]byte
	Private *[64]byte
}

// Errors from parsing.
var (
	ErrType      = errors.New("identity: type is not 0 (C25519)")
	ErrTruncated = errors.New("identity: truncated")
)

// HasPrivate reports whether the identity holds its private key.
func (id *Identity) HasPrivate() bool { return id.Private != nil }

// Public returns a copy without the private key.
func (id *Identity) PublicOnly() *Identity {
	return &Identity{Address: id.Address, Public: id.Public}
}

// Equal reports whether two identities have the same address and public key.
func (id *Identity) Equal(o *Identity) bool {
	return id.Address == o.Address && id.Public == o.Public
}

// String returns the public string form.
func (id *Identity) String() string {
	return fmt.Sprintf("%s:0:%x", id.Address, id.Public[:])
}

// SecretString returns the string form with the private key, or the public
// form if there is none.
func (id *Identity) SecretString() string {
	if id.Private == nil {
		return id.String()
	}
	return fmt.Sprintf("%s:0:%x:%x", id.Address, id.Public[:], id.Private[:])
}

// Parse reads the string form. It checks the syntax only; LocallyValidate
// checks that the address belongs to the key. Like the reference, it skips
// empty fields (so "a:0:pub:" parses) and ignores hex digits beyond a key's
// length, and refuses strings of 384 bytes or more.
func Parse(s string) (*Identity, error) {
	s = strings.TrimSpace(s)
	if len(s) >= maxStringLength {
		return nil, fmt.Errorf("identity: string of %d bytes is too long", len(s))
	}
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ':' })
	if len(f) < 3 || len(f) > 4 {
		return nil, fmt.Errorf("identity: want 3 or 4 colon-separated fields, got %d", len(f))
	}
	a, err := ParseAddress(f[0])
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if f[1] != "0" {
		return nil, ErrType
	}
	id := &Identity{Address: a}
	if err := decodeKey(id.Public[:], f[2], "public"); err != nil {
		return nil, err
	}
	if len(f) == 4 {
		id.Private = new([64]byte)
		if err := decodeKey(id.Private[:], f[3], "private"); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// maxStringLength is the reference's identity string buffer size.
const maxStringLength = 384

// decodeKey reads the first 2*len(dst) hex digits of s; further hex digits
// are ignored, as the reference does.
func decodeKey(dst []byte, s, which string) error {
	if len(s) < 2*len(dst) {
		return fmt.Errorf("identity: %s key: want %d hex digits, got %d", which, 2*len(dst), len(s))
	}
	n := 2 * len(dst)
	if _, err := hex.Decode(dst, []byte(s[:n])); err != nil {
		return fmt.Errorf("identity: %s key: %w", which, err)
	}
	for _, c := range s[n:] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return fmt.Errorf("identity: %s key: %q is not hex", which, c)
		}
	}
	return nil
}

// ParseBinary reads the binary form from the start of b and returns the
// number of bytes it took.
func ParseBinary(b []byte) (*Identity, int, error) {
	if len(b) < PublicBinaryLength {
		return nil, 0, ErrTruncated
	}
	// Like the reference, the binary form does not check the address:
	// LocallyValidate rejects a reserved one.
	id := &Identity{Address: AddressFromBytes(b)}
	if b[5] != TypeC25519 {
		return nil, 0, ErrType
	}
	copy(id.Public[:], b[6:70])
	switch b[70] {
	case 0:
		return id, PublicBinaryLength, nil
	case c25519.PrivateKeySize:
		if len(b) < PrivateBinaryLength {
			return nil, 0, ErrTruncated
		}
		id.Private = new([64]byte)
		copy(id.Private[:], b[71:135])
		return id, PrivateBinaryLength, nil
	default:
		return nil, 0, fmt.Errorf("identity: private key length %d is neither 0 nor 64", b[70])
	}
}

// AppendBinary appends the binary form; the private key only if asked and held.
func (id *Identity) AppendBinary(dst []byte, withPrivate bool) []byte {
	dst = id.Address.AppendTo(dst)
	dst = append(dst, TypeC25519)
	dst = append(dst, id.Public[:]...)
	if withPrivate && id.Private != nil {
		dst = append(dst, c25519.PrivateKeySize)
		return append(dst, id.Private[:]...)
	}
	return append(dst, 0)
}

// LocallyValidate runs the memory-hard hash and reports whether the
// address belongs to the public key, and, when the private key is held,
// whether it matches the public key.
func (id *Identity) LocallyValidate() bool {
	if id.Address.IsReserved() {
		return false
	}
	if id.Private != nil {
		pub := c25519.PublicFromPrivate(id.Private)
		if subtle.ConstantTimeCompare(pub[:], id.Public[:]) != 1 {
			return false
		}
	}
	d := memoryHardHash(&id.Public)
	a, ok := hashAccepts(&d)
	return ok && a == id.Address
}

// ErrNoPrivateKey is returned by operations that need the private key.
var ErrNoPrivateKey = errors.New("identity: no private key")

// Sign returns the 96-byte signature of msg.
func (id *Identity) Sign(msg []byte) ([96]byte, error) {
	if id.Private == nil {
		return [96]byte{}, ErrNoPrivateKey
	}
	return c25519.Sign(id.Private, msg), nil
}

// Verify reports whether sig is this identity's signature of msg.
func (id *Identity) Verify(msg, sig []byte) bool {
	return c25519.Verify(&id.Public, msg, sig)
}

// Agree computes the 48-byte symmetric key shared with peer.
func (id *Identity) Agree(peer *Identity) ([48]byte, error) {
	var k [48]byte
	if id.Private == nil {
		return k, ErrNoPrivateKey
	}
	full, err := c25519.Agree(id.Private, &peer.Public)
	if err != nil {
		return k, err
	}
	copy(k[:], full[:48])
	return k, nil
}

// ParseFile reads an identity file's contents (string form, surrounding
// white space allowed).
func ParseFile(b []byte) (*Identity, error) {
	return Parse(string(bytes.TrimSpace(b)))
}
