package vl2

import (
	"bytes"
	"errors"
	"net/netip"
	"slices"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/dict"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
)

// Timers and limits (ms), PROTOCOL.md part 2 §3, §5, §7.
const (
	configRefresh         = 60000  // ZT_NETWORK_AUTOCONF_DELAY
	configRequestRetry    = 5000   // while no config is held
	credentialPushPeriod  = 500000 // ZT_PEER_ACTIVITY_TIMEOUT
	needCertificateRepush = 1000
	announcePeriod        = 60000  // ZT_MULTICAST_ANNOUNCE_PERIOD
	likeExpiry            = 600000 // ZT_MULTICAST_LIKE_EXPIRE
	bridgedLikeExpiry     = 1200000
	gatherPeriod          = 60000
	pendingMulticastLife  = 5000
	pendingMulticastMax   = 32
	credentialsRateLimit  = 1000
	maxFrameData          = 10000
	maxBridgeBroadcast    = 32
	maxBridgeRoutes       = 1 << 20
	membersPerNetworkMax  = 1 << 16
	maxControlledNetworks = 1 << 12
	gatherTargetsMax      = 16
)

// membership is what we know of one peer on one network.
type membership struct {
	com          *cred.COM // the peer's, verified
	comThreshold int64     // COMs at or below this timestamp are revoked
	caps         map[uint32]cred.Capability
	tags         map[uint32]cred.Tag
	coos         []cred.COO
	lastPushed   int64 // our credentials pushed to the peer
	pushedConfig int64 // lastConfigUpdate at the time of that push
	lastAnnounce int64 // our groups LIKEd to the peer
	lastNeedCert int64 // ERROR(NEED_MEMBERSHIP_CERTIFICATE) sent
	// agreement cache: valid for (our COM, their COM) pointers
	agreeMine, agreeTheirs *cred.COM
	agrees                 bool
	revokedComIDs          map[uint32]int64 // other credential revocations: id -> threshold
}

// network is one joined network.
type network struct {
	id   uint64
	mac  MAC
	conf *netconf.Config
	dict []byte // conf as received (serialized dictionary)

	status   Status
	authInfo *netconf.AuthInfo
	asm      *netconf.Assembler

	lastConfigRequest int64
	lastConfigUpdate  int64
	lastUpstreamLikes int64

	members    map[identity.Address]*membership
	hostGroups map[Group]bool                       // what the port listens to
	likes      map[Group]map[identity.Address]int64 // group -> member -> last LIKE
	lastGather map[Group]int64                      // explicit gathers sent
	pending    map[Group][]*pendingMulticast        // waiting for gather results
	bridges    map[MAC]identity.Address             // learned bridged MACs
	revoked    map[identity.Address]int64           // COM thresholds of peers without records yet
}

type pendingMulticast struct {
	created int64
	limit   int
	sentTo  map[identity.Address]bool
	payload []byte // MULTICAST_FRAME payload, sent as is
	// the frame, for the rules' per-recipient pass
	src, dst  MAC
	etherType uint16
	data      []byte // the tail of payload
}

func (s *Switch) newNetwork(nwid uint64) (*network, error) {
	nw := &network{
		id: nwid, mac: netconf.MACOf(s.address(), nwid), status: StatusRequesting,
		members: map[identity.Address]*membership{}, hostGroups: map[Group]bool{},
		likes: map[Group]map[identity.Address]int64{}, lastGather: map[Group]int64{},
		pending: map[Group][]*pendingMulticast{}, bridges: map[MAC]identity.Address{},
		revoked: map[identity.Address]int64{},
	}
	return nw, nil
}

func (nw *network) info(self identity.Address) Info {
	in := Info{ID: nw.id, MAC: nw.mac, Status: nw.status, Config: nw.conf, ConfigDict: nw.dict, AuthInfo: nw.authInfo}
	in.Groups = nw.groups()
	if nw.conf != nil {
		in.Bridge = nw.conf.PermitsBridging(self)
	}
	return in
}

// groups is the sorted list of groups we are subscribed to: the port's
// and broadcast when the network enables it.
func (nw *network) groups() []Group {
	out := make([]Group, 0, len(nw.hostGroups)+1)
	for g := range nw.hostGroups {
		out = append(out, g)
	}
	if nw.conf != nil && nw.conf.Broadcast() {
		b := Group{MAC: Broadcast}
		if !nw.hostGroups[b] {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b Group) int {
		if c := bytes.Compare(a.MAC[:], b.MAC[:]); c != 0 {
			return c
		}
		return int(int64(a.ADI) - int64(b.ADI))
	})
	return out
}

func (nw *network) subscribed(g Group) bool {
	if nw.hostGroups[g] {
		return true
	}
	return g.MAC == Broadcast && g.ADI == 0 && nw.conf != nil && nw.conf.Broadcast()
}

func (nw *network) member(a identity.Address) *membership {
	m := nw.members[a]
	if m == nil {
		if len(nw.members) >= membersPerNetworkMax {
			return nil
		}
		m = &membership{comThreshold: nw.revoked[a]}
		delete(nw.revoked, a)
		nw.members[a] = m
	}
	return m
}

