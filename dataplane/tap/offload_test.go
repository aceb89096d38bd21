package tap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
)

// refSum is the RFC 1071 one's complement sum of the concatenation of
// parts, 16 bits at a time: the reference the package's sum is checked
// against, and what the tests verify checksums with.
func refSum(parts ...[]byte) uint16 {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return uint16(s)
}

func TestSum(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 3000)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	for i := range 2000 {
		lo := r.IntN(64)
		hi := lo + r.IntN(len(buf)-lo)
		if i < 64 {
			hi = lo + i // every short length
		}
		if got, want := fold(sum(buf[lo:hi], 0)), refSum(buf[lo:hi]); got != want {
			t.Fatalf("sum of buf[%d:%d] = %#04x, want %#04x", lo, hi, got, want)
		}
	}
	ff := bytes.Repeat([]byte{0xff}, 1000)
	if got := fold(sum(ff, 0xffffffffffffffff)); got != 0xffff {
		t.Fatalf("sum of 0xff bytes with a full accumulator = %#04x", got)
	}
}

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0xa}
	macB = []byte{0x02, 0, 0, 0, 0, 0xb}
	ip4A = []byte{10, 1, 0, 1}
	ip4B = []byte{10, 1, 0, 2}
	ip6A = []byte{0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	ip6B = []byte{0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
)

// spec describes a test frame; build makes it byte by byte, with lengths
// and checksums computed by refSum.
type spec struct {
	v6, vlan, udp bool
	ipOpts        []byte // IPv4 options, a multiple of 4 bytes
	hbh           bool   // an IPv6 hop-by-hop options header
	routing       bool   // an IPv6 routing header
	frag          bool   // an IPv4 fragment (MF)
	df            bool
	tos, ttl      uint8
	flow          uint32 // IPv6 flow label
	id            uint16
	tcpOpts       []byte // a multiple of 4 bytes
	flags         uint8  // TCP flags; ACK is added
	seq, ack      uint32
	win           uint16
	sport         uint16
	macSrc        []byte
	payload       []byte
	pad           int // Ethernet padding after the IP packet
}

// build returns the frame and the offsets of the IP and transport headers.
func (s spec) build() (f []byte, l3, l4 int) {
	src, dst := macA, macB
	if s.macSrc != nil {
		src = s.macSrc
	}
	f = append(append(f, dst...), src...)
	if s.vlan {
		f = append(f, 0x81, 0x00, 0x00, 0x05)
	}
	proto := uint8(protoTCP)
	if s.udp {
		proto = protoUDP
	}
	ttl := s.ttl
	if ttl == 0 {
		ttl = 64
	}
	l3 = len(f) + 2
	if s.v6 {
		f = append(f, 0x86, 0xdd)
		next := proto
		if s.hbh {
			next = protoHopOpts
		}
		if s.routing {
			next = protoRouting
		}
		f = binary.BigEndian.AppendUint32(f, 6<<28|uint32(s.tos)<<20|s.flow)
		f = append(f, 0, 0, next, ttl)
		f = append(append(f, ip6A...), ip6B...)
		if s.hbh {
			f = append(f, proto, 0, 1, 4, 0, 0, 0, 0) // PadN
		}
		if s.routing {
			f = append(f, proto, 0, 0, 0, 0, 0, 0, 0)
		}
	} else {
		f = append(f, 0x08, 0x00)
		frag := uint16(0)
		if s.df {
			frag |= ipv4DF
		}
		if s.frag {
			frag |= ipv4MF
		}
		f = append(f, 0x45+byte(len(s.ipOpts)/4), s.tos, 0, 0)
		f = binary.BigEndian.AppendUint16(f, s.id)
		f = binary.BigEndian.AppendUint16(f, frag)
		f = append(f, ttl, proto, 0, 0)
		f = append(append(f, ip4A...), ip4B...)
		f = append(f, s.ipOpts...)
	}
	l4 = len(f)
	sport := s.sport
	if sport == 0 {
		sport = 40000
	}
	f = binary.BigEndian.AppendUint16(f, sport)
	f = binary.BigEndian.AppendUint16(f, 5201)
	if s.udp {
		f = binary.BigEndian.AppendUint16(f, uint16(udpHdrLen+len(s.payload)))
		f = append(f, 0, 0)
	} else {
		f = binary.BigEndian.AppendUint32(f, s.seq)
		f = binary.BigEndian.AppendUint32(f, s.ack)
		f = append(f, byte((tcpMinLen+len(s.tcpOpts))/4)<<4, s.flags|0x10)
		win := s.win
		if win == 0 {
			win = 512
		}
		f = binary.BigEndian.AppendUint16(f, win)
		f = append(f, 0, 0, 0, 0)
		f = append(f, s.tcpOpts...)
	}
	f = append(f, s.payload...)
	end := len(f)
	if s.v6 {
		binary.BigEndian.PutUint16(f[l3+4:], uint16(end-l3-ipv6HdrLen))
	} else {
		binary.BigEndian.PutUint16(f[l3+2:], uint16(end-l3))
		binary.BigEndian.PutUint16(f[l3+10:], ^refSum(f[l3:l4]))
	}
	at := l4 + tcpCsum
	if s.udp {
		at = l4 + udpCsum
	}
	binary.BigEndian.PutUint16(f[at:], ^refSum(pseudo(f, l3, l4, end-l4), f[l4:end]))
	return append(f, make([]byte, s.pad)...), l3, l4
}

// pseudo is the pseudo-header of the transport header at l4, length long.
func pseudo(f []byte, l3, l4, length int) []byte {
	var p []byte
	var proto byte
	if f[l3]>>4 == 6 {
		p = append(p, f[l3+ipv6Src:l3+ipv6Dst+16]...)
		proto = f[l3+ipv6NextHdr]
		if proto == protoHopOpts || proto == protoRouting { // one extension header at most
			proto = f[l3+ipv6HdrLen]
		}
	} else {
		p = append(p, f[l3+ipv4Src:l3+ipv4Dst+4]...)
		proto = f[l3+ipv4Proto]
	}
	p = append(p, 0, proto)
	return binary.BigEndian.AppendUint16(p, uint16(length))
}

// superpacket makes a GSO frame of s, as the kernel hands it over: the
// virtio_net_hdr, then the frame with the pseudo-header sum in the
// transport checksum field.
func superpacket(s spec, gsoSize int) []byte {
	f, l3, l4 := s.build()
	typ, at, end := uint8(vnetGSOUDPL4), l4+udpCsum, l4+udpHdrLen
	if !s.udp {
		typ, at, end = vnetGSOTCPv4, l4+tcpCsum, l4+int(f[l4+tcpDataOff]>>4)*4
		if s.v6 {
			typ = vnetGSOTCPv6
		}
	}
	if !s.udp && s.flags&tcpCWR != 0 {
		typ |= vnetGSOECN
	}
	binary.BigEndian.PutUint16(f[at:], refSum(pseudo(f, l3, l4, len(f)-l4)))
	h := vnetHdr{flags: vnetNeedsCsum, gsoType: typ, hdrLen: uint16(end), gsoSize: uint16(gsoSize),
		csumStart: uint16(l4), csumOffset: uint16(at - l4)}
	return append(h.appendMarshal(nil), f...)
}

// decoded is what checkFrame found in a frame.
type decoded struct {
	l3, l4, end int
	ipv4        *layers.IPv4
	tcp         *layers.TCP
	udp         *layers.UDP
	payload     []byte
}

// checkFrame decodes a frame with gopacket and checks its IP lengths and
// its IPv4 header and transport checksums with refSum.
func checkFrame(t testing.TB, f []byte) decoded {
	t.Helper()
	p := gopacket.NewPacket(f, layers.LayerTypeEthernet, gopacket.DecodeOptions{NoCopy: true})
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("decoding % x...: %v", f[:min(len(f), 96)], el.Error())
	}
	var d decoded
	d.l3 = ethHdrLen
	for et := binary.BigEndian.Uint16(f[ethType:]); et == 0x8100 || et == 0x88a8; d.l3 += 4 {
		et = binary.BigEndian.Uint16(f[d.l3+2:])
	}
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		d.ipv4 = ip
		if int(ip.Length) != len(f)-d.l3 {
			t.Errorf("IPv4 total length %d, frame has %d", ip.Length, len(f)-d.l3)
		}
		if refSum(ip.Contents) != 0xffff {
			t.Errorf("IPv4 header checksum %#04x wrong", ip.Checksum)
		}
	case *layers.IPv6:
		if int(ip.Length) != len(f)-d.l3-ipv6HdrLen {
			t.Errorf("IPv6 payload length %d, frame has %d", ip.Length, len(f)-d.l3-ipv6HdrLen)
		}
	}
	switch l := p.TransportLayer().(type) {
	case *layers.TCP:
		d.tcp, d.payload = l, l.Payload
		d.l4 = len(f) - len(l.Contents) - len(l.Payload)
		d.end = d.l4 + len(l.Contents)
	case *layers.UDP:
		d.udp, d.payload = l, l.Payload
		d.l4 = len(f) - len(l.Contents) - len(l.Payload)
		d.end = d.l4 + udpHdrLen
		if int(l.Length) != len(f)-d.l4 {
			t.Errorf("UDP length %d, datagram has %d", l.Length, len(f)-d.l4)
		}
		if l.Checksum == 0 {
			t.Errorf("UDP checksum 0")
		}
	default:
		t.Fatalf("no TCP or UDP in % x", f[:min(len(f), 96)])
	}
	if s := refSum(pseudo(f, d.l3, d.l4, len(f)-d.l4), f[d.l4:]); s != 0xffff {
		t.Errorf("transport checksum wrong (sum %#04x) in % x...", s, f[:min(len(f), 96)])
	}
	return d
}

