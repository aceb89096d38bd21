package netconf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/dict"
	"github.com/ztx/ztx/headers/inet"
	"github.com/ztx/ztx/headers/rules"
)

// Version is the network config format version the writer puts in key "v".
const Version = 7

// MinVersion is the oldest format ParseDictionary reads; older (legacy) configs are refused,
// as in 1.14.1 where legacy parsing is compiled out.
const MinVersion = 6

// Dictionary keys of a network config (PROTOCOL.md part 2 §4), in the order the writer uses.
const (
	KeyVersion         = "v"
	KeyNetworkID       = "nwid"
	KeyTimestamp       = "ts"
	KeyCredentialDelta = "ctmd"
	KeyRevision        = "r"
	KeyIssuedTo        = "id"
	KeyTraceTarget     = "tt"
	KeyTraceLevel      = "tl"
	KeyFlags           = "f"
	KeyMulticastLimit  = "ml"
	KeyType            = "t"
	KeyName            = "n"
	KeyMTU             = "mtu"
	KeyCOM             = "C"
	KeyCapabilities    = "CAP"
	KeyTags            = "TAG"
	KeyCOOs            = "COO"
	KeySpecialists     = "S"
	KeyRoutes          = "RT"
	KeyStaticIPs       = "I"
	KeyRules           = "R"
	KeyDNS             = "DNS"
	KeySSOVersion      = "ssov"
	KeySSOEnabled      = "ssoe"
	KeyAuthURL         = "aurl"
	KeyAuthExpiry      = "aexpt"
	KeyIssuerURL       = "iurl"
	KeyCentralURL      = "ssoce"
	KeySSONonce        = "sson"
	KeySSOState        = "ssos"
	KeySSOClientID     = "ssocid"
	KeySSOProvider     = "ssop"
)

// Limits a reader applies (PROTOCOL.md part 2 §4). The sizes of text fields are the
// reference's buffer sizes including the terminating NUL: values are cut to one byte less.
const (
	MaxRoutes       = 128
	MaxStaticIPs    = 32
	MaxSpecialists  = 256
	MaxDNSServers   = 4
	DNSDomainSize   = 128
	NameSize        = 128 // names are at most 127 bytes
	URLSize         = 2048
	SSONonceSize    = 128
	SSOStateSize    = 256
	SSOClientIDSize = 256
	SSOProviderSize = 64

	DefaultMTU = 2800
	MinMTU     = 1280
	MaxMTU     = 10000
)

// Credential time window bounds, in ms (PROTOCOL.md part 2 §4).
const (
	DefaultCredentialDelta = 30 * 60 * 1000
	MinCredentialDelta     = 5 * 60 * 1000
	MaxCredentialDelta     = 2 * 60 * 60 * 1000
)

// DefaultSSOProvider is the provider name a reader assumes for an enabled SSO v1 network that
// names none.
const DefaultSSOProvider = "default"

// Flags are the bits of key "f".
type Flags uint64

// Config flags.
const (
	FlagBroadcast          Flags = 0x02 // deliver ff:ff:ff:ff:ff:ff
	FlagNDPEmulation       Flags = 0x04 // emulate IPv6 NDP for rfc4193/6plane addresses
	FlagUnsupportedMatch   Flags = 0x08 // result of a MATCH rule the engine does not know
	FlagDisableCompression Flags = 0x10 // do not compress multicast frames
)

// NetworkType is key "t".
type NetworkType uint64

// Network types. A private network requires a COM from every peer; a public one does not.
const (
	Private NetworkType = 0
	Public  NetworkType = 1
)

func (t NetworkType) String() string {
	switch t {
	case Private:
		return "PRIVATE"
	case Public:
		return "PUBLIC"
	}
	return fmt.Sprintf("TYPE_%d", uint64(t))
}

// Specialist is one 64-bit entry of key "S": a node address in the low 40 bits and role bits
// above it.
type Specialist uint64

// Specialist roles.
const (
	RoleActiveBridge         Specialist = 0x0000020000000000
	RoleAnchor               Specialist = 0x0000040000000000
	RoleMulticastReplicator  Specialist = 0x0000080000000000
	specialistAddressMask    Specialist = Specialist(identity.AddressMask)
	specialistAlwaysContacts            = RoleAnchor | RoleMulticastReplicator
)

