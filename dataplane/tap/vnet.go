package tap

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// With Config.Offload, every read and write on the tap's file descriptor
// carries a virtio_net_hdr (include/uapi/linux/virtio_net.h, 10 bytes, in
// host byte order: tun's legacy virtio layout) before the Ethernet frame:
//
//	 0       1       2               4               6               8              10
//	+-------+-------+---------------+---------------+---------------+---------------+----------
//	| flags |gsoType|    hdrLen     |    gsoSize    |   csumStart   |  csumOffset   | frame...
//	+-------+-------+---------------+---------------+---------------+---------------+----------
//
// flags: vnetNeedsCsum says the L4 checksum is partial: the field at
// csumStart+csumOffset holds the pseudo-header sum, and the sum of the bytes
// from csumStart to the end is still to be folded in. gsoType: vnetGSONone
// for a single frame, else the kind of superpacket, which is cut into
// gsoSize-byte payloads each behind a copy of the headers (hdrLen bytes;
// the kernel's value is not trusted on reads). Offsets count from the first
// byte of the Ethernet frame.
const (
	vnetFlags      = 0
	vnetGSOType    = 1
	vnetHdrLen     = 2
	vnetGSOSize    = 4
	vnetCsumStart  = 6
	vnetCsumOffset = 8
	vnetHdrSize    = 10

	vnetNeedsCsum = 1 // VIRTIO_NET_HDR_F_NEEDS_CSUM

	vnetGSONone  = 0    // VIRTIO_NET_HDR_GSO_NONE
	vnetGSOTCPv4 = 1    // VIRTIO_NET_HDR_GSO_TCPV4
	vnetGSOTCPv6 = 4    // VIRTIO_NET_HDR_GSO_TCPV6
	vnetGSOUDPL4 = 5    // VIRTIO_NET_HDR_GSO_UDP_L4
	vnetGSOECN   = 0x80 // VIRTIO_NET_HDR_GSO_ECN: the first segment has CWR
)

// The headers inside a frame, as offsets from the start of each header.
const (
	ethType   = 12
	ethHdrLen = 14
	vlanLen   = 4 // an 802.1Q/802.1ad tag: TCI and the inner EtherType

	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeVLAN = 0x8100
	etherTypeQinQ = 0x88a8

	ipv4VerIHL   = 0
	ipv4TOS      = 1
	ipv4TotalLen = 2
	ipv4ID       = 4
	ipv4Frag     = 6 // flags (DF 0x4000, MF 0x2000) and fragment offset
	ipv4TTL      = 8
	ipv4Proto    = 9
	ipv4Csum     = 10
	ipv4Src      = 12
	ipv4Dst      = 16
	ipv4MinLen   = 20

	ipv4DF      = 0x4000
	ipv4MF      = 0x2000
	ipv4FragOff = 0x1fff

	ipv6PayloadLen = 4
	ipv6NextHdr    = 6
	ipv6HopLimit   = 7
	ipv6Src        = 8
	ipv6Dst        = 24
	ipv6HdrLen     = 40

	protoHopOpts  = 0
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoDstOpts  = 60
	protoAH       = 51

	tcpSeq     = 4
	tcpAck     = 8
	tcpDataOff = 12 // data offset in 32-bit words, high nibble
	tcpFlags   = 13
	tcpWindow  = 14
	tcpCsum    = 16
	tcpMinLen  = 20

	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpPSH = 0x08
	tcpURG = 0x20
	tcpCWR = 0x80

	udpLen    = 4
	udpCsum   = 6
	udpHdrLen = 8
)

// vnetHdr is a decoded virtio_net_hdr.
type vnetHdr struct {
	flags      uint8
	gsoType    uint8
	hdrLen     uint16
	gsoSize    uint16
	csumStart  uint16
	csumOffset uint16
}

var errShortVnet = errors.New("tap: shorter than a virtio_net_hdr")

// parseVnetHdr decodes the virtio_net_hdr at the start of b.
func parseVnetHdr(b []byte) (vnetHdr, error) {
	if len(b) < vnetHdrSize {
		return vnetHdr{}, errShortVnet
	}
	e := binary.NativeEndian
	return vnetHdr{
		flags:      b[vnetFlags],
		gsoType:    b[vnetGSOType],
		hdrLen:     e.Uint16(b[vnetHdrLen:]),
		gsoSize:    e.Uint16(b[vnetGSOSize:]),
		csumStart:  e.Uint16(b[vnetCsumStart:]),
		csumOffset: e.Uint16(b[vnetCsumOffset:]),
	}, nil
}