// split runs what one read returned, in, through a splitter with
// buffers of size bytes at offset 3, nbufs at a time, and returns the
// frames and the splitter's counters.
func split(in []byte, mtu, nbufs, size int) ([][]byte, counters) {
	s := splitter{mtu: mtu}
	bufs, sizes := make([][]byte, nbufs), make([]int, nbufs)
	for i := range bufs {
		bufs[i] = make([]byte, 3+size)
	}
	var out [][]byte
	for first := true; first || s.active; first = false {
		var n int
		if first {
			n = s.put(bytes.Clone(in), bufs, sizes, 3, 0)
		} else {
			n = s.fill(bufs, sizes, 3, 0)
		}
		for i := range n {
			out = append(out, bytes.Clone(bufs[i][3:3+sizes[i]]))
		}
	}
	return out, s.counters
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

var (
	tsOpt  = []byte{1, 1, 8, 10, 0, 0, 1, 0, 0, 0, 2, 0} // NOP NOP timestamps
	ipOpts = []byte{0x94, 4, 0, 0}                       // router alert
)

func TestSegment(t *testing.T) {
	for _, tc := range []struct {
		name    string
		s       spec
		gso     int
		mtu     int
		wantSeg int // payload of all but the last segment
	}{
		{"tcp4", spec{flags: tcpPSH | tcpFIN, seq: 0xfffff000, id: 0xfffe, df: true, payload: payload(60000)}, 1448, 1500, 1448},
		{"tcp4-cwr-ece", spec{flags: tcpCWR | 0x40 | tcpPSH, payload: payload(10000)}, 1448, 1500, 1448},
		{"tcp6-timestamps", spec{v6: true, flow: 0x12345, tcpOpts: tsOpt, flags: tcpPSH, payload: payload(65000)}, 1428, 1500, 1428},
		{"tcp4-vlan-ipopts", spec{vlan: true, ipOpts: ipOpts, payload: payload(5000)}, 1444, 1500, 1444},
		{"tcp6-hbh", spec{v6: true, hbh: true, payload: payload(7000)}, 1400, 1500, 1400},
		{"tcp4-mtu-cap", spec{payload: payload(30000)}, 8960, 1500, 1460},
		{"tcp4-no-mtu", spec{payload: payload(30000)}, 8960, 0, 8960},
		{"udp4", spec{udp: true, id: 7, payload: payload(12345)}, 1000, 1500, 1000},
		{"udp6-vlan", spec{v6: true, vlan: true, udp: true, payload: payload(3000)}, 1200, 1500, 1200},
		{"udp4-over-mtu", spec{udp: true, payload: payload(6000)}, 2000, 1500, 2000},
		{"tcp4-one-segment", spec{payload: payload(100)}, 1448, 1500, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := superpacket(tc.s, tc.gso)
			sp := checkPartial(t, in)
			segs, cnt := split(in, tc.mtu, 7, 9100)
			if cnt.dropped != 0 || cnt.gsoRead != 1 || int(cnt.segRead) != len(segs) {
				t.Fatalf("counters %+v for %d segments", cnt, len(segs))
			}
			want := (len(tc.s.payload) + tc.wantSeg - 1) / tc.wantSeg
			if len(segs) != want {
				t.Fatalf("%d segments, want %d", len(segs), want)
			}
			var all []byte
			for i, f := range segs {
				d := checkFrame(t, f)
				last := i == len(segs)-1
				if !last && len(d.payload) != tc.wantSeg {
					t.Errorf("segment %d: payload %d bytes, want %d", i, len(d.payload), tc.wantSeg)
				}
				if tc.mtu > 0 && !tc.s.udp && len(f)-d.l3 > tc.mtu {
					t.Errorf("segment %d: %d bytes at the IP layer, MTU %d", i, len(f)-d.l3, tc.mtu)
				}
				// Headers other than lengths, IDs, checksums, sequence
				// numbers and flags are the superpacket's.
				if !bytes.Equal(f[:d.l3], sp[:d.l3]) || !bytes.Equal(f[d.l4:d.l4+4], sp[d.l4:d.l4+4]) {
					t.Errorf("segment %d: headers % x, superpacket % x", i, f[:d.end], sp[:d.end])
				}
				if d.tcp != nil && (!bytes.Equal(f[d.l4+tcpAck:d.l4+tcpFlags], sp[d.l4+tcpAck:d.l4+tcpFlags]) ||
					!bytes.Equal(f[d.l4+tcpWindow:d.l4+tcpCsum], sp[d.l4+tcpWindow:d.l4+tcpCsum]) ||
					!bytes.Equal(f[d.l4+tcpCsum+2:d.end], sp[d.l4+tcpCsum+2:d.end])) {
					t.Errorf("segment %d: TCP header % x, superpacket % x", i, f[d.l4:d.end], sp[d.l4:d.end])
				}
				if d.ipv4 != nil && d.ipv4.Id != tc.s.id+uint16(i) {
					t.Errorf("segment %d: IPv4 ID %d, want %d", i, d.ipv4.Id, tc.s.id+uint16(i))
				}
				if d.tcp != nil {
					if want := tc.s.seq + uint32(len(all)); d.tcp.Seq != want {
						t.Errorf("segment %d: seq %d, want %d", i, d.tcp.Seq, want)
					}
					flags := f[d.l4+tcpFlags]
					want := tc.s.flags | 0x10
					if !last {
						want &^= tcpPSH | tcpFIN
					}
					if i > 0 {
						want &^= tcpCWR
					}
					if flags != want {
						t.Errorf("segment %d: flags %#02x, want %#02x", i, flags, want)
					}
				}
				all = append(all, d.payload...)
			}
			if !bytes.Equal(all, tc.s.payload) {
				t.Errorf("payloads do not add up to the superpacket's")
			}
			// However few buffers Read is given, the frames are the same.
			for _, nb := range []int{1, 2, 5} {
				again, _ := split(in, tc.mtu, nb, 9100)
				if len(again) != len(segs) {
					t.Fatalf("%d buffers: %d segments, want %d", nb, len(again), len(segs))
				}
				for i := range again {
					if !bytes.Equal(again[i], segs[i]) {
						t.Fatalf("%d buffers: segment %d differs", nb, i)
					}
				}
			}
		})
	}
}

