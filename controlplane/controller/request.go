package controller

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/headers/verbs"
)

// Limits the reference applies when it builds a config (include/ZeroTierOne.h).
const (
	maxNetworkRules    = rules.MaxNetworkRules // ZT_MAX_NETWORK_RULES
	maxCapabilityRules = 64                    // ZT_MAX_CAPABILITY_RULES
	maxAuthLength      = 511                   // the metadata "a" value is read into 512 bytes
	tokenPrefix        = "token:"
)

// Values of lastAuthorizedCredentialType the request path writes.
const (
	credentialPublic = "public"
	credentialToken  = "token"
)

// Answer is the controller's reply to one NETWORK_CONFIG_REQUEST.
type Answer struct {
	// Config, when not nil, is sent as OK(NETWORK_CONFIG_REQUEST), chunked
	// and signed by the caller with the node identity (netconf.Split).
	Config *netconf.Config
	// Error is the code of the ERROR to send when Config is nil and Drop
	// is false: verbs.ErrorObjNotFound, verbs.ErrorNetworkAccessDenied or
	// verbs.ErrorNetworkAuthenticationRequired.
	Error verbs.ErrorCode
	// AuthInfo is the auth-info dictionary (netconf.AuthInfo) that goes
	// with ErrorNetworkAuthenticationRequired, or nil.
	AuthInfo []byte
	// Drop means send nothing: the network is not this controller's, or
	// the member asked again within MinRequestPeriod.
	Drop bool
}

// Request processes a NETWORK_CONFIG_REQUEST from member for network nwid
// as the reference controller does (PROTOCOL.md part 2 §10.5) and returns
// what to answer. meta is the request's metadata; from is the physical
// address the request came from, invalid if it was relayed. now is in ms.
//
// Requests for networks the Signer does not control, and repeats within
// MinRequestPeriod, are dropped. The member's record is created if missing
// and saved even when it is denied. A config is built afresh on every
// call, as the reference does, with its own timestamp and signatures.
//
// Unlike the reference, Request does not follow a config answer with a
// NETWORK_CONFIG push of the same config when the answer changed the
// member's record, and it answers members asking for a legacy (v < 6)
// config with the current format.
func (c *Controller) Request(now int64, nwid uint64, member *identity.Identity, meta netconf.Request, from netip.AddrPort) Answer {
	id := NetworkID(nwid)
	if member == nil || !c.canSign(id) {
		return Answer{Drop: true}
	}
	c.mu.Lock()
	defer c.unlockAndDeliver()
	k := statusKey{id, member.Address}
	s := c.status[k]
	if s != nil && now-s.lastRequest <= MinRequestPeriod {
		return Answer{Drop: true}
	}
	if s == nil {
		s = &memberStatus{}
		c.status[k] = s
	}
	s.lastRequest = now
	if from.IsValid() {
		s.from = from
	}
	return c.serveLocked(now, id, member.PublicOnly(), &meta, false)
}

