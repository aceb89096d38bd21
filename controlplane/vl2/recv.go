package vl2

import (
	"encoding/binary"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// Deliver implements vl1.Upper.
func (s *Switch) Deliver(now int64, in vl1.Inbound) {
	if in.Verb == packet.VerbNetworkConfigRequest {
		s.onConfigRequest(now, in) // takes the lock itself, calls the master without it
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.vl1 == nil {
		return
	}
	switch in.Verb {
	case packet.VerbFrame:
		s.onFrame(now, in)
	case packet.VerbExtFrame:
		s.onExtFrame(now, in)
	case packet.VerbMulticastFrame:
		s.onMulticastFrame(now, in)
	case packet.VerbMulticastLike:
		s.onLike(now, in)
	case packet.VerbMulticastGather:
		s.onGather(now, in)
	case packet.VerbNetworkCredentials:
		s.onCredentials(now, in)
	case packet.VerbNetworkConfig:
		k, err := verbs.ParseConfigChunk(in.Payload)
		if err != nil {
			s.Counters.DroppedMalformed++
			return
		}
		if update, done := s.onChunk(now, in.From.Address, k, true); done {
			// 1.14.1 acknowledges a complete pushed config with an OK
			// whose in-re verb is ECHO.
			var body [16]byte
			binary.BigEndian.PutUint64(body[:8], uint64(k.NetworkID))
			binary.BigEndian.PutUint64(body[8:], update)
			ok := verbs.OK{InReVerb: byte(packet.VerbEcho), InRePacketID: verbs.PacketID(in.ID), Body: verbs.OKEcho{Data: body[:]}}
			s.vl1.Send(now, in.From.Address, packet.VerbOK, ok.AppendMarshal(nil))
		}
	case packet.VerbOK:
		s.onOK(now, in)
	case packet.VerbError:
		s.onError(now, in)
	}
}

func (s *Switch) onOK(now int64, in vl1.Inbound) {
	ok, err := verbs.ParseOK(in.Payload)
	if err != nil {
		s.Counters.DroppedMalformed++
		return
	}
	switch b := ok.Body.(type) {
	case verbs.ConfigChunk:
		s.onChunk(now, in.From.Address, b, false)
	case verbs.OKMulticastGather:
		s.onGatherResults(now, uint64(b.NetworkID), b.Group, b.Results.Members)
	case verbs.OKMulticastFrame:
		if b.Results != nil {
			s.onGatherResults(now, uint64(b.NetworkID), b.Group, b.Results.Members)
		}
	}
}

func (s *Switch) onError(now int64, in vl1.Inbound) {
	e, err := verbs.ParseError(in.Payload)
	if err != nil || !e.HasNetworkID {
		return
	}
	nw := s.nets[uint64(e.NetworkID)]
	if nw == nil {
		return
	}
	from := in.From.Address
	switch e.Code {
	case verbs.ErrorObjNotFound, verbs.ErrorUnsupportedOperation, verbs.ErrorNetworkAccessDenied, verbs.ErrorNetworkAuthenticationRequired:
		if from != netconf.Controller(nw.id) || e.InReVerb != byte(packet.VerbNetworkConfigRequest) {
			return
		}
		s.configError(nw, e.Code, e.Data)
	case verbs.ErrorNeedMembershipCertificate:
		m := nw.member(from)
		if m == nil || nw.comOf() == nil {
			return
		}
		if m.pushedConfig != nw.lastConfigUpdate || now-m.lastPushed > needCertificateRepush {
			s.pushCredentials(now, nw, from, m)
		}
	case verbs.ErrorUnwantedMulticast:
		if !e.HasGroup || !s.gate(nw, from, nw.members[from]) {
			return
		}
		if ms := nw.likes[e.Group]; ms != nil {
			delete(ms, from)
		}
	}
}

// pushCredentials sends our COM, capabilities, tags and COOs on nw to a.
func (s *Switch) pushCredentials(now int64, nw *network, a identity.Address, m *membership) {
	c := nw.conf
	if c == nil || c.COM == nil {
		return
	}
	m.lastPushed, m.pushedConfig = now, nw.lastConfigUpdate
	creds := cred.Credentials{COMs: []cred.COM{*c.COM}, Capabilities: c.Capabilities, Tags: c.Tags, COOs: c.COOs, Sections: 4}
	s.vl1.Send(now, a, packet.VerbNetworkCredentials, creds.AppendMarshal(nil))
}

// maybePush pushes our credentials before traffic to a peer when it has
// not had them since our last config or for a long time.
func (s *Switch) maybePush(now int64, nw *network, a identity.Address) *membership {
	m := nw.member(a)
	if m == nil {
		return nil
	}
	if nw.conf != nil && nw.conf.COM != nil && (m.pushedConfig != nw.lastConfigUpdate || now-m.lastPushed >= credentialPushPeriod) {
		s.pushCredentials(now, nw, a, m)
	}
	return m
}

// admit finds the configured network nwid that a frame is for and
// applies the gate to its sender, first taking the COM the frame carries
// (com, deprecated form), and answering NEED_MEMBERSHIP_CERTIFICATE when
// the gate fails. It returns nil for a frame to drop (counted).
func (s *Switch) admit(now int64, in vl1.Inbound, nwid uint64, com []byte) *network {
	nw := s.nets[nwid]
	if nw == nil || nw.conf == nil {
		s.Counters.DroppedNoNetwork++
		return nil
	}
	a := in.From.Address
	if len(com) > 0 {
		s.takeCOM(now, nw, a, com)
	}
	m := nw.members[a]
	if s.gate(nw, a, m) {
		// Network-authenticated traffic: VL1 may tell this peer our
		// direct addresses.
		s.vl1.Trust(now, a, in.Sock, in.Addr)
		return nw
	}
	s.Counters.DroppedGate++
	if m = nw.member(a); m != nil && now-m.lastNeedCert >= needCertificateRepush {
		m.lastNeedCert = now
		e := verbs.Error{InReVerb: byte(in.Verb), InRePacketID: verbs.PacketID(in.ID), Code: verbs.ErrorNeedMembershipCertificate,
			HasNetworkID: true, NetworkID: verbs.NetworkID(nw.id)}
		s.vl1.Send(now, a, packet.VerbError, e.AppendMarshal(nil))
	}
	return nil
}
