/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ztx.h: every type that the bpf/ programs share with Go (dataplane/xdp
 * generates its Go declarations from this header with bpf2go -type; never
 * copy one by hand). The wire layout itself is ../headers/ztwire.h.
 *
 * Conventions:
 *   - bytes copied from packets or compared with packet bytes (ZeroTier
 *     addresses, network IDs, trusted path IDs, IP addresses, UDP ports,
 *     MACs) are big-endian byte arrays, never integers;
 *   - numbers only the kernel and Go see (interface indexes, counters,
 *     prefix lengths, times) are native-endian integers.
 *
 * Maps (names are also the pin names under /sys/fs/bpf/ztx/<instance>/):
 *
 *   config    array[1]   u32 0            -> struct node_config
 *   ports     hash       struct port_key  -> u8 (1)
 *   trusted   LPM trie   struct trusted_key -> struct trusted_path
 *   networks  hash       struct nwid_key  -> struct network
 *   relays    hash       struct addr_key  -> struct relay_path
 *   pairs     hash       struct pair_key  -> struct pair
 *   counters  per-CPU array[COUNTER_MAX] u32 -> struct count
 *   info      array[1]   u32 0            -> struct instance_info (Go only)
 */
#ifndef ZTX_BPF_ZTX_H
#define ZTX_BPF_ZTX_H

#include <linux/types.h>

#include "../headers/ztwire.h"

/* Wire facts ztwire.h does not have (yet); dataplane/xdp tests check them
 * against headers/packet. */
#define ZT_BEACON_LENGTH 13 /* legacy LAN beacon (PROTOCOL.md part 1 §2.4) */

/* Map sizes. */
#define ZTX_MAX_PORTS 16
#define ZTX_MAX_TRUSTED 64 /* ZeroTier keeps at most 32 physical entries */
#define ZTX_MAX_NETWORKS 1024
#define ZTX_MAX_RELAYS 65536
#define ZTX_MAX_PAIRS 262144

/* The node itself. An all-zero address (reserved, never a node's) means
 * "not configured": nothing is delivered, and only relaying works. */
struct node_config {
	__u8 address[ZT_ADDRESS_LENGTH];
	__u8 pad[3];
};

/* A UDP port the node listens on. */
struct port_key {
	__u8 port[2];
};

/* A trusted physical path: a CIDR (IPv4 as ::ffff:a.b.c.d/96+bits) and the
 * trusted path ID packets from it must carry in the MAC field (never 0). */
struct trusted_key {
	__u32 prefixlen;
	__u8 addr[16];
};

struct trusted_path {
	__u8 id[8];
};

/* A joined network and the interface whose transmit delivers into its
 * virtual interface (a veth peer, not a TAP: a frame redirected into a TAP
 * goes to the process reading it, not to the host stack). */
struct nwid_key {
	__u8 nwid[8];
};

struct network {
	__u32 ifindex;
};

/* A ZeroTier address. */
struct addr_key {
	__u8 address[ZT_ADDRESS_LENGTH];
};

/* Where a root relays packets for one destination: the destination's
 * physical path and how to reach it. */
#define ZTX_FAMILY_IPV4 4
#define ZTX_FAMILY_IPV6 6

struct relay_path {
	__u32 ifindex; /* egress interface; XDP_TX when it is the ingress one */
	__u8 family;   /* ZTX_FAMILY_IPV4 or ZTX_FAMILY_IPV6 */
	__u8 pad[3];
	__u8 dst_addr[16]; /* IPv4 in the first 4 bytes */
	__u8 src_addr[16];
	__u8 dst_port[2];
	__u8 src_port[2];
	__u8 dst_mac[6]; /* next hop */
	__u8 src_mac[6]; /* the egress interface's */
};

/* A (source, destination) pair the control plane has introduced with
 * RENDEZVOUS; only such pairs are relayed in the kernel. */
struct pair_key {
	__u8 source[ZT_ADDRESS_LENGTH];
	__u8 dest[ZT_ADDRESS_LENGTH];
};

struct pair {
	__u64 last_ns; /* bpf_ktime_get_ns() of a recent relayed packet (1 s granularity) */
};

/* What the program did with a packet, and why. Every packet counts once. */
enum counter {
	COUNTER_PASS_NOT_ZT = 0,     /* not IPv4/IPv6 UDP to one of the node's ports */
	COUNTER_PASS_UNSUPPORTED,    /* IPv4 options, IP fragments, IPv6 extension headers, stacked VLANs */
	COUNTER_PASS_MALFORMED,      /* truncated or inconsistent headers, bad IPv4 checksum, short datagram */
	COUNTER_PASS_CONTROL,        /* ZeroTier for this node that is not a trusted-path FRAME */
	COUNTER_PASS_TRUSTED_OTHER,  /* trusted path, but fragmented, compressed or not FRAME */
	COUNTER_PASS_TRUSTED_BAD_ID, /* suite 2 from an untrusted source or with a wrong ID */
	COUNTER_PASS_NO_NETWORK,     /* trusted FRAME for a network with no interface */
	COUNTER_PASS_NO_ROUTE,       /* for another node that is not in the relay table */
	COUNTER_PASS_NO_PAIR,        /* relay pair not introduced yet */
	COUNTER_PASS_HOPS,           /* relay hop limit reached */
	COUNTER_PASS_NO_CSUM,        /* IPv6 relay of a datagram without a UDP checksum */
	COUNTER_PASS_ERROR,          /* a helper failed (headroom) */
	COUNTER_TRUSTED,             /* trusted FRAME delivered (XDP_REDIRECT) */
	COUNTER_RELAY_TX,            /* relayed out of the ingress interface (XDP_TX) */
	COUNTER_RELAY_REDIRECT,      /* relayed out of another interface (XDP_REDIRECT) */
	COUNTER_MAX,
};

/* Packets and bytes (ingress frame length), per CPU. */
struct count {
	__u64 packets;
	__u64 bytes;
};

/* Who owns a pinned instance, written by Go and read by Cleanup and
 * ztctl; the programs never touch it. */
#define ZTX_ATTACH_NONE 0
#define ZTX_ATTACH_DRIVER 1
#define ZTX_ATTACH_GENERIC 2

struct instance_info {
	__u32 pid;
	__u32 ifindex;
	__u64 start_time; /* the owner's start time, /proc/<pid>/stat field 22 */
	__u64 netns;      /* inode of the owner's network namespace */
	__u32 prog_id;
	__u32 attach;  /* ZTX_ATTACH_* */
	__u32 netlink; /* 1: attached through netlink, survives its owner */
	__u32 pad;
};

#endif /* ZTX_BPF_ZTX_H */
