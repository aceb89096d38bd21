package vl2_test

import (
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl1"
	"github.com/ztx/ztx/controlplane/vl2"
	"github.com/ztx/ztx/crypto/identity"
	"github.com/ztx/ztx/headers/cred"
	"github.com/ztx/ztx/headers/packet"
)

// TestForgedCOM: a COM that the controller did not sign does not open
// the gate, and frames behind it are dropped.
func TestForgedCOM(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	// B forges a COM for itself with its own key and pushes it to A as a
	// fresh one; A keeps the genuine one it had (or none) and counts the
	// forgery.
	forged := cred.NewCOM(bd.net.Now+1000, 1_800_000, bd.nwid, bd.b.id)
	if err := forged.Sign(bd.b.id); err != nil {
		t.Fatal(err)
	}
	before := bd.a.sw.Stats().DroppedCredential
	creds := cred.Credentials{COMs: []cred.COM{forged}, Sections: 4}
	bd.net.Run(1500) // past the per-peer credentials rate limit
	bd.b.host.Node.Send(bd.net.Now, bd.a.id.Address, packet.VerbNetworkCredentials, creds.AppendMarshal(nil))
	bd.net.Run(500)
	if bd.a.sw.Stats().DroppedCredential == before {
		t.Fatal("a COM signed by the member itself was not refused")
	}

	// A member A never had a genuine COM from: only forged ones. Revoke
	// B's genuine COM, then its forged pushes must not let it back in.
	r := cred.Revocation{ID: 5, NetworkID: bd.nwid, Threshold: bd.net.Now, Target: bd.b.id.Address, CredentialType: cred.CredentialCOM}
	if err := r.Sign(bd.a.id); err != nil {
		t.Fatal(err)
	}
	bd.a.sw.PushRevocation(bd.nwid, nil, r)
	forged2 := cred.NewCOM(bd.net.Now+2000, 1_800_000, bd.nwid, bd.b.id)
	forged2.Sign(bd.b.id)
	bd.net.Run(1500)
	creds = cred.Credentials{COMs: []cred.COM{forged2}, Sections: 4}
	bd.b.host.Node.Send(bd.net.Now, bd.a.id.Address, packet.VerbNetworkCredentials, creds.AppendMarshal(nil))
	bd.net.Run(500)
	if bd.a.sw.Members(bd.nwid)[bd.b.id.Address] {
		t.Fatal("a forged COM opened the gate")
	}
}

// TestForgedConfig: config chunks not signed by the network's controller
// are refused and change nothing.
func TestForgedConfig(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	before, _ := bd.b.sw.Info(bd.nwid)
	rejected := bd.b.sw.Stats().ConfigsRejected
	c := *bd.master.issued[bd.b.id.Address]
	genuine, err := c.AppendMarshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Name = "forged!" // as long as "vl2test": the chunks keep their layout
	forged, err := c.AppendMarshal(nil)
	if err != nil || len(forged) != len(genuine) {
		t.Fatal(err, len(forged), len(genuine))
	}
	// The controller's signature over the genuine bytes, on forged data.
	chunks, err := netconf.Split(bd.a.id, bd.nwid, 99, genuine, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for _, k := range chunks {
		k.Data = forged[off : off+len(k.Data)]
		off += len(k.Data)
		bd.a.host.Node.Send(bd.net.Now, bd.b.id.Address, packet.VerbNetworkConfig, k.AppendMarshal(nil))
	}
	// And a config signed by someone else entirely: the root, through a
	// chunk re-signed with its key.
	for _, k := range chunks {
		k.UpdateID = 100
		sig, err := testRoot(t).Sign(k.AppendSignedMessage(nil))
		if err != nil {
			t.Fatal(err)
		}
		k.Signature = sig[:]
		bd.a.host.Node.Send(bd.net.Now, bd.b.id.Address, packet.VerbNetworkConfig, k.AppendMarshal(nil))
	}
	bd.net.Run(500)
	after, _ := bd.b.sw.Info(bd.nwid)
	if after.Config.Name != before.Config.Name || bd.b.sw.Stats().ConfigsRejected == rejected {
		t.Fatalf("a forged config: name %q, rejected %d -> %d", after.Config.Name, rejected, bd.b.sw.Stats().ConfigsRejected)
	}
}

func testRoot(t *testing.T) *identity.Identity {
	t.Helper()
	return loadIdentity(t, "id1.secret")
}

// FuzzDeliver feeds arbitrary VL2 payloads, of every VL2 verb and as
// replies, to a Switch that has joined a network with a config: it must
// count and drop what is malformed, never panic.
func FuzzDeliver(f *testing.F) {
	f.Add(byte(packet.VerbFrame), []byte{0, 0, 0, 0, 0, 0, 0, 1, 8, 0, 1, 2, 3})
	f.Add(byte(packet.VerbExtFrame), make([]byte, 30))
	f.Add(byte(packet.VerbMulticastFrame), make([]byte, 40))
	f.Add(byte(packet.VerbMulticastLike), make([]byte, 18))
	f.Add(byte(packet.VerbMulticastGather), make([]byte, 23))
	f.Add(byte(packet.VerbNetworkCredentials), []byte{1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(byte(packet.VerbNetworkConfig), make([]byte, 130))
	f.Add(byte(packet.VerbNetworkConfigRequest), make([]byte, 26))
	f.Add(byte(packet.VerbOK), []byte{0x0b, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(byte(packet.VerbError), []byte{0x06, 0, 0, 0, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0, 0, 0, 1})
	bd := newBed(f)
	bd.master.authorized[bd.a.id.Address] = true
	bd.master.authorized[bd.b.id.Address] = true
	for _, m := range []member{bd.a, bd.b} {
		m.sw.Join(bd.net.Now, bd.nwid, nil)
	}
	bd.net.Run(15000)
	if in, _ := bd.b.sw.Info(bd.nwid); in.Status != vl2.StatusOK {
		f.Fatal("B not configured")
	}
	from := bd.a.id.PublicOnly()
	f.Fuzz(func(t *testing.T, verb byte, payload []byte) {
		// Payloads that name the test network reach the deep paths.
		if len(payload) >= 8 && payload[0]&1 == 1 {
			nw := bd.nwid
			for i := 7; i >= 0; i-- {
				payload[i] = byte(nw)
				nw >>= 8
			}
		}
		bd.b.sw.Deliver(bd.net.Now, vl1.Inbound{From: from, Verb: packet.Verb(verb & 0x1f), ID: 1, Payload: payload})
	})
}
