package api

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/world"
)

// Node is what the API needs from the VL1 core; *vl1.Node satisfies it.
// Its methods may be called from any goroutine.
type Node interface {
	Status(now int64) vl1.Status
	Peers(now int64) []vl1.PeerInfo
	Peer(now int64, a identity.Address) (vl1.PeerInfo, bool)
	Moons() (moons []*world.World, waiting map[uint64]identity.Address)
	Orbit(now int64, id uint64, seed identity.Address) (next int64)
	Deorbit(id uint64) bool
	Ping(now int64, dest identity.Address, size int) (cookie uint64, next int64, err error)
}

var _ Node = (*vl1.Node)(nil)

// Service is the local API of one node. Set its fields before serving;
// they are not modified afterwards. The zero values of the optional
// fields are safe.
type Service struct {
	Node Node
	// Clock returns the time in ms that the node runs on; nil: the wall
	// clock.
	Clock func() int64
	// Poke tells the daemon that the node's next Background deadline may
	// have moved earlier (after an orbit or a ping); nil: nothing.
	Poke func(deadline int64)

	// AuthToken is authtoken.secret's (trimmed) content; MetricsToken
	// metricstoken.secret's, which opens /metrics only. An empty token
	// never matches.
	AuthToken    string
	MetricsToken string
	// AllowManagementFrom lists the non-loopback client networks allowed.
	AllowManagementFrom []netip.Prefix

	// HomeDir, Settings, LocalConf and ListeningOn feed /status's config
	// object. LocalConf returns local.conf as parsed (JSON numbers as
	// json.Number or float64); the API copies what it changes.
	HomeDir     string
	Settings    Settings
	LocalConf   func() map[string]any
	ListeningOn func() []netip.AddrPort
	// LocalPort maps a path's local socket to its UDP port, for the peer
	// objects' localPort; nil: 0 (what 1.14.1 shows on Linux).
	LocalPort func(vl1.Socket) int
	// Controller, if set, serves /controller and /unstable/controller
	// (the embedded network controller's API), after the same checks.
	Controller http.Handler
	// Networks, if set, serves /network (the virtual networks joined);
	// nil: /network answers 503, as everything does without a Node.
	Networks Networks

	// Counters returns a consistent copy of the node's counters for
	// /metrics; nil: no counter metrics.
	Counters func() vl1.Counters
	// Collectors are more /metrics collectors (the daemon's VL2 and XDP
	// counters).
	Collectors []prometheus.Collector

	once    sync.Once
	pings   pingTable
	metrics *metrics
}

// maxBody bounds request bodies (an orbit request is a few dozen bytes).
const maxBody = 64 << 10

func (s *Service) init() {
	s.once.Do(func() {
		s.pings.init()
		s.metrics = newMetrics(s)
	})
}

func (s *Service) now() int64 {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now().UnixMilli()
}

func (s *Service) poke(next int64) {
	if s.Poke != nil {
		s.Poke(next)
	}
}

