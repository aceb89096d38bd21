// Package vl1 is ZeroTier's VL1 (the encrypted peer-to-peer transport) as
// a protocol core with no I/O of its own: it never reads a clock, opens a
// socket or touches a file. The host (the ztnode daemon, or the simulated
// network of package vl1test) hands it received datagrams with the current
// time and calls Background when the deadline it returned has passed; the
// core answers through the Host interface.
//
//	            ReceiveWire(now, sock, from, data) ──┐
//	host ──────►Background(now) ─────────────────────┤ Node ── Host.Send(sock, to, data, ttl)
//	            returns the next deadline ◄──────────┘      └─ Host.Event(...)
//
// What it does, as ZeroTier One 1.14.1 does (PROTOCOL.md part 1 §6, §9):
// HELLO/OK/ERROR with protocol version 12, WHOIS with queues for packets
// that wait for an identity, ECHO, RENDEZVOUS and PUSH_DIRECT_PATHS for
// direct paths through NAT, NOP keepalives, fragmentation and bounded
// reassembly, roots from the planet and from moons with in-band world
// updates, relaying and introductions when the node is itself a root, and
// the reference's inbound rate limits.
package vl1
