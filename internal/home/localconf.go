package home

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ztx/ztx/internal/refjson"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// Defaults and limits of local.conf.
const (
	DefaultPrimaryPort = 9993
	// DefaultTCPFallbackRelay is ZeroTier's TCP relay.
	DefaultTCPFallbackRelay = "204.80.128.1/443"
	DefaultUpdateChannel    = "release"

	// MaxConfigurablePaths is how many physical path entries (trusted
	// path IDs and MTUs) the node keeps.
	MaxConfigurablePaths = 32
	DefaultPhysMTU       = 1432
	MinPhysMTU           = 1400
	MaxPhysMTU           = 10324
)

// SoftwareUpdate is the updater mode (settings.softwareUpdate). Values
// other than the three constants behave as UpdateDisable.
type SoftwareUpdate string

// Updater modes.
const (
	UpdateDisable  SoftwareUpdate = "disable" // default
	UpdateDownload SoftwareUpdate = "download"
	UpdateApply    SoftwareUpdate = "apply"
)

// Settings is local.conf's "settings" object with the reference's
// defaults and coercions applied.
type Settings struct {
	// PrimaryPort is the UDP and local API port: DefaultPrimaryPort
	// unless local.conf sets it (PrimaryPortSet); 0 asks for a random one.
	// When local.conf does not set it, the daemon's command-line port wins.
	PrimaryPort    uint16
	PrimaryPortSet bool
	SecondaryPort  uint16 // 0 = random
	TertiaryPort   uint16 // 0 = random; the port-mapped one
	// AllowSecondaryPort binds the secondary port (default true).
	AllowSecondaryPort bool
	PortMappingEnabled bool // UPnP/NAT-PMP (default true)
	// AllowTCPFallbackRelay and ForceTCPRelay are as configured (default
	// true and false); TCPFallbackAllowed and TCPRelayForced apply the
	// rule that bonding turns both off.
	AllowTCPFallbackRelay bool
	ForceTCPRelay         bool
	// TCPFallbackRelay is the relay's address; the zero value when
	// local.conf names something unreadable (no relay).
	TCPFallbackRelay netip.AddrPort
	// Bind, when not empty, lists the only local addresses to bind.
	Bind []netip.Addr
	// InterfacePrefixBlacklist lists interface name prefixes not to bind.
	InterfacePrefixBlacklist []string
	// AllowManagementFrom lists non-loopback sources allowed to use the
	// local API.
	AllowManagementFrom []netip.Prefix
	EnableWebServer     bool
	SoftwareUpdate      SoftwareUpdate
	// SoftwareUpdateChannel matters only when UpdaterEnabled.
	SoftwareUpdateChannel string
	SoftwareUpdateDist    bool
	ControllerDBPath      string // "" = <home>/controller.d
	SSORedirectURL        string
	// MulticoreEnabled, Concurrency and CPUPinningEnabled as configured;
	// with multicore off they are forced to 1 and false, as the reference
	// does. EffectiveConcurrency applies the CPU-count check.
	MulticoreEnabled  bool
	Concurrency       uint32
	CPUPinningEnabled bool
	// DefaultBondingPolicy is a standard policy name or a custom alias.
	DefaultBondingPolicy string
	// Policies are the valid custom bonding policies, by alias.
	Policies map[string]*BondPolicy
	// PeerSpecificBonds maps a peer to a policy name or alias.
	PeerSpecificBonds map[identity.Address]string
}

// Physical is one entry of local.conf's "physical" object.
type Physical struct {
	Prefix netip.Prefix
	// Blacklist: never use remote addresses inside Prefix (only honoured
	// when the prefix has more than 0 bits).
	Blacklist     bool
	TrustedPathID uint64 // 0 = not a trusted path
	MTU           int    // as configured; 0 = default
}

// PathConfig is an entry of the node's physical path table (trusted path
// IDs and MTUs), made from "physical" and the legacy trustedpaths file.
type PathConfig struct {
	Prefix        netip.Prefix
	TrustedPathID uint64 // 0 = none
	MTU           int    // clamped to MinPhysMTU..MaxPhysMTU
}

