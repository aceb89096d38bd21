package vl2

import (
	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/packet"
)

// onCredentials takes a NETWORK_CREDENTIALS packet: at most one per peer
// per second, as the reference.
func (s *Switch) onCredentials(now int64, in vl1.Inbound) {
	from := in.From.Address
	if now-s.credsRate[from] < credentialsRateLimit {
		return
	}
	s.credsRate[from] = now
	if len(s.credsRate) > 1<<16 {
		clear(s.credsRate)
	}
	c, _, err := cred.ParseCredentials(in.Payload)
	if err != nil {
		s.Counters.DroppedMalformed++
		return
	}
	for i := range c.COMs {
		com := &c.COMs[i]
		if nw := s.nets[com.NetworkID()]; nw != nil && com.IssuedTo() == from {
			s.acceptCOM(now, nw, from, com)
		}
	}
	for _, r := range c.Revocations {
		s.acceptRevocation(now, from, r)
	}
	for _, cp := range c.Capabilities {
		if nw := s.nets[cp.NetworkID]; nw != nil && cp.IssuedTo() == from {
			if id := s.controllerID(now, nw); id != nil && cp.Verify(cred.Known(id, in.From, s.self.PublicOnly())) == nil {
				if m := nw.member(from); m != nil {
					old, has := m.caps[cp.ID]
					if m.takes(cred.CredentialCapability, cp.ID, cp.Timestamp, old.Timestamp, has) {
						if m.caps == nil {
							m.caps = map[uint32]cred.Capability{}
						}
						m.caps[cp.ID] = cp
					}
				}
			} else {
				s.Counters.DroppedCredential++
			}
		}
	}
	for _, t := range c.Tags {
		if nw := s.nets[t.NetworkID]; nw != nil && t.IssuedTo == from {
			if id := s.controllerID(now, nw); id != nil && t.Verify(id) == nil {
				if m := nw.member(from); m != nil {
					old, has := m.tags[t.ID]
					if m.takes(cred.CredentialTag, t.ID, t.Timestamp, old.Timestamp, has) {
						if m.tags == nil {
							m.tags = map[uint32]cred.Tag{}
						}
						m.tags[t.ID] = t
					}
				}
			} else {
				s.Counters.DroppedCredential++
			}
		}
	}
	for _, o := range c.COOs {
		if nw := s.nets[o.NetworkID]; nw != nil && o.IssuedTo == from {
			if id := s.controllerID(now, nw); id != nil && o.Verify(id) == nil {
				if m := nw.member(from); m != nil {
					var held int64
					has := false
					for i := range m.coos {
						if m.coos[i].ID == o.ID {
							held, has = m.coos[i].Timestamp, true
						}
					}
					if m.takes(cred.CredentialCOO, o.ID, o.Timestamp, held, has) {
						m.coos = replaceCOO(m.coos, o)
					}
				}
			} else {
				s.Counters.DroppedCredential++
			}
		}
	}
}

// takes reports whether a peer's capability, tag or COO with timestamp
// ts replaces the one held (if has, with timestamp held): not when it is
// older or revoked, as the reference's Membership.
func (m *membership) takes(t cred.CredentialType, id uint32, ts, held int64, has bool) bool {
	if has && held > ts {
		return false
	}
	th, revoked := m.revokedComIDs[credKey(t, id)]
	return !revoked || ts > th
}

func replaceCOO(list []cred.COO, o cred.COO) []cred.COO {
	for i := range list {
		if list[i].ID == o.ID {
			list[i] = o
			return list
		}
	}
	if len(list) >= 16 {
		list = list[1:]
	}
	return append(list, o)
}

// controllerID returns the identity of nw's controller (asking for it
// when unknown).
func (s *Switch) controllerID(now int64, nw *network) *identity.Identity {
	return s.vl1.Identity(now, netconf.Controller(nw.id))
}

// acceptCOM stores a peer's COM if it is newer than what we hold and not
// revoked, and signed by the network's controller.
func (s *Switch) acceptCOM(now int64, nw *network, from identity.Address, com *cred.COM) {
	m := nw.member(from)
	if m == nil || com.NetworkID() != nw.id {
		return
	}
	if com.Timestamp() <= m.comThreshold {
		s.Counters.DroppedCredential++
		return
	}
	if m.com != nil {
		if com.Timestamp() < m.com.Timestamp() {
			return
		}
		if string(com.AppendMarshal(nil)) == string(m.com.AppendMarshal(nil)) {
			return // redundant
		}
	}
	id := s.controllerID(now, nw)
	if id == nil || com.Verify(id) != nil {
		s.Counters.DroppedCredential++
		return
	}
	c := *com
	m.com = &c
	// A new member passing the gate hears our groups.
	if s.gate(nw, from, m) && now-m.lastAnnounce >= announcePeriod {
		s.likeTo(now, nw, from, m, nw.groups())
	}
}

// acceptRevocation applies a revocation signed by the network's
// controller and, when asked to, forwards it once to our members.
func (s *Switch) acceptRevocation(now int64, from identity.Address, r cred.Revocation) {
	nw := s.nets[r.NetworkID]
	if nw == nil {
		return
	}
	if r.SignedBy != netconf.Controller(nw.id) {
		s.Counters.DroppedCredential++
		return
	}
	id := s.controllerID(now, nw)
	if id == nil || r.Verify(id) != nil {
		s.Counters.DroppedCredential++
		return
	}
	if !s.revoke(nw, r) {
		return // already had it
	}
	if r.Flags&cred.RevocationFastPropagate != 0 {
		payload := (&cred.Credentials{Revocations: []cred.Revocation{r}, Sections: 4}).AppendMarshal(nil)
		for a := range nw.members {
			if a != from && a != s.address() {
				s.vl1.Send(now, a, packet.VerbNetworkCredentials, payload)
			}
		}
	}
}

// revoke raises a threshold; it reports whether anything changed.
func (s *Switch) revoke(nw *network, r cred.Revocation) bool {
	switch r.CredentialType {
	case cred.CredentialCOM:
		m := nw.members[r.Target]
		if m == nil {
			if r.Threshold <= nw.revoked[r.Target] {
				return false
			}
			if len(nw.revoked) < membersPerNetworkMax {
				nw.revoked[r.Target] = r.Threshold
			}
			return true
		}
		if r.Threshold <= m.comThreshold {
			return false
		}
		m.comThreshold = r.Threshold
		if m.com != nil && m.com.Timestamp() <= r.Threshold {
			m.com = nil
		}
		return true
	default:
		m := nw.member(r.Target)
		if m == nil {
			return false
		}
		if m.revokedComIDs == nil {
			m.revokedComIDs = map[uint32]int64{}
		}
		key := credKey(r.CredentialType, r.CredentialID)
		if r.Threshold <= m.revokedComIDs[key] {
			return false
		}
		m.revokedComIDs[key] = r.Threshold
		return true
	}
}