// checkPartial checks the superpacket built by superpacket and returns its
// frame: its transport checksum field must hold the pseudo-header sum.
func checkPartial(t *testing.T, in []byte) []byte {
	t.Helper()
	h, err := parseVnetHdr(in)
	if err != nil {
		t.Fatal(err)
	}
	f := bytes.Clone(in[vnetHdrSize:])
	if err := completeCsum(f, h.csumStart, h.csumOffset); err != nil {
		t.Fatal(err)
	}
	checkFrame(t, f)
	return in[vnetHdrSize:]
}

func TestCompleteChecksum(t *testing.T) {
	for _, s := range []spec{
		{payload: payload(1000)},
		{v6: true, udp: true, payload: payload(333)},
		{vlan: true, udp: true, payload: payload(1)},
		{v6: true, hbh: true, tcpOpts: tsOpt, payload: payload(77)},
	} {
		in := superpacket(s, 1448)
		in[vnetGSOType] = vnetGSONone
		want := checkPartial(t, in)
		out, cnt := split(in, 1500, 4, 2000)
		if len(out) != 1 || cnt.dropped != 0 || cnt.gsoRead != 0 {
			t.Fatalf("%d frames, counters %+v", len(out), cnt)
		}
		checkFrame(t, out[0])
		if d := checkFrame(t, out[0]); !bytes.Equal(out[0][:d.l4], want[:d.l4]) || !bytes.Equal(d.payload, s.payload) {
			t.Errorf("frame changed beyond its checksum")
		}
	}
	// A frame without NEEDS_CSUM is passed on as it is.
	f, _, _ := spec{payload: payload(50)}.build()
	in := append(make([]byte, vnetHdrSize), f...)
	if out, _ := split(in, 1500, 1, 2000); len(out) != 1 || !bytes.Equal(out[0], f) {
		t.Errorf("plain frame changed")
	}
}

