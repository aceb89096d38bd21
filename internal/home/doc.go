// Package home reads and writes what a node keeps in its home directory
// (the daemon's equivalent of /var/lib/zerotier-one), and parses it once
// into typed values that the rest of the node is handed; nothing outside
// this package reads local.conf by key.
//
//	identity.secret        identity with private key (0600); made if missing
//	identity.public        its public form; rewritten when it differs
//	authtoken.secret       local API token, 24 chars a-z0-9 (0600)
//	metricstoken.secret    /metrics token, same format (0600)
//	zerotier-one.port      bound primary port, decimal, no newline
//	local.conf             JSON settings (LocalConf)
//	trustedpaths           legacy trusted path list (ParseTrustedPaths)
//	planet                 serialized planet (headers/world)
//	moons.d/<16 hex>.moon  serialized moons
//	peers.d/<10 hex>.peer  peer cache (PeerRecord)
//	networks.d/<16 hex>.conf        network config (raw dictionary bytes)
//	networks.d/<16 hex>.local.conf  member's settings (NetworkSettings)
//	devicemap              legacy network ID to interface names (DeviceMap)
//	controller.d/          embedded controller database (not read here)
//
// Every write goes to a temporary file in the same directory, is synced
// and renamed over the old file, and happens only when the content
// changed. Directories are made on demand with mode 0700.
//
// local.conf is read with ZeroTier One 1.14.1's coercions: booleans
// accept numbers (> 0 is true) and strings starting with t, T or 1;
// integers accept numbers (cast like C), decimal strings (read like
// strtoull) and booleans; strings accept numbers and booleans. Objects
// are visited in sorted key order, as the reference's JSON library keeps
// them. Whatever the reference ignores (a key of the wrong type, an
// unreadable address, an invalid bonding policy) is ignored here too and
// noted in LocalConf.Warnings.
//
// Deliberate differences from the reference, all on inputs it handles
// surprisingly:
//   - A CIDR written as a bare IP ("10.0.0.1") means that one host; the
//     reference reads it as a /0 that matches a whole address family
//     (which, in allowManagementFrom, would open the local API to it).
//   - A CIDR's host bits are ignored when matching; the reference ignores
//     them for IPv4 but never matches an IPv6 CIDR that has any.
//   - Addresses are compared unmapped (::ffff:a.b.c.d is IPv4).
//   - An inbound trusted path ID of 0 is never trusted; the reference
//     trusts it from inside any physical entry configured only for MTU.
//   - Out-of-range netmask bits, IPv6 zones and "virtual" try entries
//     without a port are refused instead of producing odd addresses.
//   - identity.public is also written when missing, and an authtoken file
//     holding only white space gets a new token instead of an empty one.
package home
