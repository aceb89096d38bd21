package verbs

import (
	"encoding/json"
	"fmt"
)

// Frame is the payload of FRAME (verb 0x06): an Ethernet payload between the two members'
// own MACs on a network.
type Frame struct {
	NetworkID NetworkID
	EtherType uint16
	Data      Bytes
}

// Verb returns 0x06.
func (Frame) Verb() byte { return verbFrame }

// ParseFrame parses a FRAME payload.
func ParseFrame(b []byte) (Frame, error) {
	c := cursor{b: b}
	var f Frame
	f.NetworkID = NetworkID(c.u64("network ID"))
	f.EtherType = c.u16("ethertype")
	f.Data = c.rest()
	return finish(f, &c, "FRAME")
}

// AppendMarshal appends the payload.
func (f Frame) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(f.NetworkID))
	dst = appendU16(dst, f.EtherType)
	return append(dst, f.Data...)
}

func (f Frame) String() string {
	return fmt.Sprintf("FRAME nwid=%s ethertype=%04x len=%d", f.NetworkID, f.EtherType, len(f.Data))
}

// MarshalJSON implements json.Marshaler.
func (f Frame) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		NetworkID NetworkID `json:"networkId"`
		EtherType string    `json:"etherType"`
		Data      Bytes     `json:"data"`
	}{f.NetworkID, fmt.Sprintf("%04x", f.EtherType), f.Data})
}

// EXT_FRAME flags (PROTOCOL.md part 2 §7.2).
const (
	// ExtFrameFlagCOM: a COM follows the flags (deprecated; still parsed).
	ExtFrameFlagCOM = 0x01
	// ExtFrameFlagAck: the receiver answers OK(EXT_FRAME) with the network ID.
	ExtFrameFlagAck = 0x10
	// ExtFrameSubtypeMask selects the TEE/REDIRECT/WATCH subtype bits; see ExtFrame.Subtype.
	ExtFrameSubtypeMask = 0x0e
)

// EXT_FRAME subtypes, the value of (flags >> 1) & 7 as 1.14.1 senders set it.
const (
	ExtFrameSubtypeNone             = 0
	ExtFrameSubtypeTeeOutbound      = 1
	ExtFrameSubtypeRedirectOutbound = 2
	ExtFrameSubtypeWatchOutbound    = 3
	ExtFrameSubtypeTeeInbound       = 4
	ExtFrameSubtypeRedirectInbound  = 5
	ExtFrameSubtypeWatchInbound     = 6
)

// ExtFrame is the payload of EXT_FRAME (verb 0x07): network ID (8), flags (1), a COM if
// flags&0x01, destination MAC (6), source MAC (6), ethertype (2), Ethernet payload.
type ExtFrame struct {
	NetworkID   NetworkID
	Flags       byte
	COM         Bytes // serialized COM, present (and written) only if Flags&ExtFrameFlagCOM
	Destination MAC
	Source      MAC
	EtherType   uint16
	Data        Bytes
}

// Verb returns 0x07.
func (ExtFrame) Verb() byte { return verbExtFrame }

// ParseExtFrame parses an EXT_FRAME payload.
func ParseExtFrame(b []byte) (ExtFrame, error) {
	c := cursor{b: b}
	var f ExtFrame
	f.NetworkID = NetworkID(c.u64("network ID"))
	f.Flags = c.u8("flags")
	if f.Flags&ExtFrameFlagCOM != 0 {
		f.COM = c.com("COM")
	}
	copy(f.Destination[:], c.take(6, "destination MAC"))
	copy(f.Source[:], c.take(6, "source MAC"))
	f.EtherType = c.u16("ethertype")
	f.Data = c.rest()
	return finish(f, &c, "EXT_FRAME")
}

// AppendMarshal appends the payload.
func (f ExtFrame) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(f.NetworkID))
	dst = append(dst, f.Flags)
	if f.Flags&ExtFrameFlagCOM != 0 {
		dst = append(dst, f.COM...)
	}
	dst = append(dst, f.Destination[:]...)
	dst = append(dst, f.Source[:]...)
	dst = appendU16(dst, f.EtherType)
	return append(dst, f.Data...)
}

// Subtype returns the TEE/REDIRECT/WATCH subtype, (Flags >> 1) & 7.
func (f ExtFrame) Subtype() int { return int(f.Flags&ExtFrameSubtypeMask) >> 1 }

// AckRequested reports whether the sender asked for OK(EXT_FRAME).
func (f ExtFrame) AckRequested() bool { return f.Flags&ExtFrameFlagAck != 0 }

func (f ExtFrame) String() string {
	s := fmt.Sprintf("EXT_FRAME nwid=%s flags=%02x %s->%s ethertype=%04x len=%d",
		f.NetworkID, f.Flags, f.Source, f.Destination, f.EtherType, len(f.Data))
	if f.Flags&ExtFrameFlagCOM != 0 {
		s += fmt.Sprintf(" com=%d bytes", len(f.COM))
	}
	return s
}

// MarshalJSON implements json.Marshaler.
func (f ExtFrame) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		NetworkID   NetworkID `json:"networkId"`
		Flags       byte      `json:"flags"`
		Subtype     int       `json:"subtype"`
		Ack         bool      `json:"ackRequested"`
		COM         Bytes     `json:"com,omitempty"`
		Destination MAC       `json:"destination"`
		Source      MAC       `json:"source"`
		EtherType   string    `json:"etherType"`
		Data        Bytes     `json:"data"`
	}{f.NetworkID, f.Flags, f.Subtype(), f.AckRequested(), f.COM, f.Destination, f.Source,
		fmt.Sprintf("%04x", f.EtherType), f.Data})
}