// ServeHTTP implements http.Handler.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.init()
	if cb, ok := jsonpCallback(r); ok && !validCallback(cb) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"description":"jsonp must be a JavaScript identifier","error":400}`)
		return
	}
	if !s.authorized(r) {
		s.reply(w, r, http.StatusUnauthorized, nil)
		return
	}
	if s.Controller != nil && isControllerPath(r.URL.Path) {
		s.Controller.ServeHTTP(w, r)
		return
	}
	if s.Node == nil {
		s.fail(w, r, errorf(http.StatusServiceUnavailable, "the node is not running"))
		return
	}
	rt, herr := parseRoute(r.URL.Path)
	if herr != nil {
		s.fail(w, r, herr)
		return
	}
	method, herr := checkMethod(rt.ep, r.Method)
	if herr != nil {
		w.Header().Set("Allow", strings.Join(methods(rt.ep), ", "))
		s.fail(w, r, herr)
		return
	}
	switch rt.ep {
	case epStatus:
		s.reply(w, r, http.StatusOK, s.status())
	case epHealth:
		s.reply(w, r, http.StatusOK, s.health())
	case epMetrics:
		s.metrics.serve(w, r)
	case epPeers:
		s.reply(w, r, http.StatusOK, s.peers())
	case epPeer:
		s.reply(w, r, http.StatusOK, s.peer(identity.Address(rt.arg)))
	case epMoons:
		s.reply(w, r, http.StatusOK, s.moons())
	case epMoon:
		s.moon(w, r, method, rt.arg)
	case epZtxPeers:
		s.reply(w, r, http.StatusOK, s.ztxPeers())
	case epZtxPeer:
		s.reply(w, r, http.StatusOK, s.ztxPeer(identity.Address(rt.arg)))
	case epZtxPing:
		s.ping(w, r, identity.Address(rt.arg))
	case epNetworks, epNetwork:
		if s.Networks == nil {
			s.fail(w, r, errorf(http.StatusServiceUnavailable, "virtual networks are not available"))
			return
		}
		if rt.ep == epNetworks {
			s.reply(w, r, http.StatusOK, s.networks())
		} else {
			s.network(w, r, method, rt.arg)
		}
	}
}

// authorized applies the reference's checks (see the package doc).
func (s *Service) authorized(r *http.Request) bool {
	if r.URL.Path == "/metrics" {
		return s.tokenOK(r, s.AuthToken, s.MetricsToken)
	}
	if !s.sourceAllowed(r.RemoteAddr) {
		return false
	}
	if r.URL.Path == "/health" {
		return true
	}
	return s.tokenOK(r, s.AuthToken)
}

func (s *Service) sourceAllowed(remote string) bool {
	ap, err := netip.ParseAddrPort(remote)
	var ip netip.Addr
	if err == nil {
		ip = ap.Addr()
	} else if ip, err = netip.ParseAddr(remote); err != nil {
		return false
	}
	ip = ip.Unmap().WithZone("")
	if ip.IsLoopback() {
		return true
	}
	for _, p := range s.AllowManagementFrom {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// tokenOK checks the first token the request carries against tokens.
func (s *Service) tokenOK(r *http.Request, tokens ...string) bool {
	var got string
	if v := r.Header.Values("X-ZT1-Auth"); len(v) > 0 {
		got = v[0]
	} else if q := r.URL.Query(); q.Has("auth") {
		got = q.Get("auth")
	} else if v := r.Header.Values("Authorization"); len(v) > 0 {
		parts := strings.FieldsFunc(v[0], func(c rune) bool { return c == ' ' })
		if len(parts) != 2 || !strings.EqualFold(parts[0], "bearer") {
			return false
		}
		got = parts[1]
	} else {
		return false
	}
	ok := false
	for _, t := range tokens {
		if t != "" && subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 {
			ok = true
		}
	}
	return ok
}

// reply writes v as JSON ({} for nil), or as JSONP when asked.
func (s *Service) reply(w http.ResponseWriter, r *http.Request, status int, v any) {
	body := []byte("{}")
	if v != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			status = http.StatusInternalServerError
			buf.Reset()
			enc.Encode(errorBody{Error: status, Description: err.Error()})
		}
		body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	h := w.Header()
	if cb, ok := jsonpCallback(r); ok {
		h.Set("Content-Type", "application/javascript")
		body = append(append([]byte(cb+"("), body...), ");"...)
	} else {
		h.Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(body)
}

// replyEmpty answers with no content, as the reference's setContent
// does: {} as JSON, or <fn>(null); as JSONP.
func (s *Service) replyEmpty(w http.ResponseWriter, r *http.Request, status int) {
	h := w.Header()
	if cb, ok := jsonpCallback(r); ok {
		h.Set("Content-Type", "application/javascript")
		w.WriteHeader(status)
		io.WriteString(w, cb+"(null);")
		return
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, "{}")
}

// errorBody is the body of ztx's error replies, shaped like the
// reference's exception replies.
type errorBody struct {
	Description string `json:"description"`
	Error       int    `json:"error"`
}

func (s *Service) fail(w http.ResponseWriter, r *http.Request, e *httpError) {
	s.reply(w, r, e.status, errorBody{Error: e.status, Description: e.msg})
}

func jsonpCallback(r *http.Request) (string, bool) {
	q := r.URL.Query()
	if !q.Has("jsonp") {
		return "", false
	}
	return q.Get("jsonp"), true
}

// validCallback accepts dotted JavaScript identifiers (ztx refuses what
// the reference would echo verbatim into a script).
func validCallback(cb string) bool {
	if cb == "" || len(cb) > 128 {
		return false
	}
	for _, part := range strings.Split(cb, ".") {
		if part == "" || part[0] >= '0' && part[0] <= '9' {
			return false
		}
		for _, c := range []byte(part) {
			if !(c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

func (s *Service) status() statusJSON {
	now := s.now()
	st := s.Node.Status(now)
	out := statusJSON{
		Address:              st.Address.String(),
		Clock:                now,
		Config:               s.config(formatAddrs(st.Surface)),
		Online:               st.Online,
		PlanetWorldID:        st.PlanetID,
		PlanetWorldTimestamp: st.PlanetTimestamp,
		versionJSON:          ownVersion(),
	}
	if st.Identity != nil {
		out.PublicIdentity = st.Identity.String()
	}
	return out
}

func (s *Service) health() healthJSON {
	now := s.now()
	return healthJSON{Clock: now, Online: s.Node.Status(now).Online, versionJSON: ownVersion()}
}

func (s *Service) peers() []peerJSON {
	peers := s.Node.Peers(s.now())
	out := make([]peerJSON, 0, len(peers))
	for _, p := range peers {
		out = append(out, s.peerObject(p))
	}
	return out
}

func (s *Service) peer(a identity.Address) any {
	p, ok := s.Node.Peer(s.now(), a)
	if !ok {
		return nil
	}
	return s.peerObject(p)
}

func (s *Service) ztxPeers() []ztxPeerJSON {
	now := s.now()
	peers := s.Node.Peers(now)
	out := make([]ztxPeerJSON, 0, len(peers))
	for _, p := range peers {
		out = append(out, s.ztxPeerObject(now, p))
	}
	return out
}

func (s *Service) ztxPeer(a identity.Address) any {
	now := s.now()
	p, ok := s.Node.Peer(now, a)
	if !ok {
		return nil
	}
	return s.ztxPeerObject(now, p)
}

func (s *Service) moons() []moonJSON {
	moons, _ := s.Node.Moons()
	out := make([]moonJSON, 0, len(moons))
	for _, m := range moons {
		out = append(out, moonObject(m))
	}
	return out
}

func (s *Service) findMoon(id uint64) *world.World {
	moons, _ := s.Node.Moons()
	for _, m := range moons {
		if m.ID == id {
			return m
		}
	}
	return nil
}

// moon answers GET, POST/PUT (orbit) and DELETE (deorbit) on /moon/<id>.
func (s *Service) moon(w http.ResponseWriter, r *http.Request, method string, id uint64) {
	switch method {
	case http.MethodGet:
		if m := s.findMoon(id); m != nil {
			s.reply(w, r, http.StatusOK, moonObject(m))
		} else {
			s.reply(w, r, http.StatusOK, nil)
		}
	case http.MethodDelete:
		s.Node.Deorbit(id)
		s.reply(w, r, http.StatusOK, map[string]bool{"result": true})
	default:
		seed, herr := orbitSeed(w, r)
		if herr != nil {
			s.fail(w, r, herr)
			return
		}
		if m := s.findMoon(id); m != nil {
			s.reply(w, r, http.StatusOK, moonObject(m))
			return
		}
		if seed == 0 {
			s.reply(w, r, http.StatusOK, nil)
			return
		}
		s.poke(s.Node.Orbit(s.now(), id, seed))
		s.reply(w, r, http.StatusOK, waitingMoon(id))
	}
}

// orbitSeed reads {"seed":"<address>"}. An empty body, a missing seed or
// the seed "0" mean no seed, as in the reference; unreadable JSON and
// seeds that are not addresses are refused.
func orbitSeed(w http.ResponseWriter, r *http.Request) (identity.Address, *httpError) {
	b, herr := readBody(w, r)
	if herr != nil {
		return 0, herr
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return 0, nil
	}
	var body struct {
		Seed *string `json:"seed"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return 0, errorf(http.StatusBadRequest, "body is not {\"seed\":\"<address>\"}: %v", err)
	}
	if body.Seed == nil || strings.TrimLeft(*body.Seed, "0") == "" {
		return 0, nil
	}
	a, err := identity.ParseAddress(*body.Seed)
	if err != nil {
		return 0, errorf(http.StatusBadRequest, "seed: %v", err)
	}
	return a, nil
}

// readBody reads a request body of at most maxBody bytes.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *httpError) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errorf(http.StatusRequestEntityTooLarge, "body larger than %d bytes", maxBody)
		}
		return nil, errorf(http.StatusBadRequest, "reading body: %v", err)
	}
	return b, nil
}

// isControllerPath reports whether a request is for the embedded controller.
func isControllerPath(p string) bool {
	for _, prefix := range []string{"/controller", "/unstable/controller"} {
		if p == prefix || strings.HasPrefix(p, prefix+"/") {
			return true
		}
	}
	return false
}
