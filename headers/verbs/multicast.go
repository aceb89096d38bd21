package verbs

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// NetworkGroup is one MULTICAST_LIKE record: network ID (8), group MAC (6), ADI (4).
type NetworkGroup struct {
	NetworkID NetworkID      `json:"networkId"`
	Group     MulticastGroup `json:"group"`
}

const networkGroupLength = 8 + multicastGroupLength

// MulticastLike is the payload of MULTICAST_LIKE (verb 0x09): 18-byte records back to back.
// A partial record at the end is kept in Trailing.
type MulticastLike struct {
	Groups   []NetworkGroup `json:"groups"`
	Trailing Bytes          `json:"trailing,omitempty"`
}

// Verb returns 0x09.
func (MulticastLike) Verb() byte { return verbMulticastLike }

// ParseMulticastLike parses a MULTICAST_LIKE payload; it never fails.
func ParseMulticastLike(b []byte) (MulticastLike, error) {
	c := cursor{b: b}
	var m MulticastLike
	for c.remaining() >= networkGroupLength {
		nwid := NetworkID(c.u64("network ID"))
		m.Groups = append(m.Groups, NetworkGroup{NetworkID: nwid, Group: c.group("group")})
	}
	m.Trailing = c.rest()
	return finish(m, &c, "MULTICAST_LIKE")
}

// AppendMarshal appends the records.
func (m MulticastLike) AppendMarshal(dst []byte) []byte {
	for _, g := range m.Groups {
		dst = appendU64(dst, uint64(g.NetworkID))
		dst = g.Group.appendTo(dst)
	}
	return append(dst, m.Trailing...)
}

func (m MulticastLike) String() string {
	parts := make([]string, len(m.Groups))
	for i, g := range m.Groups {
		parts[i] = g.NetworkID.String() + ":" + g.Group.String()
	}
	return "MULTICAST_LIKE " + strings.Join(parts, ",") + trailingString(m.Trailing)
}

// MULTICAST_GATHER flags.
const (
	// GatherFlagCOM: a COM follows the gather limit (deprecated).
	GatherFlagCOM = 0x01
)

// MulticastGather is the payload of MULTICAST_GATHER (verb 0x0d): network ID (8), flags (1),
// group MAC (6), ADI (4), gather limit (4), then a COM if flags&0x01.
type MulticastGather struct {
	NetworkID NetworkID      `json:"networkId"`
	Flags     byte           `json:"flags"`
	Group     MulticastGroup `json:"group"`
	Limit     uint32         `json:"limit"`
	COM       Bytes          `json:"com,omitempty"` // only if Flags&GatherFlagCOM
	Trailing  Bytes          `json:"trailing,omitempty"`
}

// Verb returns 0x0d.
func (MulticastGather) Verb() byte { return verbMulticastGather }

// ParseMulticastGather parses a MULTICAST_GATHER payload.
func ParseMulticastGather(b []byte) (MulticastGather, error) {
	c := cursor{b: b}
	var m MulticastGather
	m.NetworkID = NetworkID(c.u64("network ID"))
	m.Flags = c.u8("flags")
	m.Group = c.group("group")
	m.Limit = c.u32("gather limit")
	if m.Flags&GatherFlagCOM != 0 {
		m.COM = c.com("COM")
	}
	m.Trailing = c.rest()
	return finish(m, &c, "MULTICAST_GATHER")
}

// AppendMarshal appends the payload.
func (m MulticastGather) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(m.NetworkID))
	dst = append(dst, m.Flags)
	dst = m.Group.appendTo(dst)
	dst = appendU32(dst, m.Limit)
	if m.Flags&GatherFlagCOM != 0 {
		dst = append(dst, m.COM...)
	}
	return append(dst, m.Trailing...)
}

func (m MulticastGather) String() string {
	s := fmt.Sprintf("MULTICAST_GATHER nwid=%s group=%s limit=%d flags=%02x", m.NetworkID, m.Group, m.Limit, m.Flags)
	if m.Flags&GatherFlagCOM != 0 {
		s += fmt.Sprintf(" com=%d bytes", len(m.COM))
	}
	return s + trailingString(m.Trailing)
}

// GatherResults is the member list of OK(MULTICAST_GATHER) and OK(MULTICAST_FRAME): total
// members known (4), count N (2), N × 5-byte addresses.
type GatherResults struct {
	TotalKnown uint32
	Members    []identity.Address
}

func (c *cursor) gatherResults() GatherResults {
	var g GatherResults
	g.TotalKnown = c.u32("total known")
	n := int(c.u16("member count"))
	raw := c.take(n*identity.AddressLength, "members")
	if raw != nil {
		g.Members = make([]identity.Address, n)
		for i := range g.Members {
			g.Members[i] = identity.AddressFromBytes(raw[i*identity.AddressLength:])
		}
	}
	return g
}

