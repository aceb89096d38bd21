// Package world reads, writes, signs and verifies ZeroTier worlds: the
// planet (the set of root servers every node starts from) and moons
// (user-defined root sets a node orbits).
//
// Binary form, offsets in bytes:
//
//	0    1    type: 0 null, 1 planet, 127 moon
//	1    8    world ID, big-endian
//	9    8    timestamp (ms), big-endian; higher replaces lower
//	17   64   updates-must-be-signed-by: C25519 public key for the next revision
//	81   96   signature (C25519, 96-byte form) by the previous revision's key
//	177  1    root count R (at most 4)
//	178  ...  R root records:
//	            71    public identity (binary form)
//	            1     stable endpoint count E (at most 32)
//	            ...   E InetAddresses
//	...  2    moons only: length D of an attached dictionary, then D bytes
//	          (writers emit D = 0, readers skip it)
//
// The signed message is the same serialization without the signature,
// wrapped in 8 bytes of 0x7f before and 8 bytes of 0xf7 after, with the
// moon dictionary length always 0.
package world

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/ztx/ztx/crypto/c25519"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// Type is the kind of world.
type Type byte

// World types.
const (
	TypeNull   Type = 0
	TypePlanet Type = 1
	TypeMoon   Type = 127
)

func (t Type) String() string {
	switch t {
	case TypeNull:
		return "null"
	case TypePlanet:
		return "planet"
	case TypeMoon:
		return "moon"
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

// Limits of the format.
const (
	MaxRoots            = 4
	MaxStableEndpoints  = 32
	MaxSerializedLength = (1024+32*32)*4 + 64 + 96 + 128 // 8480
	headerLength        = 178
)

// Well-known world IDs.
const (
	IDEarth uint64 = 149604618 // the default planet
	IDMars  uint64 = 227883110 // defined by the reference, never used
)

// Root is one root server: its identity and the addresses it is reachable at.
type Root struct {
	Identity        *identity.Identity
	StableEndpoints []netip.AddrPort
}

// World is a planet or a moon.
type World struct {
	Type                  Type
	ID                    uint64
	Timestamp             uint64
	UpdatesMustBeSignedBy [64]byte
	Signature             [96]byte
	Roots                 []Root
	// Dictionary is a moon's attached dictionary, kept only so that a
	// parsed file re-marshals byte for byte; it is not signed.
	Dictionary []byte
}

// Errors from parsing.
var (
	ErrTruncated = errors.New("world: truncated")
	ErrType      = errors.New("world: unknown world type")
)

// Parse reads a world that fills b exactly.
func Parse(b []byte) (*World, error) {
	w, n, err := ParseN(b)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("world: %d bytes after the world", len(b)-n)
	}
	return w, nil
}

// ParseN reads a world from the start of b and returns how many bytes it
// took (worlds travel back to back in OK(HELLO)).
func ParseN(b []byte) (*World, int, error) {
	if len(b) < headerLength {
		return nil, 0, ErrTruncated
	}
	w := &World{Type: Type(b[0])}
	switch w.Type {
	case TypeNull, TypePlanet, TypeMoon:
	default:
		return nil, 0, fmt.Errorf("%w %d", ErrType, b[0])
	}
	w.ID = binary.BigEndian.Uint64(b[1:9])
	w.Timestamp = binary.BigEndian.Uint64(b[9:17])
	copy(w.UpdatesMustBeSignedBy[:], b[17:81])
	copy(w.Signature[:], b[81:177])
	nroots := int(b[177])
	if nroots > MaxRoots {
		return nil, 0, fmt.Errorf("world: %d roots (at most %d)", nroots, MaxRoots)
	}
	p := headerLength
	for i := range nroots {
		id, n, err := identity.ParseBinary(b[p:])
		if err != nil {
			return nil, 0, fmt.Errorf("world: root %d: %w", i, err)
		}
		if id.HasPrivate() {
			return nil, 0, fmt.Errorf("world: root %d carries a private key", i)
		}
		p += n
		if p >= len(b) {
			return nil, 0, ErrTruncated
		}
		neps := int(b[p])
		p++
		if neps > MaxStableEndpoints {
			return nil, 0, fmt.Errorf("world: root %s has %d endpoints (at most %d)", id.Address, neps, MaxStableEndpoints)
		}
		r := Root{Identity: id}
		for range neps {
			ap, n, err := inet.Parse(b[p:])
			if err != nil {
				return nil, 0, fmt.Errorf("world: root %s endpoint: %w", id.Address, err)
			}
			p += n
			r.StableEndpoints = append(r.StableEndpoints, ap)
		}
		w.Roots = append(w.Roots, r)
	}
	if w.Type == TypeMoon {
		if p+2 > len(b) {
			return nil, 0, ErrTruncated
		}
		d := int(binary.BigEndian.Uint16(b[p:]))
		p += 2
		if p+d > len(b) {
			return nil, 0, ErrTruncated
		}
		if d > 0 {
			w.Dictionary = bytes.Clone(b[p : p+d])
		}
		p += d
	}
	if p > MaxSerializedLength {
		return nil, 0, fmt.Errorf("world: %d bytes (at most %d)", p, MaxSerializedLength)
	}
	return w, p, nil
}

// AppendMarshal appends the binary form.
func (w *World) AppendMarshal(dst []byte) []byte {
	return w.appendTo(dst, false)
}

// SignedMessage is what the signature covers.
func (w *World) SignedMessage() []byte {
	out := binary.BigEndian.AppendUint64(nil, 0x7f7f7f7f7f7f7f7f)
	out = w.appendTo(out, true)
	return binary.BigEndian.AppendUint64(out, 0xf7f7f7f7f7f7f7f7)
}

func (w *World) appendTo(dst []byte, forSigning bool) []byte {
	dst = append(dst, byte(w.Type))
	dst = binary.BigEndian.AppendUint64(dst, w.ID)
	dst = binary.BigEndian.AppendUint64(dst, w.Timestamp)
	dst = append(dst, w.UpdatesMustBeSignedBy[:]...)
	if !forSigning {
		dst = append(dst, w.Signature[:]...)
	}
	dst = append(dst, byte(len(w.Roots)))
	for _, r := range w.Roots {
		dst = r.Identity.AppendBinary(dst, false)
		dst = append(dst, byte(len(r.StableEndpoints)))
		for _, ep := range r.StableEndpoints {
			dst = inet.Append(dst, ep)
		}
	}
	if w.Type == TypeMoon {
		if forSigning {
			return append(dst, 0, 0)
		}
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(w.Dictionary)))
		dst = append(dst, w.Dictionary...)
	}
	return dst
}

