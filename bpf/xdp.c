// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp.c: ztx's ingress XDP program for the physical interface (issue 5).
 *
 * Each frame is classified by its clear-text headers and then
 *
 *   - delivered (XDP_REDIRECT) into a virtual network's interface when it
 *     is a trusted-path FRAME for this node (cipher suite 2 from a source in
 *     the trusted map carrying that path's ID; PROTOCOL.md part 1 §10): the
 *     outer Ethernet/IP/UDP and ZeroTier headers are stripped and an
 *     Ethernet header is rebuilt from the FRAME (part 2 §1.2, §7.1);
 *   - relayed (XDP_TX or XDP_REDIRECT) when it is for another node that the
 *     relay map knows, the (source, destination) pair was introduced by the
 *     control plane and the hop limit allows (part 1 §9.7): the hop count is
 *     incremented and fresh outer headers are written for the destination's
 *     path. Fragments (byte 13 = 0xff) are relayed by destination alone;
 *   - passed to the stack untouched otherwise: non-ZeroTier, malformed,
 *     truncated or unsupported frames, and ZeroTier traffic that the control
 *     plane handles (HELLO, other verbs and suites, fragments, new pairs).
 *
 * Frame layout (offsets from the start of the frame):
 *
 *   0      12/16   14/18       +20/+40    +8
 *   | MACs | [VLAN] | type | IPv4/IPv6 | UDP | ZeroTier datagram (ztwire.h)
 *
 * The program never drops: whatever it does not handle goes up.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "parsing.h"
#include "ztx.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct node_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZTX_MAX_PORTS);
	__type(key, struct port_key);
	__type(value, __u8);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, ZTX_MAX_TRUSTED);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct trusted_key);
	__type(value, struct trusted_path);
} trusted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZTX_MAX_NETWORKS);
	__type(key, struct nwid_key);
	__type(value, struct network);
} networks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZTX_MAX_RELAYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct addr_key);
	__type(value, struct relay_path);
} relays SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ZTX_MAX_PAIRS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pair_key);
	__type(value, struct pair);
} pairs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COUNTER_MAX);
	__type(key, __u32);
	__type(value, struct count);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct instance_info);
} info SEC(".maps");

/* What parse_outer learns about the outer headers. Addresses are copied
 * (IPv4 in the first 4 bytes, the rest zero) so they outlive the headers. */
struct outer {
	__u32 zt_off; /* ZeroTier datagram: offset from the frame start */
	__u32 zlen;   /* and length, from the UDP header */
	__u8 family;  /* ZTX_FAMILY_* */
	__u8 saddr[16];
	__u8 daddr[16];
	__u8 sport[2];
	__u8 dport[2];
	__u8 udp_csum[2];
};

#define CONTINUE (-1)

/* account is a function of its own (a BPF-to-BPF call) so that enum counter
 * is in the object's BTF for bpf2go. */
static __noinline void account(enum counter c, __u64 bytes)
{
	__u32 key = c;
	struct count *v = bpf_map_lookup_elem(&counters, &key);

	if (v) {
		v->packets++;
		v->bytes += bytes;
	}
}

static __always_inline int addr_eq(const __u8 *a, const __u8 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3] && a[4] == b[4];
}