// NewSpecialist returns the entry for address a with the given roles.
func NewSpecialist(a identity.Address, roles Specialist) Specialist {
	return Specialist(uint64(a)&identity.AddressMask) | roles&^specialistAddressMask
}

// Address is the specialist's node address.
func (s Specialist) Address() identity.Address { return identity.Address(s & specialistAddressMask) }

// Roles is the entry without its address.
func (s Specialist) Roles() Specialist { return s &^ specialistAddressMask }

// Has reports whether the specialist has every role in r.
func (s Specialist) Has(r Specialist) bool { return s&r == r }

// Route is one managed route (key "RT").
type Route struct {
	Target netip.Prefix // network and prefix length (the port field on the wire)
	Via    netip.Addr   // gateway; the zero Addr means none (the LAN route)
	Flags  uint16       // 0 from the controller
	Metric uint16       // 0 from the controller
}

// DNS is key "DNS": a search domain and up to four servers (zero AddrPort = unused slot).
type DNS struct {
	Domain  string // at most DNSDomainSize-1 bytes
	Servers [MaxDNSServers]netip.AddrPort
}

// Config is a network config: what a controller issues to one member of one network.
// ParseDictionary fills it as the 1.14.1 reader does; ToDictionary writes it as the 1.14.1
// writer does.
type Config struct {
	NetworkID       uint64           // nwid; non-zero
	Timestamp       int64            // ts: controller time (ms) when issued
	CredentialDelta int64            // ctmd: max |cred.ts - Timestamp| for peers' credentials (ms)
	Revision        uint64           // r: network revision
	IssuedTo        identity.Address // id: the member; non-zero
	TraceTarget     identity.Address // tt: remote trace target, 0 if none
	TraceLevel      uint32           // tl
	Flags           Flags            // f
	MulticastLimit  uint32           // ml: max recipients per multicast; 0 disables multicast
	Type            NetworkType      // t
	Name            string           // n: at most 127 bytes
	MTU             uint32           // mtu: in [MinMTU, MaxMTU] after parsing

	COM          *cred.COM         // C: nil if the config carries none
	Capabilities []cred.Capability // CAP: sorted by ID after parsing, at most 128
	Tags         []cred.Tag        // TAG: sorted by ID after parsing, at most 128
	COOs         []cred.COO        // COO: at most 4
	Specialists  []Specialist      // S: at most 256
	Routes       []Route           // RT: at most 128
	StaticIPs    []netip.Prefix    // I: managed IPs, address and prefix length; at most 32
	Rules        []rules.Rule      // R: base rule table, at most 1024
	DNS          DNS               // DNS: always written

	SSOVersion  uint64 // ssov: 0 or 1; other versions write no SSO fields
	SSOEnabled  bool   // ssoe
	AuthURL     string // aurl: v0 when enabled (also read for v1)
	AuthExpiry  int64  // aexpt: v0 when enabled (ms)
	IssuerURL   string // iurl: v1
	CentralURL  string // ssoce: v1
	SSONonce    string // sson: v1
	SSOState    string // ssos: v1
	SSOClientID string // ssocid: v1
	SSOProvider string // ssop: v1
}

// Errors.
var (
	ErrInvalid = errors.New("netconf: invalid network config")
	ErrLegacy  = errors.New("netconf: legacy network config (version < 6)")
)

// Parse reads a serialized network config dictionary (data after the first NUL is ignored;
// the whole must fit dict.NetworkConfigCapacity).
func Parse(b []byte) (*Config, error) {
	d, err := dict.ParseLimit(b, dict.NetworkConfigCapacity)
	if err != nil {
		return nil, fmt.Errorf("netconf: %w", err)
	}
	return ParseDictionary(d)
}