func TestSplitMalformed(t *testing.T) {
	good := superpacket(spec{payload: payload(5000)}, 1448)
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	l4 := vnetHdrSize + ethHdrLen + ipv4MinLen
	for name, in := range map[string][]byte{
		"empty":          {},
		"short vnet hdr": good[:9],
		"gso_size 0":     mod(func(b []byte) []byte { b[vnetGSOSize], b[vnetGSOSize+1] = 0, 0; return b }),
		"unknown gso":    mod(func(b []byte) []byte { b[vnetGSOType] = 3; return b }),
		"tcp6 on ipv4":   mod(func(b []byte) []byte { b[vnetGSOType] = vnetGSOTCPv6; return b }),
		"udp on tcp":     mod(func(b []byte) []byte { b[vnetGSOType] = vnetGSOUDPL4; return b }),
		"arp":            mod(func(b []byte) []byte { b[vnetHdrSize+ethType+1] = 0x06; return b }),
		"truncated":      good[:l4+10],
		"headers only": mod(func(b []byte) []byte {
			b = b[:l4+tcpMinLen]
			binary.BigEndian.PutUint16(b[vnetHdrSize+ethHdrLen+2:], 40)
			return b
		}),
		"data offset":    mod(func(b []byte) []byte { b[l4+tcpDataOff] = 0x20; return b }),
		"ip length":      mod(func(b []byte) []byte { b[vnetHdrSize+ethHdrLen+2]++; return b }),
		"ihl":            mod(func(b []byte) []byte { b[vnetHdrSize+ethHdrLen] = 0x4f; return b }),
		"fragment":       mod(func(b []byte) []byte { b[vnetHdrSize+ethHdrLen+ipv4Frag] |= 0x20; return b }),
		"csum_start":     mod(func(b []byte) []byte { b[vnetCsumStart]++; return b }),
		"csum_offset":    mod(func(b []byte) []byte { b[vnetCsumOffset] = 6; return b }),
		"routing header": superpacket(spec{v6: true, routing: true, payload: payload(3000)}, 1000),
		"no csum room": mod(func(b []byte) []byte {
			b[vnetGSOType] = vnetGSONone
			binary.NativeEndian.PutUint16(b[vnetCsumStart:], uint16(len(b)-vnetHdrSize-1))
			return b
		}),
		"too big for buffer": mod(func(b []byte) []byte { b[vnetGSOType] = vnetGSONone; b[vnetFlags] = 0; return b }),
	} {
		out, cnt := split(in, 1500, 4, 2000)
		if len(out) != 0 || cnt.dropped != 1 {
			t.Errorf("%s: %d frames, counters %+v; want a drop", name, len(out), cnt)
		}
	}
	// A segment larger than its buffer is dropped, the others delivered.
	out, cnt := split(good, 1500, 4, 1000)
	if len(out) != 1 || cnt.dropped != 3 {
		t.Errorf("small buffers: %d frames, counters %+v", len(out), cnt)
	}
}