// Validate checks the limits a world must keep to be serialized.
func (w *World) Validate() error {
	switch w.Type {
	case TypePlanet, TypeMoon:
	default:
		return fmt.Errorf("world: type %s cannot be made", w.Type)
	}
	if w.ID == 0 {
		return errors.New("world: ID is 0")
	}
	if len(w.Roots) > MaxRoots {
		return fmt.Errorf("world: %d roots (at most %d)", len(w.Roots), MaxRoots)
	}
	for _, r := range w.Roots {
		if r.Identity == nil {
			return errors.New("world: root without identity")
		}
		if len(r.StableEndpoints) > MaxStableEndpoints {
			return fmt.Errorf("world: root %s has %d endpoints (at most %d)", r.Identity.Address, len(r.StableEndpoints), MaxStableEndpoints)
		}
	}
	if n := len(w.AppendMarshal(nil)); n > MaxSerializedLength {
		return fmt.Errorf("world: %d bytes (at most %d)", n, MaxSerializedLength)
	}
	return nil
}

// Sign signs the world with the private half of the current update key
// (the key named by the previous revision, or this one's for a first).
func (w *World) Sign(signingKey *[64]byte) {
	w.Signature = c25519.Sign(signingKey, w.SignedMessage())
}

// Verify reports whether the world's signature was made by key.
func (w *World) Verify(key *[64]byte) bool {
	return c25519.Verify(key, w.SignedMessage(), w.Signature[:])
}

