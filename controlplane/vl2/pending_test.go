package vl2_test

import (
	"encoding/binary"
	"testing"

	"github.com/ztx/ztx/controlplane/netconf"
	"github.com/ztx/ztx/controlplane/vl2"
)

// TestPendingMulticastReachesLateSubscriber: a multicast sent while no
// member is known to listen waits (5 s) for gather results, and goes to
// a member as soon as its LIKE arrives, as the reference's Multicaster
// does. Seen with ZeroTier One, which announces the ARP group of a new
// address up to 5 s after it got it: ztx's first ARP requests to it were
// lost.
func TestPendingMulticastReachesLateSubscriber(t *testing.T) {
	bd := newBed(t)
	bd.joinBoth(t)
	macA := netconf.MACOf(bd.a.id.Address, bd.nwid)
	ipB := [4]byte{10, 9, 0, 2}
	arp := make([]byte, 28)
	copy(arp, []byte{0, 1, 8, 0, 6, 4, 0, 1})
	copy(arp[8:], macA[:])
	copy(arp[14:], []byte{10, 9, 0, 1})
	copy(arp[24:], ipB[:])
	req := ethernet(vl2.Broadcast, macA, 0x0806, arp)
	bd.send(t, bd.a, req)
	bd.net.Run(1000)
	if received(bd.b.port.frames[bd.nwid], req) {
		t.Fatal("B got the ARP request before it listened")
	}
	bd.b.sw.SetGroups(bd.net.Now, bd.nwid, []vl2.Group{{MAC: vl2.Broadcast, ADI: binary.BigEndian.Uint32(ipB[:])}})
	bd.net.Run(1000)
	if !received(bd.b.port.frames[bd.nwid], req) {
		t.Fatal("the queued ARP request did not reach B after its LIKE")
	}
}
