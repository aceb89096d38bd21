package rules

import "strconv"

// Type is a rule type: the low 6 bits of the type byte.
type Type uint8

// Rule types (ZT_NETWORK_RULE_*). Types 0..15 are actions, 16..63 matches.
const (
	ActionDrop     Type = 0
	ActionAccept   Type = 1
	ActionTee      Type = 2
	ActionWatch    Type = 3
	ActionRedirect Type = 4
	ActionBreak    Type = 5
	ActionPriority Type = 6

	MatchSourceZeroTierAddress Type = 24
	MatchDestZeroTierAddress   Type = 25
	MatchVLANID                Type = 26
	MatchVLANPCP               Type = 27
	MatchVLANDEI               Type = 28
	MatchMACSource             Type = 29
	MatchMACDest               Type = 30
	MatchIPv4Source            Type = 31
	MatchIPv4Dest              Type = 32
	MatchIPv6Source            Type = 33
	MatchIPv6Dest              Type = 34
	MatchIPTOS                 Type = 35
	MatchIPProtocol            Type = 36
	MatchEtherType             Type = 37
	MatchICMP                  Type = 38
	MatchIPSourcePortRange     Type = 39
	MatchIPDestPortRange       Type = 40
	MatchCharacteristics       Type = 41
	MatchFrameSizeRange        Type = 42
	MatchRandom                Type = 43
	MatchTagsDifference        Type = 44
	MatchTagsBitwiseAnd        Type = 45
	MatchTagsBitwiseOr         Type = 46
	MatchTagsBitwiseXor        Type = 47
	MatchTagsEqual             Type = 48
	MatchTagSender             Type = 49
	MatchTagReceiver           Type = 50
	MatchIntegerRange          Type = 51
)

// MaxActionType is the largest action type; larger types are matches.
const MaxActionType Type = 15

// IsAction reports whether t is an action (0..15) rather than a match.
func (t Type) IsAction() bool { return t <= MaxActionType }

// typeInfo is what this package knows of a type: its JSON name and the
// size of the fields it decodes (0 = no fields, everything goes to Raw).
type typeInfo struct {
	name string
	size int
}

var types = [64]typeInfo{
	ActionDrop:     {"ACTION_DROP", 0},
	ActionAccept:   {"ACTION_ACCEPT", 0},
	ActionTee:      {"ACTION_TEE", 14},
	ActionWatch:    {"ACTION_WATCH", 14},
	ActionRedirect: {"ACTION_REDIRECT", 14},
	ActionBreak:    {"ACTION_BREAK", 0},
	ActionPriority: {"ACTION_PRIORITY", 0},

	MatchSourceZeroTierAddress: {"MATCH_SOURCE_ZEROTIER_ADDRESS", 5},
	MatchDestZeroTierAddress:   {"MATCH_DEST_ZEROTIER_ADDRESS", 5},
	MatchVLANID:                {"MATCH_VLAN_ID", 2},
	MatchVLANPCP:               {"MATCH_VLAN_PCP", 1},
	MatchVLANDEI:               {"MATCH_VLAN_DEI", 1},
	MatchMACSource:             {"MATCH_MAC_SOURCE", 6},
	MatchMACDest:               {"MATCH_MAC_DEST", 6},
	MatchIPv4Source:            {"MATCH_IPV4_SOURCE", 5},
	MatchIPv4Dest:              {"MATCH_IPV4_DEST", 5},
	MatchIPv6Source:            {"MATCH_IPV6_SOURCE", 17},
	MatchIPv6Dest:              {"MATCH_IPV6_DEST", 17},
	MatchIPTOS:                 {"MATCH_IP_TOS", 3},
	MatchIPProtocol:            {"MATCH_IP_PROTOCOL", 1},
	MatchEtherType:             {"MATCH_ETHERTYPE", 2},
	MatchICMP:                  {"MATCH_ICMP", 3},
	MatchIPSourcePortRange:     {"MATCH_IP_SOURCE_PORT_RANGE", 4},
	MatchIPDestPortRange:       {"MATCH_IP_DEST_PORT_RANGE", 4},
	MatchCharacteristics:       {"MATCH_CHARACTERISTICS", 8},
	MatchFrameSizeRange:        {"MATCH_FRAME_SIZE_RANGE", 4},
	MatchRandom:                {"MATCH_RANDOM", 4},
	MatchTagsDifference:        {"MATCH_TAGS_DIFFERENCE", 8},
	MatchTagsBitwiseAnd:        {"MATCH_TAGS_BITWISE_AND", 8},
	MatchTagsBitwiseOr:         {"MATCH_TAGS_BITWISE_OR", 8},
	MatchTagsBitwiseXor:        {"MATCH_TAGS_BITWISE_XOR", 8},
	MatchTagsEqual:             {"MATCH_TAGS_EQUAL", 8},
	MatchTagSender:             {"MATCH_TAG_SENDER", 8},
	MatchTagReceiver:           {"MATCH_TAG_RECEIVER", 8},
	// The controller's JSON calls this one "INTEGER_RANGE", without MATCH_.
	MatchIntegerRange: {"INTEGER_RANGE", 19},
}

// Known reports whether this package has a name for t.
func (t Type) Known() bool { return t < 64 && types[t].name != "" }

// ValueSize is the number of value bytes t's fields take (0 for types with
// no fields and for unknown types).
func (t Type) ValueSize() int {
	if t >= 64 {
		return 0
	}
	return types[t].size
}

// String is the type's name in the controller's JSON ("ACTION_DROP",
// "MATCH_IPV4_SOURCE", "INTEGER_RANGE"), or "UNKNOWN_<n>".
func (t Type) String() string {
	if t.Known() {
		return types[t].name
	}
	return "UNKNOWN_" + strconv.Itoa(int(t))
}

// typeByName maps JSON names to types.
var typeByName = func() map[string]Type {
	m := make(map[string]Type)
	for i, ti := range types {
		if ti.name != "" {
			m[ti.name] = Type(i)
		}
	}
	return m
}()