// appendMarshal appends the header's 10 bytes to dst.
func (h vnetHdr) appendMarshal(dst []byte) []byte {
	e := binary.NativeEndian
	dst = append(dst, h.flags, h.gsoType)
	dst = e.AppendUint16(dst, h.hdrLen)
	dst = e.AppendUint16(dst, h.gsoSize)
	dst = e.AppendUint16(dst, h.csumStart)
	return e.AppendUint16(dst, h.csumOffset)
}

// l3 is where a frame's IP header and transport header are.
type l3 struct {
	net    int   // offset of the IP header (past any VLAN tags)
	l4     int   // offset of the transport header
	proto  uint8 // transport protocol
	v6     bool
	tagged bool // one or two VLAN tags
	plain  bool // no IPv4 options, no IPv6 extension headers
}

var (
	errNotIP    = errors.New("not IPv4 or IPv6")
	errFragment = errors.New("IP fragment")
	errTrunc    = errors.New("truncated header")
)

// parseL3 finds the IP and transport headers of an Ethernet frame: after
// up to two VLAN tags, IPv4 with any options, or IPv6 with hop-by-hop and
// destination options headers. Fragments and IPv6 routing headers (whose
// final destination the pseudo-header would need) are errors.
func parseL3(f []byte) (l3, error) {
	if len(f) < ethHdrLen {
		return l3{}, errTrunc
	}
	var h l3
	et := binary.BigEndian.Uint16(f[ethType:])
	h.net = ethHdrLen
	for range 2 {
		if et != etherTypeVLAN && et != etherTypeQinQ {
			break
		}
		if len(f) < h.net+vlanLen {
			return l3{}, errTrunc
		}
		et = binary.BigEndian.Uint16(f[h.net+2:])
		h.net += vlanLen
		h.tagged = true
	}
	ip := f[h.net:]
	switch et {
	case etherTypeIPv4:
		if len(ip) < ipv4MinLen || ip[ipv4VerIHL]>>4 != 4 {
			return l3{}, errTrunc
		}
		ihl := int(ip[ipv4VerIHL]&0xf) * 4
		if ihl < ipv4MinLen || len(ip) < ihl {
			return l3{}, errTrunc
		}
		if binary.BigEndian.Uint16(ip[ipv4Frag:])&(ipv4MF|ipv4FragOff) != 0 {
			return l3{}, errFragment
		}
		h.l4, h.proto, h.plain = h.net+ihl, ip[ipv4Proto], ihl == ipv4MinLen
	case etherTypeIPv6:
		if len(ip) < ipv6HdrLen || ip[0]>>4 != 6 {
			return l3{}, errTrunc
		}
		h.v6 = true
		next, off := ip[ipv6NextHdr], ipv6HdrLen
		h.plain = true
		for next == protoHopOpts || next == protoDstOpts {
			if len(ip) < off+8 {
				return l3{}, errTrunc
			}
			next, off = ip[off], off+(int(ip[off+1])+1)*8
			h.plain = false
		}
		switch next {
		case protoFragment:
			return l3{}, errFragment
		case protoRouting:
			return l3{}, fmt.Errorf("IPv6 routing header")
		}
		if len(ip) < off {
			return l3{}, errTrunc
		}
		h.l4, h.proto = h.net+off, next
	default:
		return l3{}, errNotIP
	}
	return h, nil
}

// addrs returns the source and destination addresses of the IP header.
func (h l3) addrs(f []byte) (src, dst []byte) {
	if h.v6 {
		return f[h.net+ipv6Src : h.net+ipv6Dst], f[h.net+ipv6Dst : h.net+ipv6Dst+16]
	}
	return f[h.net+ipv4Src : h.net+ipv4Dst], f[h.net+ipv4Dst : h.net+ipv4Dst+4]
}

// ipLenOK reports whether the IP header's length field covers exactly the
// rest of the frame (no Ethernet padding, nothing missing).
func (h l3) ipLenOK(f []byte) bool {
	if h.v6 {
		return int(binary.BigEndian.Uint16(f[h.net+ipv6PayloadLen:])) == len(f)-h.net-ipv6HdrLen
	}
	return int(binary.BigEndian.Uint16(f[h.net+ipv4TotalLen:])) == len(f)-h.net
}

// setIPLen sets the IP header's length field for a packet ending at size,
// and for IPv4 the header checksum.
func (h l3) setIPLen(f []byte, size int) {
	ip := f[h.net:]
	if h.v6 {
		binary.BigEndian.PutUint16(ip[ipv6PayloadLen:], uint16(size-h.net-ipv6HdrLen))
		return
	}
	binary.BigEndian.PutUint16(ip[ipv4TotalLen:], uint16(size-h.net))
	ip[ipv4Csum], ip[ipv4Csum+1] = 0, 0
	binary.BigEndian.PutUint16(ip[ipv4Csum:], ^fold(sum(ip[:h.l4-h.net], 0)))
}
