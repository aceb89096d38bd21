/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * parsing.h: outer header layouts and byte helpers for the bpf/ programs.
 *
 * Every field is a byte array, read with be16() and friends, so that the
 * code needs no alignment and compiles the same for bpfel and bpfeb. Take a
 * pointer into a packet only after checking it against data_end (the
 * verifier insists; see ztx_xdp() for the cursor pattern).
 */
#ifndef ZTX_BPF_PARSING_H
#define ZTX_BPF_PARSING_H

#include <linux/types.h>

#define ETH_HLEN 14
#define VLAN_HLEN 4
#define IPV4_HLEN 20 /* without options */
#define IPV6_HLEN 40
#define UDP_HLEN 8

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8

#define IPPROTO_UDP_ 17 /* linux/in.h is not included */
#define IPV4_DF 0x4000
#define IPV4_MF_OFFSET 0x3fff /* MF flag and fragment offset */
#define OUT_TTL 64         /* what a UDP socket would send */

struct eth_hdr {
	__u8 dst[6];
	__u8 src[6];
	__u8 proto[2];
};

struct vlan_hdr {
	__u8 tci[2];
	__u8 proto[2];
};

struct ipv4_hdr {
	__u8 ver_ihl;
	__u8 tos;
	__u8 tot_len[2];
	__u8 id[2];
	__u8 frag[2];
	__u8 ttl;
	__u8 proto;
	__u8 csum[2];
	__u8 saddr[4];
	__u8 daddr[4];
};

struct ipv6_hdr {
	__u8 ver_tc_flow[4];
	__u8 payload_len[2];
	__u8 nexthdr;
	__u8 hop_limit;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct udp_hdr {
	__u8 sport[2];
	__u8 dport[2];
	__u8 len[2];
	__u8 csum[2];
};

_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "eth_hdr");
_Static_assert(sizeof(struct vlan_hdr) == VLAN_HLEN, "vlan_hdr");
_Static_assert(sizeof(struct ipv4_hdr) == IPV4_HLEN, "ipv4_hdr");
_Static_assert(sizeof(struct ipv6_hdr) == IPV6_HLEN, "ipv6_hdr");
_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "udp_hdr");

static __always_inline __u16 be16(const __u8 *b)
{
	return (__u16)b[0] << 8 | b[1];
}

static __always_inline void put_be16(__u8 *b, __u16 v)
{
	b[0] = v >> 8;
	b[1] = v;
}

/* Ones' complement sum of n bytes (n even) as big-endian 16-bit words. */
static __always_inline __u32 csum_add_bytes(__u32 sum, const __u8 *b, int n)
{
#pragma unroll
	for (int i = 0; i < n; i += 2)
		sum += be16(b + i);
	return sum;
}

/* Subtracts n bytes (n even) from a ones' complement sum. */
static __always_inline __u32 csum_sub_bytes(__u32 sum, const __u8 *b, int n)
{
#pragma unroll
	for (int i = 0; i < n; i += 2)
		sum += (__u16)~be16(b + i);
	return sum;
}

static __always_inline __u16 csum_fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* IPv6 ext headers (RFC 8200 and IANA): hop-by-hop, routing, fragment,
 * ESP, AH, destination options, mobility, HIP, shim6. */
static __always_inline int ipv6_ext_header(__u8 nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 50 || nh == 51 || nh == 60 || nh == 135 ||
	       nh == 139 || nh == 140;
}

#endif /* ZTX_BPF_PARSING_H */
