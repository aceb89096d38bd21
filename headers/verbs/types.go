package verbs

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/netip"
	"unicode/utf8"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// NetworkID is a 64-bit ZeroTier network ID. Its text form is 16 lowercase hex digits.
type NetworkID uint64

func (n NetworkID) String() string { return fmt.Sprintf("%016x", uint64(n)) }

// MarshalText implements encoding.TextMarshaler (16 hex digits).
func (n NetworkID) MarshalText() ([]byte, error) { return []byte(n.String()), nil }

// PacketID is the 64-bit packet ID (IV) of a packet, as named by the in-re field of OK and ERROR.
type PacketID uint64

func (p PacketID) String() string { return fmt.Sprintf("%016x", uint64(p)) }

// MarshalText implements encoding.TextMarshaler (16 hex digits).
func (p PacketID) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// WorldID is the 64-bit ID of a planet or moon. Its text form is 16 lowercase hex digits.
type WorldID uint64

func (w WorldID) String() string { return fmt.Sprintf("%016x", uint64(w)) }

// MarshalText implements encoding.TextMarshaler (16 hex digits).
func (w WorldID) MarshalText() ([]byte, error) { return []byte(w.String()), nil }

// MAC is an Ethernet MAC address as it appears on the wire.
type MAC [6]byte

func (m MAC) String() string {
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// MarshalText implements encoding.TextMarshaler ("aa:bb:cc:dd:ee:ff").
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// MulticastGroup is a multicast group: a MAC and a 32-bit additional distinguishing
// information (ADI) value.
type MulticastGroup struct {
	MAC MAC
	ADI uint32
}

// String returns "aa:bb:cc:dd:ee:ff/adi" with the ADI in 8 hex digits.
func (g MulticastGroup) String() string { return fmt.Sprintf("%s/%08x", g.MAC, g.ADI) }

// MarshalJSON implements json.Marshaler: {"mac": "...", "adi": "8 hex digits"}.
func (g MulticastGroup) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		MAC MAC    `json:"mac"`
		ADI string `json:"adi"`
	}{g.MAC, fmt.Sprintf("%08x", g.ADI)})
}

// multicastGroupLength is the wire size of a group: MAC (6) and ADI (4).
const multicastGroupLength = 10

func (g MulticastGroup) appendTo(dst []byte) []byte {
	dst = append(dst, g.MAC[:]...)
	return appendU32(dst, g.ADI)
}

func (c *cursor) group(field string) MulticastGroup {
	var g MulticastGroup
	copy(g.MAC[:], c.take(6, field+" MAC"))
	g.ADI = c.u32(field + " ADI")
	return g
}

// Bytes is a byte string that marshals to JSON and text as lowercase hex. It converts
// freely to and from []byte.
type Bytes []byte

// MarshalText implements encoding.TextMarshaler (lowercase hex).
func (b Bytes) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out, nil
}

// jsonAddr gives an identity.Address its 10-hex JSON form.
type jsonAddr identity.Address

func (a jsonAddr) MarshalText() ([]byte, error) { return []byte(identity.Address(a).String()), nil }

func jsonAddrs(as []identity.Address) []jsonAddr {
	out := make([]jsonAddr, len(as))
	for i, a := range as {
		out[i] = jsonAddr(a)
	}
	return out
}

// jsonEndpoint gives a netip.AddrPort the "IP/port" JSON form (empty string when unknown).
type jsonEndpoint netip.AddrPort

func (e jsonEndpoint) MarshalText() ([]byte, error) {
	ap := netip.AddrPort(e)
	if !ap.IsValid() {
		return []byte{}, nil
	}
	return []byte(inet.Format(ap)), nil
}

// endpointString is the "IP/port" form of ap for String methods ("unknown" when zero).
func endpointString(ap netip.AddrPort) string {
	if !ap.IsValid() {
		return "unknown"
	}
	return inet.Format(ap)
}

// jsonIdentity is the JSON form of a public identity: its address and its string form.
type jsonIdentity struct {
	Address  jsonAddr `json:"address"`
	Identity string   `json:"identity"`
}

func identityJSON(id *identity.Identity) *jsonIdentity {
	if id == nil {
		return nil
	}
	return &jsonIdentity{Address: jsonAddr(id.Address), Identity: id.String()}
}

// zeroIdentity is what AppendMarshal writes for a nil identity: the all-zero public form.
var zeroIdentity [identity.PublicBinaryLength]byte

// appendIdentity writes id in binary form, with its private key only if it has one (only
// possible when the parsed payload carried it).
func appendIdentity(dst []byte, id *identity.Identity) []byte {
	if id == nil {
		return append(dst, zeroIdentity[:]...)
	}
	return id.AppendBinary(dst, id.Private != nil)
}

func addrString(id *identity.Identity) string {
	if id == nil {
		return "none"
	}
	return id.Address.String()
}

// textOrNil returns b as a string for JSON if it is valid UTF-8 (dictionaries usually are),
// else nil; the hex form is always given alongside.
func textOrNil(b []byte) *string {
	if !utf8.Valid(b) {
		return nil
	}
	s := string(b)
	return &s
}