// Virtual is one entry of local.conf's "virtual" object: per-peer hints.
type Virtual struct {
	// Try lists addresses to try when the peer has no direct path.
	Try []netip.AddrPort
	// Blacklist lists remote addresses never to use for this peer.
	Blacklist []netip.Prefix
}

// LocalConf is a parsed local.conf.
type LocalConf struct {
	Settings Settings
	// Physical holds every usable "physical" entry, in key order.
	Physical []Physical
	// Virtual holds the usable "virtual" entries by peer address.
	Virtual map[identity.Address]Virtual
	// Paths is the physical path table the node consults, made as the
	// reference makes it: every "physical" entry with an object value is
	// a row (its MTU always applies, its trusted path ID only when
	// non-zero, so a legacy trustedpaths ID for the same CIDR survives),
	// MTUs are clamped, rows are ordered like the reference's address map
	// on a little-endian host (IPv4 before IPv6, then by netmask bits,
	// then by address, IPv4 addresses compared as little-endian integers:
	// so wider CIDRs come first and win lookups), and only the first
	// MaxConfigurablePaths rows are kept.
	Paths []PathConfig
	// Raw is the whole file as parsed (numbers as json.Number), unknown
	// keys included, for /status to echo. An absent file is {}. It is
	// shared: treat it as read-only (RawJSON gives a copy to build on).
	Raw map[string]any
	// Warnings describe entries that were ignored or adjusted, as the
	// reference prints them on stderr.
	Warnings []string
}

func (c *LocalConf) warnf(format string, args ...any) {
	c.Warnings = append(c.Warnings, fmt.Sprintf(format, args...))
}

// DefaultLocalConf is the configuration of a home without local.conf.
func DefaultLocalConf() *LocalConf {
	c, _ := parseLocalConf("local.conf", nil, nil)
	return c
}

// ParseLocalConf parses local.conf's contents; name is used in errors.
// Empty contents mean all defaults. Invalid JSON, or a root that is not an
// object, is an error (*ConfError) with the file, line and column;
// anything else the reference would ignore is ignored with a warning.
func ParseLocalConf(name string, b []byte) (*LocalConf, error) {
	return parseLocalConf(name, b, nil)
}

func parseLocalConf(name string, b []byte, legacy []PathConfig) (*LocalConf, error) {
	c := &LocalConf{Raw: map[string]any{}}
	if len(b) > 0 {
		tree, err := decodeTree(name, b)
		if err != nil {
			return nil, err
		}
		root, ok := tree.(map[string]any)
		if !ok {
			return nil, &ConfError{File: name, Err: errors.New("root element is not a JSON object")}
		}
		c.Raw = root
	}
	c.parseSettings(c.Raw["settings"])
	c.parsePhysical(c.Raw["physical"])
	c.parseVirtual(c.Raw["virtual"])
	c.Paths = c.pathTable(legacy)
	return c, nil
}

func sortedKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}

