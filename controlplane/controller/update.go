package controller

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/ztx/ztx/headers/rules"
	"github.com/ztx/ztx/internal/refjson"
)

// ErrBadRequest marks errors caused by the request body.
var ErrBadRequest = errors.New("controller: bad request")

// DecodeBody reads a POST body: a JSON object (numbers kept as
// json.Number), or nothing, which means an empty object. Anything else is
// an error wrapping ErrBadRequest.
func DecodeBody(b []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return map[string]any{}, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: invalid JSON: %v", ErrBadRequest, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data after JSON object", ErrBadRequest)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: body must be a JSON object", ErrBadRequest)
	}
	return m, nil
}

// ParseRule reads one JSON rule object the way the controller accepts it,
// returning the reference's rendering. INTEGER_RANGE, ACTION_PRIORITY,
// unknown types and rules with undecoded bytes are refused, as the
// reference controller does.
func ParseRule(v any) (rules.Rule, json.RawMessage, bool) {
	if _, ok := v.(map[string]any); !ok {
		return rules.Rule{}, nil, false
	}
	b, err := json.Marshal(v)
	if err != nil {
		return rules.Rule{}, nil, false
	}
	var r rules.Rule
	if err := r.UnmarshalJSON(b); err != nil {
		return rules.Rule{}, nil, false
	}
	if !r.Type.Known() || r.Type == rules.ActionPriority || r.Type == rules.MatchIntegerRange || len(r.Raw) > 0 {
		return rules.Rule{}, nil, false
	}
	out, err := r.MarshalJSON()
	if err != nil {
		return rules.Rule{}, nil, false
	}
	return r, out, true
}

// ParsedRules returns the network's rules in typed form, skipping any that
// do not parse (as the reference does when building a config).
func (n *Network) ParsedRules() []rules.Rule {
	return parseRuleList(n.Rules)
}

func parseRuleList(raw []json.RawMessage) []rules.Rule {
	var out []rules.Rule
	for _, b := range raw {
		var r rules.Rule
		if r.UnmarshalJSON(b) == nil {
			out = append(out, r)
		}
	}
	return out
}

func ruleList(v any) ([]json.RawMessage, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := []json.RawMessage{}
	for _, e := range a {
		if _, r, ok := ParseRule(e); ok {
			out = append(out, r)
			if len(out) >= MaxArraySize {
				break
			}
		}
	}
	return out, true
}

func traceTarget(v any) *string {
	s := refjson.String(v, "")
	if len(s) != 10 {
		return nil
	}
	return &s
}

func authTokensFrom(m map[string]any) AuthTokens {
	out := AuthTokens{}
	for k, v := range m {
		n, ok := v.(json.Number)
		if !ok {
			if f, isF := v.(float64); isF {
				n, ok = json.Number(fmt.Sprint(f)), true
			}
		}
		if ok && !strings.HasPrefix(string(n), "-") {
			out[k] = refjson.Uint(n, 0)
		}
	}
	return out
}

