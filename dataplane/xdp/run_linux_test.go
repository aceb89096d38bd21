package xdp

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
)

// XDP actions (linux/bpf.h enum xdp_action); the program never returns
// XDP_ABORTED (0) or XDP_DROP (1).
const (
	xdpPass     = 2
	xdpTX       = 3
	xdpRedirect = 4
)

// The test world: this node, its peers and networks.
const (
	us    identity.Address = 0x89e92ceee5
	peerA identity.Address = 0x1111111111 // sends everything
	peerB identity.Address = 0x2222222222 // relayed over IPv4 out of ifindex relayIf
	peerC identity.Address = 0x3333333333 // relayed over IPv6
	peerD identity.Address = 0x4444444444 // relayed back out of the ingress interface
	peerE identity.Address = 0x5555555555 // has a relay path, but no pair
	peerF identity.Address = 0x6666666666 // unknown

	nwid1     uint64 = 0x8056c2e21c000001
	nwid2     uint64 = 0x8056c2e21c000053 // MAC first octet 0x52, replaced by 0x32
	nwidNone  uint64 = 0x8056c2e21c0000ff // no interface
	net1If           = 41
	net2If           = 42
	relayIf          = 7
	ingressIf        = 1 // lo: test runs need an existing interface
	trustID   uint64 = 0x0102030405060708
	trustID6  uint64 = 0x1112131415161718
)

var (
	ourMAC   = mac{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	peerMAC  = mac{0x52, 0x54, 0, 0x65, 0x43, 0x21}
	relayMAC = mac{0x02, 0, 0, 0, 0, 0x01} // egress interface
	hopMAC   = mac{0x02, 0, 0, 0, 0, 0x02} // next hop

	// Where ZeroTier arrives: the node's public addresses and a peer's.
	node4 = netip.MustParseAddrPort("198.51.100.1:9993")
	node6 = netip.MustParseAddrPort("[2001:db8::1]:9993")
	from4 = netip.MustParseAddrPort("198.51.100.50:40000")
	from6 = netip.MustParseAddrPort("[2001:db8:5::50]:40000")
	// A trusted path: the peer's addresses on it.
	trusted4    = netip.MustParsePrefix("10.0.0.0/24")
	trusted6    = netip.MustParsePrefix("2001:db8:7::/48")
	trustedSrc4 = netip.MustParseAddrPort("10.0.0.2:9993")
	trustedDst4 = netip.MustParseAddrPort("10.0.0.1:9993")
	trustedSrc6 = netip.MustParseAddrPort("[2001:db8:7::2]:9993")
	trustedDst6 = netip.MustParseAddrPort("[2001:db8:7::1]:9993")

	relayB = RelayPath{Ifindex: relayIf, Src: netip.MustParseAddrPort("203.0.113.1:9993"),
		Dst: netip.MustParseAddrPort("203.0.113.7:21000"), SrcMAC: relayMAC[:], DstMAC: hopMAC[:]}
	relayC = RelayPath{Ifindex: relayIf + 1, Src: netip.MustParseAddrPort("[2001:db8:1::1]:9993"),
		Dst: netip.MustParseAddrPort("[2001:db8:2::7]:21001"), SrcMAC: relayMAC[:], DstMAC: hopMAC[:]}
	relayD = RelayPath{Ifindex: ingressIf, Src: node4,
		Dst: netip.MustParseAddrPort("198.51.100.9:9993"), SrcMAC: ourMAC[:], DstMAC: peerMAC[:]}
)

func requireRoot(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root to load BPF programs and maps (BPF_PROG_TEST_RUN); CI runs as root")
	}
}

// newTestXDP loads the program without attaching or pinning it, and
// configures the test world.
func newTestXDP(tb testing.TB) *XDP {
	tb.Helper()
	requireRoot(tb)
	x, err := Load(Options{Ports: []uint16{9993, 19993}, Address: us, VerifierLog: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() })
	for _, err := range []error{
		x.SetTrustedPath(trusted4, trustID),
		x.SetTrustedPath(trusted6, trustID6),
		x.SetNetwork(nwid1, net1If),
		x.SetNetwork(nwid2, net2If),
		x.SetRelay(peerB, relayB),
		x.SetRelay(peerC, relayC),
		x.SetRelay(peerD, relayD),
		x.SetRelay(peerE, relayB),
		x.SetPair(peerA, peerB),
		x.SetPair(peerA, peerC),
		x.SetPair(peerA, peerD),
	} {
		if err != nil {
			tb.Fatal(err)
		}
	}
	return x
}

