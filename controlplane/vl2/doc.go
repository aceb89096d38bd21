// Package vl2 is the virtual Ethernet layer of a node: the networks it
// has joined, their configs from the controllers, certificates of
// membership, and the frames and multicasts between members, as ZeroTier
// One 1.14.1 does them (PROTOCOL.md part 2 §3-§8).
//
// Like vl1 it does no I/O: a Switch takes the current time, sends
// through the VL1 node, writes frames to the host's ports, and returns
// deadlines. A node's VL1 core delivers the VL2 verbs to the Switch (it
// is the node's vl1.Upper); the host hands it the frames its virtual
// interfaces emit with SendFrame.
//
// Ad-hoc networks (IDs with top byte 0xff) have no controller: their
// config is made locally (adhoc.go, §8). On networks with the NDP
// emulation flag, neighbour solicitations for rfc4193 and 6plane
// addresses are answered locally (ndp.go, §7.7).
//
// Locking: the Switch has one lock. It calls the VL1 node, which never
// calls back while holding its own lock, and the Host, whose methods must
// not call back into the Switch. It calls the Master (the embedded
// controller) without holding its lock.
package vl2
