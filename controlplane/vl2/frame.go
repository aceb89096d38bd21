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

const ethHeader = 14

func isMulticast(m MAC) bool { return m[0]&0x01 != 0 }

func macOf(b []byte) (m MAC) { copy(m[:], b); return }

// writeFrame hands an Ethernet frame to the host.
func (s *Switch) writeFrame(nwid uint64, dst, src MAC, etherType uint16, data []byte) {
	s.host.WriteFrame(nwid, dst, src, etherType, data)
}

func (s *Switch) onFrame(now int64, in vl1.Inbound) {
	p := in.Payload
	if len(p) < 10 {
		s.Counters.DroppedMalformed++
		return
	}
	nw := s.admit(now, in, binary.BigEndian.Uint64(p), nil)
	if nw == nil {
		return
	}
	data := p[10:]
	if len(data) > int(nw.conf.MTU) {
		s.Counters.DroppedTooBig++
		return
	}
	src, etherType := netconf.MACOf(in.From.Address, nw.id), binary.BigEndian.Uint16(p[8:])
	if s.filterIn(now, nw, in.From.Address, src, nw.mac, etherType, data) == inDrop {
		s.Counters.DroppedFilter++
		return
	}
	s.Counters.FramesIn++
	s.writeFrame(nw.id, nw.mac, src, etherType, data)
}

func (s *Switch) onExtFrame(now int64, in vl1.Inbound) {
	f, err := verbs.ParseExtFrame(in.Payload)
	if err != nil {
		s.Counters.DroppedMalformed++
		return
	}
	nw := s.admit(now, in, uint64(f.NetworkID), f.COM)
	if nw == nil {
		return
	}
	from := in.From.Address
	if f.Source == (MAC{}) || f.Source == nw.mac {
		s.Counters.DroppedBridging++
		return
	}
	if len(f.Data) > int(nw.conf.MTU) {
		s.Counters.DroppedTooBig++
		return
	}
	// As the reference's: the rules first; a frame they accept outright
	// (super-accept: we are its TEE/REDIRECT target) skips the bridging
	// checks; one they drop is still acknowledged.
	switch s.filterIn(now, nw, from, f.Source, f.Destination, f.EtherType, f.Data) {
	case inDrop:
		s.Counters.DroppedFilter++
	case inAccept:
		if f.Source != netconf.MACOf(from, nw.id) {
			if !nw.conf.PermitsBridging(from) {
				s.Counters.DroppedBridging++
				return
			}
			s.learnBridge(nw, f.Source, from)
		} else if f.Destination != nw.mac {
			if isMulticast(f.Destination) {
				if nw.conf.MulticastLimit == 0 {
					s.Counters.DroppedMulticast++
					return
				}
			} else if !nw.conf.PermitsBridging(s.address()) {
				s.Counters.DroppedBridging++
				return
			}
		}
		fallthrough
	case inSuperAccept:
		s.Counters.FramesIn++
		s.writeFrame(nw.id, f.Destination, f.Source, f.EtherType, f.Data)
	}
	if f.AckRequested() {
		var body [8]byte
		binary.BigEndian.PutUint64(body[:], nw.id)
		ok := verbs.OK{InReVerb: byte(packet.VerbExtFrame), InRePacketID: verbs.PacketID(in.ID), Body: verbs.OKRaw{Data: body[:]}}
		s.vl1.Send(now, from, packet.VerbOK, ok.AppendMarshal(nil))
	}
}

func (s *Switch) learnBridge(nw *network, mac MAC, via identity.Address) {
	if len(nw.bridges) >= maxBridgeRoutes {
		clear(nw.bridges)
	}
	nw.bridges[mac] = via
}

// takeCOM stores a COM attached to a frame or gather (deprecated form).
func (s *Switch) takeCOM(now int64, nw *network, from identity.Address, b []byte) {
	com, _, err := cred.ParseCOM(b)
	if err != nil {
		return
	}
	s.acceptCOM(now, nw, from, &com)
}

