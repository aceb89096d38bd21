package controller

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/ztx/ztx/crypto/identity"
)

// MaxBodySize bounds POST bodies.
const MaxBodySize = 16 << 20

// Handler returns the HTTP API (PROTOCOL.md part 2 §10.1) for paths under
// /controller and /unstable/controller. Authentication is the caller's.
// Answers are the reference's JSON; errors are {"error":"..."} with 400
// (bad id, bad body, wrong controller address), 404, 405 or 413.
func (c *Controller) Handler() http.Handler { return http.HandlerFunc(c.serveHTTP) }

type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func errorf(status int, format string, a ...any) error {
	return &apiError{status, fmt.Sprintf(format, a...)}
}

func (c *Controller) serveHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := c.route(r)
	if err != nil {
		writeError(w, err)
		return
	}
	b, err := marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		status = ae.status
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrBadRequest):
		status = http.StatusBadRequest
	}
	if status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
	}
	b, _ := marshal(map[string]string{"error": err.Error()})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (c *Controller) body(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodySize))
	if err != nil {
		return nil, err
	}
	return DecodeBody(b)
}

var errMethod = errorf(http.StatusMethodNotAllowed, "method not allowed")

func isWrite(m string) bool { return m == http.MethodPost || m == http.MethodPut }

// route dispatches a request and returns the value to answer with.
func (c *Controller) route(r *http.Request) (any, error) {
	path := r.URL.Path
	unstable := false
	if p, ok := strings.CutPrefix(path, "/unstable"); ok {
		path, unstable = p, true
	}
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if parts[0] != "controller" {
		return nil, errorf(http.StatusNotFound, "not found: %s", r.URL.Path)
	}
	switch {
	case len(parts) == 1 && !unstable:
		if r.Method != http.MethodGet {
			return nil, errMethod
		}
		return struct {
			Controller    bool  `json:"controller"`
			APIVersion    int   `json:"apiVersion"`
			Clock         int64 `json:"clock"`
			DatabaseReady bool  `json:"databaseReady"`
		}{true, APIVersion, c.nowMS(), true}, nil
	case len(parts) < 2 || parts[1] != "network":
		return nil, errorf(http.StatusNotFound, "not found: %s", r.URL.Path)
	case len(parts) == 2:
		if unstable {
			if r.Method != http.MethodGet {
				return nil, errMethod
			}
			return c.networkSummaries()
		}
		return c.networkList(r, c.addr)
	}
	if len(parts[2]) == 16 && strings.HasSuffix(parts[2], "______") && len(parts) == 3 && !unstable {
		a, err := parseMemberAddress(parts[2][:10])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		if a != c.addr {
			return nil, errorf(http.StatusBadRequest, "network create: %v is not this controller (%v)", a, c.addr)
		}
		return c.networkList(r, a)
	}
	id, err := ParseNetworkID(parts[2])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	switch {
	case len(parts) == 3 && !unstable:
		return c.network(r, id)
	case len(parts) == 4 && parts[3] == "member":
		if r.Method != http.MethodGet {
			return nil, errMethod
		}
		return c.memberList(id, unstable)
	case len(parts) == 5 && parts[3] == "member" && !unstable:
		a, err := parseMemberAddress(parts[4])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		return c.member(r, id, a)
	}
	return nil, errorf(http.StatusNotFound, "not found: %s", r.URL.Path)
}

func (c *Controller) networkList(r *http.Request, _ identity.Address) (any, error) {
	switch {
	case r.Method == http.MethodGet && !strings.HasSuffix(r.URL.Path, "______"):
		ids, err := c.store.Networks()
		if err != nil {
			return nil, err
		}
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = id.String()
		}
		return out, nil
	case isWrite(r.Method):
		body, err := c.body(r)
		if err != nil {
			return nil, err
		}
		id, err := c.NewNetworkID()
		if err != nil {
			return nil, errorf(http.StatusServiceUnavailable, "%v", err)
		}
		return c.UpdateNetwork(id, body)
	}
	return nil, errMethod
}

func (c *Controller) networkSummaries() (any, error) {
	ids, err := c.store.Networks()
	if err != nil {
		return nil, err
	}
	type meta struct {
		AuthorizedMemberCount int `json:"authorizedMemberCount"`
		TotalMemberCount      int `json:"totalMemberCount"`
	}
	type withMeta struct {
		*Network
		Meta meta `json:"meta"`
	}
	data := []withMeta{}
	for _, id := range ids {
		n, err := c.store.Network(id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		ms, err := c.store.Members(id)
		if err != nil {
			return nil, err
		}
		wm := withMeta{Network: n, Meta: meta{TotalMemberCount: len(ms)}}
		for _, m := range ms {
			if m.Authorized {
				wm.Meta.AuthorizedMemberCount++
			}
		}
		data = append(data, wm)
	}
	return map[string]any{"data": data, "meta": map[string]int{"networkCount": len(data)}}, nil
}

func (c *Controller) network(r *http.Request, id NetworkID) (any, error) {
	switch {
	case r.Method == http.MethodGet:
		return c.store.Network(id)
	case isWrite(r.Method):
		body, err := c.body(r)
		if err != nil {
			return nil, err
		}
		return c.UpdateNetwork(id, body)
	case r.Method == http.MethodDelete:
		return c.DeleteNetwork(id)
	}
	return nil, errMethod
}

func (c *Controller) memberList(id NetworkID, unstable bool) (any, error) {
	if _, err := c.store.Network(id); err != nil {
		return nil, err
	}
	ms, err := c.store.Members(id)
	if err != nil {
		return nil, err
	}
	if unstable {
		auth := 0
		for _, m := range ms {
			if m.Authorized {
				auth++
			}
		}
		if ms == nil {
			ms = []*Member{}
		}
		return map[string]any{"data": ms, "meta": map[string]int{"totalCount": len(ms), "authorizedCount": auth}}, nil
	}
	out := map[string]uint64{}
	for _, m := range ms {
		out[m.ID] = m.Revision
	}
	return out, nil
}

func (c *Controller) member(r *http.Request, id NetworkID, a identity.Address) (any, error) {
	switch {
	case r.Method == http.MethodGet:
		if _, err := c.store.Network(id); err != nil {
			return nil, err
		}
		return c.store.Member(id, a)
	case isWrite(r.Method):
		body, err := c.body(r)
		if err != nil {
			return nil, err
		}
		return c.UpdateMember(id, a, body)
	case r.Method == http.MethodDelete:
		return c.DeleteMember(id, a)
	}
	return nil, errMethod
}