// ParseDictionary reads a network config as the 1.14.1 reader does: nwid and id are required
// and non-zero, v must be at least 6, the MTU is clamped, lists are cut to their limits,
// capabilities and tags are sorted by ID (a bad one ends its list), and a bad COM, COO, route,
// static IP, rule or DNS blob refuses the whole config. The result does not alias d.
func ParseDictionary(d *dict.Dictionary) (*Config, error) {
	c := &Config{}
	if c.NetworkID = d.Uint(KeyNetworkID, 0); c.NetworkID == 0 {
		return nil, fmt.Errorf("%w: no network id", ErrInvalid)
	}
	if c.IssuedTo = d.Address(KeyIssuedTo, 0); c.IssuedTo == 0 {
		return nil, fmt.Errorf("%w: no issued-to address", ErrInvalid)
	}
	if v := d.Uint(KeyVersion, 0); v < MinVersion {
		return nil, fmt.Errorf("%w: v=%d", ErrLegacy, v)
	}
	c.Timestamp = int64(d.Uint(KeyTimestamp, 0))
	c.CredentialDelta = int64(d.Uint(KeyCredentialDelta, 0))
	c.Revision = d.Uint(KeyRevision, 0)
	c.TraceTarget = d.Address(KeyTraceTarget, 0)
	c.TraceLevel = uint32(d.Uint(KeyTraceLevel, 0))
	c.MulticastLimit = uint32(d.Uint(KeyMulticastLimit, 0))
	c.Name = text(d, KeyName, NameSize)
	c.MTU = min(max(uint32(d.Uint(KeyMTU, DefaultMTU)), MinMTU), MaxMTU)
	c.Flags = Flags(d.Uint(KeyFlags, 0))
	c.Type = NetworkType(d.Uint(KeyType, uint64(Private)))

	if b, ok := blob(d, KeyCOM); ok {
		com, _, err := cred.ParseCOM(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, KeyCOM, err)
		}
		c.COM = &com
	}
	if b, ok := blob(d, KeyCapabilities); ok {
		caps, _ := cred.ParseCapabilities(b) // like the reference, keep those before a bad one
		c.Capabilities = caps[:min(len(caps), cred.MaxConfigCapabilities)]
		slices.SortStableFunc(c.Capabilities, func(a, b cred.Capability) int { return cmp(a.ID, b.ID) })
	}
	if b, ok := blob(d, KeyTags); ok {
		tags, _ := cred.ParseTags(b)
		c.Tags = tags[:min(len(tags), cred.MaxConfigTags)]
		slices.SortStableFunc(c.Tags, func(a, b cred.Tag) int { return cmp(a.ID, b.ID) })
	}
	if b, ok := blob(d, KeyCOOs); ok {
		coos, err := cred.ParseCOOs(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, KeyCOOs, err)
		}
		c.COOs = coos[:min(len(coos), cred.MaxConfigCOOs)]
	}
	if b, ok := blob(d, KeySpecialists); ok {
		for p := 0; p+8 <= len(b) && len(c.Specialists) < MaxSpecialists; p += 8 {
			c.Specialists = append(c.Specialists, Specialist(binary.BigEndian.Uint64(b[p:])))
		}
	}
	if b, ok := blob(d, KeyRoutes); ok {
		rts, err := parseRoutes(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, KeyRoutes, err)
		}
		c.Routes = rts
	}
	if b, ok := blob(d, KeyStaticIPs); ok {
		for p := 0; p < len(b) && len(c.StaticIPs) < MaxStaticIPs; {
			ip, n, err := parsePrefix(b[p:])
			if err != nil {
				return nil, fmt.Errorf("%w: %s %d: %w", ErrInvalid, KeyStaticIPs, len(c.StaticIPs), err)
			}
			c.StaticIPs = append(c.StaticIPs, ip)
			p += n
		}
	}
	if b, ok := blob(d, KeyRules); ok {
		rs, _, err := rules.ParseList(b, rules.MaxNetworkRules)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, KeyRules, err)
		}
		c.Rules = rs
	}
	if b, ok := blob(d, KeyDNS); ok {
		dns, err := parseDNS(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, KeyDNS, err)
		}
		c.DNS = dns
	}

	c.SSOVersion = d.Uint(KeySSOVersion, 0)
	c.SSOEnabled = d.Bool(KeySSOEnabled, false)
	if c.SSOEnabled {
		switch c.SSOVersion {
		case 0:
			c.AuthURL = text(d, KeyAuthURL, URLSize)
			c.AuthExpiry = d.Int(KeyAuthExpiry, 0)
		case 1:
			c.AuthURL = text(d, KeyAuthURL, URLSize)
			c.IssuerURL = text(d, KeyIssuerURL, URLSize)
			c.CentralURL = text(d, KeyCentralURL, URLSize)
			c.SSONonce = text(d, KeySSONonce, SSONonceSize)
			c.SSOState = text(d, KeySSOState, SSOStateSize)
			c.SSOClientID = text(d, KeySSOClientID, SSOClientIDSize)
			if c.SSOProvider = text(d, KeySSOProvider, SSOProviderSize); c.SSOProvider == "" {
				c.SSOProvider = DefaultSSOProvider
			}
		}
	}
	return c, nil
}