// ApplyNetworkPost changes n by the fields present in body, with the
// reference's coercions; unknown fields and fields the API does not set
// (ids, timestamps, SSO settings) are ignored. It does not touch Revision.
func ApplyNetworkPost(n *Network, body map[string]any) {
	if v, ok := body["name"]; ok {
		n.Name = refjson.String(v, "")
	}
	if v, ok := body["private"]; ok {
		n.Private = refjson.Bool(v, true)
	}
	if v, ok := body["enableBroadcast"]; ok {
		n.EnableBroadcast = refjson.Bool(v, false)
	}
	if v, ok := body["multicastLimit"]; ok {
		n.MulticastLimit = refjson.Uint(v, DefaultMulticastLim)
	}
	if v, ok := body["mtu"]; ok {
		mtu := uint64(uint32(refjson.Uint(v, DefaultMTU)))
		n.MTU = min(max(mtu, MinMTU), MaxMTU)
	}
	if v, ok := body["remoteTraceTarget"]; ok {
		n.RemoteTraceTarget = traceTarget(v)
	}
	if v, ok := body["remoteTraceLevel"]; ok {
		n.RemoteTraceLevel = refjson.Uint(v, 0)
	}
	if v, ok := body["v4AssignMode"]; ok {
		switch x := v.(type) {
		case string:
			n.V4AssignMode = V4AssignMode{ZT: x == "zt"}
		case map[string]any:
			n.V4AssignMode = V4AssignMode{ZT: refjson.Bool(x["zt"], false)}
		default:
			n.V4AssignMode = V4AssignMode{}
		}
	}
	if v, ok := body["v6AssignMode"]; ok {
		var m V6AssignMode
		switch x := v.(type) {
		case string:
			for _, f := range strings.Split(x, ",") {
				switch f {
				case "rfc4193":
					m.RFC4193 = true
				case "zt":
					m.ZT = true
				case "6plane":
					m.SixPlane = true
				}
			}
		case map[string]any:
			m.RFC4193 = refjson.Bool(x["rfc4193"], false)
			m.ZT = refjson.Bool(x["zt"], false)
			m.SixPlane = refjson.Bool(x["6plane"], false)
		}
		n.V6AssignMode = m
	}
	if a, ok := body["routes"].([]any); ok {
		rts := []Route{}
		for _, e := range a {
			o, ok := e.(map[string]any)
			if !ok {
				continue
			}
			ts, ok := o["target"].(string)
			if !ok {
				continue
			}
			t, ok := parsePrefix(ts)
			if !ok {
				continue
			}
			r := Route{Target: t}
			if vs, ok := o["via"].(string); ok {
				if via, ok := parseIP(vs); ok && via.Is4() == t.Addr().Is4() {
					r.Via = &via
				}
			}
			rts = append(rts, r)
			if len(rts) >= MaxArraySize {
				break
			}
		}
		n.Routes = rts
	}
	if a, ok := body["ipAssignmentPools"].([]any); ok {
		pools := []Pool{}
		for _, e := range a {
			o, ok := e.(map[string]any)
			if !ok {
				continue
			}
			if _, ok := o["ipRangeStart"]; !ok {
				continue
			}
			if _, ok := o["ipRangeEnd"]; !ok {
				continue
			}
			f, ok1 := parseIP(refjson.String(o["ipRangeStart"], ""))
			t, ok2 := parseIP(refjson.String(o["ipRangeEnd"], ""))
			if !ok1 || !ok2 || f.Is4() != t.Is4() {
				continue
			}
			pools = append(pools, Pool{IPRangeStart: f, IPRangeEnd: t})
			if len(pools) >= MaxArraySize {
				break
			}
		}
		n.IPAssignmentPools = pools
	}
	if v, ok := body["rules"]; ok {
		if rl, ok := ruleList(v); ok {
			n.Rules = rl
		}
	}
	if v, ok := body["authTokens"]; ok {
		if o, ok := v.(map[string]any); ok {
			n.AuthTokens = authTokensFrom(o)
		} else {
			n.AuthTokens = nil
		}
	}
	if a, ok := body["capabilities"].([]any); ok {
		byID := map[uint64]Capability{}
		for _, e := range a {
			o, ok := e.(map[string]any)
			if !ok {
				continue
			}
			c := Capability{ID: refjson.Uint(o["id"], 0), Default: refjson.Bool(o["default"], false)}
			c.Rules, _ = ruleList(o["rules"])
			if c.Rules == nil {
				c.Rules = []json.RawMessage{}
			}
			byID[c.ID] = c
		}
		n.Capabilities = sortedByID(byID, func(c Capability) uint64 { return c.ID })
	}
	if a, ok := body["tags"].([]any); ok {
		byID := map[uint64]TagDef{}
		for _, e := range a {
			o, ok := e.(map[string]any)
			if !ok {
				continue
			}
			t := TagDef{ID: refjson.Uint(o["id"], 0)}
			if d, ok := o["default"]; ok && d != nil {
				v := refjson.Uint(d, 0)
				t.Default = &v
			}
			byID[t.ID] = t
		}
		n.Tags = sortedByID(byID, func(t TagDef) uint64 { return t.ID })
	}
	if o, ok := body["dns"].(map[string]any); ok {
		d := DNS{Set: true}
		d.Domain, _ = o["domain"].(string)
		if a, ok := o["servers"].([]any); ok {
			d.Servers = []string{}
			for _, s := range a {
				if s, ok := s.(string); ok {
					d.Servers = append(d.Servers, s)
				}
			}
		}
		n.DNS = d
	}
	n.normalize()
}