// gate is the membership check (PROTOCOL.md part 2 §5.1): public
// networks let everyone in; private ones want a COM from the peer that
// is newer than its revocation threshold and agrees with ours.
func (s *Switch) gate(nw *network, a identity.Address, m *membership) bool {
	if nw.conf == nil {
		return false
	}
	if !nw.conf.Private() {
		return true
	}
	if m == nil || m.com == nil || m.com.Timestamp() <= m.comThreshold {
		return false
	}
	mine := nw.conf.COM
	if mine == nil {
		return false
	}
	if m.agreeMine == mine && m.agreeTheirs == m.com {
		return m.agrees
	}
	id := s.vl1.Identity(0, a)
	if id == nil {
		return false
	}
	m.agreeMine, m.agreeTheirs = mine, m.com
	m.agrees = mine.CheckAgreement(m.com, id) == nil
	return m.agrees
}

// requestConfig sends NETWORK_CONFIG_REQUEST to the controller, or asks
// the embedded controller when that is us.
func (s *Switch) requestConfig(now int64, nw *network) {
	nw.lastConfigRequest = now
	ctl := netconf.Controller(nw.id)
	if netconf.IsAdHoc(nw.id) {
		s.configureAdHoc(now, nw) // no controller: the config is made here
		return
	}
	meta := netconf.DefaultRequest(s.osArch)
	if ctl == s.address() {
		if s.master == nil {
			s.setStatus(nw, StatusNotFound, nil)
			return
		}
		// The embedded controller is called without our lock.
		master, nwid, self := s.master, nw.id, s.self.PublicOnly()
		s.mu.Unlock()
		c, code, data, drop := master.Request(now, nwid, self, meta, netip.AddrPort{})
		s.mu.Lock()
		if nw = s.nets[nwid]; nw == nil || drop {
			return
		}
		if c == nil {
			s.configError(nw, code, data)
			return
		}
		b, err := c.AppendMarshal(nil)
		if err != nil {
			return
		}
		s.apply(now, nw, c, b)
		return
	}
	md, err := meta.AppendMarshal(nil)
	if err != nil {
		return
	}
	req := verbs.NetworkConfigRequest{NetworkID: verbs.NetworkID(nw.id), Metadata: md, HasRevision: true}
	if nw.conf != nil {
		req.Revision, req.Timestamp = nw.conf.Revision, uint64(nw.conf.Timestamp)
	}
	s.vl1.Send(now, ctl, packet.VerbNetworkConfigRequest, req.AppendMarshal(nil))
}

// onChunk takes a config chunk from OK(NETWORK_CONFIG_REQUEST) or
// NETWORK_CONFIG. It returns the update ID of a config it completed.
func (s *Switch) onChunk(now int64, from identity.Address, k verbs.ConfigChunk, pushed bool) (uint64, bool) {
	nw := s.nets[uint64(k.NetworkID)]
	if nw == nil {
		return 0, false
	}
	ctl := netconf.Controller(nw.id)
	var whole []byte
	if k.Legacy {
		if from != ctl || pushed {
			s.Counters.ConfigsRejected++
			return 0, false
		}
		whole = slices.Clone(k.Data)
	} else {
		if nw.asm == nil {
			id := s.vl1.Identity(now, ctl)
			if id == nil {
				return 0, false // WHOIS sent; the controller will be asked again
			}
			asm, err := netconf.NewAssembler(nw.id, id, dict.NetworkConfigCapacity)
			if err != nil {
				return 0, false
			}
			nw.asm = asm
		}
		b, err := nw.asm.Add(k)
		if err != nil {
			if !errors.Is(err, netconf.ErrDuplicate) {
				s.Counters.ConfigsRejected++
			}
			return 0, false
		}
		if k.Flags&verbs.ConfigFlagFastPropagate != 0 {
			payload := k.AppendMarshal(nil)
			for a := range nw.members {
				if a != from && a != ctl {
					s.vl1.Send(now, a, packet.VerbNetworkConfig, payload)
				}
			}
		}
		if b == nil {
			return 0, false
		}
		whole = b
	}
	c, err := netconf.Parse(whole)
	if err != nil || c.CheckFor(nw.id, s.address()) != nil {
		s.Counters.ConfigsRejected++
		return 0, false
	}
	s.apply(now, nw, c, whole)
	return k.UpdateID, true
}

// apply makes c the network's config.
func (s *Switch) apply(now int64, nw *network, c *netconf.Config, raw []byte) {
	nw.lastConfigUpdate = now
	changed := nw.status != StatusOK || !bytes.Equal(raw, nw.dict)
	nw.status = StatusOK
	nw.authInfo = nil
	if !changed {
		return
	}
	fresh := nw.conf == nil
	nw.conf, nw.dict = c, raw
	s.Counters.ConfigsApplied++
	s.host.NetworkChanged(nw.id)
	if fresh {
		s.announce(now, nw, nw.groups(), true)
	}
}

func (s *Switch) setStatus(nw *network, st Status, auth *netconf.AuthInfo) {
	if nw.status == st && auth == nil && nw.authInfo == nil {
		return
	}
	nw.status, nw.authInfo = st, auth
	s.host.NetworkChanged(nw.id)
}

// configError applies the controller's ERROR to a config request.
func (s *Switch) configError(nw *network, code verbs.ErrorCode, data []byte) {
	switch code {
	case verbs.ErrorObjNotFound, verbs.ErrorUnsupportedOperation:
		s.setStatus(nw, StatusNotFound, nil)
	case verbs.ErrorNetworkAccessDenied:
		s.setStatus(nw, StatusAccessDenied, nil)
	case verbs.ErrorNetworkAuthenticationRequired:
		ai := &netconf.AuthInfo{}
		if len(data) > 0 {
			if parsed, err := netconf.ParseAuthInfo(data); err == nil {
				ai = &parsed
			}
		}
		s.setStatus(nw, StatusAuthenticationRequired, ai)
	}
}