// writePackets renders the coalescer's plan as writeOffload writes it: per
// group, a virtio_net_hdr and a frame.
func writePackets(c *coalescer, bufs [][]byte, offset int) [][]byte {
	var out [][]byte
	for _, g := range c.groups {
		if g.count == 1 {
			out = append(out, append(vnetZero[:], bufs[g.head][offset:]...))
			continue
		}
		p := g.appendHeader(nil, bufs[g.head][offset:])
		for i := g.head; i >= 0; i = c.next[i] {
			p = append(p, bufs[i][offset+g.seg.end:]...)
		}
		out = append(out, p)
	}
	return out
}

func withOffset(frames [][]byte, offset int) [][]byte {
	bufs := make([][]byte, len(frames))
	for i, f := range frames {
		bufs[i] = append(make([]byte, offset), f...)
	}
	return bufs
}

func TestCoalesceRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    spec
		gso  int
	}{
		{"tcp4", spec{df: true, id: 0xfff0, seq: 0xffffff00, flags: tcpPSH, payload: payload(65535 - 40)}, 1448},
		{"tcp4-no-df", spec{id: 100, payload: payload(20000)}, 1448},
		{"tcp4-cwr", spec{df: true, flags: tcpCWR | 0x40, payload: payload(20000)}, 1448},
		{"tcp6-timestamps", spec{v6: true, flow: 0xabcde, tcpOpts: tsOpt, flags: tcpPSH, payload: payload(60000)}, 1428},
		{"tcp6-even", spec{v6: true, payload: payload(1400 * 40)}, 1400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := superpacket(tc.s, tc.gso)
			segs, _ := split(in, 1500, 128, 1600)
			bufs := withOffset(segs, 5)
			orig := make([][]byte, len(bufs))
			for i := range bufs {
				orig[i] = bytes.Clone(bufs[i])
			}
			var c coalescer
			c.plan(bufs, 5)
			out := writePackets(&c, bufs, 5)
			if len(out) != 1 || c.groups[0].count != len(segs) {
				t.Fatalf("%d segments coalesced into %d packets", len(segs), len(out))
			}
			if !bytes.Equal(out[0], in) {
				t.Errorf("round trip changed the superpacket:\n got % x\nwant % x", out[0][:80], in[:80])
			}
			for i := range bufs {
				if !bytes.Equal(bufs[i], orig[i]) {
					t.Fatalf("coalescing modified frame %d", i)
				}
			}
		})
	}
}

