package tap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// gso is a superpacket from the kernel being cut into segments, as the
// kernel's own tcp_gso_segment and __udp_gso_segment would: each segment
// has a copy of the headers (Ethernet, VLAN tags, IP with options or
// extension headers, TCP with options or UDP), the IP length fields set,
// IPv4 IDs counting up from the superpacket's, the IPv4 header checksum,
// TCP sequence numbers advanced, FIN and PSH only on the last segment and
// CWR only on the first, UDP lengths set, and full L4 checksums.
type gso struct {
	frame []byte // the superpacket; read, never written
	h     l3
	end   int // end of the transport header: where the payload starts
	udp   bool
	mss   int    // payload bytes a segment (the last may have fewer)
	next  int    // offset in frame of the next segment's payload
	i     int    // index of the next segment
	seq   uint32 // sequence number of the first payload byte
	id    uint16 // IPv4 ID of the first segment
	psum  uint64 // pseudo-header sum without the length
}

var errSegmentBuffer = errors.New("tap: segment larger than the buffer")

// newGSO checks a superpacket the kernel handed over with header hdr and
// prepares to cut it. TCP segments carry at most gsoSize payload bytes and
// are no larger than mtu at the IP layer (mtu 0: no limit); UDP segments
// are datagrams of exactly gsoSize bytes (the last may be shorter).
func newGSO(hdr vnetHdr, frame []byte, mtu int) (gso, error) {
	typ := hdr.gsoType &^ vnetGSOECN
	if hdr.gsoSize == 0 {
		return gso{}, errors.New("tap: GSO frame with gso_size 0")
	}
	h, err := parseL3(frame)
	if err != nil {
		return gso{}, fmt.Errorf("tap: GSO frame: %w", err)
	}
	g := gso{frame: frame, h: h}
	switch {
	case typ == vnetGSOTCPv4 && !h.v6 && h.proto == protoTCP, typ == vnetGSOTCPv6 && h.v6 && h.proto == protoTCP:
		if len(frame) < h.l4+tcpMinLen {
			return gso{}, fmt.Errorf("tap: GSO frame: %w", errTrunc)
		}
		g.end = h.l4 + int(frame[h.l4+tcpDataOff]>>4)*4
		if g.end < h.l4+tcpMinLen || g.end > len(frame) {
			return gso{}, errors.New("tap: GSO frame: bad TCP data offset")
		}
		g.seq = binary.BigEndian.Uint32(frame[h.l4+tcpSeq:])
	case typ == vnetGSOUDPL4 && h.proto == protoUDP:
		g.end, g.udp = h.l4+udpHdrLen, true
		if g.end > len(frame) {
			return gso{}, fmt.Errorf("tap: GSO frame: %w", errTrunc)
		}
	default:
		return gso{}, fmt.Errorf("tap: GSO type %#x for IP protocol %d (IPv6 %v)", hdr.gsoType, h.proto, h.v6)
	}
	if hdr.flags&vnetNeedsCsum != 0 {
		off := tcpCsum
		if g.udp {
			off = udpCsum
		}
		if int(hdr.csumStart) != h.l4 || int(hdr.csumOffset) != off {
			return gso{}, fmt.Errorf("tap: GSO frame: checksum at %d+%d, transport header at %d", hdr.csumStart, hdr.csumOffset, h.l4)
		}
	}
	if !h.ipLenOK(frame) {
		return gso{}, errors.New("tap: GSO frame: IP length does not match the frame")
	}
	if len(frame) <= g.end {
		return gso{}, errors.New("tap: GSO frame without payload")
	}
	g.mss = int(hdr.gsoSize)
	if !g.udp && mtu > 0 && g.mss > mtu-(g.end-h.net) {
		g.mss = mtu - (g.end - h.net)
		if g.mss < 1 {
			return gso{}, fmt.Errorf("tap: GSO frame: headers of %d bytes leave no room under MTU %d", g.end-h.net, mtu)
		}
	}
	proto := uint8(protoTCP)
	if g.udp {
		proto = protoUDP
	}
	src, dst := h.addrs(frame)
	g.psum = pseudoSum(proto, src, dst, 0)
	if !h.v6 {
		g.id = binary.BigEndian.Uint16(frame[h.net+ipv4ID:])
	}
	g.next = g.end
	return g, nil
}

// done reports whether every segment has been cut.
func (g *gso) done() bool { return g.next >= len(g.frame) }

