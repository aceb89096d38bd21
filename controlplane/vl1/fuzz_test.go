package vl1_test

import (
	"net/netip"
	"testing"

	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl1test"
	"github.com/ztx/ztx/headers/packet"
	"github.com/ztx/ztx/internal/testvec"
)

// FuzzReceiveWire feeds arbitrary datagrams to a node that knows a peer
// (so that authentic-looking packets reach the verb handlers): it must
// never panic, and must stay able to answer that peer.
func FuzzReceiveWire(f *testing.F) {
	for _, e := range testvec.MustSession(f).Entries {
		f.Add(e.Wire)
	}
	aID, bID := loadIdentity(f, "id2.secret"), loadIdentity(f, "id3.secret")
	shared, _ := aID.Agree(bID)
	k, _ := packet.NewKey(&shared)
	for _, v := range []packet.Verb{packet.VerbEcho, packet.VerbWhois, packet.VerbRendezvous, packet.VerbPushDirectPaths, packet.VerbOK, packet.VerbError} {
		p := packet.New(bID.Address, aID.Address, v).AppendPayload(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
		k.Armor(p, packet.SuiteAESGMACSIV)
		f.Add([]byte(p))
	}
	planet := loadPlanet(f)
	from := netip.MustParseAddrPort("10.78.0.2:9993")
	f.Fuzz(func(t *testing.T, data []byte) {
		n := vl1test.New(start)
		h := n.AddHost(netip.MustParseAddrPort("10.79.0.3:9993"), nil)
		node, err := vl1.New(vl1.Config{Identity: bID, Planet: planet}, h, n.Now)
		if err != nil {
			t.Fatal(err)
		}
		h.Node = node
		node.ReceiveWire(n.Now, 1, from, append([]byte(nil), data...))
		node.ReceiveWire(n.Now+1, 1, from, append([]byte(nil), data...))
		node.Background(n.Now + 10000)
		c := node.Counters
		if c.Received != 2 {
			t.Fatalf("received counter %d", c.Received)
		}
	})
}