// seg is a TCP segment of a flow with a 1000-byte MSS: n-th segment, flow
// varied by sport.
func seg(sport uint16, n int, mod func(*spec)) []byte {
	s := spec{sport: sport, df: true, seq: uint32(1000 * n), id: uint16(n), payload: payload(1000)}
	if mod != nil {
		mod(&s)
	}
	f, _, _ := s.build()
	return f
}

func TestCoalescePlan(t *testing.T) {
	arp := append(append(append([]byte{}, macB...), macA...), 0x08, 0x06)
	arp = append(arp, make([]byte, 28)...)
	ack := func(s *spec) { s.payload = nil }
	frames := [][]byte{
		seg(1, 0, nil), // 0: A
		seg(1, 1, nil), // 1: A
		seg(2, 0, nil), // 2: B
		arp,            // 3
		seg(1, 2, nil), // 4: A
		seg(2, 1, nil), // 5: B
		seg(1, 3, ack), // 6: A pure ACK: ends A's run
		seg(1, 3, nil), // 7: A
		seg(1, 4, nil), // 8: A
		seg(1, 5, func(s *spec) { s.frag = true }), // 9: A's and B's addresses, a fragment: ends both runs
		seg(1, 6, nil), // 10: A
		seg(1, 8, nil), // 11: A, a gap
		seg(1, 9, func(s *spec) { s.payload = payload(500) }), // 12: A, short: ends the run
		seg(1, 10, nil), // 13: A
		seg(2, 2, nil),  // 14: B
		seg(2, 3, func(s *spec) { s.flags = tcpPSH }), // 15: B, PSH ends the run
		seg(2, 4, nil), // 16: B
	}
	var c coalescer
	c.plan(withOffset(frames, 0), 0)
	var got [][]int
	for _, g := range c.groups {
		var idx []int
		for i := g.head; i >= 0; i = c.next[i] {
			idx = append(idx, i)
		}
		got = append(got, idx)
	}
	want := [][]int{{0, 1, 4}, {2, 5}, {3}, {6}, {7, 8}, {9}, {10}, {11, 12}, {13}, {14, 15}, {16}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	// Every frame is written once, and the frames of each flow in order.
	out := writePackets(&c, withOffset(frames, 0), 0)
	var written [][]byte
	for _, p := range out {
		fs, cnt := split(p, 1500, 64, 2000)
		if cnt.dropped != 0 {
			t.Fatalf("written packet % x does not split", p[:64])
		}
		written = append(written, fs...)
	}
	if len(written) != len(frames) {
		t.Fatalf("%d frames written, want %d", len(written), len(frames))
	}
	if got, want := tcpPayloads(t, written), tcpPayloads(t, frames); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("payloads of the flows differ after coalescing")
	}
}

// tcpPayloads concatenates the payloads of the unfragmented TCP frames of
// each flow, by source port.
func tcpPayloads(t *testing.T, frames [][]byte) map[uint16][]byte {
	m := make(map[uint16][]byte)
	for _, f := range frames {
		if len(f) < ethHdrLen+ipv4MinLen || binary.BigEndian.Uint16(f[ethType:]) != etherTypeIPv4 ||
			f[ethHdrLen+ipv4Frag]&0x20 != 0 {
			continue
		}
		d := checkFrame(t, f)
		m[uint16(d.tcp.SrcPort)] = append(m[uint16(d.tcp.SrcPort)], d.payload...)
	}
	return m
}

