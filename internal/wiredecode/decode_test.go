package wiredecode

import (
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/ztx/ztx/crypto/identity"
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