// serveLocked is the reference's request processing. With push it replays
// a member's last request to push it a config: nothing about the request
// is recorded and errors are not answered (the result is only useful when
// it has a Config).
func (c *Controller) serveLocked(now int64, id NetworkID, who *identity.Identity, meta *netconf.Request, push bool) Answer {
	notFound := Answer{Error: verbs.ErrorObjNotFound}
	denied := Answer{Error: verbs.ErrorNetworkAccessDenied}
	addr := who.Address
	n, err := c.store.Network(id)
	if err != nil {
		return notFound
	}
	old, err := c.store.Member(id, addr)
	newMember := errors.Is(err, ErrNotFound)
	if err != nil && !newMember {
		return notFound
	}
	var m *Member
	if newMember {
		m = NewMember(id, addr, now)
	} else {
		m = old.Clone()
	}

	// Pin the identity: the first request teaches it, later ones must match.
	if m.Identity != "" {
		if have, err := identity.Parse(m.Identity); err != nil || !have.Equal(who) {
			return denied
		}
	} else {
		m.Identity = who.String()
	}
	m.setID(id, addr)

	authorized := m.Authorized
	if !authorized {
		credType, credential, ok := autoAuthorize(now, n, meta)
		if ok {
			authorized = true
			m.Authorized = true
			m.LastAuthorizedTime = now
			m.LastAuthorizedCredentialType = &credType
			m.LastAuthorizedCredential = credential
		}
	}

	// SSO: a member that is not exempt must have authenticated recently.
	// (The file database knows no SSO provider, so the auth info is an
	// empty version 0 URL, as the reference's FileDB gives.)
	var authExpiry int64 = -1
	if n.SSOEnabled && !m.SSOExempt {
		authExpiry = m.AuthenticationExpiryTime
		if authExpiry <= now {
			c.saveMember(old, m, false)
			info := netconf.AuthInfo{Version: 0}
			b, err := info.AppendMarshal(nil)
			if err != nil {
				b = nil
			}
			return Answer{Error: verbs.ErrorNetworkAuthenticationRequired, AuthInfo: b}
		}
	}

	k := statusKey{id, addr}
	if !authorized {
		c.saveMember(old, m, false)
		return denied
	}
	if !push {
		m.VMajor = int(meta.MajorVersion)
		m.VMinor = int(meta.MinorVersion)
		m.VRev = int(meta.Revision)
		m.VProto = int(meta.ProtocolVersion)
		s := c.status[k]
		mc := *meta
		s.meta, s.id = &mc, who
		if authExpiry > 0 {
			c.addExpiryLocked(expiry{authExpiry, k})
		}
	}

	members, err := c.store.Members(id)
	if err != nil {
		return notFound
	}
	conf, err := c.buildConfig(now, n, m, newMember, who, meta, members)
	if err != nil {
		return notFound
	}
	// Unlike the reference, which sends the config even when the write
	// fails, a config is only issued once the addresses it assigns are
	// durable.
	if err := c.saveMember(old, m, false); err != nil {
		return notFound
	}
	c.noteAuthorized(now, k)
	return Answer{Config: conf}
}

// autoAuthorize decides whether a member that is not authorized is let in
// anyway: everyone on a public network, or a member presenting a valid
// join token ("a" = "token:<t>" with authTokens[t] 0 or later than now).
// It returns the credential type and credential to record.
func autoAuthorize(now int64, n *Network, meta *netconf.Request) (string, *string, bool) {
	if !n.Private {
		return credentialPublic, nil, true
	}
	a := meta.Auth
	if len(a) > maxAuthLength {
		a = a[:maxAuthLength]
	}
	if i := strings.IndexByte(a, 0); i >= 0 {
		a = a[:i]
	}
	token, ok := strings.CutPrefix(a, tokenPrefix)
	if !ok || token == "" {
		return "", nil, false
	}
	exp, ok := n.AuthTokens[token]
	if !ok || (exp != 0 && (now >= 0 && exp <= uint64(now))) {
		return "", nil, false
	}
	return credentialToken, &token, true
}