// xdpMD is the test run's context (linux/bpf.h struct xdp_md).
type xdpMD struct {
	Data, DataEnd, DataMeta, IngressIfindex, RxQueueIndex, EgressIfindex uint32
}

// run runs the program once on a frame received on ingressIf.
func run(tb testing.TB, x *XDP, in []byte) (uint32, []byte) {
	tb.Helper()
	opts := &ebpf.RunOptions{
		Data:    in,
		DataOut: make([]byte, len(in)+256),
		Context: xdpMD{DataEnd: uint32(len(in)), IngressIfindex: ingressIf},
	}
	act, err := x.objs.ZtxXdp.Run(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return act, opts.DataOut
}

var relayKey = func() *packet.Key {
	var shared [packet.SharedKeySize]byte
	rand.Read(shared[:])
	k, err := packet.NewKey(&shared)
	if err != nil {
		panic(err)
	}
	return k
}()

// armored is a packet from src to dest armored with AES-GMAC-SIV, with
// hops set.
func armored(tb testing.TB, dest, src identity.Address, size, hops int) packet.Packet {
	tb.Helper()
	p := packet.New(dest, src, packet.VerbFrame)
	p = p.AppendPayload(make([]byte, size)...)
	rand.Read(p[packet.IndexPayload:])
	if err := relayKey.Armor(p, packet.SuiteAESGMACSIV); err != nil {
		tb.Fatal(err)
	}
	p[packet.IndexFlags] = p[packet.IndexFlags]&^packet.HopsMask | byte(hops)
	return p
}

// fragments is a fragmented armored packet from src to dest: head first.
func fragments(tb testing.TB, dest, src identity.Address) [][]byte {
	tb.Helper()
	p := packet.New(dest, src, packet.VerbFrame)
	p = p.AppendPayload(make([]byte, 3000)...)
	p.SetFragmented(true)
	if err := relayKey.Armor(p, packet.SuiteAESGMACSIV); err != nil {
		tb.Fatal(err)
	}
	pieces, err := packet.Fragment(p, packet.DefaultPhysMTU)
	if err != nil {
		tb.Fatal(err)
	}
	return pieces
}

// innerFrame is what a FRAME carries after the network ID: an ethertype
// and an IPv4/UDP packet.
func innerFrame() (etype uint16, payload []byte) {
	f := udpFrame{
		src:     netip.MustParseAddrPort("10.147.17.2:6001"),
		dst:     netip.MustParseAddrPort("10.147.17.1:6000"),
		payload: []byte("hello over the trusted path"),
	}.bytes()
	return etherIPv4, f[14:]
}

// trustedFrame is a FRAME from src to dest on network nwid, armored for a
// trusted path.
func trustedFrame(tb testing.TB, dest, src identity.Address, nwid uint64, id uint64) packet.Packet {
	tb.Helper()
	etype, data := innerFrame()
	p := packet.New(dest, src, packet.VerbFrame)
	p = p.AppendPayload(binary.BigEndian.AppendUint64(nil, nwid)...)
	p = p.AppendPayload(binary.BigEndian.AppendUint16(nil, etype)...)
	p = p.AppendPayload(data...)
	if err := packet.ArmorTrustedPath(p, id); err != nil {
		tb.Fatal(err)
	}
	return p
}

// delivered is the Ethernet frame a trusted FRAME becomes.
func delivered(src identity.Address, nwid uint64) []byte {
	etype, data := innerFrame()
	dst, s := netconf.MACOf(us, nwid), netconf.MACOf(src, nwid)
	return append(ethHeader(dst, s, 0, etype), data...)
}

// in4 and in6 are ZeroTier datagrams arriving at the node's public
// addresses; tr4 and tr6 on the trusted path.
func in4(zt []byte) udpFrame {
	return udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: from4, dst: node4, payload: zt, ttl: 57, ipID: 0x1234}
}

func in6(zt []byte) udpFrame {
	return udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: from6, dst: node6, payload: zt, ttl: 57}
}

func tr4(zt []byte) udpFrame {
	return udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: trustedSrc4, dst: trustedDst4, payload: zt, df: true}
}

func tr6(zt []byte) udpFrame {
	return udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: trustedSrc6, dst: trustedDst6, payload: zt}
}

