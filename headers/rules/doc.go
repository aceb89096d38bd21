// Package rules is the binary and JSON encoding of ZeroTier network rules
// (PROTOCOL.md part 2 §6.1 and §10.4): the base rule table that a network
// config carries under dictionary key "R", and the rules inside a
// Capability. Evaluation (§6.2–§6.4) lives elsewhere; this package only
// reads and writes rules.
//
// # One rule
//
//	 0     1     2
//	+-----+-----+----------------------
//	| t   | L   | value (L bytes) ...
//	+-----+-----+----------------------
//	 IndexType  IndexValue
//	       IndexLength
//
//	t:  N O T T T T T T
//	    | | \_________/
//	    | |  rule type (TypeMask): 0..15 actions, 16..63 matches
//	    | FlagOr: combine with the running result by OR instead of AND
//	    FlagNot: invert the match result
//
// NOT and OR have no effect on actions. A list of rules is rules back to
// back with no count and no terminator (the "R" blob), or a counted run of
// them (Capability).
//
// # Values (all integers big-endian)
//
//	type                                   L   value
//	0  ACTION_DROP, 1 ACTION_ACCEPT,       0   —
//	5  ACTION_BREAK, 6 ACTION_PRIORITY         (PRIORITY's QoS bucket is not serialized)
//	2  ACTION_TEE, 3 ACTION_WATCH,         14  address (8, node in the low 40 bits),
//	4  ACTION_REDIRECT                         flags (4), length (2; 0 = whole frame)
//	24 MATCH_SOURCE_ZEROTIER_ADDRESS,      5   address
//	25 MATCH_DEST_ZEROTIER_ADDRESS
//	26 MATCH_VLAN_ID                       2   VLAN id
//	27 MATCH_VLAN_PCP, 28 MATCH_VLAN_DEI   1   value
//	29 MATCH_MAC_SOURCE, 30 MATCH_MAC_DEST 6   MAC
//	31 MATCH_IPV4_SOURCE, 32 _DEST         5   IPv4 (4) + prefix bits (1)
//	33 MATCH_IPV6_SOURCE, 34 _DEST         17  IPv6 (16) + prefix bits (1)
//	35 MATCH_IP_TOS                        3   mask, range start, range end
//	36 MATCH_IP_PROTOCOL                   1   protocol number
//	37 MATCH_ETHERTYPE                     2   ethertype
//	38 MATCH_ICMP                          3   type, code, flags (0x01: match code too)
//	39 MATCH_IP_SOURCE_PORT_RANGE,         4   start (2), end (2), inclusive
//	40 MATCH_IP_DEST_PORT_RANGE,
//	42 MATCH_FRAME_SIZE_RANGE
//	41 MATCH_CHARACTERISTICS               8   mask
//	43 MATCH_RANDOM                        4   probability (0xffffffff = always)
//	44..48 MATCH_TAGS_DIFFERENCE, _AND,    8   tag id (4), tag value (4)
//	_OR, _XOR, _EQUAL; 49 MATCH_TAG_SENDER,
//	50 MATCH_TAG_RECEIVER
//	51 MATCH_INTEGER_RANGE                 19  start (8), end (8, absolute), frame
//	                                           index (2), format (1: 0x80 little
//	                                           endian, low 6 bits = bits - 1)
//
// # Unknown and oversized values
//
// Readers skip what they do not understand by its length, so a rule keeps
// the value bytes it did not decode in [Rule.Raw]: the whole value of a
// type this package has no fields for, or the bytes after the known fields
// when L is larger than the type needs. Writing a rule writes its fields
// and then Raw, so parsing and re-marshalling reproduces the input byte for
// byte (which matters because a Capability's signature covers its rules).
// A value shorter than its type needs is an error (the reference would read
// the following bytes as the value).
package rules

// Offsets inside one serialized rule.
const (
	IndexType   = 0
	IndexLength = 1
	IndexValue  = 2
)

// Bits of the type byte.
const (
	FlagNot  = 0x80
	FlagOr   = 0x40
	TypeMask = 0x3f
)

// Limits from PROTOCOL.md part 2 §4.
const (
	MaxNetworkRules    = 1024 // rules in a network config's base table
	MaxCapabilityRules = 64   // rules in one Capability
)