// segment writes the next segment into dst and returns its length. A
// segment that does not fit is skipped, with errSegmentBuffer.
func (g *gso) segment(dst []byte) (int, error) {
	n := min(g.mss, len(g.frame)-g.next)
	size := g.end + n
	first, last := g.i == 0, g.next+n == len(g.frame)
	payload, off := g.frame[g.next:g.next+n], g.next-g.end
	g.next += n
	g.i++
	if len(dst) < size {
		return 0, errSegmentBuffer
	}
	s := dst[:size]
	copy(s, g.frame[:g.end])
	copy(s[g.end:], payload)
	if !g.h.v6 {
		binary.BigEndian.PutUint16(s[g.h.net+ipv4ID:], g.id+uint16(g.i-1))
	}
	g.h.setIPLen(s, size)
	l4 := s[g.h.l4:]
	if g.udp {
		binary.BigEndian.PutUint16(l4[udpLen:], uint16(len(l4)))
		l4[udpCsum], l4[udpCsum+1] = 0, 0
		c := ^fold(sum(l4, g.psum+uint64(len(l4))))
		if c == 0 {
			c = 0xffff // 0 means "no checksum" in UDP
		}
		binary.BigEndian.PutUint16(l4[udpCsum:], c)
		return size, nil
	}
	binary.BigEndian.PutUint32(l4[tcpSeq:], g.seq+uint32(off))
	if !last {
		l4[tcpFlags] &^= tcpFIN | tcpPSH
	}
	if !first {
		l4[tcpFlags] &^= tcpCWR
	}
	l4[tcpCsum], l4[tcpCsum+1] = 0, 0
	binary.BigEndian.PutUint16(l4[tcpCsum:], ^fold(sum(l4, g.psum+uint64(len(l4)))))
	return size, nil
}

// completeCsum finishes the partial checksum of a frame the kernel handed
// over with vnetNeedsCsum, as skb_checksum_help does: the field at
// start+off holds the pseudo-header sum; the sum from start to the end of
// the frame is folded in and complemented (0 becomes 0xffff).
func completeCsum(f []byte, start, off uint16) error {
	at := int(start) + int(off)
	if int(start) >= len(f) || at+2 > len(f) {
		return fmt.Errorf("tap: checksum at %d+%d beyond the frame's %d bytes", start, off, len(f))
	}
	initial := binary.BigEndian.Uint16(f[at:])
	f[at], f[at+1] = 0, 0
	c := ^fold(sum(f[start:], uint64(initial)))
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(f[at:], c)
	return nil
}

// counters are the offload statistics (Stats), kept by a splitter and a
// coalescer without atomics and summed into the Device's after each call.
type counters struct {
	gsoRead, segRead, dropped, gsoWritten, coalesced uint64
}

// splitter turns what reads on a vnet-header tap return (a virtio_net_hdr
// and a frame, maybe a superpacket) into plain frames in a caller's bufs.
// A superpacket whose segments do not all fit stays pending for the next
// call.
type splitter struct {
	mtu     int
	pending gso
	active  bool
	counters
}

// room is b[offset:], or nothing when b is shorter than offset.
func room(b []byte, offset int) []byte {
	if offset > len(b) {
		return nil
	}
	return b[offset:]
}

// put takes one read, b: a virtio_net_hdr and a frame. It stores frames
// into bufs from index n on and returns the new count. b stays in use
// until pending reports false.
func (s *splitter) put(b []byte, bufs [][]byte, sizes []int, offset, n int) int {
	hdr, err := parseVnetHdr(b)
	if err != nil {
		s.dropped++
		return n
	}
	f := b[vnetHdrSize:]
	if hdr.gsoType == vnetGSONone {
		if n >= len(bufs) {
			s.dropped++ // not reached: callers fill first
			return n
		}
		dst := room(bufs[n], offset)
		if len(f) > len(dst) {
			s.dropped++
			return n
		}
		dst = dst[:copy(dst, f)]
		if hdr.flags&vnetNeedsCsum != 0 {
			if err := completeCsum(dst, hdr.csumStart, hdr.csumOffset); err != nil {
				s.dropped++
				return n
			}
		}
		sizes[n] = len(dst)
		return n + 1
	}
	g, err := newGSO(hdr, f, s.mtu)
	if err != nil {
		s.dropped++
		return n
	}
	s.pending, s.active = g, true
	s.gsoRead++
	return s.fill(bufs, sizes, offset, n)
}

// fill stores the pending superpacket's next segments into bufs from index
// n on and returns the new count.
func (s *splitter) fill(bufs [][]byte, sizes []int, offset, n int) int {
	for s.active && n < len(bufs) {
		m, err := s.pending.segment(room(bufs[n], offset))
		if s.pending.done() {
			s.active = false
			s.pending = gso{}
		}
		if err != nil {
			s.dropped++
			continue
		}
		sizes[n] = m
		n++
		s.segRead++
	}
	return n
}