func (g GatherResults) appendTo(dst []byte) []byte {
	members := g.Members[:min(len(g.Members), 0xffff)]
	dst = appendU32(dst, g.TotalKnown)
	dst = appendU16(dst, uint16(len(members)))
	for _, a := range members {
		dst = a.AppendTo(dst)
	}
	return dst
}

func (g GatherResults) String() string {
	addrs := make([]string, len(g.Members))
	for i, a := range g.Members {
		addrs[i] = a.String()
	}
	return fmt.Sprintf("known=%d members=%s", g.TotalKnown, strings.Join(addrs, ","))
}

// MarshalJSON implements json.Marshaler.
func (g GatherResults) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		TotalKnown uint32     `json:"totalKnown"`
		Members    []jsonAddr `json:"members"`
	}{g.TotalKnown, jsonAddrs(g.Members)})
}

// OKMulticastGather is the body of OK(MULTICAST_GATHER): network ID (8), group MAC (6),
// ADI (4), then gather results.
type OKMulticastGather struct {
	NetworkID NetworkID      `json:"networkId"`
	Group     MulticastGroup `json:"group"`
	Results   GatherResults  `json:"results"`
	Trailing  Bytes          `json:"trailing,omitempty"`
}

// ParseOKMulticastGather parses an OK(MULTICAST_GATHER) body.
func ParseOKMulticastGather(b []byte) (OKMulticastGather, error) {
	c := cursor{b: b}
	var o OKMulticastGather
	o.NetworkID = NetworkID(c.u64("network ID"))
	o.Group = c.group("group")
	o.Results = c.gatherResults()
	o.Trailing = c.rest()
	return finish(o, &c, "OK(MULTICAST_GATHER)")
}

// AppendMarshal appends the body.
func (o OKMulticastGather) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(o.NetworkID))
	dst = o.Group.appendTo(dst)
	dst = o.Results.appendTo(dst)
	return append(dst, o.Trailing...)
}

func (o OKMulticastGather) String() string {
	return fmt.Sprintf("nwid=%s group=%s %s", o.NetworkID, o.Group, o.Results) + trailingString(o.Trailing)
}

// MULTICAST_FRAME flags (PROTOCOL.md part 2 §7.6).
const (
	MulticastFlagCOM         = 0x01 // COM follows the flags (deprecated)
	MulticastFlagGatherLimit = 0x02 // implicit gather limit present
	MulticastFlagSource      = 0x04 // source MAC present
	MulticastFlagReplicate   = 0x08 // "please replicate" (sent to a multicast replicator)
)

// MulticastFrame is the payload of MULTICAST_FRAME (verb 0x0e): network ID (8), flags (1),
// COM if flags&0x01, gather limit (4) if flags&0x02, source MAC (6) if flags&0x04, group MAC
// (6), ADI (4), ethertype (2), Ethernet payload.
type MulticastFrame struct {
	NetworkID   NetworkID
	Flags       byte
	COM         Bytes  // only if Flags&MulticastFlagCOM
	GatherLimit uint32 // only if Flags&MulticastFlagGatherLimit
	Source      MAC    // only if Flags&MulticastFlagSource (else MAC(sender, network))
	Group       MulticastGroup
	EtherType   uint16
	Data        Bytes
}

// Verb returns 0x0e.
func (MulticastFrame) Verb() byte { return verbMulticastFrame }

// ParseMulticastFrame parses a MULTICAST_FRAME payload.
func ParseMulticastFrame(b []byte) (MulticastFrame, error) {
	c := cursor{b: b}
	var m MulticastFrame
	m.NetworkID = NetworkID(c.u64("network ID"))
	m.Flags = c.u8("flags")
	if m.Flags&MulticastFlagCOM != 0 {
		m.COM = c.com("COM")
	}
	if m.Flags&MulticastFlagGatherLimit != 0 {
		m.GatherLimit = c.u32("gather limit")
	}
	if m.Flags&MulticastFlagSource != 0 {
		copy(m.Source[:], c.take(6, "source MAC"))
	}
	m.Group = c.group("group")
	m.EtherType = c.u16("ethertype")
	m.Data = c.rest()
	return finish(m, &c, "MULTICAST_FRAME")
}

// AppendMarshal appends the payload; the optional fields are written as Flags say.
func (m MulticastFrame) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(m.NetworkID))
	dst = append(dst, m.Flags)
	if m.Flags&MulticastFlagCOM != 0 {
		dst = append(dst, m.COM...)
	}
	if m.Flags&MulticastFlagGatherLimit != 0 {
		dst = appendU32(dst, m.GatherLimit)
	}
	if m.Flags&MulticastFlagSource != 0 {
		dst = append(dst, m.Source[:]...)
	}
	dst = m.Group.appendTo(dst)
	dst = appendU16(dst, m.EtherType)
	return append(dst, m.Data...)
}

