package verbs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
)

// Nop is the payload of NOP (verb 0x00), normally empty.
type Nop struct {
	Data Bytes `json:"data,omitempty"`
}

// Verb returns 0x00.
func (Nop) Verb() byte { return verbNop }

// ParseNop keeps b; it never fails.
func ParseNop(b []byte) (Nop, error) { return Nop{Data: nilIfEmpty(b)}, nil }

// AppendMarshal appends the data.
func (n Nop) AppendMarshal(dst []byte) []byte { return append(dst, n.Data...) }

func (n Nop) String() string { return fmt.Sprintf("NOP len=%d", len(n.Data)) }

// Echo is the payload of ECHO (verb 0x08): arbitrary bytes, copied into OK(ECHO). Path probes
// send it empty.
type Echo struct {
	Data Bytes `json:"data"`
}

// Verb returns 0x08.
func (Echo) Verb() byte { return verbEcho }

// ParseEcho keeps b; it never fails.
func ParseEcho(b []byte) (Echo, error) { return Echo{Data: nilIfEmpty(b)}, nil }

// AppendMarshal appends the data.
func (e Echo) AppendMarshal(dst []byte) []byte { return append(dst, e.Data...) }

func (e Echo) String() string { return fmt.Sprintf("ECHO len=%d", len(e.Data)) }

// UserMessage is the payload of USER_MESSAGE (verb 0x14): a BE64 type ID (≤ 65535 reserved
// for ZeroTier) and arbitrary data.
type UserMessage struct {
	TypeID uint64 `json:"typeId"`
	Data   Bytes  `json:"data"`
}

// Verb returns 0x14.
func (UserMessage) Verb() byte { return verbUserMessage }

// ParseUserMessage parses a USER_MESSAGE payload (at least the 8-byte type ID).
func ParseUserMessage(b []byte) (UserMessage, error) {
	c := cursor{b: b}
	var u UserMessage
	u.TypeID = c.u64("type ID")
	u.Data = c.rest()
	return finish(u, &c, "USER_MESSAGE")
}

// AppendMarshal appends the payload.
func (u UserMessage) AppendMarshal(dst []byte) []byte {
	return append(appendU64(dst, u.TypeID), u.Data...)
}

func (u UserMessage) String() string {
	return fmt.Sprintf("USER_MESSAGE type=%016x len=%d", u.TypeID, len(u.Data))
}

// NetworkCredentials is the payload of NETWORK_CREDENTIALS (verb 0x0a), kept raw: COMs, a 0x00
// terminator, then counted Capabilities, Tags, Revocations and COOs (headers/cred decodes it).
type NetworkCredentials struct {
	Data Bytes `json:"data"`
}

// Verb returns 0x0a.
func (NetworkCredentials) Verb() byte { return verbNetworkCredentials }

// ParseNetworkCredentials keeps b; it never fails.
func ParseNetworkCredentials(b []byte) (NetworkCredentials, error) {
	return NetworkCredentials{Data: nilIfEmpty(b)}, nil
}

// AppendMarshal appends the raw payload.
func (n NetworkCredentials) AppendMarshal(dst []byte) []byte { return append(dst, n.Data...) }

func (n NetworkCredentials) String() string {
	return fmt.Sprintf("NETWORK_CREDENTIALS len=%d", len(n.Data))
}

// Ack is the payload of ACK (verb 0x12), kept raw: normally a BE32 byte count. 1.14.1 neither
// sends nor processes it.
type Ack struct {
	Data Bytes `json:"data"`
}

// Verb returns 0x12.
func (Ack) Verb() byte { return verbAck }

// ParseAck keeps b; it never fails.
func ParseAck(b []byte) (Ack, error) { return Ack{Data: nilIfEmpty(b)}, nil }

// AppendMarshal appends the raw payload.
func (a Ack) AppendMarshal(dst []byte) []byte { return append(dst, a.Data...) }

// Bytes returns the acknowledged byte count, if the payload has one.
func (a Ack) Bytes() (uint32, bool) {
	if len(a.Data) < 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(a.Data), true
}

func (a Ack) String() string { return fmt.Sprintf("ACK len=%d", len(a.Data)) }

// QoSRecord is one QOS_MEASUREMENT record. Both fields are little-endian on the wire (host
// order of the reference on common platforms).
type QoSRecord struct {
	PacketID PacketID `json:"packetId"`
	Holding  uint16   `json:"holdingMs"`
}

