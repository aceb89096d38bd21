package verbs

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// helloFixedLength is the size of the fields before the identity: protocol, major, minor,
// revision (2), timestamp (8).
const helloFixedLength = 13

// MoonTypeMoon is the world type byte of a moon (PROTOCOL.md part 1 §8.1).
const MoonTypeMoon = 127

// moonRefLength is the wire size of one moon list entry: type (1), world ID (8), timestamp (8).
const moonRefLength = 17

// MoonRef is one entry of a HELLO's moon list: a moon the sender has (with its timestamp) or
// wants (timestamp 0). Receivers skip entries whose Type is not MoonTypeMoon.
type MoonRef struct {
	Type      byte    `json:"type"`
	ID        WorldID `json:"id"`
	Timestamp uint64  `json:"timestamp"`
}

// Hello is the payload of HELLO (verb 0x01).
//
// Everything after the identity is optional on the wire and present only if the Has flags say
// so. The moon region (count and list) is encrypted with cryptField (PROTOCOL.md part 1 §4.6)
// from payload offset CryptOffset() to the end. ParseHello keeps that region opaque in Sealed;
// after decrypting it, OpenMoons parses the plaintext list.
type Hello struct {
	Protocol  byte
	Major     byte
	Minor     byte
	Revision  uint16
	Timestamp uint64 // sender's clock (ms), echoed in OK(HELLO)
	Identity  *identity.Identity

	// Destination is the physical address the HELLO was sent to (zero if unknown).
	HasDestination bool
	Destination    netip.AddrPort

	HasPlanet       bool
	PlanetID        WorldID
	PlanetTimestamp uint64

	// Sealed is the moon region exactly as given to ParseHello (still encrypted); nil if the
	// payload had none or after OpenMoons. When non-nil, AppendMarshal writes it verbatim.
	Sealed Bytes

	// HasMoons reports that the plaintext region starts with a moon count; Moons is the list.
	// MoonTrailing is any plaintext after the list (or a region too short for the count).
	HasMoons     bool
	Moons        []MoonRef
	MoonTrailing Bytes
}

// Verb returns 0x01.
func (Hello) Verb() byte { return verbHello }

// ParseHello parses a HELLO payload. The moon region, if any, is left opaque in Sealed.
func ParseHello(b []byte) (Hello, error) {
	c := cursor{b: b}
	var h Hello
	h.Protocol = c.u8("protocol version")
	h.Major = c.u8("major version")
	h.Minor = c.u8("minor version")
	h.Revision = c.u16("revision")
	h.Timestamp = c.u64("timestamp")
	h.Identity = c.identity("identity")
	if c.err == nil && c.remaining() > 0 {
		h.HasDestination = true
		h.Destination = c.inetAddress("destination address")
	}
	if c.err == nil && c.remaining() >= 16 {
		h.HasPlanet = true
		h.PlanetID = WorldID(c.u64("planet ID"))
		h.PlanetTimestamp = c.u64("planet timestamp")
	}
	h.Sealed = c.rest()
	return finish(h, &c, "HELLO")
}

// HelloCryptOffset returns the payload offset at which the cryptField-encrypted moon region of
// the received HELLO payload b begins (len(b) if it has none). Add 28 for the packet offset.
// It only needs the plaintext part of b, so it is used before decrypting the region.
func HelloCryptOffset(b []byte) (int, error) {
	h, err := ParseHello(b)
	if err != nil {
		return 0, err
	}
	return len(b) - len(h.Sealed), nil
}

// CryptOffset is the offset at which the moon region begins in h.AppendMarshal's output (equal
// to its length when there is no region): where a sender applies cryptField. For a received
// payload use HelloCryptOffset, which also covers address types that do not re-marshal.
func (h Hello) CryptOffset() int {
	n := helloFixedLength + len(appendIdentity(nil, h.Identity))
	if h.HasDestination || h.HasPlanet || h.hasRegion() {
		n += len(inet.Append(nil, h.Destination))
	}
	if h.HasPlanet {
		n += 16
	}
	return n
}

func (h Hello) hasRegion() bool {
	return h.Sealed != nil || h.HasMoons || len(h.MoonTrailing) > 0
}

