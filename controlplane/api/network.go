package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"

	"github.com/ztx/ztx/headers/verbs"
)

// Networks is what the API needs from the VL2 side. Its methods may be
// called from any goroutine; the implementer wakes its own loop when a
// join or leave gives it work (there is no Poke for networks).
type Networks interface {
	// Networks lists the joined networks (the API sorts them by ID).
	Networks(now int64) []NetworkState
	// Network returns one joined network; false if it is not joined.
	Network(now int64, nwid uint64) (NetworkState, bool)
	// Join joins nwid if it is not joined yet, then applies the settings
	// present in set, and returns the network's state. Persisting is the
	// implementer's job: like the reference, it rewrites the network's
	// .local.conf on every call, even when set is empty. An error makes
	// the request fail with status 500.
	Join(now int64, nwid uint64, set NetworkSettingsUpdate) (NetworkState, error)
	// Leave leaves nwid; false if it was not joined.
	Leave(now int64, nwid uint64) bool
}

// NetworkStatus is a network's state, numbered as the reference's
// ZT_VirtualNetworkStatus.
type NetworkStatus int

// Network states.
const (
	NetworkRequestingConfiguration NetworkStatus = iota // no config yet
	NetworkOK                                           // config received and applied
	NetworkAccessDenied                                 // the controller refused this member
	NetworkNotFound                                     // the controller has no such network
	NetworkPortError                                    // the tap device failed (see PortError)
	NetworkClientTooOld                                 // the config needs a newer node
	NetworkAuthenticationRequired                       // SSO login needed (see AuthenticationURL)
)

var networkStatusNames = [...]string{
	NetworkRequestingConfiguration: "REQUESTING_CONFIGURATION",
	NetworkOK:                      "OK",
	NetworkAccessDenied:            "ACCESS_DENIED",
	NetworkNotFound:                "NOT_FOUND",
	NetworkPortError:               "PORT_ERROR",
	NetworkClientTooOld:            "CLIENT_TOO_OLD",
	NetworkAuthenticationRequired:  "AUTHENTICATION_REQUIRED",
}

// String is the reference's name ("OK", "ACCESS_DENIED", ...), or
// "NetworkStatus(n)" for a value it does not have.
func (s NetworkStatus) String() string {
	if n := s.name(); n != "" {
		return n
	}
	return "NetworkStatus(" + strconv.Itoa(int(s)) + ")"
}

// name is the JSON form: the reference prints "" for unknown values.
func (s NetworkStatus) name() string {
	if s >= 0 && int(s) < len(networkStatusNames) {
		return networkStatusNames[s]
	}
	return ""
}

// NetworkType is a network's access control, numbered as the reference's
// ZT_VirtualNetworkType.
type NetworkType int

// Network types. A network shows as private until its config arrives.
const (
	NetworkPrivate NetworkType = iota // members need a certificate of membership
	NetworkPublic                     // anyone may join
)

// String is "PRIVATE", "PUBLIC", or "NetworkType(n)".
func (t NetworkType) String() string {
	if n := t.name(); n != "" {
		return n
	}
	return "NetworkType(" + strconv.Itoa(int(t)) + ")"
}

func (t NetworkType) name() string {
	switch t {
	case NetworkPrivate:
		return "PRIVATE"
	case NetworkPublic:
		return "PUBLIC"
	}
	return ""
}

// NetworkSettings are the member's own choices for a network (its
// networks.d/<nwid>.local.conf). A freshly joined network has
// AllowManaged only.
type NetworkSettings struct {
	AllowManaged bool // let the network assign addresses and routes
	AllowGlobal  bool // ... even in global (Internet) address space
	AllowDefault bool // ... including a default route (full tunnel)
	AllowDNS     bool // let the network configure DNS
}

// NetworkSettingsUpdate changes the settings that are not nil (the body
// of POST /network/<nwid>).
type NetworkSettingsUpdate struct {
	AllowManaged *bool
	AllowGlobal  *bool
	AllowDefault *bool
	AllowDNS     *bool
}

// Apply returns s with u's changes.
func (u NetworkSettingsUpdate) Apply(s NetworkSettings) NetworkSettings {
	for _, f := range []struct {
		v   *bool
		dst *bool
	}{
		{u.AllowManaged, &s.AllowManaged},
		{u.AllowGlobal, &s.AllowGlobal},
		{u.AllowDefault, &s.AllowDefault},
		{u.AllowDNS, &s.AllowDNS},
	} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	return s
}