// relayed is the frame a relayed datagram leaves in: fresh headers for
// path r and the hop byte incremented.
func relayed(r RelayPath, zt []byte) []byte {
	d := bytes.Clone(zt)
	if packet.Classify(d) == packet.KindFragment {
		d[packet.FragIndexHops] = (d[packet.FragIndexHops] + 1) & packet.HopsMask
	} else {
		packet.Packet(d).IncrementHops()
	}
	return udpFrame{dstMAC: mac(r.DstMAC), srcMAC: mac(r.SrcMAC), src: r.Src, dst: r.Dst, payload: d,
		ttl: 64, df: true, noCsum: true}.bytes()
}

// mutate returns a copy of b changed by f.
func mutate(b []byte, f func(b []byte) []byte) []byte { return f(bytes.Clone(b)) }

// fixIPv4 recomputes the checksum of the IPv4 header at off.
func fixIPv4(b []byte, off int) []byte {
	b[off+10], b[off+11] = 0, 0
	binary.BigEndian.PutUint16(b[off+10:], ^fold(sum(0, b[off:off+20])))
	return b
}

type runCase struct {
	name    string
	in      []byte
	act     uint32
	counter Counter
	out     []byte                   // nil: the frame passes unchanged
	check   func(*testing.T, []byte) // more checks on the output
}