// buildConfig computes member m's config (PROTOCOL.md part 2 §10.5 steps
// 4-6) and updates m as the reference does: default capabilities for a new
// member, network tag defaults, and assigned addresses. members are the
// network's stored members (for active bridges and allocated addresses).
func (c *Controller) buildConfig(now int64, n *Network, m *Member, newMember bool, who *identity.Identity, meta *netconf.Request, members []*Member) (*netconf.Config, error) {
	signer := c.opts.Signer
	id := n.NetworkID()
	addr := who.Address

	ctmd := int64(netconf.DefaultCredentialDelta)
	if n.CertificateTimeoutWindowSize != nil {
		ctmd = int64(*n.CertificateTimeoutWindowSize)
	}
	ctmd = min(max(ctmd, netconf.MinCredentialDelta), netconf.MaxCredentialDelta)

	conf := &netconf.Config{
		NetworkID:       uint64(id),
		Timestamp:       now,
		CredentialDelta: ctmd,
		Revision:        n.Revision,
		IssuedTo:        addr,
		MulticastLimit:  uint32(n.MulticastLimit),
		Name:            cut(n.Name, netconf.NameSize-1),
		MTU:             min(max(uint32(n.MTU), netconf.MinMTU), netconf.MaxMTU),
		Type:            netconf.Public,
		SSOEnabled:      n.SSOEnabled,
		SSOVersion:      0,
		AuthExpiry:      m.AuthenticationExpiryTime,
	}
	if n.Private {
		conf.Type = netconf.Private
	}
	if n.EnableBroadcast {
		conf.Flags |= netconf.FlagBroadcast
	}

	// Remote tracing: the member's target with its level, else the network's.
	if t, ok := traceAddress(m.RemoteTraceTarget); ok {
		conf.TraceTarget, conf.TraceLevel = t, uint32(m.RemoteTraceLevel)
	} else {
		conf.TraceTarget, _ = traceAddress(n.RemoteTraceTarget)
		conf.TraceLevel = uint32(n.RemoteTraceLevel)
	}

	for _, o := range members {
		if o.ActiveBridge && len(conf.Specialists) < netconf.MaxSpecialists {
			conf.Specialists = append(conf.Specialists, netconf.NewSpecialist(o.MemberAddress(), netconf.RoleActiveBridge))
		}
	}

	if meta.RulesEngineRev == 0 {
		// Members too old for the rules engine get "accept everything";
		// the others still enforce the real rules on their inbound side.
		conf.Rules = []rules.Rule{{Type: rules.ActionAccept}}
	} else {
		conf.Rules = controllerRules(n.Rules, maxNetworkRules)
		if err := c.addCapabilities(conf, n, m, newMember, signer); err != nil {
			return nil, err
		}
		if err := addTags(conf, n, m, signer); err != nil {
			return nil, err
		}
	}

	for _, r := range n.Routes {
		if len(conf.Routes) >= netconf.MaxRoutes {
			break
		}
		rt := netconf.Route{Target: r.Target}
		if r.Via != nil && r.Via.Is4() == r.Target.Addr().Is4() {
			rt.Via = *r.Via
		}
		conf.Routes = append(conf.Routes, rt)
	}

	used := allocatedIPs(members, addr)
	as := Assign(n, m, func(a netip.Addr) bool { return used[a] }, c.opts.Rand)
	conf.StaticIPs = as.StaticIPs
	if as.NDPEmulation {
		conf.Flags |= netconf.FlagNDPEmulation
	}

	if n.DNS.Set {
		conf.DNS.Domain = cut(n.DNS.Domain, netconf.DNSDomainSize-1)
		for i, s := range n.DNS.Servers {
			if i >= netconf.MaxDNSServers {
				break
			}
			conf.DNS.Servers[i] = dnsServer(s)
		}
	}

	if len(conf.StaticIPs) > 0 {
		coo := cred.COO{NetworkID: uint64(id), Timestamp: now, ID: 1, IssuedTo: addr}
		for _, p := range conf.StaticIPs {
			if len(coo.Things) < cred.COOMaxThings {
				coo.Things = append(coo.Things, cred.ThingFromAddr(p.Addr()))
			}
		}
		if err := coo.Sign(signer); err != nil {
			return nil, err
		}
		conf.COOs = []cred.COO{coo}
	}

	com := cred.NewCOM(now, uint64(ctmd), uint64(id), who)
	if err := com.Sign(signer); err != nil {
		return nil, err
	}
	conf.COM = &com
	return conf, nil
}