// ToDictionary writes the config as the 1.14.1 writer does (see AppendDictionary) into a new
// dictionary limited to dict.NetworkConfigCapacity.
func (c *Config) ToDictionary() (*dict.Dictionary, error) {
	d := dict.New(dict.NetworkConfigCapacity)
	if err := c.AppendDictionary(d); err != nil {
		return nil, err
	}
	return d, nil
}

// AppendMarshal appends the serialized dictionary of ToDictionary (no terminating NUL).
func (c *Config) AppendMarshal(dst []byte) ([]byte, error) {
	d, err := c.ToDictionary()
	if err != nil {
		return dst, err
	}
	return d.AppendMarshal(dst), nil
}

// AppendDictionary adds the config's entries to d in the reference writer's order: the
// scalars v (always 7) through mtu, then the blobs C (if a COM), CAP, TAG, COO, S, RT, I (each
// only if non-empty), R (if any rules), DNS (always), then the SSO fields of version 0
// (ssov, ssoe and, if enabled, aurl when non-empty and aexpt) or version 1 (ssov, ssoe, iurl,
// ssoce, sson, ssos, ssocid, ssop). It fails if d's capacity is exceeded; d then holds the
// entries added so far.
func (c *Config) AppendDictionary(d *dict.Dictionary) error {
	w := writer{d: d}
	w.uint(KeyVersion, Version)
	w.uint(KeyNetworkID, c.NetworkID)
	w.int(KeyTimestamp, c.Timestamp)
	w.int(KeyCredentialDelta, c.CredentialDelta)
	w.uint(KeyRevision, c.Revision)
	w.addr(KeyIssuedTo, c.IssuedTo)
	w.addr(KeyTraceTarget, c.TraceTarget)
	w.uint(KeyTraceLevel, uint64(c.TraceLevel))
	w.uint(KeyFlags, uint64(c.Flags))
	w.uint(KeyMulticastLimit, uint64(c.MulticastLimit))
	w.uint(KeyType, uint64(c.Type))
	w.str(KeyName, c.Name, NameSize)
	w.uint(KeyMTU, uint64(c.MTU))

	if c.COM != nil {
		w.add(KeyCOM, c.COM.AppendMarshal(nil))
	}
	w.blob(KeyCapabilities, cred.AppendCapabilities(nil, c.Capabilities))
	w.blob(KeyTags, cred.AppendTags(nil, c.Tags))
	w.blob(KeyCOOs, cred.AppendCOOs(nil, c.COOs))
	var b []byte
	for _, s := range c.Specialists {
		b = binary.BigEndian.AppendUint64(b, uint64(s))
	}
	w.blob(KeySpecialists, b)
	b = nil
	for _, r := range c.Routes {
		b = appendPrefix(b, r.Target)
		var via netip.AddrPort
		if r.Via.IsValid() {
			via = netip.AddrPortFrom(r.Via, 0)
		}
		b = inet.Append(b, via)
		b = binary.BigEndian.AppendUint16(b, r.Flags)
		b = binary.BigEndian.AppendUint16(b, r.Metric)
	}
	w.blob(KeyRoutes, b)
	b = nil
	for _, ip := range c.StaticIPs {
		b = appendPrefix(b, ip)
	}
	w.blob(KeyStaticIPs, b)
	w.blob(KeyRules, rules.AppendList(nil, c.Rules))
	w.add(KeyDNS, c.DNS.appendMarshal(nil))

	switch c.SSOVersion {
	case 0:
		w.uint(KeySSOVersion, 0)
		w.bool(KeySSOEnabled, c.SSOEnabled)
		if c.SSOEnabled {
			if c.AuthURL != "" {
				w.str(KeyAuthURL, c.AuthURL, URLSize)
			}
			// The reference writes an unsigned value; the two forms agree for every
			// non-negative time, and the signed form reads back as written.
			w.int(KeyAuthExpiry, c.AuthExpiry)
		}
	case 1:
		w.uint(KeySSOVersion, 1)
		w.bool(KeySSOEnabled, c.SSOEnabled)
		w.str(KeyIssuerURL, c.IssuerURL, URLSize)
		w.str(KeyCentralURL, c.CentralURL, URLSize)
		w.str(KeySSONonce, c.SSONonce, SSONonceSize)
		w.str(KeySSOState, c.SSOState, SSOStateSize)
		w.str(KeySSOClientID, c.SSOClientID, SSOClientIDSize)
		w.str(KeySSOProvider, c.SSOProvider, SSOProviderSize)
	}
	if w.err != nil {
		return fmt.Errorf("netconf: writing config: %w", w.err)
	}
	return nil
}