func TestRun(t *testing.T) {
	x := newTestXDP(t)

	hello := packet.New(us, peerA, packet.VerbHello).AppendPayload(make([]byte, 60)...)
	good4 := in4(hello).bytes()
	good6 := in6(hello).bytes()
	tf := trustedFrame(t, us, peerA, nwid1, trustID)
	tfB := trustedFrame(t, peerB, peerA, nwid1, trustID)
	toB := armored(t, peerB, peerA, 200, 0)
	toC := armored(t, peerC, peerA, 200, 1)
	toD := armored(t, peerD, peerA, 200, 2)
	frags := fragments(t, peerB, peerA)
	if len(frags) < 3 {
		t.Fatalf("%d pieces", len(frags))
	}
	ours := fragments(t, us, peerA)

	var cases []runCase
	add := func(c ...runCase) { cases = append(cases, c...) }

	// Not ZeroTier.
	add(
		runCase{name: "ARP", in: append(ethHeader(ourMAC, peerMAC, 0, etherARP), make([]byte, 28)...), act: xdpPass, counter: PassNotZT},
		runCase{name: "IPv4 TCP", in: mutate(good4, func(b []byte) []byte { b[14+9] = 6; return fixIPv4(b, 14) }), act: xdpPass, counter: PassNotZT},
		runCase{name: "IPv4 UDP to another port", in: udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: from4, dst: netip.AddrPortFrom(node4.Addr(), 53), payload: hello}.bytes(), act: xdpPass, counter: PassNotZT},
		runCase{name: "IPv6 UDP to another port", in: udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: from6, dst: netip.AddrPortFrom(node6.Addr(), 53), payload: hello}.bytes(), act: xdpPass, counter: PassNotZT},
		runCase{name: "IPv6 ICMPv6", in: mutate(good6, func(b []byte) []byte { b[14+6] = 58; return b }), act: xdpPass, counter: PassNotZT},
		runCase{name: "VLAN ARP", in: append(ethHeader(ourMAC, peerMAC, 5, etherARP), make([]byte, 28)...), act: xdpPass, counter: PassNotZT},
	)
	// Headers the program does not parse.
	add(
		runCase{name: "IPv4 options", in: mutate(good4, func(b []byte) []byte {
			b = append(b[:34], append([]byte{1, 1, 1, 0}, b[34:]...)...) // NOP NOP NOP EOL
			b[14] = 0x46
			binary.BigEndian.PutUint16(b[16:], binary.BigEndian.Uint16(b[16:])+4)
			return fixIPv4(b, 14)
		}), act: xdpPass, counter: PassUnsupported},
		runCase{name: "IPv4 first fragment (MF)", in: mutate(good4, func(b []byte) []byte { b[14+6] |= 0x20; return fixIPv4(b, 14) }), act: xdpPass, counter: PassUnsupported},
		runCase{name: "IPv4 later fragment (offset)", in: mutate(good4, func(b []byte) []byte { b[14+7] = 1; return fixIPv4(b, 14) }), act: xdpPass, counter: PassUnsupported},
		runCase{name: "IPv6 hop-by-hop header", in: mutate(good6, func(b []byte) []byte { b[14+6] = 0; return b }), act: xdpPass, counter: PassUnsupported},
		runCase{name: "IPv6 fragment header", in: mutate(good6, func(b []byte) []byte { b[14+6] = 44; return b }), act: xdpPass, counter: PassUnsupported},
		runCase{name: "two VLAN tags", in: mutate(in4(hello).bytes(), func(b []byte) []byte {
			return append(ethHeader(ourMAC, peerMAC, 0, etherQinQ), append([]byte{0, 7, 0x81, 0, 0, 5, 8, 0}, b[14:]...)...)
		}), act: xdpPass, counter: PassUnsupported},
	)
	// Malformed and truncated.
	add(
		runCase{name: "Ethernet header only", in: ethHeader(ourMAC, peerMAC, 0, etherIPv4), act: xdpPass, counter: PassMalformed},
		runCase{name: "truncated VLAN tag", in: append(ethHeader(ourMAC, peerMAC, 0, etherVLAN), 0, 5), act: xdpPass, counter: PassMalformed},
		runCase{name: "truncated IPv4 header", in: good4[:14+19], act: xdpPass, counter: PassMalformed},
		runCase{name: "truncated IPv6 header", in: good6[:14+39], act: xdpPass, counter: PassMalformed},
		runCase{name: "truncated UDP datagram", in: good4[:len(good4)-1], act: xdpPass, counter: PassMalformed},
		runCase{name: "truncated IPv6 UDP datagram", in: good6[:len(good6)-1], act: xdpPass, counter: PassMalformed},
		runCase{name: "IPv4 version 5", in: mutate(good4, func(b []byte) []byte { b[14] = 0x55; return fixIPv4(b, 14) }), act: xdpPass, counter: PassMalformed},
		runCase{name: "IPv4 IHL 4", in: mutate(good4, func(b []byte) []byte { b[14] = 0x44; return b }), act: xdpPass, counter: PassMalformed},
		runCase{name: "IPv4 bad checksum", in: mutate(good4, func(b []byte) []byte { b[14+10] ^= 1; return b }), act: xdpPass, counter: PassMalformed},
		runCase{name: "IPv4 total length below IP+UDP", in: mutate(good4, func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[16:], 27)
			return fixIPv4(b, 14)
		}), act: xdpPass, counter: PassMalformed},
		runCase{name: "UDP length beyond IP", in: mutate(good4, func(b []byte) []byte {
			binary.BigEndian.PutUint16(b[38:], binary.BigEndian.Uint16(b[38:])+1)
			return b
		}), act: xdpPass, counter: PassMalformed},
		runCase{name: "UDP length below 8", in: mutate(good4, func(b []byte) []byte { binary.BigEndian.PutUint16(b[38:], 7); return b }), act: xdpPass, counter: PassMalformed},
		runCase{name: "IPv6 version 4", in: mutate(good6, func(b []byte) []byte { b[14] = 0x40; return b }), act: xdpPass, counter: PassMalformed},
		runCase{name: "empty ZeroTier datagram", in: in4(nil).bytes(), act: xdpPass, counter: PassMalformed},
		runCase{name: "12-byte datagram", in: in4(hello[:12]).bytes(), act: xdpPass, counter: PassMalformed},
		runCase{name: "16-byte fragment", in: in4(frags[1][:16]).bytes(), act: xdpPass, counter: PassMalformed},
		runCase{name: "27-byte packet", in: in4(toB[:27]).bytes(), act: xdpPass, counter: PassMalformed},
		runCase{name: "FRAME without ethertype", in: tr4(tf[:packet.IndexPayload+9]).bytes(), act: xdpPass, counter: PassMalformed},
	)
	// ZeroTier for this node that the control plane handles.
	add(
		runCase{name: "beacon", in: in4(hello[:packet.BeaconLength]).bytes(), act: xdpPass, counter: PassControl},
		runCase{name: "HELLO", in: good4, act: xdpPass, counter: PassControl},
		runCase{name: "HELLO over IPv6", in: good6, act: xdpPass, counter: PassControl},
		runCase{name: "HELLO to the second port", in: udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: from4, dst: netip.AddrPortFrom(node4.Addr(), 19993), payload: hello}.bytes(), act: xdpPass, counter: PassControl},
		runCase{name: "AES-GMAC-SIV FRAME", in: in4(armored(t, us, peerA, 100, 0)).bytes(), act: xdpPass, counter: PassControl},
		runCase{name: "fragment for us", in: in4(ours[1]).bytes(), act: xdpPass, counter: PassControl},
		runCase{name: "trailer after the IP packet", in: func() []byte { f := in4(hello); f.trailer = []byte{1, 2, 3, 4}; return f.bytes() }(), act: xdpPass, counter: PassControl},
	)
	// Trusted paths.
	frameVia := func(f udpFrame) []byte { return f.bytes() }
	add(
		runCase{name: "trusted FRAME", in: tr4(tf).bytes(), act: xdpRedirect, counter: Trusted, out: delivered(peerA, nwid1)},
		runCase{name: "trusted FRAME over IPv6", in: tr6(trustedFrame(t, us, peerA, nwid1, trustID6)).bytes(), act: xdpRedirect, counter: Trusted, out: delivered(peerA, nwid1)},
		runCase{name: "trusted FRAME in a VLAN", in: frameVia(func() udpFrame { f := tr4(tf); f.vlan = 100; return f }()), act: xdpRedirect, counter: Trusted, out: delivered(peerA, nwid1)},
		runCase{name: "trusted FRAME with a trailer", in: frameVia(func() udpFrame { f := tr4(tf); f.trailer = make([]byte, 4); return f }()), act: xdpRedirect, counter: Trusted, out: delivered(peerA, nwid1)},
		runCase{name: "trusted FRAME, MAC octet 0x52", in: tr4(trustedFrame(t, us, peerB, nwid2, trustID)).bytes(), act: xdpRedirect, counter: Trusted, out: delivered(peerB, nwid2), check: func(t *testing.T, out []byte) {
			if out[0] != 0x32 || out[6] != 0x32 {
				t.Errorf("MACs %x, %x: want first octet 0x32", out[0:6], out[6:12])
			}
		}},
		runCase{name: "trusted FRAME, unknown network", in: tr4(trustedFrame(t, us, peerA, nwidNone, trustID)).bytes(), act: xdpPass, counter: PassNoNetwork},
		runCase{name: "trusted FRAME, wrong ID", in: tr4(trustedFrame(t, us, peerA, nwid1, trustID+1)).bytes(), act: xdpPass, counter: PassTrustedBadID},
		runCase{name: "trusted FRAME, IPv6 path's ID on IPv4", in: tr4(trustedFrame(t, us, peerA, nwid1, trustID6)).bytes(), act: xdpPass, counter: PassTrustedBadID},
		runCase{name: "suite 2 from an untrusted source", in: in4(tf).bytes(), act: xdpPass, counter: PassTrustedBadID},
		runCase{name: "suite 2 from an untrusted IPv6 source", in: in6(tf).bytes(), act: xdpPass, counter: PassTrustedBadID},
		runCase{name: "trusted fragmented FRAME", in: tr4(mutate(tf, func(b []byte) []byte { b[packet.IndexFlags] |= packet.FlagFragmented; return b })).bytes(), act: xdpPass, counter: PassTrustedOther},
		runCase{name: "trusted compressed FRAME", in: tr4(mutate(tf, func(b []byte) []byte { b[packet.IndexVerb] |= packet.VerbFlagCompressed; return b })).bytes(), act: xdpPass, counter: PassTrustedOther},
		runCase{name: "trusted FRAME from ourselves", in: tr4(trustedFrame(t, us, us, nwid1, trustID)).bytes(), act: xdpPass, counter: PassControl},
		runCase{name: "trusted EXT_FRAME", in: tr4(mutate(tf, func(b []byte) []byte { b[packet.IndexVerb] = byte(packet.VerbExtFrame); return b })).bytes(), act: xdpPass, counter: PassTrustedOther},
		runCase{name: "trusted ECHO", in: tr4(mutate(tf, func(b []byte) []byte { b[packet.IndexVerb] = byte(packet.VerbEcho); return b })).bytes(), act: xdpPass, counter: PassTrustedOther},
	)
	// Relaying.
	validOut := func(t *testing.T, out []byte) {
		t.Helper()
		var zt []byte
		switch binary.BigEndian.Uint16(out[12:]) {
		case etherIPv4:
			if !validIPv4Header(out[14:34]) {
				t.Errorf("bad IPv4 header checksum: % x", out[14:34])
			}
			zt = out[42:]
		case etherIPv6:
			src, _ := netip.AddrFromSlice(out[22:38])
			dst, _ := netip.AddrFromSlice(out[38:54])
			if !validUDPChecksum(src, dst, out[54:]) {
				t.Errorf("bad UDP checksum %x", out[60:62])
			}
			zt = out[62:]
		}
		if p := packet.Packet(zt); packet.Classify(zt) == packet.KindPacket && !p.Fragmented() && p.Cipher() != packet.SuiteTrustedPath {
			if err := relayKey.Dearmor(packet.Packet(bytes.Clone(zt))); err != nil {
				t.Errorf("relayed packet does not dearmor: %v", err)
			}
		}
	}
	add(
		runCase{name: "relay to IPv4", in: in4(toB).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, toB), check: validOut},
		runCase{name: "relay IPv6 to IPv4", in: in6(toB).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, toB), check: validOut},
		runCase{name: "relay to IPv6", in: in4(toC).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayC, toC), check: validOut},
		runCase{name: "relay IPv6 to IPv6", in: in6(toC).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayC, toC), check: validOut},
		runCase{name: "relay out of the ingress interface", in: in4(toD).bytes(), act: xdpTX, counter: RelayTX, out: relayed(relayD, toD), check: validOut},
		runCase{name: "relay from a VLAN", in: frameVia(func() udpFrame { f := in4(toB); f.vlan = 9; return f }()), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, toB), check: validOut},
		runCase{name: "relay with a trailer", in: frameVia(func() udpFrame { f := in6(toC); f.trailer = []byte{9, 9}; return f }()), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayC, toC), check: validOut},
		runCase{name: "relay suite 2 for another node", in: tr4(tfB).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, tfB), check: validOut},
		runCase{name: "relay at two hops", in: in4(armored(t, peerB, peerA, 50, 2)).bytes(), act: xdpRedirect, counter: RelayRedirect, check: func(t *testing.T, out []byte) {
			if h := out[42+packet.IndexFlags] & packet.HopsMask; h != 3 {
				t.Errorf("hops %d, want 3", h)
			}
			validOut(t, out)
		}},
		runCase{name: "relay hop limit", in: in4(armored(t, peerB, peerA, 50, packet.RelayMaxHops)).bytes(), act: xdpPass, counter: PassHops},
		runCase{name: "relay hop limit, 7", in: in4(armored(t, peerB, peerA, 50, packet.MaxHops)).bytes(), act: xdpPass, counter: PassHops},
		runCase{name: "relay without a pair", in: in4(armored(t, peerE, peerA, 50, 0)).bytes(), act: xdpPass, counter: PassNoPair},
		runCase{name: "relay, pair the other way", in: in4(armored(t, peerA, peerB, 50, 0)).bytes(), act: xdpPass, counter: PassNoRoute},
		runCase{name: "relay of our own packet", in: in4(armored(t, peerB, us, 50, 0)).bytes(), act: xdpPass, counter: PassNoPair},
		runCase{name: "relay to an unknown node", in: in4(armored(t, peerF, peerA, 50, 0)).bytes(), act: xdpPass, counter: PassNoRoute},
		runCase{name: "relay to IPv6 without a UDP checksum", in: func() []byte { f := in4(toC); f.noCsum = true; return f.bytes() }(), act: xdpPass, counter: PassNoChecksum},
		runCase{name: "relay to IPv4 without a UDP checksum", in: func() []byte { f := in4(toB); f.noCsum = true; return f.bytes() }(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, toB)},
		runCase{name: "relay fragmented head", in: in4(frags[0]).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, frags[0]), check: validOut},
		runCase{name: "relay fragment", in: in4(frags[1]).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, frags[1]), check: validOut},
		runCase{name: "relay last fragment over IPv6", in: in6(frags[len(frags)-1]).bytes(), act: xdpRedirect, counter: RelayRedirect, out: relayed(relayB, frags[len(frags)-1]), check: validOut},
		runCase{name: "relay fragment of an unpaired node", in: in4(fragments(t, peerE, peerF)[1]).bytes(), act: xdpRedirect, counter: RelayRedirect},
		runCase{name: "relay fragment hop limit", in: in4(mutate(frags[1], func(b []byte) []byte { b[packet.FragIndexHops] = packet.RelayMaxHops; return b })).bytes(), act: xdpPass, counter: PassHops},
		runCase{name: "relay fragment to an unknown node", in: in4(fragments(t, peerF, peerA)[1]).bytes(), act: xdpPass, counter: PassNoRoute},
	)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before, err := x.Counters()
			if err != nil {
				t.Fatal(err)
			}
			act, out := run(t, x, c.in)
			if act != c.act {
				t.Errorf("action %d, want %d", act, c.act)
			}
			want := c.out
			if want == nil && c.act == xdpPass {
				want = c.in
			}
			if want != nil && !bytes.Equal(out, want) {
				t.Errorf("output\n% x\nwant\n% x", out, want)
			}
			if c.check != nil {
				c.check(t, out)
			}
			after, err := x.Counters()
			if err != nil {
				t.Fatal(err)
			}
			for i := range after {
				dp, db := after[i].Packets-before[i].Packets, after[i].Bytes-before[i].Bytes
				wp, wb := uint64(0), uint64(0)
				if Counter(i) == c.counter {
					wp, wb = 1, uint64(len(c.in))
				}
				if dp != wp || db != wb {
					t.Errorf("counter %v: +%d packets, +%d bytes; want +%d, +%d", Counter(i), dp, db, wp, wb)
				}
			}
		})
	}

	// Every counter but PassError (TestRunChangedMaps) has had its case.
	total, err := x.Counters()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range total {
		if Counter(i) != PassError && v.Packets == 0 {
			t.Errorf("no case for counter %v", Counter(i))
		}
	}

	pairs, err := x.Pairs()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs {
		if p.Source == peerA && (p.Dest == peerB || p.Dest == peerC || p.Dest == peerD) && p.LastRelayed == 0 {
			t.Errorf("pair %v→%v relayed but LastRelayed is 0", p.Source, p.Dest)
		}
	}
	if len(pairs) != 3 {
		t.Errorf("%d pairs, want 3", len(pairs))
	}
}

