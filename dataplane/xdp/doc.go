// Package xdp loads ztx's ingress XDP program (bpf/xdp.c) onto a physical
// interface, pins its maps for ztctl, and gives the control plane typed
// setters for those maps and a reader for its counters. It imports nothing
// from controlplane: the daemon pushes what it knows (its address and ports,
// trusted paths, joined networks, relay routes and introduced pairs) through
// the methods of XDP.
//
// # What the program does with a frame
//
//	Ethernet [VLAN] ─┬─ IPv4 (no options, not a fragment) ─┬─ UDP to a node port ─ ZeroTier datagram
//	                 └─ IPv6 (no extension headers) ───────┘
//
//	                                     ┌ suite 2, trusted source and ID, FRAME, network known
//	         dest = our address ─────────┤     → strip to the inner Ethernet frame, XDP_REDIRECT (Trusted)
//	                                     └ anything else → XDP_PASS (PassControl, PassTrusted*, PassNoNetwork)
//	         dest = another node ────────┬ in relays, pair introduced (packets), hops < 3
//	         (packet or fragment)        │     → hop+1, new outer headers, XDP_TX or XDP_REDIRECT (Relay*)
//	                                     └ otherwise → XDP_PASS (PassNoRoute, PassNoPair, PassHops)
//	         not ZeroTier, malformed, unsupported ───→ XDP_PASS (PassNotZT, PassMalformed, PassUnsupported)
//
// The program never drops, and a frame it passes goes up as it came (but
// for a trailer after the IP packet, in the PassError case). Every frame
// is counted once, per CPU, in the counter that says why it went where it
// went (Counter); XDP.Counters sums them.
//
// # Trusted-path delivery
//
// A FRAME (PROTOCOL.md part 2 §7.1) for this node that arrives with cipher
// suite 2 from a source inside a trusted CIDR whose ID equals the packet's
// MAC field (part 1 §10) becomes the Ethernet frame it carries:
//
//	before: | outer Eth | IP | UDP | ZT header (28) | nwid (8) | type (2) | payload |
//	after:                                    | dst MAC | src MAC | type (2) | payload |
//
// with dst = MAC(our address, nwid) and src = MAC(sender, nwid) (part 2
// §1.2), redirected to the interface set by SetNetwork. A redirect transmits
// on that interface, so the interface must be one whose transmit is the
// virtual network's receive: the peer of a veth pair whose other end is the
// network's interface. A TAP will not do: a frame redirected into a TAP
// reaches the process reading the TAP, not the host stack.
//
// # Relaying (roots)
//
// A packet for another node whose destination has a relay route (SetRelay)
// and whose (source, destination) pair was introduced (SetPair; until then the
// packet goes up, so that the control plane relays it and sends RENDEZVOUS)
// leaves with its hop count incremented (the only change to the datagram,
// part 1 §9.7) and fresh outer headers for the destination's path: IPv4 with
// TTL 64, DF and no UDP checksum, or IPv6 with the UDP checksum updated from
// the one that came in. A fragment (byte 13 = 0xff) is relayed by its
// destination alone. Hop counts at RelayMaxHops (3) go up instead.
//
// # Pins
//
// Load pins the maps as PinDir/<instance>/<map name> (instance: the node's
// address as 10 hex digits unless Options.Instance says otherwise) on a
// bpffs, and Close removes them. The info map records the owning process;
// Cleanup removes the pins (and detaches the program, when it was attached
// through netlink) of instances whose owner is gone.
package xdp