// CheckFor applies the receiver's acceptance rule: the config must be for network nwid and
// issued to self.
func (c *Config) CheckFor(nwid uint64, self identity.Address) error {
	switch {
	case c.NetworkID != nwid:
		return fmt.Errorf("%w: network %016x, expected %016x", ErrInvalid, c.NetworkID, nwid)
	case c.IssuedTo != self:
		return fmt.Errorf("%w: issued to %s, not %s", ErrInvalid, c.IssuedTo, self)
	}
	return nil
}

// Controller is the address of the network's controller.
func (c *Config) Controller() identity.Address { return Controller(c.NetworkID) }

// Private reports whether peers need a COM to pass the network's gate.
func (c *Config) Private() bool { return c.Type != Public }

// Broadcast reports whether ff:ff:ff:ff:ff:ff is delivered.
func (c *Config) Broadcast() bool { return c.Flags&FlagBroadcast != 0 }

// NDPEmulation reports whether IPv6 NDP is emulated for rfc4193 and 6plane addresses.
func (c *Config) NDPEmulation() bool { return c.Flags&FlagNDPEmulation != 0 }

// SpecialistsWith returns the addresses of the specialists having role r.
func (c *Config) SpecialistsWith(r Specialist) []identity.Address {
	var out []identity.Address
	for _, s := range c.Specialists {
		if s&r != 0 {
			out = append(out, s.Address())
		}
	}
	return out
}

// ActiveBridges returns the addresses allowed to bridge.
func (c *Config) ActiveBridges() []identity.Address { return c.SpecialistsWith(RoleActiveBridge) }

// AlwaysContact returns the anchors and multicast replicators: peers kept pinged and always
// sent multicast LIKEs.
func (c *Config) AlwaysContact() []identity.Address {
	return c.SpecialistsWith(specialistAlwaysContacts)
}

// PermitsBridging reports whether node a may bridge (send frames from other MACs).
func (c *Config) PermitsBridging(a identity.Address) bool {
	for _, s := range c.Specialists {
		if s.Address() == a && s.Has(RoleActiveBridge) {
			return true
		}
	}
	return false
}

// Capability returns the capability with ID id.
func (c *Config) Capability(id uint32) (*cred.Capability, bool) {
	for i := range c.Capabilities {
		if c.Capabilities[i].ID == id {
			return &c.Capabilities[i], true
		}
	}
	return nil, false
}

// Tag returns the tag with ID id.
func (c *Config) Tag(id uint32) (*cred.Tag, bool) {
	for i := range c.Tags {
		if c.Tags[i].ID == id {
			return &c.Tags[i], true
		}
	}
	return nil, false
}

// HasStaticIP reports whether ip is one of the member's managed addresses.
func (c *Config) HasStaticIP(ip netip.Addr) bool {
	for _, p := range c.StaticIPs {
		if p.Addr() == ip {
			return true
		}
	}
	return false
}

func cmp(a, b uint32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// blob returns a copy of key's value, so parsed credentials do not alias the dictionary.
func blob(d *dict.Dictionary, key string) ([]byte, bool) {
	b, ok := d.Get(key)
	return bytes.Clone(b), ok
}

// text reads key as the reference reads into a char[size]: up to the first NUL, at most size-1
// bytes.
func text(d *dict.Dictionary, key string, size int) string {
	b, _ := d.Get(key)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b[:min(len(b), size-1)])
}

