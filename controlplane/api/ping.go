package api

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/inet"
)

// Limits of /ztx/ping.
const (
	// DefaultPingSize is the ECHO payload size when the request names none.
	DefaultPingSize = 56
	// MaxPingSize keeps the OK(ECHO) (header, verb, in-re ID and a copy of
	// the payload) within the largest packet, 10024 bytes.
	MaxPingSize = 10024 - 28 - 1 - 8
	// DefaultPingTimeout and MaxPingTimeout are in ms.
	DefaultPingTimeout = 5000
	MaxPingTimeout     = 60000
	// earlyReplies bounds the replies kept for pings nobody waits for
	// (yet: a reply may overtake the registration of its waiter).
	earlyReplies = 64
)

// pingTable matches ECHO replies with the requests waiting for them.
type pingTable struct {
	mu      sync.Mutex
	waiters map[uint64]chan vl1.EchoReply
	early   map[uint64]vl1.EchoReply
	order   []uint64 // early's cookies, oldest first
}

func (t *pingTable) init() {
	t.waiters = map[uint64]chan vl1.EchoReply{}
	t.early = map[uint64]vl1.EchoReply{}
}

// EchoReply hands the API an ECHO reply the node reported
// (vl1.EventEchoReply). It never blocks and never calls the node, so the
// daemon may call it from its vl1.Host.Event.
func (s *Service) EchoReply(r vl1.EchoReply) {
	s.init()
	t := &s.pings
	t.mu.Lock()
	defer t.mu.Unlock()
	if ch, ok := t.waiters[r.Cookie]; ok {
		delete(t.waiters, r.Cookie)
		ch <- r // buffered, and only ever sent to once
		return
	}
	if _, dup := t.early[r.Cookie]; dup {
		return
	}
	if len(t.order) >= earlyReplies {
		delete(t.early, t.order[0])
		t.order = t.order[1:]
	}
	t.early[r.Cookie] = r
	t.order = append(t.order, r.Cookie)
}

// wait registers interest in cookie; the channel receives its reply.
func (t *pingTable) wait(cookie uint64) chan vl1.EchoReply {
	ch := make(chan vl1.EchoReply, 1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if r, ok := t.early[cookie]; ok {
		delete(t.early, cookie)
		ch <- r
		return ch
	}
	t.waiters[cookie] = ch
	return ch
}

func (t *pingTable) cancel(cookie uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.waiters, cookie)
}

// ping sends an ECHO to dest and waits for the answer.
func (s *Service) ping(w http.ResponseWriter, r *http.Request, dest identity.Address) {
	q := r.URL.Query()
	size, herr := intParam(q.Get("size"), "size", DefaultPingSize, 0, MaxPingSize)
	if herr != nil {
		s.fail(w, r, herr)
		return
	}
	timeout, herr := intParam(q.Get("timeout"), "timeout", DefaultPingTimeout, 1, MaxPingTimeout)
	if herr != nil {
		s.fail(w, r, herr)
		return
	}
	if dest.IsReserved() {
		s.fail(w, r, errorf(http.StatusBadRequest, "%s is a reserved address", dest))
		return
	}
	cookie, next, err := s.Node.Ping(s.now(), dest, size)
	s.poke(next)
	if errors.Is(err, vl1.ErrSelf) {
		s.fail(w, r, errorf(http.StatusBadRequest, "%s is this node's own address", dest))
		return
	}
	if err != nil {
		s.fail(w, r, errorf(http.StatusInternalServerError, "ping: %v", err))
		return
	}
	ch := s.pings.wait(cookie)
	defer s.pings.cancel(cookie)
	timer := time.NewTimer(time.Duration(timeout) * time.Millisecond)
	defer timer.Stop()
	select {
	case rep := <-ch:
		s.reply(w, r, http.StatusOK, pingJSON{
			Address: rep.Peer.String(), From: inet.Format(rep.From), Relayed: rep.Relayed, RTT: rep.RTT,
		})
	case <-timer.C:
		s.fail(w, r, errorf(http.StatusGatewayTimeout, "no reply from %s within %d ms", dest, timeout))
	case <-r.Context().Done():
		s.fail(w, r, errorf(http.StatusGatewayTimeout, "request cancelled before %s replied", dest))
	}
}

// intParam reads an optional decimal query parameter within [lo, hi].
func intParam(v, name string, dfl, lo, hi int) (int, *httpError) {
	if v == "" {
		return dfl, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errorf(http.StatusBadRequest, "%s must be an integer from %d to %d, not %q", name, lo, hi, clip(v))
	}
	return n, nil
}
