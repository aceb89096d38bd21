package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Any path parses or fails with 400/404, and what parses prints back.
func FuzzRoute(f *testing.F) {
	for _, s := range []string{"/status", "/peer", "/peer/2e57b20512", "/moon/DEADBEEF00", "/ztx/ping/0123456789",
		"/ztx/peer/", "/peer/2e57b2051g", "/peer//", "/../status", "/metrics", "/health?x",
		"/network", "/network/8056c2e21c000001", "/network/8056C2E21C00000", "/network/+056c2e21c000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		rt, err := parseRoute(path)
		if err != nil {
			if err.status != http.StatusBadRequest && err.status != http.StatusNotFound {
				t.Fatalf("%q: status %d", path, err.status)
			}
			return
		}
		for _, w := range withArg {
			if w.ep != rt.ep {
				continue
			}
			if rt.arg>>(4*w.digits) != 0 && w.digits < 16 {
				t.Fatalf("%q: argument %x beyond %d hex digits", path, rt.arg, w.digits)
			}
			if !strings.EqualFold(path, fmt.Sprintf("%s%0*x", w.prefix, w.digits, rt.arg)) {
				t.Fatalf("%q parsed as %+v", path, rt)
			}
		}
	})
}

// Whatever the request, the handler answers without panicking, with a
// known status and (except /metrics) a JSON or JSONP body.
func FuzzServeHTTP(f *testing.F) {
	f.Add("GET", "/status", "", "tok")
	f.Add("GET", "/peer/2e57b20512?jsonp=cb", "", "tok")
	f.Add("POST", "/moon/deadbeef00", `{"seed":"2e57b20512"}`, "tok")
	f.Add("PUT", "/moon/deadbeef00", `{"seed":12}`, "tok")
	f.Add("DELETE", "/moon/deadbeef00", "", "tok")
	f.Add("POST", "/ztx/ping/2e57b20512?size=99999&timeout=1", "", "tok")
	f.Add("GET", "/metrics", "", "met")
	f.Add("GET", "/ztx/peer", "", "")
	f.Add("BREW", "/status?auth=tok", "", "")
	f.Add("GET", "/status?jsonp=alert(1)", "", "tok")
	f.Add("GET", "/network", "", "tok")
	f.Add("GET", "/network/8056c2e21c000001?jsonp=cb", "", "tok")
	f.Add("POST", "/network/8056c2e21c000001", `{"allowDNS":true,"allowManaged":false}`, "tok")
	f.Add("PUT", "/network/8056C2E21C000001", `{"allowGlobal":1}`, "tok")
	f.Add("POST", "/network/8056c2e21c000001", `[`, "tok")
	f.Add("DELETE", "/network/8056c2e21c000001", "", "tok")
	s, _ := newStubService()
	f.Fuzz(func(t *testing.T, method, target, body, token string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		r, err := http.NewRequestWithContext(ctx, method, "http://127.0.0.1:9993"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		r.RemoteAddr = "127.0.0.1:40000"
		if token != "" {
			r.Header.Set("X-ZT1-Auth", token)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		switch w.Code {
		case 200, 400, 401, 404, 405, 413, 504:
		case 500:
			if !strings.HasPrefix(r.URL.Path, "/network/") || r.Method != "POST" && r.Method != "PUT" {
				t.Fatalf("%s %q: status 500", method, target)
			}
		default:
			t.Fatalf("%s %q: status %d", method, target, w.Code)
		}
		if r.URL.Path == "/metrics" && w.Code == 200 {
			return
		}
		b := w.Body.Bytes()
		if ct := w.Header().Get("Content-Type"); ct == "application/javascript" {
			cb, _ := jsonpCallback(r)
			if !strings.HasPrefix(string(b), cb+"(") || !strings.HasSuffix(string(b), ");") {
				t.Fatalf("%s %q: JSONP body %q", method, target, b)
			}
			b = b[len(cb)+1 : len(b)-2]
		} else if ct != "application/json" {
			t.Fatalf("%s %q: content type %q", method, target, ct)
		}
		if !json.Valid(b) {
			t.Fatalf("%s %q: body %q is not JSON", method, target, b)
		}
	})
}