// NetworkRoute is a managed route. Its fields are those of
// netconf.Route, so one converts to the other.
type NetworkRoute struct {
	Target netip.Prefix
	Via    netip.Addr // gateway; the zero Addr for none
	Flags  uint16
	Metric uint16
}

// NetworkDNS is the DNS configuration a network pushes.
type NetworkDNS struct {
	Domain  string
	Servers []netip.Addr
}

// NetworkState is what the API shows of one joined network: the
// reference's ZT_VirtualNetworkConfig and the service's view of it.
type NetworkState struct {
	ID               uint64
	MAC              verbs.MAC // this node's MAC on the network
	Name             string
	Status           NetworkStatus
	Type             NetworkType
	MTU              int
	DHCP             bool // never set by 1.14.1
	Bridge           bool // this node may bridge (an active bridge)
	BroadcastEnabled bool
	PortError        int // the tap's error code, 0 if none
	NetconfRevision  uint64
	PortDeviceName   string // the tap interface's name
	Settings         NetworkSettings
	// AssignedAddresses are the managed addresses with their prefix
	// lengths (host bits kept: 10.78.0.11/24).
	AssignedAddresses      []netip.Prefix
	Routes                 []NetworkRoute
	MulticastSubscriptions []verbs.MulticastGroup
	DNS                    NetworkDNS
	// SSO: the three JSON fields appear only when SSOEnabled.
	SSOEnabled               bool
	AuthenticationURL        string
	AuthenticationExpiryTime int64 // ms since the epoch; 0 if unknown
}

// networkJSON is the reference's network object; keys sorted, as its
// JSON library prints them.
type networkJSON struct {
	AllowDNS                 bool            `json:"allowDNS"`
	AllowDefault             bool            `json:"allowDefault"`
	AllowGlobal              bool            `json:"allowGlobal"`
	AllowManaged             bool            `json:"allowManaged"`
	AssignedAddresses        []string        `json:"assignedAddresses"`
	AuthenticationExpiryTime *int64          `json:"authenticationExpiryTime,omitempty"`
	AuthenticationURL        *string         `json:"authenticationURL,omitempty"`
	Bridge                   bool            `json:"bridge"`
	BroadcastEnabled         bool            `json:"broadcastEnabled"`
	DHCP                     bool            `json:"dhcp"`
	DNS                      networkDNSJSON  `json:"dns"`
	ID                       string          `json:"id"`
	MAC                      string          `json:"mac"`
	MTU                      int             `json:"mtu"`
	MulticastSubscriptions   []multicastJSON `json:"multicastSubscriptions"`
	Name                     string          `json:"name"`
	NetconfRevision          uint64          `json:"netconfRevision"`
	NWID                     string          `json:"nwid"`
	PortDeviceName           string          `json:"portDeviceName"`
	PortError                int             `json:"portError"`
	Routes                   []routeJSON     `json:"routes"`
	SSOEnabled               *bool           `json:"ssoEnabled,omitempty"`
	Status                   string          `json:"status"`
	Type                     string          `json:"type"`
}

type networkDNSJSON struct {
	Domain  string   `json:"domain"`
	Servers []string `json:"servers"`
}

type multicastJSON struct {
	ADI uint32 `json:"adi"`
	MAC string `json:"mac"`
}

// routeJSON's Via is null when the route has no gateway of the target's
// address family.
type routeJSON struct {
	Flags  uint16  `json:"flags"`
	Metric uint16  `json:"metric"`
	Target string  `json:"target"`
	Via    *string `json:"via"`
}

