// Package capture reads UDP datagrams out of packet captures (pcap and
// pcapng, any link type that gopacket decodes: Ethernet, Linux cooked,
// raw IP, loopback), for the wire decoder and for tests.
package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/ip4defrag"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Datagram is one UDP datagram from a capture.
type Datagram struct {
	Frame    int // 1-based frame number in the file
	Time     time.Time
	Src, Dst netip.AddrPort
	Payload  []byte
}

// Reader yields the UDP datagrams of a capture in file order.
type Reader struct {
	next     func() ([]byte, gopacket.CaptureInfo, error)
	linkType func(ci gopacket.CaptureInfo) layers.LinkType
	defrag   *ip4defrag.IPv4Defragmenter
	frame    int
	// Skipped counts frames that held no whole UDP datagram (other
	// protocols, IP fragments, truncated frames).
	Skipped int
}

// Open reads a capture's file header and tells pcap from pcapng.
func Open(r io.Reader) (*Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, fmt.Errorf("capture: reading file header: %w", err)
	}
	if magic[0] == 0x0a && magic[1] == 0x0d && magic[2] == 0x0d && magic[3] == 0x0a {
		ng, err := pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
		if err != nil {
			return nil, fmt.Errorf("capture: pcapng: %w", err)
		}
		return &Reader{
			defrag: ip4defrag.NewIPv4Defragmenter(),
			next:   ng.ReadPacketData,
			linkType: func(ci gopacket.CaptureInfo) layers.LinkType {
				if i, err := ng.Interface(ci.InterfaceIndex); err == nil {
					return i.LinkType
				}
				return ng.LinkType()
			},
		}, nil
	}
	pr, err := pcapgo.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("capture: not a pcap or pcapng file: %w", err)
	}
	lt := pr.LinkType()
	return &Reader{
		defrag:   ip4defrag.NewIPv4Defragmenter(),
		next:     pr.ReadPacketData,
		linkType: func(gopacket.CaptureInfo) layers.LinkType { return lt },
	}, nil
}

// Next returns the next UDP datagram, or io.EOF after the last.
func (r *Reader) Next() (Datagram, error) {
	for {
		data, ci, err := r.next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return Datagram{}, io.EOF
			}
			return Datagram{}, fmt.Errorf("capture: frame %d: %w", r.frame+1, err)
		}
		r.frame++
		d, ok := r.decodeUDP(data, r.linkType(ci), ci.Timestamp)
		if !ok {
			r.Skipped++
			continue
		}
		d.Frame, d.Time = r.frame, ci.Timestamp
		return d, nil
	}
}

// decodeUDP finds the IP and UDP layers of one frame. IPv4 fragments are
// collected until their datagram is whole (it is then returned with the
// frame number of its last fragment).
func (r *Reader) decodeUDP(data []byte, lt layers.LinkType, ts time.Time) (Datagram, bool) {
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true})
	var src, dst netip.Addr
	var udpData []byte
	switch ip := p.NetworkLayer().(type) {
	case *layers.IPv4:
		if ip.Flags&layers.IPv4MoreFragments != 0 || ip.FragOffset != 0 {
			whole, err := r.defrag.DefragIPv4WithTimestamp(ip, ts)
			if err != nil || whole == nil {
				return Datagram{}, false
			}
			ip = whole
		}
		if ip.Protocol != layers.IPProtocolUDP {
			return Datagram{}, false
		}
		src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
		udpData = ip.Payload
	case *layers.IPv6:
		src, _ = netip.AddrFromSlice(ip.SrcIP)
		dst, _ = netip.AddrFromSlice(ip.DstIP)
		udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if !ok || p.ErrorLayer() != nil {
			return Datagram{}, false
		}
		udpData = append(udp.Contents, udp.Payload...)
	default:
		return Datagram{}, false
	}
	var udp layers.UDP
	if err := udp.DecodeFromBytes(udpData, gopacket.NilDecodeFeedback); err != nil {
		return Datagram{}, false
	}
	payload := udp.Payload
	if int(udp.Length) >= 8 && int(udp.Length)-8 < len(payload) {
		payload = payload[:udp.Length-8] // drop Ethernet padding
	}
	if int(udp.Length) > 8+len(payload) {
		return Datagram{}, false // truncated by the snap length
	}
	return Datagram{
		Src:     netip.AddrPortFrom(src, uint16(udp.SrcPort)),
		Dst:     netip.AddrPortFrom(dst, uint16(udp.DstPort)),
		Payload: append([]byte(nil), payload...),
	}, true
}

// ReadAll returns every UDP datagram of a capture.
func ReadAll(r io.Reader) ([]Datagram, error) {
	c, err := Open(r)
	if err != nil {
		return nil, err
	}
	var out []Datagram
	for {
		d, err := c.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, d)
	}
}