func (c *LocalConf) parseSettings(v any) {
	s := &c.Settings
	m := refjson.Object(v)
	if m == nil && v != nil {
		c.warnf("settings is not an object; ignored")
	}
	switch m["primaryPort"].(type) {
	case json.Number, string, bool:
		s.PrimaryPortSet = true
	}
	s.PrimaryPort = uint16(refjson.Uint(m["primaryPort"], DefaultPrimaryPort))
	s.SecondaryPort = uint16(refjson.Uint(m["secondaryPort"], 0))
	s.TertiaryPort = uint16(refjson.Uint(m["tertiaryPort"], 0))
	if s.SecondaryPort != 0 || s.TertiaryPort != 0 {
		c.warnf("using manually-specified secondary and/or tertiary ports; this can cause NAT issues")
	}
	s.AllowSecondaryPort = refjson.Bool(m["allowSecondaryPort"], true)
	s.PortMappingEnabled = refjson.Bool(m["portMappingEnabled"], true)
	s.AllowTCPFallbackRelay = refjson.Bool(m["allowTcpFallbackRelay"], true)
	s.ForceTCPRelay = refjson.Bool(m["forceTcpRelay"], false)
	relay := refjson.String(m["tcpFallbackRelay"], DefaultTCPFallbackRelay)
	if ip, port, _, ok := parseInet(relay); ok && port != 0 {
		s.TCPFallbackRelay = netip.AddrPortFrom(ip, port)
	} else {
		c.warnf("settings.tcpFallbackRelay %q is not IP/port; no TCP relay", relay)
	}
	for _, e := range refjson.Array(m["bind"]) {
		str := refjson.String(e, "")
		if str == "" {
			continue
		}
		if ip, _, _, ok := parseInet(str); ok {
			s.Bind = append(s.Bind, ip)
		} else {
			c.warnf("settings.bind: %q is not an IP address; ignored", str)
		}
	}
	for _, e := range refjson.Array(m["interfacePrefixBlacklist"]) {
		if str := refjson.String(e, ""); str != "" {
			s.InterfacePrefixBlacklist = append(s.InterfacePrefixBlacklist, str)
		}
	}
	for _, e := range refjson.Array(m["allowManagementFrom"]) {
		p, err := parsePrefix(refjson.String(e, ""))
		if err != nil {
			c.warnf("settings.allowManagementFrom: %v; ignored", err)
			continue
		}
		s.AllowManagementFrom = append(s.AllowManagementFrom, p)
	}
	s.EnableWebServer = refjson.Bool(m["enableWebServer"], false)
	s.SoftwareUpdate = SoftwareUpdate(refjson.String(m["softwareUpdate"], string(UpdateDisable)))
	s.SoftwareUpdateDist = refjson.Bool(m["softwareUpdateDist"], false)
	s.SoftwareUpdateChannel = refjson.String(m["softwareUpdateChannel"], DefaultUpdateChannel)
	s.ControllerDBPath = refjson.String(m["controllerDbPath"], "")
	s.SSORedirectURL = refjson.String(m["ssoRedirectURL"], "")
	s.MulticoreEnabled = refjson.Bool(m["multicoreEnabled"], false)
	s.Concurrency = uint32(refjson.Uint(m["concurrency"], 1))
	s.CPUPinningEnabled = refjson.Bool(m["cpuPinningEnabled"], false)
	if !s.MulticoreEnabled {
		s.Concurrency = 1
		s.CPUPinningEnabled = false
	}
	s.DefaultBondingPolicy = refjson.String(m["defaultBondingPolicy"], "")
	s.Policies = c.parsePolicies(m["policies"])
	s.PeerSpecificBonds = c.parsePeerBonds(m["peerSpecificBonds"])
	if d := s.DefaultBondingPolicy; d != "" && PolicyByName(d) == PolicyNone && s.Policies[d] == nil {
		// The reference only complains when no custom policy exists at
		// all; a dangling alias leaves bonds without a policy either way.
		c.warnf("unknown defaultBondingPolicy %q", d)
	}
	if s.BondingInUse() && s.ForceTCPRelay {
		c.warnf("forceTcpRelay cannot be used with multipath; disabled")
	}
}

func (c *LocalConf) parsePhysical(v any) {
	obj := refjson.Object(v)
	if obj == nil {
		if v != nil {
			c.warnf("physical is not an object; ignored")
		}
		return
	}
	for _, k := range sortedKeys(obj) {
		p, err := parsePrefix(k)
		if err != nil {
			c.warnf("physical: %v; ignored", err)
			continue
		}
		pv := refjson.Object(obj[k])
		if pv == nil {
			c.warnf("physical.%s is not an object; ignored", k)
			continue
		}
		c.Physical = append(c.Physical, Physical{
			Prefix:        p,
			Blacklist:     refjson.Bool(pv["blacklist"], false),
			TrustedPathID: refjson.Uint(pv["trustedPathId"], 0),
			MTU:           int(int32(refjson.Uint(pv["mtu"], 0))),
		})
	}
}

