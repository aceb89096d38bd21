package verbs

import (
	"encoding/json"
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/crypto/identity"
)

// Rendezvous is the payload of RENDEZVOUS (verb 0x05): a hint from a root that Peer can be
// reached at Endpoint. Its address encoding is its own (not InetAddress): port first, then
// a length-prefixed IP.
type Rendezvous struct {
	Flags    byte
	Peer     identity.Address
	Endpoint netip.AddrPort
	Trailing Bytes
}

// Verb returns 0x05.
func (Rendezvous) Verb() byte { return verbRendezvous }

// ParseRendezvous parses a RENDEZVOUS payload. The IP length must be 4 or 16.
func ParseRendezvous(b []byte) (Rendezvous, error) {
	c := cursor{b: b}
	var r Rendezvous
	r.Flags = c.u8("flags")
	r.Peer = c.address("peer address")
	port := c.u16("port")
	ipLen := c.u8("IP length")
	if c.err == nil && ipLen != 4 && ipLen != 16 {
		c.fail(fmt.Errorf("%w: IP length %d (want 4 or 16)", ErrInvalid, ipLen))
	}
	if ip, ok := netip.AddrFromSlice(c.take(int(ipLen), "IP address")); ok {
		r.Endpoint = netip.AddrPortFrom(ip, port)
	}
	r.Trailing = c.rest()
	return finish(r, &c, "RENDEZVOUS")
}

// AppendMarshal appends the payload. The IP is written as 4 bytes for an IPv4 address and 16
// for IPv6 (IPv4-mapped included); a zero Endpoint is written with IP length 0, which
// ParseRendezvous rejects.
func (r Rendezvous) AppendMarshal(dst []byte) []byte {
	dst = append(dst, r.Flags)
	dst = r.Peer.AppendTo(dst)
	dst = appendU16(dst, r.Endpoint.Port())
	raw := r.Endpoint.Addr().AsSlice()
	dst = append(dst, byte(len(raw)))
	dst = append(dst, raw...)
	return append(dst, r.Trailing...)
}

func (r Rendezvous) String() string {
	return fmt.Sprintf("RENDEZVOUS peer=%s at=%s flags=%02x", r.Peer, endpointString(r.Endpoint), r.Flags) +
		trailingString(r.Trailing)
}

// MarshalJSON implements json.Marshaler.
func (r Rendezvous) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Flags    byte         `json:"flags"`
		Peer     jsonAddr     `json:"peer"`
		Endpoint jsonEndpoint `json:"endpoint"`
		Trailing Bytes        `json:"trailing,omitempty"`
	}{r.Flags, jsonAddr(r.Peer), jsonEndpoint(r.Endpoint), r.Trailing})
}
