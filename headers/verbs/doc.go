// Package verbs holds typed codecs for the payload of every ZeroTier verb (protocol 12,
// ZeroTier One 1.14.1): the plaintext, decompressed bytes after the verb byte. Offsets below
// are payload offsets; add 28 for packet offsets. All integers are big-endian except in
// QOS_MEASUREMENT. "Addr" is a 5-byte ZeroTier address, "Inet" an InetAddress (1, 7 or 19
// bytes, headers/inet), "nwid" a network ID, "Group" a MAC (6) and ADI (4), "COM" a
// serialized CertificateOfMembership (3 + 24·Q + 5 bytes, + 96 if signed).
//
// Every payload type has ParseX(b) (X, error) and AppendMarshal(dst) []byte, a one-line
// String and a JSON form; Decode dispatches on the verb. Parsers never panic, return errors
// wrapping ErrTruncated or ErrInvalid, and alias b in their byte-slice fields. Trailing bytes
// that receivers ignore are kept in a Trailing field, so captured payloads re-marshal byte
// for byte.
//
//	HELLO 0x01                           OK 0x03
//	  0  protocol version (12)             0  in-re verb
//	  1  major   2 minor   3 revision(2)   1  in-re packet ID (8)
//	  5  timestamp (8)                     9  body, by in-re verb:
//	 13  identity (71; 135 with private)      HELLO:  0 timestamp (8)  8 protocol  9 major
//	 84  Inet destination      (optional)             10 minor  11 revision (2)
//	 +0  planet world ID (8)   (optional)             13 Inet reported (optional)
//	 +8  planet timestamp (8)                         +0 world-update length L (2, optional)
//	+16  cryptField region     (optional)             +2 L bytes of Worlds
//	       0 moon count N (2)                 WHOIS:  identities (71 each)
//	       2 N × (type 1, ID 8, ts 8)         ECHO:   copy of the ECHO payload
//	                                          NETWORK_CONFIG_REQUEST: config chunk
//	ERROR 0x02                                MULTICAST_GATHER: 0 nwid  8 Group
//	  0  in-re verb                                   18 total known (4)  22 count N (2)
//	  1  in-re packet ID (8)                          24 N × Addr
//	  9  error code                           MULTICAST_FRAME: 0 nwid  8 Group  18 flags
//	 10  nwid (codes 3,5,6,7,8,9)                     19 COM if flags&1, then total (4),
//	 18  Group (code 8) or data length (2)            count (2), N × Addr if flags&2
//	     + data (codes 3,5,7,9; optional)     EXT_FRAME: 0 nwid
//
//	WHOIS 0x04: Addr × n                   RENDEZVOUS 0x05
//	ECHO 0x08, NOP 0x00: arbitrary bytes     0 flags  1 Addr  6 port (2)
//	USER_MESSAGE 0x14: 0 type ID (8)         8 IP length (4|16)  9 IP
//	                   8 data
//	                                       PUSH_DIRECT_PATHS 0x10
//	FRAME 0x06                               0 record count (2), then per record:
//	  0 nwid  8 ethertype (2)  10 data         flags (1), ext length X (2), X bytes,
//	                                           type (4|6), length incl. port (6|18),
//	EXT_FRAME 0x07                             IP (4|16), port (2)
//	  0 nwid  8 flags  9 COM if flags&0x01
//	 +0 dest MAC  +6 source MAC            MULTICAST_LIKE 0x09
//	+12 ethertype (2)  +14 data              (nwid 8, Group 10) × n
//
//	NETWORK_CONFIG_REQUEST 0x0b            NETWORK_CONFIG 0x0c (config chunk), C = length
//	  0  nwid                                0 nwid            8 C (2)      10 data
//	  8  metadata length L (2)             10+C flags         11+C update ID (8)
//	 10  metadata dictionary (L)           19+C total (4)     23+C index (4)
//	10+L revision (8)   (optional)         27+C sig type (1)  28+C sig length (2)
//	18+L timestamp (8)                     30+C signature (96); signed: bytes 0 .. 27+C
//	                                       (a legacy chunk ends after the data)
//
//	MULTICAST_GATHER 0x0d                  MULTICAST_FRAME 0x0e
//	  0 nwid  8 flags  9 Group               0 nwid  8 flags, then in order:
//	 19 gather limit (4)                     COM if flags&1, gather limit (4) if flags&2,
//	 23 COM if flags&0x01                    source MAC if flags&4, Group, ethertype (2), data
//
// Kept raw: NETWORK_CREDENTIALS 0x0a (headers/cred), ACK 0x12, QOS_MEASUREMENT 0x13 (10-byte
// little-endian records, see Records), REMOTE_TRACE 0x15, PATH_NEGOTIATION_REQUEST 0x16.
//
// HELLO's moon region is encrypted on the wire (cryptField, PROTOCOL.md part 1 §4.6).
// ParseHello keeps it opaque in Hello.Sealed; HelloCryptOffset locates it in a received
// payload, and Hello.OpenMoons parses it once decrypted. Senders marshal the plaintext list
// and encrypt from Hello.CryptOffset.
package verbs