func networkObject(st NetworkState) networkJSON {
	id := fmt.Sprintf("%016x", st.ID)
	out := networkJSON{
		AllowDNS:               st.Settings.AllowDNS,
		AllowDefault:           st.Settings.AllowDefault,
		AllowGlobal:            st.Settings.AllowGlobal,
		AllowManaged:           st.Settings.AllowManaged,
		AssignedAddresses:      make([]string, 0, len(st.AssignedAddresses)),
		Bridge:                 st.Bridge,
		BroadcastEnabled:       st.BroadcastEnabled,
		DHCP:                   st.DHCP,
		DNS:                    networkDNSJSON{Domain: st.DNS.Domain, Servers: make([]string, 0, len(st.DNS.Servers))},
		ID:                     id,
		MAC:                    st.MAC.String(),
		MTU:                    st.MTU,
		MulticastSubscriptions: make([]multicastJSON, 0, len(st.MulticastSubscriptions)),
		Name:                   st.Name,
		NetconfRevision:        st.NetconfRevision,
		NWID:                   id,
		PortDeviceName:         st.PortDeviceName,
		PortError:              st.PortError,
		Routes:                 make([]routeJSON, 0, len(st.Routes)),
		Status:                 st.Status.name(),
		Type:                   st.Type.name(),
	}
	for _, p := range st.AssignedAddresses {
		if p.IsValid() {
			out.AssignedAddresses = append(out.AssignedAddresses, formatPrefix(p))
		}
	}
	for _, rt := range st.Routes {
		rj := routeJSON{Flags: rt.Flags, Metric: rt.Metric, Target: formatPrefix(rt.Target)}
		if rt.Via.IsValid() && rt.Target.IsValid() && rt.Via.Is4() == rt.Target.Addr().Is4() {
			via := rt.Via.WithZone("").String()
			rj.Via = &via
		}
		out.Routes = append(out.Routes, rj)
	}
	for _, g := range st.MulticastSubscriptions {
		out.MulticastSubscriptions = append(out.MulticastSubscriptions, multicastJSON{ADI: g.ADI, MAC: g.MAC.String()})
	}
	for _, a := range st.DNS.Servers {
		if a.IsValid() {
			out.DNS.Servers = append(out.DNS.Servers, a.WithZone("").String())
		}
	}
	if st.SSOEnabled {
		exp, url, on := st.AuthenticationExpiryTime, st.AuthenticationURL, true
		out.AuthenticationExpiryTime, out.AuthenticationURL, out.SSOEnabled = &exp, &url, &on
	}
	return out
}

// formatPrefix is the reference's "IP/bits", host bits kept; "" for the
// zero Prefix.
func formatPrefix(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.Addr().WithZone("").String() + "/" + strconv.Itoa(p.Bits())
}

func (s *Service) networks() []networkJSON {
	nets := slices.SortedFunc(slices.Values(s.Networks.Networks(s.now())), func(a, b NetworkState) int {
		return cmp.Compare(a.ID, b.ID)
	})
	out := make([]networkJSON, 0, len(nets))
	for _, st := range nets {
		out = append(out, networkObject(st))
	}
	return out
}

// network answers GET, POST/PUT (join and settings) and DELETE (leave)
// on /network/<nwid>.
func (s *Service) network(w http.ResponseWriter, r *http.Request, method string, nwid uint64) {
	switch method {
	case http.MethodGet:
		st, ok := s.Networks.Network(s.now(), nwid)
		if !ok {
			s.replyEmpty(w, r, http.StatusNotFound)
			return
		}
		s.reply(w, r, http.StatusOK, networkObject(st))
	case http.MethodDelete:
		if s.Networks.Leave(s.now(), nwid) {
			s.reply(w, r, http.StatusOK, map[string]bool{"result": true})
		} else {
			s.reply(w, r, http.StatusOK, nil)
		}
	default:
		set, herr := networkSettingsBody(w, r)
		if herr != nil {
			s.fail(w, r, herr)
			return
		}
		st, err := s.Networks.Join(s.now(), nwid, set)
		if err != nil {
			s.fail(w, r, errorf(http.StatusInternalServerError, "joining %016x: %v", nwid, err))
			return
		}
		s.reply(w, r, http.StatusOK, networkObject(st))
	}
}

// networkSettingsBody reads the body of POST /network/<nwid>: empty, null,
// or an object whose keys allowManaged, allowGlobal, allowDefault and
// allowDNS, where present and not null, are booleans. Other keys are
// ignored, as the reference ignores them. (The reference also ignores
// unreadable bodies and values of the wrong type; ztx refuses them, so
// that a setting that would not be applied is not silently dropped.)
func networkSettingsBody(w http.ResponseWriter, r *http.Request) (NetworkSettingsUpdate, *httpError) {
	var set NetworkSettingsUpdate
	b, herr := readBody(w, r)
	if herr != nil || len(bytes.TrimSpace(b)) == 0 {
		return set, herr
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(b, &body); err != nil {
		return set, errorf(http.StatusBadRequest, "body is not a JSON object of network settings: %v", err)
	}
	for _, f := range []struct {
		key string
		dst **bool
	}{
		{"allowManaged", &set.AllowManaged},
		{"allowGlobal", &set.AllowGlobal},
		{"allowDefault", &set.AllowDefault},
		{"allowDNS", &set.AllowDNS},
	} {
		raw, ok := body[f.key]
		if !ok || string(raw) == "null" {
			continue
		}
		var v bool
		if err := json.Unmarshal(raw, &v); err != nil {
			return NetworkSettingsUpdate{}, errorf(http.StatusBadRequest, "%s must be true or false, not %s", f.key, clip(string(raw)))
		}
		*f.dst = &v
	}
	return set, nil
}
