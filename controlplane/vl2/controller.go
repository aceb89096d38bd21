package vl2

import (
	"net/netip"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// onConfigRequest answers a member's NETWORK_CONFIG_REQUEST through the
// embedded controller, or with UNSUPPORTED_OPERATION when there is none.
func (s *Switch) onConfigRequest(now int64, in vl1.Inbound) {
	req, err := verbs.ParseNetworkConfigRequest(in.Payload)
	s.mu.Lock()
	master, node := s.master, s.vl1
	s.mu.Unlock()
	if err != nil || node == nil {
		return
	}
	nwid := uint64(req.NetworkID)
	reply := func(code verbs.ErrorCode, data []byte) {
		e := verbs.Error{InReVerb: byte(packet.VerbNetworkConfigRequest), InRePacketID: verbs.PacketID(in.ID), Code: code,
			HasNetworkID: true, NetworkID: req.NetworkID}
		if len(data) > 0 {
			e.HasData, e.Data = true, data
		}
		node.Send(now, in.From.Address, packet.VerbError, e.AppendMarshal(nil))
	}
	if master == nil || netconf.Controller(nwid) != s.address() {
		reply(verbs.ErrorUnsupportedOperation, nil)
		return
	}
	meta, _ := netconf.ParseRequest(req.Metadata) // absent keys read as 0, like the reference
	var from netip.AddrPort
	if in.Hops == 0 {
		from = in.Addr
	}
	c, code, data, drop := master.Request(now, nwid, in.From, meta, from)
	switch {
	case drop:
	case c == nil:
		reply(code, data)
	default:
		s.sendConfig(now, in.From.Address, c, in.ID)
	}
}

// sendConfig sends a config in signed chunks: as OKs to request inRe, or
// as NETWORK_CONFIG pushes when inRe is 0. A config for ourselves is
// applied directly.
func (s *Switch) sendConfig(now int64, to identity.Address, c *netconf.Config, inRe uint64) {
	b, err := c.AppendMarshal(nil)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if to == s.address() {
		if nw := s.nets[c.NetworkID]; nw != nil {
			s.apply(now, nw, c, b)
		}
		return
	}
	if s.vl1 == nil {
		return
	}
	chunks, err := netconf.Split(s.self, c.NetworkID, s.random64(), b, 0)
	if err != nil {
		return
	}
	for _, k := range chunks {
		if inRe != 0 {
			ok := verbs.OK{InReVerb: byte(packet.VerbNetworkConfigRequest), InRePacketID: verbs.PacketID(inRe), Body: k}
			s.vl1.Send(now, to, packet.VerbOK, ok.AppendMarshal(nil))
		} else {
			s.vl1.Send(now, to, packet.VerbNetworkConfig, k.AppendMarshal(nil))
		}
	}
}

// PushConfig sends a fresh config to a member outside of a request (the
// controller's network or member changed).
func (s *Switch) PushConfig(nwid uint64, to identity.Address, c *netconf.Config) {
	s.sendConfig(s.clock(), to, c, 0)
}

// PushRevocation sends a revocation to members of nwid in
// NETWORK_CREDENTIALS and applies it here if we are a member too.
func (s *Switch) PushRevocation(nwid uint64, to []identity.Address, r cred.Revocation) {
	now := s.clock()
	payload := (&cred.Credentials{Revocations: []cred.Revocation{r}, Sections: 4}).AppendMarshal(nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	if nw := s.nets[nwid]; nw != nil {
		s.revoke(nw, r)
	}
	if s.vl1 == nil {
		return
	}
	for _, a := range to {
		if a != s.address() {
			s.vl1.Send(now, a, packet.VerbNetworkCredentials, payload)
		}
	}
}

// Background runs the per-network timers: config requests and
// refreshes, multicast announcements and expiry. It returns when it
// wants to run next.
func (s *Switch) Background(now int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := now + 5000
	if s.vl1 == nil {
		return next
	}
	ids := make([]uint64, 0, len(s.nets))
	for id := range s.nets {
		ids = append(ids, id)
	}
	for _, id := range ids {
		nw := s.nets[id]
		if nw == nil {
			continue
		}
		due := nw.lastConfigRequest + configRequestRetry
		if nw.conf != nil {
			due = max(due, nw.lastConfigUpdate+configRefresh)
		}
		if now >= due {
			s.requestConfig(now, nw) // may release the lock
			if nw = s.nets[id]; nw == nil {
				continue
			}
			due = now + configRequestRetry
		}
		next = min(next, due)
		if nw.conf == nil {
			continue
		}
		if now-nw.lastUpstreamLikes >= announcePeriod {
			nw.lastUpstreamLikes = now
			s.announce(now, nw, nw.groups(), false)
		}
		groups := nw.groups()
		for a, m := range nw.members {
			if now-m.lastAnnounce >= announcePeriod && s.gate(nw, a, m) {
				s.likeTo(now, nw, a, m, groups)
			}
		}
		s.expire(now, nw)
	}
	for id, nw := range s.ctlNets {
		if s.expire(now, nw); len(nw.likes) == 0 {
			delete(s.ctlNets, id)
		}
	}
	return max(next, now+100)
}

func (s *Switch) expire(now int64, nw *network) {
	for g, ms := range nw.likes {
		for a, t := range ms {
			if now-t >= likeExpiry {
				delete(ms, a)
			}
		}
		if len(ms) == 0 {
			delete(nw.likes, g)
		}
	}
	for g, q := range nw.pending {
		keep := q[:0]
		for _, pm := range q {
			if now-pm.created < pendingMulticastLife {
				keep = append(keep, pm)
			}
		}
		if len(keep) == 0 {
			delete(nw.pending, g)
		} else {
			nw.pending[g] = keep
		}
	}
}
