package verbs

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// OKHello is the body of OK(HELLO) (PROTOCOL.md part 1 §6.3). The reported address and the
// world-update field are optional on the wire (HasReportedAddress, HasWorlds).
type OKHello struct {
	Timestamp uint64 // the HELLO's timestamp, echoed
	Protocol  byte
	Major     byte
	Minor     byte
	Revision  uint16

	// ReportedAddress is the physical address the responder saw the HELLO come from.
	HasReportedAddress bool
	ReportedAddress    netip.AddrPort

	// Worlds is the world-update blob: zero or more serialized Worlds back to back, preceded
	// on the wire by its BE16 length.
	HasWorlds bool
	Worlds    Bytes

	Trailing Bytes
}

// ParseOKHello parses an OK(HELLO) body (the bytes after the 9-byte in-re header).
func ParseOKHello(b []byte) (OKHello, error) {
	c := cursor{b: b}
	var o OKHello
	o.Timestamp = c.u64("timestamp")
	o.Protocol = c.u8("protocol version")
	o.Major = c.u8("major version")
	o.Minor = c.u8("minor version")
	o.Revision = c.u16("revision")
	if c.err == nil && c.remaining() > 0 {
		o.HasReportedAddress = true
		o.ReportedAddress = c.inetAddress("reported address")
	}
	if c.err == nil && c.remaining() >= 2 {
		o.HasWorlds = true
		o.Worlds = nilIfEmpty(c.take(int(c.u16("world update length")), "world update"))
	}
	o.Trailing = c.rest()
	return finish(o, &c, "OK(HELLO)")
}

// AppendMarshal appends the body. The address is written (type 0 if unknown) whenever it or
// the world field is present; the world field is written whenever HasWorlds is set or Worlds
// is non-empty (at most 65535 bytes of it).
func (o OKHello) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, o.Timestamp)
	dst = append(dst, o.Protocol, o.Major, o.Minor)
	dst = appendU16(dst, o.Revision)
	worlds := o.HasWorlds || len(o.Worlds) > 0
	if o.HasReportedAddress || worlds {
		dst = inet.Append(dst, o.ReportedAddress)
	}
	if worlds {
		dst = appendLen16(dst, o.Worlds)
	}
	return append(dst, o.Trailing...)
}

func (o OKHello) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "ts=%d proto=%d v%d.%d.%d", o.Timestamp, o.Protocol, o.Major, o.Minor, o.Revision)
	if o.HasReportedAddress {
		fmt.Fprintf(&s, " from=%s", endpointString(o.ReportedAddress))
	}
	if o.HasWorlds {
		fmt.Fprintf(&s, " worlds=%d bytes", len(o.Worlds))
	}
	s.WriteString(trailingString(o.Trailing))
	return s.String()
}

// MarshalJSON implements json.Marshaler.
func (o OKHello) MarshalJSON() ([]byte, error) {
	type view struct {
		Timestamp       uint64        `json:"timestamp"`
		Protocol        byte          `json:"protocol"`
		Version         string        `json:"version"`
		ReportedAddress *jsonEndpoint `json:"reportedAddress,omitempty"`
		WorldsLength    *int          `json:"worldsLength,omitempty"`
		Worlds          Bytes         `json:"worlds,omitempty"`
		Trailing        Bytes         `json:"trailing,omitempty"`
	}
	v := view{
		Timestamp: o.Timestamp,
		Protocol:  o.Protocol,
		Version:   fmt.Sprintf("%d.%d.%d", o.Major, o.Minor, o.Revision),
		Worlds:    o.Worlds,
		Trailing:  o.Trailing,
	}
	if o.HasReportedAddress {
		a := jsonEndpoint(o.ReportedAddress)
		v.ReportedAddress = &a
	}
	if o.HasWorlds {
		n := len(o.Worlds)
		v.WorldsLength = &n
	}
	return json.Marshal(v)
}

// OKWhois is the body of OK(WHOIS): one public identity per address the responder knew.
// Receivers in 1.14.1 use only the first. Bytes after the first identity that do not parse
// as identities are kept in Trailing.
type OKWhois struct {
	Identities []*identity.Identity
	Trailing   Bytes
}

// ParseOKWhois parses an OK(WHOIS) body; it needs at least one identity.
func ParseOKWhois(b []byte) (OKWhois, error) {
	c := cursor{b: b}
	var o OKWhois
	o.Identities = append(o.Identities, c.identity("identity"))
	for c.err == nil && c.remaining() > 0 {
		next := cursor{b: b, off: c.off}
		id := next.identity("identity")
		if next.err != nil {
			break
		}
		o.Identities = append(o.Identities, id)
		c.off = next.off
	}
	o.Trailing = c.rest()
	return finish(o, &c, "OK(WHOIS)")
}

// AppendMarshal appends the identities (public form, or with a private part if they have one).
func (o OKWhois) AppendMarshal(dst []byte) []byte {
	for _, id := range o.Identities {
		dst = appendIdentity(dst, id)
	}
	return append(dst, o.Trailing...)
}

func (o OKWhois) String() string {
	addrs := make([]string, len(o.Identities))
	for i, id := range o.Identities {
		addrs[i] = addrString(id)
	}
	return "identities=" + strings.Join(addrs, ",") + trailingString(o.Trailing)
}

// MarshalJSON implements json.Marshaler.
func (o OKWhois) MarshalJSON() ([]byte, error) {
	ids := make([]*jsonIdentity, len(o.Identities))
	for i, id := range o.Identities {
		ids[i] = identityJSON(id)
	}
	return json.Marshal(struct {
		Identities []*jsonIdentity `json:"identities"`
		Trailing   Bytes           `json:"trailing,omitempty"`
	}{ids, o.Trailing})
}
