package tap

import (
	"bytes"
	"encoding/binary"
)

// maxSegs caps the frames in one superpacket, which Write hands the kernel
// as that many iovecs plus one (IOV_MAX is 1024).
const maxSegs = 512

// maxIPLen is the most an IP packet built by coalescing may hold (the IPv4
// total length field; IPv6 superpackets keep to the same 64 KB).
const maxIPLen = 0xffff

// flowKey identifies a TCP flow for coalescing: MAC addresses, IP
// addresses and ports. A key without ports (zero) stands for all the flows
// between two addresses when a frame's ports cannot be told.
type flowKey struct {
	macs         [12]byte
	src, dst     [16]byte
	sport, dport uint16
	v6           bool
}

// frameKind is what coalescing makes of a frame written to the tap.
type frameKind uint8

const (
	kindOther     frameKind = iota // not untagged TCP over IP: no bearing on any flow
	kindIPPair                     // IP that may carry TCP, ports unknown (fragment, extension headers)
	kindTCP                        // TCP that cannot be coalesced: ends its flow's superpacket
	kindCandidate                  // TCP that can be coalesced
)

// segInfo describes a coalescing candidate.
type segInfo struct {
	h       l3
	end     int // end of the TCP header
	seq     uint32
	payload int
	flags   uint8
}

// classify sorts a frame for coalescing. Candidates are what Linux GRO
// (tcp_gro_receive) and wireguard-go's tcpGRO take: untagged Ethernet,
// IPv4 without options and not a fragment, or IPv6 without extension
// headers, with IP length fields matching the frame and a valid IPv4
// header checksum, carrying TCP with a payload, no SYN, FIN, RST or URG,
// and a valid checksum (the kernel will not check it again).
func classify(f []byte) (frameKind, flowKey, segInfo) {
	var k flowKey
	if len(f) < ethHdrLen+ipv4MinLen {
		return kindOther, k, segInfo{}
	}
	copy(k.macs[:], f[:12])
	ip := f[ethHdrLen:]
	switch binary.BigEndian.Uint16(f[ethType:]) {
	case etherTypeIPv4:
		if ip[ipv4VerIHL]>>4 != 4 || ip[ipv4Proto] != protoTCP {
			return kindOther, k, segInfo{}
		}
		copy(k.src[:], ip[ipv4Src:ipv4Src+4])
		copy(k.dst[:], ip[ipv4Dst:ipv4Dst+4])
	case etherTypeIPv6:
		if len(ip) < ipv6HdrLen || ip[0]>>4 != 6 {
			return kindOther, k, segInfo{}
		}
		switch ip[ipv6NextHdr] {
		case protoTCP, protoHopOpts, protoRouting, protoFragment, protoDstOpts, protoAH:
		default:
			return kindOther, k, segInfo{}
		}
		k.v6 = true
		copy(k.src[:], ip[ipv6Src:ipv6Src+16])
		copy(k.dst[:], ip[ipv6Dst:ipv6Dst+16])
	default:
		return kindOther, k, segInfo{}
	}
	h, err := parseL3(f)
	if err != nil || h.proto != protoTCP || len(f) < h.l4+4 {
		return kindIPPair, k, segInfo{}
	}
	tcp := f[h.l4:]
	k.sport, k.dport = binary.BigEndian.Uint16(tcp), binary.BigEndian.Uint16(tcp[2:])
	if !h.plain || len(tcp) < tcpMinLen || !h.ipLenOK(f) {
		return kindTCP, k, segInfo{}
	}
	s := segInfo{h: h, end: h.l4 + int(tcp[tcpDataOff]>>4)*4, flags: tcp[tcpFlags]}
	if s.end < h.l4+tcpMinLen || s.end >= len(f) || s.flags&(tcpSYN|tcpFIN|tcpRST|tcpURG) != 0 {
		return kindTCP, k, segInfo{}
	}
	if !h.v6 && fold(sum(ip[:ipv4MinLen], 0)) != 0xffff {
		return kindTCP, k, segInfo{}
	}
	src, dst := h.addrs(f)
	if fold(sum(tcp, pseudoSum(protoTCP, src, dst, len(tcp)))) != 0xffff {
		return kindTCP, k, segInfo{}
	}
	s.seq, s.payload = binary.BigEndian.Uint32(tcp[tcpSeq:]), len(f)-s.end
	return kindCandidate, k, s
}

// group is one frame, or a run of coalesced frames of one flow, that Write
// hands the kernel in one write. Its frames are linked through
// coalescer.next.
type group struct {
	head, tail, count int
	cur               int  // next frame to write when writing frames one by one
	split             bool // the kernel refused the superpacket: write its frames one by one

	// Set when head is a candidate.
	seg     segInfo // the head's
	gsoSize int     // payload bytes of every frame but the last
	size    int     // length of the superpacket's frame
	nextSeq uint32
	psh     bool // the last frame has PSH: it ends the superpacket
	closed  bool // nothing more may be appended
}

// coalescer plans how Write hands a batch of frames to the kernel: runs of
// consecutive segments of a TCP flow become one superpacket (a GSO frame
// with a virtio_net_hdr), everything else goes as it is. Superpackets take
// the place of their first frame, so the frames of one flow stay in order;
// a frame of a flow that cannot be appended (a pure ACK, a FIN, a gap in
// the sequence) ends the flow's superpacket.
type coalescer struct {
	groups []group
	open   map[flowKey]int // flow → index in groups of its open superpacket
	next   []int           // next frame of the same group, -1 after the last
	counters
}