// QoSMeasurement is the payload of QOS_MEASUREMENT (verb 0x13), kept raw; Records decodes it.
type QoSMeasurement struct {
	Data Bytes `json:"data"`
}

// Verb returns 0x13.
func (QoSMeasurement) Verb() byte { return verbQoSMeasurement }

// ParseQoSMeasurement keeps b; it never fails.
func ParseQoSMeasurement(b []byte) (QoSMeasurement, error) {
	return QoSMeasurement{Data: nilIfEmpty(b)}, nil
}

// AppendMarshal appends the raw payload.
func (q QoSMeasurement) AppendMarshal(dst []byte) []byte { return append(dst, q.Data...) }

// Records decodes the 10-byte records (packet ID, holding time); a partial last record is
// ignored.
func (q QoSMeasurement) Records() []QoSRecord {
	out := make([]QoSRecord, 0, len(q.Data)/10)
	for b := q.Data; len(b) >= 10; b = b[10:] {
		out = append(out, QoSRecord{
			PacketID: PacketID(binary.LittleEndian.Uint64(b)),
			Holding:  binary.LittleEndian.Uint16(b[8:]),
		})
	}
	return out
}

func (q QoSMeasurement) String() string {
	return fmt.Sprintf("QOS_MEASUREMENT records=%d len=%d", len(q.Data)/10, len(q.Data))
}

// MarshalJSON implements json.Marshaler.
func (q QoSMeasurement) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Data    Bytes       `json:"data"`
		Records []QoSRecord `json:"records"`
	}{q.Data, q.Records()})
}

// PathNegotiationRequest is the payload of PATH_NEGOTIATION_REQUEST (verb 0x16), kept raw:
// normally a signed BE16 utility. 1.14.1 never sends it and ignores it.
type PathNegotiationRequest struct {
	Data Bytes `json:"data"`
}

// Verb returns 0x16.
func (PathNegotiationRequest) Verb() byte { return verbPathNegotiationRequest }

// ParsePathNegotiationRequest keeps b; it never fails.
func ParsePathNegotiationRequest(b []byte) (PathNegotiationRequest, error) {
	return PathNegotiationRequest{Data: nilIfEmpty(b)}, nil
}

// AppendMarshal appends the raw payload.
func (p PathNegotiationRequest) AppendMarshal(dst []byte) []byte { return append(dst, p.Data...) }

// Utility returns the signed utility, if the payload has exactly 2 bytes.
func (p PathNegotiationRequest) Utility() (int16, bool) {
	if len(p.Data) != 2 {
		return 0, false
	}
	return int16(binary.BigEndian.Uint16(p.Data)), true
}

func (p PathNegotiationRequest) String() string {
	if u, ok := p.Utility(); ok {
		return fmt.Sprintf("PATH_NEGOTIATION_REQUEST utility=%d", u)
	}
	return fmt.Sprintf("PATH_NEGOTIATION_REQUEST len=%d", len(p.Data))
}

// RemoteTrace is the payload of REMOTE_TRACE (verb 0x15), kept raw (diagnostic dictionaries).
type RemoteTrace struct {
	Data Bytes `json:"data"`
}

// Verb returns 0x15.
func (RemoteTrace) Verb() byte { return verbRemoteTrace }

// ParseRemoteTrace keeps b; it never fails.
func ParseRemoteTrace(b []byte) (RemoteTrace, error) { return RemoteTrace{Data: nilIfEmpty(b)}, nil }

// AppendMarshal appends the raw payload.
func (r RemoteTrace) AppendMarshal(dst []byte) []byte { return append(dst, r.Data...) }

func (r RemoteTrace) String() string { return fmt.Sprintf("REMOTE_TRACE len=%d", len(r.Data)) }

// Unknown is the payload of a verb this protocol version does not define (0x0f, 0x11,
// 0x17..0x1f); receivers treat it like NOP.
type Unknown struct {
	Number byte  `json:"verb"`
	Data   Bytes `json:"data"`
}

// Verb returns the verb number.
func (u Unknown) Verb() byte { return u.Number }

// AppendMarshal appends the raw payload.
func (u Unknown) AppendMarshal(dst []byte) []byte { return append(dst, u.Data...) }

func (u Unknown) String() string { return fmt.Sprintf("VERB_%02x len=%d", u.Number, len(u.Data)) }
