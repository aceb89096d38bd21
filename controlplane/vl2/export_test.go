package vl2

import "github.com/ztx/ztx/crypto/identity"

// Likers lists who LIKEd group g on network nwid, joined or only
// controlled (for tests).
func (s *Switch) Likers(nwid uint64, g Group) []identity.Address {
	s.mu.Lock()
	defer s.mu.Unlock()
	nw := s.nets[nwid]
	if nw == nil {
		nw = s.ctlNets[nwid]
	}
	if nw == nil {
		return nil
	}
	var out []identity.Address
	for a := range nw.likes[g] {
		out = append(out, a)
	}
	return out
}