// cstring cuts s as a C string: at the first NUL.
func cstring(s string) string {
	if i := bytes.IndexByte([]byte(s), 0); i >= 0 {
		return s[:i]
	}
	return s
}

// parsePrefix reads an InetAddress whose port field is a prefix length. A null (or reserved
// type) address gives the zero Prefix, which appendPrefix writes back as 0x00.
func parsePrefix(b []byte) (netip.Prefix, int, error) {
	ap, n, err := inet.Parse(b)
	if err != nil {
		return netip.Prefix{}, 0, err
	}
	if !ap.IsValid() {
		return netip.Prefix{}, n, nil
	}
	if int(ap.Port()) > ap.Addr().BitLen() {
		return netip.Prefix{}, 0, fmt.Errorf("prefix length %d for %s", ap.Port(), ap.Addr())
	}
	return netip.PrefixFrom(ap.Addr(), int(ap.Port())), n, nil
}

func appendPrefix(dst []byte, p netip.Prefix) []byte {
	if !p.IsValid() {
		return inet.Append(dst, netip.AddrPort{})
	}
	return inet.Append(dst, netip.AddrPortFrom(p.Addr(), uint16(p.Bits())))
}

func parseRoutes(b []byte) ([]Route, error) {
	var out []Route
	for p := 0; p < len(b) && len(out) < MaxRoutes; {
		var r Route
		t, n, err := parsePrefix(b[p:])
		if err != nil {
			return nil, fmt.Errorf("route %d target: %w", len(out), err)
		}
		p += n
		via, n, err := inet.Parse(b[p:])
		if err != nil {
			return nil, fmt.Errorf("route %d via: %w", len(out), err)
		}
		p += n
		if len(b)-p < 4 {
			return nil, fmt.Errorf("route %d: %w", len(out), inet.ErrTruncated)
		}
		r.Target, r.Via = t, via.Addr()
		r.Flags = binary.BigEndian.Uint16(b[p:])
		r.Metric = binary.BigEndian.Uint16(b[p+2:])
		p += 4
		out = append(out, r)
	}
	return out, nil
}

func parseDNS(b []byte) (DNS, error) {
	var d DNS
	if len(b) < DNSDomainSize {
		return d, fmt.Errorf("%d bytes: %w", len(b), inet.ErrTruncated)
	}
	dom := b[:DNSDomainSize-1]
	if i := bytes.IndexByte(dom, 0); i >= 0 {
		dom = dom[:i]
	}
	d.Domain = string(dom)
	p := DNSDomainSize
	for i := range d.Servers {
		ap, n, err := inet.Parse(b[p:])
		if err != nil {
			return d, fmt.Errorf("server %d: %w", i, err)
		}
		d.Servers[i] = ap
		p += n
	}
	return d, nil
}

func (d *DNS) appendMarshal(dst []byte) []byte {
	var dom [DNSDomainSize]byte
	copy(dom[:DNSDomainSize-1], cstring(d.Domain))
	dst = append(dst, dom[:]...)
	for _, s := range d.Servers {
		dst = inet.Append(dst, s)
	}
	return dst
}

// writer adds entries until the first error.
type writer struct {
	d   *dict.Dictionary
	err error
}

func (w *writer) add(key string, v []byte) {
	if w.err == nil {
		w.err = w.d.Add(key, v)
	}
}

func (w *writer) blob(key string, v []byte) {
	if len(v) > 0 {
		w.add(key, v)
	}
}

func (w *writer) uint(key string, u uint64) { w.add(key, dict.AppendUint(nil, u)) }
func (w *writer) int(key string, i int64)   { w.add(key, dict.AppendInt(nil, i)) }
func (w *writer) str(key, s string, size int) {
	s = cstring(s)
	w.add(key, []byte(s[:min(len(s), size-1)]))
}
func (w *writer) addr(key string, a identity.Address) {
	w.add(key, fmt.Appendf(nil, "%010x", uint64(a)&identity.AddressMask))
}

func (w *writer) bool(key string, b bool) {
	if b {
		w.add(key, []byte{'1'})
	} else {
		w.add(key, []byte{'0'})
	}
}
