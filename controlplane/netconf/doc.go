// Package netconf is the VL2 network configuration data model (PROTOCOL.md part 2 §§1-4):
// what a controller issues to a member, how it travels, and what a member asks for. It does
// no I/O and keeps no clock.
//
// # Addresses
//
// A network ID's top 40 bits are its controller's address (Controller). A member's Ethernet
// MAC on a network (MACOf, reversed by AddressOf) is
//
//	byte 0     nwid byte 0 (least significant) &^ 0x01 | 0x02, with 0x52 replaced by 0x32
//	bytes 1-5  node address XOR nwid bytes 1..5 (byte 1 with nwid>>8, ... byte 5 with nwid>>40)
//
// and its managed IPv6 addresses are
//
//	rfc4193  fd | nwid (8) | 99 93 | address (5)                 /88
//	6plane   fc | nwid low32 ^ high32 (4) | address (5) | 0.. 01  /40 (the node owns the /80)
//
// # Network config
//
// Config holds every key of the v7 dictionary. ParseDictionary reads it as ZeroTier One
// 1.14.1 does and ToDictionary writes it as 1.14.1 does, in this order (hex64 = 16 lowercase
// hex digits, blobs are raw bytes, dictionary-escaped):
//
//	v     hex64  7                     C     blob  COM (if any)
//	nwid  hex64  network id            CAP   blob  capabilities (if any)
//	ts    ±hex64 issue time (ms)       TAG   blob  tags (if any)
//	ctmd  ±hex64 credential window     COO   blob  certificates of ownership (if any)
//	r     hex64  revision              S     blob  specialists, 8 bytes each (if any)
//	id    10 hex issued-to             RT    blob  routes (if any)
//	tt    10 hex trace target          I     blob  static IPs (if any)
//	tl    hex64  trace level           R     blob  base rules (if any)
//	f     hex64  flags                 DNS   blob  domain (128) + 4 InetAddresses (always)
//	ml    hex64  multicast limit       ssov, ssoe, then by SSO version:
//	t     hex64  0 private, 1 public     0: aurl (if enabled and set), aexpt (if enabled)
//	n     text   name                    1: iurl ssoce sson ssos ssocid ssop
//	mtu   hex64  MTU
//
// A route is target InetAddress (port = prefix length) | via InetAddress (0x00 if none) |
// flags (2) | metric (2); a static IP is an InetAddress whose port is the prefix length.
//
// # Chunks
//
// A serialized config travels in NETWORK_CONFIG chunks (verbs.ConfigChunk) signed by the
// controller: Split makes them, an Assembler verifies and reassembles them.
//
//	0 nwid (8) | 8 length C (2) | 10 data (C) | 10+C flags | 11+C update id (8)
//	19+C total length (4) | 23+C chunk index = byte offset (4) | 27+C sig type 1 | 28+C 96 (2)
//	30+C signature (96) over bytes 0 .. 27+C
//
// # Request metadata
//
// Request is the dictionary a member puts in NETWORK_CONFIG_REQUEST: format, vendor, protocol
// and software versions, its rule/capability/tag limits, flags, rules engine revision, OS/arch.
package netconf
