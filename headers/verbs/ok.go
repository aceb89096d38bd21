package verbs

import (
	"encoding/json"
	"fmt"
)

// replyHeaderLength is the size of the in-re verb and in-re packet ID that start OK and ERROR.
const replyHeaderLength = 9

// OK is the payload of OK (verb 0x03): the verb and packet ID it answers and a body typed by
// that verb. Body is one of OKHello, OKWhois, OKEcho, ConfigChunk (in re
// NETWORK_CONFIG_REQUEST), OKMulticastGather, OKMulticastFrame, OKExtFrame, or OKRaw for
// other verbs. A nil Body marshals as nothing.
type OK struct {
	InReVerb     byte
	InRePacketID PacketID
	Body         Payload
}

// Verb returns 0x03.
func (OK) Verb() byte { return verbOK }

// ParseOK parses an OK payload and its body.
func ParseOK(b []byte) (OK, error) {
	c := cursor{b: b}
	var ok OK
	ok.InReVerb = c.u8("in-re verb")
	ok.InRePacketID = PacketID(c.u64("in-re packet ID"))
	if err := c.done("OK"); err != nil {
		return OK{}, err
	}
	body := b[replyHeaderLength:]
	var err error
	switch ok.InReVerb {
	case verbHello:
		ok.Body, err = bodyResult(ParseOKHello(body))
	case verbWhois:
		ok.Body, err = bodyResult(ParseOKWhois(body))
	case verbEcho:
		ok.Body = OKEcho{Data: nilIfEmpty(body)}
	case verbNetworkConfigRequest:
		ok.Body, err = bodyResult(ParseConfigChunk(body))
	case verbMulticastGather:
		ok.Body, err = bodyResult(ParseOKMulticastGather(body))
	case verbMulticastFrame:
		ok.Body, err = bodyResult(ParseOKMulticastFrame(body))
	case verbExtFrame:
		ok.Body, err = bodyResult(ParseOKExtFrame(body))
	default:
		ok.Body = OKRaw{Data: nilIfEmpty(body)}
	}
	if err != nil {
		return OK{}, fmt.Errorf("verbs: OK(%s): %w", verbName(ok.InReVerb), err)
	}
	return ok, nil
}

func bodyResult[T Payload](v T, err error) (Payload, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func nilIfEmpty(b []byte) Bytes {
	if len(b) == 0 {
		return nil
	}
	return b
}

// AppendMarshal appends the OK payload: in-re verb, in-re packet ID, body.
func (ok OK) AppendMarshal(dst []byte) []byte {
	dst = append(dst, ok.InReVerb)
	dst = appendU64(dst, uint64(ok.InRePacketID))
	if ok.Body != nil {
		dst = ok.Body.AppendMarshal(dst)
	}
	return dst
}

func (ok OK) String() string {
	s := fmt.Sprintf("OK re=%s id=%s", verbName(ok.InReVerb), ok.InRePacketID)
	if ok.Body != nil {
		if b := ok.Body.String(); b != "" {
			s += " " + b
		}
	}
	return s
}

// MarshalJSON implements json.Marshaler.
func (ok OK) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		InReVerb     string   `json:"inReVerb"`
		InRePacketID PacketID `json:"inRePacketId"`
		Body         Payload  `json:"body,omitempty"`
	}{verbName(ok.InReVerb), ok.InRePacketID, ok.Body})
}

// OKEcho is the body of OK(ECHO): a copy of the ECHO payload. (1.14.1 also acknowledges a
// complete NETWORK_CONFIG with in-re verb ECHO; the body is then network ID + update ID.)
type OKEcho struct {
	Data Bytes `json:"data"`
}

// ParseOKEcho parses an OK(ECHO) body; it never fails.
func ParseOKEcho(b []byte) (OKEcho, error) { return OKEcho{Data: nilIfEmpty(b)}, nil }

// AppendMarshal appends the echoed data.
func (e OKEcho) AppendMarshal(dst []byte) []byte { return append(dst, e.Data...) }

func (e OKEcho) String() string { return fmt.Sprintf("data=%d bytes", len(e.Data)) }

// OKRaw is the body of an OK in re a verb without a typed body.
type OKRaw struct {
	Data Bytes `json:"data"`
}

// ParseOKRaw keeps b as is; it never fails.
func ParseOKRaw(b []byte) (OKRaw, error) { return OKRaw{Data: nilIfEmpty(b)}, nil }

// AppendMarshal appends the raw body.
func (r OKRaw) AppendMarshal(dst []byte) []byte { return append(dst, r.Data...) }

func (r OKRaw) String() string { return fmt.Sprintf("raw=%d bytes", len(r.Data)) }

// OKExtFrame is the body of OK(EXT_FRAME), sent when the frame asked for an ACK.
type OKExtFrame struct {
	NetworkID NetworkID `json:"networkId"`
	Trailing  Bytes     `json:"trailing,omitempty"`
}

// ParseOKExtFrame parses an OK(EXT_FRAME) body.
func ParseOKExtFrame(b []byte) (OKExtFrame, error) {
	c := cursor{b: b}
	var o OKExtFrame
	o.NetworkID = NetworkID(c.u64("network ID"))
	o.Trailing = c.rest()
	return finish(o, &c, "OK(EXT_FRAME)")
}

// AppendMarshal appends the network ID (and any trailing bytes).
func (o OKExtFrame) AppendMarshal(dst []byte) []byte {
	return append(appendU64(dst, uint64(o.NetworkID)), o.Trailing...)
}

func (o OKExtFrame) String() string {
	return "nwid=" + o.NetworkID.String() + trailingString(o.Trailing)
}

// trailingString notes unparsed trailing bytes in String output.
func trailingString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return fmt.Sprintf(" +%d trailing", len(b))
}
