// Package packet is the ZeroTier VL1 wire layer (protocol version 12, as
// spoken by ZeroTier One 1.14): the packet header, fragments and their
// reassembly, LZ4 payload compression, and armoring (authentication and
// encryption) with cipher suites 0 to 3. Facts come from PROTOCOL.md part 1
// sections 2 to 6.
//
// The package has no I/O and reads no clock: functions that need time take
// `now` in milliseconds.
//
// # Packet (unfragmented, or the head of a fragmented one)
//
// Offsets from the first byte of the UDP payload:
//
//	 0        8        13       18    19        27     28
//	+--------+--------+--------+-----+---------+------+------------
//	| ID/IV  | dest   | source |flags| MAC     | verb | payload ...
//	+--------+--------+--------+-----+---------+------+------------
//
//	IndexID      0   8 bytes  packet ID (random; the first SIV tag half under suite 3)
//	IndexDest    8   5 bytes  destination address
//	IndexSource  13  5 bytes  source address
//	IndexFlags   18  1 byte   FFCCCHHH, below
//	IndexMAC     19  8 bytes  Poly1305 tag (suites 0, 1), trusted path ID (2), SIV tag half (3)
//	IndexVerb    27  1 byte   verb byte, below; the payload region armoring covers starts here
//	IndexPayload 28  ...      verb payload (an LZ4 block when compressed)
//
//	flags byte:  F F C C C H H H
//	             | | \___/ \___/
//	             | |   |     hops (HopsMask), not authenticated
//	             | |   cipher suite (CipherMask >> CipherShift)
//	             | FlagFragmented: fragments follow
//	             FlagEncrypted: legacy, set only with suite 1
//
//	verb byte:   C x x V V V V V
//	             |     \_______/
//	             |     verb number (VerbMask)
//	             VerbFlagCompressed: payload is an LZ4 block
//
// Under AES-GMAC-SIV (suite 3) armoring replaces the random ID with the
// first half of the tag; the on-wire bytes are the packet's ID from then on
// (fragments and replies refer to them).
//
// # Fragment (pieces 1 to N-1 of a packet longer than the path MTU)
//
//	 0        8        13   14    15   16
//	+--------+--------+----+-----+----+-------------
//	| ID     | dest   | ff | T|N | hop| chunk ...
//	+--------+--------+----+-----+----+-------------
//
//	FragIndexPacketID   0   8 bytes  on-wire ID of the head (after armoring)
//	FragIndexDest       8   5 bytes  destination address
//	FragIndexIndicator  13  1 byte   FragmentIndicator (0xff)
//	FragIndexCounts     14  1 byte   high nibble T: total pieces with the head; low nibble N: this piece
//	FragIndexHops       15  1 byte   hop count (low 3 bits)
//	FragIndexPayload    16  ...      chunk of the armored packet
//
// # Datagrams
//
// [Classify] tells the four kinds of datagram apart: a 13-byte legacy
// beacon, a fragment (longer than 16 bytes with 0xff at offset 13, where a
// packet's source address could never start with 0xff), a packet (at least
// 28 bytes), or something too short to be ZeroTier.
//
// # Sending and receiving
//
// A sender builds a packet ([New], [AppendHeader]), compresses it
// ([Compress]), sets [FlagFragmented] if it is longer than the path MTU,
// armors it ([Key.Armor]) and cuts it with [Fragment]. A receiver
// classifies each datagram, reassembles with a [Queue], dearmors
// ([Key.Dearmor]) and decompresses ([Decompress]).
package packet
