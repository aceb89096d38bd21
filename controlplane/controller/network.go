package controller

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// Limits and defaults of the reference controller.
const (
	APIVersion          = 4     // "apiVersion" of GET /controller
	MaxArraySize        = 16384 // arrays from POST bodies are cut to this length
	DefaultMTU          = 2800
	MinMTU              = 1280
	MaxMTU              = 10000
	DefaultMulticastLim = 32
)

// NetworkID is a 64-bit network id; the controller's address is in its top 40 bits.
type NetworkID uint64

// String is the 16-hex form.
func (n NetworkID) String() string { return fmt.Sprintf("%016x", uint64(n)) }

// Controller is the address of the node that controls the network.
func (n NetworkID) Controller() identity.Address { return identity.Address(uint64(n) >> 24) }

// ParseNetworkID reads exactly 16 hex digits (either case).
func ParseNetworkID(s string) (NetworkID, error) {
	if len(s) != 16 || !isHex(s) {
		return 0, fmt.Errorf("controller: bad network id %q: want 16 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return NetworkID(v), err
}

// parseMemberAddress reads exactly 10 hex digits (either case).
func parseMemberAddress(s string) (identity.Address, error) {
	if len(s) != 10 || !isHex(s) {
		return 0, fmt.Errorf("controller: bad member address %q: want 10 hex digits", s)
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return identity.Address(v), err
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Network is a network record. Field order is the sorted key order of the
// reference's JSON dump.
type Network struct {
	AuthTokens            AuthTokens   `json:"authTokens"`
	AuthorizationEndpoint string       `json:"authorizationEndpoint"`
	Capabilities          []Capability `json:"capabilities"`
	// CertificateTimeoutWindowSize is the credential window in ms (absent = default).
	CertificateTimeoutWindowSize *uint64 `json:"certificateTimeoutWindowSize,omitempty"`
	ClientID                     string  `json:"clientId"`
	CreationTime                 int64   `json:"creationTime"`
	DNS                          DNS     `json:"dns"`
	EnableBroadcast              bool    `json:"enableBroadcast"`
	ID                           string  `json:"id"`
	IPAssignmentPools            []Pool  `json:"ipAssignmentPools"`
	MTU                          uint64  `json:"mtu"`
	MulticastLimit               uint64  `json:"multicastLimit"`
	Name                         string  `json:"name"`
	NWID                         string  `json:"nwid"`
	ObjType                      string  `json:"objtype"`
	Private                      bool    `json:"private"`
	RemoteTraceLevel             uint64  `json:"remoteTraceLevel"`
	RemoteTraceTarget            *string `json:"remoteTraceTarget"`
	Revision                     uint64  `json:"revision"`
	Routes                       []Route `json:"routes"`
	// Rules are rule objects as the reference renders them (§10.4); use
	// ParsedRules for typed access.
	Rules        []json.RawMessage `json:"rules"`
	RulesSource  string            `json:"rulesSource"`
	SSOEnabled   bool              `json:"ssoEnabled"`
	Tags         []TagDef          `json:"tags"`
	V4AssignMode V4AssignMode      `json:"v4AssignMode"`
	V6AssignMode V6AssignMode      `json:"v6AssignMode"`
}

// Capability is a network capability definition.
type Capability struct {
	Default bool              `json:"default"`
	ID      uint64            `json:"id"`
	Rules   []json.RawMessage `json:"rules"`
}

// TagDef is a network tag definition; Default nil means no default.
type TagDef struct {
	Default *uint64 `json:"default"`
	ID      uint64  `json:"id"`
}

// Pool is an IP assignment pool (both ends inclusive in the JSON; see Assign).
type Pool struct {
	IPRangeEnd   netip.Addr `json:"ipRangeEnd"`
	IPRangeStart netip.Addr `json:"ipRangeStart"`
}

// Route is a managed route. Target keeps the address bits as given; Via is
// nil for a route on the network itself.
type Route struct {
	Target netip.Prefix `json:"target"`
	Via    *netip.Addr  `json:"via"`
}

// V4AssignMode selects IPv4 auto-assignment from the pools.
type V4AssignMode struct {
	ZT bool `json:"zt"`
}

// V6AssignMode selects the IPv6 assignment modes.
type V6AssignMode struct {
	SixPlane bool `json:"6plane"`
	RFC4193  bool `json:"rfc4193"`
	ZT       bool `json:"zt"`
}

// DNS is the network's DNS push. The reference stores an empty array until
// it is set, then an object; Set tells which.
type DNS struct {
	Set     bool
	Domain  string
	Servers []string
}

// MarshalJSON implements json.Marshaler.
func (d DNS) MarshalJSON() ([]byte, error) {
	if !d.Set {
		return []byte("[]"), nil
	}
	s := d.Servers
	if s == nil {
		s = []string{}
	}
	return marshal(struct {
		Domain  string   `json:"domain"`
		Servers []string `json:"servers"`
	}{d.Domain, s})
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *DNS) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		*d = DNS{}
		return nil
	}
	var o struct {
		Domain  any   `json:"domain"`
		Servers []any `json:"servers"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*d = DNS{Set: true}
	d.Domain, _ = o.Domain.(string)
	for _, s := range o.Servers {
		if s, ok := s.(string); ok {
			d.Servers = append(d.Servers, s)
		}
	}
	return nil
}

// AuthTokens maps a token to its expiry in ms (0 = never). The reference's
// placeholder before any token is set is [null] (a nil map here); a POST of
// an object with no valid entries stores null (an empty non-nil map).
type AuthTokens map[string]uint64

// MarshalJSON implements json.Marshaler.
func (a AuthTokens) MarshalJSON() ([]byte, error) {
	if a == nil {
		return []byte("[null]"), nil
	}
	if len(a) == 0 {
		return []byte("null"), nil
	}
	return marshal(map[string]uint64(a))
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *AuthTokens) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*a = AuthTokens{}
	case len(b) > 0 && b[0] == '{':
		var m map[string]any
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return err
		}
		*a = authTokensFrom(m)
	default:
		*a = nil
	}
	return nil
}

// NewNetwork returns a network record with the reference's defaults.
func NewNetwork(id NetworkID, now int64) *Network {
	n := &Network{CreationTime: now}
	n.Private = true
	n.MulticastLimit = DefaultMulticastLim
	n.EnableBroadcast = true
	n.MTU = DefaultMTU
	n.Rules = []json.RawMessage{json.RawMessage(`{"not":false,"or":false,"type":"ACTION_ACCEPT"}`)}
	n.setID(id)
	n.normalize()
	return n
}

func (n *Network) setID(id NetworkID) {
	n.ID = id.String()
	n.NWID = n.ID
}

// NetworkID returns the id as a number (0 if the record's id is bad).
func (n *Network) NetworkID() NetworkID {
	id, _ := ParseNetworkID(n.ID)
	return id
}

// normalize makes empty arrays non-nil so that they encode as [].
func (n *Network) normalize() {
	n.ObjType = "network"
	if n.Capabilities == nil {
		n.Capabilities = []Capability{}
	}
	for i := range n.Capabilities {
		if n.Capabilities[i].Rules == nil {
			n.Capabilities[i].Rules = []json.RawMessage{}
		}
	}
	if n.IPAssignmentPools == nil {
		n.IPAssignmentPools = []Pool{}
	}
	if n.Routes == nil {
		n.Routes = []Route{}
	}
	if n.Rules == nil {
		n.Rules = []json.RawMessage{}
	}
	if n.Tags == nil {
		n.Tags = []TagDef{}
	}
}

// Clone returns a deep copy.
func (n *Network) Clone() *Network {
	b, err := marshal(n)
	if err != nil {
		panic(err) // cannot happen: every field marshals
	}
	c := new(Network)
	if err := json.Unmarshal(b, c); err != nil {
		panic(err)
	}
	return c
}

// MarshalJSON-free encoding helper: compact, no HTML escaping (as the reference).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// sameIgnoringRevision reports whether a and b encode the same apart from
// "revision", which is how the reference decides whether a save changes
// anything.
func sameIgnoringRevision[T any](a, b *T, rev func(*T) *uint64) bool {
	ra, rb := *rev(a), *rev(b)
	*rev(a), *rev(b) = 0, 0
	ja, erra := marshal(a)
	jb, errb := marshal(b)
	*rev(a), *rev(b) = ra, rb
	return erra == nil && errb == nil && bytes.Equal(ja, jb)
}

// parseIP reads an address the way the reference's InetAddress does for
// "ip" or "ip/bits" strings: the part after '/' is ignored here.
func parseIP(s string) (netip.Addr, bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		s = s[:i]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a, true
}

// parsePrefix reads "ip/bits" ("ip" alone means /0, as in the reference),
// keeping host bits; bits must fit the family.
func parsePrefix(s string) (netip.Prefix, bool) {
	addr, bitsStr, _ := strings.Cut(s, "/")
	a, ok := parseIP(addr)
	if !ok {
		return netip.Prefix{}, false
	}
	bits := 0
	if bitsStr != "" {
		v, err := strconv.ParseUint(bitsStr, 10, 16)
		if err != nil {
			return netip.Prefix{}, false
		}
		bits = int(v)
	}
	if bits > a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, bits), true
}
