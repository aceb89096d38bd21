package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// endpoint names one of the API's resources.
type endpoint int

const (
	epStatus endpoint = iota + 1
	epHealth
	epMetrics
	epPeers
	epPeer
	epMoons
	epMoon
	epZtxPeers
	epZtxPeer
	epZtxPing
	epNetworks
	epNetwork
)

// route is a parsed request path: the endpoint and, for /peer/<x>,
// /moon/<x>, /network/<x> and the ztx ones, the hex argument.
type route struct {
	ep  endpoint
	arg uint64
}

// httpError is an error with the status it answers.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) *httpError {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// fixed are the endpoints without an argument.
var fixed = map[string]endpoint{
	"/status":   epStatus,
	"/health":   epHealth,
	"/metrics":  epMetrics,
	"/peer":     epPeers,
	"/moon":     epMoons,
	"/ztx/peer": epZtxPeers,
	"/network":  epNetworks,
}

// withArg are the endpoints taking exactly digits hex digits after the
// prefix (the reference's route regexes, matched against the whole path).
var withArg = []struct {
	prefix string
	ep     endpoint
	digits int
	what   string
}{
	{"/peer/", epPeer, 10, "peer address"},
	{"/moon/", epMoon, 10, "moon world ID"},
	{"/network/", epNetwork, 16, "network ID"},
	{"/ztx/peer/", epZtxPeer, 10, "peer address"},
	{"/ztx/ping/", epZtxPing, 10, "peer address"},
}

// parseRoute maps a request path to its endpoint. Unknown paths are 404;
// a known prefix with a malformed argument is 400.
func parseRoute(path string) (route, *httpError) {
	if ep, ok := fixed[path]; ok {
		return route{ep: ep}, nil
	}
	for _, w := range withArg {
		arg, ok := strings.CutPrefix(path, w.prefix)
		if !ok {
			continue
		}
		v, ok := parseHex(arg, w.digits)
		if !ok {
			return route{}, errorf(http.StatusBadRequest, "%s must be exactly %d hex digits, not %q", w.what, w.digits, clip(arg))
		}
		return route{ep: w.ep, arg: v}, nil
	}
	return route{}, errorf(http.StatusNotFound, "no such endpoint: %q", clip(path))
}

// parseHex reads exactly n (at most 16) hex digits, either case.
func parseHex(s string, n int) (uint64, bool) {
	if len(s) != n || n > 16 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 16, 64)
	return v, err == nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// methods lists the methods each endpoint answers (HEAD goes with GET).
func methods(ep endpoint) []string {
	switch ep {
	case epMoon, epNetwork:
		return []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete}
	case epZtxPing:
		return []string{http.MethodPost}
	}
	return []string{http.MethodGet}
}

// checkMethod accepts m for ep, treating HEAD as GET.
func checkMethod(ep endpoint, m string) (string, *httpError) {
	if m == http.MethodHead {
		m = http.MethodGet
	}
	allowed := methods(ep)
	for _, a := range allowed {
		if a == m {
			return m, nil
		}
	}
	return "", errorf(http.StatusMethodNotAllowed, "method %s not allowed; use %s", clip(m), strings.Join(allowed, ", "))
}

// clip shortens client-supplied text echoed in error messages.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
