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
)

// route is a parsed request path: the endpoint and, for /peer/<x>,
// /moon/<x> and the ztx ones, the 10-hex-digit argument.
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
}

// withArg are the endpoints taking exactly 10 hex digits after the prefix
// (the reference's route regexes, matched against the whole path).
var withArg = []struct {
	prefix string
	ep     endpoint
	what   string
}{
	{"/peer/", epPeer, "peer address"},
	{"/moon/", epMoon, "moon world ID"},
	{"/ztx/peer/", epZtxPeer, "peer address"},
	{"/ztx/ping/", epZtxPing, "peer address"},
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
		v, ok := parseHex10(arg)
		if !ok {
			return route{}, errorf(http.StatusBadRequest, "%s must be exactly 10 hex digits, not %q", w.what, clip(arg))
		}
		return route{ep: w.ep, arg: v}, nil
	}
	return route{}, errorf(http.StatusNotFound, "no such endpoint: %q", clip(path))
}

// parseHex10 reads exactly 10 hex digits (either case).
func parseHex10(s string) (uint64, bool) {
	if len(s) != 10 {
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
	case epMoon:
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
