package verbs

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ErrorCode is the code of an ERROR reply (PROTOCOL.md part 1 §6.4).
type ErrorCode byte

// Error codes.
const (
	ErrorNone                          ErrorCode = 0x00
	ErrorInvalidRequest                ErrorCode = 0x01
	ErrorBadProtocolVersion            ErrorCode = 0x02
	ErrorObjNotFound                   ErrorCode = 0x03
	ErrorIdentityCollision             ErrorCode = 0x04
	ErrorUnsupportedOperation          ErrorCode = 0x05
	ErrorNeedMembershipCertificate     ErrorCode = 0x06
	ErrorNetworkAccessDenied           ErrorCode = 0x07
	ErrorUnwantedMulticast             ErrorCode = 0x08
	ErrorNetworkAuthenticationRequired ErrorCode = 0x09
)

var errorCodeNames = [...]string{
	ErrorNone:                          "NONE",
	ErrorInvalidRequest:                "INVALID_REQUEST",
	ErrorBadProtocolVersion:            "BAD_PROTOCOL_VERSION",
	ErrorObjNotFound:                   "OBJ_NOT_FOUND",
	ErrorIdentityCollision:             "IDENTITY_COLLISION",
	ErrorUnsupportedOperation:          "UNSUPPORTED_OPERATION",
	ErrorNeedMembershipCertificate:     "NEED_MEMBERSHIP_CERTIFICATE",
	ErrorNetworkAccessDenied:           "NETWORK_ACCESS_DENIED",
	ErrorUnwantedMulticast:             "UNWANTED_MULTICAST",
	ErrorNetworkAuthenticationRequired: "NETWORK_AUTHENTICATION_REQUIRED",
}

// String returns the protocol name of the code (hex for unknown codes).
func (e ErrorCode) String() string {
	if int(e) < len(errorCodeNames) {
		return errorCodeNames[e]
	}
	return fmt.Sprintf("0x%02x", byte(e))
}

// MarshalText implements encoding.TextMarshaler.
func (e ErrorCode) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// hasNetworkID reports whether the code's payload starts with a network ID.
func (e ErrorCode) hasNetworkID() bool {
	switch e {
	case ErrorObjNotFound, ErrorUnsupportedOperation, ErrorNeedMembershipCertificate,
		ErrorNetworkAccessDenied, ErrorUnwantedMulticast, ErrorNetworkAuthenticationRequired:
		return true
	}
	return false
}

// hasData reports whether the network ID may be followed by BE16-length-prefixed error data
// (a controller's error dictionary, e.g. the SSO auth-info of NETWORK_AUTHENTICATION_REQUIRED).
func (e ErrorCode) hasData() bool {
	switch e {
	case ErrorObjNotFound, ErrorUnsupportedOperation, ErrorNetworkAccessDenied,
		ErrorNetworkAuthenticationRequired:
		return true
	}
	return false
}

// Error is the payload of ERROR (verb 0x02). The code-specific fields are read only when the
// payload carries them completely (as a tolerant receiver does); HasNetworkID, HasGroup and
// HasData say which were present, and anything left over is kept in Trailing.
type Error struct {
	InReVerb     byte
	InRePacketID PacketID
	Code         ErrorCode

	HasNetworkID bool
	NetworkID    NetworkID

	// Group is the unwanted group of UNWANTED_MULTICAST.
	HasGroup bool
	Group    MulticastGroup

	// Data is the length-prefixed error data after the network ID (codes 3, 5, 7, 9): a
	// dictionary, e.g. the auth-info of NETWORK_AUTHENTICATION_REQUIRED.
	HasData bool
	Data    Bytes

	Trailing Bytes
}

// Verb returns 0x02.
func (Error) Verb() byte { return verbError }

// ParseError parses an ERROR payload.
func ParseError(b []byte) (Error, error) {
	c := cursor{b: b}
	var e Error
	e.InReVerb = c.u8("in-re verb")
	e.InRePacketID = PacketID(c.u64("in-re packet ID"))
	e.Code = ErrorCode(c.u8("error code"))
	if c.err == nil && e.Code.hasNetworkID() && c.remaining() >= 8 {
		e.HasNetworkID = true
		e.NetworkID = NetworkID(c.u64("network ID"))
		switch {
		case e.Code == ErrorUnwantedMulticast && c.remaining() >= multicastGroupLength:
			e.HasGroup = true
			e.Group = c.group("group")
		case e.Code.hasData() && c.remaining() >= 2:
			if n := int(c.b[c.off])<<8 | int(c.b[c.off+1]); n <= c.remaining()-2 {
				e.HasData = true
				c.off += 2
				e.Data = nilIfEmpty(c.take(n, "error data"))
			}
		}
	}
	e.Trailing = c.rest()
	return finish(e, &c, "ERROR")
}

// AppendMarshal appends the ERROR payload. The network ID is written if HasNetworkID (or a
// later field is present); the group and the data only for codes that define them.
func (e Error) AppendMarshal(dst []byte) []byte {
	dst = append(dst, e.InReVerb)
	dst = appendU64(dst, uint64(e.InRePacketID))
	dst = append(dst, byte(e.Code))
	group := e.HasGroup && e.Code == ErrorUnwantedMulticast
	data := (e.HasData || len(e.Data) > 0) && e.Code.hasData()
	if e.HasNetworkID || group || data {
		dst = appendU64(dst, uint64(e.NetworkID))
	}
	if group {
		dst = e.Group.appendTo(dst)
	}
	if data {
		dst = appendLen16(dst, e.Data)
	}
	return append(dst, e.Trailing...)
}

func (e Error) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "ERROR re=%s id=%s code=%s", verbName(e.InReVerb), e.InRePacketID, e.Code)
	if e.HasNetworkID {
		fmt.Fprintf(&s, " nwid=%s", e.NetworkID)
	}
	if e.HasGroup {
		fmt.Fprintf(&s, " group=%s", e.Group)
	}
	if e.HasData {
		fmt.Fprintf(&s, " data=%d bytes", len(e.Data))
	}
	s.WriteString(trailingString(e.Trailing))
	return s.String()
}

// MarshalJSON implements json.Marshaler.
func (e Error) MarshalJSON() ([]byte, error) {
	type view struct {
		InReVerb     string          `json:"inReVerb"`
		InRePacketID PacketID        `json:"inRePacketId"`
		Code         ErrorCode       `json:"code"`
		NetworkID    *NetworkID      `json:"networkId,omitempty"`
		Group        *MulticastGroup `json:"group,omitempty"`
		Data         *Bytes          `json:"data,omitempty"`
		Trailing     Bytes           `json:"trailing,omitempty"`
	}
	v := view{InReVerb: verbName(e.InReVerb), InRePacketID: e.InRePacketID, Code: e.Code, Trailing: e.Trailing}
	if e.HasNetworkID {
		v.NetworkID = &e.NetworkID
	}
	if e.HasGroup {
		v.Group = &e.Group
	}
	if e.HasData {
		d := e.Data
		if d == nil {
			d = Bytes{}
		}
		v.Data = &d
	}
	return json.Marshal(v)
}