static __always_inline int id_eq(const __u8 *a, const __u8 *b)
{
	int diff = 0;

#pragma unroll
	for (int i = 0; i < 8; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* MAC of a node on a network (PROTOCOL.md part 2 §1.2): the first octet
 * from the network ID's low byte, then the address XORed with network ID
 * bytes 6, 5, 4, 3, 2 (big-endian numbering). */
static __always_inline void mac_of(__u8 *mac, const __u8 *addr, const __u8 *nwid)
{
	__u8 f = (nwid[7] & 0xfe) | 0x02;

	mac[0] = f == 0x52 ? 0x32 : f;
	mac[1] = addr[0] ^ nwid[6];
	mac[2] = addr[1] ^ nwid[5];
	mac[3] = addr[2] ^ nwid[4];
	mac[4] = addr[3] ^ nwid[3];
	mac[5] = addr[4] ^ nwid[2];
}

/* parse_outer reads Ethernet (one optional VLAN tag), IPv4 without options
 * or IPv6 without extension headers, and UDP to one of the node's ports.
 * It returns CONTINUE for a datagram to look at, or the pass counter. */
static __always_inline int parse_outer(void *data, void *data_end, struct outer *o)
{
	struct eth_hdr *eth = data;
	__u32 off = ETH_HLEN, l4, l4len;
	__u16 proto;

	if ((void *)(eth + 1) > data_end)
		return COUNTER_PASS_MALFORMED;
	proto = be16(eth->proto);
	if (proto == ETHERTYPE_VLAN || proto == ETHERTYPE_QINQ) {
		struct vlan_hdr *vlan = data + ETH_HLEN;

		if ((void *)(vlan + 1) > data_end)
			return COUNTER_PASS_MALFORMED;
		proto = be16(vlan->proto);
		if (proto == ETHERTYPE_VLAN || proto == ETHERTYPE_QINQ)
			return COUNTER_PASS_UNSUPPORTED;
		off += VLAN_HLEN;
	}

	if (proto == ETHERTYPE_IPV4) {
		struct ipv4_hdr *ip = data + off;
		__u32 tot;

		if ((void *)(ip + 1) > data_end)
			return COUNTER_PASS_MALFORMED;
		if (ip->ver_ihl >> 4 != 4 || (ip->ver_ihl & 0xf) < 5)
			return COUNTER_PASS_MALFORMED;
		if (ip->proto != IPPROTO_UDP_)
			return COUNTER_PASS_NOT_ZT;
		if ((ip->ver_ihl & 0xf) != 5 || (be16(ip->frag) & IPV4_MF_OFFSET))
			return COUNTER_PASS_UNSUPPORTED;
		tot = be16(ip->tot_len);
		if (tot < IPV4_HLEN + UDP_HLEN || data + off + tot > data_end)
			return COUNTER_PASS_MALFORMED;
		if (csum_fold(csum_add_bytes(0, (const __u8 *)ip, IPV4_HLEN)) != 0xffff)
			return COUNTER_PASS_MALFORMED;
		o->family = ZTX_FAMILY_IPV4;
		__builtin_memcpy(o->saddr, ip->saddr, 4);
		__builtin_memcpy(o->daddr, ip->daddr, 4);
		l4 = off + IPV4_HLEN;
		l4len = tot - IPV4_HLEN;
	} else if (proto == ETHERTYPE_IPV6) {
		struct ipv6_hdr *ip = data + off;
		__u32 plen;

		if ((void *)(ip + 1) > data_end)
			return COUNTER_PASS_MALFORMED;
		if (ip->ver_tc_flow[0] >> 4 != 6)
			return COUNTER_PASS_MALFORMED;
		if (ip->nexthdr != IPPROTO_UDP_)
			return ipv6_ext_header(ip->nexthdr) ? COUNTER_PASS_UNSUPPORTED : COUNTER_PASS_NOT_ZT;
		plen = be16(ip->payload_len);
		if (plen < UDP_HLEN || data + off + IPV6_HLEN + plen > data_end)
			return COUNTER_PASS_MALFORMED;
		o->family = ZTX_FAMILY_IPV6;
		__builtin_memcpy(o->saddr, ip->saddr, 16);
		__builtin_memcpy(o->daddr, ip->daddr, 16);
		l4 = off + IPV6_HLEN;
		l4len = plen;
	} else {
		return COUNTER_PASS_NOT_ZT;
	}

	struct udp_hdr *udp = data + l4;
	struct port_key pk;
	__u32 ulen;

	if ((void *)(udp + 1) > data_end)
		return COUNTER_PASS_MALFORMED;
	pk.port[0] = udp->dport[0];
	pk.port[1] = udp->dport[1];
	if (!bpf_map_lookup_elem(&ports, &pk))
		return COUNTER_PASS_NOT_ZT;
	ulen = be16(udp->len);
	if (ulen < UDP_HLEN || ulen > l4len)
		return COUNTER_PASS_MALFORMED;
	o->zt_off = l4 + UDP_HLEN;
	o->zlen = ulen - UDP_HLEN;
	__builtin_memcpy(o->sport, udp->sport, 2);
	__builtin_memcpy(o->dport, udp->dport, 2);
	__builtin_memcpy(o->udp_csum, udp->csum, 2);
	return CONTINUE;
}

/* trim drops what follows the datagram (Ethernet padding, a trailer), so
 * that what is forwarded ends where the UDP length says. Callers trim just
 * before adjusting the head, which cannot fail for lack of headroom on a
 * frame the stack gave XDP (256 bytes); if it did, the frame would go up
 * without its trailer. */
static __always_inline int trim(struct xdp_md *ctx, const struct outer *o)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	long excess = (long)(data_end - data) - (long)(o->zt_off + o->zlen);

	if (excess > 0)
		return bpf_xdp_adjust_tail(ctx, (int)-excess);
	return 0;
}

/* deliver delivers a trusted-path FRAME for this node into its network's
 * interface. zt points at the datagram, whose first 28 bytes are checked.
 * deliver and relay are functions of their own (BPF-to-BPF calls), which
 * keeps every stack frame well under the verifier's 512 bytes. */
static __noinline int deliver(struct xdp_md *ctx, const struct outer *o, const __u8 *zt,
			      const struct node_config *cfg, int *action)
{
	void *data_end = (void *)(long)ctx->data_end;
	__u8 flags = zt[ZT_PACKET_IDX_FLAGS];
	struct trusted_key tk = { .prefixlen = 128 };
	struct trusted_path *tp;
	struct nwid_key nk;
	struct network *net;
	__u8 dst[6], src[6];
	const __u8 *f;

	if ((flags & ZT_FLAGS_CIPHER_MASK) >> ZT_FLAGS_CIPHER_SHIFT != ZT_CIPHER_NONE_TRUSTED_PATH)
		return COUNTER_PASS_CONTROL;
	if (o->family == ZTX_FAMILY_IPV4) {
		tk.addr[10] = 0xff;
		tk.addr[11] = 0xff;
		__builtin_memcpy(&tk.addr[12], o->saddr, 4);
	} else {
		__builtin_memcpy(tk.addr, o->saddr, 16);
	}
	tp = bpf_map_lookup_elem(&trusted, &tk);
	if (!tp || !id_eq(tp->id, zt + ZT_PACKET_IDX_MAC))
		return COUNTER_PASS_TRUSTED_BAD_ID;
	if ((flags & ZT_FLAG_FRAGMENTED) || zt[ZT_PACKET_IDX_VERB] != ZT_VERB_FRAME)
		return COUNTER_PASS_TRUSTED_OTHER;
	/* Our own address as the source: not a peer's frame (the control
	 * plane drops it). */
	if (addr_eq(zt + ZT_PACKET_IDX_SOURCE, cfg->address))
		return COUNTER_PASS_CONTROL;

	/* FRAME payload: network ID (8), ethertype (2), Ethernet payload. */
	f = zt + ZT_PACKET_IDX_PAYLOAD;
	if (o->zlen < ZT_PACKET_IDX_PAYLOAD + 10 || (void *)(f + 10) > data_end)
		return COUNTER_PASS_MALFORMED;
	__builtin_memcpy(nk.nwid, f, 8);
	net = bpf_map_lookup_elem(&networks, &nk);
	if (!net)
		return COUNTER_PASS_NO_NETWORK;
	mac_of(dst, cfg->address, nk.nwid);
	mac_of(src, zt + ZT_PACKET_IDX_SOURCE, nk.nwid);

	/* The new frame starts 12 bytes (two MACs) before the FRAME's ethertype,
	 * which stays where it is. */
	if (trim(ctx, o) || bpf_xdp_adjust_head(ctx, (int)(o->zt_off + ZT_PACKET_IDX_PAYLOAD + 8 - 12)))
		return COUNTER_PASS_ERROR;
	void *data = (void *)(long)ctx->data;
	struct eth_hdr *eth = data;

	data_end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) > data_end)
		return COUNTER_PASS_ERROR;
	__builtin_memcpy(eth->dst, dst, 6);
	__builtin_memcpy(eth->src, src, 6);
	*action = bpf_redirect(net->ifindex, 0);
	return COUNTER_TRUSTED;
}