// OpenMoons parses the decrypted moon region plain (the payload bytes from CryptOffset() on,
// after cryptField) into HasMoons, Moons and MoonTrailing, and clears Sealed.
func (h *Hello) OpenMoons(plain []byte) error {
	c := cursor{b: plain}
	var moons []MoonRef
	hasMoons := false
	if c.remaining() >= 2 {
		hasMoons = true
		n := int(c.u16("moon count"))
		if n*moonRefLength > c.remaining() {
			return fmt.Errorf("verbs: HELLO: %w: %d moons need %d bytes, %d left",
				ErrTruncated, n, n*moonRefLength, c.remaining())
		}
		moons = make([]MoonRef, n)
		for i := range moons {
			moons[i] = MoonRef{
				Type:      c.u8("moon type"),
				ID:        WorldID(c.u64("moon ID")),
				Timestamp: c.u64("moon timestamp"),
			}
		}
	}
	trailing := c.rest()
	if err := c.done("HELLO moons"); err != nil {
		return err
	}
	h.Sealed, h.HasMoons, h.Moons, h.MoonTrailing = nil, hasMoons, moons, trailing
	return nil
}

// AppendMarshal appends the HELLO payload. Optional fields are written when their Has flag is
// set or a later field needs them (a missing destination is then written as type 0). The moon
// region is Sealed if non-nil, otherwise the plaintext list; the caller applies cryptField
// from CryptOffset(). A nil Identity is written as 71 zero bytes.
func (h Hello) AppendMarshal(dst []byte) []byte {
	dst = append(dst, h.Protocol, h.Major, h.Minor)
	dst = appendU16(dst, h.Revision)
	dst = appendU64(dst, h.Timestamp)
	dst = appendIdentity(dst, h.Identity)
	region := h.hasRegion()
	if h.HasDestination || h.HasPlanet || region {
		dst = inet.Append(dst, h.Destination)
	}
	if h.HasPlanet {
		dst = appendU64(dst, uint64(h.PlanetID))
		dst = appendU64(dst, h.PlanetTimestamp)
	}
	if h.Sealed != nil {
		return append(dst, h.Sealed...)
	}
	if h.HasMoons {
		dst = appendU16(dst, uint16(len(h.Moons)))
		for _, m := range h.Moons[:min(len(h.Moons), 0xffff)] {
			dst = append(dst, m.Type)
			dst = appendU64(dst, uint64(m.ID))
			dst = appendU64(dst, m.Timestamp)
		}
	}
	return append(dst, h.MoonTrailing...)
}

func (h Hello) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "HELLO proto=%d v%d.%d.%d ts=%d id=%s", h.Protocol, h.Major, h.Minor,
		h.Revision, h.Timestamp, addrString(h.Identity))
	if h.HasDestination {
		fmt.Fprintf(&s, " to=%s", endpointString(h.Destination))
	}
	if h.HasPlanet {
		fmt.Fprintf(&s, " planet=%s@%d", h.PlanetID, h.PlanetTimestamp)
	}
	switch {
	case h.Sealed != nil:
		fmt.Fprintf(&s, " moons=sealed(%d bytes)", len(h.Sealed))
	case h.HasMoons:
		fmt.Fprintf(&s, " moons=%d", len(h.Moons))
		for _, m := range h.Moons {
			fmt.Fprintf(&s, " %s@%d", m.ID, m.Timestamp)
		}
	}
	if len(h.MoonTrailing) > 0 {
		fmt.Fprintf(&s, " +%d trailing", len(h.MoonTrailing))
	}
	return s.String()
}

// MarshalJSON implements json.Marshaler.
func (h Hello) MarshalJSON() ([]byte, error) {
	type view struct {
		Protocol        byte          `json:"protocol"`
		Version         string        `json:"version"`
		Timestamp       uint64        `json:"timestamp"`
		Identity        *jsonIdentity `json:"identity"`
		Destination     *jsonEndpoint `json:"destination,omitempty"`
		PlanetID        *WorldID      `json:"planetId,omitempty"`
		PlanetTimestamp *uint64       `json:"planetTimestamp,omitempty"`
		CryptOffset     int           `json:"cryptOffset"`
		Sealed          Bytes         `json:"sealedMoons,omitempty"`
		Moons           *[]MoonRef    `json:"moons,omitempty"`
		MoonTrailing    Bytes         `json:"moonTrailing,omitempty"`
	}
	v := view{
		Protocol:     h.Protocol,
		Version:      fmt.Sprintf("%d.%d.%d", h.Major, h.Minor, h.Revision),
		Timestamp:    h.Timestamp,
		Identity:     identityJSON(h.Identity),
		CryptOffset:  h.CryptOffset(),
		Sealed:       h.Sealed,
		MoonTrailing: h.MoonTrailing,
	}
	if h.HasDestination {
		d := jsonEndpoint(h.Destination)
		v.Destination = &d
	}
	if h.HasPlanet {
		v.PlanetID, v.PlanetTimestamp = &h.PlanetID, &h.PlanetTimestamp
	}
	if h.HasMoons {
		moons := h.Moons
		if moons == nil {
			moons = []MoonRef{}
		}
		v.Moons = &moons
	}
	return json.Marshal(v)
}
