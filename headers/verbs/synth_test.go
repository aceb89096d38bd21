package verbs

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/ztx/ztx/crypto/identity"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSynthesized round-trips hand-built payloads of every verb and OK body the capture lacks,
// checking the wire bytes against the layouts of PROTOCOL.md and the decoded value.
func TestSynthesized(t *testing.T) {
	id := loadIdentity(t, "id2.public")
	idHex := hex.EncodeToString(id.AppendBinary(nil, false))
	nwid := "f737c19395000001"
	cases := []struct {
		name string
		verb byte
		wire string
		want Message
	}{
		{"nop", verbNop, "", Nop{}},
		{"echo", verbEcho, "deadbeefcafebabe", Echo{Data: unhex(t, "deadbeefcafebabe")}},
		{"echo empty", verbEcho, "", Echo{}},
		{"user message", verbUserMessage, "0000000000010000 6869", UserMessage{TypeID: 0x10000, Data: []byte("hi")}},
		{"ack", verbAck, "00000400", Ack{Data: unhex(t, "00000400")}},
		{"qos", verbQoSMeasurement, "0100000000000000 0500", QoSMeasurement{Data: unhex(t, "01000000000000000500")}},
		{"path negotiation", verbPathNegotiationRequest, "ff9c", PathNegotiationRequest{Data: unhex(t, "ff9c")}},
		{"remote trace", verbRemoteTrace, "613d62", RemoteTrace{Data: []byte("a=b")}},
		{"credentials", verbNetworkCredentials, "00", NetworkCredentials{Data: []byte{0}}},
		{"whois two + partial", verbWhois, "afee230b1a 2e57b20512 0102", Whois{
			Addresses: []identity.Address{0xafee230b1a, 0x2e57b20512}, Trailing: []byte{1, 2}}},
		{"rendezvous ipv6", verbRendezvous, "00 2e57b20512 2709 10 20010db8000000000000000000000001", Rendezvous{
			Peer: 0x2e57b20512, Endpoint: netip.MustParseAddrPort("[2001:db8::1]:9993")}},
		{"push paths v6, forget, unknown type", verbPushDirectPaths,
			"0003 00 0000 06 12 20010db8000000000000000000000002 2709" +
				"01 0002 abcd 04 06 c0000201 0035" +
				"00 0000 07 03 010203",
			PushDirectPaths{Paths: []PathRecord{
				{AddrType: 6, Endpoint: netip.MustParseAddrPort("[2001:db8::2]:9993")},
				{Flags: PathFlagForget, Extensions: unhex(t, "abcd"), AddrType: 4, Endpoint: netip.MustParseAddrPort("192.0.2.1:53")},
				{AddrType: 7, Raw: unhex(t, "010203")},
			}}},
		{"ext frame with COM and ack", verbExtFrame,
			nwid + "13" + "010000" + "0000000000" + "02afeeb698db 022e572796d3 86dd 6000",
			ExtFrame{NetworkID: testNWID, Flags: 0x13, COM: unhex(t, "0100000000000000"),
				Destination: MAC{2, 0xaf, 0xee, 0xb6, 0x98, 0xdb}, Source: MAC{2, 0x2e, 0x57, 0x27, 0x96, 0xd3},
				EtherType: 0x86dd, Data: unhex(t, "6000")}},
		{"multicast frame with source", verbMulticastFrame,
			nwid + "0c" + "022e572796d3" + "333300000001 00000000" + "86dd" + "60",
			MulticastFrame{NetworkID: testNWID, Flags: 0x0c, Source: MAC{2, 0x2e, 0x57, 0x27, 0x96, 0xd3},
				Group: MulticastGroup{MAC: MAC{0x33, 0x33, 0, 0, 0, 1}}, EtherType: 0x86dd, Data: []byte{0x60}}},
		{"gather without COM", verbMulticastGather, nwid + "00 ffffffffffff 0a4e000c 00000010",
			MulticastGather{NetworkID: testNWID, Group: MulticastGroup{MAC: MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ADI: 0x0a4e000c}, Limit: 16}},
		{"config request without revision", verbNetworkConfigRequest, nwid + "0003 763d37",
			NetworkConfigRequest{NetworkID: testNWID, Metadata: []byte("v=7")}},
		{"legacy config", verbNetworkConfig, nwid + "0003 613d62", ConfigChunk{NetworkID: testNWID, Data: []byte("a=b"), Legacy: true}},
		{"error collision", verbError, "01 0102030405060708 04", Error{InReVerb: verbHello, InRePacketID: 0x0102030405060708, Code: ErrorIdentityCollision}},
		{"error unwanted multicast", verbError, "0e 0000000000000001 08" + nwid + "ffffffffffff 0a4e000c",
			Error{InReVerb: verbMulticastFrame, InRePacketID: 1, Code: ErrorUnwantedMulticast, HasNetworkID: true,
				NetworkID: testNWID, HasGroup: true, Group: MulticastGroup{MAC: MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, ADI: 0x0a4e000c}}},
		{"error auth required", verbError, "0b 0000000000000002 09" + nwid + "0005 61563d310a",
			Error{InReVerb: verbNetworkConfigRequest, InRePacketID: 2, Code: ErrorNetworkAuthenticationRequired,
				HasNetworkID: true, NetworkID: testNWID, HasData: true, Data: []byte("aV=1\n")}},
		{"error auth required, bad length", verbError, "0b 0000000000000002 09" + nwid + "0009 6156",
			Error{InReVerb: verbNetworkConfigRequest, InRePacketID: 2, Code: ErrorNetworkAuthenticationRequired,
				HasNetworkID: true, NetworkID: testNWID, Trailing: unhex(t, "00096156")}},
		{"error need certificate, short", verbError, "06 0000000000000003 06 f737", Error{
			InReVerb: verbFrame, InRePacketID: 3, Code: ErrorNeedMembershipCertificate, Trailing: unhex(t, "f737")}},
		{"ok ext frame", verbOK, "07 0000000000000004" + nwid, OK{InReVerb: verbExtFrame, InRePacketID: 4,
			Body: OKExtFrame{NetworkID: testNWID}}},
		{"ok echo", verbOK, "08 0000000000000005 0102", OK{InReVerb: verbEcho, InRePacketID: 5, Body: OKEcho{Data: []byte{1, 2}}}},
		{"ok untyped", verbOK, "12 0000000000000006 09", OK{InReVerb: verbAck, InRePacketID: 6, Body: OKRaw{Data: []byte{9}}}},
		{"ok hello with worlds", verbOK, "01 0000000000000007 0000019000000000 0c 01 0e 0001 06 20010db8000000000000000000000003 2709 0003 7f0102",
			OK{InReVerb: verbHello, InRePacketID: 7, Body: OKHello{Timestamp: 0x19000000000, Protocol: 12, Major: 1, Minor: 14, Revision: 1,
				HasReportedAddress: true, ReportedAddress: netip.MustParseAddrPort("[2001:db8::3]:9993"),
				HasWorlds: true, Worlds: unhex(t, "7f0102")}}},
		{"ok hello, old responder", verbOK, "01 0000000000000008 0000019000000000 0b 01 02 0003",
			OK{InReVerb: verbHello, InRePacketID: 8, Body: OKHello{Timestamp: 0x19000000000, Protocol: 11, Major: 1, Minor: 2, Revision: 3}}},
		{"ok whois two", verbOK, "04 0000000000000009" + idHex + idHex + "ff",
			OK{InReVerb: verbWhois, InRePacketID: 9, Body: OKWhois{Identities: []*identity.Identity{id, id}, Trailing: []byte{0xff}}}},
		{"ok multicast frame, COM and no results", verbOK, "0e 000000000000000a" + nwid + "ffffffffffff 00000000 01 010000 0000000000",
			OK{InReVerb: verbMulticastFrame, InRePacketID: 10, Body: OKMulticastFrame{NetworkID: testNWID,
				Group: MulticastGroup{MAC: MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, Flags: 1, COM: unhex(t, "0100000000000000")}}},
		{"hello minimal (old sender)", verbHello, "0b 01 02 0003 0000000000000001" + idHex,
			Hello{Protocol: 11, Major: 1, Minor: 2, Revision: 3, Timestamp: 1, Identity: id}},
		{"hello short region, no planet", verbHello, "0c 01 0e 0001 0000000000000001" + idHex + "00 abcd",
			Hello{Protocol: 12, Major: 1, Minor: 14, Revision: 1, Timestamp: 1, Identity: id, HasDestination: true,
				Sealed: unhex(t, "abcd")}},
		{"unknown verb", 0x1e, "01", Unknown{Number: 0x1e, Data: []byte{1}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wire := unhex(t, c.wire)
			got := checkRoundTrip(t, c.verb, wire)
			if !reflect.DeepEqual(normalize(got), normalize(c.want)) {
				t.Errorf("decoded\n %#v\nwant\n %#v", got, c.want)
			}
			if m := c.want.AppendMarshal(nil); !bytes.Equal(m, wire) {
				t.Errorf("marshal of the expected value\n got %x\nwant %x", m, wire)
			}
		})
	}
}

// normalize makes nil and empty byte slices compare equal by round-tripping through JSON.
func normalize(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func TestHelloMoons(t *testing.T) {
	id := loadIdentity(t, "id3.public")
	h := Hello{Protocol: 12, Major: 1, Minor: 14, Revision: 1, Timestamp: 42, Identity: id,
		HasDestination: true, Destination: netip.MustParseAddrPort("10.77.0.1:9993"),
		HasPlanet: true, PlanetID: 0x7a7a0001, PlanetTimestamp: 7,
		HasMoons: true, Moons: []MoonRef{{Type: MoonTypeMoon, ID: 0xdeadbeef00, Timestamp: 0}, {Type: 1, ID: 2, Timestamp: 3}}}
	b := h.AppendMarshal(nil)
	off := h.CryptOffset()
	if off != 13+71+7+16 || len(b) != off+2+2*moonRefLength {
		t.Fatalf("offset %d, length %d", off, len(b))
	}
	if got, err := HelloCryptOffset(b); err != nil || got != off {
		t.Fatalf("HelloCryptOffset = %d, %v", got, err)
	}
	p, err := ParseHello(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(p.Sealed, b[off:]) {
		t.Fatalf("sealed %x", p.Sealed)
	}
	if err := p.OpenMoons(p.Sealed); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Moons, h.Moons) || !p.HasMoons || p.Sealed != nil {
		t.Fatalf("moons %+v", p.Moons)
	}
	if !strings.Contains(p.String(), "moons=2 000000deadbeef00@0") {
		t.Errorf("String %q", p)
	}
	if err := p.OpenMoons(unhex(t, "0002 7f0000000000000001 00")); !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated moon list: %v", err)
	}
	if err := p.OpenMoons([]byte{9}); err != nil || p.HasMoons || !bytes.Equal(p.MoonTrailing, []byte{9}) {
		t.Errorf("1-byte region: %v %v %x", err, p.HasMoons, p.MoonTrailing)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		verb byte
		wire string
		want error
	}{
		{verbHello, "0c010e", ErrTruncated},
		{verbOK, "01000000", ErrTruncated},
		{verbOK, "0b0000000000000001 f737c19395000001 0010 00", ErrTruncated},
		{verbOK, "0b0000000000000001 f737c19395000001 0001 00 00", ErrTruncated},
		{verbError, "0b", ErrTruncated},
		{verbRendezvous, "00 2e57b20512 2709 05 0102030405", ErrInvalid},
		{verbPushDirectPaths, "0002 00000004060a4d00032709", ErrTruncated},
		{verbFrame, "f737c19395", ErrTruncated},
		{verbExtFrame, "f737c19395000001 01 020000", ErrInvalid},
		{verbExtFrame, "f737c19395000001 01 010009", ErrInvalid},
		{verbExtFrame, "f737c19395000001 01 010000 0000000001", ErrTruncated},
		{verbMulticastGather, "f737c19395000001 00 ffffffffffff", ErrTruncated},
		{verbUserMessage, "01", ErrTruncated},
		{verbNetworkConfigRequest, "f737c19395000001 00", ErrTruncated},
	}
	for _, c := range cases {
		v, err := Decode(c.verb, unhex(t, c.wire))
		if !errors.Is(err, c.want) || v != nil {
			t.Errorf("Decode(%s, %s) = %v, %v; want %v", verbName(c.verb), c.wire, v, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "verbs: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
	if _, err := ParseOKWhois(unhex(t, "0000000000")); err == nil {
		t.Error("OK(WHOIS) without an identity parsed")
	}
}

func TestHelpers(t *testing.T) {
	q := QoSMeasurement{Data: unhex(t, "0100000000000000 0500 0200000000000000 0600 ff")}
	if r := q.Records(); len(r) != 2 || r[0] != (QoSRecord{1, 5}) || r[1] != (QoSRecord{2, 6}) {
		t.Errorf("QoS records %v", r)
	}
	if u, ok := (PathNegotiationRequest{Data: unhex(t, "ff9c")}).Utility(); !ok || u != -100 {
		t.Errorf("utility %d %v", u, ok)
	}
	if n, ok := (Ack{Data: unhex(t, "00000400")}).Bytes(); !ok || n != 1024 {
		t.Errorf("ack %d %v", n, ok)
	}
	f := ExtFrame{Flags: 0x0c | ExtFrameFlagAck}
	if f.Subtype() != ExtFrameSubtypeWatchInbound || !f.AckRequested() {
		t.Errorf("subtype %d ack %v", f.Subtype(), f.AckRequested())
	}
	k := ConfigChunk{Signature: make([]byte, 96)}
	k.Signature[0], k.Signature[8], k.Signature[15] = 0x0f, 0xf0, 0x01
	if k.ChunkID() != 0xff00000000000001 {
		t.Errorf("chunk ID %016x", k.ChunkID())
	}
	k.SignatureType, k.TotalLength, k.Data = 1, 3, []byte("abcd")
	if err := k.Check(0); !errors.Is(err, ErrInvalid) {
		t.Errorf("oversized chunk passed Check: %v", err)
	}
	if ErrorCode(0x42).String() != "0x42" || ErrorNetworkAccessDenied.String() != "NETWORK_ACCESS_DENIED" {
		t.Error("error code names")
	}
	js, err := json.Marshal(OK{InReVerb: verbWhois, InRePacketID: 1, Body: OKWhois{Identities: []*identity.Identity{loadIdentity(t, "id1.public")}}})
	if err != nil || !strings.Contains(string(js), `"inReVerb":"WHOIS","inRePacketId":"0000000000000001","body":{"identities":[{"address":"f737c19395","identity":"f737c19395:0:`) {
		t.Errorf("OK(WHOIS) JSON %s %v", js, err)
	}
	js, _ = json.Marshal(Rendezvous{Peer: 0x2e57b20512, Endpoint: netip.MustParseAddrPort("10.77.0.3:9993")})
	if string(js) != `{"flags":0,"peer":"2e57b20512","endpoint":"10.77.0.3/9993"}` {
		t.Errorf("RENDEZVOUS JSON %s", js)
	}
}