/* relay forwards a datagram for another node. hop is the offset of its hop
 * byte (ZT_PACKET_IDX_FLAGS for a packet, ZT_FRAGMENT_IDX_HOPS for a
 * fragment); zt points at the datagram, whose first hop+1 bytes and (for a
 * packet) 28 bytes are checked. Nothing is changed until every check passed. */
static __noinline int relay(struct xdp_md *ctx, const struct outer *o, const __u8 *zt, int hop,
			    int *action)
{
	struct addr_key dk;
	struct relay_path *r;
	struct pair *pr = 0;
	__u8 old, new, family;
	__u16 csum = 0;

	__builtin_memcpy(dk.address, zt + ZT_PACKET_IDX_DEST, ZT_ADDRESS_LENGTH);
	r = bpf_map_lookup_elem(&relays, &dk);
	if (!r)
		return COUNTER_PASS_NO_ROUTE;
	family = *(volatile __u8 *)&r->family; /* once: userspace may update the entry */
	if (hop == ZT_PACKET_IDX_FLAGS) {
		struct pair_key pk;

		__builtin_memcpy(pk.source, zt + ZT_PACKET_IDX_SOURCE, ZT_ADDRESS_LENGTH);
		__builtin_memcpy(pk.dest, zt + ZT_PACKET_IDX_DEST, ZT_ADDRESS_LENGTH);
		pr = bpf_map_lookup_elem(&pairs, &pk);
		if (!pr)
			return COUNTER_PASS_NO_PAIR;
	}
	old = zt[hop];
	if ((old & ZT_FLAGS_HOPS_MASK) >= ZT_RELAY_MAX_HOPS)
		return COUNTER_PASS_HOPS;
	/* A packet keeps its flags and suite; a fragment's hop byte is masked. */
	if (hop == ZT_PACKET_IDX_FLAGS)
		new = (old & ~ZT_FLAGS_HOPS_MASK) | ((old + 1) & ZT_FLAGS_HOPS_MASK);
	else
		new = (old + 1) & ZT_FLAGS_HOPS_MASK;
	if (o->zlen > 0xffff - IPV6_HLEN - UDP_HLEN)
		return COUNTER_PASS_MALFORMED;

	if (family == ZTX_FAMILY_IPV6) {
		/* UDP over IPv6 needs a checksum: update the one that came in
		 * (RFC 1624). The IPv4 and IPv6 pseudo headers sum the same but
		 * for the addresses; the zero tail of an IPv4 address adds
		 * nothing. The datagram starts at an even offset, so the hop
		 * byte is the high byte of its word at an even index. */
		__u16 in = be16(o->udp_csum);
		__u32 s;

		if (in == 0)
			return COUNTER_PASS_NO_CSUM;
		s = (__u16)~in;
		s = csum_sub_bytes(s, o->saddr, 16);
		s = csum_sub_bytes(s, o->daddr, 16);
		s = csum_sub_bytes(s, o->sport, 2);
		s = csum_sub_bytes(s, o->dport, 2);
		if (hop % 2 == 0) {
			s += (__u16)~((__u16)old << 8);
			s += (__u16)new << 8;
		} else {
			s += (__u16)~(__u16)old;
			s += new;
		}
		s = csum_add_bytes(s, r->src_addr, 16);
		s = csum_add_bytes(s, r->dst_addr, 16);
		s = csum_add_bytes(s, r->src_port, 2);
		s = csum_add_bytes(s, r->dst_port, 2);
		csum = ~csum_fold(s);
		if (csum == 0)
			csum = 0xffff;
	} else if (family != ZTX_FAMILY_IPV4) {
		return COUNTER_PASS_ERROR;
	}

	__u32 l3 = family == ZTX_FAMILY_IPV4 ? IPV4_HLEN : IPV6_HLEN;
	if (trim(ctx, o) || bpf_xdp_adjust_head(ctx, (int)o->zt_off - (int)(ETH_HLEN + l3 + UDP_HLEN)))
		return COUNTER_PASS_ERROR;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_hdr *eth = data;
	struct udp_hdr *udp;
	__u8 *z;

	if (family == ZTX_FAMILY_IPV4) {
		struct ipv4_hdr *ip = data + ETH_HLEN;

		udp = (struct udp_hdr *)(ip + 1);
		z = (__u8 *)(udp + 1);
		if ((void *)(z + hop + 1) > data_end)
			return COUNTER_PASS_ERROR;
		put_be16(eth->proto, ETHERTYPE_IPV4);
		ip->ver_ihl = 0x45;
		ip->tos = 0;
		put_be16(ip->tot_len, IPV4_HLEN + UDP_HLEN + o->zlen);
		put_be16(ip->id, 0);
		put_be16(ip->frag, IPV4_DF);
		ip->ttl = OUT_TTL;
		ip->proto = IPPROTO_UDP_;
		put_be16(ip->csum, 0);
		__builtin_memcpy(ip->saddr, r->src_addr, 4);
		__builtin_memcpy(ip->daddr, r->dst_addr, 4);
		put_be16(ip->csum, ~csum_fold(csum_add_bytes(0, (const __u8 *)ip, IPV4_HLEN)));
	} else {
		struct ipv6_hdr *ip = data + ETH_HLEN;

		udp = (struct udp_hdr *)(ip + 1);
		z = (__u8 *)(udp + 1);
		if ((void *)(z + hop + 1) > data_end)
			return COUNTER_PASS_ERROR;
		put_be16(eth->proto, ETHERTYPE_IPV6);
		ip->ver_tc_flow[0] = 0x60;
		ip->ver_tc_flow[1] = 0;
		ip->ver_tc_flow[2] = 0;
		ip->ver_tc_flow[3] = 0;
		put_be16(ip->payload_len, UDP_HLEN + o->zlen);
		ip->nexthdr = IPPROTO_UDP_;
		ip->hop_limit = OUT_TTL;
		__builtin_memcpy(ip->saddr, r->src_addr, 16);
		__builtin_memcpy(ip->daddr, r->dst_addr, 16);
	}
	__builtin_memcpy(eth->dst, r->dst_mac, 6);
	__builtin_memcpy(eth->src, r->src_mac, 6);
	__builtin_memcpy(udp->sport, r->src_port, 2);
	__builtin_memcpy(udp->dport, r->dst_port, 2);
	put_be16(udp->len, UDP_HLEN + o->zlen);
	put_be16(udp->csum, csum);
	z[hop] = new;

	if (pr) {
		__u64 now = bpf_ktime_get_ns();

		if (now - pr->last_ns > 1000000000ULL)
			pr->last_ns = now;
	}
	if (r->ifindex == ctx->ingress_ifindex) {
		*action = XDP_TX;
		return COUNTER_RELAY_TX;
	}
	*action = bpf_redirect(r->ifindex, 0);
	return COUNTER_RELAY_REDIRECT;
}

