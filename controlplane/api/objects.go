package api

import (
	"encoding/hex"
	"fmt"
	"net/netip"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/headers/inet"
	"github.com/ztx/ztx/headers/world"
)

// The JSON objects of the reference's API. Fields are in the order the
// reference prints them (its JSON library sorts keys), so that responses
// compare byte for byte where the values agree.

// statusJSON is /status (PROTOCOL.md part 1 §12.3).
type statusJSON struct {
	Address              string         `json:"address"`
	Clock                int64          `json:"clock"`
	Config               map[string]any `json:"config"`
	Online               bool           `json:"online"`
	PlanetWorldID        uint64         `json:"planetWorldId"`
	PlanetWorldTimestamp uint64         `json:"planetWorldTimestamp"`
	PublicIdentity       string         `json:"publicIdentity"`
	TCPFallbackActive    bool           `json:"tcpFallbackActive"`
	versionJSON
}

// versionJSON is the software version, as /status and /health show it.
type versionJSON struct {
	Version      string `json:"version"`
	VersionBuild int    `json:"versionBuild"`
	VersionMajor int    `json:"versionMajor"`
	VersionMinor int    `json:"versionMinor"`
	VersionRev   int    `json:"versionRev"`
}

func ownVersion() versionJSON {
	return versionJSON{
		Version:      fmt.Sprintf("%d.%d.%d", vl1.VersionMajor, vl1.VersionMinor, vl1.VersionRevision),
		VersionMajor: vl1.VersionMajor, VersionMinor: vl1.VersionMinor, VersionRev: vl1.VersionRevision,
	}
}

// healthJSON is /health.
type healthJSON struct {
	Clock  int64 `json:"clock"`
	Online bool  `json:"online"`
	versionJSON
}

// peerJSON is the peer object (§12.4).
type peerJSON struct {
	Address      string     `json:"address"`
	IsBonded     bool       `json:"isBonded"`
	Latency      int64      `json:"latency"`
	Paths        []pathJSON `json:"paths"`
	Role         string     `json:"role"`
	Tunneled     bool       `json:"tunneled"`
	Version      string     `json:"version"`
	VersionMajor int        `json:"versionMajor"`
	VersionMinor int        `json:"versionMinor"`
	VersionRev   int        `json:"versionRev"`
}

// pathJSON is one path of a peer.
type pathJSON struct {
	Active        bool   `json:"active"`
	Address       string `json:"address"`
	Expired       bool   `json:"expired"`
	LastReceive   int64  `json:"lastReceive"`
	LastSend      int64  `json:"lastSend"`
	LocalPort     int    `json:"localPort"`
	LocalSocket   int64  `json:"localSocket"`
	Preferred     bool   `json:"preferred"`
	TrustedPathID uint64 `json:"trustedPathId"`
}

// ztxPeerJSON is the peer object of /ztx/peer: the reference's fields and
// how the peer is reached. Link is "direct" when the preferred path was
// heard from within the path alive window (19 s), "relayed" otherwise
// (traffic then goes through a root).
type ztxPeerJSON struct {
	peerJSON
	Identity        string        `json:"identity"`
	LastReceive     int64         `json:"lastReceive"`
	LastSend        int64         `json:"lastSend"`
	Link            string        `json:"link"`
	Paths           []ztxPathJSON `json:"paths"` // shadows peerJSON.Paths
	ProtocolVersion int           `json:"protocolVersion"`
}

// ztxPathJSON adds a path's own latency and state: "direct" (alive: heard
// from within 19 s), "stale" (not alive, not expired) or "expired".
type ztxPathJSON struct {
	pathJSON
	Latency int64  `json:"latency"`
	Status  string `json:"status"`
}

// pingJSON answers /ztx/ping.
type pingJSON struct {
	Address string `json:"address"`
	From    string `json:"from"`
	Relayed bool   `json:"relayed"`
	RTT     int64  `json:"rtt"`
}

// moonJSON is the moon object (§12.5). Signature and
// UpdatesMustBeSignedBy are null in the "waiting" object.
type moonJSON struct {
	ID                    string         `json:"id"`
	Roots                 []moonRootJSON `json:"roots"`
	Signature             *string        `json:"signature"`
	Timestamp             uint64         `json:"timestamp"`
	UpdatesMustBeSignedBy *string        `json:"updatesMustBeSignedBy"`
	Waiting               bool           `json:"waiting"`
}