func (c *LocalConf) parseVirtual(v any) {
	obj := refjson.Object(v)
	if obj == nil {
		if v != nil {
			c.warnf("virtual is not an object; ignored")
		}
		return
	}
	for _, k := range sortedKeys(obj) {
		a, err := identity.ParseAddress(k)
		if len(k) != 10 || err != nil {
			c.warnf("virtual: %q is not a 10-digit node address; ignored", k)
			continue
		}
		vv := refjson.Object(obj[k])
		if vv == nil {
			c.warnf("virtual.%s is not an object; ignored", k)
			continue
		}
		var e Virtual
		for _, t := range refjson.Array(vv["try"]) {
			str := refjson.String(t, "")
			ip, port, _, ok := parseInet(str)
			if !ok || port == 0 {
				c.warnf("virtual.%s.try: %q is not IP/port; ignored", k, str)
				continue
			}
			e.Try = append(e.Try, netip.AddrPortFrom(ip, port))
		}
		for _, b := range refjson.Array(vv["blacklist"]) {
			p, err := parsePrefix(refjson.String(b, ""))
			if err != nil {
				c.warnf("virtual.%s.blacklist: %v; ignored", k, err)
				continue
			}
			e.Blacklist = append(e.Blacklist, p)
		}
		if len(e.Try) > 0 || len(e.Blacklist) > 0 {
			if c.Virtual == nil {
				c.Virtual = make(map[identity.Address]Virtual)
			}
			c.Virtual[a] = e
		}
	}
}

// pathTable builds Paths from legacy trustedpaths rows and Physical.
func (c *LocalConf) pathTable(legacy []PathConfig) []PathConfig {
	rows := make(map[netip.Prefix]*PathConfig)
	for _, l := range legacy {
		rows[l.Prefix] = &PathConfig{Prefix: l.Prefix, TrustedPathID: l.TrustedPathID}
	}
	for _, p := range c.Physical {
		r := rows[p.Prefix]
		if r == nil {
			r = &PathConfig{Prefix: p.Prefix}
			rows[p.Prefix] = r
		}
		if p.TrustedPathID != 0 {
			r.TrustedPathID = p.TrustedPathID
		}
		r.MTU = p.MTU
	}
	out := make([]PathConfig, 0, len(rows))
	for _, r := range rows {
		r.MTU = clampMTU(r.MTU)
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b PathConfig) int { return comparePrefix(a.Prefix, b.Prefix) })
	if len(out) > MaxConfigurablePaths {
		c.warnf("%d physical path entries; only the first %d are used", len(out), MaxConfigurablePaths)
		out = out[:MaxConfigurablePaths]
	}
	return out
}

func clampMTU(m int) int {
	switch {
	case m <= 0:
		return DefaultPhysMTU
	case m < MinPhysMTU:
		return MinPhysMTU
	case m > MaxPhysMTU:
		return MaxPhysMTU
	}
	return m
}

// comparePrefix orders prefixes the way the reference's InetAddress
// ordering does on a little-endian host (netmask bits live in its port
// field, compared in network byte order read as a native integer).
func comparePrefix(a, b netip.Prefix) int {
	fam := func(p netip.Prefix) int {
		if p.Addr().Is4() {
			return 0
		}
		return 1
	}
	if c := cmp.Compare(fam(a), fam(b)); c != 0 {
		return c
	}
	swap := func(bits int) uint16 { v := uint16(bits); return v<<8 | v>>8 }
	if c := cmp.Compare(swap(a.Bits()), swap(b.Bits())); c != 0 {
		return c
	}
	if fam(a) == 0 {
		x, y := a.Addr().As4(), b.Addr().As4()
		return cmp.Compare(binary.LittleEndian.Uint32(x[:]), binary.LittleEndian.Uint32(y[:]))
	}
	x, y := a.Addr().As16(), b.Addr().As16()
	return bytes.Compare(x[:], y[:])
}

// TrustedPathFor returns the trusted path ID to send to ip with: that of
// the first path table row containing ip (which may be 0 even when a later
// row would give one, as in the reference). ok is false for 0.
func (c *LocalConf) TrustedPathFor(ip netip.Addr) (id uint64, ok bool) {
	for _, r := range c.Paths {
		if contains(r.Prefix, ip) {
			return r.TrustedPathID, r.TrustedPathID != 0
		}
	}
	return 0, false
}