// SendFrame sends an Ethernet frame that network nwid's port emitted. It
// reports whether the frame was accepted (not dropped).
func (s *Switch) SendFrame(now int64, nwid uint64, frame []byte) bool {
	if len(frame) < ethHeader {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	nw := s.nets[nwid]
	if nw == nil || nw.conf == nil || s.vl1 == nil || nw.status != StatusOK {
		s.Counters.DroppedNoNetwork++
		return false
	}
	dst, src := macOf(frame[0:6]), macOf(frame[6:12])
	etherType := binary.BigEndian.Uint16(frame[12:14])
	data := frame[ethHeader:]
	if len(data) > int(nw.conf.MTU) {
		s.Counters.DroppedTooBig++
		return false
	}
	self := s.address()
	bridged := src != nw.mac
	if bridged && !nw.conf.PermitsBridging(self) {
		s.Counters.DroppedBridging++
		return false
	}
	if isMulticast(dst) {
		return s.sendMulticast(now, nw, dst, src, etherType, data)
	}
	if to, ok := netconf.AddressOf(dst, nw.id); ok {
		if to == self {
			return false
		}
		if !s.filterOut(now, nw, false, to, src, dst, etherType, data) {
			s.Counters.DroppedFilter++
			return false
		}
		s.maybePush(now, nw, to)
		s.Counters.FramesOut++
		if !bridged {
			s.sendUnicast(now, to, nw.id, etherType, data)
		} else {
			s.sendExt(now, to, nw.id, 0, dst, src, etherType, data)
		}
		return true
	}
	// A MAC behind a bridge: the learned route, or every bridge. The
	// rules see the frame once without a destination, then once per
	// bridge (without TEE copies).
	if !s.filterOut(now, nw, false, 0, src, dst, etherType, data) {
		s.Counters.DroppedFilter++
		return false
	}
	if via, ok := nw.bridges[dst]; ok && via != self && nw.conf.PermitsBridging(via) {
		if !s.filterOut(now, nw, true, via, src, dst, etherType, data) {
			s.Counters.DroppedFilter++
			return false
		}
		s.maybePush(now, nw, via)
		s.Counters.FramesOut++
		s.sendExt(now, via, nw.id, 0, dst, src, etherType, data)
		return true
	}
	bridges := nw.conf.ActiveBridges()
	if len(bridges) > maxBridgeBroadcast {
		s.shuffle(bridges)
		bridges = bridges[:maxBridgeBroadcast]
	}
	sent := false
	for _, b := range bridges {
		if b == self || !s.filterOut(now, nw, true, b, src, dst, etherType, data) {
			continue
		}
		s.maybePush(now, nw, b)
		s.sendExt(now, b, nw.id, 0, dst, src, etherType, data)
		sent = true
	}
	if sent {
		s.Counters.FramesOut++
	}
	return sent
}

func (s *Switch) sendUnicast(now int64, to identity.Address, nwid uint64, etherType uint16, data []byte) {
	var head [10]byte
	binary.BigEndian.PutUint64(head[:], nwid)
	binary.BigEndian.PutUint16(head[8:], etherType)
	s.vl1.SendParts(now, to, packet.VerbFrame, head[:], data)
}

func (s *Switch) sendExt(now int64, to identity.Address, nwid uint64, flags byte, dst, src MAC, etherType uint16, data []byte) {
	f := verbs.ExtFrame{NetworkID: verbs.NetworkID(nwid), Flags: flags, Destination: dst, Source: src, EtherType: etherType, Data: data}
	s.txbuf = f.AppendMarshal(s.txbuf[:0])
	s.vl1.Send(now, to, packet.VerbExtFrame, s.txbuf)
}

func (s *Switch) shuffle(a []identity.Address) {
	for i := len(a) - 1; i > 0; i-- {
		j := int(s.random64() % uint64(i+1))
		a[i], a[j] = a[j], a[i]
	}
}
