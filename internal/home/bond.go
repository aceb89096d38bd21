package home

import (
	"fmt"
	"github.com/ztx/ztx/internal/refjson"
	"slices"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// Policy is a standard bonding (multipath) policy.
type Policy int

// Standard policies, with the reference's codes.
const (
	PolicyNone         Policy = 0
	PolicyActiveBackup Policy = 1
	PolicyBroadcast    Policy = 2
	PolicyBalanceRR    Policy = 3
	PolicyBalanceXOR   Policy = 4
	PolicyBalanceAware Policy = 5
)

var policyNames = [...]string{"none", "active-backup", "broadcast", "balance-rr", "balance-xor", "balance-aware"}

func (p Policy) String() string {
	if p >= 0 && int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("policy(%d)", int(p))
}

// PolicyByName returns the standard policy with that name, or PolicyNone
// (also for "none" itself and for custom aliases).
func PolicyByName(name string) Policy {
	for i, n := range policyNames {
		if i > 0 && n == name {
			return Policy(i)
		}
	}
	return PolicyNone
}

// Reselect is how active-backup returns to a primary link.
type Reselect int

// Reselection policies (local.conf "activeReselect").
const (
	ReselectAlways   Reselect = 0 // back to a primary as soon as it is up (default)
	ReselectBetter   Reselect = 1 // to a primary with a better score
	ReselectFailure  Reselect = 2 // only when the active link fails
	ReselectOptimize Reselect = 3 // quality-driven, with path negotiation
)

var reselectNames = [...]string{"always", "better", "failure", "optimize"}

func (r Reselect) String() string {
	if r >= 0 && int(r) < len(reselectNames) {
		return reselectNames[r]
	}
	return fmt.Sprintf("reselect(%d)", int(r))
}

// LinkMode is a bonded link's role in active-backup.
type LinkMode int

// Link modes.
const (
	LinkSpare   LinkMode = 0 // default
	LinkPrimary LinkMode = 1
)

func (m LinkMode) String() string {
	if m == LinkPrimary {
		return "primary"
	}
	return "spare"
}

// LinkQuality is the link quality specification: the maxima that score a
// link 1/e^4, and the weights of the four metrics.
type LinkQuality struct {
	LatMax, PDVMax, PLRMax, PERMax             float32
	LatWeight, PDVWeight, PLRWeight, PERWeight float32
}

// DefaultLinkQuality is the specification used unless a policy gives a
// valid one.
var DefaultLinkQuality = LinkQuality{
	LatMax: 500, PDVMax: 100, PLRMax: 0.001, PERMax: 0.0001,
	LatWeight: 0.25, PDVWeight: 0.25, PLRWeight: 0.25, PERWeight: 0.25,
}

// Bonding defaults and limits (milliseconds).
const (
	DefaultFailoverInterval = 5000
	MinFailoverInterval     = 500
	DefaultPacketsPerLink   = 64
)

// BondLink is one interface named in a custom policy's "links".
type BondLink struct {
	Interface  string
	Enabled    bool
	Capacity   uint32 // relative speed; 0 = unspecified
	IPvPref    uint8  // 0, 4, 6, 46 or 64
	MTU        uint16 // 0 = unspecified
	Mode       LinkMode
	FailoverTo string // interface name; primaries only
}

// BondPolicy is a custom bonding policy (local.conf settings.policies),
// with the reference's defaults filled in and its limits applied.
type BondPolicy struct {
	Alias            string
	Base             Policy
	FailoverInterval uint32 // ms, at least MinFailoverInterval
	UpDelay          uint32 // ms
	DownDelay        uint32 // ms
	// PacketsPerLink is balance-rr's striping count as configured
	// (DefaultPacketsPerLink when absent or negative; 0 = random link per
	// packet). ZeroTier One 1.14.1 parses it but does not copy it into the
	// bonds it makes from the policy, so they always use 64.
	PacketsPerLink int
	ActiveReselect Reselect
	// LinkQuality is the policy's specification when it gave all eight
	// keys and the weights sum to 1 (±0.01); DefaultLinkQuality otherwise.
	LinkQuality LinkQuality
	Links       []BondLink // sorted by interface name
}

// Link returns the policy's link for an interface, if it names one.
func (p *BondPolicy) Link(ifname string) (BondLink, bool) {
	i, ok := slices.BinarySearchFunc(p.Links, ifname, func(l BondLink, n string) int { return strings.Compare(l.Interface, n) })
	if !ok {
		return BondLink{}, false
	}
	return p.Links[i], true
}

// parsePolicies reads settings.policies the way the reference does: a
// policy without a known base policy, or whose alias is a standard
// policy's name, is dropped with a warning.
func (c *LocalConf) parsePolicies(v any) map[string]*BondPolicy {
	if v == nil {
		return nil
	}
	obj := refjson.Object(v)
	if obj == nil {
		c.warnf("settings.policies is not an object; ignored")
		return nil
	}
	out := make(map[string]*BondPolicy)
	for _, alias := range sortedKeys(obj) {
		pv := refjson.Object(obj[alias])
		base := refjson.String(pv["basePolicy"], "")
		if base == "" {
			c.warnf("bonding policy %q has no basePolicy", alias)
		}
		p := &BondPolicy{Alias: alias, Base: PolicyByName(base)}
		if p.Base == PolicyNone {
			c.warnf("bonding policy %q ignored: unknown base policy %q", alias, base)
			continue
		}
		if PolicyByName(alias) != PolicyNone {
			c.warnf("bonding policy %q ignored: a standard policy's name cannot be an alias", alias)
			continue
		}
		p.LinkQuality = DefaultLinkQuality
		if lq := refjson.Object(pv["linkQuality"]); len(lq) == 8 {
			q := LinkQuality{
				LatMax:    float32(refjson.Float(lq["lat_max"], 0)),
				PDVMax:    float32(refjson.Float(lq["pdv_max"], 0)),
				PLRMax:    float32(refjson.Float(lq["plr_max"], 0)),
				PERMax:    float32(refjson.Float(lq["per_max"], 0)),
				LatWeight: float32(refjson.Float(lq["lat_weight"], 0)),
				PDVWeight: float32(refjson.Float(lq["pdv_weight"], 0)),
				PLRWeight: float32(refjson.Float(lq["plr_weight"], 0)),
				PERWeight: float32(refjson.Float(lq["per_weight"], 0)),
			}
			if sum := q.LatWeight + q.PDVWeight + q.PLRWeight + q.PERWeight; sum > 0.99 && sum < 1.01 {
				p.LinkQuality = q
			} else {
				c.warnf("bonding policy %q: linkQuality weights sum to %g, not 1; ignored", alias, sum)
			}
		} else if pv["linkQuality"] != nil {
			c.warnf("bonding policy %q: linkQuality needs exactly the 8 keys; ignored", alias)
		}
		if d := int32(refjson.Uint(pv["upDelay"], math64Max)); d >= 0 {
			p.UpDelay = uint32(d)
		}
		if d := int32(refjson.Uint(pv["downDelay"], math64Max)); d >= 0 {
			p.DownDelay = uint32(d)
		}
		p.FailoverInterval = max(uint32(refjson.Uint(pv["failoverInterval"], DefaultFailoverInterval)), MinFailoverInterval)
		p.PacketsPerLink = DefaultPacketsPerLink
		if n := int32(refjson.Uint(pv["packetsPerLink"], math64Max)); n >= 0 {
			p.PacketsPerLink = int(n)
		}
		switch r := refjson.String(pv["activeReselect"], "always"); r {
		case "always":
			p.ActiveReselect = ReselectAlways
		case "better":
			p.ActiveReselect = ReselectBetter
		case "failure":
			p.ActiveReselect = ReselectFailure
		case "optimize":
			p.ActiveReselect = ReselectOptimize
		default:
			c.warnf("bonding policy %q: unknown activeReselect %q, using always", alias, r)
		}
		links := refjson.Object(pv["links"])
		for _, ifname := range sortedKeys(links) {
			lv := refjson.Object(links[ifname])
			l := BondLink{
				Interface:  ifname,
				Enabled:    refjson.Uint(lv["enabled"], 1) != 0, // an integer, as in the reference: "true" reads as 0
				Capacity:   uint32(refjson.Uint(lv["capacity"], 0)),
				IPvPref:    uint8(refjson.Uint(lv["ipvPref"], 0)),
				MTU:        uint16(refjson.Uint(lv["mtu"], 0)),
				FailoverTo: refjson.String(lv["failoverTo"], ""),
			}
			if refjson.String(lv["mode"], "spare") == "primary" {
				l.Mode = LinkPrimary
			}
			switch l.IPvPref {
			case 0, 4, 6, 46, 64:
			default:
				c.warnf("bonding policy %q link %s: invalid ipvPref %d, link disabled", alias, ifname, l.IPvPref)
				l.Enabled = false
			}
			if l.Mode == LinkSpare && l.FailoverTo != "" {
				c.warnf("bonding policy %q link %s: a spare cannot have failoverTo, link disabled", alias, ifname)
				l.FailoverTo = ""
				l.Enabled = false
			}
			p.Links = append(p.Links, l)
		}
		out[alias] = p
	}
	return out
}

// math64Max is the "unset" default for the signed bonding integers: it
// truncates to -1, as the reference's default does.
const math64Max = ^uint64(0)

// parsePeerBonds reads settings.peerSpecificBonds: 10-hex address to
// policy name or alias.
func (c *LocalConf) parsePeerBonds(v any) map[identity.Address]string {
	obj := refjson.Object(v)
	if obj == nil {
		if v != nil {
			c.warnf("settings.peerSpecificBonds is not an object; ignored")
		}
		return nil
	}
	out := make(map[identity.Address]string)
	for _, k := range sortedKeys(obj) {
		a, err := identity.ParseAddress(k)
		if err != nil {
			c.warnf("settings.peerSpecificBonds: %q is not a node address; ignored", k)
			continue
		}
		name, ok := obj[k].(string)
		if !ok {
			c.warnf("settings.peerSpecificBonds.%s is not a string; ignored", k)
			continue
		}
		if _, dup := out[a]; !dup { // the first assignment wins
			out[a] = name
		}
	}
	return out
}

// BondingInUse reports whether bonding is configured: a standard default
// policy or any valid custom policy. Bonding turns off the TCP relay.
func (s *Settings) BondingInUse() bool {
	return PolicyByName(s.DefaultBondingPolicy) != PolicyNone || len(s.Policies) > 0
}

// BondPolicyFor resolves the policy a peer's bond uses, as the reference
// does: a peerSpecificBonds entry naming a custom policy selects it (an
// entry naming anything else falls back to the standard default policy);
// otherwise a standard defaultBondingPolicy, else a custom one. Roots and
// moons never bond; that check is the caller's.
func (s *Settings) BondPolicyFor(peer identity.Address) (base Policy, custom *BondPolicy) {
	def := PolicyByName(s.DefaultBondingPolicy)
	if name, ok := s.PeerSpecificBonds[peer]; ok {
		if p, ok := s.Policies[name]; ok {
			return p.Base, p
		}
		return def, nil
	}
	if def != PolicyNone {
		return def, nil
	}
	if p, ok := s.Policies[s.DefaultBondingPolicy]; ok {
		return p.Base, p
	}
	return PolicyNone, nil
}