// TestRunChangedMaps checks that the program follows its maps: entries
// deleted, ports replaced, the address cleared.
func TestRunChangedMaps(t *testing.T) {
	x := newTestXDP(t)
	tf := tr4(trustedFrame(t, us, peerA, nwid1, trustID)).bytes()
	toB := in4(armored(t, peerB, peerA, 100, 0)).bytes()
	steps := []struct {
		name   string
		change func() error
		in     []byte
		act    uint32
	}{
		{"trusted", nil, tf, xdpRedirect},
		{"relayed", nil, toB, xdpRedirect},
		{"network deleted", func() error { return x.DeleteNetwork(nwid1) }, tf, xdpPass},
		{"network back", func() error { return x.SetNetwork(nwid1, net1If) }, tf, xdpRedirect},
		{"trusted path deleted", func() error { return x.DeleteTrustedPath(trusted4) }, tf, xdpPass},
		{"trusted path back", func() error { return x.SetTrustedPath(trusted4, trustID) }, tf, xdpRedirect},
		{"pair deleted", func() error { return x.DeletePair(peerA, peerB) }, toB, xdpPass},
		{"pair back", func() error { return x.SetPair(peerA, peerB) }, toB, xdpRedirect},
		{"relay deleted", func() error { return x.DeleteRelay(peerB) }, toB, xdpPass},
		{"relay back", func() error { return x.SetRelay(peerB, relayB) }, toB, xdpRedirect},
		{"port gone", func() error { return x.SetPorts(19993) }, tf, xdpPass},
		{"port back", func() error { return x.SetPorts(9993) }, tf, xdpRedirect},
		{"address cleared", func() error { return x.SetAddress(0) }, tf, xdpPass},
		{"address back", func() error { return x.SetAddress(us) }, tf, xdpRedirect},
		{"relay path of no family", func() error {
			k := addrKey(peerB)
			return x.objs.Relays.Put(&k, &ztxRelayPath{Ifindex: relayIf, Family: 5})
		}, toB, xdpPass},
	}
	for _, s := range steps {
		if s.change != nil {
			if err := s.change(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		if act, _ := run(t, x, s.in); act != s.act {
			t.Errorf("%s: action %d, want %d", s.name, act, s.act)
		}
	}
	c, err := x.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c[PassError].Packets != 1 {
		t.Errorf("pass_error counted %d, want 1", c[PassError].Packets)
	}
}

func TestSettersValidate(t *testing.T) {
	x := newTestXDP(t)
	bad := []struct {
		name string
		err  error
	}{
		{"trusted path ID 0", x.SetTrustedPath(trusted4, 0)},
		{"trusted /0", x.SetTrustedPath(netip.MustParsePrefix("0.0.0.0/0"), 1)},
		{"trusted ::/0", x.SetTrustedPath(netip.MustParsePrefix("::/0"), 1)},
		{"trusted invalid prefix", x.SetTrustedPath(netip.Prefix{}, 1)},
		{"network ifindex 0", x.SetNetwork(nwid1, 0)},
		{"port 0", x.SetPorts(0)},
		{"too many ports", x.SetPorts(make([]uint16, 17)...)},
		{"relay ifindex 0", x.SetRelay(peerB, RelayPath{Src: relayB.Src, Dst: relayB.Dst, SrcMAC: relayB.SrcMAC, DstMAC: relayB.DstMAC})},
		{"relay mixed families", x.SetRelay(peerB, RelayPath{Ifindex: 1, Src: relayB.Src, Dst: relayC.Dst, SrcMAC: relayB.SrcMAC, DstMAC: relayB.DstMAC})},
		{"relay port 0", x.SetRelay(peerB, RelayPath{Ifindex: 1, Src: relayB.Src, Dst: netip.AddrPortFrom(relayB.Dst.Addr(), 0), SrcMAC: relayB.SrcMAC, DstMAC: relayB.DstMAC})},
		{"relay short MAC", x.SetRelay(peerB, RelayPath{Ifindex: 1, Src: relayB.Src, Dst: relayB.Dst, SrcMAC: net.HardwareAddr{1, 2}, DstMAC: relayB.DstMAC})},
	}
	for _, b := range bad {
		if b.err == nil {
			t.Errorf("%s: no error", b.name)
		}
	}
	// A v4-mapped relay path is IPv4.
	mapped := relayB
	mapped.Dst = netip.AddrPortFrom(netip.AddrFrom16(relayB.Dst.Addr().As16()), relayB.Dst.Port())
	if err := x.SetRelay(peerB, mapped); err != nil {
		t.Fatal(err)
	}
	in := armored(t, peerB, peerA, 40, 0)
	if act, out := run(t, x, in4(in).bytes()); act != xdpRedirect || !bytes.Equal(out, relayed(relayB, in)) {
		t.Errorf("v4-mapped relay path: action %d, output % x", act, out)
	}
	// SetPair keeps an existing pair.
	if err := x.SetPair(peerA, peerB); err != nil {
		t.Fatal(err)
	}
}

func TestClosed(t *testing.T) {
	x := newTestXDP(t)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for name, err := range map[string]error{
		"SetAddress": x.SetAddress(us),
		"SetPorts":   x.SetPorts(1),
		"SetPair":    x.SetPair(peerA, peerB),
		"SetRelay":   x.SetRelay(peerB, relayB),
		"Counters": func() error {
			_, err := x.Counters()
			return err
		}(),
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: %v", name, err)
		}
	}
}

// BenchmarkRun measures the program per frame, in the kernel's test-run
// loop, on the paths that leave a frame as it is (the loop does not reset
// the frame between runs, so a rewritten frame would be measured on its
// next path instead).
func BenchmarkRun(b *testing.B) {
	x := newTestXDP(b)
	for _, c := range []struct {
		name string
		in   []byte
	}{
		{"pass-non-zt", udpFrame{dstMAC: ourMAC, srcMAC: peerMAC, src: from4, dst: netip.AddrPortFrom(node4.Addr(), 53), payload: make([]byte, 1400)}.bytes()},
		{"pass-control", in4(armored(b, us, peerA, 1400, 0)).bytes()},
		{"pass-no-pair", in4(armored(b, peerE, peerA, 1400, 0)).bytes()},
		{"pass-trusted-bad-id", tr4(trustedFrame(b, us, peerA, nwid1, trustID+1)).bytes()},
	} {
		b.Run(c.name, func(b *testing.B) {
			_, per, err := x.objs.ZtxXdp.Benchmark(c.in, b.N, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(per.Nanoseconds()), "ns/frame")
		})
	}
}

func ExampleCounter_String() {
	fmt.Println(PassNoPair, RelayTX)
	// Output: pass_no_pair relay_tx
}