func TestCoalesceRejects(t *testing.T) {
	opts := func(b byte) func(*spec) {
		return func(s *spec) { s.tcpOpts = []byte{1, 1, 8, 10, 0, 0, 0, b, 0, 0, 0, 1} }
	}
	for _, tc := range []struct {
		name         string
		head, second func(*spec)
		post         func([]byte) // applied to the second frame after building
		merged       bool
	}{
		{name: "same", merged: true},
		{name: "timestamps", head: opts(1), second: opts(1), merged: true},
		{name: "ECE", head: func(s *spec) { s.flags = 0x40 }, second: func(s *spec) { s.flags = 0x40 }, merged: true},
		{name: "CWR first", head: func(s *spec) { s.flags = tcpCWR }, merged: true},
		{name: "CWR second", second: func(s *spec) { s.flags = tcpCWR }},
		{name: "ECE second", second: func(s *spec) { s.flags = 0x40 }},
		{name: "other timestamps", head: opts(1), second: opts(2)},
		{name: "options only on one", second: opts(2)},
		{name: "ack", second: func(s *spec) { s.ack = 1 }},
		{name: "window", second: func(s *spec) { s.win = 1 }},
		{name: "SYN", second: func(s *spec) { s.flags = tcpSYN }},
		{name: "FIN", second: func(s *spec) { s.flags = tcpFIN }},
		{name: "RST", second: func(s *spec) { s.flags = tcpRST }},
		{name: "URG", second: func(s *spec) { s.flags = tcpURG }},
		{name: "gap", second: func(s *spec) { s.seq += 1 }},
		{name: "overlap", second: func(s *spec) { s.seq -= 1 }},
		{name: "larger", head: func(s *spec) { s.payload = payload(999) }, second: func(s *spec) { s.seq, s.payload = 999, payload(1000) }},
		{name: "TOS", second: func(s *spec) { s.tos = 4 }},
		{name: "TTL", second: func(s *spec) { s.ttl = 3 }},
		{name: "DF", second: func(s *spec) { s.df = false }},
		{name: "ID without DF", head: func(s *spec) { s.df = false }, second: func(s *spec) { s.df, s.id = false, 7 }},
		{name: "ID with DF", second: func(s *spec) { s.id = 7 }, merged: true},
		{name: "ID+1 without DF", head: func(s *spec) { s.df = false }, second: func(s *spec) { s.df = false }, merged: true},
		{name: "IPv4 options", head: func(s *spec) { s.ipOpts = ipOpts }, second: func(s *spec) { s.ipOpts = ipOpts }},
		{name: "VLAN", head: func(s *spec) { s.vlan = true }, second: func(s *spec) { s.vlan = true }},
		{name: "padding", second: func(s *spec) { s.pad = 6 }},
		{name: "other MAC", second: func(s *spec) { s.macSrc = []byte{2, 0, 0, 0, 0, 0xc} }},
		{name: "bad TCP checksum", post: func(f []byte) { f[len(f)-1]++ }},
		{name: "bad IP checksum", post: func(f []byte) { f[ethHdrLen+ipv4TTL]++; f[ethHdrLen+ipv4Csum+1]++ }},
		{name: "v6", head: func(s *spec) { s.v6 = true }, second: func(s *spec) { s.v6 = true }, merged: true},
		{name: "v6 flow label", head: func(s *spec) { s.v6 = true }, second: func(s *spec) { s.v6, s.flow = true, 1 }},
		{name: "v6 hop limit", head: func(s *spec) { s.v6 = true }, second: func(s *spec) { s.v6, s.ttl = true, 1 }},
		{name: "v6 traffic class", head: func(s *spec) { s.v6 = true }, second: func(s *spec) { s.v6, s.tos = true, 1 }},
		{name: "v6 hop-by-hop", head: func(s *spec) { s.v6, s.hbh = true, true }, second: func(s *spec) { s.v6, s.hbh = true, true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := seg(1, 0, tc.head), seg(1, 1, func(s *spec) {
				if tc.head != nil {
					tc.head(s)
					s.seq, s.flags = 1000, 0
				}
				if tc.second != nil {
					tc.second(s)
				}
			})
			if tc.post != nil {
				tc.post(b)
			}
			bufs := withOffset([][]byte{a, b}, 0)
			var c coalescer
			c.plan(bufs, 0)
			if merged := len(c.groups) == 1; merged != tc.merged {
				t.Fatalf("merged %v, want %v", merged, tc.merged)
			}
			out := writePackets(&c, bufs, 0)
			if !tc.merged && (!bytes.Equal(out[0][vnetHdrSize:], a) || !bytes.Equal(out[1][vnetHdrSize:], b) ||
				!bytes.Equal(out[0][:vnetHdrSize], vnetZero[:])) {
				t.Fatalf("frames changed")
			}
		})
	}
}

