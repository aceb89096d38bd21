/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ztwire.h: the ZeroTier (protocol version 12) wire layout, for the bpf/
 * programs. It describes the same bytes as the Go package headers/packet;
 * headers/ztwire_test.go fails when the two drift apart.
 *
 * Bytes copied from packets stay big-endian byte arrays (addresses, packet
 * IDs, MACs); no field here is ever byte-swapped in place. Counters that
 * the kernel keeps are native-endian integers and live with the maps in
 * bpf/, not here.
 *
 * Packet (unfragmented, or fragment 0 "head"), offsets from the UDP payload:
 *
 *   0        8       13      18    19        27     28
 *   +--------+-------+-------+-----+---------+------+-----------
 *   | id/IV  | dest  | src   |flags| MAC     | verb | payload...
 *   +--------+-------+-------+-----+---------+------+-----------
 *                               FFCCCHHH: F = flags, C = cipher suite,
 *                               H = hops. Suite 2 (trusted path) carries
 *                               the trusted path ID in the MAC field.
 *
 * Fragment (pieces 1..n-1):
 *
 *   0        8       13    14          15    16
 *   +--------+-------+-----+-----------+-----+----------
 *   | id     | dest  | ff  | total|num | hops| data...
 *   +--------+-------+-----+-----------+-----+----------
 */
#ifndef ZTX_ZTWIRE_H
#define ZTX_ZTWIRE_H

#define ZT_DEFAULT_PORT 9993

#define ZT_ADDRESS_LENGTH 5
#define ZT_ADDRESS_RESERVED_PREFIX 0xff

/* Packet header offsets. */
#define ZT_PACKET_IDX_IV 0
#define ZT_PACKET_IDX_DEST 8
#define ZT_PACKET_IDX_SOURCE 13
#define ZT_PACKET_IDX_FLAGS 18
#define ZT_PACKET_IDX_MAC 19
#define ZT_PACKET_IDX_VERB 27
#define ZT_PACKET_IDX_PAYLOAD 28
#define ZT_PROTO_MIN_PACKET_LENGTH 28

/* Fragment header offsets. */
#define ZT_FRAGMENT_IDX_PACKET_ID 0
#define ZT_FRAGMENT_IDX_DEST 8
#define ZT_FRAGMENT_IDX_INDICATOR 13
#define ZT_FRAGMENT_IDX_COUNTS 14
#define ZT_FRAGMENT_IDX_HOPS 15
#define ZT_FRAGMENT_IDX_PAYLOAD 16
#define ZT_PROTO_MIN_FRAGMENT_LENGTH 16
#define ZT_FRAGMENT_INDICATOR 0xff

/* Byte 18: flags, cipher suite and hops. */
#define ZT_FLAG_ENCRYPTED 0x80 /* legacy; set only with suite 1 */
#define ZT_FLAG_FRAGMENTED 0x40
#define ZT_FLAGS_CIPHER_MASK 0x38
#define ZT_FLAGS_CIPHER_SHIFT 3
#define ZT_FLAGS_HOPS_MASK 0x07

#define ZT_CIPHER_POLY1305_NONE 0
#define ZT_CIPHER_POLY1305_SALSA2012 1
#define ZT_CIPHER_NONE_TRUSTED_PATH 2
#define ZT_CIPHER_AES_GMAC_SIV 3

/* Byte 27: verb and its flags. */
#define ZT_VERB_MASK 0x1f
#define ZT_VERB_FLAG_COMPRESSED 0x80

#define ZT_PROTO_MAX_HOPS 7
#define ZT_RELAY_MAX_HOPS 3
#define ZT_MAX_PACKET_FRAGMENTS 7
#define ZT_DEFAULT_PHYSMTU 1432
#define ZT_PROTO_MAX_PACKET_LENGTH 10024

/* Verbs. */
#define ZT_VERB_NOP 0x00
#define ZT_VERB_HELLO 0x01
#define ZT_VERB_ERROR 0x02
#define ZT_VERB_OK 0x03
#define ZT_VERB_WHOIS 0x04
#define ZT_VERB_RENDEZVOUS 0x05
#define ZT_VERB_FRAME 0x06
#define ZT_VERB_EXT_FRAME 0x07
#define ZT_VERB_ECHO 0x08
#define ZT_VERB_MULTICAST_LIKE 0x09
#define ZT_VERB_NETWORK_CREDENTIALS 0x0a
#define ZT_VERB_NETWORK_CONFIG_REQUEST 0x0b
#define ZT_VERB_NETWORK_CONFIG 0x0c
#define ZT_VERB_MULTICAST_GATHER 0x0d
#define ZT_VERB_MULTICAST_FRAME 0x0e
#define ZT_VERB_PUSH_DIRECT_PATHS 0x10
#define ZT_VERB_ACK 0x12
#define ZT_VERB_QOS_MEASUREMENT 0x13
#define ZT_VERB_USER_MESSAGE 0x14
#define ZT_VERB_REMOTE_TRACE 0x15
#define ZT_VERB_PATH_NEGOTIATION_REQUEST 0x16

struct zt_packet_header {
	unsigned char id[8];
	unsigned char dest[ZT_ADDRESS_LENGTH];
	unsigned char source[ZT_ADDRESS_LENGTH];
	unsigned char flags;
	unsigned char mac[8];
	unsigned char verb;
} __attribute__((packed));

struct zt_fragment_header {
	unsigned char packet_id[8];
	unsigned char dest[ZT_ADDRESS_LENGTH];
	unsigned char indicator;
	unsigned char counts; /* high nibble: total pieces; low: this piece */
	unsigned char hops;
} __attribute__((packed));

/* The C compiler checks the layout against the offsets above. */
_Static_assert(sizeof(struct zt_packet_header) == ZT_PROTO_MIN_PACKET_LENGTH, "packet header size");
_Static_assert(__builtin_offsetof(struct zt_packet_header, flags) == ZT_PACKET_IDX_FLAGS, "flags offset");
_Static_assert(__builtin_offsetof(struct zt_packet_header, mac) == ZT_PACKET_IDX_MAC, "mac offset");
_Static_assert(__builtin_offsetof(struct zt_packet_header, verb) == ZT_PACKET_IDX_VERB, "verb offset");
_Static_assert(sizeof(struct zt_fragment_header) == ZT_PROTO_MIN_FRAGMENT_LENGTH, "fragment header size");
_Static_assert(__builtin_offsetof(struct zt_fragment_header, hops) == ZT_FRAGMENT_IDX_HOPS, "fragment hops offset");

#endif /* ZTX_ZTWIRE_H */