func sortedByID[T any](m map[uint64]T, id func(T) uint64) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return id(out[i]) < id(out[j]) })
	if len(out) > MaxArraySize {
		out = out[:MaxArraySize]
	}
	return out
}

// ApplyMemberPost changes m by the fields present in body, as the
// reference's member POST does; now (ms) stamps authorization changes.
// It fails (wrapping ErrBadRequest) where the reference would throw: an
// ipAssignments entry that is not a string.
func ApplyMemberPost(m *Member, body map[string]any, now int64) error {
	// Validate before changing anything, so a bad request changes nothing.
	var ipa []string
	if a, ok := body["ipAssignments"].([]any); ok {
		ipa = []string{}
		for _, e := range a {
			s, ok := e.(string)
			if !ok {
				return fmt.Errorf("%w: ipAssignments entries must be strings", ErrBadRequest)
			}
			if ip, ok := parseIP(s); ok && len(ipa) < MaxArraySize {
				ipa = append(ipa, ip.String())
			}
		}
	}
	if v, ok := body["activeBridge"]; ok {
		m.ActiveBridge = refjson.Bool(v, false)
	}
	if v, ok := body["noAutoAssignIps"]; ok {
		m.NoAutoAssignIPs = refjson.Bool(v, false)
	}
	if v, ok := body["authenticationExpiryTime"]; ok {
		m.AuthenticationExpiryTime = int64(refjson.Uint(v, 0))
	}
	if v, ok := body["name"]; ok {
		s := refjson.String(v, "")
		m.Name = &s
	}
	if v, ok := body["remoteTraceTarget"]; ok {
		m.RemoteTraceTarget = traceTarget(v)
	}
	if v, ok := body["remoteTraceLevel"]; ok {
		m.RemoteTraceLevel = refjson.Uint(v, 0)
	}
	if v, ok := body["authorized"]; ok {
		if auth := refjson.Bool(v, false); auth != m.Authorized {
			m.Authorized = auth
			if auth {
				m.LastAuthorizedTime = now
				api := "api"
				m.LastAuthorizedCredentialType = &api
				m.LastAuthorizedCredential = nil
			} else {
				m.LastDeauthorizedTime = now
			}
		}
	}
	if ipa != nil {
		m.IPAssignments = ipa
	}
	if a, ok := body["tags"].([]any); ok {
		byID := map[uint64]uint64{}
		for _, e := range a {
			if p, ok := e.([]any); ok && len(p) == 2 {
				byID[refjson.Uint(p[0], 0)&0xffffffff] = refjson.Uint(p[1], 0) & 0xffffffff
			}
		}
		tags := make([][2]uint64, 0, len(byID))
		for k, v := range byID {
			tags = append(tags, [2]uint64{k, v})
		}
		sort.Slice(tags, func(i, j int) bool { return tags[i][0] < tags[j][0] })
		if len(tags) > MaxArraySize {
			tags = tags[:MaxArraySize]
		}
		m.Tags = tags
	}
	if a, ok := body["capabilities"].([]any); ok {
		caps := []uint64{}
		for _, e := range a {
			caps = append(caps, refjson.Uint(e, 0))
			if len(caps) >= MaxArraySize {
				break
			}
		}
		sort.Slice(caps, func(i, j int) bool { return caps[i] < caps[j] })
		m.Capabilities = compactU64(caps)
	}
	m.normalize()
	return nil
}

func compactU64(s []uint64) []uint64 {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
