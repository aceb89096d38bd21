// Package netns builds network topologies out of Linux network namespaces
// for integration tests: nodes, roots and controllers each in a namespace of
// their own, joined by veth pairs, bridges and NAT routers, with links that
// can be cut, made lossy, slow or narrow, and paths that can be blocked.
// Everything it makes is torn down by the test's Cleanup, also when the test
// fails or panics; if the test process dies outright, its programs get
// SIGKILL (Pdeathsig) and the next test process's first New sweeps its
// namespaces away (Sweep). It needs root (RequireRoot skips otherwise), iproute2 for
// `ip netns exec` and tc, and nftables for NAT, Block and SetLoss; a test
// whose helper needs a missing command is skipped with a message saying so.
// scripts/netns.sh builds the same kind of topology by hand.
//
// A typical topology, with the package's default address assignment:
//
//	                     Bridge "inet" 198.51.100.0/24
//	      +-----------------------+-----------------------+
//	      |                       |                       |
//	   ztx-root-…              ztx-nat1-…              ztx-nat2-…
//	   198.51.100.1            198.51.100.2            198.51.100.3
//	   (New)                   NATRouter               NATRouter
//	                           10.1.0.1 (gateway)      10.2.0.1 (gateway)
//	                              | Inside 10.1.0.0/24    | Inside 10.2.0.0/24
//	                           ztx-node1-…             ztx-node2-…
//	                           10.1.0.2                10.2.0.2
//
//	inet := netns.Bridge(t, "inet", netip.MustParsePrefix("198.51.100.0/24"))
//	root := netns.New(t, "root")
//	inet.Attach(t, root)                                   // 198.51.100.1
//	nat1 := netns.NATRouter(t, "nat1", netip.MustParsePrefix("10.1.0.0/24"), inet)
//	nat2 := netns.NATRouter(t, "nat2", netip.MustParsePrefix("10.2.0.0/24"), inet)
//	node1, node2 := netns.New(t, "node1"), netns.New(t, "node2")
//	nat1.Inside.Attach(t, node1)                           // 10.1.0.2
//	nat2.Inside.Attach(t, node2)                           // 10.2.0.2
//	p := node1.Start(t, "ztnode", "-c", dir)
//
// Conventions:
//
//   - Everything created is named with the prefix "ztx-". A namespace is
//     "ztx-<name>-<pid>-<n>": <pid> is the test process, so Sweep can tell
//     the leftovers of a crashed run (pid gone) from namespaces in use, and
//     <n> numbers the namespaces of one process. Nothing is created in the
//     host's own namespace: veth pairs are made with each end directly in its
//     namespace, and a segment's bridge lives in a namespace of its own
//     (Bridge) or in its router (NATRouter's Inside).
//   - Interfaces in a namespace are ztx-v0, ztx-v1, … in the order they were
//     made (Names overrides); a bridge is ztx-br0. nftables tables are
//     ztx-nat (a router's masquerade and filter), ztx-block-<n> (Block), and
//     ztx-loss-<dev> (Link.SetLoss).
//   - Addresses on a segment are handed out in attach order from the
//     subnet's first host address; a router's inside gateway takes the first
//     one. Use documentation and private ranges only: 198.51.100.0/24 and
//     203.0.113.0/24 (and 2001:db8::/32) for "public" segments, 10.x and
//     192.168.x (fd00::/8) behind NAT routers.
//   - No namespace has a default route. A node behind a NAT router gets a
//     route to each outside subnet (and onward subnets) via the router; a
//     root on the public segment reaches only that segment, so anything in
//     a test can only ever send to addresses inside the test's namespaces.
//     NS.AddRoute refuses default routes.
//   - IPv6 in test namespaces: no duplicate address detection. An interface
//     that goes down loses its IPv6 addresses as usual; Link.SetUp puts back
//     the addresses and routes this package gave it.
//   - Cleanup runs in reverse order of creation: processes are stopped
//     (SIGTERM, then SIGKILL, by PID) and reaped, Block rules removed, links
//     deleted, namespaces deleted. When a test fails, each namespace's
//     addresses, routes and nftables ruleset, and each process's output, are
//     logged.
//
// Code in a namespace runs either as a program (NS.Start, NS.Run,
// NS.Command, through `ip netns exec`) or in-process (NS.Do runs a function
// on a thread moved into the namespace; sockets it opens stay there, so
// NS.ListenUDP, NS.Echo and NS.ProbeUDP give a test UDP endpoints in any
// namespace without a helper binary).
//
// Link shaping applies to what the kernel stack sends: SetLoss uses an
// nftables netdev egress hook, SetDelay netem and SetRate tbf, on both ends
// (each direction). Frames that XDP redirects into a veth bypass all three.
package netns