static __always_inline int process(struct xdp_md *ctx, int *action)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct outer o = {};
	const __u8 *zt;
	__u32 zero = 0;
	struct node_config *cfg;
	int c, configured;

	c = parse_outer(data, data_end, &o);
	if (c != CONTINUE)
		return c;

	/* Classification as in PROTOCOL.md part 1 §3.2. */
	if (o.zlen <= ZT_PROTO_MIN_FRAGMENT_LENGTH)
		return o.zlen == ZT_BEACON_LENGTH ? COUNTER_PASS_CONTROL : COUNTER_PASS_MALFORMED;
	zt = data + o.zt_off;
	if ((void *)(zt + ZT_PROTO_MIN_FRAGMENT_LENGTH) > data_end)
		return COUNTER_PASS_MALFORMED;
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return COUNTER_PASS_ERROR;
	configured = cfg->address[0] | cfg->address[1] | cfg->address[2] | cfg->address[3] |
		     cfg->address[4];

	if (zt[ZT_FRAGMENT_IDX_INDICATOR] == ZT_FRAGMENT_INDICATOR) {
		if (configured && addr_eq(zt + ZT_FRAGMENT_IDX_DEST, cfg->address))
			return COUNTER_PASS_CONTROL;
		return relay(ctx, &o, zt, ZT_FRAGMENT_IDX_HOPS, action);
	}
	if (o.zlen < ZT_PROTO_MIN_PACKET_LENGTH || (void *)(zt + ZT_PROTO_MIN_PACKET_LENGTH) > data_end)
		return COUNTER_PASS_MALFORMED;
	if (!configured || !addr_eq(zt + ZT_PACKET_IDX_DEST, cfg->address))
		return relay(ctx, &o, zt, ZT_PACKET_IDX_FLAGS, action);
	return deliver(ctx, &o, zt, cfg, action);
}

SEC("xdp")
int ztx_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	int action = XDP_PASS;

	account(process(ctx, &action), bytes);
	return action;
}
