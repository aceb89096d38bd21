package wiredecode

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/headers/verbs"
	"github.com/ztx/ztx/internal/testvec"
)

func sessionIdentities(tb testing.TB) []*identity.Identity {
	tb.Helper()
	var ids []*identity.Identity
	for _, n := range []string{"id1", "id2", "id3"} {
		b, err := os.ReadFile(testvec.MustPath(tb, "session1", n+".secret"))
		if err != nil {
			tb.Fatal(err)
		}
		id, err := identity.ParseFile(b)
		if err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestDecodeSessionEntries(t *testing.T) {
	sess := testvec.MustSession(t)
	d := New(sessionIdentities(t)...)
	for _, e := range sess.Entries {
		r := d.Decode(Datagram{Frame: e.Index, Time: time.Unix(0, 0).Add(e.Time), Src: e.Src, Dst: e.Dst, Payload: e.Wire})
		if e.ZeroTier && (r.Auth != AuthOK || r.VerbNumber != int(e.Verb)) {
			t.Fatalf("#%d: auth %s verb %d error %q", e.Index, r.Auth, r.VerbNumber, r.Error)
		}
	}
	if d.Stats.Authenticated != 136 {
		t.Fatalf("stats %+v", d.Stats)
	}
}

// FuzzDecode feeds arbitrary datagrams to a decoder that holds every key
// of the session: it must never panic, and counts must add up.
func FuzzDecode(f *testing.F) {
	for _, e := range testvec.MustSession(f).Entries {
		f.Add(e.Wire)
	}
	ids := sessionIdentities(f)
	src, dst := netip.MustParseAddrPort("10.0.0.1:9993"), netip.MustParseAddrPort("10.0.0.2:9993")
	f.Fuzz(func(t *testing.T, b []byte) {
		d := New(ids...)
		for i := range 3 { // a second and third copy exercise reassembly state
			d.Decode(Datagram{Frame: i + 1, Time: time.UnixMilli(int64(i)), Src: src, Dst: dst, Payload: b})
		}
		s := d.Stats
		if s.Authenticated+s.Failed+s.NoKey > s.Packets {
			t.Fatalf("stats do not add up: %+v", s)
		}
	})
}

// armored builds a suite-3 packet from src to dst with the given payload.
func armored(t *testing.T, src, dst *identity.Identity, verb packet.Verb, payload []byte) []byte {
	t.Helper()
	shared, err := src.Agree(dst)
	if err != nil {
		t.Fatal(err)
	}
	k, err := packet.NewKey(&shared)
	if err != nil {
		t.Fatal(err)
	}
	pkt := packet.New(dst.Address, src.Address, verb).AppendPayload(payload...)
	if err := k.Armor(pkt, packet.SuiteAESGMACSIV); err != nil {
		t.Fatal(err)
	}
	return pkt
}

func TestDetails(t *testing.T) {
	ids := sessionIdentities(t)
	root, member := ids[0], ids[1]
	planet, err := os.ReadFile(testvec.MustPath(t, "session1", "planet.bin"))
	if err != nil {
		t.Fatal(err)
	}
	ok := verbs.OK{InReVerb: byte(packet.VerbHello), InRePacketID: 1, Body: verbs.OKHello{
		Timestamp: 5, Protocol: 12, Major: 1, Minor: 14, Revision: 1,
		HasReportedAddress: true, ReportedAddress: netip.MustParseAddrPort("10.0.0.2:9993"),
		HasWorlds: true, Worlds: append(append([]byte(nil), planet...), planet...),
	}}
	d := New(root, member.PublicOnly())
	at := netip.MustParseAddrPort("10.0.0.1:9993")
	r := d.Decode(Datagram{Frame: 1, Src: at, Dst: at, Payload: armored(t, root, member, packet.VerbOK, ok.AppendMarshal(nil))})
	if r.Auth != AuthOK || r.Details == nil || len(r.Details.Worlds) != 2 || r.Details.Worlds[0].ID != 0x7a7a0001 {
		t.Fatalf("OK(HELLO) with two worlds: %+v %q", r.Details, r.Error)
	}

	// A captured NETWORK_CONFIG re-sent with one signature byte changed.
	var chunk []byte
	for _, e := range testvec.MustSession(t).Entries {
		if e.ZeroTier && e.Verb == byte(packet.VerbNetworkConfig) && e.DstZT == member.Address {
			chunk = append([]byte(nil), e.Plaintext...)
			break
		}
	}
	if chunk == nil {
		t.Fatal("no NETWORK_CONFIG for node A in the capture")
	}
	r = d.Decode(Datagram{Frame: 2, Src: at, Dst: at, Payload: armored(t, root, member, packet.VerbNetworkConfig, chunk)})
	if r.Details == nil || r.Details.ConfigSignature != "ok" || len(r.Details.Config) != 21 {
		t.Fatalf("genuine chunk: %+v %q", r.Details, r.Error)
	}
	chunk[len(chunk)-5] ^= 1
	r = d.Decode(Datagram{Frame: 3, Src: at, Dst: at, Payload: armored(t, root, member, packet.VerbNetworkConfig, chunk)})
	if r.Details == nil || r.Details.ConfigSignature != "failed" || r.Details.Config != nil {
		t.Fatalf("forged chunk: %+v", r.Details)
	}
	// Without the controller's identity the signature cannot be checked.
	d2 := New(member)
	d2.Learn(root.PublicOnly())
	delete(d2.ids, root.Address)
	d2.keys[[2]identity.Address{min(root.Address, member.Address), max(root.Address, member.Address)}] = mustKey(t, root, member)
	chunk[len(chunk)-5] ^= 1
	r = d2.Decode(Datagram{Frame: 4, Src: at, Dst: at, Payload: armored(t, root, member, packet.VerbNetworkConfig, chunk)})
	if r.Details == nil || r.Details.ConfigSignature != "unknown-signer" {
		t.Fatalf("unknown controller: %+v %q", r.Details, r.Error)
	}
}

func mustKey(t *testing.T, a, b *identity.Identity) *packet.Key {
	t.Helper()
	shared, _ := a.Agree(b)
	k, err := packet.NewKey(&shared)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