// TrustsInbound reports whether a packet from ip marked with trusted path
// id may skip authentication: some row has that ID and contains ip. An ID
// of 0 is never trusted (the reference would accept it from inside any
// row configured only for its MTU).
func (c *LocalConf) TrustsInbound(ip netip.Addr, id uint64) bool {
	if id == 0 {
		return false
	}
	for _, r := range c.Paths {
		if r.TrustedPathID == id && contains(r.Prefix, ip) {
			return true
		}
	}
	return false
}

// MTUFor returns the physical MTU (largest UDP payload) toward ip: that of
// the first path table row containing ip, else DefaultPhysMTU.
func (c *LocalConf) MTUFor(ip netip.Addr) int {
	for _, r := range c.Paths {
		if contains(r.Prefix, ip) {
			return r.MTU
		}
	}
	return DefaultPhysMTU
}

// Blacklisted reports whether ip must not carry traffic to peer: it is in
// the peer's virtual blacklist or in a physical blacklist entry.
func (c *LocalConf) Blacklisted(ip netip.Addr, peer identity.Address) bool {
	for _, p := range c.Virtual[peer].Blacklist {
		if contains(p, ip) {
			return true
		}
	}
	return c.PhysicalBlacklisted(ip)
}

// PhysicalBlacklisted reports whether ip is inside a physical entry with
// blacklist set (and more than 0 netmask bits); such local addresses are
// not bound either.
func (c *LocalConf) PhysicalBlacklisted(ip netip.Addr) bool {
	for _, p := range c.Physical {
		if p.Blacklist && p.Prefix.Bits() > 0 && contains(p.Prefix, ip) {
			return true
		}
	}
	return false
}

// TryAddresses returns the configured addresses to try for peer.
func (c *LocalConf) TryAddresses(peer identity.Address) []netip.AddrPort {
	return c.Virtual[peer].Try
}

// RawJSON is Raw as compact JSON with sorted keys, as the reference
// prints it.
func (c *LocalConf) RawJSON() []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(c.Raw); err != nil {
		return []byte("{}")
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// TCPFallbackAllowed is allowTcpFallbackRelay unless bonding is in use.
func (s *Settings) TCPFallbackAllowed() bool {
	return s.AllowTCPFallbackRelay && !s.BondingInUse()
}

// TCPRelayForced is forceTcpRelay unless bonding is in use.
func (s *Settings) TCPRelayForced() bool {
	return s.ForceTCPRelay && !s.BondingInUse()
}

// UpdaterEnabled reports whether the software updater runs.
func (s *Settings) UpdaterEnabled() bool {
	return s.SoftwareUpdate == UpdateApply || s.SoftwareUpdate == UpdateDownload || s.SoftwareUpdateDist
}

// EffectiveConcurrency is the number of receive threads on a machine with
// ncpu CPUs: 1 without multicore; with it, a configured value outside
// 2..ncpu-1 is replaced by 2 (4 or more CPUs) or 1.
func (s *Settings) EffectiveConcurrency(ncpu int) int {
	if !s.MulticoreEnabled {
		return 1
	}
	c := int(s.Concurrency)
	if c <= 1 || c >= ncpu {
		if ncpu >= 4 {
			return 2
		}
		return 1
	}
	return c
}

// ManagementAllowed reports whether a local API client at ip passes the
// source check: loopback, or inside allowManagementFrom.
func (s *Settings) ManagementAllowed(ip netip.Addr) bool {
	if ip.Unmap().IsLoopback() {
		return true
	}
	for _, p := range s.AllowManagementFrom {
		if contains(p, ip) {
			return true
		}
	}
	return false
}

// InterfaceBlacklisted reports whether an interface name starts with one
// of interfacePrefixBlacklist.
func (s *Settings) InterfaceBlacklisted(ifname string) bool {
	for _, p := range s.InterfacePrefixBlacklist {
		if strings.HasPrefix(ifname, p) {
			return true
		}
	}
	return false
}