// plan fills c.groups for the frames bufs[i][offset:].
func (c *coalescer) plan(bufs [][]byte, offset int) {
	if c.open == nil {
		c.open = make(map[flowKey]int)
	}
	c.groups = c.groups[:0]
	clear(c.open)
	if cap(c.next) < len(bufs) {
		c.next = make([]int, len(bufs))
	}
	c.next = c.next[:len(bufs)]
	for i := range bufs {
		c.next[i] = -1
		f := room(bufs[i], offset)
		kind, k, s := classify(f)
		switch kind {
		case kindCandidate:
			if gi, ok := c.open[k]; ok {
				if g := &c.groups[gi]; g.canAppend(f, s, room(bufs[g.head], offset)) {
					c.next[g.tail] = i
					g.append(i, s)
					continue
				}
			}
			c.open[k] = len(c.groups)
			c.groups = append(c.groups, group{
				head: i, tail: i, count: 1, cur: i,
				seg: s, gsoSize: s.payload, size: len(f),
				nextSeq: s.seq + uint32(s.payload),
				psh:     s.flags&tcpPSH != 0, closed: s.flags&tcpPSH != 0,
			})
			continue
		case kindTCP:
			delete(c.open, k)
		case kindIPPair:
			for ok := range c.open {
				if ok.macs == k.macs && ok.src == k.src && ok.dst == k.dst && ok.v6 == k.v6 {
					delete(c.open, ok)
				}
			}
		}
		c.groups = append(c.groups, group{head: i, tail: i, count: 1, cur: i})
	}
}

// canAppend reports whether candidate f (described by s) continues the
// superpacket g of the same flow, whose first frame is head. As in Linux
// GRO: the next sequence number, the same ACK number, window, flags (but
// PSH on the last) and TCP options, no CWR but on the first, a payload no
// larger than the first's (a shorter one ends the superpacket), the same
// IPv4 TOS, TTL and DF, and IDs counting up unless DF is set, or the same
// IPv6 traffic class, flow label and hop limit.
func (g *group) canAppend(f []byte, s segInfo, head []byte) bool {
	if g.closed || g.count >= maxSegs || s.payload > g.gsoSize || s.seq != g.nextSeq ||
		s.end != g.seg.end || g.size-g.seg.h.net+s.payload > maxIPLen {
		return false
	}
	if s.flags&tcpCWR != 0 || s.flags&^tcpPSH != g.seg.flags&^(tcpPSH|tcpCWR) {
		return false
	}
	t, ht := f[s.h.l4:s.end], head[g.seg.h.l4:g.seg.end]
	if !bytes.Equal(t[tcpAck:tcpAck+4], ht[tcpAck:tcpAck+4]) ||
		!bytes.Equal(t[tcpWindow:tcpWindow+2], ht[tcpWindow:tcpWindow+2]) ||
		!bytes.Equal(t[tcpMinLen:], ht[tcpMinLen:]) {
		return false
	}
	ip, hip := f[s.h.net:], head[g.seg.h.net:]
	if s.h.v6 {
		return bytes.Equal(ip[:4], hip[:4]) && ip[ipv6HopLimit] == hip[ipv6HopLimit]
	}
	frag, hfrag := binary.BigEndian.Uint16(ip[ipv4Frag:]), binary.BigEndian.Uint16(hip[ipv4Frag:])
	if ip[ipv4TOS] != hip[ipv4TOS] || ip[ipv4TTL] != hip[ipv4TTL] || frag&ipv4DF != hfrag&ipv4DF {
		return false
	}
	return frag&ipv4DF != 0 ||
		binary.BigEndian.Uint16(ip[ipv4ID:]) == binary.BigEndian.Uint16(hip[ipv4ID:])+uint16(g.count)
}

// append adds frame i (described by s) to the superpacket.
func (g *group) append(i int, s segInfo) {
	g.tail = i
	g.count++
	g.size += s.payload
	g.nextSeq += uint32(s.payload)
	if s.flags&tcpPSH != 0 {
		g.psh, g.closed = true, true
	}
	if s.payload < g.gsoSize {
		g.closed = true
	}
}

// appendHeader appends to dst the virtio_net_hdr and the frame headers of
// the superpacket g (count > 1) whose first frame is head; the payloads of
// its frames, in order, follow them. The headers are the first frame's,
// with the IP length (and IPv4 header checksum) of the whole, PSH if the
// last frame has it, and in the TCP checksum field the pseudo-header sum,
// for the kernel to complete (NEEDS_CSUM).
func (g *group) appendHeader(dst, head []byte) []byte {
	typ := uint8(vnetGSOTCPv4)
	if g.seg.h.v6 {
		typ = vnetGSOTCPv6
	}
	if g.seg.flags&tcpCWR != 0 {
		typ |= vnetGSOECN
	}
	dst = vnetHdr{
		flags:      vnetNeedsCsum,
		gsoType:    typ,
		hdrLen:     uint16(g.seg.end),
		gsoSize:    uint16(g.gsoSize),
		csumStart:  uint16(g.seg.h.l4),
		csumOffset: tcpCsum,
	}.appendMarshal(dst)
	start := len(dst)
	dst = append(dst, head[:g.seg.end]...)
	f := dst[start:]
	g.seg.h.setIPLen(f, g.size)
	tcp := f[g.seg.h.l4:]
	if g.psh {
		tcp[tcpFlags] |= tcpPSH
	}
	src, da := g.seg.h.addrs(f)
	binary.BigEndian.PutUint16(tcp[tcpCsum:], fold(pseudoSum(protoTCP, src, da, g.size-g.seg.h.l4)))
	return dst
}
