package verbs

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// PUSH_DIRECT_PATHS record flags (PROTOCOL.md part 1 §6.8).
const (
	PathFlagForget          = 0x01 // receivers ignore the record
	PathFlagClusterRedirect = 0x02
)

// PUSH_DIRECT_PATHS address types.
const (
	PathAddrIPv4 = 4
	PathAddrIPv6 = 6
)

// PathRecord is one record of PUSH_DIRECT_PATHS. On the wire: flags (1), BE16 extension
// length X, X extension bytes, address type (1), address length including the port (1), then
// the address: IP (4 or 16) and BE16 port.
type PathRecord struct {
	Flags      byte
	Extensions Bytes
	// AddrType is 4 or 6 for an IP endpoint; other values are skipped by receivers.
	AddrType byte
	// Endpoint is the endpoint of a type 4 record with length 6 or a type 6 record with
	// length 18.
	Endpoint netip.AddrPort
	// Raw holds the address bytes of any other record (unknown type or unusual length).
	// When non-nil it is written verbatim with AddrType, taking precedence over Endpoint.
	Raw Bytes
}

// PushDirectPaths is the payload of PUSH_DIRECT_PATHS (verb 0x10): BE16 record count, then
// the records.
type PushDirectPaths struct {
	Paths    []PathRecord
	Trailing Bytes
}

// Verb returns 0x10.
func (PushDirectPaths) Verb() byte { return verbPushDirectPaths }

// ParsePushDirectPaths parses a PUSH_DIRECT_PATHS payload; every counted record must be complete.
func ParsePushDirectPaths(b []byte) (PushDirectPaths, error) {
	c := cursor{b: b}
	var p PushDirectPaths
	n := int(c.u16("record count"))
	for i := 0; i < n && c.err == nil; i++ {
		var r PathRecord
		r.Flags = c.u8("record flags")
		r.Extensions = nilIfEmpty(c.take(int(c.u16("extension length")), "extensions"))
		r.AddrType = c.u8("address type")
		addr := c.take(int(c.u8("address length")), "address")
		switch {
		case c.err != nil:
		case r.AddrType == PathAddrIPv4 && len(addr) == 6, r.AddrType == PathAddrIPv6 && len(addr) == 18:
			ip, _ := netip.AddrFromSlice(addr[:len(addr)-2])
			port := uint16(addr[len(addr)-2])<<8 | uint16(addr[len(addr)-1])
			r.Endpoint = netip.AddrPortFrom(ip, port)
		default:
			r.Raw = addr
			if r.Raw == nil {
				r.Raw = Bytes{}
			}
		}
		p.Paths = append(p.Paths, r)
	}
	p.Trailing = c.rest()
	return finish(p, &c, "PUSH_DIRECT_PATHS")
}

// AppendMarshal appends the payload (at most 65535 records). A record without Raw is written
// from Endpoint with type 4 or 6 chosen by its IP family.
func (p PushDirectPaths) AppendMarshal(dst []byte) []byte {
	paths := p.Paths[:min(len(p.Paths), 0xffff)]
	dst = appendU16(dst, uint16(len(paths)))
	for _, r := range paths {
		dst = append(dst, r.Flags)
		dst = appendLen16(dst, r.Extensions)
		if r.Raw != nil {
			dst = append(dst, r.AddrType, byte(min(len(r.Raw), 0xff)))
			dst = append(dst, r.Raw[:min(len(r.Raw), 0xff)]...)
			continue
		}
		ip := r.Endpoint.Addr()
		if ip.Is4() {
			dst = append(dst, PathAddrIPv4, 6)
		} else {
			ip = netip.IPv6Unspecified()
			if r.Endpoint.Addr().Is6() {
				ip = r.Endpoint.Addr()
			}
			dst = append(dst, PathAddrIPv6, 18)
		}
		dst = append(dst, ip.AsSlice()...)
		dst = appendU16(dst, r.Endpoint.Port())
	}
	return append(dst, p.Trailing...)
}

func (r PathRecord) String() string {
	s := ""
	if r.Raw != nil {
		s = fmt.Sprintf("type%d(%d bytes)", r.AddrType, len(r.Raw))
	} else {
		s = endpointString(r.Endpoint)
	}
	if r.Flags != 0 {
		s += fmt.Sprintf("[flags=%02x]", r.Flags)
	}
	if len(r.Extensions) > 0 {
		s += fmt.Sprintf("[ext=%d]", len(r.Extensions))
	}
	return s
}

func (p PushDirectPaths) String() string {
	parts := make([]string, len(p.Paths))
	for i, r := range p.Paths {
		parts[i] = r.String()
	}
	return fmt.Sprintf("PUSH_DIRECT_PATHS n=%d %s", len(p.Paths), strings.Join(parts, ",")) +
		trailingString(p.Trailing)
}

// MarshalJSON implements json.Marshaler.
func (r PathRecord) MarshalJSON() ([]byte, error) {
	type view struct {
		Flags      byte          `json:"flags"`
		Extensions Bytes         `json:"extensions,omitempty"`
		AddrType   byte          `json:"addressType"`
		Endpoint   *jsonEndpoint `json:"endpoint,omitempty"`
		Raw        *Bytes        `json:"raw,omitempty"`
	}
	v := view{Flags: r.Flags, Extensions: r.Extensions, AddrType: r.AddrType}
	if r.Raw != nil {
		v.Raw = &r.Raw
	} else {
		e := jsonEndpoint(r.Endpoint)
		v.Endpoint = &e
	}
	return json.Marshal(v)
}

// MarshalJSON implements json.Marshaler.
func (p PushDirectPaths) MarshalJSON() ([]byte, error) {
	paths := p.Paths
	if paths == nil {
		paths = []PathRecord{}
	}
	return json.Marshal(struct {
		Paths    []PathRecord `json:"paths"`
		Trailing Bytes        `json:"trailing,omitempty"`
	}{paths, p.Trailing})
}