type moonRootJSON struct {
	Identity        string   `json:"identity"`
	StableEndpoints []string `json:"stableEndpoints"`
}

// Path alive window and expiry (PROTOCOL.md part 1 §9.1), for /ztx/peer
// and the path count metric.
const (
	pathAliveWindow    = 14000 + 5000
	peerPathExpiration = 4*60000 + 3000
)

func (s *Service) peerObject(p vl1.PeerInfo) peerJSON {
	latency := p.Latency
	if latency < 0 || latency >= 0xffff {
		latency = -1
	}
	out := peerJSON{
		Address:      p.Address.String(),
		Latency:      latency,
		Paths:        make([]pathJSON, 0, len(p.Paths)),
		Role:         string(p.Role),
		Version:      fmt.Sprintf("%d.%d.%d", p.Major, p.Minor, p.Revision),
		VersionMajor: p.Major, VersionMinor: p.Minor, VersionRev: p.Revision,
	}
	for _, pp := range p.Paths {
		out.Paths = append(out.Paths, s.pathObject(pp))
	}
	return out
}

func (s *Service) pathObject(pp vl1.PathInfo) pathJSON {
	out := pathJSON{
		Active:        !pp.Expired,
		Address:       inet.Format(pp.Address),
		Expired:       pp.Expired,
		LastReceive:   max(pp.LastReceive, 0),
		LastSend:      max(pp.LastSend, 0),
		LocalSocket:   int64(pp.Socket),
		Preferred:     pp.Preferred,
		TrustedPathID: pp.TrustedPathID,
	}
	if s.LocalPort != nil {
		out.LocalPort = s.LocalPort(pp.Socket)
	}
	return out
}

func (s *Service) ztxPeerObject(now int64, p vl1.PeerInfo) ztxPeerJSON {
	out := ztxPeerJSON{
		peerJSON:        s.peerObject(p),
		LastReceive:     max(p.LastReceive, 0),
		LastSend:        max(p.LastSend, 0),
		Link:            "relayed",
		Paths:           make([]ztxPathJSON, 0, len(p.Paths)),
		ProtocolVersion: p.Protocol,
	}
	if p.Identity != nil {
		out.Identity = p.Identity.String()
	}
	if p.Direct {
		out.Link = "direct"
	}
	for _, pp := range p.Paths {
		out.Paths = append(out.Paths, ztxPathJSON{
			pathJSON: s.pathObject(pp),
			Latency:  pp.Latency,
			Status:   pathStatus(now, pp),
		})
	}
	return out
}

func pathAlive(now int64, pp vl1.PathInfo) bool {
	return !pp.Expired && now-pp.LastReceive < pathAliveWindow
}

func pathStatus(now int64, pp vl1.PathInfo) string {
	switch {
	case pp.Expired || now-pp.LastReceive >= peerPathExpiration:
		return "expired"
	case pathAlive(now, pp):
		return "direct"
	}
	return "stale"
}

func moonObject(w *world.World) moonJSON {
	sig := hex.EncodeToString(w.Signature[:])
	key := hex.EncodeToString(w.UpdatesMustBeSignedBy[:])
	out := moonJSON{
		ID:                    fmt.Sprintf("%016x", w.ID),
		Roots:                 make([]moonRootJSON, 0, len(w.Roots)),
		Signature:             &sig,
		Timestamp:             w.Timestamp,
		UpdatesMustBeSignedBy: &key,
	}
	for _, r := range w.Roots {
		rj := moonRootJSON{StableEndpoints: make([]string, 0, len(r.StableEndpoints))}
		if r.Identity != nil {
			rj.Identity = r.Identity.String()
		}
		for _, ep := range r.StableEndpoints {
			rj.StableEndpoints = append(rj.StableEndpoints, inet.Format(ep))
		}
		out.Roots = append(out.Roots, rj)
	}
	return out
}

// waitingMoon is what POST /moon answers while the seed is asked for the
// moon.
func waitingMoon(id uint64) moonJSON {
	return moonJSON{ID: fmt.Sprintf("%016x", id), Roots: []moonRootJSON{}, Waiting: true}
}

func formatAddrs(aps []netip.AddrPort) []string {
	out := make([]string, 0, len(aps))
	for _, ap := range aps {
		out = append(out, inet.Format(ap))
	}
	return out
}
