// Package cred reads, writes, signs and verifies ZeroTier network
// credentials (PROTOCOL.md part 2 §5): the certificate of membership (COM),
// Capability, Tag, Revocation, certificate of ownership (COO), and the
// NETWORK_CREDENTIALS payload that carries them. The same blobs appear in a
// network config dictionary under keys C (one COM), CAP, TAG and COO
// (credentials back to back: [ParseCapabilities], [ParseTags], [ParseCOOs]).
//
// Every credential is valid only if signed by its network's controller,
// the node whose address is the network id's top 40 bits ([Controller]).
// Verify checks that rule, that the identity given is the signer, and the
// signature; it never panics and says why it failed (errors.Is with
// [ErrUnsigned], [ErrIssuer], [ErrSigner], [ErrSignature], [ErrChain]).
// Time windows and revocation thresholds are membership policy, not here.
//
// All integers are big-endian; addresses are 5 bytes.
//
// # Certificate of membership
//
//	 0    1    3              3+24Q     8+24Q
//	+----+----+--------------+---------+-----------------+
//	|0x01| Q  | qualifiers   |signed-by| signature (96)  |  (signature only
//	+----+----+--------------+---------+-----------------+   if signed-by != 0)
//	qualifier: id (8) | value (8) | maxDelta (8); ids non-decreasing; Q <= 8
//
// The signature covers the Q×24 qualifier bytes, nothing else. Controllers
// issue seven qualifiers: 0 timestamp, 1 network id, 2 issued-to, 3..6 the
// member's identity hash ([IdentityHash]). Two members' COMs agree
// ([COM.CheckAgreement]) if each of my qualifiers is in theirs within my
// maxDelta and, when I have ids 3..6, theirs hash to their identity.
//
// # Signature field and signed message (Capability, Tag, Revocation, COO)
//
//	signature field:  type (1, 1 = C25519) | length (2, 96) | signature
//	signed message:   7f7f7f7f7f7f7f7f | fields up to the signature | 0000 | 7f7f7f7f7f7f7f7f
//
// Each ends with an "additional fields" block, a 2-byte length and that
// many bytes (always 0 in 1.14.1), which readers skip and the signature
// does not cover; it is kept in Extra so that re-marshalling is exact.
//
// # Capability
//
//	 0      8      16    20   22          22+R'
//	+------+------+-----+----+-----------+---+--------------------+-----+-----+
//	| nwid | ts   | id  | R  | R rules   | M | custody entries... |00×5 |extra|
//	+------+------+-----+----+-----------+---+--------------------+-----+-----+
//	custody entry: to (5) | from (5) | signature field
//	R <= 64 rules (package rules); M = max custody chain length, 1..7
//
// The signed message wraps nwid through M; every custody entry signs the
// same message. Entry 0 is from the controller; entry i > 0 is from entry
// i-1's recipient. The holder is the last entry's recipient; no signature
// covers it (see [Capability.Verify]).
//
// # Tag (135 bytes)
//
//	 0      8      16   20    24        29        34        37      133
//	+------+------+----+-----+---------+---------+---------+-------+-----+
//	| nwid | ts   | id |value|issued-to|signed-by|sig hdr 3| sig 96|extra|
//	+------+------+----+-----+---------+---------+---------+-------+-----+
//
// Signed message: the wrapper around bytes 0..33.
//
// # Revocation (152 bytes)
//
//	 0    4    8      16   20      24        32    40     45        50   51     54    150
//	+----+----+------+----+-------+---------+-----+------+---------+----+------+-----+-----+
//	|rsv0| id | nwid |rsv1|cred id|threshold|flags|target|signed-by|type|sig h.|sig  |extra|
//	+----+----+------+----+-------+---------+-----+------+---------+----+------+-----+-----+
//
// Signed message: the wrapper around bytes 0..50 (reserved fields as 0).
//
// # Certificate of ownership
//
//	 0      8      16      24   28   30          30+17T    35+17T    40+17T
//	+------+------+-------+----+----+-----------+---------+---------+---------+-----+
//	| nwid | ts   | flags | id | T  | T things  |issued-to|signed-by|sig field|extra|
//	+------+------+-------+----+----+-----------+---------+---------+---------+-----+
//	thing: type (1: 1 MAC, 2 IPv4, 3 IPv6) | value (16, zero padded); T <= 16
//
// Signed message: the wrapper around bytes 0..39+17T.
//
// # NETWORK_CREDENTIALS payload
//
//	COM COM ... | 0x00 | ncap (2) caps | ntag (2) tags | nrev (2) revocations | ncoo (2) COOs
//
// Each counted section may be absent if the payload ends before it.
package cred