func (m MulticastFrame) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "MULTICAST_FRAME nwid=%s flags=%02x group=%s ethertype=%04x len=%d",
		m.NetworkID, m.Flags, m.Group, m.EtherType, len(m.Data))
	if m.Flags&MulticastFlagGatherLimit != 0 {
		fmt.Fprintf(&s, " gather=%d", m.GatherLimit)
	}
	if m.Flags&MulticastFlagSource != 0 {
		fmt.Fprintf(&s, " src=%s", m.Source)
	}
	if m.Flags&MulticastFlagCOM != 0 {
		fmt.Fprintf(&s, " com=%d bytes", len(m.COM))
	}
	return s.String()
}

// MarshalJSON implements json.Marshaler.
func (m MulticastFrame) MarshalJSON() ([]byte, error) {
	type view struct {
		NetworkID   NetworkID      `json:"networkId"`
		Flags       byte           `json:"flags"`
		COM         Bytes          `json:"com,omitempty"`
		GatherLimit *uint32        `json:"gatherLimit,omitempty"`
		Source      *MAC           `json:"source,omitempty"`
		Group       MulticastGroup `json:"group"`
		EtherType   string         `json:"etherType"`
		Data        Bytes          `json:"data"`
	}
	v := view{NetworkID: m.NetworkID, Flags: m.Flags, COM: m.COM, Group: m.Group,
		EtherType: fmt.Sprintf("%04x", m.EtherType), Data: m.Data}
	if m.Flags&MulticastFlagGatherLimit != 0 {
		v.GatherLimit = &m.GatherLimit
	}
	if m.Flags&MulticastFlagSource != 0 {
		v.Source = &m.Source
	}
	return json.Marshal(v)
}

// OK(MULTICAST_FRAME) flags.
const (
	OKMulticastFlagCOM    = 0x01 // COM follows (deprecated)
	OKMulticastFlagGather = 0x02 // gather results follow
)

// OKMulticastFrame is the body of OK(MULTICAST_FRAME): network ID (8), group MAC (6), ADI (4),
// flags (1), a COM if flags&0x01, gather results if flags&0x02.
type OKMulticastFrame struct {
	NetworkID NetworkID      `json:"networkId"`
	Group     MulticastGroup `json:"group"`
	Flags     byte           `json:"flags"`
	COM       Bytes          `json:"com,omitempty"`
	Results   *GatherResults `json:"results,omitempty"` // set iff Flags&OKMulticastFlagGather
	Trailing  Bytes          `json:"trailing,omitempty"`
}

// ParseOKMulticastFrame parses an OK(MULTICAST_FRAME) body.
func ParseOKMulticastFrame(b []byte) (OKMulticastFrame, error) {
	c := cursor{b: b}
	var o OKMulticastFrame
	o.NetworkID = NetworkID(c.u64("network ID"))
	o.Group = c.group("group")
	o.Flags = c.u8("flags")
	if o.Flags&OKMulticastFlagCOM != 0 {
		o.COM = c.com("COM")
	}
	if o.Flags&OKMulticastFlagGather != 0 {
		r := c.gatherResults()
		o.Results = &r
	}
	o.Trailing = c.rest()
	return finish(o, &c, "OK(MULTICAST_FRAME)")
}

// AppendMarshal appends the body; the COM and results are written as Flags say (a nil Results
// with the gather flag is written as zero results).
func (o OKMulticastFrame) AppendMarshal(dst []byte) []byte {
	dst = appendU64(dst, uint64(o.NetworkID))
	dst = o.Group.appendTo(dst)
	dst = append(dst, o.Flags)
	if o.Flags&OKMulticastFlagCOM != 0 {
		dst = append(dst, o.COM...)
	}
	if o.Flags&OKMulticastFlagGather != 0 {
		var r GatherResults
		if o.Results != nil {
			r = *o.Results
		}
		dst = r.appendTo(dst)
	}
	return append(dst, o.Trailing...)
}

func (o OKMulticastFrame) String() string {
	s := fmt.Sprintf("nwid=%s group=%s flags=%02x", o.NetworkID, o.Group, o.Flags)
	if o.Flags&OKMulticastFlagCOM != 0 {
		s += fmt.Sprintf(" com=%d bytes", len(o.COM))
	}
	if o.Results != nil {
		s += " " + o.Results.String()
	}
	return s + trailingString(o.Trailing)
}