func TestCoalesceLimits(t *testing.T) {
	count := func(frames [][]byte) []int {
		var c coalescer
		c.plan(withOffset(frames, 0), 0)
		var n []int
		for _, g := range c.groups {
			n = append(n, g.count)
			if g.count > 1 && g.size-ethHdrLen > maxIPLen {
				t.Errorf("superpacket of %d bytes", g.size-ethHdrLen)
			}
		}
		return n
	}
	var frames [][]byte
	for i := range 70 {
		frames = append(frames, seg(1, i, nil))
	}
	if got := count(frames); fmt.Sprint(got) != "[65 5]" {
		t.Errorf("70 segments of 1000 bytes: groups %v, want [65 5] (64 KB)", got)
	}
	frames = frames[:0]
	for i := range 600 {
		frames = append(frames, seg(1, 0, func(s *spec) { s.seq, s.id, s.payload = uint32(i), uint16(i), []byte{byte(i)} }))
	}
	if got := count(frames); fmt.Sprint(got) != fmt.Sprint([]int{maxSegs, 600 - maxSegs}) {
		t.Errorf("600 one-byte segments: groups %v", got)
	}
}

// FuzzSplit feeds arbitrary reads (virtio_net_hdr and frame) to the
// splitter: it must not panic, must keep frames within their buffers, must
// cut TCP to the MTU with valid lengths and checksums, and coalescing what
// it returns and splitting that again must give the same frames.
func FuzzSplit(f *testing.F) {
	for _, s := range []spec{
		{flags: tcpPSH, df: true, payload: payload(1200)},
		{flags: tcpCWR | tcpFIN, id: 0xffff, payload: payload(700)},
		{v6: true, tcpOpts: tsOpt, payload: payload(900)},
		{vlan: true, ipOpts: ipOpts, payload: payload(700)},
		{v6: true, hbh: true, payload: payload(600)},
		{udp: true, payload: payload(500)},
		{v6: true, vlan: true, udp: true, payload: payload(500)},
	} {
		f.Add(superpacket(s, 200), uint16(1500), uint8(4))
		f.Add(superpacket(s, 200), uint16(0), uint8(1))
		p := superpacket(s, 200)
		p[vnetGSOType] = vnetGSONone
		f.Add(p, uint16(1500), uint8(2))
	}
	f.Fuzz(func(t *testing.T, in []byte, mtu uint16, nbufs uint8) {
		if h, err := parseVnetHdr(in); err == nil && !bytes.Equal(h.appendMarshal(nil), in[:vnetHdrSize]) {
			t.Fatalf("virtio_net_hdr % x does not round-trip: %+v", in[:vnetHdrSize], h)
		}
		size := len(in)
		segs, cnt := split(in, int(mtu), 1+int(nbufs%16), size)
		if int(cnt.segRead) > len(segs) || cnt.gsoRead > 1 || cnt.dropped > 1 && cnt.gsoRead == 0 {
			t.Fatalf("counters %+v for %d frames", cnt, len(segs))
		}
		if cnt.gsoRead == 1 {
			for _, s := range segs {
				h, err := parseL3(s)
				if err != nil || !h.ipLenOK(s) {
					t.Fatalf("segment with bad IP header (%v): % x", err, s[:min(len(s), 96)])
				}
				src, dst := h.addrs(s)
				ps := append(append(append([]byte{}, src...), dst...), 0, h.proto, byte((len(s)-h.l4)>>8), byte(len(s)-h.l4))
				if refSum(ps, s[h.l4:]) != 0xffff {
					t.Fatalf("segment with bad checksum: % x", s[:min(len(s), 96)])
				}
				if h.proto == protoTCP && mtu > 0 && len(s)-h.net > int(mtu) && len(segs) > 1 {
					t.Fatalf("TCP segment of %d bytes, MTU %d", len(s)-h.net, mtu)
				}
			}
		}
		if cnt.dropped != 0 || len(segs) == 0 {
			return
		}
		var c coalescer
		bufs := withOffset(segs, 1)
		c.plan(bufs, 1)
		var again [][]byte
		for _, p := range writePackets(&c, bufs, 1) {
			fs, cnt := split(p, int(mtu), 8, len(p))
			if cnt.dropped != 0 {
				t.Fatalf("coalesced packet does not split: % x", p[:min(len(p), 96)])
			}
			again = append(again, fs...)
		}
		if len(again) != len(segs) {
			t.Fatalf("%d frames after coalescing and splitting, want %d", len(again), len(segs))
		}
		for i := range segs {
			if !bytes.Equal(again[i], segs[i]) {
				t.Fatalf("frame %d changed by coalescing and splitting:\n got % x\nwant % x", i, again[i][:min(len(again[i]), 96)], segs[i][:min(len(segs[i]), 96)])
			}
		}
	})
}
