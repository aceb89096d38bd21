package verbs

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/crypto/salsa"
)

const (
	rootAddr = "f737c19395" // planet root and controller
	nodeA    = "afee230b1a"
	nodeB    = "2e57b20512"
	testNWID = NetworkID(0xf737c19395000001)
)

// underlay maps node addresses to their 10.77.0.x addresses in the capture.
var underlay = map[string]string{rootAddr: "10.77.0.1", nodeA: "10.77.0.2", nodeB: "10.77.0.3"}

func decodeAs[T any](t *testing.T, p capturedPacket) T {
	t.Helper()
	v, err := Decode(p.Verb, p.Payload)
	if err != nil {
		t.Fatalf("#%d: %v", p.Index, err)
	}
	x, ok := v.(T)
	if !ok {
		t.Fatalf("#%d: decoded %T", p.Index, v)
	}
	return x
}

func byVerb(pkts []capturedPacket, verb byte) []capturedPacket {
	var out []capturedPacket
	for _, p := range pkts {
		if p.Verb == verb {
			out = append(out, p)
		}
	}
	return out
}

func loadIdentity(t *testing.T, name string) *identity.Identity {
	t.Helper()
	b, err := os.ReadFile("../../testdata/session1/" + name)
	if err != nil {
		t.Fatal(err)
	}
	id, err := identity.Parse(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestCaptureHello(t *testing.T) {
	pkts, keys := loadCapture(t)
	hellos := byVerb(pkts, verbHello)
	if len(hellos) != 11 {
		t.Fatalf("%d HELLOs", len(hellos))
	}
	for _, p := range hellos {
		h := decodeAs[Hello](t, p)
		if h.Protocol != 12 || h.Major != 1 || h.Minor != 14 || h.Revision != 1 {
			t.Errorf("#%d: protocol %d version %d.%d.%d", p.Index, h.Protocol, h.Major, h.Minor, h.Revision)
		}
		if h.Identity.Address.String() != p.SrcZT {
			t.Errorf("#%d: identity %s, source %s", p.Index, h.Identity.Address, p.SrcZT)
		}
		if !h.HasDestination || h.Destination.String() != p.DstUDP {
			t.Errorf("#%d: destination %v, sent to %s", p.Index, h.Destination, p.DstUDP)
		}
		if !h.HasPlanet || h.PlanetID != 0x7a7a0001 || h.PlanetTimestamp == 0 {
			t.Errorf("#%d: planet %v %s@%d", p.Index, h.HasPlanet, h.PlanetID, h.PlanetTimestamp)
		}
		off, err := HelloCryptOffset(p.Payload)
		if err != nil || off != 107 || h.CryptOffset() != 107 || len(h.Sealed) != 2 {
			t.Fatalf("#%d: crypt offset %d/%d (%v), sealed %d bytes", p.Index, off, h.CryptOffset(), err, len(h.Sealed))
		}

		// Decrypt the moon region as the packet layer does (PROTOCOL.md part 1 §4.6).
		shared := sharedKey(t, keys, p.SrcZT, p.DstZT)
		var key [32]byte
		copy(key[:], shared)
		iv, _ := hex.DecodeString(p.PacketID)
		iv[7] &= 0xf8
		plain := bytes.Clone(p.Payload)
		salsa.New(&key, iv, 12).XORKeyStream(plain[off:], plain[off:])
		if err := h.OpenMoons(plain[off:]); err != nil {
			t.Fatalf("#%d: OpenMoons: %v", p.Index, err)
		}
		if !h.HasMoons || len(h.Moons) != 0 || h.Sealed != nil {
			t.Errorf("#%d: moons %v %v sealed %x", p.Index, h.HasMoons, h.Moons, h.Sealed)
		}
		if got := h.AppendMarshal(nil); !bytes.Equal(got, plain) {
			t.Errorf("#%d: plaintext HELLO re-marshal\n got %x\nwant %x", p.Index, got, plain)
		}
	}
	h := decodeAs[Hello](t, hellos[0])
	want := "HELLO proto=12 v1.14.1 ts=1795582951095 id=afee230b1a to=10.77.0.1/9993 planet=000000007a7a0001@1795582880944 moons=sealed(2 bytes)"
	if h.String() != want {
		t.Errorf("String:\n got %s\nwant %s", h, want)
	}
	js, _ := json.Marshal(h)
	for _, frag := range []string{`"version":"1.14.1"`, `"address":"afee230b1a"`, `"destination":"10.77.0.1/9993"`,
		`"planetId":"000000007a7a0001"`, `"cryptOffset":107`} {
		if !strings.Contains(string(js), frag) {
			t.Errorf("JSON %s lacks %s", js, frag)
		}
	}
}

func TestCaptureOKHello(t *testing.T) {
	pkts, _ := loadCapture(t)
	helloTS := map[string]uint64{} // HELLO packet ID -> timestamp
	for _, p := range byVerb(pkts, verbHello) {
		helloTS[p.PacketID] = decodeAs[Hello](t, p).Timestamp
	}
	n := 0
	for _, p := range byVerb(pkts, verbOK) {
		ok := decodeAs[OK](t, p)
		if ok.InReVerb != verbHello {
			continue
		}
		n++
		b := ok.Body.(OKHello)
		ts, found := helloTS[ok.InRePacketID.String()]
		if !found || ts != b.Timestamp {
			t.Errorf("#%d: OK(HELLO) in re %s ts %d, HELLO ts %d (found %v)", p.Index, ok.InRePacketID, b.Timestamp, ts, found)
		}
		if b.Protocol != 12 || b.Major != 1 || b.Minor != 14 || b.Revision != 1 {
			t.Errorf("#%d: version %d %d.%d.%d", p.Index, b.Protocol, b.Major, b.Minor, b.Revision)
		}
		if !b.HasReportedAddress || b.ReportedAddress.String() != p.DstUDP {
			t.Errorf("#%d: reported %v, HELLO sender %s", p.Index, b.ReportedAddress, p.DstUDP)
		}
		if !b.HasWorlds || len(b.Worlds) != 0 {
			t.Errorf("#%d: worlds %v %x", p.Index, b.HasWorlds, b.Worlds)
		}
	}
	if n != 10 {
		t.Errorf("%d OK(HELLO), want 10", n)
	}
}

func TestCaptureWhois(t *testing.T) {
	pkts, _ := loadCapture(t)
	ids := map[string]*identity.Identity{
		rootAddr: loadIdentity(t, "id1.public"), nodeA: loadIdentity(t, "id2.public"), nodeB: loadIdentity(t, "id3.public"),
	}
	asked := map[string]string{} // WHOIS packet ID -> address asked
	for _, p := range byVerb(pkts, verbWhois) {
		w := decodeAs[Whois](t, p)
		if len(w.Addresses) != 1 || len(w.Trailing) != 0 || ids[w.Addresses[0].String()] == nil {
			t.Fatalf("#%d: WHOIS %v", p.Index, w)
		}
		asked[p.PacketID] = w.Addresses[0].String()
	}
	n := 0
	for _, p := range byVerb(pkts, verbOK) {
		ok := decodeAs[OK](t, p)
		if ok.InReVerb != verbWhois {
			continue
		}
		n++
		body := ok.Body.(OKWhois)
		want := asked[ok.InRePacketID.String()]
		if len(body.Identities) != 1 || body.Identities[0].Address.String() != want ||
			!body.Identities[0].Equal(ids[want]) || body.Identities[0].Private != nil {
			t.Errorf("#%d: OK(WHOIS) %v, asked for %q", p.Index, body, want)
		}
	}
	if n != 21 {
		t.Errorf("%d OK(WHOIS), want 21", n)
	}
}

func TestCaptureError(t *testing.T) {
	pkts, _ := loadCapture(t)
	errs := byVerb(pkts, verbError)
	if len(errs) != 3 {
		t.Fatalf("%d ERRORs", len(errs))
	}
	for _, p := range errs {
		e := decodeAs[Error](t, p)
		if e.InReVerb != verbNetworkConfigRequest || e.Code != ErrorNetworkAccessDenied ||
			!e.HasNetworkID || e.NetworkID != testNWID || e.HasData || e.HasGroup || e.Trailing != nil {
			t.Errorf("#%d: %v", p.Index, e)
		}
		if !strings.Contains(e.String(), "code=NETWORK_ACCESS_DENIED nwid=f737c19395000001") {
			t.Errorf("#%d: String %q", p.Index, e)
		}
	}
}

func TestCaptureRendezvous(t *testing.T) {
	pkts, _ := loadCapture(t)
	rs := byVerb(pkts, verbRendezvous)
	if len(rs) != 2 {
		t.Fatalf("%d RENDEZVOUS", len(rs))
	}
	for _, p := range rs {
		r := decodeAs[Rendezvous](t, p)
		peer := r.Peer.String()
		if p.SrcZT != rootAddr || peer == p.DstZT || underlay[peer] == "" || peer == rootAddr {
			t.Errorf("#%d: %s -> %s names %s", p.Index, p.SrcZT, p.DstZT, peer)
		}
		if r.Endpoint != netip.MustParseAddrPort(underlay[peer]+":9993") || r.Flags != 0 {
			t.Errorf("#%d: %v", p.Index, r)
		}
	}
}

func TestCaptureMulticastLike(t *testing.T) {
	pkts, _ := loadCapture(t)
	groups := map[string]bool{}
	for _, p := range byVerb(pkts, verbMulticastLike) {
		for _, g := range decodeAs[MulticastLike](t, p).Groups {
			if g.NetworkID != testNWID {
				t.Errorf("#%d: network %s", p.Index, g.NetworkID)
			}
			groups[g.Group.String()] = true
		}
	}
	for _, g := range []string{
		"01:00:5e:00:00:01/00000000", // IPv4 all-hosts
		"33:33:00:00:00:01/00000000", // IPv6 all-nodes
		"ff:ff:ff:ff:ff:ff/00000000", // broadcast
		"ff:ff:ff:ff:ff:ff/0a4e000b", // ARP for 10.78.0.11 (A)
		"ff:ff:ff:ff:ff:ff/0a4e000c", // ARP for 10.78.0.12 (B)
	} {
		if !groups[g] {
			t.Errorf("group %s not announced (have %v)", g, groups)
		}
	}
}

func TestCaptureFrames(t *testing.T) {
	pkts, _ := loadCapture(t)
	var udp []string
	for _, p := range byVerb(pkts, verbFrame) {
		f := decodeAs[Frame](t, p)
		if f.NetworkID != testNWID {
			t.Errorf("#%d: network %s", p.Index, f.NetworkID)
		}
		if f.EtherType != 0x0800 || len(f.Data) < 28 || f.Data[9] != 17 {
			continue
		}
		ihl := int(f.Data[0]&0x0f) * 4
		udp = append(udp, string(f.Data[ihl+8:]))
	}
	want := []string{"zta test vector udp payload 1", "zta test vector udp payload 2", "zta test vector udp payload 3"}
	for _, w := range want {
		found := false
		for _, u := range udp {
			found = found || strings.TrimRight(u, "\n") == w
		}
		if !found {
			t.Errorf("no FRAME carries UDP payload %q (have %q)", w, udp)
		}
	}
}

func TestCaptureNetworkConfig(t *testing.T) {
	pkts, _ := loadCapture(t)
	controller := loadIdentity(t, "id1.public")
	for _, p := range byVerb(pkts, verbNetworkConfigRequest) {
		r := decodeAs[NetworkConfigRequest](t, p)
		if r.NetworkID != testNWID || !r.HasRevision || r.Trailing != nil ||
			!bytes.HasPrefix(r.Metadata, []byte("v=0000000000000007\nvend=")) {
			t.Errorf("#%d: %v %q", p.Index, r, r.Metadata)
		}
	}
	var chunks []ConfigChunk
	updates := map[string]uint64{} // NETWORK_CONFIG packet ID -> update ID
	for _, p := range pkts {
		v, _ := Decode(p.Verb, p.Payload)
		switch x := v.(type) {
		case ConfigChunk:
			chunks = append(chunks, x)
			updates[p.PacketID] = x.UpdateID
		case OK:
			if c, ok := x.Body.(ConfigChunk); ok {
				chunks = append(chunks, c)
			}
		}
	}
	if len(chunks) != 6 {
		t.Fatalf("%d config chunks, want 6", len(chunks))
	}
	for i, c := range chunks {
		if err := c.Check(484520); err != nil {
			t.Errorf("chunk %d: %v", i, err)
		}
		if c.NetworkID != testNWID || c.ChunkIndex != 0 || int(c.TotalLength) != len(c.Data) || c.UpdateID == 0 {
			t.Errorf("chunk %d: %v", i, c)
		}
		if !controller.Verify(c.AppendSignedMessage(nil), c.Signature) {
			t.Errorf("chunk %d: controller signature does not verify", i)
		}
		if !bytes.Contains(c.Data, []byte("nwid=f737c19395000001")) {
			t.Errorf("chunk %d: data %q", i, c.Data[:40])
		}
	}
	// Each complete NETWORK_CONFIG is acknowledged by OK(in-re ECHO): network ID + update ID.
	acks := 0
	for _, p := range byVerb(pkts, verbOK) {
		ok := decodeAs[OK](t, p)
		if ok.InReVerb != verbEcho {
			continue
		}
		acks++
		d := ok.Body.(OKEcho).Data
		upd, found := updates[ok.InRePacketID.String()]
		if len(d) != 16 || NetworkID(binary.BigEndian.Uint64(d)) != testNWID || !found ||
			binary.BigEndian.Uint64(d[8:]) != upd {
			t.Errorf("#%d: ack %x for update %x (found %v)", p.Index, d, upd, found)
		}
	}
	if acks != 4 {
		t.Errorf("%d config acks, want 4", acks)
	}
}

func TestCaptureMulticast(t *testing.T) {
	pkts, _ := loadCapture(t)
	arpB := MulticastGroup{MAC: MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ADI: 0x0a4e000c}
	for _, p := range byVerb(pkts, verbMulticastGather) {
		g := decodeAs[MulticastGather](t, p)
		if g.NetworkID != testNWID || g.Flags != GatherFlagCOM || g.Group != arpB || g.Limit != 33 ||
			len(g.COM) != 272 || g.Trailing != nil {
			t.Errorf("#%d: %v", p.Index, g)
		}
	}
	for _, p := range byVerb(pkts, verbMulticastFrame) {
		m := decodeAs[MulticastFrame](t, p)
		if m.NetworkID != testNWID || m.Flags != MulticastFlagGatherLimit || m.GatherLimit != 33 ||
			m.Group != arpB || m.EtherType != 0x0806 || len(m.Data) != 28 {
			t.Errorf("#%d: %v", p.Index, m)
		}
	}
	gathers, frames := 0, 0
	for _, p := range byVerb(pkts, verbOK) {
		ok := decodeAs[OK](t, p)
		var res GatherResults
		switch b := ok.Body.(type) {
		case OKMulticastGather:
			gathers++
			if b.NetworkID != testNWID || b.Group != arpB {
				t.Errorf("#%d: %v", p.Index, b)
			}
			res = b.Results
		case OKMulticastFrame:
			frames++
			if b.NetworkID != testNWID || b.Group != arpB || b.Flags != OKMulticastFlagGather || b.Results == nil {
				t.Fatalf("#%d: %v", p.Index, b)
			}
			res = *b.Results
		default:
			continue
		}
		if res.TotalKnown != 1 || len(res.Members) != 1 || res.Members[0].String() != nodeB {
			t.Errorf("#%d: results %v", p.Index, res)
		}
	}
	if gathers != 2 || frames != 2 {
		t.Errorf("%d OK(MULTICAST_GATHER), %d OK(MULTICAST_FRAME)", gathers, frames)
	}
}

func TestCapturePushDirectPaths(t *testing.T) {
	pkts, _ := loadCapture(t)
	for _, p := range byVerb(pkts, verbPushDirectPaths) {
		d := decodeAs[PushDirectPaths](t, p)
		want := netip.MustParseAddrPort(underlay[p.SrcZT] + ":9993")
		if len(d.Paths) != 2 || d.Trailing != nil {
			t.Fatalf("#%d: %v", p.Index, d)
		}
		for _, r := range d.Paths {
			if r.Flags != 0 || r.Extensions != nil || r.AddrType != PathAddrIPv4 || r.Raw != nil || r.Endpoint != want {
				t.Errorf("#%d: record %v, want %v", p.Index, r, want)
			}
		}
	}
}