// addCapabilities issues the member's capabilities, in the order of its
// record; a new member first gets every capability marked default.
func (c *Controller) addCapabilities(conf *netconf.Config, n *Network, m *Member, newMember bool, signer *identity.Identity) error {
	byID := map[uint32]*Capability{}
	for i := range n.Capabilities {
		def := &n.Capabilities[i]
		cid := uint32(def.ID)
		byID[cid] = def
		if newMember && def.Default && !hasCapability(m.Capabilities, cid) {
			m.Capabilities = append(m.Capabilities, uint64(cid))
		}
	}
	for _, v := range m.Capabilities {
		def, ok := byID[uint32(v)]
		if !ok {
			continue
		}
		capa := cred.Capability{
			NetworkID:  conf.NetworkID,
			Timestamp:  conf.Timestamp,
			ID:         uint32(v),
			Rules:      controllerRules(def.Rules, maxCapabilityRules),
			MaxCustody: 1,
		}
		if err := capa.Sign(signer, conf.IssuedTo); err != nil {
			return err
		}
		conf.Capabilities = append(conf.Capabilities, capa)
		if len(conf.Capabilities) >= cred.MaxConfigCapabilities {
			break
		}
	}
	return nil
}

// hasCapability reports whether ids holds id (compared as 32 bits, as the
// reference does).
func hasCapability(ids []uint64, id uint32) bool {
	for _, v := range ids {
		if uint32(v) == id {
			return true
		}
	}
	return false
}

// addTags issues the member's tags, in id order: those of its record, then
// the network's defaults for tags it lacks, which are added to the record.
func addTags(conf *netconf.Config, n *Network, m *Member, signer *identity.Identity) error {
	byID := map[uint32]uint32{}
	for _, t := range m.Tags {
		byID[uint32(t[0])] = uint32(t[1])
	}
	for _, def := range n.Tags {
		tid := uint32(def.ID)
		if _, have := byID[tid]; def.Default == nil || have {
			continue
		}
		byID[tid] = uint32(*def.Default)
		m.Tags = append(m.Tags, [2]uint64{uint64(tid), *def.Default})
	}
	ids := make([]uint32, 0, len(byID))
	for tid := range byID {
		ids = append(ids, tid)
	}
	slices.Sort(ids)
	for _, tid := range ids {
		if len(conf.Tags) >= cred.MaxConfigTags {
			break
		}
		t := cred.Tag{NetworkID: conf.NetworkID, Timestamp: conf.Timestamp, ID: tid, Value: byID[tid], IssuedTo: conf.IssuedTo}
		if err := t.Sign(signer); err != nil {
			return err
		}
		conf.Tags = append(conf.Tags, t)
	}
	return nil
}

// controllerRules parses rule objects as the reference does when it
// builds a config, skipping those it refuses, up to max rules.
func controllerRules(raw []json.RawMessage, max int) []rules.Rule {
	var out []rules.Rule
	for _, b := range raw {
		if len(out) >= max {
			break
		}
		var v any
		if json.Unmarshal(b, &v) != nil {
			continue
		}
		if r, _, ok := ParseRule(v); ok {
			out = append(out, r)
		}
	}
	return out
}

// traceAddress reads a 10-hex remote trace target.
func traceAddress(s *string) (identity.Address, bool) {
	if s == nil || len(*s) != 10 {
		return 0, false
	}
	v, err := strconv.ParseUint(*s, 16, 64)
	if err != nil {
		return 0, false
	}
	return identity.Address(v), true
}

// dnsServer reads "ip" or "ip/port" (the reference's InetAddress form);
// anything else is an unused slot.
func dnsServer(s string) netip.AddrPort {
	ipStr, portStr, hasPort := strings.Cut(s, "/")
	ip, err := netip.ParseAddr(ipStr)
	if err != nil || ip.Zone() != "" {
		return netip.AddrPort{}
	}
	var port uint64
	if hasPort {
		if port, err = strconv.ParseUint(portStr, 10, 16); err != nil {
			return netip.AddrPort{}
		}
	}
	return netip.AddrPortFrom(ip, uint16(port))
}

// cut shortens s to at most n bytes, as the reference's fixed buffers do.
func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