// ShouldReplace applies the update rule: a candidate replaces the current
// world when there is none yet, or when it has the same ID and type, a
// later timestamp and a signature by the current world's update key.
func ShouldReplace(current, candidate *World) bool {
	if current == nil || current.ID == 0 || current.Type == TypeNull {
		return true
	}
	return candidate.ID == current.ID && candidate.Type == current.Type &&
		candidate.Timestamp > current.Timestamp &&
		candidate.Verify(&current.UpdatesMustBeSignedBy)
}

// FileName is the name a moon is stored under in moons.d: its ID as 16
// lowercase hex digits and ".moon".
func FileName(id uint64) string { return fmt.Sprintf("%016x.moon", id) }

// Make builds and signs a world the way the reference's tools do: roots
// sorted by identity, each root's endpoints in the reference's order.
func Make(t Type, id, timestamp uint64, updatesMustBeSignedBy *[64]byte, roots []Root, signingKey *[64]byte) (*World, error) {
	w := &World{Type: t, ID: id, Timestamp: timestamp, UpdatesMustBeSignedBy: *updatesMustBeSignedBy}
	for _, r := range roots {
		r.StableEndpoints = slices.Clone(r.StableEndpoints)
		slices.SortStableFunc(r.StableEndpoints, compareEndpoints)
		w.Roots = append(w.Roots, r)
	}
	slices.SortStableFunc(w.Roots, func(a, b Root) int {
		if c := cmp.Compare(a.Identity.Address, b.Identity.Address); c != 0 {
			return c
		}
		return bytes.Compare(a.Identity.Public[:], b.Identity.Public[:])
	})
	if err := w.Validate(); err != nil {
		return nil, err
	}
	w.Sign(signingKey)
	return w, nil
}

// compareEndpoints orders endpoints as the reference's InetAddress does:
// IPv4 before IPv6, then by port and address as the host's little-endian
// integers of their network-order bytes.
func compareEndpoints(a, b netip.AddrPort) int {
	fam := func(ap netip.AddrPort) int {
		if ap.Addr().Unmap().Is4() {
			return 0
		}
		return 1
	}
	swap := func(p uint16) uint16 { return p<<8 | p>>8 }
	if c := cmp.Compare(fam(a), fam(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(swap(a.Port()), swap(b.Port())); c != 0 {
		return c
	}
	if fam(a) == 0 {
		x, y := a.Addr().Unmap().As4(), b.Addr().Unmap().As4()
		return cmp.Compare(binary.LittleEndian.Uint32(x[:]), binary.LittleEndian.Uint32(y[:]))
	}
	x, y := a.Addr().As16(), b.Addr().As16()
	return bytes.Compare(x[:], y[:])
}

// jsonWorld is the JSON shape of the reference's moon object (local API
// /moon) with the world type added.
type jsonWorld struct {
	Type                  string     `json:"worldType"`
	ID                    string     `json:"id"`
	Timestamp             uint64     `json:"timestamp"`
	Signature             string     `json:"signature"`
	UpdatesMustBeSignedBy string     `json:"updatesMustBeSignedBy"`
	Roots                 []jsonRoot `json:"roots"`
}

type jsonRoot struct {
	Identity        string   `json:"identity"`
	StableEndpoints []string `json:"stableEndpoints"`
}

// MarshalJSON writes the local API's moon object fields.
func (w *World) MarshalJSON() ([]byte, error) {
	j := jsonWorld{
		Type:                  w.Type.String(),
		ID:                    fmt.Sprintf("%016x", w.ID),
		Timestamp:             w.Timestamp,
		Signature:             hex.EncodeToString(w.Signature[:]),
		UpdatesMustBeSignedBy: hex.EncodeToString(w.UpdatesMustBeSignedBy[:]),
		Roots:                 []jsonRoot{},
	}
	for _, r := range w.Roots {
		jr := jsonRoot{Identity: r.Identity.String(), StableEndpoints: []string{}}
		for _, ep := range r.StableEndpoints {
			jr.StableEndpoints = append(jr.StableEndpoints, inet.Format(ep))
		}
		j.Roots = append(j.Roots, jr)
	}
	return json.Marshal(j)
}
